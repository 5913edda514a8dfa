/* Which channel of a layer fires most at one spot of the photo: picking a
 * neuron by clicking (neuron methods) takes the channel with the largest
 * (unsaturated) activation at the clicked cell. A forward pass of the prediction's input
 * in a thread; plain GTask functions, no object. */
#pragma once

#include <gio/gio.h>
#include "heatlens-classifier.h"
#include "heatlens-prediction.h"

G_BEGIN_DECLS

/* layer: a node or value name with a [1,C,H,W] output; (h, w) a cell of
 * its grid. */
void     hl_neuron_probe_async  (HlClassifier        *classifier,
                                 HlPrediction        *prediction,
                                 const char          *layer,
                                 int                  h,
                                 int                  w,
                                 GCancellable        *cancellable,
                                 GAsyncReadyCallback  callback,
                                 gpointer             user_data);
/* The strongest channel and its activation. Activations tied at the
 * layer's maximum (a clipped ReLU6 at its ceiling, whose gradient is zero)
 * are passed over when another channel is there. */
gboolean hl_neuron_probe_finish (GAsyncResult        *result,
                                 int                 *channel,
                                 float               *activation,
                                 GError             **error);

G_END_DECLS
