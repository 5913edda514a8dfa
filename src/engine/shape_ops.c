/* Data-movement and shape ops: Flatten, Reshape, Transpose, Concat,
 * Squeeze, Unsqueeze, Pad, Identity, Dropout, Shape, Gather, Constant,
 * Cast, Slice, ConstantOfShape.
 *
 * Each runs on float activations (forward/backward) and, through fold(),
 * on plan-time tensors, float or int64, so that the Shape -> Gather ->
 * Unsqueeze -> Concat -> Reshape chains of torch.onnx.export disappear at
 * load time. */
#include <stdlib.h>
#include <string.h>
#include "kernels.h"

static size_t dtype_size(hl_dtype t)
{
    return t == HL_DT_INT64 ? sizeof(int64_t) : sizeof(float);
}

static void *tensor_ptr(const hl_tensor *t)
{
    return t->dtype == HL_DT_INT64 ? (void *)t->i64 : (void *)t->data;
}

static int tensor_known(const hl_tensor *t)
{
    return tensor_ptr(t) != NULL;
}

static void row_strides(const hl_shape *s, int64_t st[HL_MAX_DIMS])
{
    int64_t r = 1;
    for (int i = s->ndim - 1; i >= 0; i--) {
        st[i] = r;
        r *= s->dims[i];
    }
}

/* Forward of ops whose output is the input bytes in another shape. */
static void copy_forward(const hl_node *n, hl_op_ctx *c, const hl_tensor *in,
                         hl_tensor *out)
{
    (void)n; (void)c;
    if (out[0].data != in[0].data)
        memcpy(out[0].data, in[0].data,
               sizeof(float) * (size_t)hl_shape_numel(&in[0].shape));
}

static void copy_backward(const hl_node *n, hl_op_ctx *c, const hl_tensor *in,
                          const hl_tensor *out, const hl_tensor *gout,
                          hl_tensor *gin)
{
    (void)n; (void)c; (void)out;
    if (!gout[0].data || !gin[0].data)
        return;
    int64_t total = hl_shape_numel(&in[0].shape);
    const float *g = gout[0].data;
    float *gx = gin[0].data;
    for (int64_t i = 0; i < total; i++)
        gx[i] += g[i];
}

static hl_status copy_fold(const hl_node *n, const hl_tensor *in,
                           hl_tensor *out, hl_error *err)
{
    (void)n;
    if (!tensor_known(&in[0]) || !tensor_ptr(&out[0]))
        return hl_error_set(err, HL_ERR_UNSUPPORTED, "input not known");
    memcpy(tensor_ptr(&out[0]), tensor_ptr(&in[0]),
           dtype_size(in[0].dtype) * (size_t)hl_shape_numel(&in[0].shape));
    return HL_OK;
}

/* ------------------------------------------------------------- strided
 * out[i0..ik] = src[base + sum i_d * istride[d]] (Transpose, Slice). */
typedef struct {
    int ndim;
    int64_t dims[HL_MAX_DIMS];
    int64_t istride[HL_MAX_DIMS];
    int64_t base;
} strided_map;

#define STRIDED_WALK(M, BODY)                                                 \
    do {                                                                      \
        int64_t idx_[HL_MAX_DIMS] = { 0 };                                    \
        int nd_ = (M)->ndim;                                                  \
        int64_t inner_ = nd_ ? (M)->dims[nd_ - 1] : 1;                        \
        int64_t is_ = nd_ ? (M)->istride[nd_ - 1] : 0;                        \
        int64_t total_ = 1;                                                   \
        for (int d_ = 0; d_ < nd_; d_++)                                      \
            total_ *= (M)->dims[d_];                                          \
        int64_t o = 0;                                                        \
        while (o < total_) {                                                  \
            int64_t src = (M)->base;                                          \
            for (int d_ = 0; d_ < nd_ - 1; d_++)                              \
                src += idx_[d_] * (M)->istride[d_];                           \
            for (int64_t k = 0; k < inner_; k++, o++, src += is_) {           \
                BODY                                                          \
            }                                                                 \
            for (int d_ = nd_ - 2; d_ >= 0; d_--) {                           \
                if (++idx_[d_] < (M)->dims[d_])                               \
                    break;                                                    \
                idx_[d_] = 0;                                                 \
            }                                                                 \
        }                                                                     \
    } while (0)

static void strided_gather(const strided_map *m, const void *src, void *dst,
                           hl_dtype dt)
{
    if (dt == HL_DT_INT64) {
        const int64_t *s = src;
        int64_t *d = dst;
        STRIDED_WALK(m, { d[o] = s[src]; });
    } else {
        const float *s = src;
        float *d = dst;
        STRIDED_WALK(m, { d[o] = s[src]; });
    }
}

static void strided_scatter_add(const strided_map *m, const float *g,
                                float *gx)
{
    STRIDED_WALK(m, { gx[src] += g[o]; });
}

/* ------------------------------------------------------------ Flatten */

typedef struct {
    int64_t axis;
} axis_params;

static hl_status flatten_init(hl_node *n, const hl_attrs *attrs,
                              const hl_tensor *in, hl_error *err)
{
    (void)in;
    hl_status st = hl_params_alloc(n, sizeof(axis_params), err);
    if (st)
        return st;
    ((axis_params *)n->params)->axis = hl_attrs_int(attrs, "axis", 1);
    return HL_OK;
}

static hl_status flatten_shape(const hl_node *n, const hl_tensor *in,
                               hl_tensor *out, hl_error *err)
{
    int64_t axis = ((const axis_params *)n->params)->axis;
    int rank = in[0].shape.ndim;
    if (axis < 0)
        axis += rank;
    if (axis < 0 || axis > rank)
        return hl_error_set(err, HL_ERR_ARG,
                            "attribute 'axis' is out of range for rank %d",
                            rank);
    int64_t a = 1, b = 1;
    for (int i = 0; i < rank; i++)
        *(i < axis ? &a : &b) *= in[0].shape.dims[i];
    out[0].dtype = in[0].dtype;
    out[0].shape.ndim = 2;
    out[0].shape.dims[0] = a;
    out[0].shape.dims[1] = b;
    return HL_OK;
}

const hl_op hl_op_flatten = {
    .op_type = "Flatten", .source = __FILE__,
    .bwd_reads = HL_BWD_READS_NOTHING, .init = flatten_init, .shape = flatten_shape,
    .forward = copy_forward, .backward = copy_backward, .fold = copy_fold,
    .free_params = hl_params_free,
};

/* ------------------------------------------------------------ Reshape */

typedef struct {
    int allowzero;
    int nshape;                    /* opset < 5: the 'shape' attribute */
    int64_t shape[HL_MAX_DIMS];
} reshape_params;

static hl_status reshape_init(hl_node *n, const hl_attrs *attrs,
                              const hl_tensor *in, hl_error *err)
{
    (void)in;
    hl_status st = hl_params_alloc(n, sizeof(reshape_params), err);
    if (st)
        return st;
    reshape_params *p = n->params;
    p->allowzero = hl_attrs_int(attrs, "allowzero", 0) != 0;
    p->nshape = -1;
    if (n->opset < 5) {
        p->nshape = hl_attrs_ints(attrs, "shape", p->shape, HL_MAX_DIMS);
        if (p->nshape < 0 || p->nshape > HL_MAX_DIMS)
            return hl_error_set(err, HL_ERR_ARG,
                                "attribute 'shape' missing or too long");
    } else if (n->n_in != 2) {
        return hl_error_set(err, HL_ERR_ARG, "expects 2 inputs");
    }
    return HL_OK;
}

static hl_status reshape_shape(const hl_node *n, const hl_tensor *in,
                               hl_tensor *out, hl_error *err)
{
    const reshape_params *p = n->params;
    int64_t target[HL_MAX_DIMS];
    int nt = p->nshape;
    char b1[96];
    if (nt < 0) {
        if (!in[1].i64)
            return hl_error_set(err, HL_ERR_UNSUPPORTED,
                                "the 'shape' input is not known at load time");
        if (in[1].shape.ndim != 1 || in[1].shape.dims[0] > HL_MAX_DIMS)
            return hl_error_set(err, HL_ERR_SHAPE,
                                "the 'shape' input must be 1-D with at most %d values",
                                HL_MAX_DIMS);
        nt = (int)in[1].shape.dims[0];
        memcpy(target, in[1].i64, sizeof(int64_t) * (size_t)nt);
    } else {
        memcpy(target, p->shape, sizeof(int64_t) * (size_t)nt);
    }
    int64_t total = hl_shape_numel(&in[0].shape), known = 1;
    int infer = -1;
    hl_shape s = { .ndim = nt };
    int first = 0;
    /* A model exported with a fixed batch of 1 (torch.onnx.export without
     * dynamic_axes) bakes that 1 into its Reshape targets (ShuffleNet's
     * channel shuffle: [1, 2, 58, 28, 28]). Dim 0 of a run-time value is
     * the batch, so a leading literal 1 is read as "the batch". */
    int batched = !in[0].data && !in[0].i64 && in[0].shape.ndim >= 1;
    if (batched && nt >= 1 && target[0] == 1 && in[0].shape.dims[0] != 1 &&
        in[0].shape.dims[0] > 0) {
        s.dims[0] = in[0].shape.dims[0];
        known = s.dims[0];
        first = 1;
    }
    for (int i = first; i < nt; i++) {
        int64_t v = target[i];
        if (v == 0 && !p->allowzero) {
            if (i >= in[0].shape.ndim)
                return hl_error_set(err, HL_ERR_SHAPE,
                                    "shape value 0 at dim %d beyond input rank", i);
            v = in[0].shape.dims[i];
        }
        if (v == -1) {
            if (infer >= 0)
                return hl_error_set(err, HL_ERR_SHAPE,
                                    "more than one -1 in the target shape");
            infer = i;
            continue;
        }
        if (v < 0)
            return hl_error_set(err, HL_ERR_SHAPE,
                                "negative value %lld in the target shape",
                                (long long)v);
        s.dims[i] = v;
        known *= v;
    }
    if (infer >= 0) {
        if (known == 0 || total % known)
            return hl_error_set(err, HL_ERR_SHAPE,
                                "cannot infer -1: %lld elements of %s",
                                (long long)total,
                                hl_shape_format(&in[0].shape, b1, sizeof b1));
        s.dims[infer] = total / known;
        known *= s.dims[infer];
    }
    if (known != total)
        return hl_error_set(err, HL_ERR_SHAPE,
                            "cannot reshape %s (%lld elements) to %d dims of %lld elements",
                            hl_shape_format(&in[0].shape, b1, sizeof b1),
                            (long long)total, nt, (long long)known);
    out[0].shape = s;
    out[0].dtype = in[0].dtype;
    return HL_OK;
}

const hl_op hl_op_reshape = {
    .op_type = "Reshape", .source = __FILE__,
    .bwd_reads = HL_BWD_READS_NOTHING, .init = reshape_init, .shape = reshape_shape,
    .forward = copy_forward, .backward = copy_backward, .fold = copy_fold,
    .free_params = hl_params_free,
};

/* ------------------------------------------------- Identity, Dropout */

static hl_status identity_init(hl_node *n, const hl_attrs *attrs,
                               const hl_tensor *in, hl_error *err)
{
    (void)attrs; (void)in;
    if (n->n_in < 1)
        return hl_error_set(err, HL_ERR_ARG, "expects an input");
    return HL_OK;
}

static hl_status identity_shape(const hl_node *n, const hl_tensor *in,
                                hl_tensor *out, hl_error *err)
{
    (void)n; (void)err;
    out[0].shape = in[0].shape;
    out[0].dtype = in[0].dtype;
    return HL_OK;
}

const hl_op hl_op_identity = {
    .op_type = "Identity", .source = __FILE__,
    .flags = HL_OP_ALIAS, .bwd_reads = HL_BWD_READS_NOTHING, .init = identity_init, .shape = identity_shape,
    .forward = copy_forward, .backward = copy_backward, .fold = copy_fold,
};

static hl_status dropout_init(hl_node *n, const hl_attrs *attrs,
                              const hl_tensor *in, hl_error *err)
{
    (void)attrs;
    if (hl_has_output(n, 1))
        return hl_error_set(err, HL_ERR_UNSUPPORTED,
                            "the 'mask' output is used (training-mode "
                            "graph; not supported)");
    /* opset 12+: only a constant false training_mode is inference */
    if (hl_has_input(n, 2)) {
        const hl_tensor *tm = &in[2];
        int is_false = (tm->i64 || tm->data) &&
                       hl_shape_numel(&tm->shape) == 1 &&
                       (tm->i64 ? tm->i64[0] == 0 : tm->data[0] == 0);
        if (!is_false)
            return hl_error_set(err, HL_ERR_UNSUPPORTED,
                                "input 'training_mode' is not a constant "
                                "false (training-mode dropout is not "
                                "supported)");
    }
    if (hl_attrs_int(attrs, "is_test", 1) == 0 && n->opset < 7)
        return hl_error_set(err, HL_ERR_UNSUPPORTED,
                            "attribute 'is_test' = 0 (inference only)");
    return identity_init(n, attrs, in, err);
}

const hl_op hl_op_dropout = {
    .op_type = "Dropout", .source = __FILE__,
    .flags = HL_OP_ALIAS, .bwd_reads = HL_BWD_READS_NOTHING, .init = dropout_init, .shape = identity_shape,
    .forward = copy_forward, .backward = copy_backward, .fold = copy_fold,
};

/* ---------------------------------------------------------- Transpose */

typedef struct {
    int nperm;   /* -1: reverse */
    int64_t perm[HL_MAX_DIMS];
} transpose_params;

static hl_status transpose_init(hl_node *n, const hl_attrs *attrs,
                                const hl_tensor *in, hl_error *err)
{
    (void)in;
    hl_status st = hl_params_alloc(n, sizeof(transpose_params), err);
    if (st)
        return st;
    transpose_params *p = n->params;
    p->nperm = hl_attrs_ints(attrs, "perm", p->perm, HL_MAX_DIMS);
    if (p->nperm > HL_MAX_DIMS)
        return hl_error_set(err, HL_ERR_UNSUPPORTED,
                            "attribute 'perm' longer than %d", HL_MAX_DIMS);
    return HL_OK;
}

static int transpose_perm(const hl_node *n, int rank, int64_t perm[HL_MAX_DIMS])
{
    const transpose_params *p = n->params;
    if (p->nperm < 0) {
        for (int i = 0; i < rank; i++)
            perm[i] = rank - 1 - i;
        return 0;
    }
    if (p->nperm != rank)
        return -1;
    int seen[HL_MAX_DIMS] = { 0 };
    for (int i = 0; i < rank; i++) {
        int a = hl_axis(p->perm[i], rank);
        if (a < 0 || seen[a])
            return -1;
        seen[a] = 1;
        perm[i] = a;
    }
    return 0;
}

static hl_status transpose_shape(const hl_node *n, const hl_tensor *in,
                                 hl_tensor *out, hl_error *err)
{
    int64_t perm[HL_MAX_DIMS];
    if (transpose_perm(n, in[0].shape.ndim, perm))
        return hl_error_set(err, HL_ERR_ARG,
                            "attribute 'perm' is not a permutation of %d axes",
                            in[0].shape.ndim);
    out[0].dtype = in[0].dtype;
    out[0].shape.ndim = in[0].shape.ndim;
    for (int i = 0; i < in[0].shape.ndim; i++)
        out[0].shape.dims[i] = in[0].shape.dims[perm[i]];
    return HL_OK;
}

static void transpose_map(const hl_node *n, const hl_shape *s, strided_map *m)
{
    int64_t perm[HL_MAX_DIMS], st[HL_MAX_DIMS];
    transpose_perm(n, s->ndim, perm);
    row_strides(s, st);
    m->ndim = s->ndim;
    m->base = 0;
    for (int i = 0; i < s->ndim; i++) {
        m->dims[i] = s->dims[perm[i]];
        m->istride[i] = st[perm[i]];
    }
}

static void transpose_forward(const hl_node *n, hl_op_ctx *c,
                              const hl_tensor *in, hl_tensor *out)
{
    (void)c;
    strided_map m;
    transpose_map(n, &in[0].shape, &m);
    strided_gather(&m, in[0].data, out[0].data, HL_DT_FLOAT);
}

static void transpose_backward(const hl_node *n, hl_op_ctx *c,
                               const hl_tensor *in, const hl_tensor *out,
                               const hl_tensor *gout, hl_tensor *gin)
{
    (void)c; (void)out;
    if (!gout[0].data || !gin[0].data)
        return;
    strided_map m;
    transpose_map(n, &in[0].shape, &m);
    strided_scatter_add(&m, gout[0].data, gin[0].data);
}

static hl_status transpose_fold(const hl_node *n, const hl_tensor *in,
                                hl_tensor *out, hl_error *err)
{
    if (!tensor_known(&in[0]) || !tensor_ptr(&out[0]))
        return hl_error_set(err, HL_ERR_UNSUPPORTED, "input not known");
    strided_map m;
    transpose_map(n, &in[0].shape, &m);
    strided_gather(&m, tensor_ptr(&in[0]), tensor_ptr(&out[0]), in[0].dtype);
    return HL_OK;
}

const hl_op hl_op_transpose = {
    .op_type = "Transpose", .source = __FILE__, .init = transpose_init, .shape = transpose_shape,
    .forward = transpose_forward, .backward = transpose_backward,
    .fold = transpose_fold, .free_params = hl_params_free,
};

/* ------------------------------------------------------------- Concat */

static hl_status concat_init(hl_node *n, const hl_attrs *attrs,
                             const hl_tensor *in, hl_error *err)
{
    (void)in;
    if (!hl_attrs_find(attrs, "axis"))
        return hl_error_set(err, HL_ERR_ARG, "attribute 'axis' is required");
    if (n->n_in < 1)
        return hl_error_set(err, HL_ERR_ARG, "expects inputs");
    hl_status st = hl_params_alloc(n, sizeof(axis_params), err);
    if (st)
        return st;
    ((axis_params *)n->params)->axis = hl_attrs_int(attrs, "axis", 0);
    return HL_OK;
}

static hl_status concat_shape(const hl_node *n, const hl_tensor *in,
                              hl_tensor *out, hl_error *err)
{
    int rank = in[0].shape.ndim;
    int axis = hl_axis(((const axis_params *)n->params)->axis, rank);
    char b1[96], b2[96];
    if (axis < 0)
        return hl_error_set(err, HL_ERR_ARG,
                            "attribute 'axis' is out of range for rank %d",
                            rank);
    hl_shape s = in[0].shape;
    s.dims[axis] = 0;
    for (int i = 0; i < n->n_in; i++) {
        const hl_shape *si = &in[i].shape;
        int ok = si->ndim == rank && in[i].dtype == in[0].dtype;
        for (int d = 0; ok && d < rank; d++)
            if (d != axis && si->dims[d] != in[0].shape.dims[d])
                ok = 0;
        if (!ok)
            return hl_error_set(err, HL_ERR_SHAPE,
                                "input %d %s does not match input 0 %s", i,
                                hl_shape_format(si, b1, sizeof b1),
                                hl_shape_format(&in[0].shape, b2, sizeof b2));
        s.dims[axis] += si->dims[axis];
    }
    out[0].shape = s;
    out[0].dtype = in[0].dtype;
    return HL_OK;
}

/* outer = dims before axis; each input contributes dims[axis]*inner runs */
static void concat_geom(const hl_node *n, const hl_tensor *in, int64_t *outer,
                        int64_t *inner, int64_t *total_len)
{
    int rank = in[0].shape.ndim;
    int axis = hl_axis(((const axis_params *)n->params)->axis, rank);
    *outer = *inner = 1;
    for (int d = 0; d < axis; d++)
        *outer *= in[0].shape.dims[d];
    for (int d = axis + 1; d < rank; d++)
        *inner *= in[0].shape.dims[d];
    *total_len = 0;
    for (int i = 0; i < n->n_in; i++)
        *total_len += in[i].shape.dims[axis];
}

static void concat_copy(const hl_node *n, const hl_tensor *in, void *dst,
                        size_t es)
{
    int64_t outer, inner, total_len;
    concat_geom(n, in, &outer, &inner, &total_len);
    int axis = hl_axis(((const axis_params *)n->params)->axis, in[0].shape.ndim);
    char *d = dst;
    int64_t pos = 0;
    for (int i = 0; i < n->n_in; i++) {
        int64_t run = in[i].shape.dims[axis] * inner;
        const char *s = tensor_ptr(&in[i]);
        for (int64_t o = 0; o < outer; o++)
            memcpy(d + (size_t)((o * total_len * inner + pos) * (int64_t)es),
                   s + (size_t)(o * run * (int64_t)es), (size_t)run * es);
        pos += run;
    }
}

static void concat_forward(const hl_node *n, hl_op_ctx *c, const hl_tensor *in,
                           hl_tensor *out)
{
    (void)c;
    concat_copy(n, in, out[0].data, sizeof(float));
}

static void concat_backward(const hl_node *n, hl_op_ctx *c,
                            const hl_tensor *in, const hl_tensor *out,
                            const hl_tensor *gout, hl_tensor *gin)
{
    (void)c; (void)out;
    if (!gout[0].data)
        return;
    int64_t outer, inner, total_len;
    concat_geom(n, in, &outer, &inner, &total_len);
    int axis = hl_axis(((const axis_params *)n->params)->axis, in[0].shape.ndim);
    int64_t pos = 0;
    for (int i = 0; i < n->n_in; i++) {
        int64_t run = in[i].shape.dims[axis] * inner;
        if (gin[i].data)
            for (int64_t o = 0; o < outer; o++) {
                const float *g = gout[0].data + o * total_len * inner + pos;
                float *gx = gin[i].data + o * run;
                for (int64_t k = 0; k < run; k++)
                    gx[k] += g[k];
            }
        pos += run;
    }
}

static hl_status concat_fold(const hl_node *n, const hl_tensor *in,
                             hl_tensor *out, hl_error *err)
{
    for (int i = 0; i < n->n_in; i++)
        if (!tensor_known(&in[i]))
            return hl_error_set(err, HL_ERR_UNSUPPORTED, "input %d not known", i);
    if (!tensor_ptr(&out[0]))
        return hl_error_set(err, HL_ERR_UNSUPPORTED, "output not allocated");
    concat_copy(n, in, tensor_ptr(&out[0]), dtype_size(in[0].dtype));
    return HL_OK;
}

const hl_op hl_op_concat = {
    .op_type = "Concat", .source = __FILE__,
    .bwd_reads = HL_BWD_READS_NOTHING, .init = concat_init, .shape = concat_shape,
    .forward = concat_forward, .backward = concat_backward,
    .fold = concat_fold, .free_params = hl_params_free,
};

/* ------------------------------------------------- Squeeze, Unsqueeze */

typedef struct {
    int naxes;                 /* -1: none given */
    int64_t axes[HL_MAX_DIMS];
} axes_params;

/* axes from the attribute (opset < 13); the second input (opset >= 13) is
 * read by axes_get() once it is known (in shape()/fold()). */
static hl_status axes_init(hl_node *n, const hl_attrs *attrs,
                           const hl_tensor *in, hl_error *err)
{
    (void)in;
    hl_status st = hl_params_alloc(n, sizeof(axes_params), err);
    if (st)
        return st;
    axes_params *p = n->params;
    p->naxes = hl_attrs_ints(attrs, "axes", p->axes, HL_MAX_DIMS);
    if (p->naxes > HL_MAX_DIMS)
        return hl_error_set(err, HL_ERR_ARG, "too many axes");
    return HL_OK;
}

static hl_status axes_get(const hl_node *n, const hl_tensor *in,
                          axes_params *out, hl_error *err)
{
    *out = *(const axes_params *)n->params;
    if (hl_has_input(n, 1)) {
        if (!in[1].i64)
            return hl_error_set(err, HL_ERR_UNSUPPORTED,
                                "input 'axes' must be known at load time");
        if (hl_shape_numel(&in[1].shape) > HL_MAX_DIMS)
            return hl_error_set(err, HL_ERR_ARG, "too many axes");
        out->naxes = hl_tensor_ints(&in[1], out->axes, HL_MAX_DIMS);
    }
    return HL_OK;
}

static hl_status squeeze_shape(const hl_node *n, const hl_tensor *in,
                               hl_tensor *out, hl_error *err)
{
    axes_params ax;
    const axes_params *p = &ax;
    hl_status st = axes_get(n, in, &ax, err);
    if (st)
        return st;
    const hl_shape *s = &in[0].shape;
    int drop[HL_MAX_DIMS] = { 0 };
    if (p->naxes < 0) {
        for (int i = 0; i < s->ndim; i++)
            drop[i] = s->dims[i] == 1;
    } else {
        for (int k = 0; k < p->naxes; k++) {
            int a = hl_axis(p->axes[k], s->ndim);
            if (a < 0 || s->dims[a] != 1)
                return hl_error_set(err, HL_ERR_SHAPE,
                                    "cannot squeeze axis %lld of a dim != 1",
                                    (long long)p->axes[k]);
            drop[a] = 1;
        }
    }
    out[0].dtype = in[0].dtype;
    out[0].shape.ndim = 0;
    for (int i = 0; i < s->ndim; i++)
        if (!drop[i])
            out[0].shape.dims[out[0].shape.ndim++] = s->dims[i];
    return HL_OK;
}

static hl_status unsqueeze_shape(const hl_node *n, const hl_tensor *in,
                                 hl_tensor *out, hl_error *err)
{
    axes_params ax;
    const axes_params *p = &ax;
    hl_status st = axes_get(n, in, &ax, err);
    if (st)
        return st;
    const hl_shape *s = &in[0].shape;
    if (p->naxes < 0)
        return hl_error_set(err, HL_ERR_ARG, "axes are required");
    int rank = s->ndim + p->naxes;
    if (rank > HL_MAX_DIMS)
        return hl_error_set(err, HL_ERR_UNSUPPORTED, "rank above %d",
                            HL_MAX_DIMS);
    int ins[HL_MAX_DIMS] = { 0 };
    for (int k = 0; k < p->naxes; k++) {
        int a = hl_axis(p->axes[k], rank);
        if (a < 0 || ins[a])
            return hl_error_set(err, HL_ERR_ARG,
                                "axis %lld is out of range or repeated",
                                (long long)p->axes[k]);
        ins[a] = 1;
    }
    out[0].dtype = in[0].dtype;
    out[0].shape.ndim = rank;
    for (int i = 0, j = 0; i < rank; i++)
        out[0].shape.dims[i] = ins[i] ? 1 : s->dims[j++];
    return HL_OK;
}

const hl_op hl_op_squeeze = {
    .op_type = "Squeeze", .source = __FILE__,
    .bwd_reads = HL_BWD_READS_NOTHING, .init = axes_init, .shape = squeeze_shape,
    .forward = copy_forward, .backward = copy_backward, .fold = copy_fold,
    .free_params = hl_params_free,
};

const hl_op hl_op_unsqueeze = {
    .op_type = "Unsqueeze", .source = __FILE__,
    .bwd_reads = HL_BWD_READS_NOTHING, .init = axes_init, .shape = unsqueeze_shape,
    .forward = copy_forward, .backward = copy_backward, .fold = copy_fold,
    .free_params = hl_params_free,
};

/* ---------------------------------------------------------------- Pad */

typedef struct {
    int npads;                       /* attribute pads (opset < 11) or -1 */
    int64_t pads[2 * HL_MAX_DIMS];
    float value;
} pad_params;

static hl_status pad_init(hl_node *n, const hl_attrs *attrs,
                          const hl_tensor *in, hl_error *err)
{
    (void)in;
    const char *mode = hl_attrs_string(attrs, "mode", "constant");
    if (strcmp(mode, "constant") != 0)
        return hl_error_set(err, HL_ERR_UNSUPPORTED,
                            "attribute 'mode' = '%s' (only 'constant')", mode);
    hl_status st = hl_params_alloc(n, sizeof(pad_params), err);
    if (st)
        return st;
    pad_params *p = n->params;
    p->npads = -1;
    if (n->opset < 11) {
        p->npads = hl_attrs_ints(attrs, n->opset < 2 ? "paddings" : "pads",
                                 p->pads, 2 * HL_MAX_DIMS);
        if (p->npads < 0)
            return hl_error_set(err, HL_ERR_ARG, "attribute 'pads' is required");
        p->value = hl_attrs_float(attrs, "value", 0.0f);
    }
    return HL_OK;
}

/* Per-dim begin pads (may be negative) and output shape. */
static hl_status pad_geom(const hl_node *n, const hl_tensor *in,
                          int64_t pb[HL_MAX_DIMS], hl_shape *os, float *value,
                          hl_error *err)
{
    const pad_params *p = n->params;
    const hl_shape *s = &in[0].shape;
    int64_t pads[2 * HL_MAX_DIMS];
    int np = p->npads;
    *value = p->value;
    if (np >= 0) {
        memcpy(pads, p->pads, sizeof pads);
    } else {
        if (!hl_has_input(n, 1) || !in[1].i64)
            return hl_error_set(err, HL_ERR_UNSUPPORTED,
                                "input 'pads' must be known at load time");
        np = hl_tensor_ints(&in[1], pads, 2 * HL_MAX_DIMS);
        if (hl_has_input(n, 2)) {
            if (!in[2].data)
                return hl_error_set(err, HL_ERR_UNSUPPORTED,
                                    "input 'constant_value' must be a known float");
            *value = in[2].data[0];
        }
    }
    int axes[HL_MAX_DIMS], nax = s->ndim;
    for (int i = 0; i < s->ndim; i++)
        axes[i] = i;
    if (hl_has_input(n, 3)) {
        int64_t av[HL_MAX_DIMS];
        if (!in[3].i64)
            return hl_error_set(err, HL_ERR_UNSUPPORTED,
                                "input 'axes' must be known at load time");
        nax = hl_tensor_ints(&in[3], av, HL_MAX_DIMS);
        for (int k = 0; k < nax; k++)
            if ((axes[k] = hl_axis(av[k], s->ndim)) < 0)
                return hl_error_set(err, HL_ERR_ARG, "axis out of range");
    }
    if (np != 2 * nax)
        return hl_error_set(err, HL_ERR_SHAPE,
                            "%d pads for %d axes", np, nax);
    *os = *s;
    for (int i = 0; i < s->ndim; i++)
        pb[i] = 0;
    for (int k = 0; k < nax; k++) {
        int a = axes[k];
        pb[a] = pads[k];
        os->dims[a] = s->dims[a] + pads[k] + pads[nax + k];
        if (os->dims[a] < 0)
            return hl_error_set(err, HL_ERR_SHAPE,
                                "pads make dim %d negative", a);
    }
    return HL_OK;
}

static hl_status pad_shape(const hl_node *n, const hl_tensor *in,
                           hl_tensor *out, hl_error *err)
{
    int64_t pb[HL_MAX_DIMS];
    float v;
    out[0].dtype = in[0].dtype;
    return pad_geom(n, in, pb, &out[0].shape, &v, err);
}

/* Constant padding (negative pads crop) of float or int64 data, or, with
 * g/gx set, the gradient: gx += the part of g that came from the input. */
static void pad_run(const hl_node *n, const hl_tensor *in, const void *x,
                    void *y, hl_dtype dt, const float *g, float *gx)
{
    int64_t pb[HL_MAX_DIMS];
    hl_shape os;
    float v;
    if (pad_geom(n, in, pb, &os, &v, NULL))
        return;
    const hl_shape *is = &in[0].shape;
    int64_t nd = os.ndim;
    int64_t ist[HL_MAX_DIMS], idx[HL_MAX_DIMS] = { 0 };
    row_strides(is, ist);
    int64_t ow = nd ? os.dims[nd - 1] : 1, iw = nd ? is->dims[nd - 1] : 1;
    int64_t pw = nd ? pb[nd - 1] : 0;
    int64_t lo = pw > 0 ? pw : 0, hi = pw + iw < ow ? pw + iw : ow;
    if (hi < lo)
        hi = lo;
    int64_t rows = ow ? hl_shape_numel(&os) / ow : 0;
    for (int64_t r = 0; r < rows; r++) {
        int inside = 1;
        int64_t src = 0;
        for (int d = 0; d < nd - 1; d++) {
            int64_t ii = idx[d] - pb[d];
            if (ii < 0 || ii >= is->dims[d]) {
                inside = 0;
                break;
            }
            src += ii * ist[d];
        }
        src -= pw;   /* input offset of output column 0 of this row */
        int64_t o = r * ow;
        if (gx) {
            if (inside)
                for (int64_t k = lo; k < hi; k++)
                    gx[src + k] += g[o + k];
        } else if (dt == HL_DT_INT64) {
            const int64_t *xs = x;
            int64_t *ys = y;
            for (int64_t k = 0; k < ow; k++)
                ys[o + k] = inside && k >= lo && k < hi ? xs[src + k]
                                                        : (int64_t)v;
        } else {
            const float *xs = x;
            float *ys = y;
            for (int64_t k = 0; k < ow; k++)
                ys[o + k] = inside && k >= lo && k < hi ? xs[src + k] : v;
        }
        for (int64_t d = nd - 2; d >= 0; d--) {
            if (++idx[d] < os.dims[d])
                break;
            idx[d] = 0;
        }
    }
}

static void pad_forward(const hl_node *n, hl_op_ctx *c, const hl_tensor *in,
                        hl_tensor *out)
{
    (void)c;
    pad_run(n, in, in[0].data, out[0].data, HL_DT_FLOAT, NULL, NULL);
}

static void pad_backward(const hl_node *n, hl_op_ctx *c, const hl_tensor *in,
                         const hl_tensor *out, const hl_tensor *gout,
                         hl_tensor *gin)
{
    (void)c; (void)out;
    if (!gout[0].data || !gin[0].data)
        return;
    pad_run(n, in, NULL, NULL, HL_DT_FLOAT, gout[0].data, gin[0].data);
}

static hl_status pad_fold(const hl_node *n, const hl_tensor *in,
                          hl_tensor *out, hl_error *err)
{
    if (!tensor_known(&in[0]) || !tensor_ptr(&out[0]))
        return hl_error_set(err, HL_ERR_UNSUPPORTED, "input not known");
    pad_run(n, in, tensor_ptr(&in[0]), tensor_ptr(&out[0]), in[0].dtype,
            NULL, NULL);
    return HL_OK;
}

const hl_op hl_op_pad = {
    .op_type = "Pad", .source = __FILE__, .init = pad_init, .shape = pad_shape,
    .forward = pad_forward, .backward = pad_backward, .fold = pad_fold,
    .free_params = hl_params_free,
};

/* -------------------------------------------------------------- Shape */

typedef struct {
    int64_t start, end;
    int has_end;
} shape_params;

static hl_status shapeop_init(hl_node *n, const hl_attrs *attrs,
                              const hl_tensor *in, hl_error *err)
{
    (void)in;
    hl_status st = hl_params_alloc(n, sizeof(shape_params), err);
    if (st)
        return st;
    shape_params *p = n->params;
    p->start = hl_attrs_int(attrs, "start", 0);
    p->has_end = hl_attrs_find(attrs, "end") != NULL;
    p->end = hl_attrs_int(attrs, "end", 0);
    return HL_OK;
}

static void shapeop_range(const hl_node *n, int rank, int64_t *b, int64_t *e)
{
    const shape_params *p = n->params;
    int64_t s = p->start, en = p->has_end ? p->end : rank;
    if (s < 0) s += rank;
    if (en < 0) en += rank;
    s = s < 0 ? 0 : s > rank ? rank : s;
    en = en < 0 ? 0 : en > rank ? rank : en;
    *b = s;
    *e = en > s ? en : s;
}

static hl_status shapeop_shape(const hl_node *n, const hl_tensor *in,
                               hl_tensor *out, hl_error *err)
{
    (void)err;
    int64_t b, e;
    shapeop_range(n, in[0].shape.ndim, &b, &e);
    out[0].dtype = HL_DT_INT64;
    out[0].shape.ndim = 1;
    out[0].shape.dims[0] = e - b;
    return HL_OK;
}

static hl_status shapeop_fold(const hl_node *n, const hl_tensor *in,
                              hl_tensor *out, hl_error *err)
{
    if (!out[0].i64)
        return hl_error_set(err, HL_ERR_UNSUPPORTED, "output not allocated");
    int64_t b, e;
    shapeop_range(n, in[0].shape.ndim, &b, &e);
    for (int64_t i = b; i < e; i++)
        out[0].i64[i - b] = in[0].shape.dims[i];
    return HL_OK;
}

/* int64 outputs only ever come from fold(); forward fills them the same
 * way in case the runtime calls it. */
void hl_fold_forward(const hl_node *n, hl_op_ctx *c, const hl_tensor *in,
                     hl_tensor *out)
{
    (void)c;
    const hl_op *op = hl_op_get(n->op);
    if (op && op->fold)
        op->fold(n, in, out, NULL);
}

void hl_no_backward(const hl_node *n, hl_op_ctx *c, const hl_tensor *in,
                    const hl_tensor *out, const hl_tensor *gout, hl_tensor *gin)
{
    (void)n; (void)c; (void)in; (void)out; (void)gout; (void)gin;
}

const hl_op hl_op_shape = {
    .op_type = "Shape", .source = __FILE__,
    .flags = HL_OP_SHAPE_ONLY, .init = shapeop_init, .shape = shapeop_shape,
    .forward = hl_fold_forward, .backward = hl_no_backward, .fold = shapeop_fold,
    .free_params = hl_params_free,
};

/* ------------------------------------------------------------- Gather */

static hl_status gather_init(hl_node *n, const hl_attrs *attrs,
                             const hl_tensor *in, hl_error *err)
{
    (void)in;
    if (n->n_in != 2)
        return hl_error_set(err, HL_ERR_ARG, "expects 2 inputs");
    hl_status st = hl_params_alloc(n, sizeof(axis_params), err);
    if (st)
        return st;
    ((axis_params *)n->params)->axis = hl_attrs_int(attrs, "axis", 0);
    return HL_OK;
}

static hl_status gather_shape(const hl_node *n, const hl_tensor *in,
                              hl_tensor *out, hl_error *err)
{
    const hl_shape *ds = &in[0].shape, *is = &in[1].shape;
    int axis = hl_axis(((const axis_params *)n->params)->axis, ds->ndim);
    if (axis < 0)
        return hl_error_set(err, HL_ERR_ARG,
                            "attribute 'axis' is out of range for rank %d",
                            ds->ndim);
    if (in[1].dtype != HL_DT_INT64 || !in[1].i64)
        return hl_error_set(err, HL_ERR_UNSUPPORTED,
                            "indices must be int64 known at load time");
    if (ds->ndim - 1 + is->ndim > HL_MAX_DIMS)
        return hl_error_set(err, HL_ERR_UNSUPPORTED, "rank above %d",
                            HL_MAX_DIMS);
    int64_t cnt = hl_shape_numel(is);
    for (int64_t i = 0; i < cnt; i++) {
        int64_t v = in[1].i64[i];
        if (v < -ds->dims[axis] || v >= ds->dims[axis])
            return hl_error_set(err, HL_ERR_ARG,
                                "index %lld out of range for dim %lld",
                                (long long)v, (long long)ds->dims[axis]);
    }
    hl_shape s = { 0 };
    for (int i = 0; i < axis; i++)
        s.dims[s.ndim++] = ds->dims[i];
    for (int i = 0; i < is->ndim; i++)
        s.dims[s.ndim++] = is->dims[i];
    for (int i = axis + 1; i < ds->ndim; i++)
        s.dims[s.ndim++] = ds->dims[i];
    out[0].shape = s;
    out[0].dtype = in[0].dtype;
    return HL_OK;
}

typedef struct {
    int64_t outer, len, inner, count;
} gather_geom;

static gather_geom gather_make(const hl_node *n, const hl_tensor *in)
{
    const hl_shape *ds = &in[0].shape;
    int axis = hl_axis(((const axis_params *)n->params)->axis, ds->ndim);
    gather_geom g = { 1, ds->dims[axis], 1, hl_shape_numel(&in[1].shape) };
    for (int i = 0; i < axis; i++)
        g.outer *= ds->dims[i];
    for (int i = axis + 1; i < ds->ndim; i++)
        g.inner *= ds->dims[i];
    return g;
}

static void gather_copy(const hl_node *n, const hl_tensor *in, const void *x,
                        void *y, size_t es)
{
    gather_geom g = gather_make(n, in);
    const char *xs = x;
    char *ys = y;
    size_t run = (size_t)g.inner * es;
    for (int64_t o = 0; o < g.outer; o++)
        for (int64_t j = 0; j < g.count; j++) {
            int64_t id = in[1].i64[j];
            if (id < 0)
                id += g.len;
            memcpy(ys + (size_t)(o * g.count + j) * run,
                   xs + (size_t)(o * g.len + id) * run, run);
        }
}

static void gather_forward(const hl_node *n, hl_op_ctx *c, const hl_tensor *in,
                           hl_tensor *out)
{
    (void)c;
    gather_copy(n, in, in[0].data, out[0].data, sizeof(float));
}

static void gather_backward(const hl_node *n, hl_op_ctx *c,
                            const hl_tensor *in, const hl_tensor *out,
                            const hl_tensor *gout, hl_tensor *gin)
{
    (void)c; (void)out;
    if (!gout[0].data || !gin[0].data)
        return;
    gather_geom g = gather_make(n, in);
    for (int64_t o = 0; o < g.outer; o++)
        for (int64_t j = 0; j < g.count; j++) {
            int64_t id = in[1].i64[j];
            if (id < 0)
                id += g.len;
            const float *gs = gout[0].data + (o * g.count + j) * g.inner;
            float *gx = gin[0].data + (o * g.len + id) * g.inner;
            for (int64_t k = 0; k < g.inner; k++)
                gx[k] += gs[k];
        }
}

static hl_status gather_fold(const hl_node *n, const hl_tensor *in,
                             hl_tensor *out, hl_error *err)
{
    if (!tensor_known(&in[0]) || !in[1].i64 || !tensor_ptr(&out[0]))
        return hl_error_set(err, HL_ERR_UNSUPPORTED, "inputs not known");
    gather_copy(n, in, tensor_ptr(&in[0]), tensor_ptr(&out[0]),
                dtype_size(in[0].dtype));
    return HL_OK;
}

const hl_op hl_op_gather = {
    .op_type = "Gather", .source = __FILE__, .init = gather_init, .shape = gather_shape,
    .forward = gather_forward, .backward = gather_backward,
    .fold = gather_fold, .free_params = hl_params_free,
};

/* ----------------------------------------------------------- Constant */

typedef struct {
    hl_tensor t;      /* owned copy: shape, dtype and values */
} const_params;

static void const_free(hl_node *n)
{
    const_params *p = n->params;
    if (p) {
        free(p->t.data);
        free(p->t.i64);
    }
    hl_params_free(n);
}

/* Allocates p->t for `count` values of dtype dt. */
static hl_status const_alloc(const_params *p, hl_dtype dt, int64_t count,
                             hl_error *err)
{
    p->t.dtype = dt;
    size_t sz = (size_t)(count > 0 ? count : 1);
    if (dt == HL_DT_INT64)
        p->t.i64 = calloc(sz, sizeof(int64_t));
    else
        p->t.data = calloc(sz, sizeof(float));
    if (!p->t.i64 && !p->t.data)
        return hl_error_set(err, HL_ERR_NOMEM, "out of memory for a constant");
    return HL_OK;
}

static hl_status constant_init(hl_node *n, const hl_attrs *attrs,
                               const hl_tensor *in, hl_error *err)
{
    (void)in;
    hl_status st = hl_params_alloc(n, sizeof(const_params), err);
    if (st)
        return st;
    const_params *p = n->params;
    const hl_attr *a;
    if ((a = hl_attrs_find(attrs, "value"))) {
        if (a->type != HL_ATTR_TENSOR || !a->t)
            return hl_error_set(err, HL_ERR_UNSUPPORTED,
                                "attribute 'value' is not a tensor");
        if (a->t->dtype != HL_DT_FLOAT && a->t->dtype != HL_DT_INT64)
            return hl_error_set(err, HL_ERR_UNSUPPORTED,
                                "attribute 'value' has data type %d (float and int64 supported)",
                                (int)a->t->dtype);
        int64_t cnt = hl_shape_numel(&a->t->shape);
        if ((st = const_alloc(p, a->t->dtype, cnt, err)))
            return st;
        p->t.shape = a->t->shape;
        if (a->t->dtype == HL_DT_INT64 && a->t->i64)
            memcpy(p->t.i64, a->t->i64, sizeof(int64_t) * (size_t)cnt);
        else if (a->t->dtype == HL_DT_FLOAT && a->t->data)
            memcpy(p->t.data, a->t->data, sizeof(float) * (size_t)cnt);
        else
            return hl_error_set(err, HL_ERR_UNSUPPORTED,
                                "attribute 'value' has no data");
    } else if ((a = hl_attrs_find(attrs, "value_float"))) {
        if ((st = const_alloc(p, HL_DT_FLOAT, 1, err)))
            return st;
        p->t.data[0] = a->f;
    } else if ((a = hl_attrs_find(attrs, "value_int"))) {
        if ((st = const_alloc(p, HL_DT_INT64, 1, err)))
            return st;
        p->t.i64[0] = a->i;
    } else if ((a = hl_attrs_find(attrs, "value_floats"))) {
        if ((st = const_alloc(p, HL_DT_FLOAT, a->n, err)))
            return st;
        p->t.shape.ndim = 1;
        p->t.shape.dims[0] = a->n;
        if (a->n)
            memcpy(p->t.data, a->floats, sizeof(float) * (size_t)a->n);
    } else if ((a = hl_attrs_find(attrs, "value_ints"))) {
        if ((st = const_alloc(p, HL_DT_INT64, a->n, err)))
            return st;
        p->t.shape.ndim = 1;
        p->t.shape.dims[0] = a->n;
        if (a->n)
            memcpy(p->t.i64, a->ints, sizeof(int64_t) * (size_t)a->n);
    } else {
        const char *name = attrs && attrs->n ? attrs->a[0].name : "value";
        return hl_error_set(err, HL_ERR_UNSUPPORTED,
                            "attribute '%s' (value, value_float(s) and value_int(s) supported)",
                            name);
    }
    return HL_OK;
}

static hl_status constant_shape(const hl_node *n, const hl_tensor *in,
                                hl_tensor *out, hl_error *err)
{
    (void)in; (void)err;
    const const_params *p = n->params;
    out[0].shape = p->t.shape;
    out[0].dtype = p->t.dtype;
    return HL_OK;
}

static hl_status constant_fold(const hl_node *n, const hl_tensor *in,
                               hl_tensor *out, hl_error *err)
{
    (void)in;
    const const_params *p = n->params;
    if (!tensor_ptr(&out[0]))
        return hl_error_set(err, HL_ERR_UNSUPPORTED, "output not allocated");
    memcpy(tensor_ptr(&out[0]), tensor_ptr(&p->t),
           dtype_size(p->t.dtype) * (size_t)hl_shape_numel(&p->t.shape));
    return HL_OK;
}

const hl_op hl_op_constant = {
    .op_type = "Constant", .source = __FILE__,
    .flags = HL_OP_NO_INPUT, .init = constant_init, .shape = constant_shape,
    .forward = hl_fold_forward, .backward = hl_no_backward, .fold = constant_fold,
    .free_params = const_free,
};

/* ----------------------------------------------------- ConstantOfShape */

static hl_status cos_init(hl_node *n, const hl_attrs *attrs,
                          const hl_tensor *in, hl_error *err)
{
    (void)in;
    hl_status st = hl_params_alloc(n, sizeof(const_params), err);
    if (st)
        return st;
    const_params *p = n->params;
    const hl_attr *a = hl_attrs_find(attrs, "value");
    if (!a) {
        if ((st = const_alloc(p, HL_DT_FLOAT, 1, err)))
            return st;
        return HL_OK;
    }
    if (a->type != HL_ATTR_TENSOR || !a->t ||
        hl_shape_numel(&a->t->shape) != 1 ||
        (a->t->dtype != HL_DT_FLOAT && a->t->dtype != HL_DT_INT64))
        return hl_error_set(err, HL_ERR_UNSUPPORTED,
                            "attribute 'value' must be a 1-element float or int64 tensor");
    if ((st = const_alloc(p, a->t->dtype, 1, err)))
        return st;
    if (a->t->dtype == HL_DT_INT64)
        p->t.i64[0] = a->t->i64 ? a->t->i64[0] : 0;
    else
        p->t.data[0] = a->t->data ? a->t->data[0] : 0.0f;
    return HL_OK;
}

static hl_status cos_shape(const hl_node *n, const hl_tensor *in,
                           hl_tensor *out, hl_error *err)
{
    const const_params *p = n->params;
    if (!in[0].i64)
        return hl_error_set(err, HL_ERR_UNSUPPORTED,
                            "the shape input must be known at load time");
    int64_t cnt = hl_shape_numel(&in[0].shape);
    if (cnt > HL_MAX_DIMS)
        return hl_error_set(err, HL_ERR_UNSUPPORTED, "rank above %d",
                            HL_MAX_DIMS);
    out[0].shape.ndim = (int)cnt;
    for (int64_t i = 0; i < cnt; i++) {
        if (in[0].i64[i] < 0)
            return hl_error_set(err, HL_ERR_SHAPE, "negative dim");
        out[0].shape.dims[i] = in[0].i64[i];
    }
    out[0].dtype = p->t.dtype;
    return HL_OK;
}

static hl_status cos_fold(const hl_node *n, const hl_tensor *in,
                          hl_tensor *out, hl_error *err)
{
    (void)in;
    const const_params *p = n->params;
    if (!tensor_ptr(&out[0]))
        return hl_error_set(err, HL_ERR_UNSUPPORTED, "output not allocated");
    int64_t cnt = hl_shape_numel(&out[0].shape);
    for (int64_t i = 0; i < cnt; i++) {
        if (p->t.dtype == HL_DT_INT64)
            out[0].i64[i] = p->t.i64[0];
        else
            out[0].data[i] = p->t.data[0];
    }
    return HL_OK;
}

const hl_op hl_op_constantofshape = {
    .op_type = "ConstantOfShape", .source = __FILE__, .init = cos_init, .shape = cos_shape,
    .forward = hl_fold_forward, .backward = hl_no_backward, .fold = cos_fold,
    .free_params = const_free,
};

/* --------------------------------------------------------------- Cast */

typedef struct {
    hl_dtype to;
} cast_params;

static hl_status cast_init(hl_node *n, const hl_attrs *attrs,
                           const hl_tensor *in, hl_error *err)
{
    (void)in;
    int64_t to = hl_attrs_int(attrs, "to", -1);
    if (to != HL_DT_FLOAT && to != HL_DT_INT64)
        return hl_error_set(err, HL_ERR_UNSUPPORTED,
                            "attribute 'to' = %lld (only float (1) and int64 (7))",
                            (long long)to);
    hl_status st = hl_params_alloc(n, sizeof(cast_params), err);
    if (st)
        return st;
    ((cast_params *)n->params)->to = (hl_dtype)to;
    return HL_OK;
}

static hl_status cast_shape(const hl_node *n, const hl_tensor *in,
                            hl_tensor *out, hl_error *err)
{
    hl_dtype to = ((const cast_params *)n->params)->to;
    if (to != in[0].dtype && !tensor_known(&in[0]))
        return hl_error_set(err, HL_ERR_UNSUPPORTED,
                            "casting a run-time tensor to another data type");
    out[0].shape = in[0].shape;
    out[0].dtype = to;
    return HL_OK;
}

static hl_status cast_fold(const hl_node *n, const hl_tensor *in,
                           hl_tensor *out, hl_error *err)
{
    hl_dtype to = ((const cast_params *)n->params)->to;
    if (!tensor_known(&in[0]) || !tensor_ptr(&out[0]))
        return hl_error_set(err, HL_ERR_UNSUPPORTED, "input not known");
    int64_t cnt = hl_shape_numel(&in[0].shape);
    for (int64_t i = 0; i < cnt; i++) {
        if (to == HL_DT_INT64)
            out[0].i64[i] = in[0].dtype == HL_DT_INT64 ? in[0].i64[i]
                                                       : (int64_t)in[0].data[i];
        else
            out[0].data[i] = in[0].dtype == HL_DT_INT64 ? (float)in[0].i64[i]
                                                        : in[0].data[i];
    }
    return HL_OK;
}

const hl_op hl_op_cast = {
    .op_type = "Cast", .source = __FILE__, .init = cast_init, .shape = cast_shape,
    .forward = copy_forward, .backward = copy_backward, .fold = cast_fold,
    .free_params = hl_params_free,
};

/* -------------------------------------------------------------- Slice */

typedef struct {
    int nattr;                       /* opset < 10: attributes; else -1 */
    int64_t starts[HL_MAX_DIMS], ends[HL_MAX_DIMS], axes[HL_MAX_DIMS];
    int naxes;
} slice_params;

static hl_status slice_init(hl_node *n, const hl_attrs *attrs,
                            const hl_tensor *in, hl_error *err)
{
    (void)in;
    hl_status st = hl_params_alloc(n, sizeof(slice_params), err);
    if (st)
        return st;
    slice_params *p = n->params;
    p->nattr = -1;
    if (n->opset < 10) {
        p->nattr = hl_attrs_ints(attrs, "starts", p->starts, HL_MAX_DIMS);
        int ne = hl_attrs_ints(attrs, "ends", p->ends, HL_MAX_DIMS);
        if (p->nattr < 0 || ne != p->nattr || p->nattr > HL_MAX_DIMS)
            return hl_error_set(err, HL_ERR_ARG,
                                "attributes 'starts' and 'ends' must have the same length");
        p->naxes = hl_attrs_ints(attrs, "axes", p->axes, HL_MAX_DIMS);
    } else if (n->n_in < 3) {
        return hl_error_set(err, HL_ERR_ARG, "expects at least 3 inputs");
    }
    return HL_OK;
}

static hl_status slice_map(const hl_node *n, const hl_tensor *in,
                           strided_map *m, hl_error *err)
{
    const slice_params *p = n->params;
    const hl_shape *s = &in[0].shape;
    int64_t starts[HL_MAX_DIMS], ends[HL_MAX_DIMS], axes[HL_MAX_DIMS],
        steps[HL_MAX_DIMS];
    int cnt, na;
    if (p->nattr >= 0) {
        cnt = p->nattr;
        memcpy(starts, p->starts, sizeof starts);
        memcpy(ends, p->ends, sizeof ends);
        na = p->naxes;
        memcpy(axes, p->axes, sizeof axes);
        for (int i = 0; i < cnt; i++)
            steps[i] = 1;
    } else {
        for (int i = 1; i < 5 && i < n->n_in; i++)
            if (hl_has_input(n, i) && !in[i].i64)
                return hl_error_set(err, HL_ERR_UNSUPPORTED,
                                    "input %d of Slice must be int64 known at load time",
                                    i);
        cnt = hl_tensor_ints(&in[1], starts, HL_MAX_DIMS);
        if (hl_tensor_ints(&in[2], ends, HL_MAX_DIMS) != cnt)
            return hl_error_set(err, HL_ERR_SHAPE,
                                "'starts' and 'ends' differ in length");
        na = hl_has_input(n, 3) ? hl_tensor_ints(&in[3], axes, HL_MAX_DIMS) : -1;
        if (hl_has_input(n, 4)) {
            if (hl_tensor_ints(&in[4], steps, HL_MAX_DIMS) != cnt)
                return hl_error_set(err, HL_ERR_SHAPE,
                                    "'steps' length differs from 'starts'");
        } else {
            for (int i = 0; i < cnt; i++)
                steps[i] = 1;
        }
    }
    if (na < 0) {
        na = cnt;
        for (int i = 0; i < cnt; i++)
            axes[i] = i;
    }
    if (na != cnt)
        return hl_error_set(err, HL_ERR_SHAPE, "'axes' length differs from 'starts'");
    int64_t st[HL_MAX_DIMS];
    row_strides(s, st);
    m->ndim = s->ndim;
    m->base = 0;
    for (int i = 0; i < s->ndim; i++) {
        m->dims[i] = s->dims[i];
        m->istride[i] = st[i];
    }
    int used[HL_MAX_DIMS] = { 0 };
    for (int k = 0; k < cnt; k++) {
        int a = hl_axis(axes[k], s->ndim);
        if (a < 0 || used[a])
            return hl_error_set(err, HL_ERR_ARG, "axis %lld out of range or repeated",
                                (long long)axes[k]);
        used[a] = 1;
        int64_t dim = s->dims[a], b = starts[k], e = ends[k], step = steps[k];
        if (step == 0)
            return hl_error_set(err, HL_ERR_ARG, "step 0");
        if (b < 0) b += dim;
        if (e < 0) e += dim;
        int64_t len;
        if (step > 0) {
            b = b < 0 ? 0 : b > dim ? dim : b;
            e = e < 0 ? 0 : e > dim ? dim : e;
            len = e > b ? (e - b + step - 1) / step : 0;
        } else {
            b = b < 0 ? -1 : b > dim - 1 ? dim - 1 : b;
            e = e < -1 ? -1 : e > dim - 1 ? dim - 1 : e;
            len = b > e ? (b - e + (-step) - 1) / (-step) : 0;
        }
        m->dims[a] = len;
        m->istride[a] = st[a] * step;
        if (len > 0)
            m->base += b * st[a];
    }
    return HL_OK;
}

static hl_status slice_shape(const hl_node *n, const hl_tensor *in,
                             hl_tensor *out, hl_error *err)
{
    strided_map m;
    hl_status st = slice_map(n, in, &m, err);
    if (st)
        return st;
    out[0].dtype = in[0].dtype;
    out[0].shape.ndim = m.ndim;
    for (int i = 0; i < m.ndim; i++)
        out[0].shape.dims[i] = m.dims[i];
    return HL_OK;
}

static void slice_forward(const hl_node *n, hl_op_ctx *c, const hl_tensor *in,
                          hl_tensor *out)
{
    (void)c;
    strided_map m;
    if (slice_map(n, in, &m, NULL))
        return;
    strided_gather(&m, in[0].data, out[0].data, HL_DT_FLOAT);
}

static void slice_backward(const hl_node *n, hl_op_ctx *c, const hl_tensor *in,
                           const hl_tensor *out, const hl_tensor *gout,
                           hl_tensor *gin)
{
    (void)c; (void)out;
    strided_map m;
    if (!gout[0].data || !gin[0].data || slice_map(n, in, &m, NULL))
        return;
    strided_scatter_add(&m, gout[0].data, gin[0].data);
}

static hl_status slice_fold(const hl_node *n, const hl_tensor *in,
                            hl_tensor *out, hl_error *err)
{
    strided_map m;
    hl_status st = slice_map(n, in, &m, err);
    if (st)
        return st;
    if (!tensor_known(&in[0]) || !tensor_ptr(&out[0]))
        return hl_error_set(err, HL_ERR_UNSUPPORTED, "input not known");
    strided_gather(&m, tensor_ptr(&in[0]), tensor_ptr(&out[0]), in[0].dtype);
    return HL_OK;
}

const hl_op hl_op_slice = {
    .op_type = "Slice", .source = __FILE__, .init = slice_init, .shape = slice_shape,
    .forward = slice_forward, .backward = slice_backward, .fold = slice_fold,
    .free_params = hl_params_free,
};
