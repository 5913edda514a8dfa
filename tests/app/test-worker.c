/* HlWorker on its own (no window, no display): its _async/_finish pairs
 * deliver on the main context, a run cancelled through its GCancellable
 * or superseded by a newer one delivers G_IO_ERROR_CANCELLED and nothing
 * else, busy and n-running follow, and what it computes matches what this
 * test computes itself with the engine (top-1 class, strongest channel). */
#include <string.h>

#include "engine.h"
#include "heatlens-data.h"
#include "heatlens-error.h"
#include "heatlens-worker.h"

#define GUARD_US (600 * G_USEC_PER_SEC)

static HlClassifier *classifier;
static HlPhoto *photo;

typedef struct
{
  gboolean      done;
  GAsyncResult *result;
} Delivery;

static void
delivered_cb (GObject      *source,
              GAsyncResult *result,
              gpointer      user_data)
{
  Delivery *d = user_data;

  g_assert_true (g_main_context_is_owner (g_main_context_default ()));
  d->done = TRUE;
  d->result = g_object_ref (result);
}

static void
wait_delivery (Delivery *d)
{
  gint64 end = g_get_monotonic_time () + GUARD_US;

  while (!d->done && g_get_monotonic_time () < end)
    g_main_context_iteration (NULL, TRUE);
  g_assert_true (d->done);
}

static HlPrediction *
classify (HlWorker *worker)
{
  Delivery d = { 0 };
  g_autoptr(GError) error = NULL;
  HlPrediction *p;

  hl_worker_classify_async (worker, classifier, photo, NULL, delivered_cb, &d);
  wait_delivery (&d);
  p = hl_worker_classify_finish (worker, d.result, &error);
  g_assert_no_error (error);
  g_clear_object (&d.result);
  return p;
}

/* A request prepared by the library (as the window and the CLI do), then
 * handed to the worker. */
static void
explain (HlWorker             *worker,
         HlPrediction         *p,
         const char           *method,
         const hl_attr_params *params,
         const char           *key,
         GCancellable         *cancellable,
         Delivery             *d)
{
  hl_attr_request request;

  g_assert_cmpint (hl_attr_request_prepare (&request, hl_classifier_get_model (classifier),
                                            method, params, NULL), ==, HL_OK);
  hl_worker_explain_async (worker, classifier, photo, p, &request, key, cancellable,
                           delivered_cb, d);
  hl_attr_request_clear (&request);
}

/* The engine's own output for the same input, by this test. */
static const float *
forward (hl_run *run, const HlPrediction *p)
{
  g_assert_cmpint (hl_run_forward (run, p->input->data, 1, NULL), ==, HL_OK);
  return hl_run_value (run, hl_model_output_value (hl_classifier_get_model (classifier)), NULL);
}

static void
test_classify (void)
{
  g_autoptr(HlWorker) worker = hl_worker_new ();
  g_autoptr(HlPrediction) p = classify (worker);
  const hl_model *m = hl_classifier_get_model (classifier);
  hl_run *run = hl_run_new (m, 1);
  const float *out = forward (run, p);
  int best = 0;

  for (int i = 1; i < p->n_classes; i++)
    if (out[i] > out[best])
      best = i;
  g_assert_cmpint (p->top[0], ==, best);
  g_assert_false (hl_worker_get_busy (worker));
  g_assert_cmpuint (hl_worker_get_n_running (worker), ==, 0);
  hl_run_free (run);
}

static void
count_cb (GObject *object, gpointer data)
{
  (*(guint *) data)++;
}

/* A second request while the first runs: the first delivers
 * G_IO_ERROR_CANCELLED (its thread stops at the library's next poll), the
 * second its result. */
static void
test_superseded (void)
{
  g_autoptr(HlWorker) worker = hl_worker_new ();
  g_autoptr(HlPrediction) p = classify (worker);
  g_autoptr(GError) error1 = NULL, error2 = NULL;
  g_autoptr(HlResult) r1 = NULL, r2 = NULL;
  Delivery d1 = { 0 }, d2 = { 0 };
  hl_attr_params slow, fast;
  guint n_cancelled = 0;

  g_signal_connect (worker, "cancelled", G_CALLBACK (count_cb), &n_cancelled);
  hl_attr_params_init (&slow);
  slow.n_steps = 1000;
  hl_attr_params_init (&fast);
  explain (worker, p, "integrated_gradients", &slow, "slow", NULL, &d1);
  g_assert_true (hl_worker_get_busy (worker));
  g_assert_cmpstr (hl_worker_get_current_key (worker), ==, "slow");
  explain (worker, p, "saliency", &fast, "fast", NULL, &d2);
  g_assert_cmpstr (hl_worker_get_current_key (worker), ==, "fast");
  wait_delivery (&d1);
  wait_delivery (&d2);
  r1 = hl_worker_explain_finish (worker, d1.result, &error1);
  r2 = hl_worker_explain_finish (worker, d2.result, &error2);
  g_assert_null (r1);
  g_assert_error (error1, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_no_error (error2);
  g_assert_nonnull (r2);
  g_assert_cmpstr (r2->method, ==, "saliency");
  g_assert_cmpstr (r2->key, ==, "fast");
  g_assert_cmpuint (n_cancelled, ==, 1);
  g_assert_false (hl_worker_get_busy (worker));
  g_assert_cmpuint (hl_worker_get_n_running (worker), ==, 0);
  g_clear_object (&d1.result);
  g_clear_object (&d2.result);
}

typedef struct
{
  guint     n, n_off_main, n_bad;
  HlResult *last;      /* a reference */
  gboolean  finished;  /* the job's result was delivered */
} Estimates;

static void
estimate_cb (HlWorker *worker,
             HlResult *r,
             gpointer  data)
{
  Estimates *e = data;

  e->n++;
  e->n_off_main += !g_main_context_is_owner (g_main_context_default ());
  /* an estimate: not the whole work, the request's description, a map of
   * the input's shape; never after the result */
  e->n_bad += r->total <= 0 || r->done < 1 || r->done >= r->total || e->finished ||
              g_strcmp0 (r->key, "refine") != 0 || g_strcmp0 (r->method, "integrated_gradients") != 0 ||
              r->attr.attr == NULL || r->attr.attr->shape.ndim != 4 ||
              (e->last && r->done <= e->last->done);
  g_clear_pointer (&e->last, hl_result_unref);
  e->last = hl_result_ref (r);
}

/* Estimates of the current explain job reach the main context, rising,
 * before its result; after a Cancel none comes. */
static void
test_estimates (void)
{
  g_autoptr(HlWorker) worker = hl_worker_new ();
  g_autoptr(HlPrediction) p = classify (worker);
  g_autoptr(GError) error = NULL;
  g_autoptr(HlResult) r = NULL;
  Estimates e = { 0 };
  Delivery d = { 0 };
  hl_attr_params params;
  guint n;
  gint64 end;

  g_signal_connect (worker, "estimate", G_CALLBACK (estimate_cb), &e);
  hl_attr_params_init (&params);
  params.n_steps = 40;
  params.internal_batch_size = 4;
  explain (worker, p, "integrated_gradients", &params, "refine", NULL, &d);
  wait_delivery (&d);
  e.finished = TRUE;
  r = hl_worker_explain_finish (worker, d.result, &error);
  g_assert_no_error (error);
  g_assert_nonnull (r);
  g_assert_cmpint (r->total, ==, 0);
  g_assert_cmpuint (e.n, >=, 1);
  g_assert_cmpuint (e.n_off_main, ==, 0);
  g_assert_cmpuint (e.n_bad, ==, 0);
  g_assert_cmpint (e.last->total, ==, 40 + 2);
  g_assert_true (e.last->attr.has_delta);
  /* spin a while longer: a delayed delivery of that job shows nothing */
  n = e.n;
  end = g_get_monotonic_time () + 300 * 1000;
  while (g_get_monotonic_time () < end)
    if (!g_main_context_iteration (NULL, FALSE))
      g_usleep (5000);
  g_assert_cmpuint (e.n, ==, n);
  g_clear_object (&d.result);

  /* cancelled after its first estimate: nothing more */
  g_clear_pointer (&e.last, hl_result_unref);
  memset (&e, 0, sizeof e);
  memset (&d, 0, sizeof d);
  params.n_steps = 1000;
  explain (worker, p, "integrated_gradients", &params, "refine", NULL, &d);
  end = g_get_monotonic_time () + GUARD_US;
  while (e.n == 0 && g_get_monotonic_time () < end)
    g_main_context_iteration (NULL, TRUE);
  g_assert_cmpuint (e.n, >=, 1);
  hl_worker_cancel (worker);
  n = e.n;
  wait_delivery (&d);
  while (g_main_context_iteration (NULL, FALSE))
    ;
  g_assert_cmpuint (e.n, ==, n);
  g_clear_pointer (&e.last, hl_result_unref);
  g_clear_object (&d.result);
}

/* The caller's GCancellable stops the run it was given to. */
static void
test_caller_cancellable (void)
{
  g_autoptr(HlWorker) worker = hl_worker_new ();
  g_autoptr(HlPrediction) p = classify (worker);
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(HlResult) r = NULL;
  Delivery d = { 0 };
  hl_attr_params slow;

  hl_attr_params_init (&slow);
  slow.n_steps = 1000;
  explain (worker, p, "integrated_gradients", &slow, "slow", cancellable, &d);
  g_cancellable_cancel (cancellable);
  wait_delivery (&d);
  r = hl_worker_explain_finish (worker, d.result, &error);
  g_assert_null (r);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_false (hl_worker_get_busy (worker));
  g_clear_object (&d.result);
}

/* A library error in the thread arrives as one line naming the cause: an
 * occlusion window larger than the input is refused when it runs. */
static void
test_error (void)
{
  g_autoptr(HlWorker) worker = hl_worker_new ();
  g_autoptr(HlPrediction) p = classify (worker);
  g_autoptr(GError) error = NULL;
  g_autoptr(HlResult) r = NULL;
  Delivery d = { 0 };
  hl_attr_params params;

  hl_attr_params_init (&params);
  params.window[1] = params.window[2] = 300;
  explain (worker, p, "occlusion", &params, "bad", NULL, &d);
  wait_delivery (&d);
  r = hl_worker_explain_finish (worker, d.result, &error);
  g_assert_null (r);
  g_assert_nonnull (error);
  g_assert_true (error->domain == HL_APP_ERROR);
  g_assert_nonnull (strstr (error->message, "window"));
  g_assert_nonnull (strstr (error->message, "224"));
  g_assert_null (strchr (error->message, '\n'));
  g_clear_object (&d.result);
}

/* A probe: the strongest channel at a cell, as this test finds it on the
 * engine's own activations; it does not touch the current job. */
static void
test_probe (void)
{
  g_autoptr(HlWorker) worker = hl_worker_new ();
  g_autoptr(HlPrediction) p = classify (worker);
  const hl_model *m = hl_classifier_get_model (classifier);
  const char *layer = NULL;
  g_autoptr(GError) error = NULL;
  /* the worker's thread count (all processors): a conv's last bits may
   * depend on how its work is split (our GEMMs, engine-runtime.md) */
  hl_run *run = hl_run_new (m, 0);
  Delivery d = { 0 };
  hl_shape shape;
  const float *act;
  int channel = -1, best = -1;
  float activation = 0;

  for (int i = 0; i < hl_model_num_nodes (m); i++)
    {
      hl_node_info info;

      hl_model_node_info (m, i, &info);
      if (info.shape.ndim == 4 && info.shape.dims[2] == 14 && layer == NULL)
        layer = info.name;
    }
  g_assert_nonnull (layer);
  hl_worker_probe_async (worker, classifier, p, layer, 3, 5, NULL, delivered_cb, &d);
  g_assert_false (hl_worker_get_busy (worker));
  wait_delivery (&d);
  g_assert_true (hl_worker_probe_finish (worker, d.result, &channel, &activation, &error));
  g_assert_no_error (error);
  forward (run, p);
  act = hl_run_value (run, hl_model_find_value (m, layer), &shape);
  {
    int64_t plane = shape.dims[2] * shape.dims[3], at = 3 * shape.dims[3] + 5, n_top = 0;
    float top = act[0];

    for (int64_t i = 0; i < shape.dims[1] * plane; i++)
      top = MAX (top, act[i]);
    for (int64_t i = 0; i < shape.dims[1] * plane; i++)
      n_top += act[i] == top;
    for (int64_t c = 0; c < shape.dims[1]; c++)
      if (!(n_top > 1 && act[c * plane + at] == top) &&
          (best < 0 || act[c * plane + at] > act[best * plane + at]))
        best = (int) c;
    g_assert_cmpint (channel, ==, best);
    g_assert_cmpfloat (activation, ==, act[best * plane + at]);
  }
  hl_run_free (run);
  g_clear_object (&d.result);
}

static void
photo_loaded_cb (GObject *source, GAsyncResult *result, gpointer data)
{
  g_autoptr(GError) error = NULL;

  photo = hl_photo_load_finish (result, &error);
  g_assert_no_error (error);
}

int
main (int argc, char **argv)
{
  g_autofree char *model_path = hl_data_default_model ();
  g_autofree char *cat_path = hl_data_find_sample ("cat");
  g_autoptr(GError) error = NULL;
  g_autoptr(GFile) file = NULL;
  int status;

  g_test_init (&argc, &argv, NULL);
  hl_engine_init ();
  if (model_path == NULL || cat_path == NULL)
    {
      g_print ("1..0 # SKIP bundled model or cat sample missing\n");
      return 0;
    }
  classifier = hl_classifier_load (model_path, &error);
  g_assert_no_error (error);
  file = g_file_new_for_path (cat_path);
  hl_photo_load_file_async (file, NULL, photo_loaded_cb, NULL);
  while (photo == NULL)
    g_main_context_iteration (NULL, TRUE);

  g_test_add_func ("/worker/classify", test_classify);
  g_test_add_func ("/worker/superseded", test_superseded);
  g_test_add_func ("/worker/caller-cancellable", test_caller_cancellable);
  g_test_add_func ("/worker/error", test_error);
  g_test_add_func ("/worker/probe", test_probe);
  g_test_add_func ("/worker/estimates", test_estimates);
  status = g_test_run ();
  g_clear_object (&photo);
  g_clear_object (&classifier);
  return status;
}
