/* The teaching views of HlWindow (see heatlens-window-teaching.h). */
#include "heatlens-window-teaching.h"
#include "heatlens-window-private.h"
#include "heatlens-error.h"
#include "heatlens-ig-path-view.h"
#include "heatlens-layer-browser.h"
#include "heatlens-method-help.h"

#include <string.h>

const char *const hl_window_view_names[] = {
  "explain", "ig-path", "layers", "all-methods", "compare", NULL
};

/* The lesson's set: what each family looks like on one photo. */
const char *const hl_window_all_methods[] = {
  "occlusion", "integrated_gradients", "saliency", "guided_backprop",
  "deconvolution", "guided_grad_cam", "deep_lift", "gradient_shap",
  "layer_grad_cam", NULL
};

typedef struct
{
  guint     next;        /* index into hl_window_all_methods */
  guint     done;
  gulong    handler;
  gulong    error_handler;
  gboolean  running;
} AllMethods;

static AllMethods *
all_methods_state (HlWindow *self)
{
  AllMethods *s = g_object_get_data (G_OBJECT (self), "hl-all-methods");

  if (s == NULL)
    {
      s = g_new0 (AllMethods, 1);
      g_object_set_data_full (G_OBJECT (self), "hl-all-methods", s, g_free);
    }
  return s;
}

guint
hl_window_all_methods_done (HlWindow *self)
{
  return all_methods_state (self)->done;
}

static gboolean
all_methods_step (gpointer data)
{
  HlWindow *self = data;
  AllMethods *s = all_methods_state (self);
  const char *method = hl_window_all_methods[s->next];

  if (method == NULL)
    {
      s->running = FALSE;
      g_clear_signal_handler (&s->handler, self);
      g_clear_signal_handler (&s->error_handler, self);
      g_action_group_activate_action (G_ACTION_GROUP (self), "page", g_variant_new_string ("compare"));
      return G_SOURCE_REMOVE;
    }
  s->next++;
  hl_window_set_method (self, method, NULL);
  hl_window_run (self);
  return G_SOURCE_REMOVE;
}

static void
all_methods_result_cb (HlWindow *self,
                       HlResult *result,
                       gpointer  data)
{
  AllMethods *s = all_methods_state (self);

  if (!s->running || s->next == 0 || g_strcmp0 (result->method, hl_window_all_methods[s->next - 1]) != 0)
    return;
  hl_compare_grid_pin (self->compare_grid, result);
  s->done++;
  g_idle_add_full (G_PRIORITY_DEFAULT, all_methods_step, g_object_ref (self), g_object_unref);
}

/* A method that fails (the banner says why) leaves a gap, not a stall. */
static void
all_methods_error_cb (HlWindow   *self,
                      const char *message,
                      gpointer    data)
{
  if (all_methods_state (self)->running)
    g_idle_add_full (G_PRIORITY_DEFAULT, all_methods_step, g_object_ref (self), g_object_unref);
}

static void
start_all_methods (HlWindow *self)
{
  AllMethods *s = all_methods_state (self);

  if (s->running)
    return;
  hl_compare_grid_clear (self->compare_grid);
  hl_compare_grid_set_shared_colorbars (self->compare_grid, TRUE);
  s->next = 0;
  s->done = 0;
  s->running = TRUE;
  s->handler = g_signal_connect (self, "result-shown", G_CALLBACK (all_methods_result_cb), NULL);
  s->error_handler = g_signal_connect (self, "error-shown", G_CALLBACK (all_methods_error_cb), NULL);
  g_action_group_activate_action (G_ACTION_GROUP (self), "page", g_variant_new_string ("compare"));
  all_methods_step (self);
}

/* ------------------------------------------------------------ views */

static void
channel_activated_cb (HlLayerBrowser *browser,
                      const char     *layer,
                      int             c,
                      int             h,
                      int             w,
                      HlWindow       *self)
{
  g_autofree char *neuron = g_strdup_printf ("%d,%d,%d", c, h, w);
  g_autoptr(GError) error = NULL;

  if (!hl_window_set_method (self, "neuron_guided_backprop", &error) ||
      !hl_window_set_param (self, "layer", layer, &error) ||
      !hl_window_set_param (self, "neuron", neuron, &error))
    {
      hl_window_show_error (self, error->message);
      return;
    }
  hl_window_run (self);
  gtk_window_present (GTK_WINDOW (self));
}

/* The explanation follows the method chosen while it is open. */
static void
help_follow_cb (HlParamPanel *panel,
                HlMethodHelp *help)
{
  const char *method = hl_param_panel_get_method (panel);

  if (g_strcmp0 (method, hl_method_help_get_method (help)) != 0)
    hl_method_help_set_method (help, method);
}

static void
help_slot_free (gpointer data)
{
  HlMethodHelp **slot = data;

  if (*slot)
    g_object_remove_weak_pointer (G_OBJECT (*slot), (gpointer *) slot);
  g_free (slot);
}

/* One explanation window per main window (GTK owns it; the pointer is
 * weak, cleared when it is closed or destroyed with the main window). */
static GtkWindow *
open_help (HlWindow *self)
{
  static GQuark quark;
  HlMethodHelp *help;
  HlMethodHelp **slot;

  if (!quark)
    quark = g_quark_from_static_string ("hl-method-help");
  slot = g_object_get_qdata (G_OBJECT (self), quark);
  if (slot == NULL)
    {
      slot = g_new0 (HlMethodHelp *, 1);
      g_object_set_qdata_full (G_OBJECT (self), quark, slot, help_slot_free);
    }
  if (*slot == NULL)
    {
      *slot = hl_method_help_new (GTK_WINDOW (self), hl_window_get_method (self));
      gtk_window_set_destroy_with_parent (GTK_WINDOW (*slot), TRUE);
      g_object_add_weak_pointer (G_OBJECT (*slot), (gpointer *) slot);
      g_signal_connect_object (self->param_panel, "changed", G_CALLBACK (help_follow_cb), *slot, 0);
    }
  help = *slot;
  hl_method_help_set_method (help, hl_window_get_method (self));
  return GTK_WINDOW (help);
}

/* IG's parameters: the panel's when IG is the method shown, else
 * Captum's defaults; the class is the one explained. */
static hl_attr_params
ig_params (HlWindow *self)
{
  hl_attr_params p;

  if (g_strcmp0 (hl_window_get_method (self), "integrated_gradients") == 0)
    p = *hl_param_panel_get_params (self->param_panel);
  else
    hl_attr_params_init (&p);
  p.target = hl_window_get_target (self);
  return p;
}

static GtkWindow *
open_view_window (HlWindow    *self,
                  const char  *view,
                  GError     **error)
{
  GtkWindow *parent = GTK_WINDOW (self);

  if (g_strcmp0 (view, "explain") == 0)
    return open_help (self);
  if (g_strcmp0 (view, "compare") == 0)
    {
      g_action_group_activate_action (G_ACTION_GROUP (self), "page", g_variant_new_string ("compare"));
      return parent;
    }
  if (!g_strv_contains (hl_window_view_names, view ? view : ""))
    {
      g_autofree char *names = g_strjoinv (", ", (char **) hl_window_view_names);

      g_set_error (error, HL_APP_ERROR, HL_ERR_ARG, "--view: unknown view '%s' (valid: %s)",
                   view ? view : "", names);
      return NULL;
    }
  if (self->prediction == NULL || self->classifier == NULL)
    {
      g_set_error (error, HL_APP_ERROR, HL_ERR_ARG, "%s: open a photo first", view);
      return NULL;
    }
  if (g_strcmp0 (view, "ig-path") == 0)
    {
      hl_attr_params p = ig_params (self);

      return GTK_WINDOW (hl_ig_path_view_new (parent, self->classifier, self->prediction, &p));
    }
  if (g_strcmp0 (view, "layers") == 0)
    {
      const hl_attr_params *p = hl_param_panel_get_params (self->param_panel);
      HlLayerBrowser *browser = hl_layer_browser_new (parent, self->classifier, self->prediction,
                                                      p->layer[0] ? p->layer : NULL);

      g_signal_connect_object (browser, "channel-activated", G_CALLBACK (channel_activated_cb), self, 0);
      return GTK_WINDOW (browser);
    }
  start_all_methods (self);
  return parent;
}

GtkWindow *
hl_window_open_view (HlWindow    *self,
                     const char  *view,
                     GError     **error)
{
  GtkWindow *window = open_view_window (self, view, error);

  /* a view opened while presenting is presented too (large text) */
  if (window && window != GTK_WINDOW (self) && hl_window_get_presenting (self))
    gtk_widget_add_css_class (GTK_WIDGET (window), "presenting");
  return window;
}

/* ------------------------------------------------------------ presenting */

static GtkWidget *
find_named (GtkWidget  *widget,
            const char *name)
{
  if (g_strcmp0 (gtk_widget_get_name (widget), name) == 0)
    return widget;
  for (GtkWidget *c = gtk_widget_get_first_child (widget); c; c = gtk_widget_get_next_sibling (c))
    {
      GtkWidget *found = find_named (c, name);

      if (found)
        return found;
    }
  return NULL;
}

void
hl_window_set_presenting (HlWindow *self,
                          gboolean  presenting)
{
  GtkWidget *sidebar = find_named (GTK_WIDGET (self), "sidebar");

  if (presenting)
    gtk_widget_add_css_class (GTK_WIDGET (self), "presenting");
  else
    gtk_widget_remove_css_class (GTK_WIDGET (self), "presenting");
  if (sidebar)
    gtk_widget_set_visible (sidebar, !presenting);
  g_action_group_change_action_state (G_ACTION_GROUP (self), "present", g_variant_new_boolean (presenting));
}

gboolean
hl_window_get_presenting (HlWindow *self)
{
  return gtk_widget_has_css_class (GTK_WIDGET (self), "presenting");
}

/* ------------------------------------------------------------ actions */

static void
open_view_activated (GSimpleAction *action,
                     GVariant      *param,
                     gpointer       data)
{
  HlWindow *self = data;
  g_autoptr(GError) error = NULL;
  GtkWindow *view = hl_window_open_view (self, g_variant_get_string (param, NULL), &error);

  if (view == NULL)
    hl_window_show_error (self, error->message);
  else if (view != GTK_WINDOW (self))
    gtk_window_present (view);
}

static void
present_change_state (GSimpleAction *action,
                      GVariant      *state,
                      gpointer       data)
{
  gboolean on = g_variant_get_boolean (state);

  g_simple_action_set_state (action, state);
  if (on != hl_window_get_presenting (data))
    hl_window_set_presenting (data, on);
}

static void
sidebar_activated (GSimpleAction *action,
                   GVariant      *param,
                   gpointer       data)
{
  GtkWidget *sidebar = find_named (GTK_WIDGET (data), "sidebar");

  if (sidebar)
    gtk_widget_set_visible (sidebar, !gtk_widget_get_visible (sidebar));
}

static const GActionEntry teaching_entries[] = {
  { "open-view", open_view_activated, "s" },
  { "present", NULL, NULL, "false", present_change_state },
  { "sidebar", sidebar_activated },
};

void
hl_window_init_teaching (HlWindow *self)
{
  g_action_map_add_action_entries (G_ACTION_MAP (self), teaching_entries,
                                   G_N_ELEMENTS (teaching_entries), self);
}
