/* Blur IG (Xu, Venugopalan and Sundararajan, "Attribution in Scale and
 * Space", CVPR 2020, eq. 4): integrated gradients along the path of
 * Gaussian blurs L(x, sigma) from sigma = --max-sigma down to 0,
 *   phi = -int_0^max dF(L(x, s))/dL * dL(x, s)/ds ds,
 * discretised as the authors' implementation does: n = --n-steps left
 * Riemann steps sigma_i = i max / n, and dL/ds by a forward difference
 * of 0.01, so
 *   phi = -sum_i (sigma_{i+1} - sigma_i) (L(x, sigma_i + 0.01) - L(x, sigma_i))
 *         / 0.01 * grad F(L(x, sigma_i)).
 * The blur is the authors' scipy.ndimage.gaussian_filter (truncate 4,
 * mode constant: zero outside the image) on each channel plane. Steps go through the engine
 * hl_attr_step_batch at a time, coarse to fine, with progress and an
 * intermediate estimate after each batch; the
 * convergence delta is sum(phi) - (F(x) - F(L(x, max))).
 */
#include <cblas.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "attr-private.h"

#define BLUR_IG_GRAD_STEP 0.01
#define BLUR_GEMM_TAPS 48   /* wider kernels go through GEMM */

/* 1-D pass over `count` lines of `len` samples spaced `step` apart, lines
 * starting `line_step` apart. */
static void blur_pass(const double *src, double *dst, int count, int len,
                      int64_t line_step, int64_t step, const double *k, int r)
{
    for (int l = 0; l < count; l++) {
        const double *s = src + (int64_t)l * line_step;
        double *d = dst + (int64_t)l * line_step;
        for (int i = 0; i < len; i++) {
            double acc = 0.0;
            int t0 = i - r < 0 ? r - i : 0, t1 = i + r >= len ? r + len - 1 - i : 2 * r;
            for (int t = t0; t <= t1; t++) /* zero outside (mode constant) */
                acc += k[t] * s[(int64_t)(i + t - r) * step];
            d[(int64_t)i * step] = acc;
        }
    }
}

/* The 1-D filter as an n x n band matrix, zero outside the image. */
static void band_matrix(const double *k, int r, int n, double *m)
{
    for (int i = 0; i < n; i++)
        for (int j = 0; j < n; j++)
            m[(int64_t)i * n + j] = j - i >= -r && j - i <= r ? k[j - i + r] : 0.0;
}

/* Wide kernels as two double GEMMs (K_H X_p for each plane, then
 * [all rows] K_W^T): one BLAS call instead of 2r + 1 taps per sample; with
 * sigma 50 on 224 x 224 (radius 200) about 9x faster than the taps. */
static hl_status blur_gemm(const float *src, int planes, int h, int w,
                           const double *k, int r, float *dst, hl_error *err)
{
    const int64_t plane = (int64_t)h * w, total = planes * plane;
    double *kh = malloc(sizeof(double) * (size_t)(h * h + w * w + 2 * total));
    if (!kh)
        return hl_error_set(err, HL_ERR_NOMEM, "out of memory (blur)");
    double *kw = kh + (int64_t)h * h, *x = kw + (int64_t)w * w, *tmp = x + total;
    band_matrix(k, r, h, kh);
    band_matrix(k, r, w, kw);
    for (int64_t i = 0; i < total; i++)
        x[i] = src[i];
    for (int p = 0; p < planes; p++)
        cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, h, w, h, 1.0, kh, h,
                    x + p * plane, w, 0.0, tmp + p * plane, w);
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, planes * h, w, w, 1.0, tmp, w,
                kw, w, 0.0, x, w);
    for (int64_t i = 0; i < total; i++)
        dst[i] = (float)x[i];
    free(kh);
    return HL_OK;
}

hl_status hl_attr_gaussian_blur(const float *src, int planes, int height,
                                int width, double sigma, float *dst,
                                hl_error *err)
{
    const int64_t plane = (int64_t)height * width;
    if (!(sigma > 0.0)) {
        memcpy(dst, src, sizeof(float) * (size_t)(planes * plane));
        return HL_OK;
    }
    const int r = (int)(4.0 * sigma + 0.5);
    double *k = malloc(sizeof(double) * (size_t)(2 * r + 1 + 2 * plane));
    if (!k)
        return hl_error_set(err, HL_ERR_NOMEM, "out of memory (blur)");
    double sum = 0.0;
    for (int t = -r; t <= r; t++)
        sum += k[t + r] = exp(-0.5 * t * t / (sigma * sigma));
    for (int t = 0; t <= 2 * r; t++)
        k[t] /= sum;
    if (2 * r + 1 > BLUR_GEMM_TAPS) {
        hl_status st = blur_gemm(src, planes, height, width, k, r, dst, err);
        free(k);
        return st;
    }
    double *x = k + 2 * r + 1, *tmp = x + plane;
    for (int p = 0; p < planes; p++) {
        for (int64_t i = 0; i < plane; i++)
            x[i] = src[p * plane + i];
        /* along H (axis 0) then W, as scipy filters axis by axis */
        blur_pass(x, tmp, width, height, 1, width, k, r);
        blur_pass(tmp, x, height, width, width, 1, k, r);
        for (int64_t i = 0; i < plane; i++)
            dst[p * plane + i] = (float)x[i];
    }
    free(k);
    return HL_OK;
}

typedef struct blur_path {
    int planes, h, w;
    double max_sigma;
    int n;
    const int *order;                   /* steps coarse to fine */
    float *points, *shifted, *grads;    /* chunk x numel */
} blur_path;

/* Points L(x, sigma_i) and dL/dsigma there for the steps order[k0..k0+nb-1]. */
static hl_status blur_points(hl_attr_call *c, blur_path *bp, int k0, int nb,
                             hl_error *err)
{
    const int64_t numel = hl_attr_input_numel(c);
    hl_status st = HL_OK;
    for (int b = 0; b < nb && st == HL_OK; b++) {
        double sigma = bp->order[k0 + b] * bp->max_sigma / bp->n;
        float *pt = bp->points + (int64_t)b * numel, *sh = bp->shifted + (int64_t)b * numel;
        st = hl_attr_gaussian_blur(c->input->data, bp->planes, bp->h, bp->w, sigma, pt, err);
        if (st == HL_OK)
            st = hl_attr_gaussian_blur(c->input->data, bp->planes, bp->h, bp->w,
                                       sigma + BLUR_IG_GRAD_STEP, sh, err);
    }
    return st;
}

/* F(x) - F(L(x, max_sigma)), what the attributions should sum to (uses
 * bp->points as scratch). */
static hl_status blur_change(hl_attr_call *c, blur_path *bp, double *change,
                             hl_error *err)
{
    float fx, fb;
    hl_status st = hl_attr_target_logits(c, c->input->data, 1, 1, &fx, err);
    if (st == HL_OK) /* the path's start, L(x, max_sigma) */
        st = hl_attr_gaussian_blur(c->input->data, bp->planes, bp->h, bp->w, bp->max_sigma,
                                   bp->points, err);
    if (st == HL_OK)
        st = hl_attr_target_logits(c, bp->points, 1, 1, &fb, err);
    *change = (double)fx - fb;
    return st;
}

/* Steps go in hl_attr_nested_order: after each batch, the sum so far
 * scaled by n / steps done is the left Riemann rule on a coarser grid
 * (the first level: exactly the rule of n / 2^L steps), reported as an
 * intermediate with its delta. */
hl_status hl_method_blur_ig(hl_attr_call *c, hl_attr_result *out, hl_error *err)
{
    const hl_shape *in = &c->input->shape;
    if (in->ndim != 4)
        return hl_error_set(err, HL_ERR_SHAPE, "blur_ig: needs a [1,C,H,W] input");
    const int64_t numel = hl_attr_input_numel(c);
    blur_path bp = { (int)in->dims[1], (int)in->dims[2], (int)in->dims[3],
                     c->p->max_sigma, c->p->n_steps, NULL, NULL, NULL, NULL };
    const int chunk = hl_attr_step_batch(c, bp.n);
    const double dsigma = bp.max_sigma / bp.n;
    int *order = malloc(sizeof(int) * (size_t)(bp.n > 0 ? bp.n : 1));
    bp.order = order;
    bp.points = malloc(sizeof(float) * (size_t)(chunk * numel));
    bp.shifted = malloc(sizeof(float) * (size_t)(chunk * numel));
    bp.grads = malloc(sizeof(float) * (size_t)(chunk * numel));
    double *total = calloc((size_t)numel, sizeof(double));
    hl_array *a = hl_array_new(in);
    hl_status st = HL_OK;
    int first = 0;
    double change = 0.0;
    if (!order || !bp.points || !bp.shifted || !bp.grads || !total || !a)
        st = hl_error_set(err, HL_ERR_NOMEM, "out of memory (blur IG)");
    if (st == HL_OK)
        st = hl_attr_nested_order(bp.n, order, &first, err);
    if (st == HL_OK)
        st = blur_change(c, &bp, &change, err);
    for (int k0 = 0; k0 < bp.n && st == HL_OK;) {
        int nb = hl_attr_batch_size(k0, bp.n, chunk, first);
        st = blur_points(c, &bp, k0, nb, err);
        if (st == HL_OK)
            st = hl_attr_target_grad(c, bp.points, nb, HL_RULE_GRADIENT, NULL,
                                     bp.grads, NULL, err);
        for (int64_t i = 0; i < nb * numel && st == HL_OK; i++) {
            double dl = ((double)bp.shifted[i] - bp.points[i]) / BLUR_IG_GRAD_STEP;
            total[i % numel] -= dsigma * dl * bp.grads[i];
        }
        k0 += nb;
        if (st == HL_OK)
            st = hl_attr_emit_sums(c, total, k0 == bp.n ? 1.0 : (double)k0 / bp.n,
                                   NULL, NULL, k0, bp.n, "steps", 1, change, err);
        if (st == HL_OK)
            st = hl_attr_tick(c, (double)k0 / bp.n, err);
    }
    if (st == HL_OK) {
        double sum = hl_attr_sums_to_map(total, 1.0, NULL, NULL, numel, a->data);
        out->attr = a;
        a = NULL;
        out->has_delta = 1;
        out->delta_reference = change;
        out->delta = sum - out->delta_reference;
    }
    hl_array_free(a);
    free(order);
    free(bp.points);
    free(bp.shifted);
    free(bp.grads);
    free(total);
    return st;
}
