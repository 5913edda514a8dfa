#include "heatlens-neuron-probe.h"
#include "heatlens-error.h"
#include "attr.h"

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
  /* the library's rule, the one the CLI's default neuron uses */
  return hl_strongest_channel (hl_classifier_get_model (p->classifier),
                               p->prediction->input, p->layer, p->h, p->w,
                               &p->channel, &p->activation, err);
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
