/* The flow of HlWindow: loading a photo or a model, classifying it,
 * explaining it, and showing what is on screen or coming.
 *
 *   photo or model loaded -> classify (worker) -> top-5, target = top-1
 *   -> run: cache hit shows at once, else explain (worker) -> show
 *   while it runs: each estimate (worker "estimate") replaces the picture
 *   parameter/target change -> debounce -> run (cancels the running job;
 *   the picture on screen stays until the new run's first estimate)
 *   overlay change -> re-render in the view, nothing recomputed */
#include "heatlens-window-private.h"
#include "heatlens-data.h"
#include "heatlens-error.h"

#define RUN_DEBOUNCE_MS 180

/* ------------------------------------------------------------ status */

void
hl_window_update_status (HlWindow *self)
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
  hl_window_update_status (self);
}

/* The colour bar is the map's on the Explain page; the Compare page has
 * its own (one per card or per sign), so the panel's is hidden there. */
void
hl_window_update_colorbar (HlWindow *self)
{
  const hl_viz_norm *norm = hl_image_view_get_norm (self->image_view);
  gboolean compare = g_strcmp0 (gtk_stack_get_visible_child_name (self->view_stack), "compare") == 0;

  hl_overlay_panel_set_colorbar_visible (self->overlay_panel, !compare);

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

/* "40/200 steps · δ 0.0123" for an estimate. */
static char *
estimate_progress (HlResult *est)
{
  if (est->attr.has_delta)
    return g_strdup_printf ("%d/%d %s · δ %.3g", est->done, est->total, est->unit, est->attr.delta);
  return g_strdup_printf ("%d/%d %s", est->done, est->total, est->unit);
}

/* The caption above the image says what is on screen, or what is coming. */
static void
update_caption (HlWindow *self)
{
  g_autofree char *text = NULL;

  HlResult *est = self->estimate;
  g_autofree char *progress = est ? estimate_progress (est) : NULL;

  if (hl_worker_get_busy (self->worker) && est &&
      g_strcmp0 (est->key, hl_worker_get_current_key (self->worker)) == 0)
    {
      const hl_method_desc *md = hl_method_find (est->method);

      /* how far first: the caption is cut at the window's width */
      text = g_strdup_printf ("Refining %s · %s for %s", progress, md ? md->title : est->method,
                              hl_classifier_get_short_label (self->classifier, est->attr.target));
    }
  else if (hl_worker_get_busy (self->worker) && self->prediction)
    {
      const hl_method_desc *md = hl_method_find (hl_param_panel_get_method (self->param_panel));
      int target = hl_target_picker_get_target (self->target_picker);

      text = g_strdup_printf ("Computing %s for %s…", md ? md->title : "",
                              hl_classifier_get_short_label (self->classifier, target));
    }
  else if (hl_worker_get_busy (self->worker))
    text = g_strdup ("Classifying…");
  else if (self->cancelled && est)
    {
      g_autofree char *shown = hl_window_result_title (est);

      text = g_strdup_printf ("Cancelled at %s (F5 computes it) · estimate of %s", progress, shown);
    }
  else if (self->cancelled)
    {
      g_autofree char *shown = self->result ? hl_window_result_title (self->result) : NULL;

      text = shown ? g_strdup_printf ("Cancelled (F5 computes it) · still showing %s", shown)
                   : g_strdup ("Cancelled (F5 computes it)");
    }
  else if (self->result)
    text = hl_window_result_title (self->result);
  if (self->cancelled && !hl_worker_get_busy (self->worker))
    gtk_widget_add_css_class (GTK_WIDGET (self->result_label), "warning");
  else
    gtk_widget_remove_css_class (GTK_WIDGET (self->result_label), "warning");
  gtk_label_set_text (self->result_label, text ? text : "");
  gtk_widget_set_tooltip_text (GTK_WIDGET (self->result_label), text);
}

/* Esc: the running request and any one about to start stop; the caption
 * says the picture is not the panel's choice until F5 computes it. */
void
hl_window_cancel (HlWindow *self)
{
  gboolean had_work = hl_worker_get_busy (self->worker) || self->run_source != 0;

  g_clear_handle_id (&self->run_source, g_source_remove);
  hl_worker_cancel (self->worker);
  if (had_work)
    self->cancelled = TRUE;
  update_caption (self);
}

/* The worker's busy state is the window's "busy" property, which the
 * progress bar and the Cancel button are bound to. */
static void
busy_changed_cb (HlWindow *self)
{
  gboolean busy = hl_worker_get_busy (self->worker);

  update_caption (self);
  if (busy && self->elapsed_source == 0)
    {
      self->elapsed_source = g_timeout_add (100, elapsed_tick, self);
      elapsed_tick (self);
    }
  else if (!busy)
    g_clear_handle_id (&self->elapsed_source, g_source_remove);
  hl_window_update_actions (self);
  hl_window_notify (self, HL_WINDOW_PROP_BUSY);
}

static void
fraction_changed_cb (HlWindow *self)
{
  elapsed_tick (self);
}

/* ------------------------------------------------------------ showing */

void
hl_window_update_titles (HlWindow *self)
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
  g_clear_pointer (&self->estimate, hl_result_unref);
  self->cancelled = FALSE;
  hl_image_view_set_result (self->image_view, result);
  hl_trust_bar_set_result (self->trust_bar, hl_classifier_get_model (self->classifier), result);
  hl_window_update_colorbar (self);

  update_caption (self);
  g_string_append_printf (s, "%s computed in %.2f s", md ? md->title : result->method,
                          result->attr.seconds);
  if (result->attr.is_layer)
    g_string_append (s, " · layer-space map");
  g_free (self->result_status);
  self->result_status = g_string_free (s, FALSE);
  hl_window_update_status (self);
  hl_window_update_actions (self);
  g_signal_emit_by_name (self, "result-shown", result);
}

/* An estimate of the running request takes the picture's place; the
 * overlay controls keep working on it (the view re-renders whatever it
 * shows), the trust bar keeps the method's notice, and its delta goes in
 * the caption (a partial sum has no F(x) - F(baseline) to compare with). */
static void
estimate_cb (HlWindow *self,
             HlResult *estimate)
{
  g_autoptr(HlResult) shown = NULL;

  if (self->photo == NULL || estimate->photo_serial != hl_photo_get_serial (self->photo))
    return;
  g_clear_pointer (&self->estimate, hl_result_unref);
  self->estimate = hl_result_ref (estimate);
  self->cancelled = FALSE;
  hl_image_view_set_result (self->image_view, estimate);
  shown = hl_result_new ();
  shown->method = g_strdup (estimate->method);
  shown->params = estimate->params;
  hl_trust_bar_set_result (self->trust_bar, hl_classifier_get_model (self->classifier), shown);
  hl_window_update_colorbar (self);
  update_caption (self);
  g_free (self->result_status);
  self->result_status = g_strdup_printf ("estimate after %.2f s", estimate->elapsed);
  hl_window_update_status (self);
  hl_window_update_actions (self);
  g_signal_emit_by_name (self, "estimate-shown", estimate);
}

static void
clear_result (HlWindow *self)
{
  g_clear_pointer (&self->estimate, hl_result_unref);
  g_clear_pointer (&self->result, hl_result_unref);
  g_clear_pointer (&self->result_status, g_free);
  hl_image_view_set_result (self->image_view, NULL);
  hl_trust_bar_set_result (self->trust_bar, NULL, NULL);
  update_caption (self);
  hl_window_update_colorbar (self);
  hl_window_update_status (self);
  hl_window_update_actions (self);
}

/* ------------------------------------------------------------ callbacks */

/* What an async callback of the window gets as user_data: the window held
 * weakly, so a closed window is not kept alive by work still under way. */
GWeakRef *
hl_window_weak_ref (HlWindow *self)
{
  GWeakRef *ref = g_new0 (GWeakRef, 1);

  g_weak_ref_init (ref, self);
  return ref;
}

/* The window (a new reference) or NULL when it is gone; frees the ref. */
HlWindow *
hl_window_weak_ref_take (gpointer user_data)
{
  GWeakRef *ref = user_data;
  HlWindow *self = g_weak_ref_get (ref);

  g_weak_ref_clear (ref);
  g_free (ref);
  return self;
}

/* The window for a finished job's value: NULL when the window is gone, or
 * when there is no value (a cancelled or superseded job says nothing; a
 * failed one says why in the banner). Frees the weak ref. */
static HlWindow *
window_for_value (gpointer      user_data,
                  const GError *error)
{
  g_autoptr(HlWindow) self = hl_window_weak_ref_take (user_data);

  if (self == NULL || error == NULL)
    return g_steal_pointer (&self);
  if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED) &&
      !g_error_matches (error, HL_APP_ERROR, HL_ERR_CANCELLED))
    hl_window_show_error (self, error->message);
  return NULL;
}

/* ------------------------------------------------------------ running */

static void
explained_cb (GObject      *source,
              GAsyncResult *res,
              gpointer      user_data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(HlResult) result = hl_worker_explain_finish (HL_WORKER (source), res, &error);
  g_autoptr(HlWindow) self = window_for_value (user_data, error);

  if (self == NULL)
    return;
  hl_result_cache_insert (self->cache, result);
  if (self->photo && result->photo_serial == hl_photo_get_serial (self->photo))
    show_result (self, result);
}

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
  if ((self->result && self->estimate == NULL && g_strcmp0 (self->result->key, key) == 0 &&
       !hl_worker_get_busy (self->worker)) ||
      g_strcmp0 (hl_worker_get_current_key (self->worker), key) == 0)
    {
      hl_attr_request_clear (&request);
      self->cancelled = FALSE;
      update_caption (self);
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
  hl_window_hide_error (self);
  self->cancelled = FALSE;
  hl_worker_explain_async (self->worker, self->classifier, self->photo,
                           self->prediction, &request, key,
                           NULL, explained_cb, hl_window_weak_ref (self));
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

/* ------------------------------------------------------------ classifying */

static void
classified_cb (GObject      *source,
               GAsyncResult *res,
               gpointer      user_data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(HlPrediction) prediction = hl_worker_classify_finish (HL_WORKER (source), res, &error);
  g_autoptr(HlWindow) self = window_for_value (user_data, error);

  if (self == NULL)
    return;
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
  g_signal_emit_by_name (self, "prediction-shown");
  if (self->run_pending)
    hl_window_run (self);
}

static void
start_classify (HlWindow *self)
{
  g_clear_pointer (&self->prediction, hl_prediction_unref);
  hl_target_picker_set_prediction (self->target_picker, self->classifier, NULL);
  clear_result (self);
  if (self->classifier && self->photo)
    {
      self->run_pending = g_settings_get_boolean (self->settings, "auto-run");
      hl_worker_classify_async (self->worker, self->classifier, self->photo,
                                NULL, classified_cb, hl_window_weak_ref (self));
    }
}

void
hl_window_set_photo (HlWindow *self,
                     HlPhoto  *photo)
{
  /* the image view is bound to the "photo" property */
  if (g_set_object (&self->photo, photo))
    hl_window_notify (self, HL_WINDOW_PROP_PHOTO);
  /* a new photo clears the last error, unless it was about the model and
   * there is still none */
  if (self->classifier || self->model_loading)
    hl_window_hide_error (self);
  hl_window_update_neuron (self);
  hl_compare_grid_set_photo (self->compare_grid, photo, NULL);
  gtk_widget_set_visible (self->empty_state, photo == NULL);
  hl_window_update_titles (self);
  start_classify (self);
}

static void
set_classifier (HlWindow     *self,
                HlClassifier *classifier)
{
  /* the parameter panel is bound to the "classifier" property */
  if (g_set_object (&self->classifier, classifier))
    hl_window_notify (self, HL_WINDOW_PROP_CLASSIFIER);
  hl_window_update_neuron (self);
  hl_window_update_titles (self);
  start_classify (self);
}

/* ------------------------------------------------------------ loading */

static void
photo_loaded_cb (GObject      *source,
                 GAsyncResult *res,
                 gpointer      user_data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(HlPhoto) photo = hl_photo_load_finish (res, &error);
  g_autoptr(HlWindow) self = window_for_value (user_data, error);

  if (self == NULL)
    return;
  hl_window_set_photo (self, photo);
}

void
hl_window_open_image (HlWindow *self,
                      GFile    *file)
{
  g_cancellable_cancel (self->load_cancellable);
  g_clear_object (&self->load_cancellable);
  self->load_cancellable = g_cancellable_new ();
  hl_photo_load_file_async (file, self->load_cancellable, photo_loaded_cb,
                            hl_window_weak_ref (self));
}

static void
model_loaded_cb (GObject      *source,
                 GAsyncResult *res,
                 gpointer      user_data)
{
  g_autoptr(HlWindow) self = hl_window_weak_ref_take (user_data);
  g_autoptr(GError) error = NULL;
  g_autoptr(HlClassifier) classifier = hl_classifier_load_finish (res, &error);

  if (self == NULL)
    return;
  self->model_loading = FALSE;
  if (classifier == NULL)
    {
      hl_window_show_error (self, error->message);
      hl_window_update_titles (self);
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
  hl_classifier_load_async (path, NULL, model_loaded_cb, hl_window_weak_ref (self));
}

/* ------------------------------------------------------------ set-up */

void
hl_window_init_flow (HlWindow *self)
{
  g_signal_connect_swapped (self->worker, "notify::busy", G_CALLBACK (busy_changed_cb), self);
  g_signal_connect_swapped (self->worker, "notify::fraction", G_CALLBACK (fraction_changed_cb), self);
  g_signal_connect_swapped (self->worker, "estimate", G_CALLBACK (estimate_cb), self);
  g_signal_connect_swapped (self->image_view, "notify::hover-text", G_CALLBACK (hover_changed_cb), self);
  g_signal_connect_swapped (self->image_view, "notify::problem", G_CALLBACK (hover_changed_cb), self);
  g_object_bind_property (self, "busy", self->progress_bar, "visible", G_BINDING_SYNC_CREATE);
  g_object_bind_property (self, "busy", self->cancel_button, "visible", G_BINDING_SYNC_CREATE);
  g_object_bind_property (self, "photo", self->image_view, "photo", G_BINDING_SYNC_CREATE);
  g_object_bind_property (self, "classifier", self->param_panel, "classifier", G_BINDING_SYNC_CREATE);
}
