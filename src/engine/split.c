/* Split along one axis into several outputs (ShuffleNet's channel split
 * as exported by Caffe2/Keras/timm tools). Sizes come from the `split`
 * attribute (opset < 13) or constant input (opset >= 13), else equal parts
 * (opset 18 `num_outputs`: ceil-sized parts, the last one smaller).
 * Backward adds each output gradient back into its slice. */
#include <string.h>
#include "kernels.h"

typedef struct {
    int64_t axis;
    int nsplit;                  /* explicit sizes, or 0 = equal parts */
    int64_t split[HL_MAX_IO];
} split_params;

static hl_status split_init(hl_node *n, const hl_attrs *attrs,
                            const hl_tensor *in, hl_error *err)
{
    if (n->n_in < 1 || n->n_out < 1)
        return hl_error_set(err, HL_ERR_ARG, "expects an input and outputs");
    hl_status st = hl_params_alloc(n, sizeof(split_params), err);
    if (st)
        return st;
    split_params *p = n->params;
    p->axis = hl_attrs_int(attrs, "axis", 0);
    if (hl_has_input(n, 1)) {
        if (!in[1].i64 && !in[1].data)
            return hl_error_set(err, HL_ERR_UNSUPPORTED,
                                "input 'split' must be a constant");
        if (hl_shape_numel(&in[1].shape) != n->n_out)
            return hl_error_set(err, HL_ERR_ARG,
                                "input 'split' has %lld sizes for %d outputs",
                                (long long)hl_shape_numel(&in[1].shape),
                                n->n_out);
        p->nsplit = hl_tensor_ints(&in[1], p->split, HL_MAX_IO);
    } else if (hl_attrs_find(attrs, "split")) {
        p->nsplit = hl_attrs_ints(attrs, "split", p->split, HL_MAX_IO);
        if (p->nsplit != n->n_out)
            return hl_error_set(err, HL_ERR_ARG,
                                "attribute 'split' has %d sizes for %d outputs",
                                p->nsplit, n->n_out);
    }
    for (int i = 0; i < p->nsplit; i++)
        if (p->split[i] < 0)
            return hl_error_set(err, HL_ERR_ARG, "negative split size");
    int64_t k = hl_attrs_int(attrs, "num_outputs", n->n_out);
    if (k != n->n_out)
        return hl_error_set(err, HL_ERR_ARG,
                            "attribute 'num_outputs' = %lld for %d outputs",
                            (long long)k, n->n_out);
    return HL_OK;
}

/* Sizes along the axis for a dim of length d; -1 when they do not add up. */
static int split_sizes(const hl_node *n, int64_t d, int64_t *sizes)
{
    const split_params *p = n->params;
    int64_t total = 0;
    if (p->nsplit) {
        for (int i = 0; i < n->n_out; i++)
            total += sizes[i] = p->split[i];
    } else {
        int64_t part = (d + n->n_out - 1) / n->n_out;
        for (int i = 0; i < n->n_out; i++) {
            int64_t left = d - total;
            sizes[i] = left < part ? (left > 0 ? left : 0) : part;
            total += sizes[i];
        }
        /* before opset 18 the parts must be equal */
        if (n->opset < 18 && d % n->n_out)
            return -1;
    }
    return total == d ? 0 : -1;
}

static hl_status split_shape(const hl_node *n, const hl_tensor *in,
                             hl_tensor *out, hl_error *err)
{
    const split_params *p = n->params;
    int a = hl_axis(p->axis, in[0].shape.ndim);
    if (a < 0)
        return hl_error_set(err, HL_ERR_ARG,
                            "attribute 'axis' (%lld) is out of range for rank %d",
                            (long long)p->axis, in[0].shape.ndim);
    if (in[0].dtype != HL_DT_FLOAT)
        return hl_error_set(err, HL_ERR_UNSUPPORTED, "input must be float");
    int64_t sizes[HL_MAX_IO];
    if (split_sizes(n, in[0].shape.dims[a], sizes)) {
        char b[96];
        return hl_error_set(err, HL_ERR_SHAPE,
                            "cannot split %s along axis %d into %d parts",
                            hl_shape_format(&in[0].shape, b, sizeof b), a,
                            n->n_out);
    }
    for (int i = 0; i < n->n_out; i++) {
        out[i].shape = in[0].shape;
        out[i].shape.dims[a] = sizes[i];
        out[i].dtype = HL_DT_FLOAT;
    }
    return HL_OK;
}

/* outer = product of dims before the axis, inner = after it. */
static void split_geometry(const hl_node *n, const hl_shape *s, int *axis,
                           int64_t *outer, int64_t *inner, int64_t *sizes)
{
    const split_params *p = n->params;
    int a = hl_axis(p->axis, s->ndim);
    *axis = a;
    *outer = 1;
    *inner = 1;
    for (int d = 0; d < a; d++)
        *outer *= s->dims[d];
    for (int d = a + 1; d < s->ndim; d++)
        *inner *= s->dims[d];
    split_sizes(n, s->dims[a], sizes);
}

static void split_forward(const hl_node *n, hl_op_ctx *c, const hl_tensor *in,
                          hl_tensor *out)
{
    (void)c;
    int a;
    int64_t outer, inner, sizes[HL_MAX_IO];
    split_geometry(n, &in[0].shape, &a, &outer, &inner, sizes);
    int64_t d = in[0].shape.dims[a];
    for (int64_t o = 0; o < outer; o++) {
        int64_t start = 0;
        for (int i = 0; i < n->n_out; i++) {
            if (hl_has_output(n, i) && out[i].data)
                memcpy(out[i].data + o * sizes[i] * inner,
                       in[0].data + (o * d + start) * inner,
                       sizeof(float) * (size_t)(sizes[i] * inner));
            start += sizes[i];
        }
    }
}

static void split_backward(const hl_node *n, hl_op_ctx *c, const hl_tensor *in,
                           const hl_tensor *out, const hl_tensor *gout,
                           hl_tensor *gin)
{
    (void)c; (void)out;
    if (!gin[0].data)
        return;
    int a;
    int64_t outer, inner, sizes[HL_MAX_IO];
    split_geometry(n, &in[0].shape, &a, &outer, &inner, sizes);
    int64_t d = in[0].shape.dims[a];
    for (int64_t o = 0; o < outer; o++) {
        int64_t start = 0;
        for (int i = 0; i < n->n_out; i++) {
            const float *g = hl_has_output(n, i) ? gout[i].data : NULL;
            if (g) {
                const float *src = g + o * sizes[i] * inner;
                float *dst = gin[0].data + (o * d + start) * inner;
                for (int64_t k = 0; k < sizes[i] * inner; k++)
                    dst[k] += src[k];
            }
            start += sizes[i];
        }
    }
}

const hl_op hl_op_split = {
    .op_type = "Split", .source = __FILE__, .flags = HL_OP_OUTPUTS_OPTIONAL,
    .init = split_init, .shape = split_shape,
    .forward = split_forward, .backward = split_backward,
    .free_params = hl_params_free,
};
