/* Elementwise math of one data input (math_unary.c): Sqrt, Erf, Exp, Neg,
 * Reciprocal, Log, Abs, Softplus, Mish, Gelu (exact and tanh) and Pow with a
 * constant exponent. Forward vs naive double
 * references (libm), backward vs central finite differences. */
#include "ops-harness.h"

typedef struct {
    char kind;        /* 's'qrt 'e'rf 'x'(exp) 'n'eg 'r'eciprocal 'p'ow
                         'f' softplus 'm'ish 'g'elu 't' tanh-gelu */
    double exponent;
    int64_t n;
} un_ref;

static void un_ref_run(void *ctx, double *const *in, double *y)
{
    const un_ref *r = ctx;
    for (int64_t i = 0; i < r->n; i++) {
        double x = in[0][i];
        switch (r->kind) {
        case 's': y[i] = sqrt(x); break;
        case 'e': y[i] = erf(x); break;
        case 'x': y[i] = exp(x); break;
        case 'n': y[i] = -x; break;
        case 'r': y[i] = 1.0 / x; break;
        case 'f': y[i] = log(1.0 + exp(x)); break;
        case 'a': y[i] = fabs(x); break;
        case 'l': y[i] = log(x); break;
        case 'm': y[i] = x * tanh(log(1.0 + exp(x))); break;
        case 'g': y[i] = 0.5 * x * (1.0 + erf(x / sqrt(2.0))); break;
        case 't':
            y[i] = 0.5 * x * (1.0 + tanh(sqrt(2.0 / M_PI) * (x + 0.044715 * x * x * x)));
            break;
        default: y[i] = pow(x, r->exponent); break;
        }
    }
}

/* lo..hi: the input range (kept away from the op's singular points). */
static void un_case_as(const char *op, char kind, hl_shape s, double lo,
                       double hi, const attr_set *as);

static void un_case(const char *op, char kind, hl_shape s, double lo,
                    double hi)
{
    un_case_as(op, kind, s, lo, hi, NULL);
}

static void un_case_as(const char *op, char kind, hl_shape s, double lo,
                       double hi, const attr_set *as)
{
    un_ref r = { kind, 0, hl_shape_numel(&s) };
    float *x = malloc(sizeof(float) * (size_t)(r.n + 1));
    rnd_fill(x, r.n, lo, hi);
    if (kind == 'r' || kind == 'a')   /* both signs, |x| >= lo */
        for (int64_t i = 0; i < r.n; i++)
            if (rnd_uniform(0, 1) < 0.5)
                x[i] = -x[i];
    tin ins[1] = { { .shape = s, .f = x, .grad = 1 } };
    char label[160], b[64];
    snprintf(label, sizeof label, "%s%s %s in [%g, %g]", op,
             kind == 't' ? " (tanh)" : "", hl_shape_format(&s, b, sizeof b),
             lo, hi);
    check_op(label, op, 20, as, 1, ins, s, un_ref_run, &r);
    free(x);
}

/* Pow(X, constant Y); Y float [] or int64 of shape ys. */
static void pow_case(hl_shape xs, double p, int int_exponent, hl_shape ys,
                     hl_shape out, double lo, double hi)
{
    un_ref r = { 'p', p, hl_shape_numel(&xs) };
    float *x = malloc(sizeof(float) * (size_t)(r.n + 1));
    rnd_fill(x, r.n, lo, hi);
    float yf = (float)p;
    int64_t yi = (int64_t)p;
    tin ins[2] = {
        { .shape = xs, .f = x, .grad = 1 },
        { .shape = ys, .constant = 1 },
    };
    if (int_exponent) {
        ins[1].dtype = HL_DT_INT64;
        ins[1].i = &yi;
    } else {
        ins[1].f = &yf;
    }
    char label[160], b1[64], b2[64];
    snprintf(label, sizeof label, "Pow %s ^ %s %g (%s) in [%g, %g]",
             hl_shape_format(&xs, b1, sizeof b1), int_exponent ? "int64" : "float",
             p, hl_shape_format(&ys, b2, sizeof b2), lo, hi);
    check_op(label, "Pow", 13, NULL, 2, ins, out, un_ref_run, &r);
    free(x);
}

int main(void)
{
    hl_engine_init();
    test_pool_ = hl_threadpool_new(2);
    hl_shape s = S(2, 3, 4, 5);
    un_case("Sqrt", 's', s, 0.2, 3);
    un_case("Erf", 'e', s, -2.5, 2.5);
    un_case("Exp", 'x', s, -3, 3);
    un_case("Neg", 'n', s, -2, 2);
    un_case("Reciprocal", 'r', s, 0.5, 2);
    un_case("Erf", 'e', S_SCALAR, -1, 1);
    un_case("Softplus", 'f', s, -6, 6);
    un_case("Softplus", 'f', S(3, 4), 20, 60);   /* no overflow of e^x */
    un_case("Mish", 'm', s, -6, 6);
    un_case("Abs", 'a', s, 0.05, 2);
    un_case("Log", 'l', s, 0.1, 5);   /* both signs, away from the kink */
    un_case("Gelu", 'g', s, -4, 4);
    {
        attr_set as;
        as_reset(&as);
        as_string(&as, "approximate", "tanh");
        un_case_as("Gelu", 't', s, -4, 4, &as);
        as_reset(&as);
        as_string(&as, "approximate", "erf");
        float x[6] = { 0 };
        tin ins[1] = { { .shape = S(2, 3), .f = x } };
        check_error("Gelu approximate='erf' refused", "Gelu", 20, &as, 1, ins,
                    1, HL_ERR_UNSUPPORTED, "'approximate'");
    }

    pow_case(s, 2, 0, S_SCALAR, s, -2, 2);      /* decomposed LayerNorm */
    pow_case(s, 3, 0, S_SCALAR, s, -2, 2);      /* tanh-GELU */
    pow_case(s, 0.5, 0, S_SCALAR, s, 0.2, 3);
    pow_case(s, -1.5, 0, S_SCALAR, s, 0.3, 3);
    pow_case(s, 1, 0, S_SCALAR, s, -2, 2);
    pow_case(S(3, 4), 2, 1, S(1), S(3, 4), -2, 2);  /* int64 exponent */
    pow_case(S_SCALAR, 2, 0, S(1), S(1), -2, 2);    /* rank raised by Y */

    /* big enough for the threaded paths */
    fd_max_ = 40;
    un_case("Erf", 'e', S(4, 16, 32, 32), -3, 3);
    un_case("Sqrt", 's', S(4, 16, 32, 32), 0.1, 4);
    pow_case(S(4, 16, 32, 32), 2, 0, S_SCALAR, S(4, 16, 32, 32), -2, 2);
    fd_max_ = 0;

    /* a run-time exponent is refused with a message naming the input */
    {
        float x[6] = { 0 }, y[6] = { 0 };
        tin ins[2] = { { .shape = S(2, 3), .f = x }, { .shape = S(2, 3), .f = y } };
        check_error("Pow with a run-time exponent", "Pow", 13, NULL, 2, ins,
                    1, HL_ERR_UNSUPPORTED, "exponent (input 'Y') must be a constant");
        float c[2] = { 2, 2 };
        tin ins2[2] = { { .shape = S(2, 3), .f = x },
                        { .shape = S(2), .f = c, .constant = 1 } };
        check_error("Pow with a 2-element exponent", "Pow", 13, NULL, 2, ins2,
                    1, HL_ERR_UNSUPPORTED, "one element");
    }
    hl_threadpool_free(test_pool_);
    return tap_done();
}
