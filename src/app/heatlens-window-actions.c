/* The window's actions: what menus, shortcuts, the command line and the
 * tests all go through. Actions with a string parameter ("load-sample",
 * "set-param", "export-view-to", ...) exist for scripting. */
#include "heatlens-window-private.h"
#include "heatlens-preferences.h"
#include "heatlens-data.h"

#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------ dialogs */

typedef enum { DIALOG_IMAGE, DIALOG_MODEL, DIALOG_EXPORT_VIEW, DIALOG_EXPORT_GRID, DIALOG_NPY } DialogKind;

static void
add_filter (GtkFileChooser *chooser,
            const char     *name,
            const char     *const *patterns)
{
  g_autoptr(GtkFileFilter) filter = gtk_file_filter_new ();

  gtk_file_filter_set_name (filter, name);
  for (; *patterns; patterns++)
    gtk_file_filter_add_pattern (filter, *patterns);
  gtk_file_chooser_add_filter (chooser, filter);
}

static void
report (HlWindow *self,
        gboolean  ok,
        GError   *error)
{
  if (!ok && error)
    hl_window_show_error (self, error->message);
}

static void
dialog_response_cb (GtkNativeDialog *dialog,
                    int              response,
                    HlWindow        *self)
{
  DialogKind kind = GPOINTER_TO_INT (g_object_get_data (G_OBJECT (dialog), "hl-kind"));
  g_autoptr(GFile) file = NULL;
  g_autofree char *path = NULL;
  g_autoptr(GError) error = NULL;

  if (response == GTK_RESPONSE_ACCEPT)
    {
      file = gtk_file_chooser_get_file (GTK_FILE_CHOOSER (dialog));
      path = file ? g_file_get_path (file) : NULL;
    }
  gtk_native_dialog_destroy (dialog);
  g_object_unref (dialog);
  if (file == NULL)
    return;
  switch (kind)
    {
    case DIALOG_IMAGE:
      hl_window_open_image (self, file);
      break;
    case DIALOG_MODEL:
      if (path)
        hl_window_open_model (self, path);
      break;
    case DIALOG_EXPORT_VIEW:
      report (self, path && hl_window_export_view (self, path, &error), error);
      break;
    case DIALOG_EXPORT_GRID:
      report (self, path && hl_window_export_grid (self, path, &error), error);
      break;
    case DIALOG_NPY:
      report (self, path && hl_window_save_npy (self, path, &error), error);
      break;
    }
}

static void
run_dialog (HlWindow   *self,
            DialogKind  kind)
{
  static const char *const images[] = { "*.png", "*.jpg", "*.jpeg", "*.bmp", "*.PNG", "*.JPG", "*.JPEG", "*.BMP", NULL };
  static const char *const models[] = { "*.onnx", NULL };
  static const char *const pictures[] = { "*.png", "*.pdf", "*.svg", NULL };
  static const char *const npy[] = { "*.npy", NULL };
  gboolean save = kind >= DIALOG_EXPORT_VIEW;
  const char *titles[] = { "Open Image", "Open Model", "Export View", "Export Comparison",
                           "Save Attribution" };
  GtkFileChooserNative *dialog =
    gtk_file_chooser_native_new (titles[kind], GTK_WINDOW (self),
                                 save ? GTK_FILE_CHOOSER_ACTION_SAVE : GTK_FILE_CHOOSER_ACTION_OPEN,
                                 save ? "_Save" : "_Open", "_Cancel");
  GtkFileChooser *chooser = GTK_FILE_CHOOSER (dialog);

  switch (kind)
    {
    case DIALOG_IMAGE: add_filter (chooser, "PNG and JPEG images", images); break;
    case DIALOG_MODEL: add_filter (chooser, "ONNX models", models); break;
    case DIALOG_EXPORT_VIEW: add_filter (chooser, "PNG, PDF or SVG", pictures); break;
    case DIALOG_EXPORT_GRID: add_filter (chooser, "PNG, PDF or SVG", pictures); break;
    case DIALOG_NPY: add_filter (chooser, "NumPy arrays", npy); break;
    }
  if (kind == DIALOG_MODEL)
    {
      g_autofree char *bundled = hl_data_default_model ();

      if (bundled)
        {
          g_autofree char *dir = g_path_get_dirname (bundled);
          g_autoptr(GFile) folder = g_file_new_for_path (dir);

          gtk_file_chooser_set_current_folder (chooser, folder, NULL);
        }
    }
  if (save)
    {
      g_autofree char *name = hl_window_export_name (self, kind == DIALOG_EXPORT_GRID,
                                                     kind == DIALOG_NPY ? ".npy" : ".png");

      gtk_file_chooser_set_current_name (chooser, name);
    }
  g_object_set_data (G_OBJECT (dialog), "hl-kind", GINT_TO_POINTER (kind));
  gtk_native_dialog_set_modal (GTK_NATIVE_DIALOG (dialog), TRUE);
  g_signal_connect (dialog, "response", G_CALLBACK (dialog_response_cb), self);
  gtk_native_dialog_show (GTK_NATIVE_DIALOG (dialog));
}

/* ------------------------------------------------------------ actions */

#define ACTION(name) \
  static void name (GSimpleAction *action, GVariant *param, gpointer data)

ACTION (open_activated) { run_dialog (HL_WINDOW (data), DIALOG_IMAGE); }
ACTION (open_model_activated) { run_dialog (HL_WINDOW (data), DIALOG_MODEL); }
ACTION (export_view_activated) { run_dialog (HL_WINDOW (data), DIALOG_EXPORT_VIEW); }
ACTION (export_grid_activated) { run_dialog (HL_WINDOW (data), DIALOG_EXPORT_GRID); }
ACTION (save_npy_activated) { run_dialog (HL_WINDOW (data), DIALOG_NPY); }
ACTION (paste_activated) { hl_window_paste (HL_WINDOW (data)); }
ACTION (copy_activated) { hl_window_copy_view (HL_WINDOW (data)); }
ACTION (run_activated) { hl_window_run (HL_WINDOW (data)); }
ACTION (cancel_activated) { hl_window_cancel (HL_WINDOW (data)); }
ACTION (zoom_in_activated) { hl_image_view_zoom (HL_WINDOW (data)->image_view, 1.25); }
ACTION (zoom_out_activated) { hl_image_view_zoom (HL_WINDOW (data)->image_view, 1 / 1.25); }
ACTION (zoom_fit_activated) { hl_image_view_zoom_fit (HL_WINDOW (data)->image_view); }

ACTION (fullscreen_activated)
{
  GtkWindow *window = GTK_WINDOW (data);

  if (gtk_window_is_fullscreen (window))
    gtk_window_unfullscreen (window);
  else
    gtk_window_fullscreen (window);
}

ACTION (pin_activated)
{
  HlWindow *self = HL_WINDOW (data);

  if (self->result)
    {
      hl_compare_grid_pin (self->compare_grid, self->result);
      hl_window_update_actions (self);
    }
}

ACTION (load_sample_activated)
{
  HlWindow *self = HL_WINDOW (data);
  const char *name = g_variant_get_string (param, NULL);
  g_autofree char *path = hl_data_find_sample (name);
  g_autoptr(GFile) file = NULL;

  if (path == NULL)
    {
      g_autofree char *msg = g_strdup_printf ("No sample photo named '%s'", name);

      hl_window_show_error (self, msg);
      return;
    }
  file = g_file_new_for_path (path);
  hl_window_open_image (self, file);
}

ACTION (next_method_activated) { hl_param_panel_step_method (HL_WINDOW (data)->param_panel, 1); }
ACTION (previous_method_activated) { hl_param_panel_step_method (HL_WINDOW (data)->param_panel, -1); }

/* The next or previous sample photo (sorted by name, wrapping); from a
 * photo that is not a sample, the first or the last. */
static void
step_sample (HlWindow *self,
             int       step)
{
  g_autoptr(GPtrArray) paths = hl_data_list_samples ();
  const char *path = self->photo ? hl_photo_get_path (self->photo) : NULL;
  g_autofree char *current = path ? g_canonicalize_filename (path, NULL) : NULL;
  int n = paths ? (int) paths->len : 0, at = -1;
  g_autoptr(GFile) file = NULL;

  if (n == 0)
    {
      hl_window_show_error (self, "No sample photos installed");
      return;
    }
  for (int i = 0; current && i < n; i++)
    {
      g_autofree char *sample = g_canonicalize_filename (paths->pdata[i], NULL);

      if (g_strcmp0 (sample, current) == 0)
        at = i;
    }
  at = at < 0 ? (step > 0 ? 0 : n - 1) : ((at + step) % n + n) % n;
  file = g_file_new_for_path (paths->pdata[at]);
  hl_window_open_image (self, file);
}

ACTION (next_sample_activated) { step_sample (HL_WINDOW (data), 1); }
ACTION (previous_sample_activated) { step_sample (HL_WINDOW (data), -1); }

/* Through the top-5 classes, wrapping; from another class, the top-1. */
static void
step_target (HlWindow *self,
             int       step)
{
  HlPrediction *p = self->prediction;
  int target = hl_target_picker_get_target (self->target_picker), at = -1;

  if (p == NULL || p->n_top == 0)
    return;
  for (int i = 0; i < p->n_top; i++)
    if (p->top[i] == target)
      at = i;
  at = at < 0 ? 0 : ((at + step) % p->n_top + p->n_top) % p->n_top;
  hl_window_set_target (self, p->top[at]);
}

ACTION (next_target_activated) { step_target (HL_WINDOW (data), 1); }
ACTION (previous_target_activated) { step_target (HL_WINDOW (data), -1); }

ACTION (load_image_activated)
{
  g_autoptr(GFile) file = g_file_new_for_commandline_arg (g_variant_get_string (param, NULL));

  hl_window_open_image (HL_WINDOW (data), file);
}

ACTION (load_model_activated)
{
  hl_window_open_model (HL_WINDOW (data), g_variant_get_string (param, NULL));
}

ACTION (set_method_activated)
{
  g_autoptr(GError) error = NULL;

  if (!hl_window_set_method (HL_WINDOW (data), g_variant_get_string (param, NULL), &error))
    hl_window_show_error (HL_WINDOW (data), error->message);
}

/* "name=value" */
static gboolean
split_pair (const char  *text,
            char       **key,
            char       **value)
{
  const char *eq = strchr (text, '=');

  if (eq == NULL)
    return FALSE;
  *key = g_strndup (text, (gsize) (eq - text));
  *value = g_strdup (eq + 1);
  return TRUE;
}

ACTION (set_param_activated)
{
  HlWindow *self = HL_WINDOW (data);
  g_autofree char *key = NULL, *value = NULL;
  g_autoptr(GError) error = NULL;

  if (!split_pair (g_variant_get_string (param, NULL), &key, &value))
    hl_window_show_error (self, "set-param expects NAME=VALUE");
  else if (!hl_window_set_param (self, key, value, &error))
    hl_window_show_error (self, error->message);
}

ACTION (set_overlay_activated)
{
  HlWindow *self = HL_WINDOW (data);
  g_autofree char *key = NULL, *value = NULL;
  g_autoptr(GError) error = NULL;

  if (!split_pair (g_variant_get_string (param, NULL), &key, &value))
    hl_window_show_error (self, "set-overlay expects KEY=VALUE");
  else if (!hl_window_set_overlay (self, key, value, &error))
    hl_window_show_error (self, error->message);
}

ACTION (set_target_activated)
{
  hl_window_set_target (HL_WINDOW (data), g_variant_get_int32 (param));
}

ACTION (export_view_to_activated)
{
  g_autoptr(GError) error = NULL;
  HlWindow *self = HL_WINDOW (data);

  report (self, hl_window_export_view (self, g_variant_get_string (param, NULL), &error), error);
}

ACTION (export_grid_to_activated)
{
  g_autoptr(GError) error = NULL;
  HlWindow *self = HL_WINDOW (data);

  report (self, hl_window_export_grid (self, g_variant_get_string (param, NULL), &error), error);
}

ACTION (save_npy_to_activated)
{
  g_autoptr(GError) error = NULL;
  HlWindow *self = HL_WINDOW (data);

  report (self, hl_window_save_npy (self, g_variant_get_string (param, NULL), &error), error);
}

static void
page_change_state (GSimpleAction *action,
                   GVariant      *state,
                   gpointer       data)
{
  HlWindow *self = HL_WINDOW (data);

  gtk_stack_set_visible_child_name (self->view_stack, g_variant_get_string (state, NULL));
  g_simple_action_set_state (action, state);
}

static void
page_changed_cb (HlWindow *self)
{
  GAction *action = g_action_map_lookup_action (G_ACTION_MAP (self), "page");
  const char *name = gtk_stack_get_visible_child_name (self->view_stack);

  if (action && name)
    g_simple_action_set_state (G_SIMPLE_ACTION (action), g_variant_new_string (name));
  hl_window_update_colorbar (self);
}

ACTION (preferences_activated)
{
  HlWindow *self = HL_WINDOW (data);

  gtk_window_present (hl_preferences_new (GTK_WINDOW (self), self->settings));
}

static const GActionEntry entries[] = {
  { "open", open_activated },
  { "open-model", open_model_activated },
  { "paste", paste_activated },
  { "copy", copy_activated },
  { "run", run_activated },
  { "cancel", cancel_activated },
  { "pin", pin_activated },
  { "export-view", export_view_activated },
  { "export-grid", export_grid_activated },
  { "save-npy", save_npy_activated },
  { "zoom-in", zoom_in_activated },
  { "zoom-out", zoom_out_activated },
  { "zoom-fit", zoom_fit_activated },
  { "fullscreen", fullscreen_activated },
  { "next-method", next_method_activated },
  { "previous-method", previous_method_activated },
  { "next-sample", next_sample_activated },
  { "next-target", next_target_activated },
  { "previous-target", previous_target_activated },
  { "previous-sample", previous_sample_activated },
  { "load-sample", load_sample_activated, "s" },
  { "load-image", load_image_activated, "s" },
  { "load-model", load_model_activated, "s" },
  { "set-method", set_method_activated, "s" },
  { "set-param", set_param_activated, "s" },
  { "set-overlay", set_overlay_activated, "s" },
  { "set-target", set_target_activated, "i" },
  { "export-view-to", export_view_to_activated, "s" },
  { "export-grid-to", export_grid_to_activated, "s" },
  { "save-npy-to", save_npy_to_activated, "s" },
  { "page", NULL, "s", "'view'", page_change_state },
  { "preferences", preferences_activated },
};

/* Presentation clickers send Page Down / Page Up: next / previous method.
 * In the bubble phase, so a widget that uses those keys (a spin button, a
 * scrolled list) keeps them; application accelerators would take them
 * first. */
static gboolean
presenter_key_cb (GtkEventControllerKey *controller,
                  guint                  keyval,
                  guint                  keycode,
                  GdkModifierType        state,
                  HlWindow              *self)
{
  if (state & (GDK_CONTROL_MASK | GDK_ALT_MASK | GDK_SHIFT_MASK))
    return GDK_EVENT_PROPAGATE;
  switch (keyval)
    {
    case GDK_KEY_Page_Down:
    case GDK_KEY_KP_Page_Down:
      hl_param_panel_step_method (self->param_panel, 1);
      return GDK_EVENT_STOP;
    case GDK_KEY_Page_Up:
    case GDK_KEY_KP_Page_Up:
      hl_param_panel_step_method (self->param_panel, -1);
      return GDK_EVENT_STOP;
    default:
      return GDK_EVENT_PROPAGATE;
    }
}

void
hl_window_init_actions (HlWindow *self)
{
  GtkEventController *keys = gtk_event_controller_key_new ();

  g_autoptr(GAction) auto_run = g_settings_create_action (self->settings, "auto-run");

  g_action_map_add_action_entries (G_ACTION_MAP (self), entries, G_N_ELEMENTS (entries), self);
  g_action_map_add_action (G_ACTION_MAP (self), auto_run);
  g_signal_connect_swapped (self->view_stack, "notify::visible-child", G_CALLBACK (page_changed_cb), self);
  gtk_event_controller_set_name (keys, "presenter-keys");
  gtk_event_controller_set_propagation_phase (keys, GTK_PHASE_BUBBLE);
  g_signal_connect (keys, "key-pressed", G_CALLBACK (presenter_key_cb), self);
  gtk_widget_add_controller (GTK_WIDGET (self), keys);
}

static void
set_enabled (HlWindow   *self,
             const char *name,
             gboolean    enabled)
{
  GAction *action = g_action_map_lookup_action (G_ACTION_MAP (self), name);

  if (action)
    g_simple_action_set_enabled (G_SIMPLE_ACTION (action), enabled);
}

void
hl_window_update_actions (HlWindow *self)
{
  /* an estimate on screen is not a result to pin or export */
  gboolean has_result = self->result != NULL && self->estimate == NULL;
  gboolean busy = self->worker && hl_worker_get_busy (self->worker);

  set_enabled (self, "cancel", busy);
  set_enabled (self, "pin", has_result);
  set_enabled (self, "export-view", has_result);
  set_enabled (self, "save-npy", has_result);
  set_enabled (self, "copy", self->photo != NULL);
  set_enabled (self, "export-grid", has_result ||
               (self->compare_grid && hl_compare_grid_get_n_pins (self->compare_grid) > 0));
  set_enabled (self, "run", self->photo != NULL && self->classifier != NULL);
}
