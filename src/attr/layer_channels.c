/* A layer's channels ranked by strength (see layer_channels.h). */
#include <stdlib.h>
#include <string.h>

#include "attr-private.h"
#include "layer_channels.h"

/* Insertion sort: channels are at most a few thousand, and qsort's
 * comparator could not reach the strengths without shared state. */
static void rank(hl_layer_channels *lc)
{
    for (int c = 0; c < lc->channels; c++) {
        int pos = c;
        while (pos > 0) {
            int prev = lc->order[pos - 1];
            float sp = lc->strength[prev], sc = lc->strength[c];
            if (sp > sc || (sp == sc && prev < c))
                break;
            lc->order[pos] = prev;
            pos--;
        }
        lc->order[pos] = c;
    }
}

static void summarise(hl_layer_channels *lc)
{
    const int64_t hw = (int64_t)lc->height * lc->width;
    for (int c = 0; c < lc->channels; c++) {
        const float *m = lc->act + c * hw;
        double sum = 0.0;
        int64_t best = 0;
        for (int64_t i = 0; i < hw; i++) {
            sum += m[i];
            if (m[i] > m[best])
                best = i;
        }
        lc->strength[c] = (float)(sum / (double)hw);
        lc->peak[c] = (int)best;
    }
    rank(lc);
}

hl_status hl_layer_channels_compute(const hl_model *model, const hl_array *input,
                                    const char *layer, const hl_attr_context *ctx,
                                    hl_layer_channels *out, hl_error *err)
{
    if (!out)
        return hl_error_set(err, HL_ERR_ARG, "hl_layer_channels_compute: no result struct");
    memset(out, 0, sizeof *out);
    if (!model || !input || !input->data || !layer || !*layer)
        return hl_error_set(err, HL_ERR_ARG, "layer channels: needs a model, an input and a layer");
    hl_attr_params p;
    hl_attr_params_init(&p);
    strncpy(p.layer, layer, sizeof p.layer - 1);
    hl_attr_call c = { .model = model, .input = input, .p = &p, .ctx = ctx,
                       .target = -1, .input_value = hl_model_input_value(model) };
    int value;
    hl_status st = hl_attr_find_layer(&c, &value, err);
    if (st != HL_OK)
        return st;
    hl_run *run = hl_run_new(model, ctx ? ctx->threads : 0);
    if (!run)
        return hl_error_set(err, HL_ERR_NOMEM, "%s: cannot create an engine run", hl_model_name(model));
    st = hl_run_keep_only(run, &value, 1, err);
    if (st == HL_OK)
        st = hl_run_forward(run, input->data, 1, err);
    hl_shape s;
    const float *act = st == HL_OK ? hl_run_value(run, value, &s) : NULL;
    char shape[64];
    if (st == HL_OK && (!act || s.ndim != 4 || s.dims[0] != 1))
        st = hl_error_set(err, HL_ERR_SHAPE, "layer %s: shape %s is not a feature map [1,C,H,W]",
                          layer, act ? hl_shape_format(&s, shape, sizeof shape) : "(none)");
    if (st == HL_OK) {
        hl_layer_channels lc = { .channels = (int)s.dims[1], .height = (int)s.dims[2],
                                 .width = (int)s.dims[3] };
        size_t numel = (size_t)hl_shape_numel(&s);
        lc.act = malloc(sizeof(float) * numel);
        lc.strength = malloc(sizeof(float) * (size_t)lc.channels);
        lc.order = malloc(sizeof(int) * (size_t)lc.channels);
        lc.peak = malloc(sizeof(int) * (size_t)lc.channels);
        if (!lc.act || !lc.strength || !lc.order || !lc.peak) {
            hl_layer_channels_clear(&lc);
            st = hl_error_set(err, HL_ERR_NOMEM, "out of memory (layer %s)", layer);
        } else {
            memcpy(lc.act, act, sizeof(float) * numel);
            summarise(&lc);
            *out = lc;
        }
    }
    hl_run_free(run);
    return st;
}

void hl_layer_channels_clear(hl_layer_channels *lc)
{
    if (!lc)
        return;
    free(lc->act);
    free(lc->strength);
    free(lc->order);
    free(lc->peak);
    memset(lc, 0, sizeof *lc);
}
