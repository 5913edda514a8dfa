/* HlOverlayPanel: how the attribution is drawn — mode, sign, outlier
 * percent, colormap, opacity — and the colour bar of the current map.
 * Emits "changed"; nothing here triggers a recomputation. */
#pragma once

#include <gtk/gtk.h>
#include "viz.h"

G_BEGIN_DECLS

#define HL_TYPE_OVERLAY_PANEL (hl_overlay_panel_get_type ())
G_DECLARE_FINAL_TYPE (HlOverlayPanel, hl_overlay_panel, HL, OVERLAY_PANEL, GtkWidget)

GtkWidget            *hl_overlay_panel_new         (void);
const hl_viz_options *hl_overlay_panel_get_options (HlOverlayPanel       *self);
void                  hl_overlay_panel_set_options (HlOverlayPanel       *self,
                                                    const hl_viz_options *options);
/* The colour bar's raw values: the norm's threshold (0 = none). */
void                  hl_overlay_panel_set_scale   (HlOverlayPanel       *self,
                                                    double                threshold,
                                                    gboolean              is_zero);

/* The comparison draws its own colour bars: the panel's is hidden there. */
void hl_overlay_panel_set_colorbar_visible (HlOverlayPanel *self,
                                            gboolean        visible);

G_END_DECLS
