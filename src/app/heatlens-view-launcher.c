/* --view and its screenshot (see heatlens-view-launcher.h). */
#include "heatlens-view-launcher.h"
#include "heatlens-ig-path-view.h"
#include "heatlens-layer-browser.h"
#include "heatlens-map-texture.h"
#include "heatlens-window-teaching.h"

typedef struct
{
  GApplication *app;
  HlWindow     *window;
  GtkWindow    *shown;        /* the window to render */
  char         *view;
  char         *screenshot;
  int          *exit_status;
  guint         ticks;
  gboolean      opened;
  gboolean      pinned;
  gboolean      shooting;
} Launcher;

static void
launcher_free (gpointer data)
{
  Launcher *l = data;

  g_free (l->view);
  g_free (l->screenshot);
  g_free (l);
}

static void
fail (Launcher   *l,
      const char *message)
{
  g_printerr ("heatlens: %s\n", message);
  *l->exit_status = 1;
}

static gboolean
shot_tick (GtkWidget     *widget,
           GdkFrameClock *clock,
           gpointer       data)
{
  Launcher *l = data;
  g_autoptr(GError) error = NULL;

  /* a few frames after mapping, so textures and labels are laid out */
  if (!gtk_widget_get_mapped (widget) || ++l->ticks < 6)
    return G_SOURCE_CONTINUE;
  if (!hl_widget_save_png (widget, l->screenshot, &error))
    {
      if (l->ticks < 90)
        return G_SOURCE_CONTINUE;
      fail (l, error->message);
    }
  g_application_quit (l->app);
  return G_SOURCE_REMOVE;
}

static void
shoot (Launcher  *l,
       GtkWindow *window)
{
  if (l->screenshot == NULL || l->shooting)
    return;
  l->shooting = TRUE;
  l->ticks = 0;
  gtk_widget_add_tick_callback (GTK_WIDGET (window), shot_tick, l, NULL);
  gtk_widget_queue_draw (GTK_WIDGET (window));
}

static void
view_ready_cb (GtkWindow *view,
               Launcher  *l)
{
  shoot (l, view);
}

static void
result_cb (HlWindow *window,
           gpointer  result,
           Launcher *l)
{
  if (!l->opened)
    return;
  if (g_strcmp0 (l->view, "compare") == 0 && !l->pinned)
    {
      l->pinned = TRUE;
      g_action_group_activate_action (G_ACTION_GROUP (window), "pin", NULL);
      shoot (l, GTK_WINDOW (window));
    }
  else if (g_strcmp0 (l->view, "all-methods") == 0 &&
           hl_window_all_methods_done (window) == g_strv_length ((char **) hl_window_all_methods))
    shoot (l, GTK_WINDOW (window));
}

static void
error_cb (HlWindow   *window,
          const char *message,
          Launcher   *l)
{
  fail (l, message);
  shoot (l, l->shown ? l->shown : GTK_WINDOW (window));
}

static void
prediction_cb (HlWindow *window,
               Launcher *l)
{
  g_autoptr(GError) error = NULL;

  if (l->opened)
    return;
  l->opened = TRUE;
  l->shown = hl_window_open_view (window, l->view, &error);
  if (l->shown == NULL)
    {
      fail (l, error->message);
      if (l->screenshot)
        g_application_quit (l->app);
      return;
    }
  gtk_window_present (l->shown);
  if (HL_IS_IG_PATH_VIEW (l->shown) || HL_IS_LAYER_BROWSER (l->shown))
    g_signal_connect (l->shown, "ready", G_CALLBACK (view_ready_cb), l);
  else if (g_strcmp0 (l->view, "explain") == 0)
    shoot (l, l->shown);
  else if (g_strcmp0 (l->view, "compare") == 0 && hl_window_get_result (window))
    result_cb (window, NULL, l);
}

void
hl_view_launcher_start (GApplication *app,
                        HlWindow     *window,
                        const char   *view,
                        const char   *screenshot,
                        int          *exit_status)
{
  Launcher *l = g_new0 (Launcher, 1);

  l->app = app;
  l->window = window;
  l->view = g_strdup (view);
  l->screenshot = g_strdup (screenshot);
  l->exit_status = exit_status;
  g_object_set_data_full (G_OBJECT (window), "hl-view-launcher", l, launcher_free);
  g_signal_connect (window, "prediction-shown", G_CALLBACK (prediction_cb), l);
  /* after the window's own handlers: all-methods counts its pins there */
  g_signal_connect_after (window, "result-shown", G_CALLBACK (result_cb), l);
  if (screenshot)
    g_signal_connect (window, "error-shown", G_CALLBACK (error_cb), l);
}
