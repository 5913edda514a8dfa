/* HlWorker: runs the engine off the UI thread.
 *
 * One job at a time is "current": submitting a new one raises the cancel
 * flag of the previous run (polled by the library between batches) and
 * ignores anything it still delivers. A job copies what it needs (params)
 * and holds references to the classifier, photo and prediction, so they
 * stay alive while its thread runs. Progress and results come back to the
 * main context through idles; the worker itself is only weakly referenced
 * by running jobs.
 *
 * Signals (main context only, for the current job):
 *   progress  (double fraction)
 *   predicted (HlPrediction *)
 *   finished  (HlResult *)
 *   failed    (GError *)
 *   cancelled ()  — a cancelled run has actually stopped (any job)
 */
#pragma once

#include <glib-object.h>
#include "attr.h"
#include "heatlens-classifier.h"
#include "heatlens-photo.h"
#include "heatlens-prediction.h"
#include "heatlens-result.h"

G_BEGIN_DECLS

#define HL_TYPE_WORKER (hl_worker_get_type ())
G_DECLARE_FINAL_TYPE (HlWorker, hl_worker, HL, WORKER, GObject)

HlWorker *hl_worker_new        (void);

/* Preprocess the photo for the model and classify it. */
void      hl_worker_predict    (HlWorker             *self,
                                HlClassifier         *classifier,
                                HlPhoto              *photo);
/* hl_attribute_request on the prediction's input; the request (from
 * hl_attr_request_prepare, the CLI's path too) is copied. key is stored in
 * the result for the cache. */
void      hl_worker_attribute  (HlWorker             *self,
                                HlClassifier         *classifier,
                                HlPhoto              *photo,
                                HlPrediction         *prediction,
                                const hl_attr_request *request,
                                const char           *key);
/* Stop the current job (if any); it delivers nothing more. */
void      hl_worker_cancel     (HlWorker             *self);

gboolean  hl_worker_get_busy   (HlWorker             *self);
/* The cache key of the attribution running now, or NULL. */
const char *hl_worker_get_current_key (HlWorker      *self);
/* Seconds since the current job was submitted (0 when idle). */
double    hl_worker_get_elapsed (HlWorker            *self);
double    hl_worker_get_fraction (HlWorker           *self);
/* Threads still running, including cancelled ones not yet stopped. */
guint     hl_worker_get_n_running (HlWorker          *self);

G_END_DECLS
