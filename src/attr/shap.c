/* SHAP-family gradient methods: gradient_shap and deep_lift_shap (Captum's
 * GradientShap and DeepLiftShap).
 *
 * Both explain against a set of K baselines: --baselines-npy FILE.npy
 * ([K,C,H,W], [C,H,W] or [1,C,H,W]) or, when that is empty, the single
 * baseline of --baseline (zero by default).
 *
 * gradient_shap, as Captum (NoiseTunnel smoothgrad over
 * InputBaselineXGradient with draw_baseline_from_distrib): for each of
 * n_samples draws, a baseline index k uniform in 0..K-1, alpha uniform in
 * [0,1) and, when stdevs > 0, Gaussian noise eps ~ N(0, stdevs^2) added to
 * the INPUT (Captum's NoiseTunnel perturbs the input, not the path point):
 *   x~ = x + eps,  point = alpha x~ + (1 - alpha) b_k  (float32 as Captum),
 *   attribution = mean over draws of grad F(point) * (x~ - b_k).
 * The convergence delta we report is sum(attribution) - (F(x) - mean over
 * draws of F(b_k)), which tends to 0 as n_samples grows (for stdevs 0).
 *
 * deep_lift_shap: DeepLift (the engine's HL_RULE_DEEPLIFT, rescale) of x
 * against every baseline of the set, averaged: mean_k (x - b_k) m_k where m_k
 * are the DeepLift multipliers with the reference run on b_k. Delta =
 * sum(attribution) - (F(x) - mean_k F(b_k)).
 */
#include <stdlib.h>
#include <string.h>

#include "attr-private.h"

#define GRADIENT_SHAP_DEFAULT_SAMPLES 5   /* Captum's n_samples default */

static int64_t input_numel(const hl_attr_call *c)
{
    return hl_shape_numel(&c->input->shape);
}

/* Samples per engine batch: --internal-batch-size, or common.c's automatic
 * size that bounds memory. */
static int chunk_size(const hl_attr_call *c, int total)
{
    return hl_attr_step_batch(c, total);
}

hl_status hl_attr_load_baseline_set(hl_attr_call *c, hl_array **set, int *count,
                                    hl_error *err)
{
    *set = NULL;
    *count = 0;
    const int64_t numel = input_numel(c);
    const char *path = c->p->baselines_npy;
    if (!path[0]) {
        hl_status st = hl_attr_make_baseline(c, c->p->baseline, set, err);
        if (st == HL_OK)
            *count = 1;
        return st;
    }
    /* read by hl_attr_request_prepare; the request carries it */
    hl_array *a = c->req && c->req->baselines ? hl_array_copy(c->req->baselines) : NULL;
    if (!a)
        return hl_error_set(err, c->req && c->req->baselines ? HL_ERR_NOMEM : HL_ERR_ARG,
                            "baselines %s: %s", path,
                            c->req && c->req->baselines ? "out of memory"
                                                        : "the file was not read with the request");
    /* The trailing C,H,W must be the input's; leading dims are the set. */
    const hl_shape *in = &c->input->shape, *s = &a->shape;
    int ok = s->ndim >= 3 && s->ndim <= 4;
    for (int i = 1; ok && i <= 3; i++)
        ok = s->dims[s->ndim - i] == in->dims[in->ndim - i];
    if (!ok || hl_shape_numel(s) % numel != 0 || hl_shape_numel(s) == 0) {
        char got[96], want[96];
        hl_shape_format(s, got, sizeof got);
        hl_shape_format(in, want, sizeof want);
        hl_array_free(a);
        return hl_error_set(err, HL_ERR_SHAPE,
                            "baselines %s: shape %s, expected [K,C,H,W] with "
                            "C,H,W of the input %s", path, got, want);
    }
    *count = (int)(hl_shape_numel(s) / numel);
    *set = a;
    return HL_OK;
}

/* Target logits of the K baselines. */
static hl_status baseline_logits(hl_attr_call *c, const hl_array *set, int K,
                                 float *out, hl_error *err)
{
    return hl_attr_target_logits(c, set->data, K, chunk_size(c, K), out, err);
}

/* The GradientSHAP loop. The noisy inputs x~ of a batch are built per
 * batch: from `noise` when given (replay), else drawn from c->rng with
 * draw_stdevs (> 0) in sample order, so memory stays one batch. */
static hl_status gradient_shap_core(hl_attr_call *c, const hl_array *baselines,
                                    int n_samples, const int *baseline_index,
                                    const double *alpha, const float *noise,
                                    double draw_stdevs, hl_path_grad_fn grad_fn,
                                    void *user, hl_attr_result *out,
                                    hl_error *err)
{
    const int64_t numel = input_numel(c);
    const int K = (int)(hl_shape_numel(&baselines->shape) / numel);
    if (n_samples < 1)
        return hl_error_set(err, HL_ERR_ARG,
                            "gradient_shap: --n-samples must be >= 1");
    for (int s = 0; s < n_samples; s++)
        if (baseline_index[s] < 0 || baseline_index[s] >= K)
            return hl_error_set(err, HL_ERR_ARG,
                                "gradient_shap: baseline index %d of draw %d "
                                "outside the set of %d", baseline_index[s], s, K);
    const int chunk = chunk_size(c, n_samples);
    const float *x = c->input->data;
    float *points = malloc((size_t)chunk * numel * sizeof *points);
    float *noisy = malloc((size_t)chunk * numel * sizeof *noisy);
    float *grad = malloc((size_t)chunk * numel * sizeof *grad);
    float *fb = malloc((size_t)K * sizeof *fb);
    double *sum = calloc((size_t)numel, sizeof *sum);
    hl_array *attr = hl_array_new(&c->input->shape);
    hl_status st = HL_OK;
    if (!points || !noisy || !grad || !fb || !sum || !attr) {
        st = hl_error_set(err, HL_ERR_NOMEM, "gradient_shap: out of memory");
        goto done;
    }
    float fx;
    st = hl_attr_target_logits(c, x, 1, 1, &fx, err);
    if (st == HL_OK)
        st = baseline_logits(c, baselines, K, fb, err);
    if (st != HL_OK)
        goto done;

    double sum_fb = 0;
    for (int first = 0; first < n_samples; first += chunk) {
        int nb = n_samples - first < chunk ? n_samples - first : chunk;
        for (int b = 0; b < nb; b++) {
            int s = first + b;
            const float *bl = baselines->data + (int64_t)baseline_index[s] * numel;
            const float *eps = noise ? noise + (int64_t)s * numel : NULL;
            float a = (float)alpha[s];
            float *pt = points + (int64_t)b * numel;
            float *xs = noisy + (int64_t)b * numel;
            for (int64_t i = 0; i < numel; i++) {
                xs[i] = eps ? x[i] + eps[i]
                      : draw_stdevs > 0
                          ? x[i] + (float)(draw_stdevs * hl_rng_normal(c->rng))
                          : x[i];
                pt[i] = a * xs[i] + (1.0f - a) * bl[i];
            }
        }
        st = grad_fn ? grad_fn(c, points, nb, grad, user, err)
                     : hl_attr_target_grad(c, points, nb, HL_RULE_GRADIENT, NULL,
                                           grad, NULL, err);
        if (st != HL_OK)
            goto done;
        for (int b = 0; b < nb; b++) {
            int s = first + b;
            const float *bl = baselines->data + (int64_t)baseline_index[s] * numel;
            const float *xs = noisy + (int64_t)b * numel;
            const float *g = grad + (int64_t)b * numel;
            for (int64_t i = 0; i < numel; i++)
                sum[i] += (double)g[i] * (double)(xs[i] - bl[i]);
            sum_fb += fb[baseline_index[s]];
        }
        /* The running mean over the draws so far. */
        st = hl_attr_emit_sums(c, sum, first + nb, NULL, NULL, first + nb,
                               n_samples, "samples", !grad_fn,
                               (double)fx - sum_fb / (first + nb), err);
        if (st == HL_OK)
            st = hl_attr_tick(c, (double)(first + nb) / n_samples, err);
        if (st != HL_OK)
            goto done;
    }
    double total = hl_attr_sums_to_map(sum, n_samples, NULL, NULL, numel, attr->data);
    double mean_fb = sum_fb / n_samples;
    out->attr = attr;
    attr = NULL;
    out->has_delta = !grad_fn; /* a neuron's change is not F's */
    out->delta_reference = (double)fx - mean_fb;
    out->delta = total - out->delta_reference;

done:
    hl_array_free(attr);
    free(points);
    free(noisy);
    free(grad);
    free(fb);
    free(sum);
    return st;
}

hl_status hl_gradient_shap_with_draws(hl_attr_call *c, const hl_array *baselines,
                                      int n_samples, const int *baseline_index,
                                      const double *alpha, const float *noise,
                                      hl_attr_result *out, hl_error *err)
{
    return gradient_shap_core(c, baselines, n_samples, baseline_index, alpha,
                              noise, 0.0, NULL, NULL, out, err);
}

hl_status hl_attr_gradient_shap_loop(hl_attr_call *c, const hl_array *baselines,
                                     int n_samples, const int *baseline_index,
                                     const double *alpha, hl_path_grad_fn grad_fn,
                                     void *user, hl_attr_result *out,
                                     hl_error *err)
{
    return gradient_shap_core(c, baselines, n_samples, baseline_index, alpha,
                              NULL, c->p->stdevs, grad_fn, user, out, err);
}

hl_status hl_attr_shap_draws(hl_attr_call *c, int K, int *n_samples,
                             int **index, double **alpha, hl_error *err)
{
    const int n = c->p->n_samples > 0 ? c->p->n_samples
                                      : GRADIENT_SHAP_DEFAULT_SAMPLES;
    *index = malloc((size_t)n * sizeof **index);
    *alpha = malloc((size_t)n * sizeof **alpha);
    if (!*index || !*alpha) {
        free(*index);
        free(*alpha);
        *index = NULL;
        *alpha = NULL;
        return hl_error_set(err, HL_ERR_NOMEM, "gradient_shap: out of memory");
    }
    /* Draw order: baseline indices, alphas, then the noise sample by
     * sample (Captum draws them in separate calls too). */
    for (int s = 0; s < n; s++)
        (*index)[s] = (int)hl_rng_below(c->rng, (uint64_t)K);
    for (int s = 0; s < n; s++)
        (*alpha)[s] = hl_rng_uniform(c->rng);
    *n_samples = n;
    return HL_OK;
}

hl_status hl_attr_gradient_shap_drawn(hl_attr_call *c, hl_shap_draws_fn fn,
                                      hl_attr_result *out, hl_error *err)
{
    hl_array *set = NULL;
    int K, n = 0, *index = NULL;
    double *alpha = NULL;
    hl_status st = hl_attr_load_baseline_set(c, &set, &K, err);
    if (st == HL_OK)
        st = hl_attr_shap_draws(c, K, &n, &index, &alpha, err);
    if (st == HL_OK)
        st = fn(c, set, n, index, alpha, out, err);
    free(index);
    free(alpha);
    hl_array_free(set);
    return st;
}

static hl_status gradient_shap_noisy(hl_attr_call *c, const hl_array *set, int n,
                                     const int *index, const double *alpha,
                                     hl_attr_result *out, hl_error *err)
{
    return gradient_shap_core(c, set, n, index, alpha, NULL, c->p->stdevs, NULL,
                              NULL, out, err);
}

hl_status hl_method_gradient_shap(hl_attr_call *c, hl_attr_result *out,
                                  hl_error *err)
{
    if (!(c->p->stdevs >= 0))
        return hl_error_set(err, HL_ERR_ARG,
                            "gradient_shap: --stdevs must be >= 0");
    return hl_attr_gradient_shap_drawn(c, gradient_shap_noisy, out, err);
}

hl_status hl_method_deep_lift_shap(hl_attr_call *c, hl_attr_result *out,
                                   hl_error *err)
{
    hl_array *set = NULL;
    int K;
    hl_status st = hl_attr_load_baseline_set(c, &set, &K, err);
    if (st != HL_OK)
        return st;
    const int64_t numel = input_numel(c);
    const int chunk = chunk_size(c, K);
    const float *x = c->input->data;
    float *inputs = malloc((size_t)chunk * numel * sizeof *inputs);
    float *grad = malloc((size_t)chunk * numel * sizeof *grad);
    double *sum = calloc((size_t)numel, sizeof *sum);
    hl_array *attr = hl_array_new(&c->input->shape);
    hl_run *ref = hl_attr_run_new(c->model, c->ctx);
    if (!inputs || !grad || !sum || !attr || !ref) {
        st = hl_error_set(err, HL_ERR_NOMEM, "deep_lift_shap: out of memory");
        goto done;
    }
    for (int b = 0; b < chunk; b++)
        memcpy(inputs + (int64_t)b * numel, x, (size_t)numel * sizeof *x);
    float fx;
    st = hl_attr_target_logits(c, x, 1, 1, &fx, err);
    if (st != HL_OK)
        goto done;
    double sum_fb = 0;
    for (int first = 0; first < K; first += chunk) {
        int nb = K - first < chunk ? K - first : chunk;
        const float *bl = set->data + (int64_t)first * numel;
        st = hl_run_forward(ref, bl, nb, err);
        if (st != HL_OK)
            goto done;
        hl_shape os;
        const float *logits = hl_run_value(ref, c->output_value, &os);
        if (!logits) {
            st = hl_error_set(err, HL_ERR_ARG,
                              "deep_lift_shap: no output from the reference run");
            goto done;
        }
        int64_t classes = hl_shape_numel(&os) / nb;
        for (int b = 0; b < nb; b++)
            sum_fb += logits[(int64_t)b * classes + c->target];
        st = hl_attr_target_grad(c, inputs, nb, HL_RULE_DEEPLIFT, ref, grad,
                                 NULL, err);
        if (st != HL_OK)
            goto done;
        for (int b = 0; b < nb; b++) {
            const float *g = grad + (int64_t)b * numel;
            const float *bk = bl + (int64_t)b * numel;
            for (int64_t i = 0; i < numel; i++)
                sum[i] += (double)g[i] * (double)(x[i] - bk[i]);
        }
        /* The mean over the baselines so far. */
        st = hl_attr_emit_sums(c, sum, first + nb, NULL, NULL, first + nb, K,
                               "samples", 1, (double)fx - sum_fb / (first + nb),
                               err);
        if (st == HL_OK)
            st = hl_attr_tick(c, (double)(first + nb) / K, err);
        if (st != HL_OK)
            goto done;
    }
    double total = hl_attr_sums_to_map(sum, K, NULL, NULL, numel, attr->data);
    out->attr = attr;
    attr = NULL;
    out->has_delta = 1;
    out->delta_reference = (double)fx - sum_fb / K;
    out->delta = total - out->delta_reference;

done:
    hl_run_free(ref);
    hl_array_free(attr);
    hl_array_free(set);
    free(inputs);
    free(grad);
    free(sum);
    return st;
}
