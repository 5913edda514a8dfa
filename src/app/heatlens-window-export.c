/* Exporting what the window shows: the view (PNG/PDF/SVG with the CLI's
 * metadata keys), the comparison page, the raw attribution (.npy), the
 * clipboard and a screenshot of the window. */
#include "heatlens-map-texture.h"
#include "heatlens-metrics-panel.h"
#include "heatlens-window-private.h"
#include "heatlens-error.h"
#include "label_names.h"
#include "npy.h"

/* "Integrated Gradients — tabby (62.1%)": captions and exported titles. */
char *
hl_window_result_title (HlResult *r)
{
  const hl_method_desc *md = hl_method_find (r->method);
  char label[256];

  /* the first synonym; the full label is in the tooltip and metadata */
  hl_label_short (r->target_label, label, sizeof label);
  /* a neuron method explains one neuron: say which (captions, exports) */
  if (md && md->needs_neuron && r->params.has_neuron)
    return g_strdup_printf ("%s of neuron %d,%d,%d — %s (%.1f%%)", md->title,
                            r->params.neuron[0], r->params.neuron[1], r->params.neuron[2],
                            label, 100.0 * r->attr.target_prob);
  return g_strdup_printf ("%s — %s (%.1f%%)", md ? md->title : r->method,
                          label, 100.0 * r->attr.target_prob);
}

/* "cat-integrated_gradients-egyptian_cat": the photo, the method and the
 * class of what is exported, in characters any file system takes. */
static void
append_name_part (GString    *name,
                  const char *part)
{
  gsize start;

  if (name->len)
    g_string_append_c (name, '-');
  start = name->len;
  for (const char *c = part; *c; c++)
    if (g_ascii_isalnum (*c) || *c == '+')
      g_string_append_c (name, g_ascii_tolower (*c));
    else if (name->len > start && name->str[name->len - 1] != '_')
      g_string_append_c (name, '_');
  if (name->len > start && name->str[name->len - 1] == '_')
    g_string_truncate (name, name->len - 1);
}

char *
hl_window_export_name (HlWindow   *self,
                       gboolean    comparison,
                       const char *suffix)
{
  g_autoptr(GString) name = g_string_new (NULL);
  g_autofree char *photo = g_strdup (self->photo ? hl_photo_get_name (self->photo) : "heatlens");
  char *dot = strrchr (photo, '.');
  HlResult *r = self->result;
  guint n = hl_compare_grid_get_n_pins (self->compare_grid);

  if (dot && dot != photo)
    *dot = '\0';
  append_name_part (name, photo);
  if (comparison && n > 0)
    r = hl_compare_grid_get_pin (self->compare_grid, 0);
  if (r)
    {
      char label[256];

      /* the exported result's method (for a comparison: how many) */
      if (!comparison || n <= 1)
        append_name_part (name, r->method);
      else
        {
          char count[32];

          g_snprintf (count, sizeof count, "%u methods", n);
          append_name_part (name, count);
        }
      hl_label_short (r->target_label, label, sizeof label);
      append_name_part (name, label);
    }
  if (comparison)
    g_string_append (name, "-compare");
  g_string_append (name, suffix);
  return g_string_free (g_steal_pointer (&name), FALSE);
}

static gboolean
need_result (HlWindow  *self,
             GError   **error)
{
  if (self->estimate)
    {
      g_set_error_literal (error, HL_APP_ERROR, HL_ERR_ARG,
                           "Nothing to export yet: the picture is still an estimate");
      return FALSE;
    }
  if (self->result && self->photo && hl_image_view_get_norm (self->image_view))
    return TRUE;
  g_set_error_literal (error, HL_APP_ERROR, HL_ERR_ARG,
                       "Nothing to export yet: no attribution is shown");
  return FALSE;
}

/* Same keys as heatlens-cli explain, so files from either look alike. */
gboolean
hl_window_export_view (HlWindow    *self,
                       const char  *path,
                       GError     **error)
{
  HlResult *r = self->result;
  g_autofree char *title = NULL;
  g_autofree char *params = NULL;
  g_autofree char *target = NULL;
  char prob[32];
  hl_viz_view view = { 0 };
  hl_error err = { 0 };
  const char *image;

  if (!need_result (self, error))
    return FALSE;
  title = hl_window_result_title (r);
  params = hl_param_panel_describe (r->method, &r->params);
  target = g_strdup_printf ("%d %s", r->attr.target, r->target_label);
  g_snprintf (prob, sizeof prob, "%.6f", r->attr.target_prob);
  image = hl_photo_get_path (self->photo) ? hl_photo_get_path (self->photo)
                                          : hl_photo_get_name (self->photo);
  {
    hl_viz_meta meta[] = {
      { "heatlens.method", r->method },
      { "heatlens.params", params },
      { "heatlens.model", r->model_name },
      { "heatlens.image", image },
      { "heatlens.target", target },
      { "heatlens.probability", prob },
      { "heatlens.layer", r->params.layer },
    };
    int n_meta = G_N_ELEMENTS (meta) - (r->params.layer[0] ? 0 : 1);

    view.photo = hl_photo_get_image (self->photo);
    view.map = hl_image_view_get_crop_map (self->image_view);
    view.norm = hl_image_view_get_norm (self->image_view);
    view.opts = *hl_overlay_panel_get_options (self->overlay_panel);
    view.title = title;
    view.show_colorbar = 1;
    view.show_raw_range = 1;
    /* with the Trust page shown, its plots go under the picture */
    const hl_metric_plots *plots = hl_window_metrics_shown (self)
        ? hl_metrics_panel_get_plots (hl_window_get_metrics_panel (self)) : NULL;
    hl_status st = plots
        ? hl_metric_plots_export_with_view (&view, plots, path, meta, n_meta, &err)
        : hl_viz_export (&view, path, HL_VIZ_FORMAT_AUTO, 0, 0, meta, n_meta, &err);
    if (st != HL_OK)
      {
        hl_app_error_from_hl (error, &err);
        return FALSE;
      }
  }
  return TRUE;
}

gboolean
hl_window_export_grid (HlWindow    *self,
                       const char  *path,
                       GError     **error)
{
  guint n = hl_compare_grid_get_n_pins (self->compare_grid);
  g_autofree hl_report_panel *panels = NULL;
  g_autoptr(GPtrArray) strings = g_ptr_array_new_with_free_func (g_free);
  hl_report_info info = { 0 };
  hl_error err = { 0 };
  HlResult *first;

  if (n == 0)
    {
      if (!need_result (self, error))
        return FALSE;
      hl_compare_grid_pin (self->compare_grid, self->result);
      n = 1;
    }
  panels = g_new0 (hl_report_panel, n);
  for (guint i = 0; i < n; i++)
    {
      HlResult *r = hl_compare_grid_get_pin (self->compare_grid, i);
      const hl_method_desc *md = hl_method_find (r->method);
      char *params = hl_param_panel_describe (r->method, &r->params);

      g_ptr_array_add (strings, params);
      panels[i].title = md ? md->title : r->method;
      panels[i].params = params;
      panels[i].attr = r->attr.attr;
      panels[i].seconds = r->attr.seconds;
      panels[i].has_delta = r->attr.has_delta;
      panels[i].delta = r->attr.delta;
    }
  first = hl_compare_grid_get_pin (self->compare_grid, 0);
  info.image_name = hl_photo_get_name (self->photo);
  info.photo = hl_photo_get_image (self->photo);
  info.map = hl_image_view_get_crop_map (self->image_view);
  info.model_name = first->model_name;
  info.target_label = first->target_label;
  info.target_index = first->attr.target;
  info.probability = first->attr.target_prob;
  info.opts = *hl_overlay_panel_get_options (self->overlay_panel);
  /* a standard sheet, the locale's (Letter in the US and Canada, else A4) */
  info.paper = g_strcmp0 (gtk_paper_size_get_default (), GTK_PAPER_NAME_LETTER) == 0
               ? HL_PAPER_LETTER : HL_PAPER_A4;
  if (hl_report_write (path, &info, panels, (int) n, &err) != HL_OK)
    {
      hl_app_error_from_hl (error, &err);
      return FALSE;
    }
  return TRUE;
}

gboolean
hl_window_save_npy (HlWindow    *self,
                    const char  *path,
                    GError     **error)
{
  hl_error err = { 0 };

  if (self->result == NULL || self->result->attr.attr == NULL)
    {
      g_set_error_literal (error, HL_APP_ERROR, HL_ERR_ARG,
                           "Nothing to save yet: no attribution is shown");
      return FALSE;
    }
  if (hl_npy_write (path, self->result->attr.attr, &err) != HL_OK)
    {
      hl_app_error_from_hl (error, &err);
      return FALSE;
    }
  return TRUE;
}

void
hl_window_copy_view (HlWindow *self)
{
  const hl_viz_norm *norm = hl_image_view_get_norm (self->image_view);
  const hl_image *img;
  g_autoptr(GdkTexture) tex = NULL;
  g_autoptr(GBytes) bytes = NULL;
  hl_viz_options o = *hl_overlay_panel_get_options (self->overlay_panel);
  hl_error err = { 0 };
  gsize stride;
  guint8 *rgb;

  if (self->photo == NULL)
    return;
  img = hl_photo_get_image (self->photo);
  if (norm == NULL)
    {
      gdk_clipboard_set_texture (gtk_widget_get_clipboard (GTK_WIDGET (self)),
                                 hl_photo_get_texture (self->photo));
      return;
    }
  stride = (gsize) img->width * 3;
  rgb = g_malloc (stride * (gsize) img->height);
  if (hl_viz_render_rgb (norm, img, hl_image_view_get_crop_map (self->image_view), &o,
                         img->width, img->height, rgb, (int) stride, &err) != HL_OK)
    {
      g_free (rgb);
      hl_window_show_error (self, err.msg);
      return;
    }
  bytes = g_bytes_new_take (rgb, stride * (gsize) img->height);
  tex = gdk_memory_texture_new (img->width, img->height, GDK_MEMORY_R8G8B8, bytes, stride);
  gdk_clipboard_set_texture (gtk_widget_get_clipboard (GTK_WIDGET (self)), tex);
}

gboolean
hl_window_save_screenshot (HlWindow    *self,
                           const char  *path,
                           GError     **error)
{
  return hl_widget_save_png (GTK_WIDGET (self), path, error);
}
