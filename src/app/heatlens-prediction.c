#include "heatlens-prediction.h"

#include <stdlib.h>

G_DEFINE_BOXED_TYPE (HlPrediction, hl_prediction, hl_prediction_ref, hl_prediction_unref)

HlPrediction *
hl_prediction_new (void)
{
  return g_atomic_rc_box_new0 (HlPrediction);
}

HlPrediction *
hl_prediction_ref (HlPrediction *self)
{
  return g_atomic_rc_box_acquire (self);
}

static void
prediction_clear (gpointer data)
{
  HlPrediction *self = data;

  g_clear_pointer (&self->input, hl_array_free);
  free (self->image01);   /* allocated by hl_preprocess_apply */
  g_free (self->probs);
}

void
hl_prediction_unref (HlPrediction *self)
{
  g_atomic_rc_box_release_full (self, prediction_clear);
}
