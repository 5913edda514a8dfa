/* Resize (opset 10+) and Upsample (opset 7-9) over the spatial dims of an
 * [N,C,spatial...] tensor with modes nearest and linear (HRNet-style fuse
 * layers, models that resize their input to a fixed size).
 *
 * Scales or sizes must be known at load time; N and C are never scaled.
 * Coordinate transforms: half_pixel, pytorch_half_pixel, align_corners,
 * asymmetric (tf_crop_and_resize and tf_half_pixel_for_nn are refused);
 * nearest modes: round_prefer_floor, round_prefer_ceil, floor, ceil.
 * Linear mode interpolates each spatial axis in turn (bilinear,
 * trilinear), neighbours clamped to the edges as in the ONNX reference.
 * Backward scatters each output gradient back with the same weights. */
#include <math.h>
#include <string.h>
#include "kernels.h"

#define RS_MAX_SPATIAL 3

typedef enum { CT_HALF_PIXEL, CT_PYTORCH_HALF_PIXEL, CT_ALIGN_CORNERS,
               CT_ASYMMETRIC } coord_mode;
typedef enum { NM_ROUND_PREFER_FLOOR, NM_ROUND_PREFER_CEIL, NM_FLOOR,
               NM_CEIL } nearest_mode;

typedef struct {
    int linear;
    coord_mode coord;
    nearest_mode nearest;
    int nscales;                 /* known scales (per dim) or 0 */
    float scales[HL_MAX_DIMS];
    int sizes_input;             /* index of the 'sizes' input in use, or 0:
                                    read in shape() (often a Shape/Concat
                                    chain folded per batch), then the
                                    kernels use out/in */
} resize_params;

static hl_status parse_mode(resize_params *p, const hl_attrs *attrs,
                            hl_error *err)
{
    const char *mode = hl_attrs_string(attrs, "mode", "nearest");
    if (strcmp(mode, "nearest") == 0)
        p->linear = 0;
    else if (strcmp(mode, "linear") == 0 || strcmp(mode, "bilinear") == 0)
        p->linear = 1;
    else
        return hl_error_set(err, HL_ERR_UNSUPPORTED,
                            "attribute 'mode' = '%s' (nearest or linear)",
                            mode);
    return HL_OK;
}

/* Reads a known float (scales) or int64 (sizes) input into p. */
static hl_status read_known(const hl_tensor *t, const char *what, int rank_hint,
                            float *f, int64_t *i, int *n, hl_error *err)
{
    int64_t k = hl_shape_numel(&t->shape);
    *n = 0;
    if (k == 0)
        return HL_OK;   /* empty: not given */
    if (k > HL_MAX_DIMS || (rank_hint > 0 && k != rank_hint))
        return hl_error_set(err, HL_ERR_ARG, "input '%s' has %lld values",
                            what, (long long)k);
    if (f) {
        if (!t->data)
            return hl_error_set(err, HL_ERR_UNSUPPORTED,
                                "input '%s' must be known at load time", what);
        for (int64_t q = 0; q < k; q++)
            f[q] = t->data[q];
    } else {
        if (!t->i64)
            return hl_error_set(err, HL_ERR_UNSUPPORTED,
                                "input '%s' must be known at load time", what);
        for (int64_t q = 0; q < k; q++)
            i[q] = t->i64[q];
    }
    *n = (int)k;
    return HL_OK;
}

/* The parameters both Resize and Upsample start from: one data input and
 * output, the interpolation mode. */
static hl_status resize_params_new(hl_node *n, const hl_attrs *attrs,
                                   resize_params **out, hl_error *err)
{
    if (n->n_in < 1 || n->n_out != 1)
        return hl_error_set(err, HL_ERR_ARG, "expects an input and 1 output");
    hl_status st = hl_params_alloc(n, sizeof(resize_params), err);
    if (st)
        return st;
    *out = n->params;
    return parse_mode(*out, attrs, err);
}

static hl_status resize_init(hl_node *n, const hl_attrs *attrs,
                             const hl_tensor *in, hl_error *err)
{
    resize_params *p = NULL;
    hl_status st = resize_params_new(n, attrs, &p, err);
    if (st)
        return st;
    const char *ct = hl_attrs_string(attrs, "coordinate_transformation_mode",
                                     n->opset < 11 ? "asymmetric" : "half_pixel");
    if (!strcmp(ct, "half_pixel"))
        p->coord = CT_HALF_PIXEL;
    else if (!strcmp(ct, "pytorch_half_pixel"))
        p->coord = CT_PYTORCH_HALF_PIXEL;
    else if (!strcmp(ct, "align_corners"))
        p->coord = CT_ALIGN_CORNERS;
    else if (!strcmp(ct, "asymmetric"))
        p->coord = CT_ASYMMETRIC;
    else
        return hl_error_set(err, HL_ERR_UNSUPPORTED,
                            "attribute 'coordinate_transformation_mode' = '%s'",
                            ct);
    const char *nm = hl_attrs_string(attrs, "nearest_mode",
                                     n->opset < 11 ? "floor" : "round_prefer_floor");
    if (!strcmp(nm, "round_prefer_floor"))
        p->nearest = NM_ROUND_PREFER_FLOOR;
    else if (!strcmp(nm, "round_prefer_ceil"))
        p->nearest = NM_ROUND_PREFER_CEIL;
    else if (!strcmp(nm, "floor"))
        p->nearest = NM_FLOOR;
    else if (!strcmp(nm, "ceil"))
        p->nearest = NM_CEIL;
    else
        return hl_error_set(err, HL_ERR_UNSUPPORTED,
                            "attribute 'nearest_mode' = '%s'", nm);
    if (hl_attrs_int(attrs, "antialias", 0) != 0)
        return hl_error_set(err, HL_ERR_UNSUPPORTED,
                            "attribute 'antialias' = 1");
    if (hl_attrs_find(attrs, "axes"))
        return hl_error_set(err, HL_ERR_UNSUPPORTED, "attribute 'axes'");
    const char *kar = hl_attrs_string(attrs, "keep_aspect_ratio_policy",
                                      "stretch");
    if (strcmp(kar, "stretch") != 0)
        return hl_error_set(err, HL_ERR_UNSUPPORTED,
                            "attribute 'keep_aspect_ratio_policy' = '%s'", kar);
    /* opset 10: X, scales; 11+: X, roi, scales, sizes */
    int si = n->opset < 11 ? 1 : 2, zi = n->opset < 11 ? -1 : 3;
    if (hl_has_input(n, si)) {
        st = read_known(&in[si], "scales", 0, p->scales, NULL, &p->nscales, err);
        if (st)
            return st;
    }
    if (!p->nscales && zi > 0 && hl_has_input(n, zi))
        p->sizes_input = zi;
    if (!p->nscales && !p->sizes_input)
        return hl_error_set(err, HL_ERR_ARG, "needs 'scales' or 'sizes'");
    return HL_OK;
}

static hl_status upsample_init(hl_node *n, const hl_attrs *attrs,
                               const hl_tensor *in, hl_error *err)
{
    resize_params *p = NULL;
    hl_status st = resize_params_new(n, attrs, &p, err);
    if (st)
        return st;
    p->coord = CT_ASYMMETRIC;
    p->nearest = NM_FLOOR;
    if (hl_has_input(n, 1))
        return read_known(&in[1], "scales", 0, p->scales, NULL, &p->nscales,
                          err);
    const hl_attr *sc = hl_attrs_typed(attrs, "scales", HL_ATTR_FLOATS);
    p->nscales = sc ? sc->n : 0;
    if (p->nscales <= 0 || p->nscales > HL_MAX_DIMS)
        return hl_error_set(err, HL_ERR_ARG, "attribute 'scales' is required");
    memcpy(p->scales, sc->floats, sizeof(float) * (size_t)p->nscales);
    return HL_OK;
}

static hl_status resize_shape(const hl_node *n, const hl_tensor *in,
                              hl_tensor *out, hl_error *err)
{
    const resize_params *p = n->params;
    const hl_shape *s = &in[0].shape;
    char b[96];
    if (in[0].dtype != HL_DT_FLOAT)
        return hl_error_set(err, HL_ERR_UNSUPPORTED, "input must be float");
    if (s->ndim < 3 || s->ndim > 2 + RS_MAX_SPATIAL)
        return hl_error_set(err, HL_ERR_UNSUPPORTED,
                            "input %s: only [N,C,spatial] with 1 to 3 spatial dims",
                            hl_shape_format(s, b, sizeof b));
    int64_t sizes[HL_MAX_DIMS];
    int k = p->nscales;
    if (p->sizes_input) {
        const hl_tensor *t = &in[p->sizes_input];
        if (!t->i64)
            return hl_error_set(err, HL_ERR_UNSUPPORTED,
                                "input 'sizes' must be known at load time");
        k = hl_tensor_ints(t, sizes, HL_MAX_DIMS);
    }
    if (k != s->ndim)
        return hl_error_set(err, HL_ERR_SHAPE, "%d %s for input %s", k,
                            p->sizes_input ? "sizes" : "scales",
                            hl_shape_format(s, b, sizeof b));
    /* dim 0 is the batch (a size there may be the exporter's fixed 1);
     * the channels must stay */
    if (p->sizes_input ? sizes[1] != s->dims[1]
                       : (p->scales[0] != 1.0f || p->scales[1] != 1.0f))
        return hl_error_set(err, HL_ERR_UNSUPPORTED,
                            "only the spatial dims may be resized");
    out[0].shape = *s;
    out[0].dtype = HL_DT_FLOAT;
    for (int d = 2; d < s->ndim; d++) {
        double o = p->sizes_input ? (double)sizes[d]
                                  : floor((double)s->dims[d] * p->scales[d]);
        if (!(o >= 1 && o <= (double)(1 << 20)))
            return hl_error_set(err, HL_ERR_SHAPE,
                                "output size %g on dim %d", o, d);
        out[0].shape.dims[d] = (int64_t)o;
    }
    return HL_OK;
}

/* Source coordinate of output index x along one axis. As in the ONNX
 * reference, the resized length is in_len * scale before rounding. */
static double source_coord(const resize_params *p, int64_t x, int64_t in_len,
                           int64_t out_len, double scale)
{
    (void)out_len;
    double resized = (double)in_len * scale;
    switch (p->coord) {
    case CT_HALF_PIXEL:
        return ((double)x + 0.5) / scale - 0.5;
    case CT_PYTORCH_HALF_PIXEL:
        return resized > 1 ? ((double)x + 0.5) / scale - 0.5 : 0.0;
    case CT_ALIGN_CORNERS:
        return resized == 1 ? 0.0
                            : (double)x * (double)(in_len - 1) / (resized - 1);
    case CT_ASYMMETRIC:
    default:
        return (double)x / scale;
    }
}

static int64_t clamp_index(int64_t i, int64_t len)
{
    return i < 0 ? 0 : i >= len ? len - 1 : i;
}

/* Per axis and output index: up to 2 source taps and weights. */
typedef struct {
    int64_t *idx;    /* [out_len * 2] */
    float *w;        /* [out_len * 2] */
} axis_taps;

static void build_taps(const resize_params *p, int64_t in_len, int64_t out_len,
                       double scale, axis_taps *t)
{
    for (int64_t x = 0; x < out_len; x++) {
        double c = source_coord(p, x, in_len, out_len, scale);
        if (!p->linear) {
            double r;
            switch (p->nearest) {
            case NM_FLOOR: r = floor(c); break;
            case NM_CEIL: r = ceil(c); break;
            case NM_ROUND_PREFER_CEIL: r = floor(c + 0.5); break;
            case NM_ROUND_PREFER_FLOOR:
            default:
                r = c - floor(c) == 0.5 ? floor(c) : floor(c + 0.5);
                break;
            }
            t->idx[2 * x] = clamp_index((int64_t)r, in_len);
            t->idx[2 * x + 1] = t->idx[2 * x];
            t->w[2 * x] = 1.0f;
            t->w[2 * x + 1] = 0.0f;
        } else {
            double f = floor(c);
            double lam = c - f;
            t->idx[2 * x] = clamp_index((int64_t)f, in_len);
            t->idx[2 * x + 1] = clamp_index((int64_t)f + 1, in_len);
            t->w[2 * x] = (float)(1.0 - lam);
            t->w[2 * x + 1] = (float)lam;
        }
    }
}

typedef struct {
    int nsp;                              /* spatial dims */
    int64_t in_len[RS_MAX_SPATIAL], out_len[RS_MAX_SPATIAL];
    int64_t in_plane, out_plane;
    axis_taps taps[RS_MAX_SPATIAL];
    const float *src;
    float *dst;
} resize_job;

/* scale of axis d: the given scale, or out/in from sizes */
static double axis_scale(const resize_params *p, int d, int64_t in_len,
                         int64_t out_len)
{
    return p->sizes_input ? (double)out_len / (double)in_len
                          : (double)p->scales[d];
}

/* Scratch: the taps of every spatial axis (indices stored as floats would
 * lose precision, so they go into the scratch as int64 pairs). */
static size_t resize_scratch(const hl_node *n, const hl_tensor *in,
                             const hl_tensor *out)
{
    (void)n; (void)in;
    size_t total = 0;
    for (int d = 2; d < out[0].shape.ndim; d++)
        total += (size_t)out[0].shape.dims[d] * 2 * (sizeof(int64_t) + sizeof(float));
    return total / sizeof(float) + 8;
}

static void job_init(resize_job *j, const hl_node *n, const hl_op_ctx *c,
                     const hl_shape *is, const hl_shape *os)
{
    const resize_params *p = n->params;
    memset(j, 0, sizeof *j);
    j->nsp = is->ndim - 2;
    j->in_plane = j->out_plane = 1;
    char *mem = (char *)c->scratch;
    for (int a = 0; a < j->nsp; a++) {
        j->in_len[a] = is->dims[a + 2];
        j->out_len[a] = os->dims[a + 2];
        j->in_plane *= j->in_len[a];
        j->out_plane *= j->out_len[a];
        j->taps[a].idx = (int64_t *)mem;
        mem += sizeof(int64_t) * 2 * (size_t)j->out_len[a];
        j->taps[a].w = (float *)mem;
        mem += sizeof(float) * 2 * (size_t)j->out_len[a];
        build_taps(p, j->in_len[a], j->out_len[a],
                   axis_scale(p, a + 2, j->in_len[a], j->out_len[a]),
                   &j->taps[a]);
    }
}

/* Visits the (up to 2^nsp) taps of output element o: calls back with the
 * source offset in the plane and the weight. */
#define FOR_TAPS(J, O, BODY)                                                 \
    do {                                                                     \
        int64_t coord_[RS_MAX_SPATIAL], rem_ = (O);                          \
        for (int a_ = (J)->nsp - 1; a_ >= 0; a_--) {                         \
            coord_[a_] = rem_ % (J)->out_len[a_];                            \
            rem_ /= (J)->out_len[a_];                                        \
        }                                                                    \
        for (int m_ = 0; m_ < (1 << (J)->nsp); m_++) {                       \
            int64_t src_ = 0;                                                \
            float w_ = 1.0f;                                                 \
            for (int a_ = 0; a_ < (J)->nsp; a_++) {                          \
                int b_ = (m_ >> ((J)->nsp - 1 - a_)) & 1;                    \
                src_ = src_ * (J)->in_len[a_] +                              \
                       (J)->taps[a_].idx[2 * coord_[a_] + b_];               \
                w_ *= (J)->taps[a_].w[2 * coord_[a_] + b_];                  \
            }                                                                \
            if (w_ != 0.0f) {                                                \
                const int64_t tap_src = src_;                                \
                const float tap_w = w_;                                      \
                BODY;                                                        \
            }                                                                \
        }                                                                    \
    } while (0)

static void resize_fwd_range(void *arg, long begin, long end)
{
    resize_job *j = arg;
    for (long u = begin; u < end; u++) {
        const float *x = j->src + u * j->in_plane;
        float *y = j->dst + u * j->out_plane;
        for (int64_t o = 0; o < j->out_plane; o++) {
            float acc = 0.0f;
            FOR_TAPS(j, o, acc += tap_w * x[tap_src]);
            y[o] = acc;
        }
    }
}

static void resize_bwd_range(void *arg, long begin, long end)
{
    resize_job *j = arg;
    for (long u = begin; u < end; u++) {
        const float *g = j->src + u * j->out_plane;
        float *gx = j->dst + u * j->in_plane;
        for (int64_t o = 0; o < j->out_plane; o++) {
            float go = g[o];
            FOR_TAPS(j, o, gx[tap_src] += tap_w * go);
        }
    }
}

static void resize_forward(const hl_node *n, hl_op_ctx *c, const hl_tensor *in,
                           hl_tensor *out)
{
    resize_job j;
    job_init(&j, n, c, &in[0].shape, &out[0].shape);
    j.src = in[0].data;
    j.dst = out[0].data;
    long planes = (long)(in[0].shape.dims[0] * in[0].shape.dims[1]);
    hl_par_for(c, planes, (long)hl_shape_numel(&out[0].shape) * 4,
               resize_fwd_range, &j);
}

static void resize_backward(const hl_node *n, hl_op_ctx *c, const hl_tensor *in,
                            const hl_tensor *out, const hl_tensor *gout,
                            hl_tensor *gin)
{
    if (!gout[0].data || !gin[0].data)
        return;
    resize_job j;
    job_init(&j, n, c, &in[0].shape, &out[0].shape);
    j.src = gout[0].data;
    j.dst = gin[0].data;
    long planes = (long)(in[0].shape.dims[0] * in[0].shape.dims[1]);
    hl_par_for(c, planes, (long)hl_shape_numel(&out[0].shape) * 4,
               resize_bwd_range, &j);
}

const hl_op hl_op_resize = {
    .op_type = "Resize", .source = __FILE__, .init = resize_init, .shape = resize_shape,
    .scratch_floats = resize_scratch,
    .forward = resize_forward, .backward = resize_backward,
    .free_params = hl_params_free,
};

const hl_op hl_op_upsample = {
    .op_type = "Upsample", .source = __FILE__, .init = upsample_init, .shape = resize_shape,
    .scratch_floats = resize_scratch,
    .forward = resize_forward, .backward = resize_backward,
    .free_params = hl_params_free,
};
