/* HlWindow: which sign and colormap the overlay uses. The library decides
 * each method's (hl_viz_method_defaults, the CLI's too); the window applies
 * it when the method changes, unless the user has chosen a sign or a
 * colormap: once chosen (in the panel, by the set-overlay action or in the
 * saved settings) it is kept for every method. */
#include "heatlens-window-private.h"

void
hl_window_apply_method_defaults (HlWindow *self)
{
  hl_viz_options o = *hl_overlay_panel_get_options (self->overlay_panel);
  hl_viz_sign sign;
  hl_colormap_id cmap;

  hl_viz_method_defaults (hl_param_panel_get_method (self->param_panel), o.mode, &sign, &cmap);
  if (!self->sign_chosen)
    o.sign = sign;
  if (!self->cmap_chosen)
    o.cmap = cmap;
  if (o.sign == self->seen_opts.sign && o.cmap == self->seen_opts.cmap)
    return;
  self->applying_defaults = TRUE;
  hl_overlay_panel_set_options (self->overlay_panel, &o);
  self->applying_defaults = FALSE;
}

gboolean
hl_window_note_overlay_choice (HlWindow *self)
{
  const hl_viz_options *o = hl_overlay_panel_get_options (self->overlay_panel);
  gboolean mode_changed = o->mode != self->seen_opts.mode;

  if (!self->applying_defaults)
    {
      self->sign_chosen |= o->sign != self->seen_opts.sign;
      self->cmap_chosen |= o->cmap != self->seen_opts.cmap;
    }
  self->seen_opts = *o;
  return mode_changed && !self->applying_defaults;
}

void
hl_window_restore_overlay_choice (HlWindow *self,
                                  gboolean  sign_chosen,
                                  gboolean  cmap_chosen)
{
  self->sign_chosen = sign_chosen;
  self->cmap_chosen = cmap_chosen;
}
