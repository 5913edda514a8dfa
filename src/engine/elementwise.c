/* Add, Sub, Mul, Div with NumPy broadcasting; both inputs may need
 * gradients, reduced over their broadcast axes. int64 operands (shape
 * arithmetic) are evaluated at plan time through fold(). Sum (any number
 * of inputs, e.g. the residual adds of Caffe2-converted ResNets) is a chain
 * of broadcast Adds into the output; Max and Min take any number of
 * inputs too. Expand is the broadcast of one input to a given shape. */
#include <string.h>
#include "kernels.h"

typedef enum { BIN_ADD, BIN_SUB, BIN_MUL, BIN_DIV } bin_kind;

static hl_status binary_init(hl_node *n, const hl_attrs *attrs,
                             const hl_tensor *in, hl_error *err)
{
    (void)in;
    if (n->n_in != 2 || n->n_out != 1)
        return hl_error_set(err, HL_ERR_ARG, "expects 2 inputs and 1 output");
    /* opset < 7 legacy broadcast attribute: only the NumPy-compatible
     * case (no explicit axis) is supported */
    if (hl_attrs_find(attrs, "axis"))
        return hl_error_set(err, HL_ERR_UNSUPPORTED,
                            "attribute 'axis' (legacy broadcasting) is not supported");
    return HL_OK;
}

static hl_status binary_shape(const hl_node *n, const hl_tensor *in,
                              hl_tensor *out, hl_error *err)
{
    (void)n;
    char sa[96], sb[96];
    if (hl_broadcast_shape(&in[0].shape, &in[1].shape, &out[0].shape))
        return hl_error_set(err, HL_ERR_SHAPE,
                            "cannot broadcast %s with %s",
                            hl_shape_format(&in[0].shape, sa, sizeof sa),
                            hl_shape_format(&in[1].shape, sb, sizeof sb));
    if (in[0].dtype != in[1].dtype)
        return hl_error_set(err, HL_ERR_UNSUPPORTED,
                            "inputs of different data types");
    out[0].dtype = in[0].dtype;
    return HL_OK;
}

typedef struct {
    bin_kind kind;
    const hl_bcast *bc;
    const float *a, *b;
    float *y;
} bin_fwd_job;

/* The contiguous run of output elements starting at e (and before end) that
 * shares one broadcast row: its length, and the offsets of its first a and
 * b elements in *pa / *pb. */
static int64_t bcast_run(const hl_bcast *bc, int64_t e, int64_t end,
                         int64_t *pa, int64_t *pb)
{
    int64_t inner = bc->dims[bc->ndim - 1];
    int64_t row = e / inner, col = e % inner;
    int64_t oa, ob;
    hl_bcast_row(bc, row, &oa, &ob);
    *pa = oa + col * bc->sa[bc->ndim - 1];
    *pb = ob + col * bc->sb[bc->ndim - 1];
    int64_t cnt = inner - col;
    return cnt < end - e ? cnt : end - e;
}

static void bin_fwd_range(void *arg, long begin, long end)
{
    bin_fwd_job *j = arg;
    const hl_bcast *bc = j->bc;
    int64_t ia = bc->sa[bc->ndim - 1], ib = bc->sb[bc->ndim - 1];
    int64_t e = begin;
    while (e < end) {
        int64_t pa, pb;
        int64_t cnt = bcast_run(bc, e, end, &pa, &pb);
        const float *a = j->a + pa;
        const float *b = j->b + pb;
        float *y = j->y + e;
        switch (j->kind) {
        case BIN_ADD:
            if (ia && ib)
                for (int64_t k = 0; k < cnt; k++) y[k] = a[k] + b[k];
            else
                for (int64_t k = 0; k < cnt; k++) y[k] = a[k * ia] + b[k * ib];
            break;
        case BIN_SUB:
            for (int64_t k = 0; k < cnt; k++) y[k] = a[k * ia] - b[k * ib];
            break;
        case BIN_MUL:
            if (ia && ib)
                for (int64_t k = 0; k < cnt; k++) y[k] = a[k] * b[k];
            else
                for (int64_t k = 0; k < cnt; k++) y[k] = a[k * ia] * b[k * ib];
            break;
        case BIN_DIV:
            for (int64_t k = 0; k < cnt; k++) y[k] = a[k * ia] / b[k * ib];
            break;
        }
        e += cnt;
    }
}

static void binary_forward(bin_kind kind, hl_op_ctx *c, const hl_tensor *in,
                           hl_tensor *out)
{
    hl_bcast bc;
    hl_bcast_init(&bc, &in[0].shape, &in[1].shape);
    bin_fwd_job j = { kind, &bc, in[0].data, in[1].data, out[0].data };
    hl_par_for(c, (long)bc.total, (long)bc.total, bin_fwd_range, &j);
}

/* Gradient of one operand: which = 0 (a) or 1 (b). */
typedef struct {
    bin_kind kind;
    int which;
    const hl_bcast *bc;
    const float *a, *b, *g;
    float *gx;
} bin_bwd_job;

static void bin_bwd_range(void *arg, long begin, long end)
{
    bin_bwd_job *j = arg;
    const hl_bcast *bc = j->bc;
    int64_t ia = bc->sa[bc->ndim - 1], ib = bc->sb[bc->ndim - 1];
    int64_t e = begin;
    while (e < end) {
        int64_t pa, pb;
        int64_t cnt = bcast_run(bc, e, end, &pa, &pb);
        const float *a = j->a + pa;
        const float *b = j->b + pb;
        const float *g = j->g + e;
        float *gx = j->gx + (j->which ? pb : pa);
        int64_t sx = j->which ? ib : ia;
        switch (j->kind) {
        case BIN_ADD:
            for (int64_t k = 0; k < cnt; k++) gx[k * sx] += g[k];
            break;
        case BIN_SUB:
            if (j->which)
                for (int64_t k = 0; k < cnt; k++) gx[k * sx] -= g[k];
            else
                for (int64_t k = 0; k < cnt; k++) gx[k * sx] += g[k];
            break;
        case BIN_MUL:
            if (j->which)
                for (int64_t k = 0; k < cnt; k++) gx[k * sx] += g[k] * a[k * ia];
            else
                for (int64_t k = 0; k < cnt; k++) gx[k * sx] += g[k] * b[k * ib];
            break;
        case BIN_DIV:
            if (j->which)
                for (int64_t k = 0; k < cnt; k++) {
                    float bv = b[k * ib];
                    gx[k * sx] -= g[k] * a[k * ia] / (bv * bv);
                }
            else
                for (int64_t k = 0; k < cnt; k++) gx[k * sx] += g[k] / b[k * ib];
            break;
        }
        e += cnt;
    }
}

static void binary_backward(bin_kind kind, hl_op_ctx *c, const hl_tensor *in,
                            const hl_tensor *gout, hl_tensor *gin)
{
    if (!gout[0].data)
        return;
    hl_bcast bc;
    hl_bcast_init(&bc, &in[0].shape, &in[1].shape);
    for (int w = 0; w < 2; w++) {
        if (!gin[w].data)
            continue;
        bin_bwd_job j = { kind, w, &bc, in[0].data, in[1].data, gout[0].data,
                          gin[w].data };
        /* a broadcast operand accumulates across rows: keep it serial */
        if (hl_shape_numel(&in[w].shape) == bc.total)
            hl_par_for(c, (long)bc.total, (long)bc.total, bin_bwd_range, &j);
        else
            bin_bwd_range(&j, 0, (long)bc.total);
    }
}

static hl_status binary_fold(bin_kind kind, const hl_tensor *in,
                             hl_tensor *out, hl_error *err)
{
    if (in[0].dtype == HL_DT_FLOAT) {
        if (!in[0].data || !in[1].data || !out[0].data)
            return hl_error_set(err, HL_ERR_UNSUPPORTED, "inputs not known");
        binary_forward(kind, NULL, in, out);
        return HL_OK;
    }
    if (!in[0].i64 || !in[1].i64 || !out[0].i64)
        return hl_error_set(err, HL_ERR_UNSUPPORTED, "inputs not known");
    hl_bcast bc;
    hl_bcast_init(&bc, &in[0].shape, &in[1].shape);
    int64_t inner = bc.dims[bc.ndim - 1];
    int64_t ia = bc.sa[bc.ndim - 1], ib = bc.sb[bc.ndim - 1];
    for (int64_t e = 0; e < bc.total; e++) {
        int64_t oa, ob;
        hl_bcast_row(&bc, e / inner, &oa, &ob);
        int64_t a = in[0].i64[oa + (e % inner) * ia];
        int64_t b = in[1].i64[ob + (e % inner) * ib];
        int64_t r = 0;
        switch (kind) {
        case BIN_ADD: r = a + b; break;
        case BIN_SUB: r = a - b; break;
        case BIN_MUL: r = a * b; break;
        case BIN_DIV:
            if (b == 0)
                return hl_error_set(err, HL_ERR_ARG, "integer division by zero");
            /* ONNX integer Div truncates like C */
            r = a / b;
            break;
        }
        out[0].i64[e] = r;
    }
    return HL_OK;
}

#define BINARY_OP(NAME, KIND, TYPE, READS)                                          \
    static void NAME##_forward(const hl_node *n, hl_op_ctx *c,               \
                               const hl_tensor *in, hl_tensor *out)          \
    {                                                                        \
        (void)n;                                                             \
        binary_forward(KIND, c, in, out);                                    \
    }                                                                        \
    static void NAME##_backward(const hl_node *n, hl_op_ctx *c,              \
                                const hl_tensor *in, const hl_tensor *out,   \
                                const hl_tensor *gout, hl_tensor *gin)       \
    {                                                                        \
        (void)n; (void)out;                                                  \
        binary_backward(KIND, c, in, gout, gin);                             \
    }                                                                        \
    static hl_status NAME##_fold(const hl_node *n, const hl_tensor *in,      \
                                 hl_tensor *out, hl_error *err)              \
    {                                                                        \
        (void)n;                                                             \
        return binary_fold(KIND, in, out, err);                              \
    }                                                                        \
    const hl_op hl_op_##NAME = {                                             \
        .op_type = TYPE, .source = __FILE__, .bwd_reads = READS,            \
        .init = binary_init, .shape = binary_shape,         \
        .forward = NAME##_forward, .backward = NAME##_backward,              \
        .fold = NAME##_fold, .free_params = hl_params_free,                  \
        .region = hl_region_pointwise,                                       \
    };

BINARY_OP(add, BIN_ADD, "Add", HL_BWD_READS_NOTHING)
BINARY_OP(sub, BIN_SUB, "Sub", HL_BWD_READS_NOTHING)
BINARY_OP(mul, BIN_MUL, "Mul", HL_BWD_READS_ALL)
BINARY_OP(div, BIN_DIV, "Div", HL_BWD_READS_ALL)

/* ------------------------------------------------------------------ Sum */

static hl_status sum_init(hl_node *n, const hl_attrs *attrs,
                          const hl_tensor *in, hl_error *err)
{
    (void)attrs; (void)in;
    if (n->n_in < 1 || n->n_out != 1)
        return hl_error_set(err, HL_ERR_ARG, "expects inputs and 1 output");
    for (int i = 0; i < n->n_in; i++)
        if (!hl_has_input(n, i))
            return hl_error_set(err, HL_ERR_ARG, "input %d is empty", i);
    return HL_OK;
}

static hl_status sum_shape(const hl_node *n, const hl_tensor *in,
                           hl_tensor *out, hl_error *err)
{
    hl_shape s = in[0].shape;
    char sa[96], sb[96];
    for (int i = 0; i < n->n_in; i++) {
        if (in[i].dtype != HL_DT_FLOAT)
            return hl_error_set(err, HL_ERR_UNSUPPORTED,
                                "input %d must be float", i);
        hl_shape t;
        if (hl_broadcast_shape(&s, &in[i].shape, &t))
            return hl_error_set(err, HL_ERR_SHAPE,
                                "cannot broadcast %s with input %d %s",
                                hl_shape_format(&s, sa, sizeof sa), i,
                                hl_shape_format(&in[i].shape, sb, sizeof sb));
        s = t;
    }
    out[0].shape = s;
    out[0].dtype = HL_DT_FLOAT;
    return HL_OK;
}

static void sum_forward(const hl_node *n, hl_op_ctx *c, const hl_tensor *in,
                        hl_tensor *out)
{
    memset(out[0].data, 0,
           sizeof(float) * (size_t)hl_shape_numel(&out[0].shape));
    for (int i = 0; i < n->n_in; i++) {
        /* y = y + x_i: same index read and written, so in place is safe */
        hl_tensor pair[2] = { out[0], in[i] };
        binary_forward(BIN_ADD, c, pair, out);
    }
}

static void sum_backward(const hl_node *n, hl_op_ctx *c, const hl_tensor *in,
                         const hl_tensor *out, const hl_tensor *gout,
                         hl_tensor *gin)
{
    for (int i = 0; i < n->n_in; i++) {
        if (!gin[i].data)
            continue;
        hl_tensor pair[2] = { out[0], in[i] };
        hl_tensor gpair[2] = { { .shape = out[0].shape }, gin[i] };
        binary_backward(BIN_ADD, c, pair, gout, gpair);
    }
}

const hl_op hl_op_sum = {
    .op_type = "Sum", .source = __FILE__, .init = sum_init, .shape = sum_shape,
    .forward = sum_forward, .backward = sum_backward,
    .free_params = hl_params_free, .region = hl_region_pointwise,
};

/* ------------------------------------------------------------ Max, Min */
/* Elementwise extreme of any number of broadcast inputs (Keras/tf2onnx
 * ReLU6 as Min(Max(x, 0), 6), torch.maximum). The gradient goes to the
 * first input holding the extreme (ties: the earlier input, as ReduceMax
 * and MaxPool do). Kept simple and serial: these are rare and small. */

typedef struct {
    int is_max;
    int n;
    const hl_shape *out;
    const hl_tensor *in;
    float *y;
} extreme_job;

/* Offset in an input of shape s of output element o (NumPy broadcasting). */
static int64_t bcast_offset(const hl_shape *out, const hl_shape *s, int64_t o)
{
    int64_t off = 0, stride = 1;
    for (int d = out->ndim - 1; d >= 0; d--) {
        int64_t idx = o % out->dims[d];
        o /= out->dims[d];
        int ds = d - (out->ndim - s->ndim);
        if (ds >= 0) {
            if (s->dims[ds] != 1)
                off += idx * stride;
            stride *= s->dims[ds];
        }
    }
    return off;
}

static void extreme_fwd_range(void *arg, long begin, long end)
{
    extreme_job *j = arg;
    for (long e = begin; e < end; e++) {
        float v = j->in[0].data[bcast_offset(j->out, &j->in[0].shape, e)];
        for (int i = 1; i < j->n; i++) {
            float x = j->in[i].data[bcast_offset(j->out, &j->in[i].shape, e)];
            if (j->is_max ? x > v : x < v)
                v = x;
        }
        j->y[e] = v;
    }
}

static void extreme_forward(int is_max, const hl_node *n, hl_op_ctx *c,
                            const hl_tensor *in, hl_tensor *out)
{
    long total = (long)hl_shape_numel(&out[0].shape);
    extreme_job j = { is_max, n->n_in, &out[0].shape, in, out[0].data };
    hl_par_for(c, total, total * n->n_in * 8, extreme_fwd_range, &j);
}

static void extreme_backward(const hl_node *n, const hl_tensor *in,
                             const hl_tensor *out, const hl_tensor *gout,
                             hl_tensor *gin)
{
    if (!gout[0].data)
        return;
    int64_t total = hl_shape_numel(&out[0].shape);
    for (int64_t e = 0; e < total; e++) {
        float y = out[0].data[e];
        for (int i = 0; i < n->n_in; i++) {
            int64_t off = bcast_offset(&out[0].shape, &in[i].shape, e);
            if (in[i].data[off] == y) {
                if (gin[i].data)
                    gin[i].data[off] += gout[0].data[e];
                break;
            }
        }
    }
}

#define EXTREME_OP(NAME, IS_MAX, TYPE)                                       \
    static void NAME##_forward(const hl_node *n, hl_op_ctx *c,               \
                               const hl_tensor *in, hl_tensor *out)          \
    {                                                                        \
        extreme_forward(IS_MAX, n, c, in, out);                              \
    }                                                                        \
    static void NAME##_backward(const hl_node *n, hl_op_ctx *c,              \
                                const hl_tensor *in, const hl_tensor *out,   \
                                const hl_tensor *gout, hl_tensor *gin)       \
    {                                                                        \
        (void)c;                                                             \
        extreme_backward(n, in, out, gout, gin);                             \
    }                                                                        \
    const hl_op hl_op_##NAME = {                                             \
        .op_type = TYPE, .source = __FILE__, .init = sum_init, .shape = sum_shape,               \
        .forward = NAME##_forward, .backward = NAME##_backward,              \
        .free_params = hl_params_free, .region = hl_region_pointwise,        \
    };

EXTREME_OP(max, 1, "Max")
EXTREME_OP(min, 0, "Min")

/* --------------------------------------------------------------- Expand */
/* Expand(x, shape): x broadcast against `shape` (known at load time, e.g.
 * a folded Shape of another tensor: SENet's y.expand_as(x)). Forward and
 * backward are the Add of x into a zero tensor of the output shape. */

static hl_status expand_init(hl_node *n, const hl_attrs *attrs,
                             const hl_tensor *in, hl_error *err)
{
    (void)attrs; (void)in;
    if (n->n_in != 2 || !hl_has_input(n, 1) || n->n_out != 1)
        return hl_error_set(err, HL_ERR_ARG, "expects inputs input, shape");
    return HL_OK;
}

static hl_status expand_shape(const hl_node *n, const hl_tensor *in,
                              hl_tensor *out, hl_error *err)
{
    (void)n;
    char sa[96], sb[96];
    if (in[0].dtype != HL_DT_FLOAT)
        return hl_error_set(err, HL_ERR_UNSUPPORTED, "input must be float");
    if (!in[1].i64)
        return hl_error_set(err, HL_ERR_UNSUPPORTED,
                            "input 'shape' must be known at load time");
    if (in[1].shape.ndim != 1 || in[1].shape.dims[0] > HL_MAX_DIMS)
        return hl_error_set(err, HL_ERR_SHAPE,
                            "input 'shape' must be 1-D with at most %d values",
                            HL_MAX_DIMS);
    hl_shape want = { .ndim = (int)in[1].shape.dims[0] };
    for (int d = 0; d < want.ndim; d++) {
        want.dims[d] = in[1].i64[d];
        if (want.dims[d] < 0)
            return hl_error_set(err, HL_ERR_SHAPE, "negative size in 'shape'");
    }
    if (hl_broadcast_shape(&in[0].shape, &want, &out[0].shape))
        return hl_error_set(err, HL_ERR_SHAPE, "cannot expand %s to %s",
                            hl_shape_format(&in[0].shape, sa, sizeof sa),
                            hl_shape_format(&want, sb, sizeof sb));
    out[0].dtype = HL_DT_FLOAT;
    return HL_OK;
}

static void expand_forward(const hl_node *n, hl_op_ctx *c, const hl_tensor *in,
                           hl_tensor *out)
{
    (void)n;
    memset(out[0].data, 0,
           sizeof(float) * (size_t)hl_shape_numel(&out[0].shape));
    hl_tensor pair[2] = { out[0], in[0] };
    binary_forward(BIN_ADD, c, pair, out);
}

static void expand_backward(const hl_node *n, hl_op_ctx *c, const hl_tensor *in,
                            const hl_tensor *out, const hl_tensor *gout,
                            hl_tensor *gin)
{
    (void)n;
    if (!gin[0].data)
        return;
    hl_tensor pair[2] = { out[0], in[0] };
    hl_tensor gpair[2] = { { .shape = out[0].shape }, gin[0] };
    binary_backward(BIN_ADD, c, pair, gout, gpair);
}

const hl_op hl_op_expand = {
    .op_type = "Expand", .source = __FILE__, .init = expand_init, .shape = expand_shape,
    .forward = expand_forward, .backward = expand_backward,
    .free_params = hl_params_free,
};
