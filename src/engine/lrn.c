/* LRN, local response normalisation across channels (AlexNet, CaffeNet,
 * GoogLeNet / Inception v1, ZFNet of the ONNX model zoo):
 *   s_c = bias + alpha / size * sum_{c' in W(c)} x_c'^2,   y_c = x_c s_c^-beta
 * with W(c) = [c - floor((size-1)/2), c + ceil((size-1)/2)] clipped to the
 * channels. Each (image, channel) plane is one unit of work; the sums run
 * over whole planes so the inner loops stay contiguous. Backward recomputes
 * s from the saved input (no scratch) and uses y / s = x s^(-beta-1). */
#include <math.h>
#include <string.h>
#include "kernels.h"

typedef struct {
    float alpha, beta, bias;
    int size;
} lrn_params;

static hl_status lrn_init(hl_node *n, const hl_attrs *attrs,
                          const hl_tensor *in, hl_error *err)
{
    (void)in;
    if (n->n_in != 1 || n->n_out != 1)
        return hl_error_set(err, HL_ERR_ARG, "expects 1 input and 1 output");
    if (!hl_attrs_find(attrs, "size"))
        return hl_error_set(err, HL_ERR_ARG, "attribute 'size' is required");
    int64_t size = hl_attrs_int(attrs, "size", 0);
    if (size < 1 || size > 1024)
        return hl_error_set(err, HL_ERR_ARG,
                            "attribute 'size' = %lld (must be 1..1024)",
                            (long long)size);
    hl_status st = hl_params_alloc(n, sizeof(lrn_params), err);
    if (st)
        return st;
    lrn_params *p = n->params;
    p->size = (int)size;
    p->alpha = hl_attrs_float(attrs, "alpha", 1e-4f);
    p->beta = hl_attrs_float(attrs, "beta", 0.75f);
    p->bias = hl_attrs_float(attrs, "bias", 1.0f);
    return HL_OK;
}

static hl_status lrn_shape(const hl_node *n, const hl_tensor *in,
                           hl_tensor *out, hl_error *err)
{
    (void)n;
    if (in[0].dtype != HL_DT_FLOAT)
        return hl_error_set(err, HL_ERR_UNSUPPORTED, "input must be float");
    if (in[0].shape.ndim < 2) {
        char b[96];
        return hl_error_set(err, HL_ERR_SHAPE,
                            "input %s has no channel dimension",
                            hl_shape_format(&in[0].shape, b, sizeof b));
    }
    out[0].shape = in[0].shape;
    out[0].dtype = HL_DT_FLOAT;
    return HL_OK;
}

typedef struct {
    const lrn_params *p;
    int64_t channels, plane;
    const float *x, *y, *g;
    float *out;
} lrn_job;

/* s = bias + alpha/size * sum of squares over W(c), for plane (img, c). */
static void lrn_scale(const lrn_job *j, const float *img, int64_t c, float *s)
{
    const lrn_params *p = j->p;
    int64_t lo = c - (p->size - 1) / 2, hi = c + p->size / 2;
    if (lo < 0)
        lo = 0;
    if (hi > j->channels - 1)
        hi = j->channels - 1;
    for (int64_t k = 0; k < j->plane; k++)
        s[k] = 0.0f;
    for (int64_t cc = lo; cc <= hi; cc++) {
        const float *xc = img + cc * j->plane;
        for (int64_t k = 0; k < j->plane; k++)
            s[k] += xc[k] * xc[k];
    }
    float a = p->alpha / (float)p->size;
    for (int64_t k = 0; k < j->plane; k++)
        s[k] = p->bias + a * s[k];
}

static void lrn_fwd_range(void *arg, long begin, long end)
{
    lrn_job *j = arg;
    for (long u = begin; u < end; u++) {
        int64_t img = u / j->channels, c = u % j->channels;
        const float *ximg = j->x + img * j->channels * j->plane;
        float *y = j->out + u * j->plane;
        const float *x = j->x + u * j->plane;
        lrn_scale(j, ximg, c, y);     /* y holds s, then x s^-beta */
        float nb = -j->p->beta;
        for (int64_t k = 0; k < j->plane; k++)
            y[k] = x[k] * powf(y[k], nb);
    }
}

static void lrn_forward(const hl_node *n, hl_op_ctx *c, const hl_tensor *in,
                        hl_tensor *out)
{
    const hl_shape *s = &in[0].shape;
    int64_t plane = 1;
    for (int d = 2; d < s->ndim; d++)
        plane *= s->dims[d];
    lrn_job j = { n->params, s->dims[1], plane, in[0].data, NULL, NULL,
                  out[0].data };
    long units = (long)(s->dims[0] * s->dims[1]);
    hl_par_for(c, units, (long)hl_shape_numel(s) * j.p->size, lrn_fwd_range,
               &j);
}

/* gx_j = g_j s_j^-beta
 *        - 2 beta alpha/size x_j sum_{c : j in W(c)} g_c y_c / s_c,
 * and j in W(c) <=> c in [j - ceil((size-1)/2), j + floor((size-1)/2)]. */
static void lrn_bwd_range(void *arg, long begin, long end)
{
    lrn_job *j = arg;
    const lrn_params *p = j->p;
    float coef = -2.0f * p->beta * p->alpha / (float)p->size;
    for (long u = begin; u < end; u++) {
        int64_t img = u / j->channels, cj = u % j->channels;
        int64_t base = img * j->channels * j->plane;
        const float *x = j->x + u * j->plane;
        const float *g = j->g + u * j->plane;
        float *gx = j->out + u * j->plane;
        int64_t lo = cj - p->size / 2, hi = cj + (p->size - 1) / 2;
        if (lo < 0)
            lo = 0;
        if (hi > j->channels - 1)
            hi = j->channels - 1;
        for (int64_t k = 0; k < j->plane; k++) {
            /* s of this channel and of each channel whose window holds it */
            float acc = 0.0f, own = 0.0f;
            for (int64_t c = lo; c <= hi; c++) {
                int64_t wlo = c - (p->size - 1) / 2, whi = c + p->size / 2;
                if (wlo < 0)
                    wlo = 0;
                if (whi > j->channels - 1)
                    whi = j->channels - 1;
                float ss = 0.0f;
                for (int64_t cc = wlo; cc <= whi; cc++) {
                    float v = j->x[base + cc * j->plane + k];
                    ss += v * v;
                }
                float s = p->bias + p->alpha / (float)p->size * ss;
                int64_t off = base + c * j->plane + k;
                acc += j->g[off] * j->y[off] / s;
                if (c == cj)
                    own = s;
            }
            gx[k] += g[k] * powf(own, -p->beta) + coef * x[k] * acc;
        }
    }
}

static void lrn_backward(const hl_node *n, hl_op_ctx *c, const hl_tensor *in,
                         const hl_tensor *out, const hl_tensor *gout,
                         hl_tensor *gin)
{
    if (!gout[0].data || !gin[0].data)
        return;
    const hl_shape *s = &in[0].shape;
    int64_t plane = 1;
    for (int d = 2; d < s->ndim; d++)
        plane *= s->dims[d];
    lrn_job j = { n->params, s->dims[1], plane, in[0].data, out[0].data,
                  gout[0].data, gin[0].data };
    long units = (long)(s->dims[0] * s->dims[1]);
    hl_par_for(c, units,
               (long)hl_shape_numel(s) * j.p->size * j.p->size,
               lrn_bwd_range, &j);
}

const hl_op hl_op_lrn = {
    .op_type = "LRN", .source = __FILE__, .init = lrn_init, .shape = lrn_shape,
    .forward = lrn_forward, .backward = lrn_backward,
    .free_params = hl_params_free, .region = hl_region_pointwise,
};
