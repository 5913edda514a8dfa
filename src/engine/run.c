/* Runs: plans per input shape, forward, overrides, backward with rules.
 *
 * A plan gives every value its shape at the run's batch; STATIC values
 * (Shape chains) are evaluated then. All activations and gradients of a
 * run live in one block that grows to the largest batch seen and is
 * reused, so repeated calls at a known batch size allocate nothing.
 * Forward keeps every activation: backward and the hooks need them.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <time.h>

#include <cblas.h>

#include "graph.h"

/* ------------------------------------------------------------------ plans */

static hl_status node_error(const hl_model *m, const hl_node *n, hl_status st,
                            const char *msg, hl_error *err)
{
    return hl_error_set(err, st, "%s: node '%s' (%s): %s", m->name, n->name,
                        n->op_type, msg && msg[0] ? msg : hl_status_name(st));
}

/* Element count of a shape without int64 overflow; -1 when a dimension is
 * negative or the count exceeds `cap`. The caps keep hostile files from
 * asking for wrapped or absurd allocations. */
#define HL_MAX_VALUE_ELEMS ((int64_t)1 << 34)  /* one activation */
#define HL_MAX_FOLDED_ELEMS ((int64_t)1 << 28) /* one load/plan-time value */

static int64_t safe_numel(const hl_shape *s, int64_t cap)
{
    if (s->ndim < 0 || s->ndim > HL_MAX_DIMS)
        return -1;
    int64_t n = 1;
    for (int i = 0; i < s->ndim; i++) {
        int64_t d = s->dims[i];
        if (d < 0)
            return -1;
        if (d > 0 && n > cap / d)
            return -1;
        n *= d;
    }
    return n;
}

static hl_status too_large(const hl_model *m, const hl_node *n,
                           const hl_shape *s, hl_error *err)
{
    char b[256], msg[400];
    hl_shape_format(s, b, sizeof b);
    snprintf(msg, sizeof msg, "output shape %s is invalid or too large", b);
    return hl_error_set(err, HL_ERR_SHAPE, "%s: node '%s' (%s): %s", m->name,
                        n->name, n->op_type, msg);
}

hl_status hl_node_evaluate(const hl_model *m, const hl_node *n,
                           const hl_tensor *in, hl_tensor *out,
                           hl_arena *arena, hl_error *err)
{
    const hl_op *op = hl_op_get(n->op);
    hl_error e = {0};
    hl_status st = op->shape(n, in, out, &e);
    if (st)
        return node_error(m, n, st, e.msg, err);
    for (int o = 0; o < n->n_out; o++) {
        if (n->out[o] < 0)
            continue;
        if (out[o].dtype == 0)
            out[o].dtype = HL_DT_FLOAT;
        if (safe_numel(&out[o].shape, HL_MAX_FOLDED_ELEMS) < 0)
            return too_large(m, n, &out[o].shape, err);
        size_t numel = (size_t)hl_shape_numel(&out[o].shape);
        void *p = hl_arena_alloc(arena, numel * hl_dtype_size(out[o].dtype));
        if (!p)
            return hl_error_set(err, HL_ERR_NOMEM, "%s: out of memory",
                                m->name);
        out[o].data = out[o].dtype == HL_DT_FLOAT ? p : NULL;
        out[o].i64 = out[o].dtype == HL_DT_INT64 ? p : NULL;
    }
    int all_float = 1;
    for (int i = 0; i < n->n_in; i++)
        if (n->in[i] >= 0 && in[i].dtype != HL_DT_FLOAT)
            all_float = 0;
    for (int o = 0; o < n->n_out; o++)
        if (n->out[o] >= 0 && out[o].dtype != HL_DT_FLOAT)
            all_float = 0;
    st = HL_ERR_UNSUPPORTED;
    if (op->fold) {
        st = op->fold(n, in, out, &e);
        if (st && st != HL_ERR_UNSUPPORTED)
            return node_error(m, n, st, e.msg, err);
    }
    if (st && all_float && op->forward) {
        size_t sf = op->scratch_floats ? op->scratch_floats(n, in, out) : 0;
        hl_op_ctx ctx = {0};
        ctx.threads = 1;
        ctx.rule = HL_RULE_GRADIENT;
        ctx.scratch = hl_arena_alloc(arena, (sf + 1) * sizeof(float));
        if (!ctx.scratch)
            return hl_error_set(err, HL_ERR_NOMEM, "%s: out of memory",
                                m->name);
        op->forward(n, &ctx, in, out);
        st = HL_OK;
    }
    if (st) {
        st = hl_fold_extra(n, in, out, &e);
        if (st)
            return node_error(m, n, st,
                              "cannot evaluate this op on constant int64 "
                              "inputs at load time", err);
    }
    return HL_OK;
}

static hl_status plan_reserve(hl_plan *p, int n_values)
{
    if (p->t && p->n_values == n_values)
        return HL_OK;
    free(p->t);
    p->t = calloc((size_t)n_values + 1, sizeof *p->t);
    p->n_values = p->t ? n_values : 0;
    return p->t ? HL_OK : HL_ERR_NOMEM;
}

hl_status hl_plan_compute(const hl_model *m, hl_plan *p,
                          const hl_shape *input_shapes, int check_batch,
                          hl_error *err)
{
    if (plan_reserve(p, m->n_values))
        return hl_error_set(err, HL_ERR_NOMEM, "%s: out of memory", m->name);
    hl_arena_reset(&p->statics);
    p->scratch_floats = 0;
    for (int v = 0; v < m->n_values; v++) {
        const hl_value *val = &m->values[v];
        memset(&p->t[v], 0, sizeof p->t[v]);
        if (val->kind == HL_VAL_CONST && val->alias < 0) {
            p->t[v].shape = val->shape;
            p->t[v].dtype = val->dtype;
            p->t[v].data = val->data;
            p->t[v].i64 = val->i64;
        }
    }
    for (int i = 0; i < m->n_inputs; i++) {
        hl_tensor *t = &p->t[m->inputs[i]];
        t->shape = input_shapes[i];
        t->dtype = HL_DT_FLOAT;
    }
    for (int k = 0; k < m->n_nodes; k++) {
        const hl_node *n = &m->nodes[k];
        const hl_op *op = hl_op_get(n->op);
        hl_tensor in[HL_MAX_IO], out[HL_MAX_IO];
        memset(out, 0, sizeof out);
        for (int i = 0; i < n->n_in; i++) {
            if (n->in[i] >= 0)
                in[i] = p->t[n->in[i]];
            else {
                memset(&in[i], 0, sizeof in[i]);
                in[i].shape.ndim = -1;
            }
        }
        hl_status st;
        if (m->node_kind[k] == HL_VAL_STATIC) {
            st = hl_node_evaluate(m, n, in, out, &p->statics, err);
            if (st)
                return st;
        } else {
            hl_error e = {0};
            st = op->shape(n, in, out, &e);
            if (st)
                return node_error(m, n, st, e.msg, err);
            if (op->scratch_floats) {
                size_t sf = op->scratch_floats(n, in, out);
                if (sf > p->scratch_floats)
                    p->scratch_floats = sf;
            }
        }
        for (int o = 0; o < n->n_out; o++) {
            int v = n->out[o];
            if (v < 0)
                continue;
            if (out[o].dtype == 0)
                out[o].dtype = HL_DT_FLOAT;
            if (m->node_kind[k] == HL_VAL_DYNAMIC) {
                out[o].data = NULL;
                out[o].i64 = NULL;
            }
            p->t[v] = out[o];
            if (safe_numel(&out[o].shape, HL_MAX_VALUE_ELEMS) < 0)
                return too_large(m, n, &out[o].shape, err);
            if (check_batch > 0 && m->node_kind[k] == HL_VAL_DYNAMIC &&
                m->shape1 && m->shape1[v].ndim > 0 &&
                m->shape1[v].dims[0] == 1 &&
                (out[o].shape.ndim < 1 || out[o].shape.dims[0] != check_batch)) {
                char b1[128], bn[128];
                hl_shape_format(&m->shape1[v], b1, sizeof b1);
                hl_shape_format(&out[o].shape, bn, sizeof bn);
                char msg[400];
                snprintf(msg, sizeof msg,
                         "output '%s' is %s at batch 1 but %s at batch %d: "
                         "the model does not keep a free batch dimension "
                         "(exported with a fixed batch size?)",
                         m->values[v].name, b1, bn, check_batch);
                return node_error(m, n, HL_ERR_SHAPE, msg, err);
            }
        }
    }
    for (int v = 0; v < m->n_values; v++)
        if (m->values[v].alias >= 0) {
            int r = hl_model_resolve(m, v);
            if (m->values[v].scale)
                r = m->values[v].alias;
            p->t[v] = p->t[r];
            if (m->values[v].scale) {
                p->t[v].data = NULL;
                p->t[v].i64 = NULL;
            }
        }
    return HL_OK;
}

void hl_plan_free(hl_plan *p)
{
    free(p->t);
    p->t = NULL;
    p->n_values = 0;
    hl_arena_free(&p->statics);
}

/* ------------------------------------------------------------------ runs */

struct hl_run {
    const hl_model *m;
    hl_pool *pool;
    int threads;

    hl_plan plan;
    int planned;
    int n_plan_inputs;
    hl_shape plan_shapes[HL_MAX_IO];
    int batch;

    unsigned char *mem;       /* activations, gradients, scratch */
    size_t mem_size;
    size_t mem_used;          /* of mem_size, by the current layout */
    float *scratch;
    float **grad;             /* per value; NULL for non-float/non-dynamic */
    const float **override;   /* per value, borrowed */
    unsigned char *overridden; /* per value: forward takes it from outside */
    unsigned char *requires_grad;
    unsigned char *grad_valid;
    unsigned char *derived_ready, *derived_grad_ready;
    int forward_done;
    int backward_stop;        /* hl_run_set_backward_stop, -1 = none */
    /* HL_PROFILE set in the environment: seconds per node (forward,
     * backward) and of the gradient clearing, printed by hl_run_free */
    double *prof_fwd, *prof_bwd;
    double prof_clear;
    long prof_forwards, prof_backwards;
    clockid_t prof_clock;
    /* lean memory (hl_run_keep_only) */
    int lean;                  /* asked for: applies from the next forward */
    int layout_lean;           /* the current layout is lean */
    int laid_out;              /* memory laid out for the plan and `kept` */
    unsigned char *keep_user;  /* per value: listed by the caller */
    unsigned char *kept, *kept_next; /* per value: readable in a lean run */
    unsigned char *zeroed;     /* per value: gradient zeroed (lean backward) */
    unsigned char *masked;     /* per node: backward from a bit mask */
    uint32_t **mask_words;     /* per node: the mask (x > lo && x < hi) */
    float *mask_lo, *mask_hi;  /* per node: the bounds */
};

static double prof_now_clock(clockid_t clock)
{
    struct timespec ts;
    clock_gettime(clock, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

#define prof_now() prof_now_clock(r->prof_clock)

/* Per-node table of a profiled run, slowest first, on stderr. */
static void prof_print(const hl_run *r)
{
    const hl_model *m = r->m;
    int n = m->n_nodes;
    int *order = malloc(sizeof *order * (size_t)(n + 1));
    if (!order)
        return;
    double total_f = 0, total_b = 0;
    for (int k = 0; k < n; k++) {
        order[k] = k;
        total_f += r->prof_fwd[k];
        total_b += r->prof_bwd[k];
    }
    for (int i = 1; i < n; i++) /* insertion sort by forward + backward */
        for (int j = i; j > 0; j--) {
            int a = order[j - 1], b = order[j];
            if (r->prof_fwd[a] + r->prof_bwd[a] >= r->prof_fwd[b] + r->prof_bwd[b])
                break;
            order[j - 1] = b;
            order[j] = a;
        }
    double fw = r->prof_forwards ? 1e3 / (double)r->prof_forwards : 0;
    double bw = r->prof_backwards ? 1e3 / (double)r->prof_backwards : 0;
    fprintf(stderr, "HL_PROFILE %s, batch %d, %d threads, %ld forwards, "
            "%ld backwards (ms per call, %s)\n", m->name, r->batch, r->threads,
            r->prof_forwards, r->prof_backwards,
            r->prof_clock == CLOCK_MONOTONIC ? "wall" : "CPU of the caller");
    fprintf(stderr, "  forward total %.3f  backward total %.3f  "
            "(of which clearing gradients %.3f)\n", total_f * fw,
            total_b * bw, r->prof_clear * bw);
    for (int i = 0; i < n; i++) {
        int k = order[i];
        if (r->prof_fwd[k] + r->prof_bwd[k] <= 0)
            continue;
        char shape[128] = "";
        const hl_node *nd = &m->nodes[k];
        if (nd->out[0] >= 0 && r->planned)
            hl_shape_format(&r->plan.t[nd->out[0]].shape, shape, sizeof shape);
        fprintf(stderr, "  %8.3f %8.3f  %-18s %-40s %s\n", r->prof_fwd[k] * fw,
                r->prof_bwd[k] * bw, nd->op_type, nd->name, shape);
    }
    free(order);
}

hl_run *hl_run_new(const hl_model *m, int threads)
{
    if (!m)
        return NULL;
    hl_run *r = calloc(1, sizeof *r);
    if (!r)
        return NULL;
    r->m = m;
    if (threads <= 0) {
        long n = sysconf(_SC_NPROCESSORS_ONLN);
        threads = n > 0 ? (int)n : 1;
    }
    r->threads = threads;
    r->pool = threads > 1 ? hl_pool_new(threads) : NULL;
    if (!r->pool)
        r->threads = 1;
    /* OpenBLAS stays single-threaded: our pool splits each GEMM
     * (sgemm.c), so no idle OpenBLAS thread spins against the pool. */
    openblas_set_num_threads(1);
    size_t nv = (size_t)m->n_values + 1;
    r->grad = calloc(nv, sizeof *r->grad);
    r->override = calloc(nv, sizeof *r->override);
    r->overridden = calloc(nv, 1);
    r->backward_stop = -1;
    r->requires_grad = calloc(nv, 1);
    r->grad_valid = calloc(nv, 1);
    r->derived_ready = calloc(nv, 1);
    r->derived_grad_ready = calloc(nv, 1);
    size_t nn = (size_t)m->n_nodes + 1;
    r->keep_user = calloc(nv, 1);
    r->kept = calloc(nv, 1);
    r->kept_next = calloc(nv, 1);
    r->zeroed = calloc(nv, 1);
    r->masked = calloc(nn, 1);
    r->mask_words = calloc(nn, sizeof *r->mask_words);
    r->mask_lo = calloc(nn, sizeof *r->mask_lo);
    r->mask_hi = calloc(nn, sizeof *r->mask_hi);
    const char *prof = getenv("HL_PROFILE");
    /* HL_PROFILE=cpu: CPU time of the calling thread instead of wall time
     * (meaningful with one thread on a busy machine) */
    r->prof_clock = prof && strcmp(prof, "cpu") == 0 ? CLOCK_THREAD_CPUTIME_ID
                                                     : CLOCK_MONOTONIC;
    if (prof && prof[0] && strcmp(prof, "0") != 0) {
        r->prof_fwd = calloc((size_t)m->n_nodes + 1, sizeof *r->prof_fwd);
        r->prof_bwd = calloc((size_t)m->n_nodes + 1, sizeof *r->prof_bwd);
    }
    if (!r->grad || !r->override || !r->overridden || !r->requires_grad ||
        !r->grad_valid || !r->derived_ready || !r->derived_grad_ready ||
        !r->keep_user || !r->kept || !r->kept_next || !r->zeroed ||
        !r->masked || !r->mask_words || !r->mask_lo || !r->mask_hi) {
        hl_run_free(r);
        return NULL;
    }
    return r;
}

void hl_run_free(hl_run *r)
{
    if (!r)
        return;
    if (r->prof_fwd && r->prof_bwd)
        prof_print(r);
    free(r->prof_fwd);
    free(r->prof_bwd);
    hl_pool_free(r->pool);
    hl_plan_free(&r->plan);
    free(r->mem);
    free(r->grad);
    free(r->override);
    free(r->overridden);
    free(r->requires_grad);
    free(r->grad_valid);
    free(r->derived_ready);
    free(r->derived_grad_ready);
    free(r->keep_user);
    free(r->kept);
    free(r->kept_next);
    free(r->zeroed);
    free(r->masked);
    free(r->mask_words);
    free(r->mask_lo);
    free(r->mask_hi);
    free(r);
}

const hl_model *hl_run_model(const hl_run *r)
{
    return r->m;
}

int hl_run_batch(const hl_run *r)
{
    return r->forward_done ? r->batch : 0;
}

static int is_derived(const hl_model *m, int v)
{
    return m->values[v].alias >= 0 && m->values[v].scale != NULL;
}

/* Values that hold their own memory in a run: dynamic values computed by
 * nodes or fed as inputs, and the pre-BN values of folded convs. */
static int has_memory(const hl_model *m, int v)
{
    const hl_value *val = &m->values[v];
    if (val->kind != HL_VAL_DYNAMIC)
        return 0;
    return val->alias < 0 || val->scale != NULL;
}

#define HL_RUN_ALIGN 64

static size_t round_up(size_t n)
{
    return (n + HL_RUN_ALIGN - 1) / HL_RUN_ALIGN * HL_RUN_ALIGN;
}

/* The run's block. A big one is 2 MiB aligned and asked to be backed by
 * transparent huge pages: a new run at batch 32-50 touches gigabytes for
 * the first time, and with 4 KiB pages that first touch (about 800k page
 * faults for MobileNet V2 forward + backward at batch 32) cost more than
 * the arithmetic (IG 200 steps at batch 50: 48.7 s -> 29.2 s wall). */
#define HL_RUN_HUGE ((size_t)2 << 20)

static void *run_mem_alloc(size_t *bytes)
{
    if (*bytes < 2 * HL_RUN_HUGE)
        return aligned_alloc(HL_RUN_ALIGN, *bytes);
    size_t n = (*bytes + HL_RUN_HUGE - 1) / HL_RUN_HUGE * HL_RUN_HUGE;
    void *p = aligned_alloc(HL_RUN_HUGE, n);
#ifdef MADV_HUGEPAGE
    if (p)
        (void)madvise(p, n, MADV_HUGEPAGE); /* a hint: failure is harmless */
#endif
    if (p)
        *bytes = n;
    return p;
}

/* ------------------------------------------------------ memory layout */

/* Does node k's backward read the data of its input (is_out = 0) or output
 * (is_out = 1) in `slot`, under the gradient, guided and deconvolution
 * rules? Only ops whose kernels were checked say no; every other op
 * keeps all its inputs and outputs. A node with a backward mask (Relu,
 * Clip in a lean run) reads neither its input nor its output. */
static int bwd_reads(const hl_run *r, int k, int is_out, int slot)
{
    const hl_model *m = r->m;
    const hl_node *n = &m->nodes[k];
    const char *t = n->op_type;
    if (r->masked[k])
        return is_out || slot == 0 ? 0 : 1;
    if (strcmp(t, "Conv") == 0)          /* weights and shapes only */
        return is_out ? 0 : slot != 0;
    if (strcmp(t, "Gemm") == 0 || strcmp(t, "MatMul") == 0) {
        /* dA uses B and dB uses A: A is read when B needs a gradient */
        if (is_out || slot > 1)
            return is_out ? 0 : 1;
        int other = n->in[1 - slot];
        return other >= 0 &&
               m->values[hl_model_resolve(m, other)].kind == HL_VAL_DYNAMIC;
    }
    if (strcmp(t, "Add") == 0 || strcmp(t, "Sub") == 0 ||
        strcmp(t, "AveragePool") == 0 ||
        strcmp(t, "GlobalAveragePool") == 0 ||
        strcmp(t, "ReduceMean") == 0 || strcmp(t, "Flatten") == 0 ||
        strcmp(t, "Reshape") == 0 || strcmp(t, "Squeeze") == 0 ||
        strcmp(t, "Unsqueeze") == 0 || strcmp(t, "Identity") == 0 ||
        strcmp(t, "Dropout") == 0 || strcmp(t, "Concat") == 0)
        return 0;                        /* shapes only */
    if (strcmp(t, "MaxPool") == 0 || strcmp(t, "Relu") == 0 ||
        strcmp(t, "Clip") == 0)          /* the input, not the output */
        return !is_out;
    return 1;
}

/* Relu and Clip nodes whose backward can run from a bit mask of the
 * forward input (x > lo && x < hi): in a lean run the mask replaces the
 * input, which then need not survive until backward. The Clip bounds
 * must be known at plan time (attributes or constant inputs). */
static int mask_bounds(const hl_run *r, int k, float *lo, float *hi)
{
    const hl_model *m = r->m;
    const hl_node *n = &m->nodes[k];
    int relu = strcmp(n->op_type, "Relu") == 0;
    if (!relu && strcmp(n->op_type, "Clip") != 0)
        return 0;
    if (n->n_in < 1 || n->in[0] < 0 || n->n_out != 1 || n->out[0] < 0 ||
        r->plan.t[n->in[0]].dtype != HL_DT_FLOAT)
        return 0;
    *lo = relu ? 0.0f : -INFINITY;
    *hi = INFINITY;
    if (relu)
        return 1;
    /* the bounds exactly as activation.c reads them */
    if (n->opset < 11) {
        *lo = hl_attrs_float(&m->node_attrs[k], "min", -INFINITY);
        *hi = hl_attrs_float(&m->node_attrs[k], "max", INFINITY);
        return 1;
    }
    for (int i = 1; i <= 2 && i < n->n_in; i++) {
        if (n->in[i] < 0)
            continue;
        const hl_tensor *b = &r->plan.t[n->in[i]];
        int v = hl_model_resolve(m, n->in[i]);
        if (m->values[v].kind == HL_VAL_DYNAMIC || !b->data)
            return 0;
        if (i == 1)
            *lo = b->data[0];
        else
            *hi = b->data[0];
    }
    return 1;
}

typedef struct mem_item {
    size_t bytes, offset;
    int start, end;     /* steps, inclusive */
    void **slot;        /* where the address goes */
} mem_item;

static int item_by_size(const void *a, const void *b)
{
    const mem_item *x = *(const mem_item *const *)a,
                   *y = *(const mem_item *const *)b;
    if (x->bytes != y->bytes)
        return x->bytes < y->bytes ? 1 : -1;
    return x < y ? -1 : x > y;
}

static int item_by_offset(const void *a, const void *b)
{
    const mem_item *x = *(const mem_item *const *)a,
                   *y = *(const mem_item *const *)b;
    if (x->offset != y->offset)
        return x->offset < y->offset ? -1 : 1;
    return 0;
}

/* Offsets for items whose step intervals overlap are disjoint: largest
 * first, each at the lowest gap that fits among the items already placed
 * that are alive at the same time. Returns the total size. */
static size_t place_items(mem_item *it, int n, mem_item **order,
                          mem_item **busy)
{
    size_t total = 0;
    for (int i = 0; i < n; i++)
        order[i] = &it[i];
    qsort(order, (size_t)n, sizeof *order, item_by_size);
    for (int i = 0; i < n; i++) {
        mem_item *a = order[i];
        int nb = 0;
        for (int j = 0; j < i; j++) {
            mem_item *b = order[j];
            if (b->start <= a->end && a->start <= b->end)
                busy[nb++] = b;
        }
        qsort(busy, (size_t)nb, sizeof *busy, item_by_offset);
        size_t off = 0;
        for (int j = 0; j < nb; j++) {
            if (busy[j]->offset >= off + a->bytes)
                break;
            if (busy[j]->offset + busy[j]->bytes > off)
                off = busy[j]->offset + busy[j]->bytes;
        }
        a->offset = off;
        if (off + a->bytes > total)
            total = off + a->bytes;
    }
    return total;
}

/* Fills `kept` (per value) with what a lean run keeps readable: the
 * caller's values, the graph inputs and outputs, and overridden values,
 * each with what it aliases (a pre-BN value keeps its conv output too). */
static void lean_keep_set(const hl_run *r, unsigned char *kept)
{
    const hl_model *m = r->m;
    memset(kept, 0, (size_t)m->n_values);
    for (int v = 0; v < m->n_values; v++) {
        int want = r->keep_user[v] || r->override[v] != NULL;
        if (!want)
            continue;
        kept[v] = 1;
        if (m->values[v].alias >= 0)
            kept[is_derived(m, v) ? m->values[v].alias
                                  : hl_model_resolve(m, v)] = 1;
    }
    for (int i = 0; i < m->n_inputs; i++)
        kept[m->inputs[i]] = 1;
    for (int i = 0; i < m->n_outputs; i++) {
        kept[m->outputs[i]] = 1;
        kept[hl_model_resolve(m, m->outputs[i])] = 1;
    }
    /* plain aliases are readable when their target is */
    for (int v = 0; v < m->n_values; v++)
        if (m->values[v].alias >= 0 && !is_derived(m, v) &&
            kept[hl_model_resolve(m, v)])
            kept[v] = 1;
}

/* The lean layout: every buffer lives over an interval of steps (node k
 * runs forward at step k and backward at step 2K-1-k) and buffers whose
 * intervals do not meet share memory. Kept values, their gradients,
 * activations that backward reads and backward masks live to the end
 * (several backwards may follow one forward). */
static hl_status lean_items(hl_run *r, mem_item **items_out, int *n_out)
{
    const hl_model *m = r->m;
    int K = m->n_nodes, END = 2 * K;
    int nv = m->n_values;
    int *a_start = malloc(sizeof(int) * (size_t)(4 * nv + 1));
    mem_item *it = calloc((size_t)(2 * nv + K + 1), sizeof *it);
    if (!a_start || !it) {
        free(a_start);
        free(it);
        return HL_ERR_NOMEM;
    }
    int *a_end = a_start + nv, *g_start = a_end + nv, *g_end = g_start + nv;
    for (int v = 0; v < nv; v++) {
        int p = m->values[v].producer;
        a_start[v] = a_end[v] = p >= 0 ? p : 0;
        g_start[v] = END + 1;              /* no consumer: no gradient */
        g_end[v] = p >= 0 ? END - 1 - p : END;
    }
    for (int k = 0; k < K; k++) {
        if (m->node_kind[k] != HL_VAL_DYNAMIC)
            continue;
        const hl_node *n = &m->nodes[k];
        for (int i = 0; i < n->n_in; i++) {
            if (n->in[i] < 0)
                continue;
            int v = hl_model_resolve(m, n->in[i]);
            if (a_end[v] < k)
                a_end[v] = k;
            if (bwd_reads(r, k, 0, i))
                a_end[v] = END;
            if (g_start[v] > END - 1 - k)
                g_start[v] = END - 1 - k;
        }
        for (int o = 0; o < n->n_out; o++)
            if (n->out[o] >= 0 && bwd_reads(r, k, 1, o))
                a_end[hl_model_resolve(m, n->out[o])] = END;
    }
    int n = 0;
    for (int v = 0; v < nv; v++) {
        if (!has_memory(m, v))
            continue;
        hl_tensor *t = &r->plan.t[v];
        size_t bytes = round_up((size_t)hl_shape_numel(&t->shape) *
                                hl_dtype_size(t->dtype));
        int derived = is_derived(m, v);
        if (derived && !r->kept[v]) {
            t->data = NULL;                /* not readable, never computed */
            continue;
        }
        mem_item *a = &it[n++];
        a->bytes = bytes;
        a->start = r->kept[v] || derived ? 0 : a_start[v];
        a->end = r->kept[v] || derived ? END : a_end[v];
        a->slot = t->dtype == HL_DT_FLOAT ? (void **)&t->data
                                          : (void **)&t->i64;
        if (t->dtype != HL_DT_FLOAT)
            continue;
        if (!r->kept[v] && !derived && g_start[v] > g_end[v])
            continue;                      /* no consumer, not kept */
        mem_item *g = &it[n++];
        g->bytes = bytes;
        g->start = r->kept[v] || derived ? 0 : g_start[v];
        g->end = r->kept[v] || derived ? END : g_end[v];
        g->slot = (void **)&r->grad[v];
    }
    for (int k = 0; k < K; k++) {
        float lo, hi;
        if (!r->masked[k] || !mask_bounds(r, k, &lo, &hi))
            continue;
        r->mask_lo[k] = lo;
        r->mask_hi[k] = hi;
        size_t numel = (size_t)hl_shape_numel(&r->plan.t[m->nodes[k].in[0]].shape);
        mem_item *b = &it[n++];
        b->bytes = round_up((numel + 31) / 32 * sizeof(uint32_t));
        b->start = k;
        b->end = END;
        b->slot = (void **)&r->mask_words[k];
    }
    free(a_start);
    *items_out = it;
    *n_out = n;
    return HL_OK;
}

/* Lays out the run's memory for the current plan: every value and
 * gradient its own buffer (default), or the lean layout. */
static hl_status run_layout(hl_run *r, hl_error *err)
{
    const hl_model *m = r->m;
    size_t scratch = round_up((r->plan.scratch_floats + 1) * sizeof(float));
    mem_item *items = NULL;
    int n_items = 0;
    size_t need = scratch;
    r->laid_out = 0;
    for (int v = 0; v < m->n_values; v++)
        r->grad[v] = NULL;
    for (int k = 0; k < m->n_nodes; k++) {
        r->mask_words[k] = NULL;
        r->masked[k] = 0;
    }
    if (r->lean) {
        /* which nodes get masks is decided first: it changes what
         * backward reads */
        for (int k = 0; k < m->n_nodes; k++) {
            float lo, hi;
            r->masked[k] = m->node_kind[k] == HL_VAL_DYNAMIC &&
                           mask_bounds(r, k, &lo, &hi);
        }
        mem_item **order = NULL;
        if (lean_items(r, &items, &n_items) == HL_OK)
            order = malloc(sizeof *order * (size_t)(2 * n_items + 1));
        if (!order) {
            free(items);
            return hl_error_set(err, HL_ERR_NOMEM, "%s: out of memory",
                                m->name);
        }
        need += place_items(items, n_items, order, order + n_items);
        free(order);
    } else {
        for (int v = 0; v < m->n_values; v++) {
            if (!has_memory(m, v))
                continue;
            const hl_tensor *t = &r->plan.t[v];
            size_t bytes = round_up((size_t)hl_shape_numel(&t->shape) *
                                    hl_dtype_size(t->dtype));
            need += bytes;
            if (t->dtype == HL_DT_FLOAT)
                need += bytes;
        }
    }
    if (need > r->mem_size) {
        free(r->mem);
        r->mem = run_mem_alloc(&need);
        r->mem_size = r->mem ? need : 0;
        if (!r->mem) {
            free(items);
            return hl_error_set(err, HL_ERR_NOMEM,
                                "%s: out of memory for a batch of %lld "
                                "(%zu MiB)", m->name,
                                (long long)r->plan_shapes[0].dims[0],
                                need >> 20);
        }
    }
    r->mem_used = need;
    unsigned char *p = r->mem;
    r->scratch = (float *)p;
    p += scratch;
    if (r->lean) {
        for (int i = 0; i < n_items; i++)
            *items[i].slot = p + items[i].offset;
        free(items);
    } else {
        /* scratch and activations first, all gradients after them: a run
         * that never calls backward never touches (never faults in) the
         * gradient half, even with 2 MiB pages */
        for (int v = 0; v < m->n_values; v++) {
            if (!has_memory(m, v))
                continue;
            hl_tensor *t = &r->plan.t[v];
            size_t bytes = round_up((size_t)hl_shape_numel(&t->shape) *
                                    hl_dtype_size(t->dtype));
            if (t->dtype == HL_DT_FLOAT)
                t->data = (float *)p;
            else
                t->i64 = (int64_t *)p;
            p += bytes;
        }
        for (int v = 0; v < m->n_values; v++) {
            if (!has_memory(m, v) || r->plan.t[v].dtype != HL_DT_FLOAT)
                continue;
            r->grad[v] = (float *)p;
            p += round_up((size_t)hl_shape_numel(&r->plan.t[v].shape) *
                          sizeof(float));
        }
    }
    /* plain aliases share their target's buffers */
    for (int v = 0; v < m->n_values; v++)
        if (m->values[v].alias >= 0 && !m->values[v].scale) {
            int t = hl_model_resolve(m, v);
            r->plan.t[v] = r->plan.t[t];
            r->grad[v] = r->grad[t];
        }
    r->layout_lean = r->lean;
    r->laid_out = 1;
    return HL_OK;
}

/* Plans for these input shapes (unless already planned) and lays out
 * the run's memory (unless laid out for this plan and keep set). */
static hl_status run_plan(hl_run *r, int n, const hl_shape *shapes,
                          hl_error *err)
{
    const hl_model *m = r->m;
    int same = r->planned && r->n_plan_inputs == n;
    for (int i = 0; same && i < n; i++)
        if (!hl_shape_equal(&shapes[i], &r->plan_shapes[i]))
            same = 0;
    if (!same) {
        r->planned = 0;
        r->laid_out = 0;
        r->forward_done = 0;
        hl_status st = hl_plan_compute(m, &r->plan, shapes,
                                       m->input_shapes[0].dims[0] < 0 &&
                                               shapes[0].dims[0] > 1
                                           ? (int)shapes[0].dims[0]
                                           : 0,
                                       err);
        if (st)
            return st;
        r->n_plan_inputs = n;
        for (int i = 0; i < n; i++)
            r->plan_shapes[i] = shapes[i];
        r->batch = (int)shapes[0].dims[0];
        r->planned = 1;
    }
    if (r->lean) {
        lean_keep_set(r, r->kept_next);
        if (!r->layout_lean ||
            memcmp(r->kept_next, r->kept, (size_t)m->n_values) != 0) {
            memcpy(r->kept, r->kept_next, (size_t)m->n_values);
            r->laid_out = 0;
        }
    } else if (r->layout_lean) {
        r->laid_out = 0;
    }
    if (r->laid_out)
        return HL_OK;
    r->forward_done = 0;
    hl_status st = run_layout(r, err);
    if (st)
        r->planned = 0;  /* nothing half laid out survives */
    return st;
}

size_t hl_run_memory_bytes(const hl_run *r)
{
    return r->laid_out ? r->mem_used : 0;
}

hl_status hl_run_keep_only(hl_run *r, const int *values, int n,
                           hl_error *err)
{
    const hl_model *m = r->m;
    if (n > 0 && !values)
        return hl_error_set(err, HL_ERR_ARG, "%s: no values given", m->name);
    for (int i = 0; i < n; i++)
        if (values[i] < 0 || values[i] >= m->n_values)
            return hl_error_set(err, HL_ERR_ARG, "%s: no value %d", m->name,
                                values[i]);
    memset(r->keep_user, 0, (size_t)m->n_values);
    for (int i = 0; i < n; i++)
        r->keep_user[values[i]] = 1;
    r->lean = n >= 0;
    return HL_OK;
}

/* ------------------------------------------------------------ overrides */

hl_status hl_run_set_override(hl_run *r, int value, const float *data,
                              hl_error *err)
{
    const hl_model *m = r->m;
    if (value < 0 || value >= m->n_values)
        return hl_error_set(err, HL_ERR_ARG, "%s: no value %d", m->name, value);
    int v = is_derived(m, value) ? value : hl_model_resolve(m, value);
    if (m->values[v].kind != HL_VAL_DYNAMIC || !data)
        return hl_error_set(err, HL_ERR_ARG,
                            "%s: value '%s' cannot be overridden (it does not "
                            "depend on the input, or no data given)",
                            m->name, m->values[value].name);
    if (m->dtype1[v] != HL_DT_FLOAT)
        return hl_error_set(err, HL_ERR_ARG,
                            "%s: value '%s' is not a float tensor", m->name,
                            m->values[value].name);
    /* takes effect at the next forward; the values and gradients of the
     * last forward/backward stay readable and consistent until then */
    r->override[v] = data;
    return HL_OK;
}

void hl_run_clear_overrides(hl_run *r)
{
    for (int v = 0; v < r->m->n_values; v++)
        r->override[v] = NULL;
}

/* The channel index of element i of a tensor [N, C, ...]. */
static inline int channel_of(const hl_shape *s, size_t i)
{
    if (s->ndim < 2)
        return 0;
    size_t inner = 1;
    for (int d = 2; d < s->ndim; d++)
        inner *= (size_t)s->dims[d];
    return (int)((i / inner) % (size_t)s->dims[1]);
}

/* Copies an override into its value; for the pre-BN value X of a folded
 * conv, the conv's output Y = (X - shift) / scale. */
static void apply_override(hl_run *r, int v)
{
    const hl_model *m = r->m;
    const hl_value *val = &m->values[v];
    if (!is_derived(m, v)) {
        hl_tensor *t = &r->plan.t[v];
        memcpy(t->data, r->override[v],
               (size_t)hl_shape_numel(&t->shape) * sizeof(float));
        return;
    }
    hl_tensor *y = &r->plan.t[val->alias];
    size_t n = (size_t)hl_shape_numel(&y->shape);
    const float *x = r->override[v];
    for (size_t i = 0; i < n; i++) {
        int c = channel_of(&y->shape, i);
        y->data[i] = (x[i] - val->shift[c]) / val->scale[c];
    }
}

/* ------------------------------------------------------ backward masks */

/* A lean run's Relu/Clip backward from bits (x > lo && x < hi) of the
 * forward input instead of the input itself: the same arithmetic as
 * activation.c's kernels, which only ever look at that comparison under
 * the gradient, guided and deconvolution rules (guided and deconvolution
 * change Relu only). 32 elements per word; work split on word bounds. */
typedef struct mask_job {
    const float *x, *g;
    float *gx;
    uint32_t *bits;
    float lo, hi;
    long n;
    int relu;
    hl_backward_rule rule;
} mask_job;

#if defined(__SSE2__)
#include <emmintrin.h>
#define MASK_SSE 1
#endif

static void mask_make_range(void *arg, long begin, long end)
{
    mask_job *j = arg;
    const float lo = j->lo, hi = j->hi;
    for (long w = begin; w < end; w++) {
        long i0 = w * 32, i1 = i0 + 32 < j->n ? i0 + 32 : j->n;
        uint32_t b = 0;
#ifdef MASK_SSE
        if (i1 - i0 == 32) {
            /* 4 comparisons per instruction; a NaN compares false, as in
             * the scalar loop */
            const __m128 vlo = _mm_set1_ps(lo), vhi = _mm_set1_ps(hi);
            for (int q = 0; q < 8; q++) {
                __m128 v = _mm_loadu_ps(j->x + i0 + 4 * q);
                int in = _mm_movemask_ps(_mm_and_ps(_mm_cmpgt_ps(v, vlo),
                                                    _mm_cmplt_ps(v, vhi)));
                b |= (uint32_t)in << (4 * q);
            }
            j->bits[w] = b;
            continue;
        }
#endif
        for (long i = i0; i < i1; i++)
            b |= (uint32_t)((j->x[i] > lo) & (j->x[i] < hi)) << (i - i0);
        j->bits[w] = b;
    }
}

#ifdef MASK_SSE
/* lanes of 1.0f / 0.0f for each 4-bit group: gx += (float)bit * g exactly
 * as the scalar loop (a product, so an infinite or NaN g masked off still
 * gives NaN, and zeros keep their signs) */
static const float mask_lanes[16][4] = {
    {0, 0, 0, 0}, {1, 0, 0, 0}, {0, 1, 0, 0}, {1, 1, 0, 0},
    {0, 0, 1, 0}, {1, 0, 1, 0}, {0, 1, 1, 0}, {1, 1, 1, 0},
    {0, 0, 0, 1}, {1, 0, 0, 1}, {0, 1, 0, 1}, {1, 1, 0, 1},
    {0, 0, 1, 1}, {1, 0, 1, 1}, {0, 1, 1, 1}, {1, 1, 1, 1},
};
#endif

static void mask_bwd_range(void *arg, long begin, long end)
{
    mask_job *j = arg;
    const float *restrict g = j->g;
    float *restrict gx = j->gx;
    for (long w = begin; w < end; w++) {
        long i0 = w * 32, i1 = i0 + 32 < j->n ? i0 + 32 : j->n;
        uint32_t b = j->bits[w];
        if (j->relu && j->rule == HL_RULE_GUIDED) {
            for (long i = i0; i < i1; i++) {
                float t = (((b >> (i - i0)) & 1u) & (g[i] > 0)) ? g[i] : 0.0f;
                gx[i] += t;
            }
        } else if (j->relu && j->rule == HL_RULE_DECONV) {
            for (long i = i0; i < i1; i++) {
                float t = g[i] > 0 ? g[i] : 0.0f;
                gx[i] += t;
            }
        } else {
#ifdef MASK_SSE
            if (i1 - i0 == 32) {
                for (int q = 0; q < 8; q++) {
                    __m128 m = _mm_loadu_ps(mask_lanes[(b >> (4 * q)) & 15u]);
                    __m128 v = _mm_mul_ps(m, _mm_loadu_ps(g + i0 + 4 * q));
                    _mm_storeu_ps(gx + i0 + 4 * q,
                                  _mm_add_ps(_mm_loadu_ps(gx + i0 + 4 * q), v));
                }
                continue;
            }
#endif
            for (long i = i0; i < i1; i++)
                gx[i] += (float)((b >> (i - i0)) & 1u) * g[i];
        }
    }
}

#define MASK_PAR_MIN (1L << 17)  /* elements worth waking the pool for */

static void mask_run(const hl_run *r, void (*fn)(void *, long, long),
                     mask_job *j)
{
    long words = (j->n + 31) / 32;
    if (r->pool && j->n >= MASK_PAR_MIN)
        hl_pool_for(r->pool, words, fn, j);
    else
        fn(j, 0, words);
}

/* ------------------------------------------------------------ forward */

hl_status hl_run_forward_inputs(hl_run *r, int n, const hl_tensor *inputs,
                                hl_error *err)
{
    const hl_model *m = r->m;
    if (n != m->n_inputs || n > HL_MAX_IO)
        return hl_error_set(err, HL_ERR_ARG, "%s: %d inputs given, the model "
                            "has %d", m->name, n, m->n_inputs);
    hl_shape shapes[HL_MAX_IO];
    for (int i = 0; i < n; i++) {
        shapes[i] = inputs[i].shape;
        if (!inputs[i].data || inputs[i].dtype != HL_DT_FLOAT)
            return hl_error_set(err, HL_ERR_ARG, "%s: input %d has no float "
                                "data", m->name, i);
    }
    hl_status st = run_plan(r, n, shapes, err);
    if (st)
        return st;
    r->forward_done = 0;
    memset(r->grad_valid, 0, (size_t)m->n_values);
    memset(r->derived_ready, 0, (size_t)m->n_values);
    memset(r->derived_grad_ready, 0, (size_t)m->n_values);

    /* which values come from outside; which need gradients */
    memset(r->overridden, 0, (size_t)m->n_values);
    memset(r->requires_grad, 0, (size_t)m->n_values);
    for (int v = 0; v < m->n_values; v++) {
        if (!r->override[v])
            continue;
        int t = is_derived(m, v) ? m->values[v].alias : v;
        r->overridden[t] = 1;
        r->requires_grad[t] = 1;
    }
    for (int i = 0; i < n; i++) {
        int v = m->inputs[i];
        r->requires_grad[v] = 1;
        if (!r->overridden[v])
            memcpy(r->plan.t[v].data, inputs[i].data,
                   (size_t)hl_shape_numel(&shapes[i]) * sizeof(float));
    }
    for (int v = 0; v < m->n_values; v++)
        if (r->override[v] && m->values[v].producer < 0 &&
            !is_derived(m, v))
            apply_override(r, v);

    hl_op_ctx ctx = {0};
    ctx.pool = r->pool;
    ctx.threads = r->threads;
    ctx.rule = HL_RULE_GRADIENT;
    ctx.scratch = r->scratch;
    for (int k = 0; k < m->n_nodes; k++) {
        if (m->node_kind[k] != HL_VAL_DYNAMIC)
            continue;
        const hl_node *nd = &m->nodes[k];
        const hl_op *op = hl_op_get(nd->op);
        hl_tensor in[HL_MAX_IO], out[HL_MAX_IO];
        int all_overridden = 1, any_grad = 0;
        for (int i = 0; i < nd->n_in; i++) {
            if (nd->in[i] < 0) {
                memset(&in[i], 0, sizeof in[i]);
                in[i].shape.ndim = -1;
                continue;
            }
            in[i] = r->plan.t[nd->in[i]];
            if (r->requires_grad[nd->in[i]])
                any_grad = 1;
        }
        for (int o = 0; o < nd->n_out; o++) {
            if (nd->out[o] < 0) {
                memset(&out[o], 0, sizeof out[o]);
                continue;
            }
            out[o] = r->plan.t[nd->out[o]];
            if (!r->overridden[nd->out[o]])
                all_overridden = 0;
        }
        if (!all_overridden) {
            double t0 = r->prof_fwd ? prof_now() : 0;
            op->forward(nd, &ctx, in, out);
            if (r->mask_words[k]) {
                mask_job j = { in[0].data, NULL, NULL, r->mask_words[k],
                               r->mask_lo[k], r->mask_hi[k],
                               (long)hl_shape_numel(&in[0].shape),
                               strcmp(nd->op_type, "Relu") == 0,
                               HL_RULE_GRADIENT };
                mask_run(r, mask_make_range, &j);
            }
            if (r->prof_fwd)
                r->prof_fwd[k] += prof_now() - t0;
        }
        for (int o = 0; o < nd->n_out; o++) {
            int v = nd->out[o];
            if (v < 0)
                continue;
            if (r->overridden[v]) {
                /* the override of v itself, or of its pre-BN alias */
                if (r->override[v]) {
                    apply_override(r, v);
                } else {
                    for (int d = 0; d < m->n_values; d++)
                        if (r->override[d] && is_derived(m, d) &&
                            m->values[d].alias == v)
                            apply_override(r, d);
                }
            } else if (any_grad && r->plan.t[v].dtype == HL_DT_FLOAT) {
                r->requires_grad[v] = 1;
            }
        }
    }
    /* aliases follow their targets */
    for (int v = 0; v < m->n_values; v++)
        if (m->values[v].alias >= 0) {
            int t = m->values[v].scale ? m->values[v].alias
                                        : hl_model_resolve(m, v);
            r->requires_grad[v] = r->requires_grad[t];
        }
    r->forward_done = 1;
    r->prof_forwards++;
    return HL_OK;
}

hl_status hl_run_forward(hl_run *r, const float *input, int batch,
                         hl_error *err)
{
    const hl_model *m = r->m;
    if (!input || batch < 1)
        return hl_error_set(err, HL_ERR_ARG, "%s: forward needs input data "
                            "and a batch size >= 1", m->name);
    hl_tensor t = {0};
    t.shape = m->input_shapes[0];
    t.shape.dims[0] = batch;
    t.dtype = HL_DT_FLOAT;
    t.data = (float *)input;
    return hl_run_forward_inputs(r, 1, &t, err);
}

/* ------------------------------------------------------------ reading */

/* The pre-BN value X = scale * Y + shift, computed on first access. */
static void materialise_derived(hl_run *r, int v)
{
    const hl_model *m = r->m;
    const hl_value *val = &m->values[v];
    hl_tensor *x = &r->plan.t[v];
    const hl_tensor *y = &r->plan.t[val->alias];
    size_t n = (size_t)hl_shape_numel(&y->shape);
    if (r->override[v]) {
        memcpy(x->data, r->override[v], n * sizeof(float));
    } else {
        for (size_t i = 0; i < n; i++) {
            int c = channel_of(&y->shape, i);
            x->data[i] = val->scale[c] * y->data[i] + val->shift[c];
        }
    }
    r->derived_ready[v] = 1;
}

const float *hl_run_value(const hl_run *r, int value, hl_shape *shape)
{
    const hl_model *m = r->m;
    if (value < 0 || value >= m->n_values)
        return NULL;
    const hl_tensor *t = &r->plan.t[value];
    if (!r->planned || t->dtype != HL_DT_FLOAT)
        return NULL;
    if (m->values[value].kind == HL_VAL_DYNAMIC && !r->forward_done)
        return NULL;
    if (r->layout_lean && m->values[value].kind == HL_VAL_DYNAMIC &&
        !r->kept[value])
        return NULL; /* its memory went to other values */
    if (is_derived(m, value) && !r->derived_ready[value])
        materialise_derived((hl_run *)r, value); /* runs are never const objects */
    if (shape)
        *shape = t->shape;
    return t->data;
}

const hl_tensor *hl_run_tensor(const hl_run *r, int value)
{
    if (value < 0 || value >= r->m->n_values || !r->planned)
        return NULL;
    if (r->m->values[value].kind == HL_VAL_DYNAMIC && !r->forward_done)
        return NULL;
    if (r->layout_lean && r->m->values[value].kind == HL_VAL_DYNAMIC &&
        !r->kept[value])
        return NULL;
    if (is_derived(r->m, value) && !r->derived_ready[value])
        materialise_derived((hl_run *)r, value);
    return &r->plan.t[value];
}

const float *hl_run_grad(const hl_run *r, int value, hl_shape *shape)
{
    const hl_model *m = r->m;
    if (value < 0 || value >= m->n_values || !r->grad_valid[value])
        return NULL;
    if (r->layout_lean && !r->kept[value])
        return NULL;
    if (is_derived(m, value) && !r->derived_grad_ready[value]) {
        /* dF/dX = dF/dY / scale, since Y = (X - shift) / scale */
        hl_run *w = (hl_run *)r;
        const hl_value *val = &m->values[value];
        const hl_shape *s = &r->plan.t[val->alias].shape;
        size_t n = (size_t)hl_shape_numel(s);
        const float *gy = r->grad[val->alias];
        float *gx = r->grad[value];
        for (size_t i = 0; i < n; i++)
            gx[i] = gy[i] / val->scale[channel_of(s, i)];
        w->derived_grad_ready[value] = 1;
    }
    if (shape)
        *shape = r->plan.t[value].shape;
    return r->grad[value];
}

const float *hl_run_input_grad(const hl_run *r)
{
    return r->m->n_inputs ? hl_run_grad(r, r->m->inputs[0], NULL) : NULL;
}

/* ------------------------------------------------------------ backward */

static void ref_tensor(const hl_run *ref, int v, hl_tensor *t)
{
    if (v < 0) {
        memset(t, 0, sizeof *t);
        t->shape.ndim = -1;
        return;
    }
    *t = ref->plan.t[v];
}

void hl_run_set_backward_stop(hl_run *r, int value)
{
    const hl_model *m = r->m;
    r->backward_stop = -1;
    if (value < 0 || value >= m->n_values)
        return;
    const hl_value *v = &m->values[value];
    r->backward_stop = v->alias >= 0 && v->scale ? v->alias
                                                 : hl_model_resolve(m, value);
}

/* With a backward stop: per value, 1 when it is the stop or computed from
 * it (r->zeroed, free until the gradients are cleared), else NULL. */
static const unsigned char *backward_below(hl_run *r)
{
    const hl_model *m = r->m;
    if (r->backward_stop < 0)
        return NULL;
    unsigned char *below = r->zeroed;
    memset(below, 0, (size_t)m->n_values);
    below[r->backward_stop] = 1;
    for (int k = 0; k < m->n_nodes; k++) {
        const hl_node *nd = &m->nodes[k];
        int hit = 0;
        for (int i = 0; i < nd->n_in && !hit; i++)
            hit = nd->in[i] >= 0 && below[hl_model_resolve(m, nd->in[i])];
        for (int o = 0; o < nd->n_out && hit; o++)
            if (nd->out[o] >= 0)
                below[nd->out[o]] = 1;
    }
    return below;
}

hl_status hl_run_backward(hl_run *r, int from_value, const float *seed,
                          hl_backward_rule rule, const hl_run *reference,
                          hl_error *err)
{
    const hl_model *m = r->m;
    if (!r->forward_done)
        return hl_error_set(err, HL_ERR_ARG, "%s: backward before forward",
                            m->name);
    if (from_value < 0 || from_value >= m->n_values || !seed)
        return hl_error_set(err, HL_ERR_ARG, "%s: backward needs a value and "
                            "a seed", m->name);
    if (!r->requires_grad[from_value])
        return hl_error_set(err, HL_ERR_ARG,
                            "%s: value '%s' does not depend on the input",
                            m->name, m->values[from_value].name);
    if (rule == HL_RULE_DEEPLIFT) {
        if (!reference || reference->m != m || !reference->forward_done)
            return hl_error_set(err, HL_ERR_ARG,
                                "%s: DeepLift needs a reference run of the "
                                "same model after its forward", m->name);
        if (reference->batch != r->batch && reference->batch != 1)
            return hl_error_set(err, HL_ERR_ARG,
                                "%s: the reference batch (%d) must be 1 or "
                                "this run's batch (%d)", m->name,
                                reference->batch, r->batch);
        if (r->layout_lean || reference->layout_lean)
            return hl_error_set(err, HL_ERR_ARG,
                                "%s: DeepLift needs runs that keep every "
                                "value (no hl_run_keep_only)", m->name);
    } else if (rule != HL_RULE_GRADIENT && rule != HL_RULE_GUIDED &&
               rule != HL_RULE_DECONV) {
        return hl_error_set(err, HL_ERR_ARG, "%s: unknown backward rule %d",
                            m->name, (int)rule);
    }

    if (r->layout_lean && !r->kept[from_value])
        return hl_error_set(err, HL_ERR_ARG,
                            "%s: backward from '%s', which this run does "
                            "not keep (hl_run_keep_only)", m->name,
                            m->values[from_value].name);

    /* the seed goes to the value that is computed: Y for a pre-BN X
     * (d<seed, X>/dY = seed * scale) */
    int from = from_value;
    const hl_value *fv = &m->values[from_value];
    if (fv->alias >= 0)
        from = fv->scale ? fv->alias : hl_model_resolve(m, from_value);

    /* reached: values between the sources (or the stop) and `from` */
    unsigned char *reached = r->grad_valid;
    memset(reached, 0, (size_t)m->n_values);
    memset(r->derived_grad_ready, 0, (size_t)m->n_values);
    const unsigned char *below = backward_below(r);
    reached[from] = 1;
    for (int k = m->n_nodes - 1; k >= 0; k--) {
        const hl_node *nd = &m->nodes[k];
        if (m->node_kind[k] != HL_VAL_DYNAMIC)
            continue;
        int live = 0;
        for (int o = 0; o < nd->n_out; o++)
            if (nd->out[o] >= 0 && reached[nd->out[o]] &&
                !r->overridden[nd->out[o]])
                live = 1;
        if (!live)
            continue;
        for (int i = 0; i < nd->n_in; i++)
            if (nd->in[i] >= 0 && r->requires_grad[nd->in[i]] &&
                (!below || below[hl_model_resolve(m, nd->in[i])]))
                reached[nd->in[i]] = 1;
    }
    /* gradients start at zero: each is cleared when the first consumer's
     * backward is about to write it (every reached value but `from` has a
     * consumer that runs), not all at once here: in a lean run the memory
     * may hold another value until then, and in any run it is then warm
     * in the cache for the kernel that accumulates into it */
    memset(r->zeroed, 0, (size_t)m->n_values);
    {
        const hl_shape *s = &r->plan.t[from].shape;
        size_t n = (size_t)hl_shape_numel(s);
        float *g = r->grad[from];
        if (fv->alias >= 0 && fv->scale) {
            for (size_t i = 0; i < n; i++)
                g[i] = seed[i] * fv->scale[channel_of(s, i)];
        } else {
            memcpy(g, seed, n * sizeof(float));
        }
        r->zeroed[from] = 1;
    }

    hl_op_ctx ctx = {0};
    ctx.pool = r->pool;
    ctx.threads = r->threads;
    ctx.rule = rule;
    ctx.scratch = r->scratch;
    hl_tensor ref_in[HL_MAX_IO], ref_out[HL_MAX_IO];
    for (int k = m->n_nodes - 1; k >= 0; k--) {
        const hl_node *nd = &m->nodes[k];
        if (m->node_kind[k] != HL_VAL_DYNAMIC)
            continue;
        hl_tensor in[HL_MAX_IO], out[HL_MAX_IO], gin[HL_MAX_IO],
            gout[HL_MAX_IO];
        int live = 0, any_in = 0;
        for (int o = 0; o < nd->n_out; o++) {
            int v = nd->out[o];
            memset(&gout[o], 0, sizeof gout[o]);
            if (v < 0) {
                memset(&out[o], 0, sizeof out[o]);
                continue;
            }
            out[o] = r->plan.t[v];
            gout[o].shape = out[o].shape;
            gout[o].dtype = HL_DT_FLOAT;
            if (reached[v] && !r->overridden[v] && r->grad[v]) {
                gout[o].data = r->grad[v];
                live = 1;
            }
        }
        for (int i = 0; i < nd->n_in; i++) {
            int v = nd->in[i];
            memset(&gin[i], 0, sizeof gin[i]);
            if (v < 0) {
                memset(&in[i], 0, sizeof in[i]);
                in[i].shape.ndim = -1;
                gin[i].shape.ndim = -1;
                continue;
            }
            in[i] = r->plan.t[v];
            gin[i].shape = in[i].shape;
            gin[i].dtype = in[i].dtype;
            if (reached[v] && r->grad[v]) {
                gin[i].data = r->grad[v];
                any_in = 1;
            }
        }
        if (!live || !any_in)
            continue;
        if (rule == HL_RULE_DEEPLIFT) {
            for (int i = 0; i < nd->n_in; i++)
                ref_tensor(reference, nd->in[i], &ref_in[i]);
            for (int o = 0; o < nd->n_out; o++)
                ref_tensor(reference, nd->out[o], &ref_out[o]);
            ctx.ref_in = ref_in;
            ctx.ref_out = ref_out;
        }
        double t0 = r->prof_bwd ? prof_now() : 0;
        for (int i = 0; i < nd->n_in; i++) {
            int v = nd->in[i] >= 0 ? hl_model_resolve(m, nd->in[i]) : -1;
            if (gin[i].data && !r->zeroed[v]) {
                memset(gin[i].data, 0, (size_t)hl_shape_numel(&gin[i].shape) *
                                           sizeof(float));
                r->zeroed[v] = 1;
            }
        }
        if (r->prof_bwd)
            r->prof_clear += prof_now() - t0;
        if (r->mask_words[k]) {
            mask_job j = { NULL, gout[0].data, gin[0].data, r->mask_words[k],
                           r->mask_lo[k], r->mask_hi[k],
                           (long)hl_shape_numel(&in[0].shape),
                           strcmp(nd->op_type, "Relu") == 0, rule };
            if (j.g && j.gx)
                mask_run(r, mask_bwd_range, &j);
        } else {
            hl_op_get(nd->op)->backward(nd, &ctx, in, out, gout, gin);
        }
        if (r->prof_bwd)
            r->prof_bwd[k] += prof_now() - t0;
    }
    r->prof_backwards++;
    /* plain aliases and pre-BN values share the reached state */
    for (int v = 0; v < m->n_values; v++)
        if (m->values[v].alias >= 0) {
            int t = m->values[v].scale ? m->values[v].alias
                                        : hl_model_resolve(m, v);
            reached[v] = reached[t];
        }
    return HL_OK;
}
