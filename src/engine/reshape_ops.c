/* Ops whose output is their input's bytes under another shape: Flatten,
 * Reshape, Squeeze, Unsqueeze, and the aliases Identity and Dropout
 * (HL_OP_ALIAS: the loader removes them). Each also folds plan-time
 * tensors, float or int64. */
#include "shape_common.h"

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


/* ------------------------------------------------------------ Flatten */

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
    .op_type = "Flatten", .source = __FILE__, .lrp = HL_LRP_PASS,
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
        if (__builtin_mul_overflow(known, v, &known))
            return hl_error_set(err, HL_ERR_SHAPE,
                                "the target shape's element count overflows "
                                "64 bits");
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
    .op_type = "Reshape", .source = __FILE__, .lrp = HL_LRP_PASS,
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

/* Aliases: the loader runs init() to check the node, then keeps only an
 * alias of the input (HL_OP_ALIAS), so they have no kernels. */
const hl_op hl_op_identity = {
    .op_type = "Identity", .source = __FILE__, .flags = HL_OP_ALIAS,
    .init = identity_init,
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
    .op_type = "Dropout", .source = __FILE__, .flags = HL_OP_ALIAS,
    .init = dropout_init,
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
    .op_type = "Squeeze", .source = __FILE__, .lrp = HL_LRP_PASS,
    .bwd_reads = HL_BWD_READS_NOTHING, .init = axes_init, .shape = squeeze_shape,
    .forward = copy_forward, .backward = copy_backward, .fold = copy_fold,
    .free_params = hl_params_free,
};

const hl_op hl_op_unsqueeze = {
    .op_type = "Unsqueeze", .source = __FILE__, .lrp = HL_LRP_PASS,
    .bwd_reads = HL_BWD_READS_NOTHING, .init = axes_init, .shape = unsqueeze_shape,
    .forward = copy_forward, .backward = copy_backward, .fold = copy_fold,
    .free_params = hl_params_free,
};

