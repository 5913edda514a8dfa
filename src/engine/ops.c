/* The op table: one entry per supported ONNX op type. */
#include <stdlib.h>
#include <string.h>
#include "kernels.h"

static const hl_op *const op_table[] = {
    &hl_op_conv, &hl_op_batchnorm,
    &hl_op_relu, &hl_op_leakyrelu, &hl_op_prelu, &hl_op_clip, &hl_op_sigmoid,
    &hl_op_hardsigmoid, &hl_op_hardswish, &hl_op_tanh, &hl_op_elu,
    &hl_op_maxpool, &hl_op_averagepool, &hl_op_globalaveragepool,
    &hl_op_globalmaxpool,
    &hl_op_add, &hl_op_sub, &hl_op_mul, &hl_op_div, &hl_op_sum,
    &hl_op_max, &hl_op_min, &hl_op_expand,
    &hl_op_gemm, &hl_op_matmul,
    &hl_op_flatten, &hl_op_reshape, &hl_op_transpose, &hl_op_concat,
    &hl_op_squeeze, &hl_op_unsqueeze, &hl_op_pad, &hl_op_identity,
    &hl_op_dropout, &hl_op_shape, &hl_op_gather, &hl_op_constant,
    &hl_op_cast, &hl_op_slice, &hl_op_constantofshape,
    &hl_op_softmax, &hl_op_logsoftmax,
    &hl_op_reducemean, &hl_op_reducesum, &hl_op_reducemax, &hl_op_reducemin,
    &hl_op_sqrt, &hl_op_abs, &hl_op_erf, &hl_op_exp, &hl_op_log, &hl_op_neg, &hl_op_reciprocal,
    &hl_op_softplus, &hl_op_mish, &hl_op_gelu, &hl_op_pow,
    &hl_op_layernormalization, &hl_op_instancenormalization, &hl_op_lrn,
    &hl_op_split, &hl_op_resize, &hl_op_upsample,
    &hl_op_dequantizelinear,
};

#define OP_COUNT ((int)(sizeof op_table / sizeof op_table[0]))

/* Kept in the order of op_table; tests/engine/test-ops-table.c checks it. */
static const char supported_list[] =
    "Conv, BatchNormalization, "
    "Relu, LeakyRelu, PRelu, Clip, Sigmoid, HardSigmoid, HardSwish, Tanh, "
    "Elu, "
    "MaxPool, AveragePool, GlobalAveragePool, GlobalMaxPool, "
    "Add, Sub, Mul, Div, Sum, Max, Min, Expand, "
    "Gemm, MatMul, "
    "Flatten, Reshape, Transpose, Concat, Squeeze, Unsqueeze, Pad, "
    "Identity, Dropout, Shape, Gather, Constant, Cast, Slice, "
    "ConstantOfShape, "
    "Softmax, LogSoftmax, "
    "ReduceMean, ReduceSum, ReduceMax, ReduceMin, "
    "Sqrt, Abs, Erf, Exp, Log, Neg, Reciprocal, Softplus, Mish, Gelu, Pow, "
    "LayerNormalization, InstanceNormalization, LRN, "
    "Split, Resize, Upsample, "
    "DequantizeLinear";

int hl_op_index(const char *op_type)
{
    if (!op_type)
        return -1;
    for (int i = 0; i < OP_COUNT; i++)
        if (strcmp(op_table[i]->op_type, op_type) == 0)
            return i;
    return -1;
}

const hl_op *hl_op_get(int index)
{
    return index >= 0 && index < OP_COUNT ? op_table[index] : NULL;
}

const hl_op *hl_op_find(const char *op_type)
{
    return hl_op_get(hl_op_index(op_type));
}

const char *hl_op_supported_list(void)
{
    return supported_list;
}

hl_status hl_params_alloc(hl_node *n, size_t size, hl_error *err)
{
    free(n->params);
    n->params = calloc(1, size);
    if (!n->params)
        return hl_error_set(err, HL_ERR_NOMEM, "out of memory for parameters");
    return HL_OK;
}

void hl_params_free(hl_node *n)
{
    free(n->params);
    n->params = NULL;
}

int hl_tensor_ints(const hl_tensor *t, int64_t *out, int max)
{
    int64_t count = hl_shape_numel(&t->shape);
    if (count > max)
        count = max;
    for (int64_t i = 0; i < count; i++) {
        if (t->i64)
            out[i] = t->i64[i];
        else if (t->data)
            out[i] = (int64_t)t->data[i];
        else
            return -1;
    }
    return (int)count;
}

/* ------------------------------------------------------ broadcasting */

int hl_broadcast_shape(const hl_shape *a, const hl_shape *b, hl_shape *out)
{
    int nd = a->ndim > b->ndim ? a->ndim : b->ndim;
    hl_shape r = { .ndim = nd };
    for (int i = 0; i < nd; i++) {
        int ia = i - (nd - a->ndim), ib = i - (nd - b->ndim);
        int64_t da = ia >= 0 ? a->dims[ia] : 1;
        int64_t db = ib >= 0 ? b->dims[ib] : 1;
        if (da == db || db == 1)
            r.dims[i] = da;
        else if (da == 1)
            r.dims[i] = db;
        else
            return -1;
    }
    *out = r;
    return 0;
}

void hl_bcast_init(hl_bcast *bc, const hl_shape *a, const hl_shape *b)
{
    hl_shape o;
    hl_broadcast_shape(a, b, &o);
    int nd = o.ndim;
    int64_t dims[HL_MAX_DIMS], sa[HL_MAX_DIMS], sb[HL_MAX_DIMS];
    int64_t ra = 1, rb = 1;
    for (int i = nd - 1; i >= 0; i--) {
        int ia = i - (nd - a->ndim), ib = i - (nd - b->ndim);
        int64_t da = ia >= 0 ? a->dims[ia] : 1;
        int64_t db = ib >= 0 ? b->dims[ib] : 1;
        dims[i] = o.dims[i];
        sa[i] = da == 1 ? 0 : ra;
        sb[i] = db == 1 ? 0 : rb;
        ra *= da;
        rb *= db;
    }
    /* drop size-1 dims, merge dims that are contiguous in both */
    int m = 0;
    for (int i = 0; i < nd; i++) {
        if (dims[i] == 1)
            continue;
        if (m > 0 && sa[m - 1] == sa[i] * dims[i] &&
            sb[m - 1] == sb[i] * dims[i]) {
            bc->dims[m - 1] *= dims[i];
            bc->sa[m - 1] = sa[i];
            bc->sb[m - 1] = sb[i];
            continue;
        }
        bc->dims[m] = dims[i];
        bc->sa[m] = sa[i];
        bc->sb[m] = sb[i];
        m++;
    }
    if (m == 0) {
        bc->dims[0] = 1;
        bc->sa[0] = bc->sb[0] = 0;
        m = 1;
    }
    bc->ndim = m;
    bc->total = 1;
    for (int i = 0; i < m; i++)
        bc->total *= bc->dims[i];
}

void hl_bcast_row(const hl_bcast *bc, int64_t r, int64_t *oa, int64_t *ob)
{
    int64_t a = 0, b = 0;
    for (int i = bc->ndim - 2; i >= 0; i--) {
        int64_t idx = r % bc->dims[i];
        r /= bc->dims[i];
        a += idx * bc->sa[i];
        b += idx * bc->sb[i];
    }
    *oa = a;
    *ob = b;
}
