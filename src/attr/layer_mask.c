/* Captum's layer_mask (LayerFeatureAblation): which elements of a layer
 * are ablated together. --layer-mask units (Captum's default, None): every
 * element its own feature; channels: the elements of a channel together
 * (Captum's layer_mask of shape [1,C,1,1]); FILE.npy: integer ids
 * broadcast to the layer as numpy (and torch) broadcast, dims aligned on
 * the right, each 1 or the layer's. And the one rule every front end uses
 * to say, before a run, that a request ablates very many features. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attr-private.h"
#include "feature_mask.h"

hl_status hl_layer_mask_check_shape(const hl_shape *ms, const hl_shape *s,
                                    const char *name, hl_error *err)
{
    int ok = ms->ndim >= 1 && ms->ndim <= s->ndim;
    for (int i = 1; ok && i <= ms->ndim; i++) {
        int64_t d = ms->dims[ms->ndim - i], want = s->dims[s->ndim - i];
        ok = d == 1 || d == want;
    }
    if (!ok) {
        char got[96], want[96];
        return hl_error_set(err, HL_ERR_SHAPE, "layer mask %s: shape %s does "
                            "not broadcast to the layer's %s", name,
                            hl_shape_format(ms, got, sizeof got),
                            hl_shape_format(s, want, sizeof want));
    }
    return HL_OK;
}

/* ids[numel] of a mask of shape ms broadcast to s (checked). */
static void broadcast_ids(const int64_t *src, const hl_shape *ms,
                          const hl_shape *s, int64_t numel, int64_t *ids)
{
    for (int64_t e = 0; e < numel; e++) {
        int64_t rest = e, at = 0, stride = 1;
        for (int i = 1; i <= s->ndim; i++) {
            int64_t d = s->dims[s->ndim - i], idx = rest % d;
            rest /= d;
            if (i <= ms->ndim) {
                int64_t md = ms->dims[ms->ndim - i];
                at += (md == 1 ? 0 : idx) * stride;
                stride *= md;
            }
        }
        ids[e] = src[at];
    }
}

hl_status hl_layer_mask_build(const hl_attr_request *r, const hl_shape *s,
                              hl_feature_mask *out, hl_error *err)
{
    memset(out, 0, sizeof *out);
    const char *spec = r->params.layer_mask[0] ? r->params.layer_mask : "units";
    const int64_t numel = hl_shape_numel(s);
    int64_t *ids = malloc(sizeof(int64_t) * (size_t)(numel > 0 ? numel : 1));
    if (!ids)
        return hl_error_set(err, HL_ERR_NOMEM, "out of memory (layer mask)");
    hl_status st = HL_OK;
    if (strcmp(spec, "units") == 0) {
        for (int64_t e = 0; e < numel; e++)
            ids[e] = e;
    } else if (strcmp(spec, "channels") == 0) {
        int64_t C = s->ndim >= 2 ? s->dims[1] : 1, per = numel / (C > 0 ? C : 1);
        for (int64_t e = 0; e < numel; e++)
            ids[e] = s->ndim >= 2 ? (e / per) % C : 0;
    } else if (r->layer_mask_ids) {
        st = hl_layer_mask_check_shape(&r->layer_mask_shape, s, spec, err);
        if (st == HL_OK)
            broadcast_ids(r->layer_mask_ids, &r->layer_mask_shape, s, numel, ids);
    } else {
        st = hl_error_set(err, HL_ERR_ARG, "--layer-mask '%s': expected units, "
                          "channels or FILE.npy of integer ids", spec);
    }
    if (st == HL_OK)
        st = hl_feature_mask_from_element_ids(ids, numel, out, err);
    free(ids);
    return st;
}

int hl_attr_request_cost_note(const hl_attr_request *r, const hl_model *model,
                              char *buf, size_t size)
{
    if (size)
        buf[0] = '\0';
    if (!r || !r->method || !model || strcmp(r->method->name, "layer_feature_ablation") != 0)
        return 0;
    const char *spec = r->params.layer_mask[0] ? r->params.layer_mask : "units";
    if (strcmp(spec, "units") != 0)
        return 0;
    int v = hl_model_find_value(model, r->params.layer);
    if (v >= 0 && r->params.attribute_to_layer_input)
        v = hl_model_layer_input(model, v);
    hl_shape s;
    if (v < 0 || hl_model_value_shape(model, v, &s) != HL_OK || s.ndim < 1)
        return 0;
    s.dims[0] = 1;
    int64_t n = hl_shape_numel(&s);
    if (n <= HL_ATTR_MANY_FEATURES)
        return 0;
    long long C = s.ndim >= 2 ? (long long)s.dims[1] : 1;
    snprintf(buf, size, "layer_feature_ablation: %lld features (every unit of "
             "layer '%s' ablated on its own, Captum's default), one forward "
             "of the layers after it each, which can take minutes; "
             "--layer-mask channels ablates its %lld channels instead",
             (long long)n, r->params.layer, C);
    return 1;
}
