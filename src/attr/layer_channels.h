/* A layer's channels ranked by how strongly the photo activates them (the
 * layer browser): one forward, the layer's activation [1,C,H,W] kept, and
 * per channel its mean over H x W (the strength), the order of the
 * channels by strength (strongest first, ties by index) and the cell of its
 * largest activation (where a neuron method on that channel looks).
 */
#ifndef HL_LAYER_CHANNELS_H
#define HL_LAYER_CHANNELS_H

#include "attr.h"

typedef struct hl_layer_channels {
    int channels, height, width;
    float *act;        /* [channels][height][width] */
    float *strength;   /* [channels] mean activation */
    int *order;        /* [channels] channel indices, strongest first */
    int *peak;         /* [channels] y * width + x of the largest value */
} hl_layer_channels;

/* layer: a node or value name (as --layer). A layer that is not 4-D
 * ([1,C,H,W]) gets one line naming it and its shape. ctx may be NULL. */
hl_status hl_layer_channels_compute(const hl_model *model, const hl_array *input,
                                    const char *layer, const hl_attr_context *ctx,
                                    hl_layer_channels *out, hl_error *err);
void hl_layer_channels_clear(hl_layer_channels *lc);

#endif
