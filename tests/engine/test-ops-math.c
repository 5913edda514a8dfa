/* Arithmetic with NumPy broadcasting (Add, Sub, Mul, Div, Sum, Max, Min,
 * Expand), Gemm,
 * MatMul, Softmax, LogSoftmax, ReduceMean, ReduceSum, ReduceMax, ReduceMin: forward vs naive double references,
 * backward of every data input vs central finite differences. */
#include "ops-harness.h"

/* Offset in `in` of output element o under NumPy broadcasting. */
static int64_t bcast_index(const hl_shape *out, const hl_shape *in, int64_t o)
{
    int64_t off = 0, stride = 1;
    for (int d = out->ndim - 1; d >= 0; d--) {
        int64_t idx = o % out->dims[d];
        o /= out->dims[d];
        int id = d - (out->ndim - in->ndim);
        if (id >= 0) {
            if (in->dims[id] != 1)
                off += idx * stride;
            stride *= in->dims[id];
        }
    }
    return off;
}

typedef struct {
    char op;
    hl_shape a, b, out;
} bin_ref;

static void bin_ref_run(void *ctx, double *const *in, double *y)
{
    const bin_ref *r = ctx;
    int64_t n = hl_shape_numel(&r->out);
    for (int64_t o = 0; o < n; o++) {
        double a = in[0][bcast_index(&r->out, &r->a, o)];
        double b = in[1][bcast_index(&r->out, &r->b, o)];
        y[o] = r->op == '+' ? a + b : r->op == '-' ? a - b
             : r->op == '*' ? a * b : a / b;
    }
}

static void bin_case(const char *op, char sym, hl_shape a, hl_shape b,
                     hl_shape out)
{
    bin_ref r = { sym, a, b, out };
    int64_t na = hl_shape_numel(&a), nb = hl_shape_numel(&b);
    float *x = malloc(sizeof(float) * (size_t)(na + 1));
    float *y = malloc(sizeof(float) * (size_t)(nb + 1));
    rnd_fill(x, na, -2, 2);
    if (sym == '/') {
        for (int64_t i = 0; i < nb; i++)
            y[i] = (float)(rnd_uniform(0.5, 2) * (rnd_uniform(0, 1) < 0.5 ? -1 : 1));
    } else {
        rnd_fill(y, nb, -2, 2);
    }
    tin ins[2] = { { .shape = a, .f = x, .grad = 1 },
                   { .shape = b, .f = y, .grad = 1 } };
    char label[160], s1[64], s2[64];
    snprintf(label, sizeof label, "%s %s with %s", op,
             hl_shape_format(&a, s1, sizeof s1), hl_shape_format(&b, s2, sizeof s2));
    check_op(label, op, 14, NULL, 2, ins, out, bin_ref_run, &r);
    free(x);
    free(y);
}

/* ---------------------------------------------------------------- Gemm */

typedef struct {
    int ta, tb, has_c;
    int64_t M, N, K;
    double alpha, beta;
    hl_shape cshape;
} gemm_ref;

static void gemm_ref_run(void *ctx, double *const *in, double *y)
{
    const gemm_ref *r = ctx;
    hl_shape os = { .ndim = 2, .dims = { r->M, r->N } };
    for (int64_t i = 0; i < r->M; i++)
        for (int64_t j = 0; j < r->N; j++) {
            double s = 0;
            for (int64_t k = 0; k < r->K; k++) {
                double a = r->ta ? in[0][k * r->M + i] : in[0][i * r->K + k];
                double b = r->tb ? in[1][j * r->K + k] : in[1][k * r->N + j];
                s += a * b;
            }
            s *= r->alpha;
            if (r->has_c)
                s += r->beta * in[2][bcast_index(&os, &r->cshape, i * r->N + j)];
            y[i * r->N + j] = s;
        }
}

static void gemm_case(int ta, int tb, float alpha, float beta, hl_shape cs,
                      int has_c, int c_grad)
{
    int64_t M = 3, N = 4, K = 5;
    gemm_ref r = { ta, tb, has_c, M, N, K, alpha, beta, cs };
    float a[15], b[20], c[12];
    rnd_fill(a, 15, -1, 1);
    rnd_fill(b, 20, -1, 1);
    rnd_fill(c, 12, -1, 1);
    tin ins[3] = {
        { .shape = ta ? S(K, M) : S(M, K), .f = a, .grad = 1 },
        { .shape = tb ? S(N, K) : S(K, N), .f = b, .grad = 1 },
        { .shape = cs, .f = c, .grad = c_grad },
    };
    attr_set as;
    as_reset(&as);
    if (ta) as_int(&as, "transA", 1);
    if (tb) as_int(&as, "transB", 1);
    if (alpha != 1) as_float(&as, "alpha", alpha);
    if (beta != 1) as_float(&as, "beta", beta);
    char label[160], s1[64];
    snprintf(label, sizeof label,
             "Gemm transA=%d transB=%d alpha=%g beta=%g C=%s", ta, tb,
             (double)alpha, (double)beta,
             has_c ? hl_shape_format(&cs, s1, sizeof s1) : "none");
    check_op(label, "Gemm", 13, &as, has_c ? 3 : 2, ins, S(M, N),
             gemm_ref_run, &r);
}

/* -------------------------------------------------------------- MatMul */

typedef struct {
    hl_shape a, b, out;
} mm_ref;

static void mm_ref_run(void *ctx, double *const *in, double *y)
{
    const mm_ref *r = ctx;
    /* promote 1-D operands as NumPy does */
    hl_shape a = r->a, b = r->b;
    int a1 = a.ndim == 1, b1 = b.ndim == 1;
    if (a1) { a.ndim = 2; a.dims[1] = a.dims[0]; a.dims[0] = 1; }
    if (b1) { b.ndim = 2; b.dims[1] = 1; }
    int64_t M = a.dims[a.ndim - 2], K = a.dims[a.ndim - 1];
    int64_t N = b.dims[b.ndim - 1];
    hl_shape ab = a, bb = b;  /* batch shapes */
    ab.ndim -= 2;
    bb.ndim -= 2;
    hl_shape batch = { 0 };
    int nd = ab.ndim > bb.ndim ? ab.ndim : bb.ndim;
    batch.ndim = nd;
    for (int i = 0; i < nd; i++) {
        int ia = i - (nd - ab.ndim), ib = i - (nd - bb.ndim);
        int64_t da = ia >= 0 ? ab.dims[ia] : 1, db = ib >= 0 ? bb.dims[ib] : 1;
        batch.dims[i] = da > db ? da : db;
    }
    int64_t nbt = hl_shape_numel(&batch);
    for (int64_t t = 0; t < nbt; t++) {
        int64_t oa = bcast_index(&batch, &ab, t) * M * K;
        int64_t ob = bcast_index(&batch, &bb, t) * K * N;
        for (int64_t i = 0; i < M; i++)
            for (int64_t j = 0; j < N; j++) {
                double s = 0;
                for (int64_t k = 0; k < K; k++)
                    s += in[0][oa + i * K + k] * in[1][ob + k * N + j];
                y[(t * M + i) * N + j] = s;
            }
    }
}

static void mm_case(hl_shape a, hl_shape b, hl_shape out, int b_grad)
{
    mm_ref r = { a, b, out };
    int64_t na = hl_shape_numel(&a), nb = hl_shape_numel(&b);
    float *x = malloc(sizeof(float) * (size_t)na);
    float *w = malloc(sizeof(float) * (size_t)nb);
    rnd_fill(x, na, -1, 1);
    rnd_fill(w, nb, -1, 1);
    tin ins[2] = { { .shape = a, .f = x, .grad = 1 },
                   { .shape = b, .f = w, .grad = b_grad, .constant = !b_grad } };
    char label[160], s1[64], s2[64];
    snprintf(label, sizeof label, "MatMul %s x %s",
             hl_shape_format(&a, s1, sizeof s1), hl_shape_format(&b, s2, sizeof s2));
    check_op(label, "MatMul", 13, NULL, 2, ins, out, mm_ref_run, &r);
    free(x);
    free(w);
}

/* ------------------------------------------------------------- Softmax */

typedef struct {
    int log;
    int64_t outer, len, inner;
} sm_ref;

static void sm_ref_run(void *ctx, double *const *in, double *y)
{
    const sm_ref *r = ctx;
    for (int64_t o = 0; o < r->outer; o++)
        for (int64_t i = 0; i < r->inner; i++) {
            double m = -INFINITY, s = 0;
            for (int64_t k = 0; k < r->len; k++)
                m = fmax(m, in[0][(o * r->len + k) * r->inner + i]);
            for (int64_t k = 0; k < r->len; k++)
                s += exp(in[0][(o * r->len + k) * r->inner + i] - m);
            for (int64_t k = 0; k < r->len; k++) {
                double v = in[0][(o * r->len + k) * r->inner + i] - m;
                y[(o * r->len + k) * r->inner + i] =
                    r->log ? v - log(s) : exp(v) / s;
            }
        }
}

static void sm_case(const char *op, int opset, int has_axis, int64_t axis,
                    int64_t outer, int64_t len, int64_t inner)
{
    sm_ref r = { op[0] == 'L', outer, len, inner };
    hl_shape sh = S(2, 3, 4, 5);
    float x[120];
    rnd_fill(x, 120, -3, 3);
    tin ins[1] = { { .shape = sh, .f = x, .grad = 1 } };
    attr_set as;
    as_reset(&as);
    if (has_axis)
        as_int(&as, "axis", axis);
    char label[128];
    snprintf(label, sizeof label, "%s opset %d axis %s%lld", op, opset,
             has_axis ? "" : "default ", (long long)axis);
    check_op(label, op, opset, &as, 1, ins, sh, sm_ref_run, &r);
}

/* ---------------------------------------------------------- ReduceMean */

typedef struct {
    hl_shape in;
    int mask[HL_MAX_DIMS];
    hl_shape kept;   /* reduced dims set to 1 */
    int sum;         /* ReduceSum */
    int extreme;     /* +1 ReduceMax, -1 ReduceMin (replaces the sum) */
} rm_ref;

static void rm_ref_run(void *ctx, double *const *in, double *y)
{
    const rm_ref *r = ctx;
    int64_t n = hl_shape_numel(&r->in), on = hl_shape_numel(&r->kept);
    double cnt = r->sum ? 1.0 : (double)n / (double)on;
    for (int64_t o = 0; o < on; o++)
        y[o] = r->extreme ? -r->extreme * INFINITY : 0;
    /* input element i contributes to the kept-shape element it maps to */
    for (int64_t i = 0; i < n; i++) {
        int64_t rem = i, o = 0, stride = 1;
        for (int d = r->in.ndim - 1; d >= 0; d--) {
            int64_t idx = rem % r->in.dims[d];
            rem /= r->in.dims[d];
            if (!r->mask[d]) {
                o += idx * stride;
                stride *= r->in.dims[d];
            }
        }
        if (r->extreme > 0)
            y[o] = fmax(y[o], in[0][i]);
        else if (r->extreme < 0)
            y[o] = fmin(y[o], in[0][i]);
        else
            y[o] += in[0][i] / cnt;
    }
}

/* The reference of a reduction of a [2,3,4,5] input over `axes` (every
 * axis when `all`), reduced dims kept as 1. */
static rm_ref rm_ref_over(int naxes, const int64_t *axes, int all, int sum,
                          int extreme)
{
    rm_ref r = { S(2, 3, 4, 5), { 0 }, S(2, 3, 4, 5), sum, extreme };
    for (int d = 0; d < 4; d++)
        r.mask[d] = all;
    for (int k = 0; k < naxes; k++)
        r.mask[(axes[k] + 4) % 4] = 1;
    for (int d = 0; d < 4; d++)
        if (r.mask[d])
            r.kept.dims[d] = 1;
    return r;
}

static void rm_case(int naxes, const int64_t *axes, int keepdims,
                    hl_shape expect)
{
    rm_ref r = rm_ref_over(naxes, axes, naxes < 0, 0, 0);
    float x[120];
    rnd_fill(x, 120, -2, 2);
    tin ins[1] = { { .shape = r.in, .f = x, .grad = 1 } };
    attr_set as;
    as_reset(&as);
    if (naxes >= 0)
        as_ints(&as, "axes", naxes, axes);
    if (keepdims != 1)
        as_int(&as, "keepdims", keepdims);
    char label[128], s1[64];
    snprintf(label, sizeof label, "ReduceMean %d axes keepdims=%d -> %s",
             naxes, keepdims, hl_shape_format(&expect, s1, sizeof s1));
    check_op(label, "ReduceMean", 13, &as, 1, ins, expect, rm_ref_run, &r);
}

/* ReduceSum (opset 13: axes as a constant int64 input; none = all axes) */
static void rs_case(int naxes, const int64_t *axes, int keepdims,
                    int noop_empty, hl_shape expect)
{
    rm_ref r = rm_ref_over(naxes, axes, naxes < 0 || (naxes == 0 && !noop_empty), 1, 0);
    float x[120];
    rnd_fill(x, 120, -2, 2);
    int64_t av[4] = { 0 };
    for (int k = 0; k < naxes; k++)
        av[k] = axes[k];
    tin ins[2] = { { .shape = r.in, .f = x, .grad = 1 },
                   { .shape = S(naxes > 0 ? naxes : 0), .dtype = HL_DT_INT64,
                     .i = av, .constant = 1, .absent = naxes < 0 } };
    attr_set as;
    as_reset(&as);
    if (keepdims != 1)
        as_int(&as, "keepdims", keepdims);
    if (noop_empty)
        as_int(&as, "noop_with_empty_axes", 1);
    char label[160], s1[64];
    snprintf(label, sizeof label, "ReduceSum %d axes keepdims=%d noop=%d -> %s",
             naxes, keepdims, noop_empty, hl_shape_format(&expect, s1, sizeof s1));
    check_op(label, "ReduceSum", 13, &as, 2, ins, expect, rm_ref_run, &r);
}

/* ReduceMax / ReduceMin (opset 13: axes attribute) on distinct values, so
 * the finite differences never cross a tie. */
static void rx_case(const char *op, int extreme, int naxes,
                    const int64_t *axes, int keepdims, hl_shape expect)
{
    rm_ref r = rm_ref_over(naxes, axes, naxes < 0, 0, extreme);
    float x[120];
    rnd_distinct(x, 120, -2, 2);
    tin ins[1] = { { .shape = r.in, .f = x, .grad = 1 } };
    attr_set as;
    as_reset(&as);
    if (naxes >= 0)
        as_ints(&as, "axes", naxes, axes);
    if (keepdims != 1)
        as_int(&as, "keepdims", keepdims);
    char label[160], s1[64];
    snprintf(label, sizeof label, "%s %d axes keepdims=%d -> %s", op, naxes,
             keepdims, hl_shape_format(&expect, s1, sizeof s1));
    check_op(label, op, 13, &as, 1, ins, expect, rm_ref_run, &r);
}

/* Ties: the whole gradient goes to the first extreme in memory order. */
static void rx_ties(void)
{
    float x[6] = { 1, 3, 3, 2, 2, 0 };   /* [2,3]: row maxima 3 (twice), 2 */
    tin ins[1] = { { .shape = S(2, 3), .f = x } };
    attr_set as;
    as_reset(&as);
    int64_t ax[1] = { 1 };
    as_ints(&as, "axes", 1, ax);
    op_case c;
    hl_error err = { 0 };
    if (!tap_ok(oc_setup(&c, "ReduceMax", 13, &as, 1, ins, 1, &err) == HL_OK,
                "ReduceMax ties: setup %s", err.msg)) {
        oc_free(&c);
        return;
    }
    oc_forward(&c, NULL);
    float g[2] = { 1.5f, -2.0f }, gx[6] = { 0 };
    hl_tensor gout[1] = { { .shape = c.out[0].shape, .dtype = HL_DT_FLOAT, .data = g } };
    hl_tensor gin[1] = { { .shape = S(2, 3), .dtype = HL_DT_FLOAT, .data = gx } };
    hl_op_ctx ctx;
    oc_ctx(&c, &ctx, NULL);
    c.op->backward(&c.node, &ctx, c.in, c.out, gout, gin);
    tap_ok(c.out[0].data[0] == 3 && c.out[0].data[1] == 2 && gx[0] == 0 &&
               gx[1] == 1.5f && gx[2] == 0 && gx[3] == -2.0f && gx[4] == 0 &&
               gx[5] == 0,
           "ReduceMax ties: gradient to the first maximum only (%g %g %g | %g %g %g)",
           (double)gx[0], (double)gx[1], (double)gx[2], (double)gx[3],
           (double)gx[4], (double)gx[5]);
    oc_free(&c);
}

/* ------------------------------------------------------ Sum, Max, Min */

typedef struct {
    int n;
    hl_shape in[4], out;
    int extreme;     /* +1 Max, -1 Min, 0 Sum */
} sum_ref;

static void sum_ref_run(void *ctx, double *const *in, double *y)
{
    const sum_ref *r = ctx;
    int64_t on = hl_shape_numel(&r->out);
    for (int64_t o = 0; o < on; o++) {
        y[o] = r->extreme ? in[0][bcast_index(&r->out, &r->in[0], o)] : 0;
        for (int i = r->extreme ? 1 : 0; i < r->n; i++) {
            double x = in[i][bcast_index(&r->out, &r->in[i], o)];
            y[o] = r->extreme > 0 ? fmax(y[o], x) : r->extreme < 0 ? fmin(y[o], x)
                                                                  : y[o] + x;
        }
    }
}

static void variadic_case(const char *op, int extreme, int n,
                          const hl_shape *shapes, hl_shape out)
{
    sum_ref r = { .n = n, .out = out, .extreme = extreme };
    tin ins[4];
    float *data[4];
    char label[200], b[64];
    snprintf(label, sizeof label, "%s", op);
    for (int i = 0; i < n; i++) {
        r.in[i] = shapes[i];
        int64_t k = hl_shape_numel(&shapes[i]);
        data[i] = malloc(sizeof(float) * (size_t)(k + 1));
        /* Max/Min: distinct values in disjoint bands per input, shuffled
         * so each input wins somewhere and no tie is near */
        if (extreme) {
            rnd_distinct(data[i], k, -2, 2);
            for (int64_t q = 0; q < k; q++)
                data[i][q] += (float)(0.001 * i);
        } else {
            rnd_fill(data[i], k, -2, 2);
        }
        ins[i] = (tin){ .shape = shapes[i], .f = data[i], .grad = 1 };
        size_t len = strlen(label);
        snprintf(label + len, sizeof label - len, " %s",
                 hl_shape_format(&shapes[i], b, sizeof b));
    }
    check_op(label, op, 13, NULL, n, ins, out, sum_ref_run, &r);
    for (int i = 0; i < n; i++)
        free(data[i]);
}

static void sum_case(int n, const hl_shape *shapes, hl_shape out)
{
    variadic_case("Sum", 0, n, shapes, out);
}

/* Expand(x, shape): y = x broadcast (reference: bcast_index). */
typedef struct {
    hl_shape in, out;
} expand_ref;

static void expand_ref_run(void *ctx, double *const *in, double *y)
{
    const expand_ref *r = ctx;
    int64_t on = hl_shape_numel(&r->out);
    for (int64_t o = 0; o < on; o++)
        y[o] = in[0][bcast_index(&r->out, &r->in, o)];
}

static void expand_case(hl_shape xs, hl_shape target, hl_shape out)
{
    expand_ref r = { xs, out };
    int64_t n = hl_shape_numel(&xs);
    float *x = malloc(sizeof(float) * (size_t)(n + 1));
    rnd_fill(x, n, -2, 2);
    int64_t t[HL_MAX_DIMS];
    for (int d = 0; d < target.ndim; d++)
        t[d] = target.dims[d];
    tin ins[2] = { { .shape = xs, .f = x, .grad = 1 },
                   { .shape = S(target.ndim), .dtype = HL_DT_INT64, .i = t,
                     .constant = 1 } };
    char label[160], b1[64], b2[64];
    snprintf(label, sizeof label, "Expand %s to %s",
             hl_shape_format(&xs, b1, sizeof b1),
             hl_shape_format(&target, b2, sizeof b2));
    check_op(label, "Expand", 13, NULL, 2, ins, out, expand_ref_run, &r);
    free(x);
}

/* Max with ties: the gradient goes to the first input holding the max. */
static void max_ties(void)
{
    float a[4] = { 1, 5, 2, 0 }, b[4] = { 1, 3, 2, 4 };
    tin ins[2] = { { .shape = S(4), .f = a }, { .shape = S(4), .f = b } };
    op_case c;
    hl_error err = { 0 };
    if (!tap_ok(oc_setup(&c, "Max", 13, NULL, 2, ins, 1, &err) == HL_OK,
                "Max ties: setup %s", err.msg)) {
        oc_free(&c);
        return;
    }
    oc_forward(&c, NULL);
    float g[4] = { 1, 2, 3, 4 }, ga[4] = { 0 }, gb[4] = { 0 };
    hl_tensor gout[1] = { { .shape = S(4), .dtype = HL_DT_FLOAT, .data = g } };
    hl_tensor gin[2] = { { .shape = S(4), .dtype = HL_DT_FLOAT, .data = ga },
                         { .shape = S(4), .dtype = HL_DT_FLOAT, .data = gb } };
    hl_op_ctx ctx;
    oc_ctx(&c, &ctx, NULL);
    c.op->backward(&c.node, &ctx, c.in, c.out, gout, gin);
    tap_ok(ga[0] == 1 && ga[1] == 2 && ga[2] == 3 && ga[3] == 0 && gb[0] == 0 &&
               gb[1] == 0 && gb[2] == 0 && gb[3] == 4,
           "Max ties: gradient to the first input holding the max");
    oc_free(&c);
}

int main(void)
{
    hl_engine_init();
    test_pool_ = hl_threadpool_new(2);
    static const char *ops[4] = { "Add", "Sub", "Mul", "Div" };
    static const char syms[4] = { '+', '-', '*', '/' };
    for (int k = 0; k < 4; k++) {
        bin_case(ops[k], syms[k], S(2, 3, 4), S(2, 3, 4), S(2, 3, 4));
        bin_case(ops[k], syms[k], S(2, 3, 4, 5), S(3, 1, 1), S(2, 3, 4, 5));
        bin_case(ops[k], syms[k], S(2, 1, 4), S(3, 1), S(2, 3, 4));
        bin_case(ops[k], syms[k], S(1, 3, 1, 5), S(2, 1, 4, 1), S(2, 3, 4, 5));
        bin_case(ops[k], syms[k], S(2, 3), S_SCALAR, S(2, 3));
        bin_case(ops[k], syms[k], S(5), S(4, 5), S(4, 5));
    }
    fd_max_ = 40;
    bin_case("Add", '+', S(4, 16, 32, 32), S(4, 16, 32, 32), S(4, 16, 32, 32));
    bin_case("Mul", '*', S(4, 16, 32, 32), S(1, 16, 1, 1), S(4, 16, 32, 32));
    fd_max_ = 0;

    for (int ta = 0; ta < 2; ta++)
        for (int tb = 0; tb < 2; tb++)
            gemm_case(ta, tb, ta ? 0.5f : 1.0f, tb ? 2.0f : 1.0f, S(3, 4), 1, 1);
    gemm_case(0, 1, 1, 1, S(4), 1, 1);
    gemm_case(1, 0, 1.5f, 0.5f, S(3, 1), 1, 1);
    gemm_case(0, 1, 1, 1, S(1), 1, 0);
    gemm_case(1, 1, 1, 1, S(1), 0, 0);

    mm_case(S(3, 4), S(4, 5), S(3, 5), 1);
    mm_case(S(2, 3, 4), S(4, 5), S(2, 3, 5), 0);      /* folded batch */
    mm_case(S(2, 3, 4), S(4, 5), S(2, 3, 5), 1);
    mm_case(S(2, 3, 4), S(2, 4, 5), S(2, 3, 5), 1);   /* batched */
    mm_case(S(2, 1, 3, 4), S(3, 4, 2), S(2, 3, 3, 2), 1); /* broadcast */
    mm_case(S(3, 4), S(2, 4, 5), S(2, 3, 5), 1);      /* A broadcast */
    mm_case(S(4), S(4, 5), S(5), 1);                  /* 1-D A */
    mm_case(S(2, 3, 4), S(4), S(2, 3), 1);            /* 1-D B */

    /* Softmax / LogSoftmax on [2,3,4,5] */
    static const char *sms[2] = { "Softmax", "LogSoftmax" };
    for (int k = 0; k < 2; k++) {
        sm_case(sms[k], 11, 0, 1, 2, 60, 1);   /* flatten at axis 1 */
        sm_case(sms[k], 11, 1, 2, 6, 20, 1);
        sm_case(sms[k], 11, 1, -1, 24, 5, 1);
        sm_case(sms[k], 13, 0, -1, 24, 5, 1);
        sm_case(sms[k], 13, 1, 1, 2, 3, 20);   /* single axis */
        sm_case(sms[k], 13, 1, 0, 1, 2, 60);
        sm_case(sms[k], 13, 1, -2, 6, 4, 5);
    }

    static const int64_t ax23[2] = { 2, 3 }, ax1[1] = { 1 },
                         axn[2] = { -1, 0 };
    rm_case(2, ax23, 1, S(2, 3, 1, 1));
    rm_case(2, ax23, 0, S(2, 3));
    rm_case(1, ax1, 1, S(2, 1, 4, 5));
    rm_case(2, axn, 0, S(3, 4));
    rm_case(-1, NULL, 1, S(1, 1, 1, 1));
    rm_case(-1, NULL, 0, S_SCALAR);
    rs_case(2, ax23, 1, 0, S(2, 3, 1, 1));
    rs_case(2, axn, 0, 0, S(3, 4));
    rs_case(-1, NULL, 1, 0, S(1, 1, 1, 1));
    rs_case(0, NULL, 0, 0, S_SCALAR);          /* empty axes: all */
    rs_case(0, NULL, 1, 1, S(2, 3, 4, 5));     /* empty axes + noop */
    rx_case("ReduceMax", 1, 1, ax1, 1, S(2, 1, 4, 5));   /* CBAM channel max */
    rx_case("ReduceMax", 1, 2, ax23, 0, S(2, 3));
    rx_case("ReduceMax", 1, -1, NULL, 1, S(1, 1, 1, 1));
    rx_case("ReduceMin", -1, 2, axn, 1, S(1, 3, 4, 1));
    rx_case("ReduceMin", -1, 1, ax1, 0, S(2, 4, 5));
    rx_ties();

    {
        hl_shape one[1] = { S(2, 3) };
        sum_case(1, one, S(2, 3));
        hl_shape two[2] = { S(2, 3, 4), S(2, 3, 4) };
        sum_case(2, two, S(2, 3, 4));
        hl_shape three[3] = { S(2, 3, 4, 5), S(3, 1, 1), S(5) };
        sum_case(3, three, S(2, 3, 4, 5));
        hl_shape bc[3] = { S(1, 3, 1), S(2, 1, 4), S_SCALAR };
        sum_case(3, bc, S(2, 3, 4));
        fd_max_ = 40;
        hl_shape big[3] = { S(4, 16, 32, 32), S(4, 16, 32, 32), S(1, 16, 1, 1) };
        sum_case(3, big, S(4, 16, 32, 32));
        fd_max_ = 0;
        hl_shape relu6[2] = { S(2, 3, 4), S_SCALAR };
        variadic_case("Max", 1, 2, relu6, S(2, 3, 4));
        variadic_case("Min", -1, 2, relu6, S(2, 3, 4));
        variadic_case("Max", 1, 3, three, S(2, 3, 4, 5));
        variadic_case("Min", -1, 3, bc, S(2, 3, 4));
        variadic_case("Max", 1, 1, one, S(2, 3));
        max_ties();
        expand_case(S(2, 3, 1, 1), S(2, 3, 4, 5), S(2, 3, 4, 5));  /* SE expand_as */
        expand_case(S(3, 1), S(2, 1, 4), S(2, 3, 4));
        expand_case(S(2, 3, 4), S(1, 1), S(2, 3, 4));              /* no-op */
        expand_case(S(1, 3, 1, 5), S(2, 1, 4, 1), S(2, 3, 4, 5));
    }

    /* shape errors */
    {
        float a[6] = { 0 }, b[4] = { 0 };
        tin ins[2] = { { .shape = S(2, 3), .f = a }, { .shape = S(4), .f = b } };
        check_error("Add [2,3] with [4] does not broadcast", "Add", 14, NULL,
                    2, ins, 1, HL_ERR_SHAPE, "broadcast");
        check_error("MatMul [2,3] x [4] mismatch", "MatMul", 13, NULL, 2, ins,
                    1, HL_ERR_SHAPE, "multiply");
    }
    hl_threadpool_free(test_pool_);
    return tap_done();
}
