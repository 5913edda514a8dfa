/* LayerNormalization (opset 17): each row X[i, axis:] is normalised by its
 * own mean and (population) variance, then scaled and shifted:
 *   y = (x - mean) / sqrt(var + epsilon) * Scale + B.
 * InstanceNormalization is the same with one row per (image, channel)
 * plane and Scale/B per channel (what torch.onnx writes for GroupNorm,
 * e.g. BiT ResNet-V2, on an [N, groups, -1] reshape).
 * Scale and B hold one value per element of the row (or one in all). The
 * optional outputs Mean and InvStdDev = 1 / sqrt(var + epsilon) have the
 * shape of X with the normalised dims set to 1.
 * Backward recomputes the row statistics from the saved input. */
#include <math.h>
#include <string.h>
#include "kernels.h"

typedef struct {
    int64_t axis;      /* as given; normalised against the rank in shape() */
    float epsilon;
} ln_params;

static hl_status ln_init(hl_node *n, const hl_attrs *attrs,
                         const hl_tensor *in, hl_error *err)
{
    (void)in;
    if (n->n_in < 2 || n->n_in > 3 || !hl_has_input(n, 1) || n->n_out < 1)
        return hl_error_set(err, HL_ERR_ARG,
                            "expects inputs X, Scale and optional B");
    if (n->n_out > 3)
        return hl_error_set(err, HL_ERR_ARG,
                            "expects outputs Y, optional Mean and InvStdDev");
    hl_status st = hl_params_alloc(n, sizeof(ln_params), err);
    if (st)
        return st;
    ln_params *p = n->params;
    p->axis = hl_attrs_int(attrs, "axis", -1);
    p->epsilon = hl_attrs_float(attrs, "epsilon", 1e-5f);
    if (!(p->epsilon >= 0))
        return hl_error_set(err, HL_ERR_ARG, "attribute 'epsilon' must be >= 0");
    return HL_OK;
}

/* Rows and row length of X for this node; -1 on a bad axis. */
static int ln_split(const ln_params *p, const hl_shape *x, int64_t *rows,
                    int64_t *inner)
{
    int a = hl_axis(p->axis, x->ndim);
    if (a < 0)
        return -1;
    *rows = 1;
    *inner = 1;
    for (int d = 0; d < x->ndim; d++) {
        if (d < a)
            *rows *= x->dims[d];
        else
            *inner *= x->dims[d];
    }
    return 0;
}

static hl_status ln_shape(const hl_node *n, const hl_tensor *in,
                          hl_tensor *out, hl_error *err)
{
    hl_status fs = hl_require_float_inputs(n, in, err);
    if (fs)
        return fs;
    const ln_params *p = n->params;
    int64_t rows = 0, inner = 0;
    if (in[0].dtype != HL_DT_FLOAT)
        return hl_error_set(err, HL_ERR_UNSUPPORTED, "input must be float");
    if (ln_split(p, &in[0].shape, &rows, &inner))
        return hl_error_set(err, HL_ERR_ARG,
                            "attribute 'axis' (%lld) is out of range for rank %d",
                            (long long)p->axis, in[0].shape.ndim);
    for (int i = 1; i < n->n_in; i++) {
        if (!hl_has_input(n, i))
            continue;
        int64_t k = hl_shape_numel(&in[i].shape);
        if (k != inner && k != 1) {
            char b[96];
            return hl_error_set(err, HL_ERR_UNSUPPORTED,
                                "input %s %s must have one value per "
                                "normalised element (%lld) or one in all",
                                i == 1 ? "Scale" : "B",
                                hl_shape_format(&in[i].shape, b, sizeof b),
                                (long long)inner);
        }
    }
    out[0].shape = in[0].shape;
    out[0].dtype = HL_DT_FLOAT;
    int a = hl_axis(p->axis, in[0].shape.ndim);
    for (int o = 1; o < n->n_out; o++) {
        out[o].shape = in[0].shape;
        out[o].dtype = HL_DT_FLOAT;
        for (int d = a; d < in[0].shape.ndim; d++)
            out[o].shape.dims[d] = 1;
    }
    return HL_OK;
}

typedef struct {
    const float *x, *scale, *bias, *g;
    const float *g_mean, *g_rstd;    /* gradients of Mean, InvStdDev or NULL */
    float *y;
    float *mean, *rstd;              /* optional outputs or NULL */
    int64_t inner;
    int64_t scale_step, bias_step;   /* 1 per element, 0 for one value */
    int64_t channels;                /* InstanceNormalization: Scale/B of
                                        row r at r % channels; 0 otherwise */
    float epsilon;
} ln_job;

/* Index into Scale or B of row r, element k. */
static inline int64_t ln_pidx(const ln_job *j, int64_t r, int64_t k,
                              int64_t step)
{
    return j->channels ? r % j->channels : k * step;
}

/* mean and 1/sqrt(var + eps) of one row (accumulated in double). */
static void ln_stats(const float *x, int64_t n, float eps, float *mean,
                     float *rstd)
{
    double s = 0;
    for (int64_t k = 0; k < n; k++)
        s += x[k];
    double m = n > 0 ? s / (double)n : 0.0;
    double v = 0;
    for (int64_t k = 0; k < n; k++) {
        double d = x[k] - m;
        v += d * d;
    }
    v = n > 0 ? v / (double)n : 0.0;
    *mean = (float)m;
    *rstd = (float)(1.0 / sqrt(v + eps));
}

static void ln_fwd_range(void *arg, long begin, long end)
{
    ln_job *j = arg;
    int64_t n = j->inner;
    for (long r = begin; r < end; r++) {
        const float *x = j->x + r * n;
        float *y = j->y + r * n;
        float mean, rstd;
        ln_stats(x, n, j->epsilon, &mean, &rstd);
        if (j->mean)
            j->mean[r] = mean;
        if (j->rstd)
            j->rstd[r] = rstd;
        for (int64_t k = 0; k < n; k++) {
            float v = (x[k] - mean) * rstd * j->scale[ln_pidx(j, r, k, j->scale_step)];
            y[k] = j->bias ? v + j->bias[ln_pidx(j, r, k, j->bias_step)] : v;
        }
    }
}

static void ln_job_init(ln_job *j, const hl_node *n, const hl_tensor *in,
                        int64_t inner)
{
    memset(j, 0, sizeof *j);
    const ln_params *p = n->params;
    j->x = in[0].data;
    j->scale = in[1].data;
    j->scale_step = hl_shape_numel(&in[1].shape) == 1 ? 0 : 1;
    if (hl_has_input(n, 2)) {
        j->bias = in[2].data;
        j->bias_step = hl_shape_numel(&in[2].shape) == 1 ? 0 : 1;
    }
    j->inner = inner;
    j->epsilon = p->epsilon;
}

static void ln_forward(const hl_node *n, hl_op_ctx *c, const hl_tensor *in,
                       hl_tensor *out)
{
    int64_t rows = 0, inner = 0;
    ln_split(n->params, &in[0].shape, &rows, &inner);
    ln_job j;
    ln_job_init(&j, n, in, inner);
    j.y = out[0].data;
    j.mean = hl_has_output(n, 1) ? out[1].data : NULL;
    j.rstd = hl_has_output(n, 2) ? out[2].data : NULL;
    hl_par_for(c, (long)rows, (long)(rows * inner), ln_fwd_range, &j);
}

/* d/dx of one row: rstd * (gh - mean(gh) - xhat * mean(gh * xhat)) with
 * gh = g * scale and xhat = (x - mean) * rstd; plus, when the statistics
 * outputs are used, d mean/dx = 1/n and d rstd/dx = -rstd^2 xhat / n. */
static void ln_bwd_range(void *arg, long begin, long end)
{
    ln_job *j = arg;
    int64_t n = j->inner;
    for (long r = begin; r < end; r++) {
        const float *x = j->x + r * n;
        float *gx = j->y + r * n;
        float mean, rstd;
        ln_stats(x, n, j->epsilon, &mean, &rstd);
        if (j->g) {
            const float *g = j->g + r * n;
            double sg = 0, sgx = 0;
            for (int64_t k = 0; k < n; k++) {
                double gh = (double)g[k] * j->scale[ln_pidx(j, r, k, j->scale_step)];
                sg += gh;
                sgx += gh * ((x[k] - mean) * rstd);
            }
            float mg = (float)(sg / (double)n), mgx = (float)(sgx / (double)n);
            for (int64_t k = 0; k < n; k++) {
                float gh = g[k] * j->scale[ln_pidx(j, r, k, j->scale_step)];
                float xh = (x[k] - mean) * rstd;
                gx[k] += rstd * (gh - mg - xh * mgx);
            }
        }
        float gm = j->g_mean ? j->g_mean[r] : 0.0f;
        float gr = j->g_rstd ? j->g_rstd[r] : 0.0f;
        if (gm != 0.0f || gr != 0.0f)
            for (int64_t k = 0; k < n; k++) {
                float xh = (x[k] - mean) * rstd;
                gx[k] += (gm - gr * rstd * rstd * xh) / (float)n;
            }
    }
}

static void ln_backward(const hl_node *n, hl_op_ctx *c, const hl_tensor *in,
                        const hl_tensor *out, const hl_tensor *gout,
                        hl_tensor *gin)
{
    (void)out;
    int64_t rows = 0, inner = 0;
    ln_split(n->params, &in[0].shape, &rows, &inner);
    ln_job j;
    ln_job_init(&j, n, in, inner);
    j.g = gout[0].data;
    j.g_mean = hl_has_output(n, 1) ? gout[1].data : NULL;
    j.g_rstd = hl_has_output(n, 2) ? gout[2].data : NULL;
    if (!j.g && !j.g_mean && !j.g_rstd)
        return;
    if (gin[0].data) {
        j.y = gin[0].data;
        hl_par_for(c, (long)rows, (long)(rows * inner), ln_bwd_range, &j);
    }
    /* Scale and B computed at run time (not weights): their gradients are
     * sums over the rows, kept serial. */
    float *gs = hl_has_input(n, 1) ? gin[1].data : NULL;
    float *gb = hl_has_input(n, 2) ? gin[2].data : NULL;
    if ((!gs && !gb) || !j.g)
        return;
    for (int64_t r = 0; r < rows; r++) {
        const float *x = j.x + r * inner;
        const float *g = j.g + r * inner;
        float mean, rstd;
        ln_stats(x, inner, j.epsilon, &mean, &rstd);
        for (int64_t k = 0; k < inner; k++) {
            if (gs)
                gs[ln_pidx(&j, r, k, j.scale_step)] += g[k] * (x[k] - mean) * rstd;
            if (gb)
                gb[ln_pidx(&j, r, k, j.bias_step)] += g[k];
        }
    }
}

const hl_op hl_op_layernormalization = {
    .op_type = "LayerNormalization", .source = __FILE__, .init = ln_init, .shape = ln_shape,
    .forward = ln_forward, .backward = ln_backward,
    .free_params = hl_params_free,
};

/* ------------------------------------------------ InstanceNormalization */

static hl_status in_init(hl_node *n, const hl_attrs *attrs,
                         const hl_tensor *in, hl_error *err)
{
    (void)in;
    if (n->n_in != 3 || !hl_has_input(n, 1) || !hl_has_input(n, 2) ||
        n->n_out != 1)
        return hl_error_set(err, HL_ERR_ARG,
                            "expects inputs X, scale and B and 1 output");
    hl_status st = hl_params_alloc(n, sizeof(ln_params), err);
    if (st)
        return st;
    ln_params *p = n->params;
    p->axis = 2;
    p->epsilon = hl_attrs_float(attrs, "epsilon", 1e-5f);
    if (!(p->epsilon >= 0))
        return hl_error_set(err, HL_ERR_ARG, "attribute 'epsilon' must be >= 0");
    return HL_OK;
}

static hl_status in_shape(const hl_node *n, const hl_tensor *in,
                          hl_tensor *out, hl_error *err)
{
    hl_status fs = hl_require_float_inputs(n, in, err);
    if (fs)
        return fs;
    (void)n;
    char b[96];
    if (in[0].dtype != HL_DT_FLOAT)
        return hl_error_set(err, HL_ERR_UNSUPPORTED, "input must be float");
    if (in[0].shape.ndim < 3)
        return hl_error_set(err, HL_ERR_SHAPE,
                            "input %s needs [N,C,spatial...]",
                            hl_shape_format(&in[0].shape, b, sizeof b));
    int64_t c = in[0].shape.dims[1];
    for (int i = 1; i <= 2; i++)
        if (hl_shape_numel(&in[i].shape) != c)
            return hl_error_set(err, HL_ERR_SHAPE,
                                "input %s %s must hold one value per channel (%lld)",
                                i == 1 ? "scale" : "B",
                                hl_shape_format(&in[i].shape, b, sizeof b),
                                (long long)c);
    out[0].shape = in[0].shape;
    out[0].dtype = HL_DT_FLOAT;
    return HL_OK;
}

static void in_forward(const hl_node *n, hl_op_ctx *c, const hl_tensor *in,
                       hl_tensor *out)
{
    int64_t rows = 0, inner = 0;
    ln_split(n->params, &in[0].shape, &rows, &inner);
    /* axis 2: one row per (image, channel) */
    ln_job j;
    ln_job_init(&j, n, in, inner);
    j.channels = in[0].shape.dims[1];
    j.y = out[0].data;
    hl_par_for(c, (long)rows, (long)(rows * inner), ln_fwd_range, &j);
}

static void in_backward(const hl_node *n, hl_op_ctx *c, const hl_tensor *in,
                        const hl_tensor *out, const hl_tensor *gout,
                        hl_tensor *gin)
{
    (void)out;
    if (!gout[0].data)
        return;
    int64_t rows = 0, inner = 0;
    ln_split(n->params, &in[0].shape, &rows, &inner);
    /* axis 2: one row per (image, channel) */
    ln_job j;
    ln_job_init(&j, n, in, inner);
    j.channels = in[0].shape.dims[1];
    j.g = gout[0].data;
    if (gin[0].data) {
        j.y = gin[0].data;
        hl_par_for(c, (long)rows, (long)(rows * inner), ln_bwd_range, &j);
    }
    float *gs = gin[1].data, *gb = gin[2].data;
    if (!gs && !gb)
        return;
    for (int64_t r = 0; r < rows; r++) {
        const float *x = j.x + r * inner;
        const float *g = j.g + r * inner;
        float mean, rstd;
        ln_stats(x, inner, j.epsilon, &mean, &rstd);
        for (int64_t k = 0; k < inner; k++) {
            if (gs)
                gs[r % j.channels] += g[k] * (x[k] - mean) * rstd;
            if (gb)
                gb[r % j.channels] += g[k];
        }
    }
}

const hl_op hl_op_instancenormalization = {
    .op_type = "InstanceNormalization", .source = __FILE__, .init = in_init, .shape = in_shape,
    .forward = in_forward, .backward = in_backward,
    .free_params = hl_params_free,
};
