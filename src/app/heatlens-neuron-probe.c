#include "heatlens-neuron-probe.h"
#include "heatlens-error.h"

typedef struct
{
  HlClassifier *classifier;
  HlPrediction *prediction;
  char         *layer;
  int           h, w;
  int           channel;
  float         activation;
} Probe;

static void
probe_free (gpointer data)
{
  Probe *p = data;

  g_clear_object (&p->classifier);
  g_clear_pointer (&p->prediction, hl_prediction_unref);
  g_free (p->layer);
  g_free (p);
}

static hl_status
probe_run (Probe    *p,
           hl_error *err)
{
  const hl_model *m = hl_classifier_get_model (p->classifier);
  int value = hl_model_find_value (m, p->layer);
  hl_run *run;
  const float *act;
  hl_shape shape;
  hl_status st;

  if (value < 0)
    return hl_error_set (err, HL_ERR_ARG, "layer '%s' is not in %s", p->layer,
                         hl_classifier_get_name (p->classifier));
  run = hl_run_new (m, 0);
  if (run == NULL)
    return hl_error_set (err, HL_ERR_NOMEM, "out of memory (neuron probe)");
  st = hl_run_forward (run, p->prediction->input->data, 1, err);
  if (st == HL_OK)
    {
      act = hl_run_value (run, value, &shape);
      if (act == NULL || shape.ndim != 4 || p->h < 0 || p->w < 0 ||
          p->h >= shape.dims[2] || p->w >= shape.dims[3])
        st = hl_error_set (err, HL_ERR_SHAPE, "layer '%s' has no cell %d,%d", p->layer, p->h, p->w);
      else
        {
          int64_t plane = shape.dims[2] * shape.dims[3];
          int64_t at = (int64_t) p->h * shape.dims[3] + p->w;
          int64_t n = shape.dims[1] * plane, n_top = 0;
          float top = act[0];

          /* A clipped activation (ReLU6) that sits at its ceiling has a zero
           * gradient: its neuron explains nothing. Ties at the layer's
           * maximum are taken as that ceiling and passed over. */
          for (int64_t i = 1; i < n; i++)
            top = MAX (top, act[i]);
          for (int64_t i = 0; i < n; i++)
            n_top += act[i] == top;
          p->channel = -1;
          for (int64_t c = 0; c < shape.dims[1]; c++)
            {
              float a = act[c * plane + at];

              if (n_top > 1 && a == top)
                continue;
              if (p->channel < 0 || a > p->activation)
                {
                  p->channel = (int) c;
                  p->activation = a;
                }
            }
          if (p->channel < 0)   /* all saturated: any will do */
            {
              p->channel = 0;
              p->activation = act[at];
            }
        }
    }
  hl_run_free (run);
  return st;
}

static void
probe_thread (GTask        *task,
              gpointer      source,
              gpointer      task_data,
              GCancellable *cancellable)
{
  hl_error err = { 0 };

  if (probe_run (task_data, &err) != HL_OK)
    {
      GError *error = NULL;

      hl_app_error_from_hl (&error, &err);
      g_task_return_error (task, error);
    }
  else
    g_task_return_boolean (task, TRUE);
}

void
hl_neuron_probe_async (HlClassifier        *classifier,
                       HlPrediction        *prediction,
                       const char          *layer,
                       int                  h,
                       int                  w,
                       GCancellable        *cancellable,
                       GAsyncReadyCallback  callback,
                       gpointer             user_data)
{
  g_autoptr(GTask) task = g_task_new (NULL, cancellable, callback, user_data);
  Probe *p = g_new0 (Probe, 1);

  p->classifier = g_object_ref (classifier);
  p->prediction = hl_prediction_ref (prediction);
  p->layer = g_strdup (layer);
  p->h = h;
  p->w = w;
  g_task_set_task_data (task, p, probe_free);
  g_task_set_return_on_cancel (task, TRUE);
  g_task_run_in_thread (task, probe_thread);
}

gboolean
hl_neuron_probe_finish (GAsyncResult  *result,
                        int           *channel,
                        float         *activation,
                        GError       **error)
{
  Probe *p = g_task_get_task_data (G_TASK (result));

  if (!g_task_propagate_boolean (G_TASK (result), error))
    return FALSE;
  if (channel)
    *channel = p->channel;
  if (activation)
    *activation = p->activation;
  return TRUE;
}
