/* BatchNormalization in inference mode: y = (x - mean) / sqrt(var + eps)
 * * scale + bias per channel (dim 1). */
#include <math.h>
#include <string.h>
#include "kernels.h"

typedef struct {
    float epsilon;
} bn_params;

static hl_status bn_init(hl_node *n, const hl_attrs *attrs,
                         const hl_tensor *in, hl_error *err)
{
    (void)in;
    if (n->n_in != 5)
        return hl_error_set(err, HL_ERR_ARG,
                            "expects 5 inputs (X, scale, B, mean, var)");
    for (int i = 1; i < n->n_out; i++)
        if (n->out[i] >= 0)
            return hl_error_set(err, HL_ERR_UNSUPPORTED,
                                "training outputs (mean/var) are not supported");
    if (hl_attrs_int(attrs, "training_mode", 0) != 0)
        return hl_error_set(err, HL_ERR_UNSUPPORTED,
                            "attribute 'training_mode' = 1 (inference only)");
    if (hl_attrs_int(attrs, "spatial", 1) != 1)
        return hl_error_set(err, HL_ERR_UNSUPPORTED,
                            "attribute 'spatial' = 0");
    hl_status st = hl_params_alloc(n, sizeof(bn_params), err);
    if (st)
        return st;
    bn_params *p = n->params;
    p->epsilon = hl_attrs_float(attrs, "epsilon", 1e-5f);
    return HL_OK;
}

static hl_status bn_shape(const hl_node *n, const hl_tensor *in,
                          hl_tensor *out, hl_error *err)
{
    hl_status fs = hl_require_float_inputs(n, in, err);
    if (fs)
        return fs;
    (void)n;
    if (in[0].shape.ndim < 2)
        return hl_error_set(err, HL_ERR_SHAPE, "input needs a channel dim");
    int64_t C = in[0].shape.dims[1];
    for (int i = 1; i < 5; i++)
        if (hl_shape_numel(&in[i].shape) != C)
            return hl_error_set(err, HL_ERR_SHAPE,
                                "input %d must have %lld values", i,
                                (long long)C);
    out[0].shape = in[0].shape;
    out[0].dtype = HL_DT_FLOAT;
    return HL_OK;
}

typedef struct {
    const float *x, *scale, *bias, *mean, *var, *g;
    float *y;
    float eps;
    int64_t C, plane;
} bn_job;

static void bn_fwd_range(void *arg, long begin, long end)
{
    bn_job *j = arg;
    for (long u = begin; u < end; u++) {
        int64_t c = u % j->C;
        float a = j->scale[c] / sqrtf(j->var[c] + j->eps);
        float b = j->bias[c] - j->mean[c] * a;
        const float *x = j->x + u * j->plane;
        float *y = j->y + u * j->plane;
        for (int64_t i = 0; i < j->plane; i++)
            y[i] = x[i] * a + b;
    }
}

static void bn_bwd_range(void *arg, long begin, long end)
{
    bn_job *j = arg;
    for (long u = begin; u < end; u++) {
        int64_t c = u % j->C;
        float a = j->scale[c] / sqrtf(j->var[c] + j->eps);
        const float *g = j->g + u * j->plane;
        float *gx = j->y + u * j->plane;
        for (int64_t i = 0; i < j->plane; i++)
            gx[i] += g[i] * a;
    }
}

static bn_job bn_make_job(const hl_node *n, const hl_tensor *in)
{
    const bn_params *p = n->params;
    bn_job j = { in[0].data, in[1].data, in[2].data, in[3].data, in[4].data,
                 NULL, NULL, p->epsilon, in[0].shape.dims[1], 1 };
    for (int i = 2; i < in[0].shape.ndim; i++)
        j.plane *= in[0].shape.dims[i];
    return j;
}

static void bn_forward(const hl_node *n, hl_op_ctx *c, const hl_tensor *in,
                       hl_tensor *out)
{
    bn_job j = bn_make_job(n, in);
    j.y = out[0].data;
    long planes = (long)(hl_shape_numel(&in[0].shape) / j.plane);
    hl_par_for(c, planes, planes * (long)j.plane, bn_fwd_range, &j);
}

static void bn_backward(const hl_node *n, hl_op_ctx *c, const hl_tensor *in,
                        const hl_tensor *out, const hl_tensor *gout,
                        hl_tensor *gin)
{
    (void)out;
    if (!gout[0].data || !gin[0].data)
        return;
    bn_job j = bn_make_job(n, in);
    j.g = gout[0].data;
    j.y = gin[0].data;
    long planes = (long)(hl_shape_numel(&in[0].shape) / j.plane);
    hl_par_for(c, planes, planes * (long)j.plane, bn_bwd_range, &j);
}

/* Pixel by pixel; its other inputs are per-channel constants. */
static int bn_region(const hl_node *n, const hl_tensor *in,
                     const hl_tensor *out, hl_region *r)
{
    (void)n;
    memset(r, 0, sizeof *r);
    for (int i = 1; i < 5; i++)
        if (!in[i].data)
            return 0;
    return in[0].shape.ndim == 4 && out[0].shape.ndim == 4;
}

const hl_op hl_op_batchnorm = {
    .op_type = "BatchNormalization", .source = __FILE__,
    .flags = HL_OP_BATCHNORM, .lrp = HL_LRP_BATCHNORM, .init = bn_init, .shape = bn_shape,
    .forward = bn_forward, .backward = bn_backward,
    .free_params = hl_params_free, .region = bn_region,
};
