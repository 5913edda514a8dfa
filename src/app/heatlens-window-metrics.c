/* HlWindow's "Trust" page: the metrics panel (heatlens-metrics-panel.h)
 * beside the Explain and Compare pages. It follows the result shown, runs
 * while its page is visible and gives the engine back (stops) as soon as
 * the worker starts a classify or explain job. And hl_window_stop_jobs:
 * every engine job of the window stopped before the process exits. */
#include "heatlens-window-private.h"
#include "heatlens-metrics-panel.h"

#define PANEL_KEY "hl-metrics-panel"

HlMetricsPanel *
hl_window_get_metrics_panel (HlWindow *self)
{
  return g_object_get_data (G_OBJECT (self), PANEL_KEY);
}

gboolean
hl_window_metrics_shown (HlWindow *self)
{
  return g_strcmp0 (gtk_stack_get_visible_child_name (self->view_stack), "metrics") == 0;
}

static void
result_shown_cb (HlWindow *self,
                 HlResult *result,
                 gpointer  data)
{
  hl_metrics_panel_set_result (hl_window_get_metrics_panel (self), self->classifier,
                               self->prediction, result,
                               self->photo ? hl_photo_get_name (self->photo) : NULL);
}

static void
source_changed_cb (HlWindow *self)
{
  hl_metrics_panel_set_result (hl_window_get_metrics_panel (self), NULL, NULL, NULL, NULL);
}

static void
page_cb (HlWindow *self)
{
  hl_metrics_panel_set_active (hl_window_get_metrics_panel (self), hl_window_metrics_shown (self));
}

static void
busy_cb (HlWindow *self)
{
  if (hl_worker_get_busy (self->worker))
    hl_metrics_panel_cancel (hl_window_get_metrics_panel (self));
}

void
hl_window_init_metrics (HlWindow *self)
{
  GtkWidget *panel = hl_metrics_panel_new (self->worker);

  gtk_widget_set_name (panel, "metrics-panel");
  g_object_set_data (G_OBJECT (self), PANEL_KEY, panel);
  gtk_stack_add_titled (self->view_stack, panel, "metrics", "Trust");
  g_signal_connect (self, "result-shown", G_CALLBACK (result_shown_cb), NULL);
  g_signal_connect (self, "notify::photo", G_CALLBACK (source_changed_cb), NULL);
  g_signal_connect (self, "notify::classifier", G_CALLBACK (source_changed_cb), NULL);
  g_signal_connect_swapped (self->view_stack, "notify::visible-child", G_CALLBACK (page_cb), self);
  g_signal_connect_object (self->worker, "notify::busy", G_CALLBACK (busy_cb), self,
                           G_CONNECT_SWAPPED);
}

void
hl_window_stop_jobs (HlWindow *self)
{
  /* a guard, so a job that never polls cannot hold the exit forever */
  gint64 end = g_get_monotonic_time () + 60 * G_USEC_PER_SEC;
  HlMetricsPanel *panel = hl_window_get_metrics_panel (self);

  if (panel)
    hl_metrics_panel_cancel (panel);
  hl_worker_cancel (self->worker);
  g_cancellable_cancel (self->probe_cancellable);
  while (hl_worker_get_n_running (self->worker) > 0 && g_get_monotonic_time () < end)
    g_main_context_iteration (NULL, TRUE);
}
