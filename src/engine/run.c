/* Runs: plans per input shape, forward, overrides, backward with rules.
 *
 * A plan gives every value its shape at the run's batch; STATIC values
 * (Shape chains) are evaluated then. All activations and gradients of a
 * run live in one block that grows to the largest batch seen and is
 * reused, so repeated calls at a known batch size allocate nothing.
 * Forward keeps every activation: backward and the hooks need them.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>

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
    float *scratch;
    float **grad;             /* per value; NULL for non-float/non-dynamic */
    const float **override;   /* per value, borrowed */
    unsigned char *overridden; /* per value: forward takes it from outside */
    unsigned char *requires_grad;
    unsigned char *grad_valid;
    unsigned char *derived_ready, *derived_grad_ready;
    int forward_done;
};

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
    r->requires_grad = calloc(nv, 1);
    r->grad_valid = calloc(nv, 1);
    r->derived_ready = calloc(nv, 1);
    r->derived_grad_ready = calloc(nv, 1);
    if (!r->grad || !r->override || !r->overridden || !r->requires_grad ||
        !r->grad_valid || !r->derived_ready || !r->derived_grad_ready) {
        hl_run_free(r);
        return NULL;
    }
    return r;
}

void hl_run_free(hl_run *r)
{
    if (!r)
        return;
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

/* Plans for these input shapes (unless already planned) and lays out
 * the run's memory. */
static hl_status run_plan(hl_run *r, int n, const hl_shape *shapes,
                          hl_error *err)
{
    const hl_model *m = r->m;
    if (r->planned && r->n_plan_inputs == n) {
        int same = 1;
        for (int i = 0; i < n; i++)
            if (!hl_shape_equal(&shapes[i], &r->plan_shapes[i]))
                same = 0;
        if (same)
            return HL_OK;
    }
    r->planned = 0;
    r->forward_done = 0;
    hl_status st = hl_plan_compute(m, &r->plan, shapes,
                                   m->input_shapes[0].dims[0] < 0 &&
                                           shapes[0].dims[0] > 1
                                       ? (int)shapes[0].dims[0]
                                       : 0,
                                   err);
    if (st)
        return st;
    size_t need = round_up((r->plan.scratch_floats + 1) * sizeof(float));
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
    if (need > r->mem_size) {
        free(r->mem);
        r->mem = run_mem_alloc(&need);
        r->mem_size = r->mem ? need : 0;
        if (!r->mem)
            return hl_error_set(err, HL_ERR_NOMEM,
                                "%s: out of memory for a batch of %lld "
                                "(%zu MiB)", m->name,
                                (long long)shapes[0].dims[0], need >> 20);
    }
    unsigned char *p = r->mem;
    r->scratch = (float *)p;
    p += round_up((r->plan.scratch_floats + 1) * sizeof(float));
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
        r->grad[v] = NULL;
        if (!has_memory(m, v) || r->plan.t[v].dtype != HL_DT_FLOAT)
            continue;
        r->grad[v] = (float *)p;
        p += round_up((size_t)hl_shape_numel(&r->plan.t[v].shape) *
                      sizeof(float));
    }
    /* plain aliases share their target's buffers */
    for (int v = 0; v < m->n_values; v++)
        if (m->values[v].alias >= 0 && !m->values[v].scale) {
            int t = hl_model_resolve(m, v);
            r->plan.t[v] = r->plan.t[t];
            r->grad[v] = r->grad[t];
        }
    r->n_plan_inputs = n;
    for (int i = 0; i < n; i++)
        r->plan_shapes[i] = shapes[i];
    r->batch = (int)shapes[0].dims[0];
    r->planned = 1;
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
        if (!all_overridden)
            op->forward(nd, &ctx, in, out);
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
    if (is_derived(r->m, value) && !r->derived_ready[value])
        materialise_derived((hl_run *)r, value);
    return &r->plan.t[value];
}

const float *hl_run_grad(const hl_run *r, int value, hl_shape *shape)
{
    const hl_model *m = r->m;
    if (value < 0 || value >= m->n_values || !r->grad_valid[value])
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
    } else if (rule != HL_RULE_GRADIENT && rule != HL_RULE_GUIDED &&
               rule != HL_RULE_DECONV) {
        return hl_error_set(err, HL_ERR_ARG, "%s: unknown backward rule %d",
                            m->name, (int)rule);
    }

    /* the seed goes to the value that is computed: Y for a pre-BN X
     * (d<seed, X>/dY = seed * scale) */
    int from = from_value;
    const hl_value *fv = &m->values[from_value];
    if (fv->alias >= 0)
        from = fv->scale ? fv->alias : hl_model_resolve(m, from_value);

    /* reached: values between the sources and `from` */
    unsigned char *reached = r->grad_valid;
    memset(reached, 0, (size_t)m->n_values);
    memset(r->derived_grad_ready, 0, (size_t)m->n_values);
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
            if (nd->in[i] >= 0 && r->requires_grad[nd->in[i]])
                reached[nd->in[i]] = 1;
    }
    for (int v = 0; v < m->n_values; v++)
        if (reached[v] && has_memory(m, v))
            memset(r->grad[v], 0, (size_t)hl_shape_numel(&r->plan.t[v].shape) *
                                      sizeof(float));
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
        hl_op_get(nd->op)->backward(nd, &ctx, in, out, gout, gin);
    }
    /* plain aliases and pre-BN values share the reached state */
    for (int v = 0; v < m->n_values; v++)
        if (m->values[v].alias >= 0) {
            int t = m->values[v].scale ? m->values[v].alias
                                        : hl_model_resolve(m, v);
            reached[v] = reached[t];
        }
    return HL_OK;
}
