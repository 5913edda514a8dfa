#include "heatlens-worker.h"
#include "heatlens-error.h"

#include <math.h>
#include <string.h>

typedef enum { JOB_PREDICT, JOB_ATTRIBUTE } JobKind;

typedef struct
{
  JobKind         kind;
  GWeakRef        worker;
  guint           generation;
  gint64          start_us;
  HlClassifier   *classifier;
  HlPhoto        *photo;
  HlPrediction   *prediction;
  hl_attr_request request;           /* prepared by the caller; our copy */
  char           *key;
  volatile int    cancel;            /* read by the library, set by us */
  gint            fraction_millis;   /* last progress, 0..1000000 */
  gint            progress_pending;  /* an idle is already queued */
} Job;

struct _HlWorker
{
  GObject  parent_instance;
  guint    generation;       /* of the current job; 0 = none yet */
  Job     *current;          /* a reference, NULL when idle */
  guint    n_running;
  double   fraction;
};

G_DEFINE_FINAL_TYPE (HlWorker, hl_worker, G_TYPE_OBJECT)

enum { PROP_0, PROP_BUSY, N_PROPS };
static GParamSpec *properties[N_PROPS];

enum { SIG_PROGRESS, SIG_PREDICTED, SIG_FINISHED, SIG_FAILED, SIG_CANCELLED, N_SIGNALS };
static guint signals[N_SIGNALS];

/* ------------------------------------------------------------- jobs */

static void
job_clear (gpointer data)
{
  Job *job = data;

  g_weak_ref_clear (&job->worker);
  g_clear_object (&job->classifier);
  g_clear_object (&job->photo);
  g_clear_pointer (&job->prediction, hl_prediction_unref);
  hl_attr_request_clear (&job->request);
  g_free (job->key);
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

/* Main context: is this job still the worker's current one? Returns a
 * strong ref to the worker when it is. */
static HlWorker *
job_get_current_worker (Job *job)
{
  HlWorker *self = g_weak_ref_get (&job->worker);

  if (self && self->current == job)
    return self;
  g_clear_object (&self);
  return NULL;
}

static gboolean
deliver_progress (gpointer data)
{
  Job *job = data;
  g_autoptr(HlWorker) self = NULL;

  g_atomic_int_set (&job->progress_pending, 0);
  self = job_get_current_worker (job);
  if (self)
    {
      self->fraction = g_atomic_int_get (&job->fraction_millis) / 1e6;
      g_signal_emit (self, signals[SIG_PROGRESS], 0, self->fraction);
    }
  return G_SOURCE_REMOVE;
}

/* Worker thread: called by the library between batches. Coalesces: at most
 * one idle is queued at a time, it reads the newest fraction. */
static void
job_progress (void   *user,
              double  fraction)
{
  Job *job = user;

  g_atomic_int_set (&job->fraction_millis, (gint) (CLAMP (fraction, 0.0, 1.0) * 1e6));
  if (g_atomic_int_compare_and_exchange (&job->progress_pending, 0, 1))
    g_idle_add_full (G_PRIORITY_DEFAULT, deliver_progress, job_ref (job), job_unref);
}

static hl_status
run_predict (Job           *job,
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
  run = hl_run_new (model, 0);
  if (run == NULL)
    return hl_error_set (err, HL_ERR_NOMEM, "%s: cannot allocate a run",
                         hl_model_name (model));
  st = hl_run_forward (run, pred->input->data, 1, err);
  if (st == HL_OK)
    {
      logits = hl_run_value (run, hl_model_output_value (model), NULL);
      pred->n_classes = n;
      g_autofree double *probs = g_new (double, n);

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
run_attribute (Job       *job,
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
  ctx.progress_user = job;
  ctx.cancel = &job->cancel;
  ctx.threads = 0;
  st = hl_attribute_request (hl_classifier_get_model (job->classifier), &job->request,
                             job->prediction->input, &ctx, &res->attr, err);
  if (st != HL_OK)
    return st;
  res->method = g_strdup (job->request.method->name);
  res->params = job->request.params;
  res->key = g_strdup (job->key);
  res->target_label = g_strdup (hl_classifier_get_label (job->classifier, res->attr.target));
  res->photo_name = g_strdup (hl_photo_get_name (job->photo));
  res->model_name = g_strdup (hl_classifier_get_name (job->classifier));
  res->photo_serial = hl_photo_get_serial (job->photo);
  *out = g_steal_pointer (&res);
  return HL_OK;
}

static void
job_thread (GTask        *task,
            gpointer      source_object,
            gpointer      task_data,
            GCancellable *cancellable)
{
  Job *job = task_data;
  hl_error err = { 0 };
  hl_status st;
  GError *error = NULL;

  if (job->kind == JOB_PREDICT)
    {
      HlPrediction *pred = NULL;

      st = run_predict (job, &pred, &err);
      if (st == HL_OK)
        {
          g_task_return_pointer (task, pred, (GDestroyNotify) hl_prediction_unref);
          return;
        }
    }
  else
    {
      HlResult *res = NULL;

      st = run_attribute (job, &res, &err);
      if (st == HL_OK)
        {
          g_task_return_pointer (task, res, (GDestroyNotify) hl_result_unref);
          return;
        }
    }
  if (err.status == HL_OK)
    err.status = st;
  hl_app_error_from_hl (&error, &err);
  g_task_return_error (task, error);
}

/* Main context, when the thread has returned. */
static void
job_done (GObject      *source,
          GAsyncResult *result,
          gpointer      user_data)
{
  GTask *task = G_TASK (result);
  Job *job = g_task_get_task_data (task);
  g_autoptr(HlWorker) any = g_weak_ref_get (&job->worker);
  g_autoptr(HlWorker) self = job_get_current_worker (job);
  g_autoptr(GError) error = NULL;
  gpointer value = g_task_propagate_pointer (task, &error);

  if (any)
    any->n_running--;

  if (error && g_error_matches (error, HL_APP_ERROR, HL_ERR_CANCELLED))
    {
      if (self)
        {
          g_clear_pointer (&self->current, job_unref);
          g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_BUSY]);
        }
      if (any)
        g_signal_emit (any, signals[SIG_CANCELLED], 0);
      return;
    }
  if (self == NULL)
    {
      /* superseded: drop the value */
      if (value)
        (job->kind == JOB_PREDICT ? (GDestroyNotify) hl_prediction_unref
                                  : (GDestroyNotify) hl_result_unref) (value);
      return;
    }

  g_clear_pointer (&self->current, job_unref);
  if (error)
    g_signal_emit (self, signals[SIG_FAILED], 0, error);
  else if (job->kind == JOB_PREDICT)
    {
      g_autoptr(HlPrediction) pred = value;

      g_signal_emit (self, signals[SIG_PREDICTED], 0, pred);
    }
  else
    {
      g_autoptr(HlResult) res = value;

      res->elapsed = (g_get_monotonic_time () - job->start_us) / 1e6;
      g_signal_emit (self, signals[SIG_FINISHED], 0, res);
    }
  if (self->current == NULL)
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_BUSY]);
}

static void
submit (HlWorker *self,
        Job      *job)
{
  g_autoptr(GTask) task = NULL;

  hl_worker_cancel (self);
  g_weak_ref_init (&job->worker, self);
  job->generation = ++self->generation;
  job->start_us = g_get_monotonic_time ();
  self->current = job;           /* the task holds the other reference */
  self->fraction = 0;
  self->n_running++;

  task = g_task_new (NULL, NULL, job_done, NULL);
  g_task_set_source_tag (task, submit);
  g_task_set_task_data (task, job_ref (job), job_unref);
  g_task_run_in_thread (task, job_thread);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_BUSY]);
}

/* ------------------------------------------------------------- API */

HlWorker *
hl_worker_new (void)
{
  return g_object_new (HL_TYPE_WORKER, NULL);
}

void
hl_worker_predict (HlWorker     *self,
                   HlClassifier *classifier,
                   HlPhoto      *photo)
{
  Job *job = g_atomic_rc_box_new0 (Job);

  job->kind = JOB_PREDICT;
  job->classifier = g_object_ref (classifier);
  job->photo = g_object_ref (photo);
  submit (self, job);
}

void
hl_worker_attribute (HlWorker             *self,
                     HlClassifier         *classifier,
                     HlPhoto              *photo,
                     HlPrediction         *prediction,
                     const hl_attr_request *request,
                     const char           *key)
{
  Job *job = g_atomic_rc_box_new0 (Job);
  hl_error err = { 0 };

  job->kind = JOB_ATTRIBUTE;
  job->classifier = g_object_ref (classifier);
  job->photo = g_object_ref (photo);
  job->prediction = hl_prediction_ref (prediction);
  if (hl_attr_request_copy (&job->request, request, &err) != HL_OK)
    g_error ("%s", err.msg);   /* out of memory, as g_new would */
  job->key = g_strdup (key);
  submit (self, job);
}

void
hl_worker_cancel (HlWorker *self)
{
  Job *job = g_steal_pointer (&self->current);

  if (job == NULL)
    return;
  g_atomic_int_set ((gint *) &job->cancel, 1);
  job_unref (job);
  self->fraction = 0;
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
  return self->current && self->current->kind == JOB_ATTRIBUTE ? self->current->key : NULL;
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
hl_worker_get_property (GObject    *object,
                        guint       prop_id,
                        GValue     *value,
                        GParamSpec *pspec)
{
  switch (prop_id)
    {
    case PROP_BUSY:
      g_value_set_boolean (value, hl_worker_get_busy (HL_WORKER (object)));
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
  object_class->get_property = hl_worker_get_property;

  properties[PROP_BUSY] =
    g_param_spec_boolean ("busy", NULL, NULL, FALSE,
                          G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  signals[SIG_PROGRESS] =
    g_signal_new ("progress", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 1, G_TYPE_DOUBLE);
  signals[SIG_PREDICTED] =
    g_signal_new ("predicted", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 1, HL_TYPE_PREDICTION);
  signals[SIG_FINISHED] =
    g_signal_new ("finished", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 1, HL_TYPE_RESULT);
  signals[SIG_FAILED] =
    g_signal_new ("failed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 1, G_TYPE_ERROR);
  signals[SIG_CANCELLED] =
    g_signal_new ("cancelled", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 0);
}

static void
hl_worker_init (HlWorker *self)
{
}
