/* Ablation inside the network (Captum's LayerFeatureAblation and
 * NeuronFeatureAblation). Forwards only, --perturbations-per-eval copies
 * per engine batch, capped by the memory budget (speed and memory only,
 * never the result).
 *
 * layer_feature_ablation: the layer's features (--layer-mask: every
 *   element its own, Captum's default; its channels; or a file's groups,
 *   layer_mask.c) replaced by 0 (Captum's default layer_baselines); every
 *   element of feature i gets F(x) - F(x with feature i = 0). The layer's
 *   clean values are fixed, so only what follows it runs: the engine's
 *   exact incremental forward from the layer (hl_incremental_forward_from)
 *   recomputes only the box each ablated feature reaches; where it cannot
 *   start (a folded conv's pre-BN value, a layer not 4-D, a graph it does
 *   not take) the layer is overridden in whole forwards. A feature whose
 *   values are all 0 already gets exactly 0 without a forward.
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

/* --perturbations-per-eval within the memory budget (common.c). */
static int per_eval(const hl_attr_call *c)
{
    return hl_attr_eval_batch(c);
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
                             const hl_shape *s, int64_t numel, int done, int total,
                             hl_error *err)
{
    int planes, h, w;
    layer_planes(s, numel, &planes, &h, &w);
    float *tmp = malloc(sizeof(float) * (size_t)numel);
    if (!tmp)
        return hl_error_set(err, HL_ERR_NOMEM, "out of memory (intermediate result)");
    memcpy(tmp, map, sizeof(float) * (size_t)numel);
    hl_status st = hl_attr_fill_nearest(tmp, have, planes, h, w, err);
    if (st == HL_OK)
        st = hl_attr_emit_layer(c, tmp, s, done, total, "features", 0, 0.0, err);
    free(tmp);
    return st;
}

/* One layer_feature_ablation call. */
typedef struct lfa {
    hl_attr_call *c;
    int v;                  /* the layer value */
    hl_shape s;             /* its batch-1 shape */
    int64_t numel;
    hl_feature_mask m;      /* the features (--layer-mask) */
    hl_box *box;            /* [n_features]: each one's rows and columns */
    float *act;             /* the layer's clean values */
    hl_attr_boxed bx;       /* from the layer; bx.inc NULL: overrides on
                               c->run, whole forwards */
    int ppe;
    float *rows;            /* [ppe, numel] the ablated layer values */
    float *inputs;          /* [ppe, input] (override path) */
    float *logits;          /* [ppe] */
    int *live;              /* [ppe] the features of a batch */
    hl_box *boxes;          /* [ppe] their boxes */
} lfa;

static void lfa_free(lfa *L)
{
    hl_feature_mask_clear(&L->m);
    hl_attr_boxed_free(&L->bx);
    free(L->box);
    free(L->act);
    free(L->rows);
    free(L->inputs);
    free(L->logits);
    free(L->live);
    free(L->boxes);
}

/* The exact incremental forward from the layer when the model and layer
 * allow it (4-D, not a folded conv's pre-BN value): only what an ablated
 * feature reaches runs (boxed.c; HL_INCREMENTAL=0 asks for whole forwards
 * with the layer overridden). Each feature's box of the H x W plane (4-D
 * layers; else all of it); sets L->ppe either way. */
static hl_status lfa_engine(lfa *L, hl_error *err)
{
    const int rank4 = L->s.ndim == 4;
    hl_box big;
    L->box = hl_feature_mask_boxes(&L->m, rank4 ? L->s.dims[2] : 1,
                                   rank4 ? L->s.dims[3] : 1, &big);
    if (!L->box)
        return hl_error_set(err, HL_ERR_NOMEM, "out of memory (layer feature ablation)");
    L->ppe = per_eval(L->c);
    if (!rank4)
        return HL_OK;
    hl_status st = hl_attr_boxed_new_at(L->c, &L->bx, L->v, L->numel, &big,
                                        (int64_t)sizeof(float) * L->numel, err);
    if (st == HL_OK)
        L->ppe = L->bx.rows;
    return st;
}

/* The layer, its features, F(x) and the layer's clean values. */
static hl_status lfa_setup(lfa *L, float *fx, hl_error *err)
{
    hl_attr_call *c = L->c;
    hl_status st = hl_attr_layer_value(c, &L->v, err);
    if (st == HL_OK)
        st = hl_attr_layer_shape(c, L->v, &L->s, &L->numel, err);
    if (st == HL_OK && L->numel > INT32_MAX / 2)
        st = hl_error_set(err, HL_ERR_ARG, "layer '%s' has %lld elements: too many "
                          "to ablate", c->p->layer, (long long)L->numel);
    if (st == HL_OK)
        st = hl_layer_mask_build(c->req, &L->s, &L->m, err);
    if (st != HL_OK)
        return st;
    L->act = malloc(sizeof(float) * (size_t)L->numel);
    if (!L->act)
        return hl_error_set(err, HL_ERR_NOMEM, "out of memory (layer feature ablation)");
    st = hl_attr_target_logits(c, c->input->data, 1, 1, fx, err);
    const float *a = st == HL_OK ? hl_run_value(c->run, L->v, NULL) : NULL;
    if (st == HL_OK && !a)
        return hl_error_set(err, HL_ERR_ARG, "layer '%s' was not computed", c->p->layer);
    if (st == HL_OK)
        memcpy(L->act, a, sizeof(float) * (size_t)L->numel);
    if (st == HL_OK)
        st = lfa_engine(L, err);
    if (st != HL_OK)
        return st;
    const int64_t in_numel = hl_attr_input_numel(c);
    L->rows = malloc(sizeof(float) * (size_t)(L->ppe * L->numel));
    L->logits = malloc(sizeof(float) * (size_t)L->ppe);
    L->live = malloc(sizeof(int) * (size_t)L->ppe);
    L->boxes = malloc(sizeof(hl_box) * (size_t)L->ppe);
    L->inputs = L->bx.inc ? NULL : malloc(sizeof(float) * (size_t)(L->ppe * in_numel));
    if (!L->rows || !L->logits || !L->live || !L->boxes || (!L->bx.inc && !L->inputs))
        return hl_error_set(err, HL_ERR_NOMEM, "out of memory (layer feature ablation)");
    if (L->bx.inc && hl_incremental_clean(L->bx.inc, L->v))
        memcpy(L->act, hl_incremental_clean(L->bx.inc, L->v), sizeof(float) * (size_t)L->numel);
    if (L->bx.inc) {
        /* F(x) from the same clean numbers the ablated rows start from
         * (an empty box: nothing runs), so a feature that changes
         * nothing gets 0 rather than the two forwards' rounding */
        hl_box none = { 0, 0, 0, 0 };
        hl_status s2 = hl_attr_boxed_logits(c, &L->bx, L->act, &none, 1, fx, err);
        if (s2 != HL_OK)
            return s2;
    }
    for (int b = 0; b < L->ppe; b++) {
        memcpy(L->rows + (int64_t)b * L->numel, L->act, sizeof(float) * (size_t)L->numel);
        if (!L->bx.inc)
            memcpy(L->inputs + (int64_t)b * in_numel, c->input->data,
                   sizeof(float) * (size_t)in_numel);
    }
    return HL_OK;
}

/* Is every element of feature f already 0? Then ablating it changes
 * nothing and its attribution is exactly 0, without a forward. */
static int feature_is_zero(const lfa *L, int f)
{
    for (int64_t k = L->m.start[f]; k < L->m.start[f + 1]; k++)
        if (L->act[L->m.element[k]] != 0.0f)
            return 0;
    return 1;
}

/* The target logit with each of the nb live features ablated (row b:
 * feature live[b] set to 0); the rows are restored after. */
static hl_status lfa_batch(lfa *L, int nb, hl_error *err)
{
    hl_attr_call *c = L->c;
    hl_box *boxes = L->boxes;
    for (int b = 0; b < nb; b++) {
        int f = L->live[b];
        float *r = L->rows + (int64_t)b * L->numel;
        for (int64_t k = L->m.start[f]; k < L->m.start[f + 1]; k++)
            r[L->m.element[k]] = 0.0f;
        boxes[b] = L->box[f];
    }
    hl_status st;
    if (L->bx.inc) {
        st = hl_attr_boxed_logits(c, &L->bx, L->rows, boxes, nb, L->logits, err);
    } else {
        st = hl_run_set_override(c->run, L->v, L->rows, err);
        if (st == HL_OK)
            st = hl_attr_target_logits(c, L->inputs, nb, nb, L->logits, err);
        hl_run_clear_overrides(c->run);
    }
    for (int b = 0; b < nb; b++) {
        int f = L->live[b];
        float *r = L->rows + (int64_t)b * L->numel;
        for (int64_t k = L->m.start[f]; k < L->m.start[f + 1]; k++)
            r[L->m.element[k]] = L->act[L->m.element[k]];
    }
    return st;
}

/* Features coarse to fine: units by their place in the plane (as the
 * elements always went), groups by their centroid. */
static hl_status lfa_order(const lfa *L, int *order, int *first, hl_error *err)
{
    const char *spec = L->c->p->layer_mask;
    if (!spec[0] || strcmp(spec, "units") == 0)
        return element_order(&L->s, L->numel, order, first, err);
    int planes, h, w;
    layer_planes(&L->s, L->numel, &planes, &h, &w);
    return hl_attr_feature_order(&L->m, h, w, order, first, err);
}

hl_status hl_method_layer_feature_ablation(hl_attr_call *c, hl_attr_result *out,
                                           hl_error *err)
{
    lfa L;
    memset(&L, 0, sizeof L);
    L.c = c;
    float fx = 0.0f, *map = NULL;
    int *order = NULL;
    unsigned char *have = NULL;
    hl_status st = lfa_setup(&L, &fx, err);
    const int F = L.m.n_features;
    if (st == HL_OK) {
        map = malloc(sizeof(float) * (size_t)L.numel);
        order = malloc(sizeof(int) * (size_t)F);
        have = calloc((size_t)L.numel, 1);
        if (!map || !order || !have)
            st = hl_error_set(err, HL_ERR_NOMEM, "out of memory (layer feature ablation)");
    }
    int first = 0, next_emit = 0;
    if (st == HL_OK)
        st = lfa_order(&L, order, &first, err);
    for (int k0 = 0; k0 < F && st == HL_OK;) {
        /* up to ppe features that need a forward, never past the coarse level */
        int stop = k0 < first ? first : F, nb = 0;
        while (k0 < stop && nb < L.ppe) {
            int f = order[k0++];
            if (!feature_is_zero(&L, f)) {
                L.live[nb++] = f;
                continue;
            }
            for (int64_t k = L.m.start[f]; k < L.m.start[f + 1]; k++) {
                map[L.m.element[k]] = 0.0f;
                have[L.m.element[k]] = 1;
            }
        }
        if (nb > 0)
            st = lfa_batch(&L, nb, err);
        for (int b = 0; b < nb && st == HL_OK; b++)
            for (int64_t k = L.m.start[L.live[b]]; k < L.m.start[L.live[b] + 1]; k++) {
                map[L.m.element[k]] = fx - L.logits[b];
                have[L.m.element[k]] = 1;
            }
        if (st == HL_OK && k0 < F && hl_attr_partial_wanted(c) &&
            hl_attr_emit_due(k0, F, first, &next_emit))
            st = emit_filled(c, map, have, &L.s, L.numel, k0, F, err);
        if (st == HL_OK)
            st = hl_attr_tick(c, (double)k0 / (double)F, err);
    }
    if (st == HL_OK)
        st = hl_attr_store_layer_map(c, map, &L.s, out, err);
    if (st == HL_OK)
        hl_attr_emit(c, out->attr, out->is_layer, F, F, "features", 0, 0.0);
    lfa_free(&L);
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
