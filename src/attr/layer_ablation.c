/* Ablation inside the network (Captum's LayerFeatureAblation and
 * NeuronFeatureAblation). Forwards only, --perturbations-per-eval copies
 * per engine batch, capped by the memory budget (speed and memory only,
 * never the result).
 *
 * layer_feature_ablation: every element of the layer is its own feature,
 *   replaced by 0 (Captum's default layer_baselines) through the engine's
 *   value override; attribution (layer shape) = F(x) - F(x with A_i = 0).
 * neuron_feature_ablation: the input's feature groups (--feature-mask) set
 *   to the baseline one at a time; every element of a group gets
 *   A_n(x) - A_n(x with the group ablated).
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

/* Layer values of batch rows: row b is A(x) with element first + b set to 0. */
static void ablated_rows(const float *act_x, int64_t numel, int64_t first, int nb,
                         float *rows)
{
    for (int b = 0; b < nb; b++) {
        float *r = rows + (int64_t)b * numel;
        memcpy(r, act_x, sizeof(float) * (size_t)numel);
        r[first + b] = 0.0f;
    }
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
    hl_status st = hl_attr_layer_value(c, &v, err);
    if (st == HL_OK)
        st = hl_attr_layer_shape(c, v, &s, &numel, err);
    if (st != HL_OK)
        return st;
    act_x = malloc(sizeof(float) * (size_t)numel);
    rows = malloc(sizeof(float) * (size_t)(ppe * numel));
    inputs = malloc(sizeof(float) * (size_t)(ppe * in_numel));
    logits = malloc(sizeof(float) * (size_t)ppe);
    map = malloc(sizeof(float) * (size_t)numel);
    if (!act_x || !rows || !inputs || !logits || !map) {
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
    if (st != HL_OK)
        goto done;
    memcpy(act_x, a, sizeof(float) * (size_t)numel);
    for (int64_t first = 0; first < numel && st == HL_OK; first += ppe) {
        int nb = (int)(numel - first < ppe ? numel - first : ppe);
        ablated_rows(act_x, numel, first, nb, rows);
        st = hl_run_set_override(c->run, v, rows, err);
        if (st == HL_OK)
            st = hl_attr_target_logits(c, inputs, nb, nb, logits, err);
        hl_run_clear_overrides(c->run);
        for (int b = 0; b < nb && st == HL_OK; b++)
            map[first + b] = fx - logits[b];
        if (st == HL_OK)
            st = hl_attr_tick(c, (double)(first + nb) / (double)numel, err);
    }
    if (st == HL_OK)
        st = hl_attr_store_layer_map(c, map, &s, out, err);
done:
    free(act_x);
    free(rows);
    free(inputs);
    free(logits);
    free(map);
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
    hl_array *base = NULL, *attr = NULL;
    float *batch = NULL, *vals = NULL;
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
    if (!batch || !vals || !attr) {
        st = hl_error_set(err, HL_ERR_NOMEM, "out of memory (neuron feature ablation)");
        goto done;
    }
    float nx = 0.0f;
    st = hl_run_forward(c->run, c->input->data, 1, err);
    if (st == HL_OK)
        st = read_neuron(c, &n, 1, &nx, err);
    for (int first = 0; first < m.n_features && st == HL_OK; first += ppe) {
        int nb = m.n_features - first < ppe ? m.n_features - first : ppe;
        for (int b = 0; b < nb; b++) {
            float *dst = batch + (int64_t)b * numel;
            int f = first + b;
            memcpy(dst, c->input->data, sizeof(float) * (size_t)numel);
            for (int64_t k = m.start[f]; k < m.start[f + 1]; k++)
                dst[m.element[k]] = base->data[m.element[k]];
        }
        st = hl_run_forward(c->run, batch, nb, err);
        if (st == HL_OK)
            st = read_neuron(c, &n, nb, vals, err);
        for (int b = 0; b < nb && st == HL_OK; b++) {
            int f = first + b;
            for (int64_t k = m.start[f]; k < m.start[f + 1]; k++)
                attr->data[m.element[k]] = nx - vals[b];
        }
        if (st == HL_OK)
            st = hl_attr_tick(c, (double)(first + nb) / m.n_features, err);
    }
    if (st == HL_OK) {
        out->attr = attr;
        attr = NULL;
    }
done:
    hl_feature_mask_clear(&m);
    hl_array_free(base);
    hl_array_free(attr);
    free(batch);
    free(vals);
    return st;
}
