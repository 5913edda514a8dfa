/* Resize and Upsample (resize.c), nearest and linear: forward against the
 * ONNX formulas written here in double (source coordinate per axis, then
 * the nearest or the two linear neighbours clamped to the edges), backward
 * against central finite differences of that reference. */
#include "ops-harness.h"

typedef struct {
    hl_shape in, out;
    int linear;
    char coord;       /* 'h'alf_pixel 'p'ytorch_half_pixel 'a'lign_corners 's' asymmetric */
    char nearest;     /* 'f'loor 'c'eil 'r' round_prefer_floor 'R' round_prefer_ceil */
    double scale[HL_MAX_DIMS];   /* per dim (out/in for sizes) */
} rs_ref;

static double coord_of(const rs_ref *r, int d, int64_t x)
{
    double s = r->scale[d], resized = (double)r->in.dims[d] * s;
    switch (r->coord) {
    case 'h': return (x + 0.5) / s - 0.5;
    case 'p': return resized > 1 ? (x + 0.5) / s - 0.5 : 0;
    case 'a': return resized == 1 ? 0 : x * (double)(r->in.dims[d] - 1) / (resized - 1);
    default: return x / s;
    }
}

static int64_t clampi(int64_t i, int64_t n)
{
    return i < 0 ? 0 : i >= n ? n - 1 : i;
}

/* index/weight pairs of one axis */
static void taps_of(const rs_ref *r, int d, int64_t x, int64_t idx[2], double w[2])
{
    double c = coord_of(r, d, x);
    int64_t n = r->in.dims[d];
    if (r->linear) {
        double f = floor(c);
        idx[0] = clampi((int64_t)f, n);
        idx[1] = clampi((int64_t)f + 1, n);
        w[0] = 1 - (c - f);
        w[1] = c - f;
    } else {
        double v;
        switch (r->nearest) {
        case 'f': v = floor(c); break;
        case 'c': v = ceil(c); break;
        case 'R': v = floor(c + 0.5); break;
        default: v = (c - floor(c) == 0.5) ? floor(c) : floor(c + 0.5); break;
        }
        idx[0] = idx[1] = clampi((int64_t)v, n);
        w[0] = 1;
        w[1] = 0;
    }
}

static void rs_ref_run(void *ctx, double *const *in, double *y)
{
    const rs_ref *r = ctx;
    int nsp = r->in.ndim - 2;
    int64_t planes = r->in.dims[0] * r->in.dims[1];
    int64_t ip = hl_shape_numel(&r->in) / planes, op = hl_shape_numel(&r->out) / planes;
    for (int64_t u = 0; u < planes; u++)
        for (int64_t o = 0; o < op; o++) {
            int64_t co[3], rem = o;
            for (int a = nsp - 1; a >= 0; a--) {
                co[a] = rem % r->out.dims[a + 2];
                rem /= r->out.dims[a + 2];
            }
            int64_t idx[3][2];
            double w[3][2];
            for (int a = 0; a < nsp; a++)
                taps_of(r, a + 2, co[a], idx[a], w[a]);
            double acc = 0;
            for (int m = 0; m < (1 << nsp); m++) {
                int64_t src = 0;
                double ww = 1;
                for (int a = 0; a < nsp; a++) {
                    int b = (m >> (nsp - 1 - a)) & 1;
                    src = src * r->in.dims[a + 2] + idx[a][b];
                    ww *= w[a][b];
                }
                acc += ww * in[0][u * ip + src];
            }
            y[u * op + o] = acc;
        }
}

static const char *coord_name(char c)
{
    return c == 'h' ? "half_pixel" : c == 'p' ? "pytorch_half_pixel"
         : c == 'a' ? "align_corners" : "asymmetric";
}

static const char *nearest_name(char c)
{
    return c == 'f' ? "floor" : c == 'c' ? "ceil" : c == 'R' ? "round_prefer_ceil"
                                                             : "round_prefer_floor";
}

/* Resize (opset 13) with scales (sizes == NULL) or sizes. */
static void resize_case(hl_shape xs, int linear, char coord, char nearest,
                        const float *scales, const int64_t *sizes)
{
    rs_ref r = { .in = xs, .out = xs, .linear = linear, .coord = coord,
                 .nearest = nearest };
    for (int d = 0; d < xs.ndim; d++) {
        if (sizes) {
            r.out.dims[d] = d == 0 ? xs.dims[0] : sizes[d];
            r.scale[d] = (double)r.out.dims[d] / (double)xs.dims[d];
        } else {
            r.out.dims[d] = (int64_t)floor(xs.dims[d] * (double)scales[d]);
            r.scale[d] = scales[d];
        }
    }
    int64_t n = hl_shape_numel(&xs);
    float *x = malloc(sizeof(float) * (size_t)(n + 1));
    rnd_fill(x, n, -2, 2);
    float sc[HL_MAX_DIMS];
    int64_t sz[HL_MAX_DIMS];
    for (int d = 0; d < xs.ndim; d++) {
        sc[d] = scales ? scales[d] : 0;
        sz[d] = sizes ? sizes[d] : 0;
    }
    tin ins[4] = {
        { .shape = xs, .f = x, .grad = 1 },
        { .absent = 1 },
        { .shape = S(sizes ? 0 : xs.ndim), .f = sc, .constant = 1 },
        { .shape = S(xs.ndim), .dtype = HL_DT_INT64, .i = sz, .constant = 1,
          .absent = sizes == NULL },
    };
    attr_set as;
    as_reset(&as);
    as_string(&as, "mode", linear ? "linear" : "nearest");
    as_string(&as, "coordinate_transformation_mode", coord_name(coord));
    if (!linear)
        as_string(&as, "nearest_mode", nearest_name(nearest));
    char label[200], b1[64], b2[64];
    snprintf(label, sizeof label, "Resize %s %s%s%s %s -> %s",
             linear ? "linear" : "nearest", coord_name(coord),
             linear ? "" : " ", linear ? "" : nearest_name(nearest),
             hl_shape_format(&xs, b1, sizeof b1),
             hl_shape_format(&r.out, b2, sizeof b2));
    check_op(label, "Resize", 13, &as, sizes ? 4 : 3, ins, r.out, rs_ref_run, &r);
    free(x);
}

/* Upsample: opset 9 (scales input) or 7 (attribute), asymmetric. */
static void upsample_case(int opset, hl_shape xs, int linear, const float *scales)
{
    rs_ref r = { .in = xs, .out = xs, .linear = linear, .coord = 's',
                 .nearest = 'f' };
    for (int d = 0; d < xs.ndim; d++) {
        r.out.dims[d] = (int64_t)floor(xs.dims[d] * (double)scales[d]);
        r.scale[d] = scales[d];
    }
    int64_t n = hl_shape_numel(&xs);
    float *x = malloc(sizeof(float) * (size_t)(n + 1));
    rnd_fill(x, n, -2, 2);
    float sc[HL_MAX_DIMS];
    memcpy(sc, scales, sizeof(float) * (size_t)xs.ndim);
    tin ins[2] = { { .shape = xs, .f = x, .grad = 1 },
                   { .shape = S(xs.ndim), .f = sc, .constant = 1 } };
    attr_set as;
    as_reset(&as);
    as_string(&as, "mode", linear ? "linear" : "nearest");
    if (opset < 9)
        as_floats(&as, "scales", xs.ndim, scales);
    char label[160], b1[64], b2[64];
    snprintf(label, sizeof label, "Upsample opset %d %s %s -> %s", opset,
             linear ? "linear" : "nearest", hl_shape_format(&xs, b1, sizeof b1),
             hl_shape_format(&r.out, b2, sizeof b2));
    check_op(label, "Upsample", opset, &as, opset < 9 ? 1 : 2, ins, r.out,
             rs_ref_run, &r);
    free(x);
}

int main(void)
{
    hl_engine_init();
    test_pool_ = hl_threadpool_new(2);
    static const float up2[4] = { 1, 1, 2, 2 }, down[4] = { 1, 1, 0.5f, 0.6f },
                       odd[4] = { 1, 1, 1.5f, 2.5f }, one_d[3] = { 1, 1, 1.5f },
                       up3[5] = { 1, 1, 2, 1.5f, 2 };
    static const int64_t sz79[4] = { 1, 3, 7, 9 }, sz73[4] = { 1, 3, 7, 3 };
    hl_shape x = S(2, 3, 4, 5);
    /* torch nearest (asymmetric, floor) and bilinear (half_pixel) */
    resize_case(x, 0, 's', 'f', up2, NULL);
    resize_case(x, 1, 'h', 'f', up2, NULL);
    resize_case(x, 1, 'p', 'f', down, NULL);
    resize_case(x, 1, 'a', 'f', odd, NULL);          /* align_corners=True */
    resize_case(x, 0, 'h', 'r', NULL, sz79);
    resize_case(x, 0, 'h', 'R', odd, NULL);
    resize_case(x, 0, 'a', 'c', NULL, sz73);
    resize_case(x, 1, 'h', 'f', NULL, sz73);          /* sizes, batch given as 1 */
    resize_case(S(2, 3, 6), 1, 'h', 'f', one_d, NULL);
    resize_case(S(1, 2, 3, 4, 2), 1, 'h', 'f', up3, NULL);   /* trilinear */
    upsample_case(9, x, 0, up2);
    upsample_case(7, x, 1, odd);
    fd_max_ = 40;
    resize_case(S(4, 16, 32, 32), 1, 'h', 'f', up2, NULL);
    fd_max_ = 0;

    {
        float xx[120] = { 0 };
        float sc[4] = { 1, 2, 2, 2 };
        tin ins[3] = { { .shape = x, .f = xx }, { .absent = 1 },
                       { .shape = S(4), .f = sc, .constant = 1 } };
        check_error("Resize of the channels refused", "Resize", 13, NULL, 3, ins,
                    1, HL_ERR_UNSUPPORTED, "spatial");
        attr_set as;
        as_reset(&as);
        as_string(&as, "mode", "cubic");
        check_error("Resize cubic refused", "Resize", 13, &as, 3, ins, 1,
                    HL_ERR_UNSUPPORTED, "'mode' = 'cubic'");
        tin rt[3] = { { .shape = x, .f = xx }, { .absent = 1 },
                      { .shape = S(4), .f = sc } };
        check_error("Resize with run-time scales refused", "Resize", 13, NULL, 3,
                    rt, 1, HL_ERR_UNSUPPORTED, "known at load time");
    }
    hl_threadpool_free(test_pool_);
    return tap_done();
}
