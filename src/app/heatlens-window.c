/* HlWindow: one photo, one model, one method at a time.
 *
 * This file holds the class: its state as properties (photo, classifier,
 * method, target, busy) that the panels are bound to or notified by, the
 * banner, the setters the command line and actions use, the panels'
 * callbacks and the saved settings. The rest is split by concept, sharing
 * heatlens-window-private.h:
 *   heatlens-window-flow.c     load, classify, explain, show (the worker)
 *   heatlens-window-export.c   view/grid/.npy export, clipboard, screenshot
 *   heatlens-window-actions.c  the actions (menus, shortcuts, tests)
 *   heatlens-window-dnd.c      drag and drop, paste, the sample gallery
 *   heatlens-window-neuron.c   picking a neuron by clicking the photo */
#include "heatlens-window-private.h"
#include "heatlens-preferences.h"
#include "heatlens-data.h"
#include "heatlens-error.h"

#include <stdlib.h>

G_DEFINE_FINAL_TYPE (HlWindow, hl_window, GTK_TYPE_APPLICATION_WINDOW)

enum { SIG_PREDICTION_SHOWN, SIG_RESULT_SHOWN, SIG_ESTIMATE_SHOWN, SIG_ERROR_SHOWN, N_SIGNALS };
static guint signals[N_SIGNALS];

static GParamSpec *properties[HL_WINDOW_N_PROPS];

void
hl_window_notify (HlWindow       *self,
                  HlWindowProp    prop)
{
  g_object_notify_by_pspec (G_OBJECT (self), properties[prop]);
}

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

void
hl_window_hide_error (HlWindow *self)
{
  g_clear_pointer (&self->error_text, g_free);
  gtk_revealer_set_reveal_child (self->banner_revealer, FALSE);
}

static void
banner_close_cb (HlWindow *self)
{
  hl_window_hide_error (self);
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

/* The window's "method" and "target" are the panels' own: their
 * notifications are the window's. */
static void
method_changed_cb (HlWindow *self)
{
  hl_window_apply_method_defaults (self);
  hl_window_notify (self, HL_WINDOW_PROP_METHOD);
}

static void
target_changed_cb (HlWindow *self)
{
  hl_window_notify (self, HL_WINDOW_PROP_TARGET);
  hl_window_schedule_run (self);
}

static void
overlay_changed_cb (HlWindow *self)
{
  const hl_viz_options *o = hl_overlay_panel_get_options (self->overlay_panel);
  gboolean mode_changed = hl_window_note_overlay_choice (self);

  hl_image_view_set_options (self->image_view, o);
  hl_compare_grid_set_user_choice (self->compare_grid, self->sign_chosen, self->cmap_chosen);
  hl_compare_grid_set_options (self->compare_grid, o);
  hl_window_update_colorbar (self);
  hl_window_update_status (self);
  g_settings_set_string (self->settings, "overlay-mode", hl_viz_mode_name (o->mode));
  /* "" = the method's (only a user's choice is remembered) */
  g_settings_set_string (self->settings, "overlay-sign",
                         self->sign_chosen ? hl_viz_sign_name (o->sign) : "");
  g_settings_set_double (self->settings, "outlier-percent", o->outlier_perc);
  g_settings_set_string (self->settings, "colormap",
                         self->cmap_chosen ? hl_colormap_name (o->cmap) : "");
  g_settings_set_double (self->settings, "opacity", o->alpha_overlay);
  if (mode_changed)
    hl_window_apply_method_defaults (self);
}

static void
restore_settings (HlWindow *self)
{
  hl_viz_options o;
  g_autofree char *mode = g_settings_get_string (self->settings, "overlay-mode");
  g_autofree char *sign = g_settings_get_string (self->settings, "overlay-sign");
  g_autofree char *cmap = g_settings_get_string (self->settings, "colormap");
  g_autofree char *method = g_settings_get_string (self->settings, "method");
  gboolean sign_ok, cmap_ok;

  hl_viz_options_init (&o);
  /* unknown names (an older version's) fall back to the defaults */
  hl_viz_mode_from_name (mode, &o.mode, NULL);
  sign_ok = hl_viz_sign_from_name (sign, &o.sign, NULL) == HL_OK;
  cmap_ok = *cmap && hl_colormap_from_name (cmap, &o.cmap, NULL) == HL_OK;
  o.outlier_perc = g_settings_get_double (self->settings, "outlier-percent");
  o.alpha_overlay = g_settings_get_double (self->settings, "opacity");
  self->applying_defaults = TRUE;
  hl_overlay_panel_set_options (self->overlay_panel, &o);
  self->applying_defaults = FALSE;
  hl_window_restore_overlay_choice (self, sign_ok, cmap_ok);
  if (!hl_param_panel_set_method (self->param_panel, method, NULL))
    hl_param_panel_set_method (self->param_panel, "saliency", NULL);
  hl_window_apply_method_defaults (self);
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

HlResult *
hl_window_get_estimate (HlWindow *self)
{
  return self->estimate;
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

gboolean
hl_window_get_cancelled (HlWindow *self)
{
  return self->cancelled;
}

HlParamPanel *
hl_window_get_param_panel (HlWindow *self)
{
  return self->param_panel;
}

HlCompareGrid *
hl_window_get_compare_grid (HlWindow *self)
{
  return self->compare_grid;
}

HlTrustBar *
hl_window_get_trust_bar (HlWindow *self)
{
  return self->trust_bar;
}

const hl_viz_options *
hl_window_get_overlay_options (HlWindow *self)
{
  return hl_overlay_panel_get_options (self->overlay_panel);
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

gboolean
hl_window_get_busy (HlWindow *self)
{
  return self->worker != NULL && hl_worker_get_busy (self->worker);
}

HlPhoto *
hl_window_get_photo (HlWindow *self)
{
  return self->photo;
}

/* ------------------------------------------------------------ GObject */

static void
hl_window_get_property (GObject    *object,
                        guint       prop_id,
                        GValue     *value,
                        GParamSpec *pspec)
{
  HlWindow *self = HL_WINDOW (object);

  switch (prop_id)
    {
    case HL_WINDOW_PROP_PHOTO:
      g_value_set_object (value, self->photo);
      break;
    case HL_WINDOW_PROP_CLASSIFIER:
      g_value_set_object (value, self->classifier);
      break;
    case HL_WINDOW_PROP_METHOD:
      g_value_set_string (value, self->param_panel ? hl_window_get_method (self) : NULL);
      break;
    case HL_WINDOW_PROP_TARGET:
      g_value_set_int (value, self->target_picker ? hl_window_get_target (self) : -1);
      break;
    case HL_WINDOW_PROP_BUSY:
      g_value_set_boolean (value, hl_window_get_busy (self));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
hl_window_set_property (GObject      *object,
                        guint         prop_id,
                        const GValue *value,
                        GParamSpec   *pspec)
{
  HlWindow *self = HL_WINDOW (object);

  switch (prop_id)
    {
    case HL_WINDOW_PROP_PHOTO:
      hl_window_set_photo (self, g_value_get_object (value));
      break;
    case HL_WINDOW_PROP_METHOD:
      {
        g_autoptr(GError) error = NULL;

        if (!hl_window_set_method (self, g_value_get_string (value), &error))
          hl_window_show_error (self, error->message);
      }
      break;
    case HL_WINDOW_PROP_TARGET:
      hl_window_set_target (self, g_value_get_int (value));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

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
  g_clear_pointer (&self->estimate, hl_result_unref);
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
  object_class->get_property = hl_window_get_property;
  object_class->set_property = hl_window_set_property;
  window_class->close_request = hl_window_close_request;

  properties[HL_WINDOW_PROP_PHOTO] =
    g_param_spec_object ("photo", NULL, NULL, HL_TYPE_PHOTO,
                         G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[HL_WINDOW_PROP_CLASSIFIER] =
    g_param_spec_object ("classifier", NULL, NULL, HL_TYPE_CLASSIFIER,
                         G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  properties[HL_WINDOW_PROP_METHOD] =
    g_param_spec_string ("method", NULL, NULL, NULL,
                         G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[HL_WINDOW_PROP_TARGET] =
    g_param_spec_int ("target", NULL, NULL, -1, G_MAXINT, -1,
                      G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[HL_WINDOW_PROP_BUSY] =
    g_param_spec_boolean ("busy", NULL, NULL, FALSE,
                          G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, HL_WINDOW_N_PROPS, properties);

  signals[SIG_PREDICTION_SHOWN] =
    g_signal_new ("prediction-shown", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 0);
  signals[SIG_RESULT_SHOWN] =
    g_signal_new ("result-shown", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 1, HL_TYPE_RESULT);
  signals[SIG_ESTIMATE_SHOWN] =
    g_signal_new ("estimate-shown", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 1, HL_TYPE_RESULT);
  signals[SIG_ERROR_SHOWN] =
    g_signal_new ("error-shown", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 1, G_TYPE_STRING);

  g_type_ensure (HL_TYPE_TARGET_PICKER);
  g_type_ensure (HL_TYPE_PARAM_PANEL);
  g_type_ensure (HL_TYPE_OVERLAY_PANEL);
  g_type_ensure (HL_TYPE_IMAGE_VIEW);
  g_type_ensure (HL_TYPE_COMPARE_GRID);
  g_type_ensure (HL_TYPE_TRUST_BAR);

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
  gtk_widget_class_bind_template_child (widget_class, HlWindow, trust_bar);
  gtk_widget_class_bind_template_child (widget_class, HlWindow, status_label);
  gtk_widget_class_bind_template_child (widget_class, HlWindow, progress_bar);
  gtk_widget_class_bind_template_child (widget_class, HlWindow, cancel_button);
  gtk_widget_class_bind_template_child (widget_class, HlWindow, run_button);
  gtk_widget_class_bind_template_callback (widget_class, banner_close_cb);
  gtk_widget_class_bind_template_callback (widget_class, params_changed_cb);
  gtk_widget_class_bind_template_callback (widget_class, params_invalid_cb);
  gtk_widget_class_bind_template_callback (widget_class, method_changed_cb);
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
  hl_preferences_track_memory_limit (self->settings);
  self->worker = hl_worker_new ();
  self->cache = hl_result_cache_new (64);

  gtk_widget_init_template (GTK_WIDGET (self));

  hl_window_init_flow (self);
  hl_window_init_actions (self);
  hl_window_init_dnd (self);
  hl_window_init_neuron (self);
  hl_window_init_teaching (self);
  hl_window_init_metrics (self);
  restore_settings (self);
  hl_window_update_titles (self);
  hl_window_update_actions (self);
}
