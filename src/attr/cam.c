/* The class-activation-map family beyond Captum's LayerGradCam: each
 * weights the layer's channels A_k and returns map = sum_k w_k A_k
 * (shape [1,1,spatial], ReLU with --relu-attributions, upsampled with
 * --interpolate), like layer_grad_cam. g = dS/dA for the target logit S.
 *
 * grad_cam_plus_plus (Chattopadhyay et al., "Grad-CAM++", WACV 2018,
 *   eq. 19 with the exponential score, whose positive factor exp(S) is
 *   dropped as it scales every weight alike):
 *   alpha_ij = g_ij^2 / (2 g_ij^2 + sum_ab A_ab g_ij^3)  (0 where g = 0 or
 *   the denominator is 0), w_k = sum_ij alpha_ij relu(g_ij).
 * xgrad_cam (Fu et al., "Axiom-based Grad-CAM", BMVC 2020, eq. 12):
 *   w_k = sum_ij (A_ij / sum_ab A_ab) g_ij  (0 where sum_ab A_ab = 0).
 * score_cam (Wang et al., "Score-CAM", CVPR-W 2020, definition 2 and
 *   eq. 6): H_k = A_k upsampled (bilinear) to the input and scaled to
 *   [0, 1] by its min and max (0 if constant); w_k = p(X_b + H_k (X - X_b))
 *   - p(X_b), p = softmax probability of the target, X_b = --baseline
 *   (zero: the paper's X o H_k). Forwards only, --perturbations-per-eval
 *   masked inputs per engine batch, progress after each; channels go in
 *   hl_attr_nested_order, and an intermediate is the map of the channels
 *   so far (a spread subset) scaled by channels / done.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "attr-private.h"

/* Channels and spatial size of a layer of shape s (batch 1). */
static hl_status cam_geometry(hl_attr_call *c, const hl_shape *s, int64_t numel,
                              int64_t *channels, int64_t *plane, hl_error *err)
{
    if (s->ndim < 3)
        return hl_error_set(err, HL_ERR_SHAPE, "layer '%s' has no spatial dims (a CAM needs [N,C,H,W])",
                            c->p->layer);
    *channels = s->dims[1];
    *plane = numel / *channels;
    return HL_OK;
}

/* map = sum_k scale w_k A_k (double sums), ReLU if asked. */
static hl_status cam_map(hl_attr_call *c, const double *w, double scale,
                         const float *act, int64_t channels, int64_t plane,
                         float *map, hl_error *err)
{
    double *acc = calloc((size_t)plane, sizeof(double));
    if (!acc)
        return hl_error_set(err, HL_ERR_NOMEM, "out of memory (CAM)");
    for (int64_t k = 0; k < channels; k++)
        for (int64_t i = 0; i < plane; i++)
            acc[i] += scale * w[k] * act[k * plane + i];
    for (int64_t i = 0; i < plane; i++)
        map[i] = c->p->relu_attributions && acc[i] < 0.0 ? 0.0f : (float)acc[i];
    free(acc);
    return HL_OK;
}

/* cam_map stored as a layer map ([1,1,spatial]); reported as an estimate
 * after `done` of `channels` when done < channels. */
static hl_status store_cam(hl_attr_call *c, const double *w, double scale,
                           const float *act, const hl_shape *s, int64_t channels,
                           int64_t plane, int64_t done, hl_attr_result *out,
                           hl_error *err)
{
    float *map = malloc(sizeof(float) * (size_t)plane);
    if (!map)
        return hl_error_set(err, HL_ERR_NOMEM, "out of memory (CAM)");
    hl_status st = cam_map(c, w, scale, act, channels, plane, map, err);
    hl_shape ms = *s;
    ms.dims[1] = 1;
    if (st == HL_OK && done < channels)
        st = hl_attr_emit_layer(c, map, &ms, (int)done, (int)channels, "channels",
                                0, 0.0, err);
    else if (st == HL_OK)
        st = hl_attr_store_layer_map(c, map, &ms, out, err);
    if (st == HL_OK && done == channels)
        st = hl_attr_tick(c, 1.0, err);
    free(map);
    return st;
}

typedef double (*cam_weight_fn)(const float *a, const float *g, int64_t plane);

static double grad_cam_pp_weight(const float *a, const float *g, int64_t plane)
{
    double sum_a = 0.0, w = 0.0;
    for (int64_t i = 0; i < plane; i++)
        sum_a += a[i];
    for (int64_t i = 0; i < plane; i++) {
        double g1 = g[i], g2 = g1 * g1, den = 2.0 * g2 + sum_a * g2 * g1;
        if (g1 > 0.0 && den != 0.0)
            w += g2 / den * g1;
    }
    return w;
}

static double xgrad_cam_weight(const float *a, const float *g, int64_t plane)
{
    double sum_a = 0.0, w = 0.0;
    for (int64_t i = 0; i < plane; i++)
        sum_a += a[i];
    if (sum_a == 0.0)
        return 0.0;
    for (int64_t i = 0; i < plane; i++)
        w += (double)a[i] * g[i];
    return w / sum_a;
}

static hl_status gradient_cam(hl_attr_call *c, cam_weight_fn weight,
                              hl_attr_result *out, hl_error *err)
{
    hl_shape s;
    int64_t numel = 0, channels = 1, plane = 0;
    const float *act, *grad;
    hl_status st = hl_attr_layer_act_grad(c, &s, &numel, &act, &grad, err);
    if (st == HL_OK)
        st = cam_geometry(c, &s, numel, &channels, &plane, err);
    if (st != HL_OK)
        return st;
    double *w = calloc((size_t)channels, sizeof(double));
    if (!w)
        return hl_error_set(err, HL_ERR_NOMEM, "out of memory (CAM weights)");
    for (int64_t k = 0; k < channels && grad; k++)
        w[k] = weight(act + k * plane, grad + k * plane, plane);
    st = store_cam(c, w, 1.0, act, &s, channels, plane, channels, out, err);
    free(w);
    return st;
}

hl_status hl_method_grad_cam_plus_plus(hl_attr_call *c, hl_attr_result *out,
                                       hl_error *err)
{
    return gradient_cam(c, grad_cam_pp_weight, out, err);
}

hl_status hl_method_xgrad_cam(hl_attr_call *c, hl_attr_result *out, hl_error *err)
{
    return gradient_cam(c, xgrad_cam_weight, out, err);
}

/* ------------------------------------------------------------ Score-CAM */

/* H = channel k of act upsampled to h x w (bilinear), scaled to [0, 1]. */
static void score_cam_mask(const float *act_k, int lh, int lw, int h, int w, float *mask)
{
    hl_attr_interpolate(act_k, 1, lh, lw, mask, h, w, HL_INTERP_BILINEAR);
    float lo = mask[0], hi = mask[0];
    for (int64_t i = 1; i < (int64_t)h * w; i++) {
        lo = mask[i] < lo ? mask[i] : lo;
        hi = mask[i] > hi ? mask[i] : hi;
    }
    for (int64_t i = 0; i < (int64_t)h * w; i++)
        mask[i] = hi > lo ? (mask[i] - lo) / (hi - lo) : 0.0f;
}

typedef struct score_cam_job {
    const float *act;       /* [channels x lh x lw] at the input */
    int lh, lw;
    const float *base;      /* X_b */
    float *masks, *batch;   /* per batch row: [h*w], [input numel] */
    double *probs;
    const int *order;       /* channels coarse to fine */
} score_cam_job;

/* Weights of channels order[k0..k0+nb-1]. */
static hl_status score_cam_batch(hl_attr_call *c, score_cam_job *j, int k0,
                                 int nb, double p_base, double *w, hl_error *err)
{
    const hl_shape *in = &c->input->shape;
    const int h = (int)in->dims[2], wd = (int)in->dims[3];
    const int64_t plane = (int64_t)h * wd, numel = hl_attr_input_numel(c);
    const int64_t channels_in = in->dims[1];
    const float *x = c->input->data;
    for (int b = 0; b < nb; b++) {
        float *mask = j->masks + (int64_t)b * plane, *dst = j->batch + (int64_t)b * numel;
        score_cam_mask(j->act + (int64_t)j->order[k0 + b] * j->lh * j->lw, j->lh, j->lw,
                       h, wd, mask);
        for (int64_t ch = 0; ch < channels_in; ch++)
            for (int64_t i = 0; i < plane; i++) {
                int64_t o = ch * plane + i;
                dst[o] = j->base[o] + mask[i] * (x[o] - j->base[o]);
            }
    }
    hl_status st = hl_attr_target_probs(c, j->batch, nb, j->probs, err);
    for (int b = 0; b < nb && st == HL_OK; b++)
        w[j->order[k0 + b]] = j->probs[b] - p_base;
    return st;
}

hl_status hl_method_score_cam(hl_attr_call *c, hl_attr_result *out, hl_error *err)
{
    const hl_shape *in = &c->input->shape;
    const int ppe = c->p->perturbations_per_eval > 0 ? c->p->perturbations_per_eval : 1;
    int v;
    hl_shape s;
    int64_t numel = 0, channels = 0, plane = 0;
    hl_array *base = NULL;
    float *act = NULL;
    double *w = NULL;
    int *order = NULL;
    score_cam_job j = { 0 };
    hl_status st = hl_attr_layer_value(c, &v, err);
    if (st == HL_OK)
        st = hl_attr_layer_shape(c, v, &s, &numel, err);
    if (st == HL_OK)
        st = cam_geometry(c, &s, numel, &channels, &plane, err);
    if (st == HL_OK && (s.ndim != 4 || in->ndim != 4))
        st = hl_error_set(err, HL_ERR_SHAPE, "score_cam: layer '%s' is not a 4-D feature map",
                          c->p->layer);
    if (st == HL_OK)
        st = hl_attr_make_baseline(c, c->p->baseline, &base, err);
    if (st != HL_OK)
        goto done;
    const int64_t in_numel = hl_attr_input_numel(c), in_plane = in->dims[2] * in->dims[3];
    act = malloc(sizeof(float) * (size_t)numel);
    w = calloc((size_t)channels, sizeof(double));
    j.masks = malloc(sizeof(float) * (size_t)(ppe * in_plane));
    j.batch = malloc(sizeof(float) * (size_t)(ppe * in_numel));
    j.probs = malloc(sizeof(double) * (size_t)ppe);
    order = malloc(sizeof(int) * (size_t)channels);
    if (!act || !w || !j.masks || !j.batch || !j.probs || !order) {
        st = hl_error_set(err, HL_ERR_NOMEM, "out of memory (Score-CAM)");
        goto done;
    }
    double p_base = 0.0;
    st = hl_attr_forward_input(c, err);
    const float *a = st == HL_OK ? hl_run_value(c->run, v, NULL) : NULL;
    if (st == HL_OK && !a)
        st = hl_error_set(err, HL_ERR_ARG, "layer '%s' was not computed", c->p->layer);
    if (st == HL_OK) {
        memcpy(act, a, sizeof(float) * (size_t)numel);
        st = hl_attr_target_probs(c, base->data, 1, &p_base, err);
    }
    j.act = act, j.lh = (int)s.dims[2], j.lw = (int)s.dims[3], j.base = base->data;
    int first = 0, next_emit = 0;
    if (st == HL_OK)
        st = hl_attr_nested_order((int)channels, order, &first, err);
    j.order = order;
    for (int k0 = 0; k0 < channels && st == HL_OK;) {
        int nb = hl_attr_batch_size(k0, (int)channels, ppe, first);
        st = score_cam_batch(c, &j, k0, nb, p_base, w, err);
        k0 += nb;
        /* the channels so far, a spread subset, scaled up to all */
        if (st == HL_OK && k0 < channels && hl_attr_partial_wanted(c) &&
            hl_attr_emit_due(k0, (int)channels, first, &next_emit))
            st = store_cam(c, w, (double)channels / k0, act, &s, channels, plane, k0,
                           out, err);
        if (st == HL_OK)
            st = hl_attr_tick(c, (double)k0 / (double)channels, err);
    }
    if (st == HL_OK)
        st = store_cam(c, w, 1.0, act, &s, channels, plane, channels, out, err);
    if (st == HL_OK)
        hl_attr_emit(c, out->attr, out->is_layer, (int)channels, (int)channels,
                     "channels", 0, 0.0);
done:
    hl_array_free(base);
    free(act);
    free(w);
    free(j.masks);
    free(j.batch);
    free(j.probs);
    free(order);
    return st;
}
