/* HlMetricsPanel: see heatlens-metrics-panel.h. */
#include "heatlens-metrics-panel.h"
#include "heatlens-error.h"
#include "label_names.h"

#define MIN_PAGE_WIDTH 640

struct _HlMetricsPanel
{
  GtkWidget        parent_instance;

  /* template children */
  GtkWidget       *box;
  GtkCheckButton  *checks[HL_METRIC_COUNT];   /* bit 1 << i */
  GtkProgressBar  *progress_bar;
  GtkLabel        *status_label;
  GtkDrawingArea  *plots_area;

  /* what to evaluate */
  HlWorker        *worker;
  HlClassifier    *classifier;
  HlPrediction    *prediction;
  HlResult        *result;
  char            *image_name;
  gboolean         active;
  int              metrics;
  gboolean         setting_checks;

  /* the evaluation shown: running (cancellable set) or finished */
  GCancellable    *cancellable;
  char            *key;            /* result key and metrics it is for */
  hl_evaluation   *evaluation;     /* partial or finished, or NULL */
  gboolean         complete;
  hl_evaluation_page page;
  gboolean         has_page;
  int              page_width;
};

G_DEFINE_FINAL_TYPE (HlMetricsPanel, hl_metrics_panel, GTK_TYPE_WIDGET)

enum { SIG_READY, N_SIGNALS };
static guint signals[N_SIGNALS];

static void
status (HlMetricsPanel *self,
        const char     *text)
{
  gtk_label_set_text (self->status_label, text);
}

/* ------------------------------------------------------------ the page */

static int
page_width (HlMetricsPanel *self)
{
  return MAX (self->page_width, MIN_PAGE_WIDTH);
}

static void
update_size (HlMetricsPanel *self)
{
  int w = 0, h = 0;

  if (self->has_page)
    hl_metric_plots_size (&self->page.plots, page_width (self), &w, &h);
  gtk_drawing_area_set_content_height (self->plots_area, MAX (h, 120));
  gtk_widget_queue_draw (GTK_WIDGET (self->plots_area));
}

static void
build_page (HlMetricsPanel *self)
{
  const hl_method_desc *md;
  char label[256];

  self->has_page = self->evaluation != NULL && self->result != NULL;
  if (self->has_page)
    {
      md = hl_method_find (self->result->method);
      hl_label_short (self->result->target_label, label, sizeof label);
      hl_evaluation_page_build (&self->page, self->evaluation,
                                md ? md->title : self->result->method,
                                self->image_name, label);
    }
  update_size (self);
}

static void
draw_plots (GtkDrawingArea *area,
            cairo_t        *cr,
            int             width,
            int             height,
            gpointer        data)
{
  HlMetricsPanel *self = data;

  cairo_set_source_rgb (cr, 1, 1, 1);
  cairo_paint (cr);
  if (self->has_page)
    {
      hl_metric_plots_draw (cr, &self->page.plots, page_width (self));
      return;
    }
  cairo_set_source_rgb (cr, 0.35, 0.35, 0.35);
  cairo_select_font_face (cr, "sans-serif", CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_NORMAL);
  cairo_set_font_size (cr, 14);
  cairo_move_to (cr, 24, 40);
  cairo_show_text (cr, self->result
                   ? "Choose at least one metric to measure how far this map can be trusted."
                   : "Explain a photo first: its map is measured here.");
}

static void
resize_cb (GtkDrawingArea *area,
           int             width,
           int             height,
           HlMetricsPanel *self)
{
  if (width == self->page_width)
    return;
  self->page_width = width;
  if (self->has_page)
    update_size (self);
}

/* ------------------------------------------------------------ running */

static void
set_evaluation (HlMetricsPanel *self,
                hl_evaluation  *e,
                gboolean        complete)
{
  g_clear_pointer (&self->evaluation, hl_worker_evaluation_free);
  self->evaluation = e;
  self->complete = complete;
  build_page (self);
}

static void
progress_cb (double               fraction,
             const hl_evaluation *partial,
             gpointer             data)
{
  HlMetricsPanel *self = data;
  hl_evaluation *copy = g_new0 (hl_evaluation, 1);
  hl_error err = { 0 };
  g_autofree char *text = NULL;

  if (hl_evaluation_copy (copy, partial, &err) != HL_OK)
    {
      g_free (copy);
      return;
    }
  gtk_progress_bar_set_fraction (self->progress_bar, fraction);
  text = g_strdup_printf ("Measuring %s…", partial->running ? hl_metric_name (partial->running)
                                                             : "");
  status (self, text);
  set_evaluation (self, copy, FALSE);
}

static void
evaluate_done (GObject      *source,
               GAsyncResult *res,
               gpointer      user_data)
{
  GWeakRef *wr = user_data;
  g_autoptr(HlMetricsPanel) self = g_weak_ref_get (wr);
  g_autoptr(GError) error = NULL;
  hl_evaluation *e;

  g_weak_ref_clear (wr);
  g_free (wr);
  e = hl_worker_evaluate_finish (HL_WORKER (source), res, &error);
  if (self == NULL || g_task_get_cancellable (G_TASK (res)) != self->cancellable)
    {
      hl_worker_evaluation_free (e);   /* superseded */
      return;
    }
  g_clear_object (&self->cancellable);
  gtk_widget_set_visible (GTK_WIDGET (self->progress_bar), FALSE);
  if (e == NULL)
    {
      /* the next show starts again */
      g_clear_pointer (&self->key, g_free);
      status (self, g_error_matches (error, HL_APP_ERROR, HL_ERR_CANCELLED)
                    ? "Stopped" : error->message);
      return;
    }
  status (self, "Done");
  set_evaluation (self, e, TRUE);
  g_signal_emit (self, signals[SIG_READY], 0);
}

void
hl_metrics_panel_cancel (HlMetricsPanel *self)
{
  if (self->cancellable == NULL)
    return;
  /* the job's delivery no longer matches: it is dropped */
  g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  g_clear_pointer (&self->key, g_free);
  gtk_widget_set_visible (GTK_WIDGET (self->progress_bar), FALSE);
  status (self, "Stopped");
}

static void
maybe_start (HlMetricsPanel *self)
{
  g_autofree char *key = NULL;
  hl_evaluation_opts opts;
  GWeakRef *wr;

  if (!self->active || self->result == NULL || self->prediction == NULL ||
      self->classifier == NULL || self->worker == NULL || self->metrics == 0)
    return;
  key = g_strdup_printf ("%s|%d", self->result->key ? self->result->key : "", self->metrics);
  if (g_strcmp0 (key, self->key) == 0 && (self->complete || self->cancellable))
    return;
  hl_metrics_panel_cancel (self);
  g_free (self->key);
  self->key = g_steal_pointer (&key);
  set_evaluation (self, NULL, FALSE);
  /* the library's settings: the CLI's defaults, only the metrics chosen */
  hl_evaluation_opts_init (&opts);
  opts.metrics = self->metrics;
  self->cancellable = g_cancellable_new ();
  wr = g_new0 (GWeakRef, 1);
  g_weak_ref_init (wr, self);
  gtk_progress_bar_set_fraction (self->progress_bar, 0);
  gtk_widget_set_visible (GTK_WIDGET (self->progress_bar), TRUE);
  status (self, "Measuring…");
  hl_worker_evaluate_async (self->worker, self->classifier, self->prediction, self->result,
                            &opts, self->cancellable, progress_cb, self, evaluate_done, wr);
}

/* ------------------------------------------------------------ API */

GtkWidget *
hl_metrics_panel_new (HlWorker *worker)
{
  HlMetricsPanel *self = g_object_new (HL_TYPE_METRICS_PANEL, NULL);

  self->worker = worker ? g_object_ref (worker) : NULL;
  return GTK_WIDGET (self);
}

void
hl_metrics_panel_set_result (HlMetricsPanel *self,
                             HlClassifier   *classifier,
                             HlPrediction   *prediction,
                             HlResult       *result,
                             const char     *image_name)
{
  g_return_if_fail (HL_IS_METRICS_PANEL (self));
  if (result == self->result && prediction == self->prediction)
    {
      maybe_start (self);
      return;
    }
  hl_metrics_panel_cancel (self);
  g_set_object (&self->classifier, classifier);
  g_clear_pointer (&self->prediction, hl_prediction_unref);
  self->prediction = prediction ? hl_prediction_ref (prediction) : NULL;
  g_clear_pointer (&self->result, hl_result_unref);
  self->result = result ? hl_result_ref (result) : NULL;
  g_free (self->image_name);
  self->image_name = g_strdup (image_name);
  g_clear_pointer (&self->key, g_free);
  gtk_widget_set_visible (GTK_WIDGET (self->progress_bar), FALSE);
  status (self, "");
  set_evaluation (self, NULL, FALSE);
  maybe_start (self);
}

void
hl_metrics_panel_set_active (HlMetricsPanel *self,
                             gboolean        active)
{
  g_return_if_fail (HL_IS_METRICS_PANEL (self));
  self->active = active;
  maybe_start (self);
}

void
hl_metrics_panel_set_metrics (HlMetricsPanel *self,
                              int             metrics)
{
  g_return_if_fail (HL_IS_METRICS_PANEL (self));
  metrics &= HL_METRIC_ALL;
  self->setting_checks = TRUE;
  for (int i = 0; i < HL_METRIC_COUNT; i++)
    gtk_check_button_set_active (self->checks[i], (metrics >> i) & 1);
  self->setting_checks = FALSE;
  self->metrics = metrics;
  maybe_start (self);
}

int
hl_metrics_panel_get_metrics (HlMetricsPanel *self)
{
  return self->metrics;
}

gboolean
hl_metrics_panel_get_running (HlMetricsPanel *self)
{
  return self->cancellable != NULL;
}

const hl_evaluation *
hl_metrics_panel_get_evaluation (HlMetricsPanel *self)
{
  return self->complete ? self->evaluation : NULL;
}

const hl_metric_plots *
hl_metrics_panel_get_plots (HlMetricsPanel *self)
{
  return self->has_page ? &self->page.plots : NULL;
}

static void
metric_toggled_cb (HlMetricsPanel *self)
{
  int metrics = 0;

  if (self->setting_checks)
    return;
  for (int i = 0; i < HL_METRIC_COUNT; i++)
    if (gtk_check_button_get_active (self->checks[i]))
      metrics |= 1 << i;
  self->metrics = metrics;
  if (metrics == 0)
    {
      hl_metrics_panel_cancel (self);
      set_evaluation (self, NULL, FALSE);
      g_clear_pointer (&self->key, g_free);
      return;
    }
  maybe_start (self);
}

/* ------------------------------------------------------------ GObject */

static void
hl_metrics_panel_dispose (GObject *object)
{
  HlMetricsPanel *self = HL_METRICS_PANEL (object);

  /* after this no partial result reaches the panel (HlWorker's rule) */
  hl_metrics_panel_cancel (self);
  g_clear_pointer (&self->box, gtk_widget_unparent);
  g_clear_object (&self->worker);
  g_clear_object (&self->classifier);
  g_clear_pointer (&self->prediction, hl_prediction_unref);
  g_clear_pointer (&self->result, hl_result_unref);
  g_clear_pointer (&self->evaluation, hl_worker_evaluation_free);
  self->has_page = FALSE;
  G_OBJECT_CLASS (hl_metrics_panel_parent_class)->dispose (object);
}

static void
hl_metrics_panel_finalize (GObject *object)
{
  HlMetricsPanel *self = HL_METRICS_PANEL (object);

  g_free (self->image_name);
  g_free (self->key);
  G_OBJECT_CLASS (hl_metrics_panel_parent_class)->finalize (object);
}

static void
hl_metrics_panel_class_init (HlMetricsPanelClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = hl_metrics_panel_dispose;
  object_class->finalize = hl_metrics_panel_finalize;
  signals[SIG_READY] =
    g_signal_new ("ready", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 0);
  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/org/heatlens/Heatlens/ui/heatlens-metrics-panel.ui");
  gtk_widget_class_bind_template_child_full (widget_class, "infidelity_check", FALSE,
                                             G_STRUCT_OFFSET (HlMetricsPanel, checks[0]));
  gtk_widget_class_bind_template_child_full (widget_class, "sensitivity_check", FALSE,
                                             G_STRUCT_OFFSET (HlMetricsPanel, checks[1]));
  gtk_widget_class_bind_template_child_full (widget_class, "deletion_check", FALSE,
                                             G_STRUCT_OFFSET (HlMetricsPanel, checks[2]));
  gtk_widget_class_bind_template_child_full (widget_class, "insertion_check", FALSE,
                                             G_STRUCT_OFFSET (HlMetricsPanel, checks[3]));
  gtk_widget_class_bind_template_child_full (widget_class, "randomization_check", FALSE,
                                             G_STRUCT_OFFSET (HlMetricsPanel, checks[4]));
  gtk_widget_class_bind_template_child (widget_class, HlMetricsPanel, box);
  gtk_widget_class_bind_template_child (widget_class, HlMetricsPanel, progress_bar);
  gtk_widget_class_bind_template_child (widget_class, HlMetricsPanel, status_label);
  gtk_widget_class_bind_template_child (widget_class, HlMetricsPanel, plots_area);
  gtk_widget_class_bind_template_callback (widget_class, metric_toggled_cb);
  gtk_widget_class_set_layout_manager_type (widget_class, GTK_TYPE_BIN_LAYOUT);
}

static void
hl_metrics_panel_init (HlMetricsPanel *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
  self->metrics = HL_METRIC_ALL;
  gtk_drawing_area_set_draw_func (self->plots_area, draw_plots, self, NULL);
  g_signal_connect (self->plots_area, "resize", G_CALLBACK (resize_cb), self);
  gtk_widget_set_visible (GTK_WIDGET (self->progress_bar), FALSE);
  update_size (self);
}
