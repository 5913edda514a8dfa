/* Which channel of a layer fires most at one spot of the photo: picking a
 * neuron by clicking (neuron methods) takes the channel with the largest
 * (unsaturated) activation at the clicked cell. The forward pass runs in
 * HlWorker (hl_worker_probe_async); this is the choice made on its
 * activations. */
#pragma once

#include <glib.h>
#include "engine.h"

G_BEGIN_DECLS

/* act: a layer's [1,C,H,W] activations; (h, w) a cell of its grid. The
 * strongest channel and its activation; activations tied at the layer's
 * maximum (a clipped ReLU6 at its ceiling, whose gradient is zero) are
 * passed over when another channel is there. FALSE with err set when the
 * layer is not [1,C,H,W] or has no such cell. */
gboolean hl_neuron_probe_strongest (const float    *act,
                                    const hl_shape *shape,
                                    const char     *layer,
                                    int             h,
                                    int             w,
                                    int            *channel,
                                    float          *activation,
                                    hl_error       *err);

G_END_DECLS
