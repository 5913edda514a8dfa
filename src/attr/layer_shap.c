/* Layer methods along paths and against baseline sets (Captum's
 * InternalInfluence, LayerGradientShap, LayerDeepLiftShap): the layer's
 * gradients are taken at input-space points, the layer's activations read
 * at the input and at the baselines.
 *
 * internal_influence: sum_k w_k dF/dA(b + alpha_k (x - b)) with the
 *   quadrature of --ig-method / --n-steps (the layer gradient integrated
 *   along the input path, not multiplied by anything); points in
 *   hl_attr_nested_order, each batch's sum so far rescaled by the weight it
 *   covers reported as an intermediate, as path.c does.
 * layer_gradient_shap: for draws (baseline b_s, alpha_s) as gradient_shap,
 *   mean_s dF/dA(alpha_s x~ + (1 - alpha_s) b_s) * (A(x~) - A(b_s)), x~ = x
 *   plus N(0, stdevs^2) noise when --stdevs > 0.
 * layer_deep_lift_shap: mean_k (A(x) - A(b_k)) * the DeepLift multipliers
 *   at the layer with the reference run on b_k.
 */
#include <stdlib.h>
#include <string.h>

#include "attr-private.h"

/* Layer value, its batch-1 shape and elements per row. */
typedef struct layer_ref {
    int value;
    hl_shape shape;
    int64_t numel;
} layer_ref;

static hl_status find_layer(hl_attr_call *c, layer_ref *l, hl_error *err)
{
    hl_status st = hl_attr_layer_value(c, &l->value, err);
    if (st == HL_OK)
        st = hl_attr_layer_shape(c, l->value, &l->shape, &l->numel, err);
    return st;
}

/* Copy the layer's values of the run's last forward (rows x numel). */
static hl_status read_layer(hl_attr_call *c, const hl_run *run, const layer_ref *l,
                            int rows, float *dst, hl_error *err)
{
    const float *a = hl_run_value(run, l->value, NULL);
    if (!a)
        return hl_error_set(err, HL_ERR_ARG, "layer '%s' was not computed", c->p->layer);
    memcpy(dst, a, sizeof(float) * (size_t)(rows * l->numel));
    return HL_OK;
}

/* The target's gradient at the layer after hl_attr_target_grad (zeros when
 * the target does not depend on the layer). */
static const float *layer_grad(hl_attr_call *c, const layer_ref *l)
{
    return hl_run_grad(c->run, l->value, NULL);
}

hl_status hl_method_internal_influence(hl_attr_call *c, hl_attr_result *out,
                                       hl_error *err)
{
    const int n = c->p->n_steps;
    const int64_t in_numel = hl_attr_input_numel(c);
    const float *x = c->input->data;
    layer_ref l;
    hl_array *base = NULL;
    double *alphas = NULL, *total = NULL;
    float *points = NULL, *map = NULL;
    int *order = NULL;
    hl_status st = find_layer(c, &l, err);
    if (st == HL_OK)
        st = hl_attr_make_baseline(c, c->p->baseline, &base, err);
    if (st != HL_OK)
        goto done;
    const int chunk = hl_attr_step_batch(c, n);
    alphas = malloc(sizeof(double) * 2 * (size_t)n);
    total = calloc((size_t)l.numel, sizeof(double));
    points = malloc(sizeof(float) * (size_t)(chunk * in_numel));
    map = malloc(sizeof(float) * (size_t)l.numel);
    order = malloc(sizeof(int) * (size_t)(n > 0 ? n : 1));
    if (!alphas || !total || !points || !map || !order) {
        st = hl_error_set(err, HL_ERR_NOMEM, "out of memory (internal influence)");
        goto done;
    }
    st = hl_attr_quadrature(c->p->ig_method, n, alphas, alphas + n, err);
    int first = 0;
    if (st == HL_OK)
        st = hl_attr_nested_order(n, order, &first, err);
    double w_all = 0.0, w_done = 0.0;
    for (int k = 0; k < n; k++)
        w_all += (double)(float)alphas[n + k];
    for (int k0 = 0; k0 < n && st == HL_OK;) {
        int nb = hl_attr_batch_size(k0, n, chunk, first);
        for (int b = 0; b < nb; b++) {
            float a = (float)alphas[order[k0 + b]];
            float *pt = points + (int64_t)b * in_numel;
            for (int64_t i = 0; i < in_numel; i++)
                pt[i] = base->data[i] + a * (x[i] - base->data[i]);
        }
        st = hl_attr_target_grad(c, points, nb, HL_RULE_GRADIENT, NULL, NULL, NULL, err);
        if (st != HL_OK)
            break;
        const float *g = layer_grad(c, &l);
        for (int b = 0; b < nb && g; b++) {
            /* Captum scales by float32 step sizes. */
            double w = (double)(float)alphas[n + order[k0 + b]];
            const float *gb = g + (int64_t)b * l.numel;
            for (int64_t i = 0; i < l.numel; i++)
                total[i] += w * gb[i];
            w_done += w;
        }
        k0 += nb;
        /* the points so far rescaled by the weight they cover */
        double div = k0 == n || w_done == 0.0 ? 1.0 : w_done / w_all;
        for (int64_t i = 0; i < l.numel; i++)
            map[i] = (float)(total[i] / div);
        st = hl_attr_emit_layer(c, map, &l.shape, k0, n, "steps", 0, 0.0, err);
        if (st == HL_OK)
            st = hl_attr_tick(c, (double)k0 / n, err);
    }
    if (st != HL_OK)
        goto done;
    st = hl_attr_store_layer_map(c, map, &l.shape, out, err);
done:
    hl_array_free(base);
    free(alphas);
    free(total);
    free(points);
    free(map);
    free(order);
    return st;
}

/* Layer activations of the K baselines (K x numel) and their target
 * logits fb[K], one forward each. */
static hl_status baseline_layers(hl_attr_call *c, const layer_ref *l,
                                 const hl_array *set, int K, float *acts,
                                 float *fb, hl_error *err)
{
    const int64_t in_numel = hl_attr_input_numel(c);
    for (int k = 0; k < K; k++) {
        hl_status st = hl_attr_target_logits(c, set->data + k * in_numel, 1, 1,
                                             fb + k, err);
        if (st == HL_OK)
            st = read_layer(c, c->run, l, 1, acts + (int64_t)k * l->numel, err);
        if (st != HL_OK)
            return st;
    }
    return HL_OK;
}

typedef struct layer_shap_bufs {
    float *act_x, *act_b, *points, *noisy, *act_noisy;
    double *sum;
} layer_shap_bufs;

/* One batch of draws first..first+nb-1: points, then the layer gradients
 * there times the layer differences, added to sum. */
static hl_status layer_shap_batch(hl_attr_call *c, const layer_ref *l,
                                  const hl_array *set, int first, int nb,
                                  const int *index, const double *alpha,
                                  layer_shap_bufs *bf, hl_error *err)
{
    const int64_t in_numel = hl_attr_input_numel(c);
    const float *x = c->input->data;
    const double sd = c->p->stdevs;
    for (int b = 0; b < nb; b++) {
        const float *bl = set->data + (int64_t)index[first + b] * in_numel;
        float a = (float)alpha[first + b];
        float *pt = bf->points + (int64_t)b * in_numel;
        float *xs = bf->noisy + (int64_t)b * in_numel;
        for (int64_t i = 0; i < in_numel; i++) {
            xs[i] = sd > 0 ? x[i] + (float)(sd * hl_rng_normal(c->rng)) : x[i];
            pt[i] = a * xs[i] + (1.0f - a) * bl[i];
        }
    }
    hl_status st = HL_OK;
    if (sd > 0) { /* A(x~) of each noisy input */
        st = hl_run_forward(c->run, bf->noisy, nb, err);
        if (st == HL_OK)
            st = read_layer(c, c->run, l, nb, bf->act_noisy, err);
    }
    if (st == HL_OK)
        st = hl_attr_target_grad(c, bf->points, nb, HL_RULE_GRADIENT, NULL, NULL, NULL, err);
    if (st != HL_OK)
        return st;
    const float *g = layer_grad(c, l);
    for (int b = 0; b < nb && g; b++) {
        const float *ax = sd > 0 ? bf->act_noisy + (int64_t)b * l->numel : bf->act_x;
        const float *ab = bf->act_b + (int64_t)index[first + b] * l->numel;
        const float *gb = g + (int64_t)b * l->numel;
        for (int64_t i = 0; i < l->numel; i++)
            bf->sum[i] += (double)gb[i] * (double)(ax[i] - ab[i]);
    }
    return HL_OK;
}

/* The running mean of `done` of `total` samples as an intermediate result
 * (delta against `change`); map is scratch of the layer's size. */
static hl_status emit_mean(hl_attr_call *c, const double *sum, int done,
                           int total, const hl_shape *shape, int64_t numel,
                           float *map, double change, hl_error *err)
{
    if (!hl_attr_partial_wanted(c))
        return HL_OK;
    double t = hl_attr_sums_to_map(sum, done, NULL, NULL, numel, map);
    return hl_attr_emit_layer(c, map, shape, done, total, "samples", 1,
                              t - change, err);
}

hl_status hl_layer_gradient_shap_with_draws(hl_attr_call *c, const hl_array *set,
                                            int n, const int *index,
                                            const double *alpha, hl_attr_result *out,
                                            hl_error *err)
{
    const int64_t in_numel = hl_attr_input_numel(c);
    const int K = (int)(hl_shape_numel(&set->shape) / in_numel);
    layer_ref l;
    layer_shap_bufs bf = { 0 };
    float *map = NULL, *fb = NULL;
    hl_status st = find_layer(c, &l, err);
    if (st != HL_OK)
        return st;
    for (int s = 0; s < n; s++)
        if (index[s] < 0 || index[s] >= K)
            return hl_error_set(err, HL_ERR_ARG, "layer_gradient_shap: baseline index %d "
                                "of draw %d outside the set of %d", index[s], s, K);
    const int chunk = hl_attr_step_batch(c, n);
    bf.act_x = malloc(sizeof(float) * (size_t)l.numel);
    bf.act_b = malloc(sizeof(float) * (size_t)(K * l.numel));
    bf.points = malloc(sizeof(float) * (size_t)(chunk * in_numel));
    bf.noisy = malloc(sizeof(float) * (size_t)(chunk * in_numel));
    bf.act_noisy = malloc(sizeof(float) * (size_t)(chunk * l.numel));
    bf.sum = calloc((size_t)l.numel, sizeof(double));
    map = malloc(sizeof(float) * (size_t)l.numel);
    fb = malloc(sizeof(float) * (size_t)K);
    if (!bf.act_x || !bf.act_b || !bf.points || !bf.noisy || !bf.act_noisy || !bf.sum ||
        !map || !fb) {
        st = hl_error_set(err, HL_ERR_NOMEM, "out of memory (layer gradient SHAP)");
        goto done;
    }
    float fx;
    st = hl_attr_target_logits(c, c->input->data, 1, 1, &fx, err);
    if (st == HL_OK)
        st = read_layer(c, c->run, &l, 1, bf.act_x, err);
    if (st == HL_OK)
        st = baseline_layers(c, &l, set, K, bf.act_b, fb, err);
    /* F(x) - the drawn baselines' mean F: 0 in expectation (stdevs 0). */
    double drawn_fb = 0.0;
    for (int first = 0; first < n && st == HL_OK; first += chunk) {
        int nb = n - first < chunk ? n - first : chunk;
        st = layer_shap_batch(c, &l, set, first, nb, index, alpha, &bf, err);
        for (int s = first; s < first + nb; s++)
            drawn_fb += fb[index[s]];
        if (st == HL_OK)
            st = emit_mean(c, bf.sum, first + nb, n, &l.shape, l.numel, map,
                           (double)fx - drawn_fb / (first + nb), err);
        if (st == HL_OK)
            st = hl_attr_tick(c, (double)(first + nb) / n, err);
    }
    if (st != HL_OK)
        goto done;
    double total = hl_attr_sums_to_map(bf.sum, n, NULL, NULL, l.numel, map);
    st = hl_attr_store_layer_map(c, map, &l.shape, out, err);
    if (st == HL_OK) {
        out->has_delta = 1;
        out->delta_reference = (double)fx - drawn_fb / n;
        out->delta = total - out->delta_reference;
    }
done:
    free(bf.act_x);
    free(bf.act_b);
    free(bf.points);
    free(bf.noisy);
    free(bf.act_noisy);
    free(bf.sum);
    free(map);
    free(fb);
    return st;
}

hl_status hl_method_layer_gradient_shap(hl_attr_call *c, hl_attr_result *out,
                                        hl_error *err)
{
    return hl_attr_gradient_shap_drawn(c, hl_layer_gradient_shap_with_draws, out, err);
}

hl_status hl_method_layer_deep_lift_shap(hl_attr_call *c, hl_attr_result *out,
                                         hl_error *err)
{
    const int64_t in_numel = hl_attr_input_numel(c);
    layer_ref l;
    hl_array *set = NULL;
    hl_run *ref = NULL;
    float *inputs = NULL, *map = NULL;
    double *sum = NULL;
    int K = 0;
    hl_status st = find_layer(c, &l, err);
    if (st == HL_OK)
        st = hl_attr_load_baseline_set(c, &set, &K, err);
    if (st != HL_OK)
        goto done;
    const int chunk = hl_attr_step_batch(c, K);
    ref = hl_attr_run_new(c->model, c->ctx);
    inputs = malloc(sizeof(float) * (size_t)(chunk * in_numel));
    map = malloc(sizeof(float) * (size_t)l.numel);
    sum = calloc((size_t)l.numel, sizeof(double));
    if (!ref || !inputs || !map || !sum) {
        st = hl_error_set(err, HL_ERR_NOMEM, "out of memory (layer DeepLift SHAP)");
        goto done;
    }
    for (int b = 0; b < chunk; b++)
        memcpy(inputs + (int64_t)b * in_numel, c->input->data, sizeof(float) * (size_t)in_numel);
    double sum_fb = 0.0, fx = 0.0;
    for (int first = 0; first < K && st == HL_OK; first += chunk) {
        int nb = K - first < chunk ? K - first : chunk;
        st = hl_run_forward(ref, set->data + (int64_t)first * in_numel, nb, err);
        if (st == HL_OK)
            st = hl_attr_target_grad(c, inputs, nb, HL_RULE_DEEPLIFT, ref, NULL, NULL, err);
        if (st != HL_OK)
            break;
        const float *ax = hl_run_value(c->run, l.value, NULL);
        const float *ab = hl_run_value(ref, l.value, NULL);
        const float *m = hl_run_grad(c->run, l.value, NULL);
        hl_shape os;
        const float *lx = hl_run_value(c->run, c->output_value, &os);
        const float *lb = hl_run_value(ref, c->output_value, NULL);
        if (!ax || !ab || !lx || !lb) {
            st = hl_error_set(err, HL_ERR_ARG, "layer '%s' was not computed", c->p->layer);
            break;
        }
        int64_t classes = hl_shape_numel(&os) / nb;
        fx = lx[c->target];
        for (int b = 0; b < nb; b++) {
            int64_t o = (int64_t)b * l.numel;
            sum_fb += lb[(int64_t)b * classes + c->target];
            for (int64_t i = 0; i < l.numel && m; i++)
                sum[i] += (double)m[o + i] * (double)(ax[o + i] - ab[o + i]);
        }
        st = emit_mean(c, sum, first + nb, K, &l.shape, l.numel, map,
                       fx - sum_fb / (first + nb), err);
        if (st == HL_OK)
            st = hl_attr_tick(c, (double)(first + nb) / K, err);
    }
    if (st != HL_OK)
        goto done;
    double total = hl_attr_sums_to_map(sum, K, NULL, NULL, l.numel, map);
    st = hl_attr_store_layer_map(c, map, &l.shape, out, err);
    if (st == HL_OK) {
        out->has_delta = 1;
        out->delta_reference = fx - sum_fb / K;
        out->delta = total - out->delta_reference;
    }
done:
    hl_array_free(set);
    hl_run_free(ref);
    free(inputs);
    free(map);
    free(sum);
    return st;
}
