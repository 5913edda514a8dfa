/* Conv and BatchNormalization kernels: forward against a naive double
 * reference, backward (w.r.t. the input) against central finite
 * differences of that reference. */
#include "ops-harness.h"

/* ------------------------------------------------ naive conv reference */

typedef struct {
    int64_t N, C, OC, G;
    int64_t in[3], k[3], s[3], d[3], pb[3], out[3];
    int has_bias;
} conv_ref;

static void conv_ref_run(void *ctx, double *const *in, double *y)
{
    const conv_ref *r = ctx;
    const double *x = in[0], *w = in[1], *b = r->has_bias ? in[2] : NULL;
    int64_t Cg = r->C / r->G, OCg = r->OC / r->G;
    for (int64_t n = 0; n < r->N; n++)
    for (int64_t oc = 0; oc < r->OC; oc++) {
        int64_t g = oc / OCg;
        for (int64_t z = 0; z < r->out[0]; z++)
        for (int64_t yy = 0; yy < r->out[1]; yy++)
        for (int64_t xx = 0; xx < r->out[2]; xx++) {
            double acc = b ? b[oc] : 0.0;
            for (int64_t c = 0; c < Cg; c++)
            for (int64_t kz = 0; kz < r->k[0]; kz++)
            for (int64_t ky = 0; ky < r->k[1]; ky++)
            for (int64_t kx = 0; kx < r->k[2]; kx++) {
                int64_t iz = z * r->s[0] - r->pb[0] + kz * r->d[0];
                int64_t iy = yy * r->s[1] - r->pb[1] + ky * r->d[1];
                int64_t ix = xx * r->s[2] - r->pb[2] + kx * r->d[2];
                if (iz < 0 || iz >= r->in[0] || iy < 0 || iy >= r->in[1] ||
                    ix < 0 || ix >= r->in[2])
                    continue;
                int64_t ic = g * Cg + c;
                double xv = x[(((n * r->C + ic) * r->in[0] + iz) * r->in[1] + iy) * r->in[2] + ix];
                double wv = w[(((oc * Cg + c) * r->k[0] + kz) * r->k[1] + ky) * r->k[2] + kx];
                acc += xv * wv;
            }
            y[(((n * r->OC + oc) * r->out[0] + z) * r->out[1] + yy) * r->out[2] + xx] = acc;
        }
    }
}

/* A 2-D conv case. pads = {top, left, bottom, right} (only begin pads feed
 * the reference; the expected output size is computed here by hand rules). */
typedef struct {
    const char *label;
    int64_t N, C, H, W, OC, G, kh, kw, sh, sw, dh, dw;
    int64_t pads[4];
    const char *auto_pad;  /* NULL = explicit pads */
    int64_t pt, pl;        /* begin pads the auto_pad should produce */
    int64_t OH, OW;        /* expected output size */
    int bias;
} conv2d_case;

static void run_conv2d(const conv2d_case *k)
{
    conv_ref r = { k->N, k->C, k->OC, k->G, { 1, k->H, k->W },
                   { 1, k->kh, k->kw }, { 1, k->sh, k->sw },
                   { 1, k->dh, k->dw },
                   { 0, k->auto_pad ? k->pt : k->pads[0],
                     k->auto_pad ? k->pl : k->pads[1] },
                   { 1, k->OH, k->OW }, k->bias };
    int64_t xn = k->N * k->C * k->H * k->W;
    int64_t wn = k->OC * (k->C / k->G) * k->kh * k->kw;
    float *x = malloc(sizeof(float) * (size_t)xn);
    float *w = malloc(sizeof(float) * (size_t)wn);
    float *b = malloc(sizeof(float) * (size_t)k->OC);
    rnd_fill(x, xn, -1, 1);
    rnd_fill(w, wn, -1, 1);
    rnd_fill(b, k->OC, -1, 1);
    tin ins[3] = {
        { .shape = S(k->N, k->C, k->H, k->W), .f = x, .grad = 1 },
        { .shape = S(k->OC, k->C / k->G, k->kh, k->kw), .f = w, .constant = 1 },
        { .shape = S(k->OC), .f = b, .constant = 1 },
    };
    attr_set as;
    as_reset(&as);
    as_ints(&as, "kernel_shape", 2, (int64_t[]){ k->kh, k->kw });
    as_ints(&as, "strides", 2, (int64_t[]){ k->sh, k->sw });
    as_ints(&as, "dilations", 2, (int64_t[]){ k->dh, k->dw });
    if (k->G != 1)
        as_int(&as, "group", k->G);
    if (k->auto_pad)
        as_string(&as, "auto_pad", k->auto_pad);
    else
        as_ints(&as, "pads", 4, k->pads);
    check_op(k->label, "Conv", 13, &as, k->bias ? 3 : 2, ins,
             S(k->N, k->OC, k->OH, k->OW), conv_ref_run, &r);
    free(x);
    free(w);
    free(b);
}

static void conv_nd_cases(void)
{
    /* 1-D: [2,3,11] k3 s2 p(1,2) d1 -> out floor((11+3-3)/2)+1 = 6 */
    {
        conv_ref r = { 2, 3, 4, 1, { 1, 1, 11 }, { 1, 1, 3 }, { 1, 1, 2 },
                       { 1, 1, 1 }, { 0, 0, 1 }, { 1, 1, 6 }, 1 };
        float x[66], w[36], b[4];
        rnd_fill(x, 66, -1, 1);
        rnd_fill(w, 36, -1, 1);
        rnd_fill(b, 4, -1, 1);
        tin ins[3] = { { .shape = S(2, 3, 11), .f = x, .grad = 1 },
                       { .shape = S(4, 3, 3), .f = w, .constant = 1 },
                       { .shape = S(4), .f = b, .constant = 1 } };
        attr_set as;
        as_reset(&as);
        as_ints(&as, "strides", 1, (int64_t[]){ 2 });
        as_ints(&as, "pads", 2, (int64_t[]){ 1, 2 });
        check_op("conv1d k3 s2 pads(1,2)", "Conv", 11, &as, 3, ins,
                 S(2, 4, 6), conv_ref_run, &r);
    }
    /* 3-D: [1,2,4,5,5] k(2,3,3) s(1,2,1) p1 everywhere */
    {
        conv_ref r = { 1, 2, 3, 1, { 4, 5, 5 }, { 2, 3, 3 }, { 1, 2, 1 },
                       { 1, 1, 1 }, { 1, 1, 1 }, { 5, 3, 5 }, 0 };
        float x[200], w[108];
        rnd_fill(x, 200, -1, 1);
        rnd_fill(w, 108, -1, 1);
        tin ins[2] = { { .shape = S(1, 2, 4, 5, 5), .f = x, .grad = 1 },
                       { .shape = S(3, 2, 2, 3, 3), .f = w, .constant = 1 } };
        attr_set as;
        as_reset(&as);
        as_ints(&as, "strides", 3, (int64_t[]){ 1, 2, 1 });
        as_ints(&as, "pads", 6, (int64_t[]){ 1, 1, 1, 1, 1, 1 });
        check_op("conv3d k(2,3,3) s(1,2,1) p1", "Conv", 11, &as, 2, ins,
                 S(1, 3, 5, 3, 5), conv_ref_run, &r);
    }
}

/* ------------------------------------------------------ BatchNormalization */

typedef struct {
    int64_t N, C, P;
    double eps;
} bn_ref;

static void bn_ref_run(void *ctx, double *const *in, double *y)
{
    const bn_ref *r = ctx;
    for (int64_t n = 0; n < r->N; n++)
        for (int64_t c = 0; c < r->C; c++)
            for (int64_t p = 0; p < r->P; p++) {
                int64_t i = (n * r->C + c) * r->P + p;
                y[i] = (in[0][i] - in[3][c]) / sqrt(in[4][c] + r->eps) *
                           in[1][c] + in[2][c];
            }
}

static void bn_cases(void)
{
    bn_ref r = { 2, 3, 20, 1e-3 };
    float x[120], sc[3], bi[3], mu[3], var[3];
    rnd_fill(x, 120, -2, 2);
    rnd_fill(sc, 3, 0.5, 1.5);
    rnd_fill(bi, 3, -1, 1);
    rnd_fill(mu, 3, -1, 1);
    rnd_fill(var, 3, 0.2, 2);
    tin ins[5] = { { .shape = S(2, 3, 4, 5), .f = x, .grad = 1 },
                   { .shape = S(3), .f = sc, .constant = 1 },
                   { .shape = S(3), .f = bi, .constant = 1 },
                   { .shape = S(3), .f = mu, .constant = 1 },
                   { .shape = S(3), .f = var, .constant = 1 } };
    attr_set as;
    as_reset(&as);
    as_float(&as, "epsilon", 1e-3f);
    check_op("BatchNormalization eps=1e-3", "BatchNormalization", 15, &as, 5,
             ins, S(2, 3, 4, 5), bn_ref_run, &r);
    as_int(&as, "training_mode", 1);
    check_error("BatchNormalization training_mode=1", "BatchNormalization",
                15, &as, 5, ins, 1, HL_ERR_UNSUPPORTED, "training_mode");
}

/* Random geometries (groups, depthwise, strides, dilations, asymmetric
 * pads, auto_pad), each checked like the hand-picked cases. The expected
 * output size follows the ONNX formulas, computed here. */
static void random_sweep(void)
{
    static const char *autos[4] = { NULL, "SAME_UPPER", "SAME_LOWER", "VALID" };
    for (int t = 0; t < 24; t++) {
        conv2d_case k;
        memset(&k, 0, sizeof k);
        char label[512];
        int64_t G = 1 + (int64_t)rnd_uniform(0, 3);      /* 1..3 */
        int dw = rnd_uniform(0, 1) < 0.3;
        k.N = 1 + (int64_t)rnd_uniform(0, 3);
        k.G = G;
        k.C = G * (dw ? 1 : 1 + (int64_t)rnd_uniform(0, 2));
        k.OC = G * (1 + (int64_t)rnd_uniform(0, 2));
        k.H = 4 + (int64_t)rnd_uniform(0, 6);
        k.W = 4 + (int64_t)rnd_uniform(0, 6);
        k.kh = 1 + (int64_t)rnd_uniform(0, 3);
        k.kw = 1 + (int64_t)rnd_uniform(0, 3);
        k.sh = 1 + (int64_t)rnd_uniform(0, 2);
        k.sw = 1 + (int64_t)rnd_uniform(0, 2);
        k.dh = 1 + (int64_t)rnd_uniform(0, 2);
        k.dw = 1 + (int64_t)rnd_uniform(0, 2);
        k.bias = rnd_uniform(0, 1) < 0.5;
        const char *ap = autos[(int)rnd_uniform(0, 4) % 4];
        int64_t eh = (k.kh - 1) * k.dh + 1, ew = (k.kw - 1) * k.dw + 1;
        if (!ap) {
            for (int i = 0; i < 4; i++)
                k.pads[i] = (int64_t)rnd_uniform(0, 3);
            k.OH = (k.H + k.pads[0] + k.pads[2] - eh) / k.sh + 1;
            k.OW = (k.W + k.pads[1] + k.pads[3] - ew) / k.sw + 1;
            if (k.H + k.pads[0] + k.pads[2] < eh || k.W + k.pads[1] + k.pads[3] < ew)
                continue;
        } else if (!strcmp(ap, "VALID")) {
            if (k.H < eh || k.W < ew)
                continue;
            k.OH = (k.H - eh) / k.sh + 1;
            k.OW = (k.W - ew) / k.sw + 1;
        } else {
            k.OH = (k.H + k.sh - 1) / k.sh;
            k.OW = (k.W + k.sw - 1) / k.sw;
            int64_t th = (k.OH - 1) * k.sh + eh - k.H, tw = (k.OW - 1) * k.sw + ew - k.W;
            th = th < 0 ? 0 : th;
            tw = tw < 0 ? 0 : tw;
            int upper = !strcmp(ap, "SAME_UPPER");
            k.pt = upper ? th / 2 : th - th / 2;
            k.pl = upper ? tw / 2 : tw - tw / 2;
        }
        k.auto_pad = ap;
        snprintf(label, sizeof label,
                 "random conv %d: N%lld C%lld OC%lld G%lld %lldx%lld k%lldx%lld s%lldx%lld d%lldx%lld %s",
                 t, (long long)k.N, (long long)k.C, (long long)k.OC,
                 (long long)k.G, (long long)k.H, (long long)k.W,
                 (long long)k.kh, (long long)k.kw, (long long)k.sh,
                 (long long)k.sw, (long long)k.dh, (long long)k.dw,
                 ap ? ap : "pads");
        k.label = label;
        run_conv2d(&k);
    }
}

int main(void)
{
    hl_engine_init();
    test_pool_ = hl_threadpool_new(2);
    static const conv2d_case cases[] = {
        { "conv basic k3 bias", 2, 3, 5, 6, 4, 1, 3, 3, 1, 1, 1, 1,
          { 0, 0, 0, 0 }, NULL, 0, 0, 3, 4, 1 },
        { "conv stride 2 pad 1", 1, 2, 7, 7, 3, 1, 3, 3, 2, 2, 1, 1,
          { 1, 1, 1, 1 }, NULL, 0, 0, 4, 4, 1 },
        { "conv asymmetric pads (0,1,2,1) stride (2,1)", 2, 2, 6, 5, 3, 1, 3,
          2, 2, 1, 1, 1, { 0, 1, 2, 1 }, NULL, 0, 0, 3, 6, 1 },
        { "conv dilation 2 pad 2", 1, 2, 7, 8, 3, 1, 3, 3, 1, 1, 2, 2,
          { 2, 2, 2, 2 }, NULL, 0, 0, 7, 8, 0 },
        { "conv dilation (2,3) stride 2", 1, 2, 9, 11, 2, 1, 2, 3, 2, 2, 2, 3,
          { 1, 0, 0, 1 }, NULL, 0, 0, 4, 3, 1 },
        { "conv groups 2 (C4 -> OC6)", 2, 4, 5, 5, 6, 2, 3, 3, 1, 1, 1, 1,
          { 1, 1, 1, 1 }, NULL, 0, 0, 5, 5, 1 },
        { "conv depthwise k3 p1", 2, 3, 6, 7, 3, 3, 3, 3, 1, 1, 1, 1,
          { 1, 1, 1, 1 }, NULL, 0, 0, 6, 7, 1 },
        { "conv depthwise multiplier 2, stride 2, asym pads", 1, 3, 7, 6, 6, 3,
          3, 3, 2, 2, 1, 1, { 0, 1, 1, 0 }, NULL, 0, 0, 3, 3, 1 },
        { "conv depthwise dilation 2", 1, 2, 8, 8, 2, 2, 3, 3, 1, 1, 2, 2,
          { 2, 2, 2, 2 }, NULL, 0, 0, 8, 8, 0 },
        { "conv auto_pad SAME_UPPER stride 2", 1, 2, 8, 8, 3, 1, 3, 3, 2, 2, 1,
          1, { 0, 0, 0, 0 }, "SAME_UPPER", 0, 0, 4, 4, 1 },
        { "conv auto_pad SAME_LOWER stride 2", 1, 2, 8, 8, 3, 1, 3, 3, 2, 2, 1,
          1, { 0, 0, 0, 0 }, "SAME_LOWER", 1, 1, 4, 4, 1 },
        { "conv auto_pad SAME_UPPER stride 1 k4", 1, 2, 5, 6, 2, 1, 4, 4, 1, 1,
          1, 1, { 0, 0, 0, 0 }, "SAME_UPPER", 1, 1, 5, 6, 0 },
        { "conv auto_pad VALID stride 2", 1, 2, 8, 9, 3, 1, 3, 3, 2, 2, 1, 1,
          { 0, 0, 0, 0 }, "VALID", 0, 0, 3, 4, 1 },
        { "conv depthwise SAME_UPPER stride 2", 2, 4, 7, 7, 4, 4, 3, 3, 2, 2,
          1, 1, { 0, 0, 0, 0 }, "SAME_UPPER", 1, 1, 4, 4, 1 },
        { "conv pointwise 1x1 batch 3 (batched GEMM)", 3, 5, 4, 4, 6, 1, 1, 1,
          1, 1, 1, 1, { 0, 0, 0, 0 }, NULL, 0, 0, 4, 4, 1 },
        { "conv pointwise 1x1 large plane (direct GEMM)", 1, 2, 48, 48, 3, 1,
          1, 1, 1, 1, 1, 1, { 0, 0, 0, 0 }, NULL, 0, 0, 48, 48, 1 },
        { "conv pointwise 1x1 stride 2", 2, 3, 5, 5, 2, 1, 1, 1, 2, 2, 1, 1,
          { 0, 0, 0, 0 }, NULL, 0, 0, 3, 3, 0 },
        { "conv batch chunks 2+1 (k3 p1, 30x30)", 3, 1, 30, 30, 2, 1, 3, 3, 1,
          1, 1, 1, { 1, 1, 1, 1 }, NULL, 0, 0, 30, 30, 1 },
        { "conv grouped batch 4 small plane", 4, 4, 3, 3, 4, 2, 2, 2, 1, 1, 1,
          1, { 0, 0, 1, 1 }, NULL, 0, 0, 3, 3, 1 },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        run_conv2d(&cases[i]);
    conv_nd_cases();
    random_sweep();
    /* big cases run the threaded im2col/col2im and depthwise paths */
    fd_max_ = 40;
    {
        static const conv2d_case big[] = {
            { "conv big k3 s1 p1 (threaded im2col/col2im)", 2, 8, 24, 24, 8,
              1, 3, 3, 1, 1, 1, 1, { 1, 1, 1, 1 }, NULL, 0, 0, 24, 24, 1 },
            { "conv big depthwise (threaded)", 2, 16, 32, 32, 16, 16, 3, 3,
              1, 1, 1, 1, { 1, 1, 1, 1 }, NULL, 0, 0, 32, 32, 1 },
            /* one image on 2 threads: oneDNN (where it runs) cuts the
             * channels into parts of whole blocks (8 or 16), the last
             * part short of a block */
            { "conv big batch 1 channel parts (C40 -> OC24, k3 p1, 12x12)",
              1, 40, 12, 12, 24, 1, 3, 3, 1, 1, 1, 1, { 1, 1, 1, 1 }, NULL,
              0, 0, 12, 12, 1 },
            { "conv big batch 1 channel parts strided (C24 -> OC40, k3 s2)",
              1, 24, 16, 16, 40, 1, 3, 3, 2, 2, 1, 1, { 1, 1, 1, 1 }, NULL,
              0, 0, 8, 8, 0 },
            { "conv big batch 1 depthwise channel parts (C40, 12x12)", 1, 40,
              12, 12, 40, 40, 3, 3, 1, 1, 1, 1, { 1, 1, 1, 1 }, NULL, 0, 0,
              12, 12, 1 },
        };
        for (size_t i = 0; i < sizeof big / sizeof big[0]; i++)
            run_conv2d(&big[i]);
    }
    fd_max_ = 0;
    bn_cases();

    /* errors */
    {
        float x[50], w[18];
        rnd_fill(x, 50, -1, 1);
        rnd_fill(w, 18, -1, 1);
        tin ins[2] = { { .shape = S(1, 2, 5, 5), .f = x },
                       { .shape = S(1, 2, 3, 3), .f = w, .constant = 1 } };
        attr_set as;
        as_reset(&as);
        as_string(&as, "auto_pad", "SAME_MIDDLE");
        check_error("conv unknown auto_pad", "Conv", 11, &as, 2, ins, 1,
                    HL_ERR_UNSUPPORTED, "auto_pad");
        as_reset(&as);
        as_int(&as, "group", 3);
        check_error("conv group not dividing channels", "Conv", 11, &as, 2,
                    ins, 1, HL_ERR_SHAPE, "group");
    }
    hl_threadpool_free(test_pool_);
    return tap_done();
}
