/* HlMetricsPanel: "Can I believe this map?" for the result shown — the
 * trust metrics of the library's evaluation (evaluation.h: infidelity,
 * sensitivity, deletion/insertion curves, the randomisation check),
 * computed by HlWorker in the background while the panel is active, drawn
 * as the plots page every front end draws (evaluation-page.h), growing as
 * each metric, curve batch and randomisation stage arrives.
 *
 * It decides nothing: the metrics' settings are hl_evaluation_opts_init's
 * (the CLI's defaults), so its numbers are `heatlens-cli evaluate`'s for
 * the same request. Signal "ready": a finished evaluation is shown. */
#pragma once

#include <gtk/gtk.h>
#include "evaluation-page.h"
#include "heatlens-classifier.h"
#include "heatlens-prediction.h"
#include "heatlens-result.h"
#include "heatlens-worker.h"

G_BEGIN_DECLS

#define HL_TYPE_METRICS_PANEL (hl_metrics_panel_get_type ())
G_DECLARE_FINAL_TYPE (HlMetricsPanel, hl_metrics_panel, HL, METRICS_PANEL, GtkWidget)

GtkWidget           *hl_metrics_panel_new            (HlWorker        *worker);

/* The result to evaluate, with what produced it (NULL result: nothing;
 * a running evaluation of another result is cancelled). */
void                 hl_metrics_panel_set_result     (HlMetricsPanel  *self,
                                                      HlClassifier    *classifier,
                                                      HlPrediction    *prediction,
                                                      HlResult        *result,
                                                      const char      *image_name);
/* Computes only while active (its page is shown). */
void                 hl_metrics_panel_set_active     (HlMetricsPanel  *self,
                                                      gboolean         active);
/* HL_METRIC_* bits, as the check buttons (0 is refused). */
void                 hl_metrics_panel_set_metrics    (HlMetricsPanel  *self,
                                                      int              metrics);
int                  hl_metrics_panel_get_metrics    (HlMetricsPanel  *self);
/* Stops a running evaluation (the engine is wanted elsewhere); it starts
 * again when the panel is next asked to show a result. */
void                 hl_metrics_panel_cancel         (HlMetricsPanel  *self);
gboolean             hl_metrics_panel_get_running    (HlMetricsPanel  *self);

/* The finished evaluation of the result set last, or NULL. */
const hl_evaluation *hl_metrics_panel_get_evaluation (HlMetricsPanel  *self);
/* The page as drawn now (partial while running), or NULL. */
const hl_metric_plots *hl_metrics_panel_get_plots    (HlMetricsPanel  *self);

G_END_DECLS
