/* HlWindow core: the state (model, photo, prediction, shown result), the
 * flow between them and the worker, and exporting.
 *
 *   photo or model loaded -> predict (worker) -> top-5, target = top-1
 *   -> run: cache hit shows at once, else attribute (worker) -> show
 *   parameter/target change -> debounce -> run (cancels the running job)
 *   overlay change -> re-render in the view, nothing recomputed
 *
 * Actions are in heatlens-window-actions.c, drag and drop, paste and the
 * sample gallery in heatlens-window-dnd.c. */
#include "heatlens-window-private.h"
#include "label_names.h"
#include "heatlens-map-texture.h"
#include "heatlens-data.h"
#include "heatlens-error.h"
#include "npy.h"

#include <math.h>

#define RUN_DEBOUNCE_MS 180

G_DEFINE_FINAL_TYPE (HlWindow, hl_window, GTK_TYPE_APPLICATION_WINDOW)

enum { SIG_PREDICTION_SHOWN, SIG_RESULT_SHOWN, SIG_ERROR_SHOWN, N_SIGNALS };
static guint signals[N_SIGNALS];

/* ------------------------------------------------------------ banner */

void
hl_window_show_error (HlWindow   *self,
                      const char *message)
{
  g_free (self->error_text);
  self->error_text = g_strdup (message);
  gtk_label_set_text (self->banner_label, message);
  gtk_widget_set_tooltip_text (GTK_WIDGET (self->banner_label), message);
  gtk_revealer_set_reveal_child (self->banner_revealer, TRUE);
  g_signal_emit (self, signals[SIG_ERROR_SHOWN], 0, message);
}

static void
hide_error (HlWindow *self)
{
  g_clear_pointer (&self->error_text, g_free);
  gtk_revealer_set_reveal_child (self->banner_revealer, FALSE);
}

static void
banner_close_cb (HlWindow *self)
{
  hide_error (self);
}

/* ------------------------------------------------------------ status */

static void
update_status (HlWindow *self)
{
  const char *hover = hl_image_view_get_hover_text (self->image_view);
  const char *problem = hl_image_view_get_problem (self->image_view);

  g_autofree char *hint = hover ? hl_window_neuron_hint (self) : NULL;

  if (hint)
    {
      g_autofree char *text = g_strdup_printf ("%s · %s", hover, hint);

      gtk_label_set_text (self->status_label, text);
    }
  else if (hover)
    gtk_label_set_text (self->status_label, hover);
  else if (problem)
    gtk_label_set_text (self->status_label, problem);
  else
    gtk_label_set_text (self->status_label, self->result_status ? self->result_status : "");
}

static void
hover_changed_cb (HlWindow *self)
{
  update_status (self);
}

/* The raw values under the colour bar belong to the map on the Explain
 * page; each comparison card is normalised on its own, so the Compare
 * page shows the normalised scale only. */
void
hl_window_update_colorbar (HlWindow *self)
{
  const hl_viz_norm *norm = hl_image_view_get_norm (self->image_view);

  if (g_strcmp0 (gtk_stack_get_visible_child_name (self->view_stack), "compare") == 0)
    norm = NULL;

  hl_overlay_panel_set_scale (self->overlay_panel,
                              norm ? hl_viz_norm_threshold (norm) : 0,
                              norm ? hl_viz_norm_is_zero (norm) : FALSE);
}

static gboolean
elapsed_tick (gpointer data)
{
  HlWindow *self = data;
  double fraction = hl_worker_get_fraction (self->worker);
  g_autofree char *text = g_strdup_printf ("%.0f%% · %.1f s", 100 * fraction,
                                           hl_worker_get_elapsed (self->worker));

  gtk_progress_bar_set_fraction (self->progress_bar, fraction);
  gtk_progress_bar_set_text (self->progress_bar, text);
  return G_SOURCE_CONTINUE;
}

static char *result_title (HlResult *r);

/* The caption above the image says what is on screen, or what is coming. */
static void
update_caption (HlWindow *self)
{
  g_autofree char *text = NULL;

  if (hl_worker_get_busy (self->worker) && self->prediction)
    {
      const hl_method_desc *md = hl_method_find (hl_param_panel_get_method (self->param_panel));
      int target = hl_target_picker_get_target (self->target_picker);

      text = g_strdup_printf ("Computing %s for %s…", md ? md->title : "",
                              hl_classifier_get_short_label (self->classifier, target));
    }
  else if (hl_worker_get_busy (self->worker))
    text = g_strdup ("Classifying…");
  else if (self->result)
    text = result_title (self->result);
  gtk_label_set_text (self->result_label, text ? text : "");
}

static void
busy_changed_cb (HlWindow *self)
{
  gboolean busy = hl_worker_get_busy (self->worker);

  update_caption (self);

  gtk_widget_set_visible (GTK_WIDGET (self->progress_bar), busy);
  gtk_widget_set_visible (self->cancel_button, busy);
  if (busy && self->elapsed_source == 0)
    {
      self->elapsed_source = g_timeout_add (100, elapsed_tick, self);
      elapsed_tick (self);
    }
  else if (!busy)
    g_clear_handle_id (&self->elapsed_source, g_source_remove);
  hl_window_update_actions (self);
}

static void
progress_cb (HlWindow *self,
             double    fraction)
{
  elapsed_tick (self);
}

/* ------------------------------------------------------------ showing */

static void
update_titles (HlWindow *self)
{
  g_autofree char *subtitle = NULL;

  gtk_label_set_text (self->title_label,
                      self->photo ? hl_photo_get_name (self->photo) : "Heatlens");
  if (self->photo)
    {
      g_autofree char *title = g_strdup_printf ("%s — Heatlens", hl_photo_get_name (self->photo));

      gtk_window_set_title (GTK_WINDOW (self), title);
    }
  if (self->classifier)
    subtitle = g_strdup_printf ("Model: %s", hl_classifier_get_name (self->classifier));
  else if (self->model_loading)
    subtitle = g_strdup ("Loading model…");
  else
    subtitle = g_strdup ("No model: open one with Ctrl+Shift+O");
  gtk_label_set_text (self->subtitle_label, subtitle);
  if (self->classifier)
    {
      g_autofree char *tip = g_strdup_printf ("%s\nClick to open another model (.onnx)",
                                              hl_classifier_get_path (self->classifier));

      gtk_widget_set_tooltip_text (GTK_WIDGET (self->subtitle_label), tip);
    }
}

static void
show_result (HlWindow *self,
             HlResult *result)
{
  const hl_method_desc *md = hl_method_find (result->method);
  GString *s = g_string_new (NULL);

  if (self->result != result)
    {
      g_clear_pointer (&self->result, hl_result_unref);
      self->result = hl_result_ref (result);
    }
  hl_image_view_set_result (self->image_view, result);
  hl_window_update_colorbar (self);

  update_caption (self);
  g_string_append_printf (s, "%s computed in %.2f s", md ? md->title : result->method,
                          result->attr.seconds);
  if (result->attr.has_delta)
    g_string_append_printf (s, " · convergence δ = %.3g", result->attr.delta);
  if (result->attr.is_layer)
    g_string_append (s, " · layer-space map");
  g_free (self->result_status);
  self->result_status = g_string_free (s, FALSE);
  update_status (self);
  hl_window_update_actions (self);
  g_signal_emit (self, signals[SIG_RESULT_SHOWN], 0, result);
}

static void
clear_result (HlWindow *self)
{
  g_clear_pointer (&self->result, hl_result_unref);
  g_clear_pointer (&self->result_status, g_free);
  hl_image_view_set_result (self->image_view, NULL);
  update_caption (self);
  hl_window_update_colorbar (self);
  update_status (self);
  hl_window_update_actions (self);
}

/* ------------------------------------------------------------ running */

void
hl_window_run (HlWindow *self)
{
  const char *method = hl_param_panel_get_method (self->param_panel);
  hl_attr_params params;
  hl_attr_request request;
  hl_error err = { 0 };
  g_autofree char *key = NULL;
  g_autoptr(HlResult) cached = NULL;

  g_clear_handle_id (&self->run_source, g_source_remove);
  if (self->classifier == NULL || self->photo == NULL || method == NULL)
    return;
  if (self->prediction == NULL)
    {
      self->run_pending = TRUE;   /* the prediction is on its way */
      return;
    }
  self->run_pending = FALSE;
  /* a neuron method's default neuron: first its strongest channel */
  if (hl_window_resolve_default_neuron (self))
    return;
  params = *hl_param_panel_get_params (self->param_panel);
  params.target = hl_target_picker_get_target (self->target_picker);
  /* the library resolves the request as for the CLI: default layer, the
   * files read (the key holds their content, not their path) */
  if (hl_attr_request_prepare (&request, hl_classifier_get_model (self->classifier),
                               method, &params, &err) != HL_OK)
    {
      hl_window_show_error (self, err.msg);
      return;
    }
  key = hl_result_cache_make_key (hl_photo_get_serial (self->photo),
                                  hl_classifier_get_serial (self->classifier),
                                  &request);
  /* already on screen, or already being computed */
  if ((self->result && g_strcmp0 (self->result->key, key) == 0 &&
       !hl_worker_get_busy (self->worker)) ||
      g_strcmp0 (hl_worker_get_current_key (self->worker), key) == 0)
    {
      hl_attr_request_clear (&request);
      return;
    }
  cached = hl_result_cache_lookup (self->cache, key);
  if (cached)
    {
      hl_attr_request_clear (&request);
      hl_worker_cancel (self->worker);
      show_result (self, cached);
      return;
    }
  hide_error (self);
  hl_worker_attribute (self->worker, self->classifier, self->photo,
                       self->prediction, &request, key);
  hl_attr_request_clear (&request);
}

static gboolean
run_timeout_cb (gpointer data)
{
  HlWindow *self = data;

  self->run_source = 0;
  hl_window_run (self);
  return G_SOURCE_REMOVE;
}

/* Parameter changes come in bursts (spin buttons, typing): wait a moment,
 * then cancel whatever runs and start the new request. */
void
hl_window_schedule_run (HlWindow *self)
{
  if (!g_settings_get_boolean (self->settings, "auto-run"))
    return;
  g_clear_handle_id (&self->run_source, g_source_remove);
  self->run_source = g_timeout_add (RUN_DEBOUNCE_MS, run_timeout_cb, self);
}

static void
start_predict (HlWindow *self)
{
  g_clear_pointer (&self->prediction, hl_prediction_unref);
  hl_target_picker_set_prediction (self->target_picker, self->classifier, NULL);
  clear_result (self);
  if (self->classifier && self->photo)
    {
      self->run_pending = g_settings_get_boolean (self->settings, "auto-run");
      hl_worker_predict (self->worker, self->classifier, self->photo);
    }
}

static void
predicted_cb (HlWindow     *self,
              HlPrediction *prediction)
{
  if (self->photo == NULL || self->classifier == NULL ||
      prediction->photo_serial != hl_photo_get_serial (self->photo) ||
      prediction->classifier_serial != hl_classifier_get_serial (self->classifier))
    return;
  g_clear_pointer (&self->prediction, hl_prediction_unref);
  self->prediction = hl_prediction_ref (prediction);
  hl_image_view_set_crop_map (self->image_view, &prediction->map);
  hl_compare_grid_set_photo (self->compare_grid, self->photo, &prediction->map);
  hl_target_picker_set_prediction (self->target_picker, self->classifier, prediction);
  hl_window_update_neuron (self);
  g_signal_emit (self, signals[SIG_PREDICTION_SHOWN], 0);
  if (self->run_pending)
    hl_window_run (self);
}

static void
finished_cb (HlWindow *self,
             HlResult *result)
{
  hl_result_cache_insert (self->cache, result);
  if (self->photo && result->photo_serial == hl_photo_get_serial (self->photo))
    show_result (self, result);
}

static void
failed_cb (HlWindow *self,
           GError   *error)
{
  hl_window_show_error (self, error->message);
}

void
hl_window_set_photo (HlWindow *self,
                     HlPhoto  *photo)
{
  g_set_object (&self->photo, photo);
  /* a new photo clears the last error, unless it was about the model and
   * there is still none */
  if (self->classifier || self->model_loading)
    hide_error (self);
  hl_image_view_set_photo (self->image_view, photo);
  hl_window_update_neuron (self);
  hl_compare_grid_set_photo (self->compare_grid, photo, NULL);
  gtk_widget_set_visible (self->empty_state, photo == NULL);
  update_titles (self);
  start_predict (self);
}

static void
set_classifier (HlWindow     *self,
                HlClassifier *classifier)
{
  g_set_object (&self->classifier, classifier);
  hl_param_panel_set_classifier (self->param_panel, classifier);
  hl_window_update_neuron (self);
  update_titles (self);
  start_predict (self);
}

/* ------------------------------------------------------------ loading */

static void
photo_loaded_cb (GObject      *source,
                 GAsyncResult *res,
                 gpointer      user_data)
{
  g_autoptr(HlWindow) self = g_weak_ref_get (user_data);
  g_autoptr(GError) error = NULL;
  g_autoptr(HlPhoto) photo = hl_photo_load_finish (res, &error);

  g_weak_ref_clear (user_data);
  g_free (user_data);
  if (self == NULL || g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;
  if (photo == NULL)
    hl_window_show_error (self, error->message);
  else
    hl_window_set_photo (self, photo);
}

static GWeakRef *
weak_self (HlWindow *self)
{
  GWeakRef *ref = g_new0 (GWeakRef, 1);

  g_weak_ref_init (ref, self);
  return ref;
}

void
hl_window_open_image (HlWindow *self,
                      GFile    *file)
{
  g_cancellable_cancel (self->load_cancellable);
  g_clear_object (&self->load_cancellable);
  self->load_cancellable = g_cancellable_new ();
  hl_photo_load_file_async (file, self->load_cancellable, photo_loaded_cb, weak_self (self));
}

static void
model_loaded_cb (GObject      *source,
                 GAsyncResult *res,
                 gpointer      user_data)
{
  g_autoptr(HlWindow) self = g_weak_ref_get (user_data);
  g_autoptr(GError) error = NULL;
  g_autoptr(HlClassifier) classifier = hl_classifier_load_finish (res, &error);

  g_weak_ref_clear (user_data);
  g_free (user_data);
  if (self == NULL)
    return;
  self->model_loading = FALSE;
  if (classifier == NULL)
    {
      hl_window_show_error (self, error->message);
      update_titles (self);
      return;
    }
  {
    g_autofree char *bundled = hl_data_default_model ();

    g_settings_set_string (self->settings, "last-model",
                           g_strcmp0 (bundled, hl_classifier_get_path (classifier)) == 0
                             ? "" : hl_classifier_get_path (classifier));
  }
  set_classifier (self, classifier);
}

void
hl_window_open_model (HlWindow   *self,
                      const char *path)
{
  self->model_loading = TRUE;
  gtk_label_set_text (self->subtitle_label, "Loading model…");
  hl_classifier_load_async (path, NULL, model_loaded_cb, weak_self (self));
}

/* ------------------------------------------------------------ setters */

gboolean
hl_window_set_method (HlWindow    *self,
                      const char  *method,
                      GError     **error)
{
  return hl_param_panel_set_method (self->param_panel, method, error);
}

gboolean
hl_window_set_param (HlWindow    *self,
                     const char  *name,
                     const char  *value,
                     GError     **error)
{
  if (g_strcmp0 (name, "target") == 0)
    {
      hl_window_set_target (self, atoi (value));
      return TRUE;
    }
  return hl_param_panel_set_param (self->param_panel, name, value, error);
}

void
hl_window_set_target (HlWindow *self,
                      int       target)
{
  hl_target_picker_set_target (self->target_picker, target);
}

gboolean
hl_window_set_overlay (HlWindow    *self,
                       const char  *key,
                       const char  *value,
                       GError     **error)
{
  hl_viz_options o = *hl_overlay_panel_get_options (self->overlay_panel);
  hl_error err = { 0 };
  hl_status st = HL_OK;

  if (g_strcmp0 (key, "mode") == 0)
    st = hl_viz_mode_from_name (value, &o.mode, &err);
  else if (g_strcmp0 (key, "sign") == 0)
    st = hl_viz_sign_from_name (value, &o.sign, &err);
  else if (g_strcmp0 (key, "cmap") == 0 || g_strcmp0 (key, "colormap") == 0)
    st = hl_colormap_from_name (value, &o.cmap, &err);
  else if (g_strcmp0 (key, "outlier") == 0 || g_strcmp0 (key, "outlier-perc") == 0)
    o.outlier_perc = CLAMP (g_ascii_strtod (value, NULL), 0, 50);
  else if (g_strcmp0 (key, "alpha") == 0 || g_strcmp0 (key, "opacity") == 0)
    o.alpha_overlay = CLAMP (g_ascii_strtod (value, NULL), 0, 1);
  else
    {
      g_set_error (error, HL_APP_ERROR, HL_ERR_ARG,
                   "unknown overlay setting '%s' (mode, sign, outlier, cmap, alpha)", key);
      return FALSE;
    }
  if (st != HL_OK)
    {
      hl_app_error_from_hl (error, &err);
      return FALSE;
    }
  hl_overlay_panel_set_options (self->overlay_panel, &o);
  return TRUE;
}

/* ------------------------------------------------------------ panels */

static void
params_changed_cb (HlWindow *self)
{
  const char *method = hl_param_panel_get_method (self->param_panel);

  if (method)
    g_settings_set_string (self->settings, "method", method);
  hl_window_update_neuron (self);
  hl_window_schedule_run (self);
}

static void
params_invalid_cb (HlWindow *self,
                   GError   *error)
{
  hl_window_show_error (self, error->message);
}

static void
target_changed_cb (HlWindow *self)
{
  hl_window_schedule_run (self);
}

static void
overlay_changed_cb (HlWindow *self)
{
  const hl_viz_options *o = hl_overlay_panel_get_options (self->overlay_panel);

  hl_image_view_set_options (self->image_view, o);
  hl_compare_grid_set_options (self->compare_grid, o);
  hl_window_update_colorbar (self);
  update_status (self);
  g_settings_set_string (self->settings, "overlay-mode", hl_viz_mode_name (o->mode));
  g_settings_set_string (self->settings, "overlay-sign", hl_viz_sign_name (o->sign));
  g_settings_set_double (self->settings, "outlier-percent", o->outlier_perc);
  g_settings_set_string (self->settings, "colormap",
                         o->cmap == HL_CMAP_DEFAULT ? "" : hl_colormap_name (o->cmap));
  g_settings_set_double (self->settings, "opacity", o->alpha_overlay);
}

static void
restore_settings (HlWindow *self)
{
  hl_viz_options o;
  g_autofree char *mode = g_settings_get_string (self->settings, "overlay-mode");
  g_autofree char *sign = g_settings_get_string (self->settings, "overlay-sign");
  g_autofree char *cmap = g_settings_get_string (self->settings, "colormap");
  g_autofree char *method = g_settings_get_string (self->settings, "method");

  hl_viz_options_init (&o);
  /* unknown names (an older version's) fall back to the defaults */
  hl_viz_mode_from_name (mode, &o.mode, NULL);
  hl_viz_sign_from_name (sign, &o.sign, NULL);
  if (*cmap)
    hl_colormap_from_name (cmap, &o.cmap, NULL);
  o.outlier_perc = g_settings_get_double (self->settings, "outlier-percent");
  o.alpha_overlay = g_settings_get_double (self->settings, "opacity");
  hl_overlay_panel_set_options (self->overlay_panel, &o);
  if (!hl_param_panel_set_method (self->param_panel, method, NULL))
    hl_param_panel_set_method (self->param_panel, "saliency", NULL);
  gtk_window_set_default_size (GTK_WINDOW (self),
                               g_settings_get_int (self->settings, "window-width"),
                               g_settings_get_int (self->settings, "window-height"));
  if (g_settings_get_boolean (self->settings, "window-maximized"))
    gtk_window_maximize (GTK_WINDOW (self));
}

static gboolean
hl_window_close_request (GtkWindow *window)
{
  HlWindow *self = HL_WINDOW (window);
  int w, h;

  gtk_window_get_default_size (window, &w, &h);
  if (!gtk_window_is_maximized (window) && w > 0 && h > 0)
    {
      g_settings_set_int (self->settings, "window-width", w);
      g_settings_set_int (self->settings, "window-height", h);
    }
  g_settings_set_boolean (self->settings, "window-maximized", gtk_window_is_maximized (window));
  hl_worker_cancel (self->worker);
  return GTK_WINDOW_CLASS (hl_window_parent_class)->close_request (window);
}

/* ------------------------------------------------------------ export */

static char *
result_title (HlResult *r)
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

static gboolean
need_result (HlWindow  *self,
             GError   **error)
{
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
  title = result_title (r);
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
    if (hl_viz_export (&view, path, HL_VIZ_FORMAT_AUTO, 0, 0, meta, n_meta, &err) != HL_OK)
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

/* ------------------------------------------------------------ getters */

HlWorker *
hl_window_get_worker (HlWindow *self)
{
  return self->worker;
}

HlResultCache *
hl_window_get_cache (HlWindow *self)
{
  return self->cache;
}

HlResult *
hl_window_get_result (HlWindow *self)
{
  return self->result;
}

HlClassifier *
hl_window_get_classifier (HlWindow *self)
{
  return self->classifier;
}

HlImageView *
hl_window_get_image_view (HlWindow *self)
{
  return self->image_view;
}

HlCompareGrid *
hl_window_get_compare_grid (HlWindow *self)
{
  return self->compare_grid;
}

const char *
hl_window_get_error (HlWindow *self)
{
  return self->error_text;
}

int
hl_window_get_target (HlWindow *self)
{
  return hl_target_picker_get_target (self->target_picker);
}

const char *
hl_window_get_method (HlWindow *self)
{
  return hl_param_panel_get_method (self->param_panel);
}

/* ------------------------------------------------------------ GObject */

HlWindow *
hl_window_new (GtkApplication *application)
{
  return g_object_new (HL_TYPE_WINDOW, "application", application, NULL);
}

static void
hl_window_dispose (GObject *object)
{
  HlWindow *self = HL_WINDOW (object);

  g_clear_handle_id (&self->run_source, g_source_remove);
  g_clear_handle_id (&self->elapsed_source, g_source_remove);
  if (self->load_cancellable)
    g_cancellable_cancel (self->load_cancellable);
  g_clear_object (&self->load_cancellable);
  if (self->probe_cancellable)
    g_cancellable_cancel (self->probe_cancellable);
  g_clear_object (&self->probe_cancellable);
  if (self->worker)
    {
      g_signal_handlers_disconnect_by_data (self->worker, self);
      hl_worker_cancel (self->worker);
    }
  g_clear_object (&self->worker);
  g_clear_object (&self->cache);
  g_clear_object (&self->classifier);
  g_clear_object (&self->photo);
  g_clear_pointer (&self->prediction, hl_prediction_unref);
  g_clear_pointer (&self->result, hl_result_unref);
  g_clear_pointer (&self->error_text, g_free);
  g_clear_pointer (&self->result_status, g_free);
  g_clear_object (&self->settings);
  gtk_widget_dispose_template (GTK_WIDGET (self), HL_TYPE_WINDOW);
  G_OBJECT_CLASS (hl_window_parent_class)->dispose (object);
}

static void
hl_window_class_init (HlWindowClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);
  GtkWindowClass *window_class = GTK_WINDOW_CLASS (klass);

  object_class->dispose = hl_window_dispose;
  window_class->close_request = hl_window_close_request;

  signals[SIG_PREDICTION_SHOWN] =
    g_signal_new ("prediction-shown", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 0);
  signals[SIG_RESULT_SHOWN] =
    g_signal_new ("result-shown", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 1, HL_TYPE_RESULT);
  signals[SIG_ERROR_SHOWN] =
    g_signal_new ("error-shown", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 1, G_TYPE_STRING);

  g_type_ensure (HL_TYPE_TARGET_PICKER);
  g_type_ensure (HL_TYPE_PARAM_PANEL);
  g_type_ensure (HL_TYPE_OVERLAY_PANEL);
  g_type_ensure (HL_TYPE_IMAGE_VIEW);
  g_type_ensure (HL_TYPE_COMPARE_GRID);

  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/org/heatlens/Heatlens/ui/heatlens-window.ui");
  gtk_widget_class_bind_template_child (widget_class, HlWindow, title_label);
  gtk_widget_class_bind_template_child (widget_class, HlWindow, subtitle_label);
  gtk_widget_class_bind_template_child (widget_class, HlWindow, samples_popover);
  gtk_widget_class_bind_template_child (widget_class, HlWindow, samples_flow);
  gtk_widget_class_bind_template_child (widget_class, HlWindow, banner_revealer);
  gtk_widget_class_bind_template_child (widget_class, HlWindow, banner_label);
  gtk_widget_class_bind_template_child (widget_class, HlWindow, target_picker);
  gtk_widget_class_bind_template_child (widget_class, HlWindow, param_panel);
  gtk_widget_class_bind_template_child (widget_class, HlWindow, overlay_panel);
  gtk_widget_class_bind_template_child (widget_class, HlWindow, view_stack);
  gtk_widget_class_bind_template_child (widget_class, HlWindow, image_view);
  gtk_widget_class_bind_template_child (widget_class, HlWindow, empty_state);
  gtk_widget_class_bind_template_child (widget_class, HlWindow, compare_grid);
  gtk_widget_class_bind_template_child (widget_class, HlWindow, result_label);
  gtk_widget_class_bind_template_child (widget_class, HlWindow, status_label);
  gtk_widget_class_bind_template_child (widget_class, HlWindow, progress_bar);
  gtk_widget_class_bind_template_child (widget_class, HlWindow, cancel_button);
  gtk_widget_class_bind_template_child (widget_class, HlWindow, run_button);
  gtk_widget_class_bind_template_callback (widget_class, banner_close_cb);
  gtk_widget_class_bind_template_callback (widget_class, params_changed_cb);
  gtk_widget_class_bind_template_callback (widget_class, params_invalid_cb);
  gtk_widget_class_bind_template_callback (widget_class, target_changed_cb);
  gtk_widget_class_bind_template_callback (widget_class, overlay_changed_cb);
  gtk_widget_class_bind_template_callback_full (widget_class, "samples_popover_show_cb",
                                                G_CALLBACK (hl_window_samples_popover_show_cb));
  gtk_widget_class_bind_template_callback_full (widget_class, "sample_activated_cb",
                                                G_CALLBACK (hl_window_sample_activated_cb));
}

static void
hl_window_init (HlWindow *self)
{
  /* checked by HlApplication before any window is made */
  self->settings = hl_settings_new (NULL);
  self->worker = hl_worker_new ();
  self->cache = hl_result_cache_new (64);

  gtk_widget_init_template (GTK_WIDGET (self));

  g_signal_connect_swapped (self->worker, "notify::busy", G_CALLBACK (busy_changed_cb), self);
  g_signal_connect_swapped (self->worker, "progress", G_CALLBACK (progress_cb), self);
  g_signal_connect_swapped (self->worker, "predicted", G_CALLBACK (predicted_cb), self);
  g_signal_connect_swapped (self->worker, "finished", G_CALLBACK (finished_cb), self);
  g_signal_connect_swapped (self->worker, "failed", G_CALLBACK (failed_cb), self);
  g_signal_connect_swapped (self->image_view, "notify::hover-text", G_CALLBACK (hover_changed_cb), self);
  g_signal_connect_swapped (self->image_view, "notify::problem", G_CALLBACK (hover_changed_cb), self);

  hl_window_init_actions (self);
  hl_window_init_dnd (self);
  hl_window_init_neuron (self);
  hl_window_init_teaching (self);
  restore_settings (self);
  update_titles (self);
  hl_window_update_actions (self);
}
