/* Elementwise nonlinearities (Relu, LeakyRelu, PRelu, Clip, Sigmoid,
 * HardSigmoid, HardSwish, Tanh, Elu): forward vs double formulas, backward
 * vs finite differences (inputs kept away from kinks), and the backward
 * rules (GuidedBackprop, Deconvolution, DeepLift rescale) against their
 * formulas as Captum 0.7 applies them. */
#include "ops-harness.h"

typedef struct {
    const char *op;
    double alpha, beta, lo, hi;
    int64_t n;
} act_ref;

static double act_f(const act_ref *r, double x)
{
    const char *op = r->op;
    if (!strcmp(op, "Relu")) return x > 0 ? x : 0;
    if (!strcmp(op, "LeakyRelu")) return x >= 0 ? x : r->alpha * x;
    if (!strcmp(op, "Clip")) return fmin(fmax(x, r->lo), r->hi);
    if (!strcmp(op, "Sigmoid")) return 1 / (1 + exp(-x));
    if (!strcmp(op, "HardSigmoid")) return fmax(0, fmin(1, r->alpha * x + r->beta));
    if (!strcmp(op, "HardSwish")) return x * fmax(0, fmin(1, x / 6 + 0.5));
    if (!strcmp(op, "Tanh")) return tanh(x);
    if (!strcmp(op, "Elu")) return x > 0 ? x : r->alpha * (exp(x) - 1);
    return NAN;
}

static void act_ref_run(void *ctx, double *const *in, double *y)
{
    const act_ref *r = ctx;
    for (int64_t i = 0; i < r->n; i++)
        y[i] = act_f(r, in[0][i]);
}

/* uniform in [lo, hi] at least gap away from each kink */
static void fill_avoiding(float *x, int64_t n, double lo, double hi,
                          const double *kinks, int nk, double gap)
{
    for (int64_t i = 0; i < n; i++) {
        double v;
        int bad;
        do {
            v = rnd_uniform(lo, hi);
            bad = 0;
            for (int k = 0; k < nk; k++)
                if (fabs(v - kinks[k]) < gap)
                    bad = 1;
        } while (bad);
        x[i] = (float)v;
    }
}

static void act_case(const char *label, const char *op, int opset,
                     const attr_set *as, act_ref *r, int n_in, tin *extra,
                     const double *kinks, int nk, int64_t n, hl_shape shape)
{
    float *x = malloc(sizeof(float) * (size_t)n);
    fill_avoiding(x, n, -4, 4, kinks, nk, 0.05);
    tin ins[3] = { { .shape = shape, .f = x, .grad = 1 } };
    for (int i = 1; i < n_in; i++)
        ins[i] = extra[i - 1];
    r->op = op;
    r->n = n;
    check_op(label, op, opset, as, n_in, ins, shape, act_ref_run, r);
    free(x);
}

/* ------------------------------------------------------------- PRelu */

typedef struct {
    int64_t N, C, P;
} prelu_ref;

static void prelu_ref_run(void *ctx, double *const *in, double *y)
{
    const prelu_ref *r = ctx;
    for (int64_t n = 0; n < r->N; n++)
        for (int64_t c = 0; c < r->C; c++)
            for (int64_t p = 0; p < r->P; p++) {
                int64_t i = (n * r->C + c) * r->P + p;
                double v = in[0][i];
                y[i] = v >= 0 ? v : in[1][c] * v;
            }
}

/* ------------------------------------------------------- backward rules */

/* Runs forward on x (and the reference xr), then backward under `rule`;
 * compares with `expect` computed by the caller from the formula. */
static void rule_case(const char *label, const char *op, const attr_set *as,
                      hl_backward_rule rule, int64_t batch, int64_t ref_batch,
                      int64_t per, const float *x, const float *xr,
                      const float *g, const double *expect)
{
    op_case c, cr;
    hl_error err = { 0 };
    int64_t n = batch * per, nr = ref_batch * per;
    tin in1[1] = { { .shape = S(batch, per), .f = (float *)x } };
    tin in2[1] = { { .shape = S(ref_batch, per), .f = (float *)xr } };
    if (oc_setup(&c, op, 13, as, 1, in1, 1, &err) ||
        oc_setup(&cr, op, 13, as, 1, in2, 1, &err)) {
        tap_ok(0, "%s: setup: %s", label, err.msg);
        return;
    }
    oc_forward(&c, NULL);
    oc_forward(&cr, NULL);
    float *gx = calloc((size_t)n, sizeof(float));
    hl_tensor gout = { .shape = c.out[0].shape, .dtype = HL_DT_FLOAT,
                       .data = (float *)g };
    hl_tensor gin = { .shape = c.in[0].shape, .dtype = HL_DT_FLOAT, .data = gx };
    hl_op_ctx ctx;
    oc_ctx(&c, &ctx, test_pool_);
    ctx.rule = rule;
    if (rule == HL_RULE_DEEPLIFT) {
        ctx.ref_in = cr.in;
        ctx.ref_out = cr.out;
    }
    c.op->backward(&c.node, &ctx, c.in, c.out, &gout, &gin);
    double e = rel_err_d(gx, expect, n);
    tap_ok(e < 1e-5, "%s: rel err %.2e", label, e);
    (void)nr;
    free(gx);
    oc_free(&c);
    oc_free(&cr);
}

static double act_deriv(const act_ref *r, double x)
{
    double h = 1e-6;
    return (act_f(r, x + h) - act_f(r, x - h)) / (2 * h);
}

static void rules(void)
{
    enum { B = 3, PER = 40, N = B * PER };
    float x[N], xr[N], g[N];
    double expect[N];
    static const double kink0[] = { 0.0 };
    fill_avoiding(x, N, -3, 3, kink0, 1, 0.05);
    fill_avoiding(xr, N, -3, 3, kink0, 1, 0.05);
    rnd_fill(g, N, -1, 1);
    /* a few positions where input == reference: DeepLift falls back */
    for (int i = 0; i < N; i += 13)
        xr[i] = x[i];

    for (int i = 0; i < N; i++)
        expect[i] = x[i] > 0 && g[i] > 0 ? g[i] : 0;
    rule_case("Relu GUIDED = relu(g) * (x > 0)", "Relu", NULL,
              HL_RULE_GUIDED, B, B, PER, x, xr, g, expect);
    for (int i = 0; i < N; i++)
        expect[i] = g[i] > 0 ? g[i] : 0;
    rule_case("Relu DECONV = relu(g)", "Relu", NULL, HL_RULE_DECONV, B, B,
              PER, x, xr, g, expect);
    for (int i = 0; i < N; i++)
        expect[i] = x[i] > 0 ? g[i] : 0;
    rule_case("Relu GRADIENT = g * (x > 0)", "Relu", NULL, HL_RULE_GRADIENT,
              B, B, PER, x, xr, g, expect);

    /* Clip (ReLU6) and Sigmoid keep their ordinary gradient under GUIDED
     * and DECONV */
    {
        attr_set as;
        as_reset(&as);
        act_ref clip = { "Clip", 0, 0, -1.0, 1.5, N };
        float lo = -1.0f, hi = 1.5f;
        tin dummy[2];
        (void)dummy;
        static const double kinks[] = { -1.0, 1.5 };
        float xc[N];
        fill_avoiding(xc, N, -3, 3, kinks, 2, 0.05);
        for (int i = 0; i < N; i++)
            expect[i] = g[i] * (xc[i] > lo && xc[i] < hi ? 1 : 0);
        as_float(&as, "min", lo);
        as_float(&as, "max", hi);
        /* opset 13 ignores the attributes: use an opset-6 style node */
        op_case c;
        hl_error err = { 0 };
        tin in1[1] = { { .shape = S(B, PER), .f = xc } };
        if (!oc_setup(&c, "Clip", 6, &as, 1, in1, 1, &err)) {
            oc_forward(&c, NULL);
            hl_backward_rule rs[2] = { HL_RULE_GUIDED, HL_RULE_DECONV };
            for (int k = 0; k < 2; k++) {
                float gx[N] = { 0 };
                hl_tensor gout = { .shape = c.out[0].shape,
                                   .dtype = HL_DT_FLOAT, .data = g };
                hl_tensor gin = { .shape = c.in[0].shape,
                                  .dtype = HL_DT_FLOAT, .data = gx };
                hl_op_ctx ctx;
                oc_ctx(&c, &ctx, NULL);
                ctx.rule = rs[k];
                c.op->backward(&c.node, &ctx, c.in, c.out, &gout, &gin);
                double e = rel_err_d(gx, expect, N);
                tap_ok(e < 1e-6, "Clip %s keeps the ordinary gradient: rel err %.2e",
                       k ? "DECONV" : "GUIDED", e);
            }
        } else {
            tap_ok(0, "Clip setup: %s", err.msg);
        }
        oc_free(&c);
        (void)clip;
    }
    {
        act_ref sig = { "Sigmoid", 0, 0, 0, 0, N };
        for (int i = 0; i < N; i++)
            expect[i] = g[i] * act_deriv(&sig, x[i]);
        rule_case("Sigmoid GUIDED keeps the ordinary gradient", "Sigmoid",
                  NULL, HL_RULE_GUIDED, B, B, PER, x, xr, g, expect);
    }

    /* DeepLift rescale: g * (f(x) - f(xr)) / (x - xr), ordinary gradient
     * where x == xr; reference of the same batch and of batch 1 */
    static const struct { const char *op; double alpha; } dl[] = {
        { "Relu", 0 }, { "Sigmoid", 0 }, { "Tanh", 0 }, { "Elu", 0.7 },
        { "LeakyRelu", 0.1 },
    };
    for (size_t k = 0; k < sizeof dl / sizeof dl[0]; k++) {
        act_ref r = { dl[k].op, dl[k].alpha, 0, 0, 0, N };
        attr_set as;
        as_reset(&as);
        if (dl[k].alpha != 0)
            as_float(&as, "alpha", (float)dl[k].alpha);
        for (int rb = 0; rb < 2; rb++) {
            int64_t ref_batch = rb ? 1 : B;
            for (int i = 0; i < N; i++) {
                double xv = x[i];
                double rv = xr[rb ? i % PER : i];
                /* x and the reference in float, as the kernel sees them */
                double dx = xv - rv;
                if (fabs(dx) < 1e-10)
                    expect[i] = g[i] * act_deriv(&r, xv);
                else
                    expect[i] = g[i] * ((double)(float)act_f(&r, xv) -
                                        (double)(float)act_f(&r, rv)) / dx;
            }
            char label[128];
            snprintf(label, sizeof label,
                     "%s DEEPLIFT rescale (reference batch %lld)", dl[k].op,
                     (long long)ref_batch);
            rule_case(label, dl[k].op, &as, HL_RULE_DEEPLIFT, B, ref_batch,
                      PER, x, xr, g, expect);
        }
        (void)r;
    }
    /* HardSwish and Clip are not rescaled by DeepLift */
    {
        act_ref hs = { "HardSwish", 0, 0, 0, 0, N };
        static const double kinks[] = { -3, 3 };
        float xh[N];
        fill_avoiding(xh, N, -4, 4, kinks, 2, 0.05);
        for (int i = 0; i < N; i++)
            expect[i] = g[i] * act_deriv(&hs, xh[i]);
        rule_case("HardSwish DEEPLIFT keeps the ordinary gradient",
                  "HardSwish", NULL, HL_RULE_DEEPLIFT, B, B, PER, xh, xr, g,
                  expect);
    }
}

int main(void)
{
    hl_engine_init();
    test_pool_ = hl_threadpool_new(2);
    const int64_t n = 2 * 3 * 4 * 5;
    hl_shape sh = S(2, 3, 4, 5);
    attr_set as;
    act_ref r = { 0 };
    static const double k0[] = { 0.0 };

    as_reset(&as);
    act_case("Relu", "Relu", 14, &as, &r, 1, NULL, k0, 1, n, sh);
    as_reset(&as);
    act_case("LeakyRelu default alpha", "LeakyRelu", 6, &as,
             &(act_ref){ .alpha = 0.01 }, 1, NULL, k0, 1, n, sh);
    as_float(&as, "alpha", 0.2f);
    act_case("LeakyRelu alpha 0.2", "LeakyRelu", 6, &as,
             &(act_ref){ .alpha = 0.2f }, 1, NULL, k0, 1, n, sh);
    as_reset(&as);
    act_case("Sigmoid", "Sigmoid", 13, &as, &r, 1, NULL, NULL, 0, n, sh);
    act_case("Tanh", "Tanh", 13, &as, &r, 1, NULL, NULL, 0, n, sh);
    act_case("Elu default alpha", "Elu", 6, &as, &(act_ref){ .alpha = 1 }, 1,
             NULL, k0, 1, n, sh);
    as_float(&as, "alpha", 0.5f);
    act_case("Elu alpha 0.5", "Elu", 6, &as, &(act_ref){ .alpha = 0.5 }, 1,
             NULL, k0, 1, n, sh);
    as_reset(&as);
    {
        static const double k[] = { -2.5, 2.5 };
        act_case("HardSigmoid default", "HardSigmoid", 6, &as,
                 &(act_ref){ .alpha = 0.2, .beta = 0.5 }, 1, NULL, k, 2, n, sh);
        as_float(&as, "alpha", 0.25f);
        as_float(&as, "beta", 0.4f);
        static const double k2[] = { -1.6, 2.4 };
        act_case("HardSigmoid alpha .25 beta .4", "HardSigmoid", 6, &as,
                 &(act_ref){ .alpha = 0.25, .beta = 0.4f }, 1, NULL, k2, 2, n,
                 sh);
    }
    as_reset(&as);
    {
        static const double k[] = { -3, 3 };
        act_case("HardSwish", "HardSwish", 14, &as, &r, 1, NULL, k, 2, n, sh);
    }
    /* Clip: attributes before opset 11, optional inputs after */
    {
        static const double k[] = { 0, 6 };
        as_reset(&as);
        as_float(&as, "min", 0);
        as_float(&as, "max", 6);
        act_ref rc = { .lo = 0, .hi = 6 };
        float *x = malloc(sizeof(float) * (size_t)n);
        fill_avoiding(x, n, -3, 9, k, 2, 0.05);
        tin ins[3] = { { .shape = sh, .f = x, .grad = 1 } };
        rc.op = "Clip";
        rc.n = n;
        check_op("Clip opset 6 attributes (ReLU6)", "Clip", 6, &as, 1, ins,
                 sh, act_ref_run, &rc);
        float lo = 0, hi = 6;
        ins[1] = (tin){ .shape = S_SCALAR, .f = &lo, .constant = 1 };
        ins[2] = (tin){ .shape = S_SCALAR, .f = &hi, .constant = 1 };
        check_op("Clip opset 13 min/max inputs (ReLU6)", "Clip", 13, NULL, 3,
                 ins, sh, act_ref_run, &rc);
        ins[1] = (tin){ .absent = 1 };
        act_ref rmax = { "Clip", 0, 0, -INFINITY, 6, n };
        check_op("Clip opset 13 max only", "Clip", 13, NULL, 3, ins, sh,
                 act_ref_run, &rmax);
        act_ref rnone = { "Clip", 0, 0, -INFINITY, INFINITY, n };
        check_op("Clip opset 13 no bounds", "Clip", 13, NULL, 1, ins, sh,
                 act_ref_run, &rnone);
        free(x);
    }
    /* PRelu with a per-channel slope [C,1,1] */
    {
        prelu_ref pr = { 2, 3, 20 };
        float x[120], slope[3];
        fill_avoiding(x, 120, -2, 2, k0, 1, 0.05);
        rnd_fill(slope, 3, 0.05, 0.5);
        tin ins[2] = { { .shape = sh, .f = x, .grad = 1 },
                       { .shape = S(3, 1, 1), .f = slope, .constant = 1 } };
        check_op("PRelu per-channel slope", "PRelu", 9, NULL, 2, ins, sh,
                 prelu_ref_run, &pr);
    }
    /* threaded paths */
    {
        int64_t big = 4 * 16 * 32 * 32;
        fd_max_ = 50;
        as_reset(&as);
        act_case("Relu big (threaded)", "Relu", 14, &as, &r, 1, NULL, k0, 1,
                 big, S(4, 16, 32, 32));
        act_case("Sigmoid big (threaded)", "Sigmoid", 13, &as, &r, 1, NULL,
                 NULL, 0, big, S(4, 16, 32, 32));
        fd_max_ = 0;
    }
    rules();
    hl_threadpool_free(test_pool_);
    return tap_done();
}
