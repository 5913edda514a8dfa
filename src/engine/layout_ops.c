/* Ops that move elements: Transpose, Concat, Pad, Gather, Slice.
 *
 * Each runs on float activations (forward/backward) and, through fold(),
 * on plan-time tensors, float or int64, so that the Shape -> Gather ->
 * Unsqueeze -> Concat -> Reshape chains of torch.onnx.export disappear at
 * load time. */
#include "shape_common.h"

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
        if (__builtin_add_overflow(s.dims[axis], si->dims[axis],
                                   &s.dims[axis]))
            return hl_error_set(err, HL_ERR_SHAPE,
                                "the concatenated dim %d overflows 64 bits",
                                axis);
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

/* Concat along channels of NCHW tensors: pixel by pixel. */
static int concat_region(const hl_node *n, const hl_tensor *in,
                         const hl_tensor *out, hl_region *r)
{
    memset(r, 0, sizeof *r);
    if (out[0].shape.ndim != 4 || out[0].dtype != HL_DT_FLOAT ||
        hl_axis(((const axis_params *)n->params)->axis, 4) != 1)
        return 0;
    return hl_region_pointwise(n, in, out, r);
}

const hl_op hl_op_concat = {
    .op_type = "Concat", .source = __FILE__,
    .bwd_reads = HL_BWD_READS_NOTHING, .init = concat_init, .shape = concat_shape,
    .forward = concat_forward, .backward = concat_backward,
    .fold = concat_fold, .free_params = hl_params_free, .region = concat_region,
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
        if (__builtin_add_overflow(s->dims[a], pads[k], &os->dims[a]) ||
            __builtin_add_overflow(os->dims[a], pads[nax + k], &os->dims[a]))
            return hl_error_set(err, HL_ERR_SHAPE,
                                "pads of dim %d overflow 64 bits", a);
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
        /* A step longer than the dim takes at most one element: clamped
         * to the dim so that lengths and strides cannot overflow. */
        int64_t span = dim > 1 ? dim : 1;
        if (step > span)
            step = span;
        if (step < -span)
            step = -span;
        int64_t len;
        if (step > 0) {
            b = b < 0 ? 0 : b > dim ? dim : b;
            e = e < 0 ? 0 : e > dim ? dim : e;
            len = e > b ? 1 + (e - b - 1) / step : 0;
        } else {
            b = b < 0 ? -1 : b > dim - 1 ? dim - 1 : b;
            e = e < -1 ? -1 : e > dim - 1 ? dim - 1 : e;
            len = b > e ? 1 + (b - e - 1) / (-step) : 0;
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

