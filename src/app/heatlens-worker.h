/* HlWorker: runs the engine off the UI thread, the GIO way.
 *
 * Each job is an _async/_finish pair on a GTask run in a thread. A job
 * copies what it needs (the parameters) and holds references to the
 * classifier, photo and prediction, so they stay alive while it runs.
 *
 * Every run has its own GCancellable (the caller's, or a fresh one when
 * the caller passes NULL); cancelling it raises the atomic flag that the
 * library polls between engine batches (g_cancellable_connect), so the
 * thread stops at the next batch. Classify and explain jobs are "current"
 * one at a time: starting one cancels the previous one, and on delivery
 * (main context) _finish reports G_IO_ERROR_CANCELLED for a run that is no
 * longer the current one, so nothing stale is shown. Probes (the strongest
 * channel under a neuron) run beside the current job.
 *
 * The worker owns one engine thread pool for all its jobs (see
 * worker_new_run() in heatlens-worker.c, the one place engine runs are
 * made), so jobs take turns on it: a superseded run releases it at its
 * next poll. A running job keeps the worker (and so the pool) alive until
 * its thread returns; callers hold themselves weakly in their user_data.
 *
 * Properties (main context): busy (a current job is running), fraction
 * (its progress, 0..1), n-running (threads not yet returned, including
 * cancelled ones). Signals: "cancelled", a cancelled run has actually
 * stopped; "estimate" (HlResult *), the current explain job's newest
 * intermediate estimate (the library's hl_attr_partial, copied on the
 * worker thread and delivered through an idle or timeout source on the
 * main context: the first at once, then at most one per 150 ms; never
 * after the job stopped being the current one; total > 0 in the result). */
#pragma once

#include <gio/gio.h>
#include "attr.h"
#include "evaluation.h"
#include "heatlens-classifier.h"
#include "heatlens-photo.h"
#include "heatlens-prediction.h"
#include "heatlens-result.h"

G_BEGIN_DECLS

#define HL_TYPE_WORKER (hl_worker_get_type ())
G_DECLARE_FINAL_TYPE (HlWorker, hl_worker, HL, WORKER, GObject)

HlWorker     *hl_worker_new              (void);

/* Preprocess the photo for the model and classify it. */
void          hl_worker_classify_async   (HlWorker             *self,
                                          HlClassifier         *classifier,
                                          HlPhoto              *photo,
                                          GCancellable         *cancellable,
                                          GAsyncReadyCallback   callback,
                                          gpointer              user_data);
HlPrediction *hl_worker_classify_finish  (HlWorker             *self,
                                          GAsyncResult         *result,
                                          GError              **error);

/* hl_attribute_request on the prediction's input; the request (from
 * hl_attr_request_prepare, the CLI's path too) is copied. key (the cache
 * key of the request) is stored in the result. */
void          hl_worker_explain_async    (HlWorker             *self,
                                          HlClassifier         *classifier,
                                          HlPhoto              *photo,
                                          HlPrediction         *prediction,
                                          const hl_attr_request *request,
                                          const char           *key,
                                          GCancellable         *cancellable,
                                          GAsyncReadyCallback   callback,
                                          gpointer              user_data);
HlResult     *hl_worker_explain_finish   (HlWorker             *self,
                                          GAsyncResult         *result,
                                          GError              **error);

/* The channel of `layer` ([1,C,H,W]) that fires most at cell (h, w) for
 * the prediction's input (the library's hl_strongest_channel). Not a current job:
 * it neither cancels nor is cancelled by classify/explain. */
void          hl_worker_probe_async      (HlWorker             *self,
                                          HlClassifier         *classifier,
                                          HlPrediction         *prediction,
                                          const char           *layer,
                                          int                   h,
                                          int                   w,
                                          GCancellable         *cancellable,
                                          GAsyncReadyCallback   callback,
                                          gpointer              user_data);
gboolean      hl_worker_probe_finish     (HlWorker             *self,
                                          GAsyncResult         *result,
                                          int                  *channel,
                                          float                *activation,
                                          GError              **error);

/* Main context: a running evaluation as it stands (finished metrics, a
 * curve point by point, the randomisation stages so far) and the fraction
 * done. `partial` is valid during the call only. */
typedef void (*HlEvaluationProgress) (double               fraction,
                                      const hl_evaluation *partial,
                                      gpointer             data);

/* The library's evaluation (hl_evaluate) of `result` on the prediction's
 * input with `opts` (copied). Not a current job (as probes): it runs
 * beside classify/explain and is stopped through its cancellable; after
 * cancellation `progress` is not called again. _finish returns the
 * evaluation (free it with hl_worker_evaluation_free). */
void          hl_worker_evaluate_async   (HlWorker                 *self,
                                          HlClassifier             *classifier,
                                          HlPrediction             *prediction,
                                          HlResult                 *result,
                                          const hl_evaluation_opts *opts,
                                          GCancellable             *cancellable,
                                          HlEvaluationProgress      progress,
                                          gpointer                  progress_data,
                                          GAsyncReadyCallback       callback,
                                          gpointer                  user_data);
hl_evaluation *hl_worker_evaluate_finish (HlWorker                 *self,
                                          GAsyncResult             *result,
                                          GError                  **error);
void          hl_worker_evaluation_free  (hl_evaluation            *evaluation);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (hl_evaluation, hl_worker_evaluation_free)

/* Cancels the current job (if any): busy turns FALSE at once and the run
 * delivers G_IO_ERROR_CANCELLED. */
void          hl_worker_cancel           (HlWorker             *self);

gboolean      hl_worker_get_busy         (HlWorker             *self);
/* The cache key of the explanation running now, or NULL. */
const char   *hl_worker_get_current_key  (HlWorker             *self);
/* Seconds since the current job was started (0 when idle). */
double        hl_worker_get_elapsed      (HlWorker             *self);
double        hl_worker_get_fraction     (HlWorker             *self);
guint         hl_worker_get_n_running    (HlWorker             *self);

G_END_DECLS
