/* Test harness for the op kernels: builds an hl_node and hl_attrs by hand
 * (no loader), runs init/shape/forward/backward, and checks them against a
 * naive double-precision reference written in the test: forward values,
 * and backward against central finite differences of that reference. */
#ifndef HL_OPS_HARNESS_H
#define HL_OPS_HARNESS_H

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "op.h"
#include "threadpool.h"
#include "tap.h"

/* ------------------------------------------------------------ attributes */

typedef struct {
    hl_attr a[16];
    int64_t ints[16][16];
    float floats[16][16];
    hl_attrs attrs;
} attr_set;

static void as_reset(attr_set *s)
{
    memset(s, 0, sizeof *s);
    s->attrs.a = s->a;
}

static hl_attr *as_add(attr_set *s, const char *name, hl_attr_type t)
{
    hl_attr *a = &s->a[s->attrs.n++];
    memset(a, 0, sizeof *a);
    a->name = (char *)name;
    a->type = t;
    return a;
}

__attribute__((unused)) static void as_int(attr_set *s, const char *name,
                                           int64_t v)
{
    as_add(s, name, HL_ATTR_INT)->i = v;
}

__attribute__((unused)) static void as_float(attr_set *s, const char *name,
                                             float v)
{
    as_add(s, name, HL_ATTR_FLOAT)->f = v;
}

__attribute__((unused)) static void as_string(attr_set *s, const char *name,
                                              const char *v)
{
    as_add(s, name, HL_ATTR_STRING)->s = (char *)v;
}

__attribute__((unused)) static void as_ints(attr_set *s, const char *name,
                                            int n, const int64_t *v)
{
    int k = s->attrs.n;
    hl_attr *a = as_add(s, name, HL_ATTR_INTS);
    memcpy(s->ints[k], v, sizeof(int64_t) * (size_t)n);
    a->ints = s->ints[k];
    a->n = n;
}

__attribute__((unused)) static void as_floats(attr_set *s, const char *name,
                                              int n, const float *v)
{
    int k = s->attrs.n;
    hl_attr *a = as_add(s, name, HL_ATTR_FLOATS);
    memcpy(s->floats[k], v, sizeof(float) * (size_t)n);
    a->floats = s->floats[k];
    a->n = n;
}

/* ----------------------------------------------------------------- random */

static uint64_t rng_state_ = 0x9E3779B97F4A7C15ull;

static double rnd_uniform(double lo, double hi)
{
    rng_state_ = rng_state_ * 6364136223846793005ull + 1442695040888963407ull;
    double u = (double)(rng_state_ >> 11) / 9007199254740992.0;
    return lo + (hi - lo) * u;
}

__attribute__((unused)) static void rnd_fill(float *x, int64_t n, double lo,
                                             double hi)
{
    for (int64_t i = 0; i < n; i++)
        x[i] = (float)rnd_uniform(lo, hi);
}

/* Distinct values (no ties) in [lo, hi): a shuffled ramp with jitter. */
__attribute__((unused)) static void rnd_distinct(float *x, int64_t n,
                                                 double lo, double hi)
{
    for (int64_t i = 0; i < n; i++)
        x[i] = (float)(lo + (hi - lo) * ((double)i + 0.25 + 0.5 * rnd_uniform(0, 1)) / (double)n);
    for (int64_t i = n - 1; i > 0; i--) {
        int64_t j = (int64_t)(rnd_uniform(0, 1) * (double)(i + 1));
        if (j > i)
            j = i;
        float t = x[i];
        x[i] = x[j];
        x[j] = t;
    }
}

/* Values away from 0 by at least gap (for Relu-like kinks). */
__attribute__((unused)) static void rnd_away(float *x, int64_t n, double gap)
{
    for (int64_t i = 0; i < n; i++) {
        double v = rnd_uniform(gap, 1.0);
        x[i] = (float)(rnd_uniform(0, 1) < 0.5 ? -v : v);
    }
}

#define S(...) shp_n((int64_t[]){ __VA_ARGS__ }, \
                     (int)(sizeof((int64_t[]){ __VA_ARGS__ }) / sizeof(int64_t)))
__attribute__((unused)) static hl_shape shp_n(const int64_t *d, int n)
{
    hl_shape s = { .ndim = n };
    for (int i = 0; i < n; i++)
        s.dims[i] = d[i];
    return s;
}
static const hl_shape S_SCALAR = { .ndim = 0 };

/* -------------------------------------------------------------- op cases */

/* One input of a case. */
typedef struct {
    hl_shape shape;
    hl_dtype dtype;     /* 0 = float */
    float *f;
    int64_t *i;
    int grad;           /* check the gradient w.r.t. this input */
    int absent;         /* omitted optional input */
    int constant;       /* known at load time (passed to init with data) */
} tin;

typedef struct {
    const hl_op *op;
    hl_node node;
    hl_tensor in[HL_MAX_IO];
    hl_tensor out[HL_MAX_IO];
    float *scratch;
    int n_in;
} op_case;

static void oc_free(op_case *c)
{
    if (c->op && c->op->free_params)
        c->op->free_params(&c->node);
    else
        free(c->node.params);
    c->node.params = NULL;
    for (int o = 0; o < c->node.n_out; o++) {
        free(c->out[o].data);
        free(c->out[o].i64);
    }
    free(c->scratch);
    memset(c, 0, sizeof *c);
}

/* init + shape; allocates outputs. Returns the status of the first failure. */
static hl_status oc_setup(op_case *c, const char *op_type, int opset,
                          const attr_set *as, int n_in, const tin *ins,
                          int n_out, hl_error *err)
{
    memset(c, 0, sizeof *c);
    c->op = hl_op_find(op_type);
    if (!c->op)
        return hl_error_set(err, HL_ERR_UNSUPPORTED, "no op %s", op_type);
    c->n_in = n_in;
    hl_node *n = &c->node;
    n->op = hl_op_index(op_type);
    n->name = (char *)"test";
    n->op_type = (char *)op_type;
    n->opset = opset;
    n->n_in = n_in;
    n->n_out = n_out;
    hl_tensor init_in[HL_MAX_IO];
    for (int i = 0; i < n_in; i++) {
        n->in[i] = ins[i].absent ? -1 : i;
        hl_tensor *t = &c->in[i];
        memset(t, 0, sizeof *t);
        if (ins[i].absent) {
            t->shape.ndim = -1;
        } else {
            t->shape = ins[i].shape;
            t->dtype = ins[i].dtype ? ins[i].dtype : HL_DT_FLOAT;
            t->data = t->dtype == HL_DT_FLOAT ? ins[i].f : NULL;
            t->i64 = t->dtype == HL_DT_INT64 ? ins[i].i : NULL;
        }
        init_in[i] = *t;
        if (!ins[i].constant && !(t->dtype == HL_DT_INT64)) {
            init_in[i].data = NULL;
            init_in[i].i64 = NULL;
        }
    }
    for (int o = 0; o < n_out; o++)
        n->out[o] = n_in + o;
    attr_set empty;
    if (!as) {
        as_reset(&empty);
        as = &empty;
    }
    hl_status st = c->op->init ? c->op->init(n, &as->attrs, init_in, err)
                               : HL_OK;
    if (st || (c->op->flags & HL_OP_ALIAS))
        return st;  /* an alias op has init() only: the loader removes it */
    /* shape(): only plan-time values carry data */
    hl_tensor shape_in[HL_MAX_IO];
    for (int i = 0; i < n_in; i++) {
        shape_in[i] = c->in[i];
        if (!ins[i].absent && !ins[i].constant &&
            c->in[i].dtype == HL_DT_FLOAT)
            shape_in[i].data = NULL;
    }
    st = c->op->shape(n, shape_in, c->out, err);
    if (st)
        return st;
    for (int o = 0; o < n_out; o++) {
        hl_tensor *t = &c->out[o];
        if (t->dtype == 0)
            t->dtype = HL_DT_FLOAT;
        size_t cnt = (size_t)hl_shape_numel(&t->shape) + 1;
        if (t->dtype == HL_DT_INT64)
            t->i64 = calloc(cnt, sizeof(int64_t));
        else
            t->data = calloc(cnt, sizeof(float));
    }
    size_t sf = c->op->scratch_floats ? c->op->scratch_floats(n, c->in, c->out)
                                      : 0;
    c->scratch = malloc((sf + 1) * sizeof(float));
    return HL_OK;
}

static void oc_ctx(op_case *c, hl_op_ctx *ctx, hl_threadpool *pool)
{
    memset(ctx, 0, sizeof *ctx);
    ctx->threadpool = pool;
    ctx->threads = hl_threadpool_threads(pool);
    ctx->rule = HL_RULE_GRADIENT;
    ctx->scratch = c->scratch;
}

static void oc_forward(op_case *c, hl_threadpool *pool)
{
    hl_op_ctx ctx;
    oc_ctx(c, &ctx, pool);
    c->op->forward(&c->node, &ctx, c->in, c->out);
}

/* A shared pool of 2 threads for all cases of a test program. */
static hl_threadpool *test_pool_;
/* When > 0, finite differences check only this many elements per input
 * (spread evenly), for the big cases that exercise the threaded paths. */
static int64_t fd_max_ = 0;

/* Naive reference: inputs as doubles (NULL for absent), output doubles. */
typedef void (*ref_fn)(void *ctx, double *const *in, double *out);

static double *to_double(const float *x, int64_t n)
{
    double *d = malloc(sizeof(double) * (size_t)(n > 0 ? n : 1));
    for (int64_t i = 0; i < n; i++)
        d[i] = x ? x[i] : 0.0;
    return d;
}

static double rel_err_d(const float *a, const double *b, int64_t n)
{
    double num = 0, den = 0;
    for (int64_t i = 0; i < n; i++) {
        double d = (double)a[i] - b[i];
        num += d * d;
        den += b[i] * b[i];
    }
    return sqrt(num) / (den > 1e-30 ? sqrt(den) : 1.0);
}

/* Checks shape, forward (threaded and single) and backward of every input
 * with grad set. fd_max: number of elements per input checked by finite
 * differences (0 = all). Emits one TAP line per check. */
static void check_op(const char *label, const char *op_type, int opset,
                     const attr_set *as, int n_in, const tin *ins,
                     hl_shape expect, ref_fn ref, void *refctx)
{
    op_case c;
    hl_error err = { 0 };
    char b1[96], b2[96];
    hl_status st = oc_setup(&c, op_type, opset, as, n_in, ins, 1, &err);
    if (st) {
        tap_ok(0, "%s: setup failed: %s", label, err.msg);
        oc_free(&c);
        return;
    }
    if (!tap_ok(hl_shape_equal(&c.out[0].shape, &expect),
                "%s: output shape %s (expected %s)", label,
                hl_shape_format(&c.out[0].shape, b1, sizeof b1),
                hl_shape_format(&expect, b2, sizeof b2))) {
        oc_free(&c);
        return;
    }
    int64_t on = hl_shape_numel(&expect);
    /* reference forward in double */
    double *din[HL_MAX_IO] = { 0 };
    for (int i = 0; i < n_in; i++)
        if (!ins[i].absent && c.in[i].dtype == HL_DT_FLOAT)
            din[i] = to_double(ins[i].f, hl_shape_numel(&ins[i].shape));
    double *yref = calloc((size_t)on + 1, sizeof(double));
    ref(refctx, din, yref);
    oc_forward(&c, test_pool_);
    double e = rel_err_d(c.out[0].data, yref, on);
    tap_ok(e < 1e-5, "%s: forward rel err %.2e", label, e);
    /* the single-thread path must give the same numbers */
    float *y_mt = malloc(sizeof(float) * (size_t)(on + 1));
    memcpy(y_mt, c.out[0].data, sizeof(float) * (size_t)on);
    oc_forward(&c, NULL);
    double e1 = rel_err_d(y_mt, yref, on);
    /* up to the summation order: the threaded path may run other
     * kernels (oneDNN's per channel part), whose rounding grows with the
     * outputs' size (a 360-term conv sum of ~10 differs by ~1e-5) */
    double diff = 0, ymax = 1;
    for (int64_t k = 0; k < on; k++) {
        diff = fmax(diff, fabs((double)y_mt[k] - c.out[0].data[k]));
        ymax = fmax(ymax, fabs((double)c.out[0].data[k]));
    }
    tap_ok(diff < 1e-5 * (1 + e1) * ymax,
           "%s: threaded == single-thread (max diff %.1e, max |y| %.1f)",
           label, diff, ymax);
    free(y_mt);

    /* backward: random seed gradient */
    float *gy = malloc(sizeof(float) * (size_t)(on + 1));
    rnd_fill(gy, on, -1, 1);
    double *gyd = to_double(gy, on);
    hl_tensor gout[HL_MAX_IO], gin[HL_MAX_IO];
    memset(gout, 0, sizeof gout);
    memset(gin, 0, sizeof gin);
    gout[0].shape = c.out[0].shape;
    gout[0].dtype = HL_DT_FLOAT;
    gout[0].data = gy;
    for (int i = 0; i < n_in; i++) {
        gin[i].shape = c.in[i].shape;
        gin[i].dtype = c.in[i].dtype;
        if (ins[i].grad) {
            int64_t n = hl_shape_numel(&ins[i].shape);
            gin[i].data = malloc(sizeof(float) * (size_t)(n + 1));
            /* backward accumulates: start from a known offset */
            for (int64_t k = 0; k < n; k++)
                gin[i].data[k] = 0.5f;
        }
    }
    hl_op_ctx ctx;
    oc_ctx(&c, &ctx, test_pool_);
    c.op->backward(&c.node, &ctx, c.in, c.out, gout, gin);
    for (int i = 0; i < n_in; i++) {
        if (!ins[i].grad)
            continue;
        int64_t n = hl_shape_numel(&ins[i].shape);
        int64_t m = fd_max_ > 0 && n > fd_max_ ? fd_max_ : n;
        double *fd = calloc((size_t)m + 1, sizeof(double));
        float *an = calloc((size_t)m + 1, sizeof(float));
        double *yp = malloc(sizeof(double) * (size_t)(on + 1));
        for (int64_t q = 0; q < m; q++) {
            int64_t k = m == n ? q : q * n / m;
            double x0 = din[i][k];
            double h = 1e-6 * fmax(1.0, fabs(x0));
            din[i][k] = x0 + h;
            ref(refctx, din, yp);
            double fp = 0;
            for (int64_t j = 0; j < on; j++)
                fp += yp[j] * gyd[j];
            din[i][k] = x0 - h;
            ref(refctx, din, yp);
            double fm = 0;
            for (int64_t j = 0; j < on; j++)
                fm += yp[j] * gyd[j];
            din[i][k] = x0;
            fd[q] = (fp - fm) / (2 * h);
            an[q] = gin[i].data[k] - 0.5f;
        }
        double eb = rel_err_d(an, fd, m);
        tap_ok(eb < 1e-4, "%s: backward d/d(input %d) vs finite differences%s, rel err %.2e",
               label, i, m < n ? " (sampled)" : "", eb);
        free(an);
        free(fd);
        free(yp);
        free(gin[i].data);
    }
    for (int i = 0; i < n_in; i++)
        free(din[i]);
    free(gy);
    free(gyd);
    free(yref);
    oc_free(&c);
}

/* Expects init or shape to fail with `want`, message containing `needle`. */
__attribute__((unused))
static void check_error(const char *label, const char *op_type, int opset,
                        const attr_set *as, int n_in, const tin *ins,
                        int n_out, hl_status want, const char *needle)
{
    op_case c;
    hl_error err = { 0 };
    hl_status st = oc_setup(&c, op_type, opset, as, n_in, ins, n_out, &err);
    tap_ok(st == want && (!needle || strstr(err.msg, needle)),
           "%s: error %s \"%s\"", label, hl_status_name(st), err.msg);
    oc_free(&c);
}

#endif
