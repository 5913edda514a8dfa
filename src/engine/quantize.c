/* DequantizeLinear: y = (x - zero_point) * scale, per tensor or per
 * channel along `axis` (1-D scale and zero point). Only for tensors known
 * at load time: quantized weights stored as uint8/int8 initializers (the
 * bundled model keeps its TFLite weights this way, a quarter of the float
 * size), which the loader folds into float weights. x - zero_point is an
 * exact small integer, so the float product is the correctly rounded
 * value, the same as computing in double and rounding once. */
#include <string.h>
#include "op.h"
#include "kernels.h"

typedef struct {
    int64_t axis;
} dequantize_params;

static hl_status dequantize_init(hl_node *n, const hl_attrs *attrs,
                                 const hl_tensor *in, hl_error *err)
{
    (void)in;
    if (n->n_in < 2 || n->n_out != 1)
        return hl_error_set(err, HL_ERR_ARG, "expects x, scale[, zero_point] and 1 output");
    hl_status st = hl_params_alloc(n, sizeof(dequantize_params), err);
    if (st)
        return st;
    ((dequantize_params *)n->params)->axis = hl_attrs_int(attrs, "axis", 1);
    return HL_OK;
}

static int known(const hl_tensor *t)
{
    return t->dtype == HL_DT_INT64 ? t->i64 != NULL : t->data != NULL;
}

static double element(const hl_tensor *t, int64_t i)
{
    return t->dtype == HL_DT_INT64 ? (double)t->i64[i] : (double)t->data[i];
}

/* The channel count scale and zero point run along (1 = per tensor), and
 * the number of elements per channel step. */
static hl_status dequantize_geometry(const hl_node *n, const hl_tensor *in,
                                     int64_t *channels, int64_t *inner,
                                     hl_error *err)
{
    const hl_shape *xs = &in[0].shape;
    int64_t k = hl_shape_numel(&in[1].shape);
    *channels = 1;
    *inner = 1;
    if (in[1].shape.ndim > 1 ||
        (hl_has_input(n, 2) && hl_shape_numel(&in[2].shape) != k))
        return hl_error_set(err, HL_ERR_SHAPE, "scale and zero_point must be scalars or 1-D of one size");
    if (k == 1)
        return HL_OK;
    int64_t axis = ((const dequantize_params *)n->params)->axis;
    if (axis < 0)
        axis += xs->ndim;
    if (axis < 0 || axis >= xs->ndim || xs->dims[axis] != k)
        return hl_error_set(err, HL_ERR_SHAPE, "%lld scales do not match axis %lld of x",
                            (long long)k, (long long)axis);
    *channels = k;
    for (int i = (int)axis + 1; i < xs->ndim; i++)
        *inner *= xs->dims[i];
    return HL_OK;
}

static hl_status dequantize_shape(const hl_node *n, const hl_tensor *in,
                                  hl_tensor *out, hl_error *err)
{
    if (!known(&in[0]))
        return hl_error_set(err, HL_ERR_UNSUPPORTED,
                            "dequantizing a run-time tensor (only weights known at load)");
    int64_t channels, inner;
    hl_status st = dequantize_geometry(n, in, &channels, &inner, err);
    if (st)
        return st;
    out[0].shape = in[0].shape;
    out[0].dtype = HL_DT_FLOAT;
    return HL_OK;
}

static hl_status dequantize_fold(const hl_node *n, const hl_tensor *in,
                                 hl_tensor *out, hl_error *err)
{
    int64_t channels, inner;
    hl_status st = dequantize_geometry(n, in, &channels, &inner, err);
    if (st)
        return st;
    if (!known(&in[0]) || !known(&in[1]) || (hl_has_input(n, 2) && !known(&in[2])) ||
        !out[0].data)
        return hl_error_set(err, HL_ERR_UNSUPPORTED, "inputs not known at load");
    int64_t total = hl_shape_numel(&in[0].shape);
    for (int64_t i = 0; i < total; i++) {
        int64_t c = (i / inner) % channels;
        float q = (float)(element(&in[0], i) -
                          (hl_has_input(n, 2) ? element(&in[2], c) : 0.0));
        out[0].data[i] = q * (float)element(&in[1], c);
    }
    return HL_OK;
}

const hl_op hl_op_dequantizelinear = {
    .op_type = "DequantizeLinear", .source = __FILE__, .init = dequantize_init, .shape = dequantize_shape,
    .forward = hl_fold_forward, .backward = hl_no_backward,
    .fold = dequantize_fold,
    .free_params = hl_params_free,
};
