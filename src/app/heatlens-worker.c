/* HlWorker: see heatlens-worker.h. The shape follows gnome-text-editor's
 * background jobs: inputs copied into a job, a GCancellable per run, the
 * owner reached only through a weak reference from the thread's side, and
 * delivery on the main context with a check that the run is still the
 * current one. */
#include "heatlens-worker.h"
#include "heatlens-error.h"

#include <string.h>

typedef enum { JOB_CLASSIFY, JOB_EXPLAIN, JOB_PROBE, JOB_EVALUATE } JobKind;

/* Classify and explain jobs are current one at a time; probes and
 * evaluations run beside them. */
#define JOB_IS_CURRENT_KIND(kind) ((kind) == JOB_CLASSIFY || (kind) == JOB_EXPLAIN)

typedef struct
{
  JobKind              kind;
  GWeakRef             worker_wr;      /* progress reaches the worker while it lives */
  GMainContext        *context;        /* where the job was started: progress goes there */
  GCancellable        *cancellable;    /* the run's own */
  gulong               cancel_id;      /* its handler that raises cancel_flag */
  volatile int         cancel_flag;    /* polled by the library between batches */
  GAsyncReadyCallback  callback;
  gpointer             user_data;
  gboolean             was_current;    /* still the current job when delivered */
  gint64               start_us;

  HlClassifier        *classifier;
  HlPhoto             *photo;
  HlPrediction        *prediction;
  hl_attr_request      request;        /* explain: prepared by the caller; our copy */
  char                *key;            /* explain: the cache key */
  char                *layer;          /* probe: the layer, cell and answer */
  int                  h, w, channel;
  float                activation;

  gint                 fraction_millis;   /* last progress, 0..1000000 */
  gint                 progress_pending;  /* a progress source is queued */

  /* evaluate: the result, the options, the answer and its partial copies */
  HlResult            *result;
  hl_evaluation_opts   eval_opts;
  hl_evaluation       *evaluation;
  GMutex               partial_lock;
  hl_evaluation       *partial;           /* newest copy, not yet delivered */
  double               partial_fraction;
  HlEvaluationProgress eval_progress;
  gpointer             eval_progress_data;
  /* explain: the newest estimate not yet delivered (worker thread writes,
   * main context takes), under estimate_lock */
  GMutex               estimate_lock;
  hl_attr_result       estimate;          /* owns estimate.attr */
  int                  estimate_done, estimate_total;
  const char          *estimate_unit;
  gboolean             estimate_pending;  /* a delivery source is queued */
  gint64               estimate_shown_us; /* when the last one was delivered */
} Job;

struct _HlWorker
{
  GObject  parent_instance;
  GMutex   engine_lock;  /* jobs take turns on the engine's threads */
  hl_threadpool *pool;   /* the engine's threads, kept for every job */
  Job     *current;      /* a reference; NULL when idle */
  double   fraction;
  guint    n_running;
};

G_DEFINE_FINAL_TYPE (HlWorker, hl_worker, G_TYPE_OBJECT)

enum { PROP_0, PROP_BUSY, PROP_FRACTION, PROP_N_RUNNING, N_PROPS };
static GParamSpec *properties[N_PROPS];

enum { SIG_CANCELLED, SIG_ESTIMATE, N_SIGNALS };
static guint signals[N_SIGNALS];

/* ------------------------------------------------------------- engine */

/* The one place the window makes engine runs itself (classify; explain
 * runs inside the library): every job's kernels share the worker's
 * persistent thread pool, which the engine lock keeps to one job at a
 * time (a shared pool serves one call at a time). */
static hl_run *
worker_new_run (HlWorker       *self,
                const hl_model *model)
{
  return hl_run_new_shared (model, self->pool);
}

/* The same for the runs hl_attribute makes inside the library. */
static void
worker_attr_threads (HlWorker        *self,
                     hl_attr_context *ctx)
{
  ctx->threads = 0;
  ctx->threadpool = self->pool;
}

/* ------------------------------------------------------------- jobs */

static void
job_clear (gpointer data)
{
  Job *job = data;

  if (job->cancel_id)
    g_cancellable_disconnect (job->cancellable, job->cancel_id);
  g_clear_object (&job->cancellable);
  g_weak_ref_clear (&job->worker_wr);
  g_clear_pointer (&job->context, g_main_context_unref);
  g_clear_object (&job->classifier);
  g_clear_object (&job->photo);
  g_clear_pointer (&job->prediction, hl_prediction_unref);
  hl_attr_request_clear (&job->request);
  g_free (job->key);
  g_free (job->layer);
  g_clear_pointer (&job->result, hl_result_unref);
  g_clear_pointer (&job->evaluation, hl_worker_evaluation_free);
  g_clear_pointer (&job->partial, hl_worker_evaluation_free);
  g_mutex_clear (&job->partial_lock);
  hl_attr_result_clear (&job->estimate);
  g_mutex_clear (&job->estimate_lock);
}

static Job *
job_new (JobKind kind)
{
  Job *job = g_atomic_rc_box_new0 (Job);

  job->kind = kind;
  g_mutex_init (&job->partial_lock);
  g_mutex_init (&job->estimate_lock);
  return job;
}

static Job *
job_ref (Job *job)
{
  return g_atomic_rc_box_acquire (job);
}

static void
job_unref (gpointer job)
{
  g_atomic_rc_box_release_full (job, job_clear);
}

/* Any thread: the run's cancellable was cancelled. */
static void
job_raise_cancel_flag (GCancellable *cancellable,
                       Job          *job)
{
  g_atomic_int_set ((gint *) &job->cancel_flag, 1);
}

static gboolean
deliver_progress (gpointer data)
{
  Job *job = data;
  g_autoptr(HlWorker) self = g_weak_ref_get (&job->worker_wr);

  g_atomic_int_set (&job->progress_pending, 0);
  if (self && self->current == job)
    {
      self->fraction = g_atomic_int_get (&job->fraction_millis) / 1e6;
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_FRACTION]);
    }
  return G_SOURCE_REMOVE;
}

/* Worker thread: called by the library between batches. Coalesces: at
 * most one source is queued at a time, it reads the newest fraction. */
/* Any thread: run `deliver` on the job's main context after `delay_ms`
 * (0: when idle), holding a reference to the job until it has run. */
static void
job_schedule (Job         *job,
              GSourceFunc  deliver,
              guint        delay_ms)
{
  GSource *source = delay_ms > 0 ? g_timeout_source_new (delay_ms) : g_idle_source_new ();

  g_source_set_priority (source, G_PRIORITY_DEFAULT);
  g_source_set_callback (source, deliver, job_ref (job), job_unref);
  g_source_attach (source, job->context);
  g_source_unref (source);
}

static void
job_progress (void   *user,
              double  fraction)
{
  Job *job = user;

  g_atomic_int_set (&job->fraction_millis, (gint) (CLAMP (fraction, 0.0, 1.0) * 1e6));
  if (g_atomic_int_compare_and_exchange (&job->progress_pending, 0, 1))
    job_schedule (job, deliver_progress, 0);
}

/* The result's description from the job (main context or worker
 * thread: it only reads what the job holds). */
static void
job_describe (Job      *job,
              HlResult *res)
{
  res->method = g_strdup (job->request.method->name);
  res->params = job->request.params;
  res->key = g_strdup (job->key);
  res->target_label = g_strdup (hl_classifier_get_label (job->classifier, res->attr.target));
  res->photo_name = g_strdup (hl_photo_get_name (job->photo));
  res->model_name = g_strdup (hl_classifier_get_name (job->classifier));
  res->photo_serial = hl_photo_get_serial (job->photo);
}

/* Main context: the newest estimate of a job, as an HlResult, to the
 * "estimate" handlers while the job is the current one. */
static gboolean
deliver_estimate (gpointer data)
{
  Job *job = data;
  g_autoptr(HlWorker) self = g_weak_ref_get (&job->worker_wr);
  g_autoptr(HlResult) res = hl_result_new ();

  g_mutex_lock (&job->estimate_lock);
  res->attr = job->estimate;
  memset (&job->estimate, 0, sizeof job->estimate);
  res->done = job->estimate_done;
  res->total = job->estimate_total;
  res->unit = job->estimate_unit;
  job->estimate_pending = FALSE;
  job->estimate_shown_us = g_get_monotonic_time ();
  g_mutex_unlock (&job->estimate_lock);
  if (self && self->current == job && res->attr.attr)
    {
      job_describe (job, res);
      if (res->attr.target >= 0 && res->attr.target < job->prediction->n_classes)
        res->attr.target_prob = job->prediction->probs[res->attr.target];
      res->elapsed = (g_get_monotonic_time () - job->start_us) / 1e6;
      g_signal_emit (self, signals[SIG_ESTIMATE], 0, res);
    }
  return G_SOURCE_REMOVE;
}

/* Worker thread: the library's intermediate estimate (hl_attr_partial),
 * valid only during this call, is copied into the job, replacing one not
 * yet delivered. At most one delivery is queued; it comes at once for the
 * first estimate, then at least ESTIMATE_INTERVAL_MS after the last one,
 * so a method reporting every few milliseconds does not flood the main
 * loop with renders. The last estimate (done == total) is the result,
 * which _finish delivers. */
#define ESTIMATE_INTERVAL_MS 150

static void
job_estimate (void                  *user,
              const hl_attr_partial *e)
{
  Job *job = user;
  hl_array *copy;
  gboolean schedule;
  gint64 wait_us = 0;

  if (e->done >= e->total || g_atomic_int_get (&job->cancel_flag))
    return;
  copy = hl_array_copy (e->attr);
  if (copy == NULL)
    return;   /* out of memory: this estimate is skipped, the run goes on */
  g_mutex_lock (&job->estimate_lock);
  hl_attr_result_clear (&job->estimate);
  job->estimate.attr = copy;
  job->estimate.is_layer = e->is_layer;
  job->estimate.target = e->target;
  job->estimate.has_delta = e->has_delta;
  job->estimate.delta = e->delta;
  job->estimate_done = e->done;
  job->estimate_total = e->total;
  job->estimate_unit = e->unit;
  schedule = !job->estimate_pending;
  job->estimate_pending = TRUE;
  if (job->estimate_shown_us > 0)
    wait_us = job->estimate_shown_us + ESTIMATE_INTERVAL_MS * 1000 - g_get_monotonic_time ();
  g_mutex_unlock (&job->estimate_lock);
  if (schedule)
    job_schedule (job, deliver_estimate, wait_us > 0 ? (guint) (wait_us / 1000) : 0);
}

static hl_status
run_classify (HlWorker      *self,
              Job           *job,
              HlPrediction **out,
              hl_error      *err)
{
  const hl_model *model = hl_classifier_get_model (job->classifier);
  g_autoptr(HlPrediction) pred = hl_prediction_new ();
  const float *logits;
  hl_run *run;
  hl_status st;
  int n = hl_classifier_get_n_classes (job->classifier);

  st = hl_preprocess_apply (hl_classifier_get_preprocess (job->classifier),
                            hl_photo_get_image (job->photo), &pred->input,
                            &pred->map, &pred->image01, err);
  if (st != HL_OK)
    return st;
  run = worker_new_run (self, model);
  if (run == NULL)
    return hl_error_set (err, HL_ERR_NOMEM, "%s: cannot allocate a run",
                         hl_model_name (model));
  st = hl_run_forward (run, pred->input->data, 1, err);
  if (st == HL_OK)
    {
      g_autofree double *probs = g_new (double, n);

      logits = hl_run_value (run, hl_model_output_value (model), NULL);
      pred->n_classes = n;
      /* the library's one rule for logits vs probabilities */
      st = hl_class_probabilities (model, logits, n, probs, err);
      pred->probs = g_new (float, n);
      for (int i = 0; i < n; i++)
        pred->probs[i] = (float) probs[i];
      pred->n_top = MIN (HL_PREDICTION_TOP, n);
      hl_top_k (probs, n, pred->n_top, pred->top);
      pred->photo_serial = hl_photo_get_serial (job->photo);
      pred->classifier_serial = hl_classifier_get_serial (job->classifier);
      if (st == HL_OK)
        *out = g_steal_pointer (&pred);
    }
  hl_run_free (run);
  return st;
}

static hl_status
run_explain (HlWorker  *self,
             Job       *job,
             HlResult **out,
             hl_error  *err)
{
  const hl_preprocess *pp = hl_classifier_get_preprocess (job->classifier);
  g_autoptr(HlResult) res = hl_result_new ();
  hl_attr_context ctx = { 0 };
  hl_status st;

  ctx.mean = pp->mean;
  ctx.std = pp->std;
  ctx.pixel_scale = pp->scale;
  ctx.image01 = job->prediction->image01;
  ctx.progress = job_progress;
  ctx.intermediate = job_estimate;
  ctx.progress_user = job;
  ctx.cancel = &job->cancel_flag;
  worker_attr_threads (self, &ctx);
  st = hl_attribute_request (hl_classifier_get_model (job->classifier), &job->request,
                             job->prediction->input, &ctx, &res->attr, err);
  if (st != HL_OK)
    return st;
  job_describe (job, res);
  *out = g_steal_pointer (&res);
  return HL_OK;
}

/* The library's rule (hl_strongest_channel, the CLI's default neuron's
 * too) runs the forward pass itself. */
static hl_status
run_probe (HlWorker *self,
           Job      *job,
           hl_error *err)
{
  return hl_strongest_channel (hl_classifier_get_model (job->classifier),
                               job->prediction->input, job->layer, job->h, job->w,
                               &job->channel, &job->activation, err);
}

void
hl_worker_evaluation_free (hl_evaluation *evaluation)
{
  if (evaluation == NULL)
    return;
  hl_evaluation_clear (evaluation);
  g_free (evaluation);
}

/* Main context: the newest partial evaluation to the caller, unless the
 * job was cancelled since. */
static gboolean
deliver_partial (gpointer data)
{
  Job *job = data;
  hl_evaluation *partial;
  double fraction;

  g_mutex_lock (&job->partial_lock);
  partial = g_steal_pointer (&job->partial);
  fraction = job->partial_fraction;
  g_mutex_unlock (&job->partial_lock);
  if (partial && job->eval_progress && !g_cancellable_is_cancelled (job->cancellable))
    job->eval_progress (fraction, partial, job->eval_progress_data);
  hl_worker_evaluation_free (partial);
  return G_SOURCE_REMOVE;
}

/* Worker thread (hl_evaluation_watch): a copy of the evaluation as it
 * stands replaces the undelivered one; one source delivers the newest. */
static void
evaluation_watch (void                *user,
                  double               fraction,
                  const hl_evaluation *e)
{
  Job *job = user;
  hl_evaluation *copy = g_new0 (hl_evaluation, 1);
  gboolean schedule;
  hl_error err = { 0 };

  if (job->eval_progress == NULL || hl_evaluation_copy (copy, e, &err) != HL_OK)
    {
      g_free (copy);
      return;
    }
  g_mutex_lock (&job->partial_lock);
  schedule = job->partial == NULL;
  g_clear_pointer (&job->partial, hl_worker_evaluation_free);
  job->partial = copy;
  job->partial_fraction = fraction;
  g_mutex_unlock (&job->partial_lock);
  if (schedule)
    job_schedule (job, deliver_partial, 0);
}

static hl_status
run_evaluate (HlWorker *self,
              Job      *job,
              hl_error *err)
{
  const hl_preprocess *pp = hl_classifier_get_preprocess (job->classifier);
  hl_attr_context ctx = { 0 };
  HlResult *r = job->result;

  ctx.mean = pp->mean;
  ctx.std = pp->std;
  ctx.pixel_scale = pp->scale;
  ctx.image01 = job->prediction->image01;
  ctx.cancel = &job->cancel_flag;
  worker_attr_threads (self, &ctx);
  job->evaluation = g_new0 (hl_evaluation, 1);
  return hl_evaluate (hl_classifier_get_model (job->classifier), job->prediction->input,
                      r->method, &r->params, &r->attr, &ctx, &job->eval_opts,
                      evaluation_watch, job, job->evaluation, err);
}

static void
job_thread (GTask        *task,
            gpointer      source_object,
            gpointer      task_data,
            GCancellable *cancellable)
{
  HlWorker *self = source_object;
  Job *job = task_data;
  hl_error err = { 0 };
  hl_status st;
  HlPrediction *prediction = NULL;
  HlResult *result = NULL;
  GError *error = NULL;

  g_mutex_lock (&self->engine_lock);
  if (g_atomic_int_get (&job->cancel_flag))
    st = hl_error_set (&err, HL_ERR_CANCELLED, "cancelled");
  else if (job->kind == JOB_CLASSIFY)
    st = run_classify (self, job, &prediction, &err);
  else if (job->kind == JOB_EXPLAIN)
    st = run_explain (self, job, &result, &err);
  else if (job->kind == JOB_EVALUATE)
    st = run_evaluate (self, job, &err);
  else
    st = run_probe (self, job, &err);
  g_mutex_unlock (&self->engine_lock);

  if (st == HL_OK && job->kind == JOB_CLASSIFY)
    g_task_return_pointer (task, prediction, (GDestroyNotify) hl_prediction_unref);
  else if (st == HL_OK && job->kind == JOB_EXPLAIN)
    g_task_return_pointer (task, result, (GDestroyNotify) hl_result_unref);
  else if (st == HL_OK)
    g_task_return_boolean (task, TRUE);
  else
    {
      if (err.status == HL_OK)
        err.status = st;
      hl_app_error_from_hl (&error, &err);
      g_task_return_error (task, error);
    }
}

/* Main context, once the thread has returned: the bookkeeping, then the
 * caller's callback. */
static void
job_done (GObject      *source,
          GAsyncResult *result,
          gpointer      user_data)
{
  HlWorker *self = HL_WORKER (source);
  Job *job = g_task_get_task_data (G_TASK (result));

  self->n_running--;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_N_RUNNING]);
  if (g_cancellable_is_cancelled (job->cancellable))
    g_signal_emit (self, signals[SIG_CANCELLED], 0);
  job->was_current = self->current == job;
  if (job->was_current)
    {
      g_clear_pointer (&self->current, job_unref);
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_BUSY]);
    }
  if (job->callback)
    job->callback (source, result, job->user_data);
}

static void
job_start (HlWorker            *self,
           Job                 *job,
           GCancellable        *cancellable,
           GAsyncReadyCallback  callback,
           gpointer             user_data,
           gpointer             source_tag)
{
  g_autoptr(GTask) task = NULL;

  if (JOB_IS_CURRENT_KIND (job->kind))
    hl_worker_cancel (self);
  job->cancellable = cancellable ? g_object_ref (cancellable) : g_cancellable_new ();
  job->cancel_id = g_cancellable_connect (job->cancellable, G_CALLBACK (job_raise_cancel_flag),
                                          job, NULL);
  g_weak_ref_init (&job->worker_wr, self);
  job->context = g_main_context_ref_thread_default ();
  job->callback = callback;
  job->user_data = user_data;
  job->start_us = g_get_monotonic_time ();

  task = g_task_new (self, job->cancellable, job_done, NULL);
  g_task_set_source_tag (task, source_tag);
  g_task_set_task_data (task, job, job_unref);
  self->n_running++;
  if (JOB_IS_CURRENT_KIND (job->kind))
    {
      self->current = job_ref (job);
      self->fraction = 0;
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_FRACTION]);
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_BUSY]);
    }
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_N_RUNNING]);
  g_task_run_in_thread (task, job_thread);
}

/* _finish: a classify or explain job that is no longer the current one
 * delivers nothing (even when its thread got to the end). */
static gpointer
job_finish_pointer (HlWorker      *self,
                    GAsyncResult  *result,
                    gpointer       source_tag,
                    GError       **error)
{
  Job *job;

  g_return_val_if_fail (g_task_is_valid (result, self), NULL);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == source_tag, NULL);
  job = g_task_get_task_data (G_TASK (result));
  if (!job->was_current)
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_CANCELLED,
                           "superseded by a newer request");
      return NULL;
    }
  return g_task_propagate_pointer (G_TASK (result), error);
}

/* ------------------------------------------------------------- API */

HlWorker *
hl_worker_new (void)
{
  return g_object_new (HL_TYPE_WORKER, NULL);
}

void
hl_worker_classify_async (HlWorker            *self,
                          HlClassifier        *classifier,
                          HlPhoto             *photo,
                          GCancellable        *cancellable,
                          GAsyncReadyCallback  callback,
                          gpointer             user_data)
{
  Job *job = job_new (JOB_CLASSIFY);

  g_return_if_fail (HL_IS_WORKER (self));
  job->classifier = g_object_ref (classifier);
  job->photo = g_object_ref (photo);
  job_start (self, job, cancellable, callback, user_data, hl_worker_classify_async);
}

HlPrediction *
hl_worker_classify_finish (HlWorker      *self,
                           GAsyncResult  *result,
                           GError       **error)
{
  return job_finish_pointer (self, result, hl_worker_classify_async, error);
}

void
hl_worker_explain_async (HlWorker              *self,
                         HlClassifier          *classifier,
                         HlPhoto               *photo,
                         HlPrediction          *prediction,
                         const hl_attr_request *request,
                         const char            *key,
                         GCancellable          *cancellable,
                         GAsyncReadyCallback    callback,
                         gpointer               user_data)
{
  Job *job = job_new (JOB_EXPLAIN);
  hl_error err = { 0 };

  g_return_if_fail (HL_IS_WORKER (self));
  job->classifier = g_object_ref (classifier);
  job->photo = g_object_ref (photo);
  job->prediction = hl_prediction_ref (prediction);
  if (hl_attr_request_copy (&job->request, request, &err) != HL_OK)
    g_error ("%s", err.msg);   /* out of memory, as g_new would */
  job->key = g_strdup (key);
  job_start (self, job, cancellable, callback, user_data, hl_worker_explain_async);
}

HlResult *
hl_worker_explain_finish (HlWorker      *self,
                          GAsyncResult  *result,
                          GError       **error)
{
  HlResult *res = job_finish_pointer (self, result, hl_worker_explain_async, error);
  Job *job = g_task_get_task_data (G_TASK (result));

  if (res)
    res->elapsed = (g_get_monotonic_time () - job->start_us) / 1e6;
  return res;
}

void
hl_worker_probe_async (HlWorker            *self,
                       HlClassifier        *classifier,
                       HlPrediction        *prediction,
                       const char          *layer,
                       int                  h,
                       int                  w,
                       GCancellable        *cancellable,
                       GAsyncReadyCallback  callback,
                       gpointer             user_data)
{
  Job *job = job_new (JOB_PROBE);

  g_return_if_fail (HL_IS_WORKER (self));
  job->classifier = g_object_ref (classifier);
  job->prediction = hl_prediction_ref (prediction);
  job->layer = g_strdup (layer);
  job->h = h;
  job->w = w;
  job_start (self, job, cancellable, callback, user_data, hl_worker_probe_async);
}

gboolean
hl_worker_probe_finish (HlWorker      *self,
                        GAsyncResult  *result,
                        int           *channel,
                        float         *activation,
                        GError       **error)
{
  Job *job;

  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == hl_worker_probe_async, FALSE);
  if (!g_task_propagate_boolean (G_TASK (result), error))
    return FALSE;
  job = g_task_get_task_data (G_TASK (result));
  if (channel)
    *channel = job->channel;
  if (activation)
    *activation = job->activation;
  return TRUE;
}

void
hl_worker_evaluate_async (HlWorker                 *self,
                          HlClassifier             *classifier,
                          HlPrediction             *prediction,
                          HlResult                 *result,
                          const hl_evaluation_opts *opts,
                          GCancellable             *cancellable,
                          HlEvaluationProgress      progress,
                          gpointer                  progress_data,
                          GAsyncReadyCallback       callback,
                          gpointer                  user_data)
{
  Job *job = job_new (JOB_EVALUATE);

  g_return_if_fail (HL_IS_WORKER (self));
  job->classifier = g_object_ref (classifier);
  job->prediction = hl_prediction_ref (prediction);
  job->result = hl_result_ref (result);
  job->eval_opts = *opts;
  job->eval_progress = progress;
  job->eval_progress_data = progress_data;
  job_start (self, job, cancellable, callback, user_data, hl_worker_evaluate_async);
}

hl_evaluation *
hl_worker_evaluate_finish (HlWorker      *self,
                           GAsyncResult  *result,
                           GError       **error)
{
  Job *job;

  g_return_val_if_fail (g_task_is_valid (result, self), NULL);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == hl_worker_evaluate_async, NULL);
  if (!g_task_propagate_boolean (G_TASK (result), error))
    return NULL;
  job = g_task_get_task_data (G_TASK (result));
  return g_steal_pointer (&job->evaluation);
}

void
hl_worker_cancel (HlWorker *self)
{
  Job *job = g_steal_pointer (&self->current);

  if (job == NULL)
    return;
  g_cancellable_cancel (job->cancellable);
  job_unref (job);
  self->fraction = 0;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_FRACTION]);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_BUSY]);
}

gboolean
hl_worker_get_busy (HlWorker *self)
{
  return self->current != NULL;
}

const char *
hl_worker_get_current_key (HlWorker *self)
{
  return self->current && self->current->kind == JOB_EXPLAIN ? self->current->key : NULL;
}

double
hl_worker_get_elapsed (HlWorker *self)
{
  if (self->current == NULL)
    return 0;
  return (g_get_monotonic_time () - self->current->start_us) / 1e6;
}

double
hl_worker_get_fraction (HlWorker *self)
{
  return self->fraction;
}

guint
hl_worker_get_n_running (HlWorker *self)
{
  return self->n_running;
}

/* ------------------------------------------------------------- GObject */

static void
hl_worker_dispose (GObject *object)
{
  hl_worker_cancel (HL_WORKER (object));
  G_OBJECT_CLASS (hl_worker_parent_class)->dispose (object);
}

static void
hl_worker_finalize (GObject *object)
{
  HlWorker *self = HL_WORKER (object);

  g_clear_pointer (&self->pool, hl_threadpool_free);
  g_mutex_clear (&self->engine_lock);
  G_OBJECT_CLASS (hl_worker_parent_class)->finalize (object);
}

static void
hl_worker_get_property (GObject    *object,
                        guint       prop_id,
                        GValue     *value,
                        GParamSpec *pspec)
{
  HlWorker *self = HL_WORKER (object);

  switch (prop_id)
    {
    case PROP_BUSY:
      g_value_set_boolean (value, hl_worker_get_busy (self));
      break;
    case PROP_FRACTION:
      g_value_set_double (value, self->fraction);
      break;
    case PROP_N_RUNNING:
      g_value_set_uint (value, self->n_running);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
hl_worker_class_init (HlWorkerClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = hl_worker_dispose;
  object_class->finalize = hl_worker_finalize;
  object_class->get_property = hl_worker_get_property;

  properties[PROP_BUSY] =
    g_param_spec_boolean ("busy", NULL, NULL, FALSE,
                          G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  properties[PROP_FRACTION] =
    g_param_spec_double ("fraction", NULL, NULL, 0, 1, 0,
                         G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  properties[PROP_N_RUNNING] =
    g_param_spec_uint ("n-running", NULL, NULL, 0, G_MAXUINT, 0,
                       G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  signals[SIG_CANCELLED] =
    g_signal_new ("cancelled", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 0);
  signals[SIG_ESTIMATE] =
    g_signal_new ("estimate", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 1, HL_TYPE_RESULT);
}

static void
hl_worker_init (HlWorker *self)
{
  g_mutex_init (&self->engine_lock);
  self->pool = hl_threadpool_new (0);
}
