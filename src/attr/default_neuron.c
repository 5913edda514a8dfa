/* The neuron a neuron method explains when the user names none, one rule
 * for the CLI, the report and the window: the centre cell of the layer's
 * H x W grid and, there, the channel that fires most (the window's click
 * on the photo uses hl_strongest_channel for its cell too). */
#include "attr.h"

#include <stdlib.h>
#include <string.h>

/* The strongest channel at (h, w) of act [1,C,H,W]. A clipped activation
 * (ReLU6) at its ceiling has a zero gradient, so its neuron explains
 * nothing: ties at the layer's maximum are passed over when another
 * channel is there. */
static void strongest(const float *act, const hl_shape *s, int h, int w,
                      int *channel, float *activation)
{
    int64_t plane = s->dims[2] * s->dims[3], at = (int64_t)h * s->dims[3] + w;
    int64_t n = s->dims[1] * plane, n_top = 0;
    float top = act[0];
    for (int64_t i = 1; i < n; i++)
        top = act[i] > top ? act[i] : top;
    for (int64_t i = 0; i < n; i++)
        n_top += act[i] == top;
    *channel = -1;
    for (int64_t c = 0; c < s->dims[1]; c++) {
        float a = act[c * plane + at];
        if (n_top > 1 && a == top)
            continue;
        if (*channel < 0 || a > *activation) {
            *channel = (int)c;
            *activation = a;
        }
    }
    if (*channel < 0) {   /* all saturated: any will do */
        *channel = 0;
        *activation = act[at];
    }
}

hl_status hl_strongest_channel(const hl_model *m, const hl_array *input,
                               const char *layer, int h, int w, int *channel,
                               float *activation, hl_error *err)
{
    int value = hl_model_find_value(m, layer);
    if (value < 0)
        return hl_error_set(err, HL_ERR_ARG, "layer '%s' is not in %s", layer,
                            hl_model_name(m));
    hl_run *run = hl_run_new(m, 0);
    if (!run)
        return hl_error_set(err, HL_ERR_NOMEM, "out of memory (neuron)");
    hl_status st = hl_run_forward(run, input->data, 1, err);
    hl_shape s;
    const float *act = st == HL_OK ? hl_run_value(run, value, &s) : NULL;
    if (st == HL_OK && (!act || s.ndim != 4 || h < 0 || w < 0 ||
                        h >= s.dims[2] || w >= s.dims[3]))
        st = hl_error_set(err, HL_ERR_SHAPE, "layer '%s' has no cell %d,%d",
                          layer, h, w);
    if (st == HL_OK)
        strongest(act, &s, h, w, channel, activation);
    hl_run_free(run);
    return st;
}

hl_status hl_default_neuron(const hl_model *m, const hl_array *input,
                            const char *layer, int neuron[3], hl_error *err)
{
    hl_shape s;
    int value = hl_model_find_value(m, layer);
    if (value < 0 || hl_model_value_shape(m, value, &s) != HL_OK || s.ndim != 4)
        return hl_error_set(err, HL_ERR_ARG, "%s: no default neuron: layer "
                            "'%s' is not a [1,C,H,W] feature map; give "
                            "--neuron C,H,W", hl_model_name(m), layer);
    /* the centre cell, rounded half up as the window's panel shows it */
    int h = (int)((s.dims[2] - 1) / 2.0 + 0.5), w = (int)((s.dims[3] - 1) / 2.0 + 0.5);
    float activation = 0;
    int channel = 0;
    hl_status st = hl_strongest_channel(m, input, layer, h, w, &channel,
                                        &activation, err);
    if (st == HL_OK) {
        neuron[0] = channel;
        neuron[1] = h;
        neuron[2] = w;
    }
    return st;
}
