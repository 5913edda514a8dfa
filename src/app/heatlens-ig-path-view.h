/* HlIgPathView: Integrated Gradients step by step, for a class. A slider
 * over the quadrature points from the baseline (alpha 0) to the photo
 * (alpha 1) shows the interpolated input, the gradient there and the
 * attribution accumulated so far; a curve shows the target probability
 * along the path with the quadrature points and the current alpha. The
 * numbers come from hl_ig_path_compute (src/attr/ig_path.h), run in a
 * thread when the view is made.
 *
 * Signals: ready () once the path is computed (or failed: see
 * hl_ig_path_view_get_error). */
#pragma once

#include <gtk/gtk.h>
#include "attr.h"
#include "ig_path.h"
#include "heatlens-classifier.h"
#include "heatlens-prediction.h"

G_BEGIN_DECLS

#define HL_TYPE_IG_PATH_VIEW (hl_ig_path_view_get_type ())
G_DECLARE_FINAL_TYPE (HlIgPathView, hl_ig_path_view, HL, IG_PATH_VIEW, GtkWindow)

/* params: IG's parameters (n-steps, ig-method, baseline, target). */
HlIgPathView      *hl_ig_path_view_new      (GtkWindow            *parent,
                                             HlClassifier         *classifier,
                                             HlPrediction         *prediction,
                                             const hl_attr_params *params);
/* NULL until ready. */
const hl_ig_path  *hl_ig_path_view_get_path (HlIgPathView         *self);
const char        *hl_ig_path_view_get_error (HlIgPathView        *self);
void               hl_ig_path_view_set_step (HlIgPathView         *self,
                                             int                   step);
int                hl_ig_path_view_get_step (HlIgPathView         *self);

G_END_DECLS
