/* The op table: one entry per supported ONNX op type, the only place
 * that lists them (the loader, the planner, the docs and the CLI's op list
 * all read it). */
#include <stdlib.h>
#include <string.h>
#include "kernels.h"

/* One line per op: the op (defined in its family file) and the note the
 * docs print beside it. docs/engine-ops.md's table is generated from
 * this (engine-ops-table; tests/engine/test-ops-doc.c checks it). */
static const struct op_entry {
    const hl_op *op;
    const char *note;
    unsigned roles; /* HL_ROLE_* (engine.h) besides the rules' roles,
                       which come from the op's flags */
} op_table[] = {
    { &hl_op_conv, NULL, HL_ROLE_CONV },
    { &hl_op_batchnorm, "inference; folded into a preceding Conv at load", 0 },
    { &hl_op_relu, NULL, HL_ROLE_ACTIVATION },
    { &hl_op_leakyrelu, NULL, HL_ROLE_ACTIVATION },
    { &hl_op_prelu, NULL, HL_ROLE_ACTIVATION },
    { &hl_op_clip, NULL, HL_ROLE_ACTIVATION },
    { &hl_op_sigmoid, NULL, HL_ROLE_ACTIVATION },
    { &hl_op_hardsigmoid, NULL, HL_ROLE_ACTIVATION },
    { &hl_op_hardswish, NULL, HL_ROLE_ACTIVATION },
    { &hl_op_tanh, NULL, HL_ROLE_ACTIVATION },
    { &hl_op_elu, NULL, HL_ROLE_ACTIVATION },
    { &hl_op_swish, "SiLU; also fused from Sigmoid x Mul", HL_ROLE_ACTIVATION },
    { &hl_op_gelu, "exact and tanh; also fused from their exports", HL_ROLE_ACTIVATION },
    { &hl_op_mish, "also fused from Softplus/Tanh/Mul", HL_ROLE_ACTIVATION },
    { &hl_op_maxpool, NULL, 0 },
    { &hl_op_averagepool, NULL, 0 },
    { &hl_op_globalaveragepool, NULL, 0 },
    { &hl_op_globalmaxpool, NULL, 0 },
    { &hl_op_add, "NumPy broadcasting; int64 at plan time", HL_ROLE_MERGE },
    { &hl_op_sub, "NumPy broadcasting; int64 at plan time", 0 },
    { &hl_op_mul, "NumPy broadcasting; int64 at plan time", 0 },
    { &hl_op_div, "NumPy broadcasting; int64 at plan time", 0 },
    { &hl_op_sum, "any number of inputs", HL_ROLE_MERGE },
    { &hl_op_max, "any number of inputs", 0 },
    { &hl_op_min, "any number of inputs", 0 },
    { &hl_op_expand, "shape known at load", 0 },
    { &hl_op_gemm, NULL, 0 },
    { &hl_op_matmul, NULL, 0 },
    { &hl_op_flatten, NULL, HL_ROLE_RESHAPE },
    { &hl_op_reshape, NULL, HL_ROLE_RESHAPE },
    { &hl_op_squeeze, NULL, HL_ROLE_RESHAPE },
    { &hl_op_unsqueeze, NULL, HL_ROLE_RESHAPE },
    { &hl_op_identity, "removed at load: an alias of its input", 0 },
    { &hl_op_dropout, "inference; removed at load: an alias of its input", 0 },
    { &hl_op_transpose, NULL, 0 },
    { &hl_op_concat, NULL, HL_ROLE_MERGE },
    { &hl_op_pad, NULL, 0 },
    { &hl_op_gather, "indices known at load", 0 },
    { &hl_op_slice, NULL, 0 },
    { &hl_op_shape, "known at plan time", 0 },
    { &hl_op_constant, "folded at load", 0 },
    { &hl_op_constantofshape, "folded at load or plan time", 0 },
    { &hl_op_cast, NULL, 0 },
    { &hl_op_softmax, NULL, HL_ROLE_SOFTMAX },
    { &hl_op_logsoftmax, NULL, HL_ROLE_LOG_SOFTMAX },
    { &hl_op_reducemean, NULL, 0 },
    { &hl_op_reducesum, NULL, 0 },
    { &hl_op_reducemax, NULL, 0 },
    { &hl_op_reducemin, NULL, 0 },
    { &hl_op_sqrt, NULL, 0 },
    { &hl_op_abs, NULL, 0 },
    { &hl_op_erf, NULL, 0 },
    { &hl_op_exp, NULL, 0 },
    { &hl_op_log, NULL, 0 },
    { &hl_op_neg, NULL, 0 },
    { &hl_op_reciprocal, NULL, 0 },
    { &hl_op_softplus, NULL, HL_ROLE_ACTIVATION },
    { &hl_op_pow, "constant exponent", 0 },
    { &hl_op_layernormalization, "opset 17; Mean/InvStdDev outputs too", 0 },
    { &hl_op_instancenormalization, "torch.onnx's GroupNorm", 0 },
    { &hl_op_lrn, "across channels", 0 },
    { &hl_op_split, NULL, 0 },
    { &hl_op_resize, "opset 10+; nearest and linear", 0 },
    { &hl_op_upsample, "opsets 7-9; nearest and linear", 0 },
    { &hl_op_dequantizelinear, "weights known at load, per tensor or per "
                               "axis; folded to float32", 0 },
};

#define OP_COUNT ((int)(sizeof op_table / sizeof op_table[0]))

int hl_op_index(const char *op_type)
{
    if (!op_type)
        return -1;
    for (int i = 0; i < OP_COUNT; i++)
        if (strcmp(op_table[i].op->op_type, op_type) == 0)
            return i;
    return -1;
}

const hl_op *hl_op_get(int index)
{
    return index >= 0 && index < OP_COUNT ? op_table[index].op : NULL;
}

const hl_op *hl_op_find(const char *op_type)
{
    return hl_op_get(hl_op_index(op_type));
}

/* ------------------------------------------------------- public listing */

int hl_engine_op_count(void)
{
    return OP_COUNT;
}

const char *hl_engine_op_name(int index)
{
    const hl_op *op = hl_op_get(index);
    return op ? op->op_type : NULL;
}

const char *hl_engine_op_file(int index)
{
    const hl_op *op = hl_op_get(index);
    if (!op || !op->source)
        return NULL;
    const char *slash = strrchr(op->source, '/');
    return slash ? slash + 1 : op->source;
}

unsigned hl_op_roles(int index)
{
    const hl_op *op = hl_op_get(index);
    if (!op)
        return 0;
    unsigned roles = op_table[index].roles;
    if (op->flags & HL_OP_GUIDED)
        roles |= HL_ROLE_GUIDED_RULE;
    if (op->flags & HL_OP_RESCALE)
        roles |= HL_ROLE_RESCALE_RULE;
    if (op->flags & (HL_OP_GUIDED | HL_OP_RELU_FAMILY))
        roles |= HL_ROLE_GUIDED_FAMILY_RULE;
    if (op->flags & (HL_OP_RESCALE | HL_OP_RESCALE_FAMILY))
        roles |= HL_ROLE_RESCALE_FAMILY_RULE;
    return roles;
}

const char *hl_engine_op_note(int index)
{
    return index >= 0 && index < OP_COUNT && op_table[index].note
               ? op_table[index].note
               : "";
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
