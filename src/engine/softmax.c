/* Softmax and LogSoftmax. Before opset 13 the input is flattened to 2-D at
 * `axis` (default 1) and normalised over everything after it; from opset 13
 * over the single axis `axis` (default -1). Either way the data is viewed
 * as [outer, len, inner] and normalised along len. */
#include <math.h>
#include "kernels.h"

typedef struct {
    int log;
    int64_t axis;
} softmax_params;

typedef struct {
    int64_t outer, len, inner;
} sm_geom;

static int sm_geom_make(const hl_node *n, const hl_shape *s, sm_geom *g)
{
    const softmax_params *p = n->params;
    int rank = s->ndim;
    if (rank == 0) {
        g->outer = g->len = g->inner = 1;
        return 0;
    }
    int axis = hl_axis(p->axis, rank);
    if (axis < 0)
        return -1;
    g->outer = g->len = g->inner = 1;
    for (int i = 0; i < axis; i++)
        g->outer *= s->dims[i];
    if (n->opset < 13) {
        for (int i = axis; i < rank; i++)
            g->len *= s->dims[i];
    } else {
        g->len = s->dims[axis];
        for (int i = axis + 1; i < rank; i++)
            g->inner *= s->dims[i];
    }
    return 0;
}

static hl_status sm_init_common(hl_node *n, const hl_attrs *attrs, int log,
                                hl_error *err)
{
    if (n->n_in != 1 || n->n_out != 1)
        return hl_error_set(err, HL_ERR_ARG, "expects 1 input and 1 output");
    hl_status st = hl_params_alloc(n, sizeof(softmax_params), err);
    if (st)
        return st;
    softmax_params *p = n->params;
    p->log = log;
    p->axis = hl_attrs_int(attrs, "axis", n->opset < 13 ? 1 : -1);
    return HL_OK;
}

static hl_status softmax_init(hl_node *n, const hl_attrs *attrs,
                              const hl_tensor *in, hl_error *err)
{
    (void)in;
    return sm_init_common(n, attrs, 0, err);
}

static hl_status logsoftmax_init(hl_node *n, const hl_attrs *attrs,
                                 const hl_tensor *in, hl_error *err)
{
    (void)in;
    return sm_init_common(n, attrs, 1, err);
}

static hl_status sm_shape(const hl_node *n, const hl_tensor *in,
                          hl_tensor *out, hl_error *err)
{
    sm_geom g;
    if (sm_geom_make(n, &in[0].shape, &g))
        return hl_error_set(err, HL_ERR_ARG,
                            "attribute 'axis' = %lld is out of range",
                            (long long)((const softmax_params *)n->params)->axis);
    out[0].shape = in[0].shape;
    out[0].dtype = HL_DT_FLOAT;
    return HL_OK;
}

typedef struct {
    int log;
    sm_geom g;
    const float *x, *y, *gy;
    float *out, *gx;
} sm_job;

/* one unit = one (outer, inner) line of len elements, stride inner */
static void sm_fwd_range(void *arg, long begin, long end)
{
    sm_job *j = arg;
    int64_t len = j->g.len, st = j->g.inner;
    for (long u = begin; u < end; u++) {
        int64_t o = u / st, i = u % st;
        const float *x = j->x + o * len * st + i;
        float *y = j->out + o * len * st + i;
        float m = -INFINITY;
        for (int64_t k = 0; k < len; k++)
            m = x[k * st] > m ? x[k * st] : m;
        double sum = 0;
        for (int64_t k = 0; k < len; k++)
            sum += exp((double)x[k * st] - m);
        if (j->log) {
            float lse = (float)(m + log(sum));
            for (int64_t k = 0; k < len; k++)
                y[k * st] = x[k * st] - lse;
        } else {
            double inv = 1.0 / sum;
            for (int64_t k = 0; k < len; k++)
                y[k * st] = (float)(exp((double)x[k * st] - m) * inv);
        }
    }
}

static void sm_bwd_range(void *arg, long begin, long end)
{
    sm_job *j = arg;
    int64_t len = j->g.len, st = j->g.inner;
    for (long u = begin; u < end; u++) {
        int64_t o = u / st, i = u % st;
        int64_t base = o * len * st + i;
        const float *y = j->y + base, *g = j->gy + base;
        float *gx = j->gx + base;
        double dot = 0;
        if (j->log) { /* gx = g - softmax * sum(g) */
            for (int64_t k = 0; k < len; k++)
                dot += g[k * st];
            for (int64_t k = 0; k < len; k++)
                gx[k * st] += (float)(g[k * st] - exp(y[k * st]) * dot);
        } else {      /* gx = y * (g - sum(g * y)) */
            for (int64_t k = 0; k < len; k++)
                dot += (double)g[k * st] * y[k * st];
            for (int64_t k = 0; k < len; k++)
                gx[k * st] += (float)(y[k * st] * (g[k * st] - dot));
        }
    }
}

static void sm_forward(const hl_node *n, hl_op_ctx *c, const hl_tensor *in,
                       hl_tensor *out)
{
    sm_job j = { ((const softmax_params *)n->params)->log, { 1, 1, 1 },
                 in[0].data, NULL, NULL, out[0].data, NULL };
    if (sm_geom_make(n, &in[0].shape, &j.g))
        return;
    long lines = (long)(j.g.outer * j.g.inner);
    hl_par_for(c, lines, lines * (long)j.g.len, sm_fwd_range, &j);
}

static void sm_backward(const hl_node *n, hl_op_ctx *c, const hl_tensor *in,
                        const hl_tensor *out, const hl_tensor *gout,
                        hl_tensor *gin)
{
    if (!gout[0].data || !gin[0].data)
        return;
    sm_job j = { ((const softmax_params *)n->params)->log, { 1, 1, 1 },
                 in[0].data, out[0].data, gout[0].data, NULL, gin[0].data };
    if (sm_geom_make(n, &in[0].shape, &j.g))
        return;
    long lines = (long)(j.g.outer * j.g.inner);
    hl_par_for(c, lines, lines * (long)j.g.len, sm_bwd_range, &j);
}

const hl_op hl_op_softmax = {
    .op_type = "Softmax", .source = __FILE__, .init = softmax_init, .shape = sm_shape,
    .forward = sm_forward, .backward = sm_backward,
    .free_params = hl_params_free,
};

const hl_op hl_op_logsoftmax = {
    .op_type = "LogSoftmax", .source = __FILE__, .init = logsoftmax_init, .shape = sm_shape,
    .forward = sm_forward, .backward = sm_backward,
    .free_params = hl_params_free,
};
