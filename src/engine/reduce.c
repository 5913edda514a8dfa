/* ReduceMean, ReduceSum, ReduceMax, ReduceMin over the `axes` attribute
 * (all axes when absent; an optional axes input from opset 18, 13 for
 * ReduceSum), keepdims, noop_with_empty_axes. ReduceMax/Min pass the
 * gradient to the first extreme element in memory order (like PyTorch's
 * max(dim) and our MaxPool), found again from the saved input. */
#include <math.h>
#include <string.h>
#include "kernels.h"

typedef enum { RED_MEAN, RED_SUM, RED_MAX, RED_MIN } reduce_kind;

typedef struct {
    reduce_kind kind;
    int keepdims;
    int noop_empty;
    int naxes;           /* -1: all axes */
    int64_t axes[HL_MAX_DIMS];
} reduce_params;

static hl_status reduce_init_kind(reduce_kind kind, hl_node *n, const hl_attrs *attrs,
                                  const hl_tensor *in, hl_error *err)
{
    if (n->n_in < 1 || n->n_out != 1)
        return hl_error_set(err, HL_ERR_ARG, "expects 1 output");
    hl_status st = hl_params_alloc(n, sizeof(reduce_params), err);
    if (st)
        return st;
    reduce_params *p = n->params;
    p->kind = kind;
    p->keepdims = hl_attrs_int(attrs, "keepdims", 1) != 0;
    p->noop_empty = hl_attrs_int(attrs, "noop_with_empty_axes", 0) != 0;
    p->naxes = hl_attrs_ints(attrs, "axes", p->axes, HL_MAX_DIMS);
    if (p->naxes > HL_MAX_DIMS)
        return hl_error_set(err, HL_ERR_ARG, "attribute 'axes' is too long");
    if (hl_has_input(n, 1)) {
        if (!in[1].i64)
            return hl_error_set(err, HL_ERR_UNSUPPORTED,
                                "input 'axes' must be a constant");
        p->naxes = hl_tensor_ints(&in[1], p->axes, HL_MAX_DIMS);
    }
    if (p->naxes == 0 && !p->noop_empty)
        p->naxes = -1;
    return HL_OK;
}

/* mask[i] = 1 if dim i is reduced; -1 on a bad axis. */
static int reduce_mask(const reduce_params *p, int rank, int mask[HL_MAX_DIMS])
{
    for (int i = 0; i < rank; i++)
        mask[i] = p->naxes < 0;
    for (int k = 0; k < p->naxes; k++) {
        int a = hl_axis(p->axes[k], rank);
        if (a < 0)
            return -1;
        mask[a] = 1;
    }
    return 0;
}

static hl_status reduce_shape(const hl_node *n, const hl_tensor *in,
                              hl_tensor *out, hl_error *err)
{
    const reduce_params *p = n->params;
    int mask[HL_MAX_DIMS];
    if (reduce_mask(p, in[0].shape.ndim, mask))
        return hl_error_set(err, HL_ERR_ARG, "attribute 'axes' is out of range");
    out[0].dtype = HL_DT_FLOAT;
    out[0].shape.ndim = 0;
    for (int i = 0; i < in[0].shape.ndim; i++) {
        if (!mask[i])
            out[0].shape.dims[out[0].shape.ndim++] = in[0].shape.dims[i];
        else if (p->keepdims)
            out[0].shape.dims[out[0].shape.ndim++] = 1;
    }
    return HL_OK;
}

/* The reduced shape with kept dims, so hl_bcast maps input -> output. */
static void reduce_kept_shape(const reduce_params *p, const hl_shape *s,
                              hl_shape *k, int64_t *count)
{
    int mask[HL_MAX_DIMS];
    reduce_mask(p, s->ndim, mask);
    *k = *s;
    *count = 1;
    for (int i = 0; i < s->ndim; i++)
        if (mask[i]) {
            *count *= s->dims[i];
            k->dims[i] = 1;
        }
}

static void reduce_forward(const hl_node *n, hl_op_ctx *c, const hl_tensor *in,
                           hl_tensor *out)
{
    (void)c;
    hl_shape ks;
    int64_t count;
    reduce_kept_shape(n->params, &in[0].shape, &ks, &count);
    int64_t on = hl_shape_numel(&ks);
    float *y = out[0].data;
    reduce_kind kind = ((const reduce_params *)n->params)->kind;
    if (kind == RED_MAX || kind == RED_MIN) {
        float init = kind == RED_MAX ? -INFINITY : INFINITY;
        for (int64_t i = 0; i < on; i++)
            y[i] = init;
    } else {
        memset(y, 0, sizeof(float) * (size_t)on);
    }
    hl_bcast bc;
    hl_bcast_init(&bc, &in[0].shape, &ks);
    int64_t inner = bc.dims[bc.ndim - 1], sb = bc.sb[bc.ndim - 1];
    const float *x = in[0].data;
    int64_t rows = inner > 0 ? bc.total / inner : 0; /* empty input */
    for (int64_t r = 0; r < rows; r++) {
        int64_t oa, ob;
        hl_bcast_row(&bc, r, &oa, &ob);
        if (kind == RED_MAX) {
            for (int64_t k = 0; k < inner; k++)
                if (x[oa + k] > y[ob + k * sb])
                    y[ob + k * sb] = x[oa + k];
        } else if (kind == RED_MIN) {
            for (int64_t k = 0; k < inner; k++)
                if (x[oa + k] < y[ob + k * sb])
                    y[ob + k * sb] = x[oa + k];
        } else if (sb == 0) {
            float s = 0;
            for (int64_t k = 0; k < inner; k++)
                s += x[oa + k];
            y[ob] += s;
        } else {
            for (int64_t k = 0; k < inner; k++)
                y[ob + k] += x[oa + k];
        }
    }
    if (kind != RED_MEAN)
        return;
    float inv = count > 0 ? 1.0f / (float)count : 0.0f;
    for (int64_t i = 0; i < on; i++)
        y[i] *= inv;
}

static size_t reduce_scratch(const hl_node *n, const hl_tensor *in,
                             const hl_tensor *out)
{
    (void)in;
    reduce_kind kind = ((const reduce_params *)n->params)->kind;
    return kind == RED_MAX || kind == RED_MIN
               ? (size_t)hl_shape_numel(&out[0].shape) : 0;
}

static void reduce_backward(const hl_node *n, hl_op_ctx *c,
                            const hl_tensor *in, const hl_tensor *out,
                            const hl_tensor *gout, hl_tensor *gin)
{
    if (!gout[0].data || !gin[0].data)
        return;
    hl_shape ks;
    int64_t count;
    reduce_kept_shape(n->params, &in[0].shape, &ks, &count);
    hl_bcast bc;
    hl_bcast_init(&bc, &in[0].shape, &ks);
    int64_t inner = bc.dims[bc.ndim - 1], sb = bc.sb[bc.ndim - 1];
    float inv = count > 0 ? 1.0f / (float)count : 0.0f;
    reduce_kind kind = ((const reduce_params *)n->params)->kind;
    if (kind == RED_SUM)
        inv = 1.0f;
    const float *g = gout[0].data;
    float *gx = gin[0].data;
    if (kind == RED_MAX || kind == RED_MIN) {
        /* scratch: 1 once the output's extreme has taken its gradient */
        const float *y = out[0].data;
        float *taken = c->scratch;
        memset(taken, 0, sizeof(float) * (size_t)hl_shape_numel(&ks));
        int64_t rows = inner > 0 ? bc.total / inner : 0;
        for (int64_t r = 0; r < rows; r++) {
            int64_t oa, ob;
            hl_bcast_row(&bc, r, &oa, &ob);
            for (int64_t k = 0; k < inner; k++) {
                int64_t o = ob + k * sb;
                if (in[0].data[oa + k] == y[o] && taken[o] == 0.0f) {
                    gx[oa + k] += g[o];
                    taken[o] = 1.0f;
                }
            }
        }
        return;
    }
    int64_t rows = inner > 0 ? bc.total / inner : 0; /* empty input */
    for (int64_t r = 0; r < rows; r++) {
        int64_t oa, ob;
        hl_bcast_row(&bc, r, &oa, &ob);
        for (int64_t k = 0; k < inner; k++)
            gx[oa + k] += g[ob + k * sb] * inv;
    }
}

static hl_status reducemean_init(hl_node *n, const hl_attrs *attrs,
                                 const hl_tensor *in, hl_error *err)
{
    return reduce_init_kind(RED_MEAN, n, attrs, in, err);
}

static hl_status reducesum_init(hl_node *n, const hl_attrs *attrs,
                                const hl_tensor *in, hl_error *err)
{
    return reduce_init_kind(RED_SUM, n, attrs, in, err);
}

static hl_status reducemax_init(hl_node *n, const hl_attrs *attrs,
                                const hl_tensor *in, hl_error *err)
{
    return reduce_init_kind(RED_MAX, n, attrs, in, err);
}

static hl_status reducemin_init(hl_node *n, const hl_attrs *attrs,
                                const hl_tensor *in, hl_error *err)
{
    return reduce_init_kind(RED_MIN, n, attrs, in, err);
}

const hl_op hl_op_reducemean = {
    .op_type = "ReduceMean", .source = __FILE__,
    .bwd_reads = HL_BWD_READS_NOTHING, .init = reducemean_init, .shape = reduce_shape,
    .forward = reduce_forward, .backward = reduce_backward,
    .free_params = hl_params_free,
};

const hl_op hl_op_reducesum = {
    .op_type = "ReduceSum", .source = __FILE__, .init = reducesum_init, .shape = reduce_shape,
    .forward = reduce_forward, .backward = reduce_backward,
    .free_params = hl_params_free,
};

const hl_op hl_op_reducemax = {
    .op_type = "ReduceMax", .source = __FILE__, .init = reducemax_init, .shape = reduce_shape,
    .scratch_floats = reduce_scratch,
    .forward = reduce_forward, .backward = reduce_backward,
    .free_params = hl_params_free,
};

const hl_op hl_op_reducemin = {
    .op_type = "ReduceMin", .source = __FILE__, .init = reducemin_init, .shape = reduce_shape,
    .scratch_floats = reduce_scratch,
    .forward = reduce_forward, .backward = reduce_backward,
    .free_params = hl_params_free,
};
