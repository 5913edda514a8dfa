/* LayerNormalization (layernorm.c): forward vs a naive double reference
 * (two-pass mean and population variance per row), backward of X, Scale
 * and B vs central finite differences of that reference. LRN (lrn.c):
 * the ONNX formula per element in double, backward by finite differences.
 * InstanceNormalization (layernorm.c) likewise, per (image, channel). */
#include "ops-harness.h"

typedef struct {
    int64_t rows, inner;
    int64_t ns, nb;        /* elements of Scale and B (0 = absent) */
    double eps;
} ln_ref;

static void ln_ref_run(void *ctx, double *const *in, double *y)
{
    const ln_ref *r = ctx;
    for (int64_t i = 0; i < r->rows; i++) {
        const double *x = in[0] + i * r->inner;
        double m = 0, v = 0;
        for (int64_t k = 0; k < r->inner; k++)
            m += x[k];
        m /= (double)r->inner;
        for (int64_t k = 0; k < r->inner; k++)
            v += (x[k] - m) * (x[k] - m);
        v /= (double)r->inner;
        for (int64_t k = 0; k < r->inner; k++) {
            double sc = in[1][r->ns == 1 ? 0 : k];
            double b = r->nb ? in[2][r->nb == 1 ? 0 : k] : 0.0;
            y[i * r->inner + k] = (x[k] - m) / sqrt(v + r->eps) * sc + b;
        }
    }
}

/* axis: the attribute (-1 default when has_axis == 0); ss/bs: shapes of
 * Scale and B (bs.ndim < 0: no B). */
static void ln_case(hl_shape xs, int has_axis, int64_t axis, hl_shape ss,
                    hl_shape bs, float eps, int param_grads)
{
    int a = (int)(axis < 0 ? axis + xs.ndim : axis);
    ln_ref r = { 1, 1, hl_shape_numel(&ss), bs.ndim >= 0 ? hl_shape_numel(&bs) : 0,
                 eps };
    for (int d = 0; d < xs.ndim; d++) {
        if (d < a)
            r.rows *= xs.dims[d];
        else
            r.inner *= xs.dims[d];
    }
    int64_t nx = hl_shape_numel(&xs);
    float *x = malloc(sizeof(float) * (size_t)(nx + 1));
    float sc[4096], b[4096];
    rnd_fill(x, nx, -2, 3);
    rnd_fill(sc, r.ns, 0.5, 1.5);
    rnd_fill(b, r.nb, -1, 1);
    tin ins[3] = {
        { .shape = xs, .f = x, .grad = 1 },
        { .shape = ss, .f = sc, .grad = param_grads },
        { .shape = bs, .f = b, .grad = param_grads },
    };
    attr_set as;
    as_reset(&as);
    if (has_axis)
        as_int(&as, "axis", axis);
    if (eps != 1e-5f)
        as_float(&as, "epsilon", eps);
    char label[200], b1[64], b2[64], b3[64];
    snprintf(label, sizeof label,
             "LayerNormalization X %s axis %lld Scale %s B %s eps %g%s",
             hl_shape_format(&xs, b1, sizeof b1), (long long)axis,
             hl_shape_format(&ss, b2, sizeof b2),
             bs.ndim >= 0 ? hl_shape_format(&bs, b3, sizeof b3) : "none",
             (double)eps, param_grads ? " (run-time Scale, B)" : "");
    check_op(label, "LayerNormalization", 17, &as, r.nb ? 3 : 2, ins, xs,
             ln_ref_run, &r);
    free(x);
}

typedef struct {
    int64_t n, c, plane;
    double eps;
} inorm_ref;

static void inorm_ref_run(void *ctx, double *const *in, double *y)
{
    const inorm_ref *r = ctx;
    for (int64_t i = 0; i < r->n * r->c; i++) {
        const double *x = in[0] + i * r->plane;
        double m = 0, v = 0;
        for (int64_t k = 0; k < r->plane; k++)
            m += x[k];
        m /= (double)r->plane;
        for (int64_t k = 0; k < r->plane; k++)
            v += (x[k] - m) * (x[k] - m);
        v /= (double)r->plane;
        for (int64_t k = 0; k < r->plane; k++)
            y[i * r->plane + k] = (x[k] - m) / sqrt(v + r->eps) *
                                      in[1][i % r->c] + in[2][i % r->c];
    }
}

static void inorm_case(hl_shape xs, float eps, int param_grads)
{
    inorm_ref r = { xs.dims[0], xs.dims[1], hl_shape_numel(&xs) / (xs.dims[0] * xs.dims[1]), eps };
    int64_t nx = hl_shape_numel(&xs);
    float *x = malloc(sizeof(float) * (size_t)(nx + 1));
    float sc[64], b[64];
    rnd_fill(x, nx, -2, 3);
    rnd_fill(sc, r.c, 0.5, 1.5);
    rnd_fill(b, r.c, -1, 1);
    tin ins[3] = {
        { .shape = xs, .f = x, .grad = 1 },
        { .shape = S(r.c), .f = sc, .grad = param_grads },
        { .shape = S(r.c), .f = b, .grad = param_grads },
    };
    attr_set as;
    as_reset(&as);
    if (eps != 1e-5f)
        as_float(&as, "epsilon", eps);
    char label[160], b1[64];
    snprintf(label, sizeof label, "InstanceNormalization %s eps %g%s",
             hl_shape_format(&xs, b1, sizeof b1), (double)eps,
             param_grads ? " (run-time scale, B)" : "");
    check_op(label, "InstanceNormalization", 13, &as, 3, ins, xs,
             inorm_ref_run, &r);
    free(x);
}

typedef struct {
    hl_shape s;
    int size;
    double alpha, beta, bias;
} lrn_ref;

static void lrn_ref_run(void *ctx, double *const *in, double *y)
{
    const lrn_ref *r = ctx;
    int64_t N = r->s.dims[0], C = r->s.dims[1], P = 1;
    for (int d = 2; d < r->s.ndim; d++)
        P *= r->s.dims[d];
    for (int64_t n = 0; n < N; n++)
        for (int64_t c = 0; c < C; c++)
            for (int64_t p = 0; p < P; p++) {
                double sq = 0;
                /* ONNX: [c - floor((size-1)/2), c + ceil((size-1)/2)] */
                for (int64_t k = c - (int64_t)floor((r->size - 1) / 2.0);
                     k <= c + (int64_t)ceil((r->size - 1) / 2.0); k++)
                    if (k >= 0 && k < C) {
                        double v = in[0][(n * C + k) * P + p];
                        sq += v * v;
                    }
                double x = in[0][(n * C + c) * P + p];
                y[(n * C + c) * P + p] =
                    x / pow(r->bias + r->alpha / r->size * sq, r->beta);
            }
}

static void lrn_case(hl_shape s, int size, float alpha, float beta, float bias,
                     int defaults)
{
    lrn_ref r = { s, size, alpha, beta, bias };
    int64_t n = hl_shape_numel(&s);
    float *x = malloc(sizeof(float) * (size_t)(n + 1));
    rnd_fill(x, n, -3, 3);
    tin ins[1] = { { .shape = s, .f = x, .grad = 1 } };
    attr_set as;
    as_reset(&as);
    as_int(&as, "size", size);
    if (!defaults) {
        as_float(&as, "alpha", alpha);
        as_float(&as, "beta", beta);
        as_float(&as, "bias", bias);
    }
    char label[160], b[64];
    snprintf(label, sizeof label, "LRN %s size %d alpha %g beta %g bias %g",
             hl_shape_format(&s, b, sizeof b), size, (double)alpha,
             (double)beta, (double)bias);
    check_op(label, "LRN", 13, &as, 1, ins, s, lrn_ref_run, &r);
    free(x);
}

int main(void)
{
    hl_engine_init();
    test_pool_ = hl_threadpool_new(2);
    hl_shape none = { .ndim = -1 };
    ln_case(S(2, 3, 4, 5), 0, -1, S(5), S(5), 1e-5f, 0);
    ln_case(S(2, 3, 4, 5), 0, -1, S(5), S(5), 1e-5f, 1);
    ln_case(S(2, 3, 4, 5), 1, 1, S(3, 4, 5), none, 1e-5f, 0);
    ln_case(S(2, 3, 4, 5), 1, 2, S(4, 5), S(4, 5), 1e-3f, 1);
    ln_case(S(2, 3, 4, 5), 1, -2, S(1), S(1), 1e-6f, 1);
    ln_case(S(6, 7), 1, 0, S(6, 7), S(6, 7), 1e-5f, 0);   /* one row */
    /* ConvNeXt's channels-last rows, big enough for the pool */
    inorm_case(S(2, 3, 4, 5), 1e-5f, 0);
    inorm_case(S(2, 3, 4, 5), 1e-3f, 1);
    inorm_case(S(3, 4, 10), 1e-5f, 1);          /* GroupNorm's [N, G, -1] */
    inorm_case(S(1, 2, 2, 3, 2), 1e-5f, 0);     /* 3-D */
    lrn_case(S(2, 7, 3, 4), 5, 1e-4f, 0.75f, 1.0f, 1);    /* defaults */
    lrn_case(S(2, 7, 3, 4), 5, 0.5f, 0.75f, 2.0f, 0);     /* AlexNet-like */
    lrn_case(S(1, 6, 5), 4, 0.3f, 0.6f, 1.5f, 0);         /* even size, 1-D */
    lrn_case(S(2, 3, 2, 2), 7, 0.8f, 1.2f, 0.5f, 0);      /* window > C */
    lrn_case(S(1, 5, 2, 3, 2), 3, 0.2f, 0.75f, 1.0f, 0);  /* 3-D */
    fd_max_ = 40;
    lrn_case(S(2, 16, 24, 24), 5, 0.5f, 0.75f, 2.0f, 0);
    inorm_case(S(4, 32, 28, 28), 1e-5f, 0);
    ln_case(S(2, 28, 28, 96), 0, -1, S(96), S(96), 1e-6f, 0);
    fd_max_ = 0;

    {
        float x[120] = { 0 }, sc[5] = { 1, 1, 1, 1, 1 }, sc3[3] = { 1, 1, 1 };
        tin ins[2] = { { .shape = S(2, 3, 4, 5), .f = x },
                       { .shape = S(5), .f = sc } };
        attr_set as;
        as_reset(&as);
        as_int(&as, "axis", 4);
        check_error("LayerNormalization axis out of range", "LayerNormalization",
                    17, &as, 2, ins, 1, HL_ERR_ARG, "'axis'");
        tin bad[2] = { { .shape = S(2, 3, 4, 5), .f = x },
                       { .shape = S(3), .f = sc3 } };
        check_error("LayerNormalization Scale not matching the row",
                    "LayerNormalization", 17, NULL, 2, bad, 1,
                    HL_ERR_UNSUPPORTED, "Scale [3]");
        attr_set nos;
        as_reset(&nos);
        check_error("LRN without 'size'", "LRN", 13, &nos, 1, ins, 1,
                    HL_ERR_ARG, "'size'");
        check_error("LayerNormalization with 4 outputs",
                    "LayerNormalization", 17, NULL, 2, ins, 4,
                    HL_ERR_ARG, "InvStdDev");
    }
    hl_threadpool_free(test_pool_);
    return tap_done();
}
