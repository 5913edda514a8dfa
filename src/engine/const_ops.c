/* Ops whose outputs are known before forward: Shape (of its input's
 * shape, HL_OP_SHAPE_ONLY), Constant (HL_OP_NO_INPUT), ConstantOfShape
 * and Cast of plan-time tensors, evaluated through fold(). */
#include "shape_common.h"

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
    } else if ((a = hl_attrs_typed(attrs, "value_float", HL_ATTR_FLOAT))) {
        if ((st = const_alloc(p, HL_DT_FLOAT, 1, err)))
            return st;
        p->t.data[0] = a->f;
    } else if ((a = hl_attrs_typed(attrs, "value_int", HL_ATTR_INT))) {
        if ((st = const_alloc(p, HL_DT_INT64, 1, err)))
            return st;
        p->t.i64[0] = a->i;
    } else if ((a = hl_attrs_typed(attrs, "value_floats", HL_ATTR_FLOATS))) {
        if ((st = const_alloc(p, HL_DT_FLOAT, a->n, err)))
            return st;
        p->t.shape.ndim = 1;
        p->t.shape.dims[0] = a->n;
        if (a->n)
            memcpy(p->t.data, a->floats, sizeof(float) * (size_t)a->n);
    } else if ((a = hl_attrs_typed(attrs, "value_ints", HL_ATTR_INTS))) {
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

