/* Ablation inside the network (Captum's LayerFeatureAblation and
 * NeuronFeatureAblation). Forwards only, --perturbations-per-eval copies
 * per engine batch (speed and memory only, never the result).
 *
 * layer_feature_ablation: every element of the layer is its own feature,
 *   replaced by 0 (Captum's default layer_baselines) through the engine's
 *   value override; attribution (layer shape) = F(x) - F(x with A_i = 0).
 * neuron_feature_ablation: the input's feature groups (--feature-mask) set
 *   to the baseline one at a time; every element of a group gets
 *   A_n(x) - A_n(x with the group ablated).
 * Both go coarse to fine (layer elements by their place in the plane,
 * groups by their centroid) and report the map so far, holes filled with
 * the nearest done value, about HL_ATTR_EMITS times.
 */
#include <stdlib.h>
#include <string.h>

#include "attr-private.h"
#include "feature_mask.h"

static int per_eval(const hl_attr_call *c)
{
    return c->p->perturbations_per_eval > 0 ? c->p->perturbations_per_eval : 1;
}

/* Layer values of batch rows: row b is A(x) with element order[k0 + b]
 * set to 0. */
static void ablated_rows(const float *act_x, int64_t numel, const int *order, int k0,
                         int nb, float *rows)
{
    for (int b = 0; b < nb; b++) {
        float *r = rows + (int64_t)b * numel;
        memcpy(r, act_x, sizeof(float) * (size_t)numel);
        r[order[k0 + b]] = 0.0f;
    }
}

/* A layer of shape s seen as planes of h x w (the last two dims; h = 1
 * below 4-D). */
static void layer_planes(const hl_shape *s, int64_t numel, int *planes, int *h, int *w)
{
    *w = (int)s->dims[s->ndim - 1];
    *h = s->ndim >= 4 ? (int)s->dims[s->ndim - 2] : 1;
    *planes = (int)(numel / ((int64_t)*h * *w));
}

/* The layer's elements coarse to fine over their (row, column) in the
 * plane: the first ones tile every plane at a larger stride. */
static hl_status element_order(const hl_shape *s, int64_t numel, int *order,
                               int *first, hl_error *err)
{
    int planes, h, w;
    layer_planes(s, numel, &planes, &h, &w);
    int *gy = malloc(sizeof(int) * 2 * (size_t)numel);
    if (!gy)
        return hl_error_set(err, HL_ERR_NOMEM, "out of memory (layer feature ablation)");
    int *gx = gy + numel;
    for (int64_t e = 0; e < numel; e++) {
        gx[e] = (int)(e % w);
        gy[e] = h > 1 ? (int)((e / w) % h) : gx[e]; /* one row: the column twice */
    }
    hl_status st = hl_attr_grid_order((int)numel, gy, gx, h > 1 ? h : w, w, order,
                                      first, err);
    free(gy);
    return st;
}

/* The map of the elements ablated so far (have[e] set), the others filled
 * with the nearest ablated element's value in their plane. */
static hl_status emit_filled(hl_attr_call *c, const float *map, const unsigned char *have,
                             const hl_shape *s, int64_t numel, int done, hl_error *err)
{
    int planes, h, w;
    layer_planes(s, numel, &planes, &h, &w);
    float *tmp = malloc(sizeof(float) * (size_t)numel);
    if (!tmp)
        return hl_error_set(err, HL_ERR_NOMEM, "out of memory (intermediate result)");
    memcpy(tmp, map, sizeof(float) * (size_t)numel);
    hl_status st = hl_attr_fill_nearest(tmp, have, planes, h, w, err);
    if (st == HL_OK)
        st = hl_attr_emit_layer(c, tmp, s, done, (int)numel, "elements", 0, 0.0, err);
    free(tmp);
    return st;
}

hl_status hl_method_layer_feature_ablation(hl_attr_call *c, hl_attr_result *out,
                                           hl_error *err)
{
    const int64_t in_numel = hl_attr_input_numel(c);
    const int ppe = per_eval(c);
    int v;
    hl_shape s;
    int64_t numel = 0;
    float *act_x = NULL, *rows = NULL, *inputs = NULL, *logits = NULL, *map = NULL;
    int *order = NULL;
    unsigned char *have = NULL;
    hl_status st = hl_attr_layer_value(c, &v, err);
    if (st == HL_OK)
        st = hl_attr_layer_shape(c, v, &s, &numel, err);
    if (st != HL_OK)
        return st;
    if (numel > INT32_MAX / 2)
        return hl_error_set(err, HL_ERR_ARG, "layer '%s' has %lld elements: too many to "
                            "ablate one by one", c->p->layer, (long long)numel);
    act_x = malloc(sizeof(float) * (size_t)numel);
    rows = malloc(sizeof(float) * (size_t)(ppe * numel));
    inputs = malloc(sizeof(float) * (size_t)(ppe * in_numel));
    logits = malloc(sizeof(float) * (size_t)ppe);
    map = malloc(sizeof(float) * (size_t)numel);
    order = malloc(sizeof(int) * (size_t)numel);
    have = calloc((size_t)numel, 1);
    if (!act_x || !rows || !inputs || !logits || !map || !order || !have) {
        st = hl_error_set(err, HL_ERR_NOMEM, "out of memory (layer feature ablation)");
        goto done;
    }
    for (int b = 0; b < ppe; b++)
        memcpy(inputs + (int64_t)b * in_numel, c->input->data, sizeof(float) * (size_t)in_numel);
    float fx;
    st = hl_attr_target_logits(c, c->input->data, 1, 1, &fx, err);
    const float *a = st == HL_OK ? hl_run_value(c->run, v, NULL) : NULL;
    if (st == HL_OK && !a)
        st = hl_error_set(err, HL_ERR_ARG, "layer '%s' was not computed", c->p->layer);
    int first = 0, next_emit = 0;
    if (st == HL_OK) {
        memcpy(act_x, a, sizeof(float) * (size_t)numel);
        st = element_order(&s, numel, order, &first, err);
    }
    for (int k0 = 0; k0 < numel && st == HL_OK;) {
        int nb = hl_attr_batch_size(k0, (int)numel, ppe, first);
        ablated_rows(act_x, numel, order, k0, nb, rows);
        st = hl_run_set_override(c->run, v, rows, err);
        if (st == HL_OK)
            st = hl_attr_target_logits(c, inputs, nb, nb, logits, err);
        hl_run_clear_overrides(c->run);
        for (int b = 0; b < nb && st == HL_OK; b++) {
            map[order[k0 + b]] = fx - logits[b];
            have[order[k0 + b]] = 1;
        }
        k0 += nb;
        if (st == HL_OK && k0 < numel && hl_attr_partial_wanted(c) &&
            hl_attr_emit_due(k0, (int)numel, first, &next_emit))
            st = emit_filled(c, map, have, &s, numel, k0, err);
        if (st == HL_OK)
            st = hl_attr_tick(c, (double)k0 / (double)numel, err);
    }
    if (st == HL_OK)
        st = hl_attr_store_layer_map(c, map, &s, out, err);
    if (st == HL_OK)
        hl_attr_emit(c, out->attr, out->is_layer, (int)numel, (int)numel, "elements", 0, 0.0);
done:
    free(act_x);
    free(rows);
    free(inputs);
    free(logits);
    free(map);
    free(order);
    free(have);
    return st;
}

/* The neuron's value in each of nb rows of the run's last forward. */
static hl_status read_neuron(hl_attr_call *c, const hl_neuron_ref *n, int nb,
                             float *dst, hl_error *err)
{
    const float *v = hl_run_value(c->run, n->value, NULL);
    if (!v)
        return hl_error_set(err, HL_ERR_ARG, "layer '%s' was not computed", c->p->layer);
    for (int b = 0; b < nb; b++)
        dst[b] = v[(int64_t)b * n->numel + n->index];
    return HL_OK;
}

hl_status hl_method_neuron_feature_ablation(hl_attr_call *c, hl_attr_result *out,
                                            hl_error *err)
{
    const int64_t numel = hl_attr_input_numel(c);
    const int ppe = per_eval(c);
    hl_neuron_ref n;
    hl_feature_mask m;
    hl_array *base = NULL, *attr = NULL, *tmp = NULL;
    float *batch = NULL, *vals = NULL;
    int *order = NULL;
    unsigned char *have = NULL;
    memset(&m, 0, sizeof m);
    hl_status st = hl_attr_find_neuron(c, &n, err);
    if (st == HL_OK)
        st = hl_feature_mask_for_request(c->req, c->input, c->ctx, &m, err);
    if (st == HL_OK)
        st = hl_attr_make_baseline(c, c->p->baseline, &base, err);
    if (st != HL_OK)
        goto done;
    batch = malloc(sizeof(float) * (size_t)(ppe * numel));
    vals = malloc(sizeof(float) * (size_t)ppe);
    attr = hl_array_new(&c->input->shape);
    tmp = hl_array_new(&c->input->shape);
    order = malloc(sizeof(int) * (size_t)(m.n_features > 0 ? m.n_features : 1));
    have = calloc((size_t)numel, 1);
    if (!batch || !vals || !attr || !tmp || !order || !have) {
        st = hl_error_set(err, HL_ERR_NOMEM, "out of memory (neuron feature ablation)");
        goto done;
    }
    float nx = 0.0f;
    const hl_shape *is = &c->input->shape;
    const int ih = (int)is->dims[is->ndim - 2], iw = (int)is->dims[is->ndim - 1];
    int first = 0, next_emit = 0;
    st = hl_attr_forward_input(c, err);
    if (st == HL_OK)
        st = read_neuron(c, &n, 1, &nx, err);
    if (st == HL_OK)
        st = hl_attr_feature_order(&m, ih, iw, order, &first, err);
    for (int k0 = 0; k0 < m.n_features && st == HL_OK;) {
        int nb = hl_attr_batch_size(k0, m.n_features, ppe, first);
        for (int b = 0; b < nb; b++) {
            float *dst = batch + (int64_t)b * numel;
            int f = order[k0 + b];
            memcpy(dst, c->input->data, sizeof(float) * (size_t)numel);
            for (int64_t k = m.start[f]; k < m.start[f + 1]; k++)
                dst[m.element[k]] = base->data[m.element[k]];
        }
        st = hl_run_forward(c->run, batch, nb, err);
        if (st == HL_OK)
            st = read_neuron(c, &n, nb, vals, err);
        for (int b = 0; b < nb && st == HL_OK; b++) {
            int f = order[k0 + b];
            for (int64_t k = m.start[f]; k < m.start[f + 1]; k++) {
                attr->data[m.element[k]] = nx - vals[b];
                have[m.element[k]] = 1;
            }
        }
        k0 += nb;
        /* the groups so far; the others take the nearest done element's value */
        if (st == HL_OK && k0 < m.n_features && hl_attr_partial_wanted(c) &&
            hl_attr_emit_due(k0, m.n_features, first, &next_emit)) {
            memcpy(tmp->data, attr->data, sizeof(float) * (size_t)numel);
            st = hl_attr_fill_nearest(tmp->data, have, (int)(numel / ((int64_t)ih * iw)),
                                      ih, iw, err);
            if (st == HL_OK)
                hl_attr_emit(c, tmp, 0, k0, m.n_features, "features", 0, 0.0);
        }
        if (st == HL_OK)
            st = hl_attr_tick(c, (double)k0 / m.n_features, err);
    }
    if (st == HL_OK) {
        hl_attr_emit(c, attr, 0, m.n_features, m.n_features, "features", 0, 0.0);
        out->attr = attr;
        attr = NULL;
    }
done:
    hl_feature_mask_clear(&m);
    hl_array_free(base);
    hl_array_free(attr);
    hl_array_free(tmp);
    free(batch);
    free(vals);
    free(order);
    free(have);
    return st;
}
