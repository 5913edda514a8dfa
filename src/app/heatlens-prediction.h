/* HlPrediction: one photo prepared for one model — the input tensor, where
 * it sits in the photo, and the class probabilities. Reference counted and
 * read-only once made, so workers can share it. */
#pragma once

#include <glib-object.h>
#include "engine.h"
#include "preprocess.h"

G_BEGIN_DECLS

#define HL_PREDICTION_TOP 5

typedef struct _HlPrediction
{
  hl_array    *input;        /* [1,C,H,W] normalised model input */
  hl_crop_map  map;          /* model pixel -> photo pixel */
  float       *image01;      /* [C,H,W] unnormalised crop in 0..1 */
  float       *probs;        /* n_classes probabilities */
  int          n_classes;
  int          top[HL_PREDICTION_TOP];
  int          n_top;
  guint        photo_serial;
  guint        classifier_serial;
} HlPrediction;

#define HL_TYPE_PREDICTION (hl_prediction_get_type ())
GType         hl_prediction_get_type (void) G_GNUC_CONST;

HlPrediction *hl_prediction_new   (void);
HlPrediction *hl_prediction_ref   (HlPrediction *self);
void          hl_prediction_unref (HlPrediction *self);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (HlPrediction, hl_prediction_unref)

G_END_DECLS
