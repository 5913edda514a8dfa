/* Runs: their life cycle, overrides and what a caller reads back.
 *
 * A run is planned per input shape (plan.c); all activations and
 * gradients of a run live in one block that grows to the largest batch
 * seen and is reused (run_layout.c), so repeated calls at a known batch
 * size allocate nothing. Forward (run_forward.c) keeps every activation
 * that backward (run_backward.c) or a caller reads.
 */
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "run_internal.h"

/* The per-value and per-node tables of a new run; 0 when out of memory. */
static int run_alloc_tables(hl_run *r)
{
    const hl_model *m = r->m;
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
    hl_run_profile_init(r);
    return r->grad && r->override && r->overridden && r->requires_grad &&
           r->grad_valid && r->derived_ready && r->derived_grad_ready &&
           r->keep_user && r->kept && r->kept_next && r->zeroed &&
           r->masked && r->mask_words && r->mask_lo && r->mask_hi;
}

hl_run *hl_run_new_shared(const hl_model *m, hl_threadpool *pool)
{
    if (!m)
        return NULL;
    hl_run *r = calloc(1, sizeof *r);
    if (!r)
        return NULL;
    r->m = m;
    r->pool = pool;
    r->threads = hl_threadpool_threads(pool);
    if (!run_alloc_tables(r)) {
        hl_run_free(r);
        return NULL;
    }
    return r;
}

hl_run *hl_run_new(const hl_model *m, int threads)
{
    if (!m)
        return NULL;
    if (threads <= 0) {
        long n = sysconf(_SC_NPROCESSORS_ONLN);
        threads = n > 0 ? (int)n : 1;
    }
    hl_threadpool *pool = threads > 1 ? hl_threadpool_new(threads) : NULL;
    hl_run *r = hl_run_new_shared(m, pool);
    if (!r) {
        hl_threadpool_free(pool);
        return NULL;
    }
    r->owns_pool = 1;
    return r;
}

void hl_run_free(hl_run *r)
{
    if (!r)
        return;
    if (r->prof_fwd && r->prof_bwd)
        hl_run_profile_print(r);
    free(r->prof_fwd);
    free(r->prof_bwd);
    if (r->owns_pool)
        hl_threadpool_free(r->pool);
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

/* ------------------------------------------------------------ idle runs */

/* A released run keeps its plan, its laid-out memory (already faulted in)
 * and its pool; runs bigger than this are freed instead, so a model does
 * not hold an IG batch's memory for good. */
#define HL_RUN_IDLE_MAX_BYTES ((size_t)1 << 30)

static pthread_mutex_t idle_mu = PTHREAD_MUTEX_INITIALIZER;

hl_run *hl_run_acquire(const hl_model *m, hl_threadpool *pool, int threads)
{
    if (!m)
        return NULL;
    if (!pool && threads <= 0) {
        long n = sysconf(_SC_NPROCESSORS_ONLN);
        threads = n > 0 ? (int)n : 1;
    }
    hl_model *mm = (hl_model *)m;  /* only the idle list changes */
    hl_run *r = NULL;
    pthread_mutex_lock(&idle_mu);
    for (int i = 0; i < HL_RUN_IDLE && !r; i++) {
        hl_run *c = mm->idle_runs[i];
        if (c && (pool ? c->pool == pool && !c->owns_pool
                       : c->owns_pool && c->threads == threads)) {
            r = c;
            mm->idle_runs[i] = NULL;
        }
    }
    pthread_mutex_unlock(&idle_mu);
    if (r)
        return r;
    return pool ? hl_run_new_shared(m, pool) : hl_run_new(m, threads);
}

void hl_run_release(hl_run *r)
{
    if (!r)
        return;
    /* back to a fresh run's settings; plan, layout and memory stay */
    hl_run_clear_overrides(r);
    (void)hl_run_keep_only(r, NULL, -1, NULL);
    r->backward_stop = -1;
    /* profiled runs print their profile when freed; a weights copy's
     * weights change between calls (model_randomize.c) while a plan holds
     * the constants' addresses */
    if (r->mem_size > HL_RUN_IDLE_MAX_BYTES || r->prof_fwd ||
        r->m->borrows_graph) {
        hl_run_free(r);
        return;
    }
    hl_model *m = (hl_model *)r->m;
    hl_run *out = r;
    pthread_mutex_lock(&idle_mu);
    for (int i = 0; i < HL_RUN_IDLE && out; i++)
        if (!m->idle_runs[i]) {
            m->idle_runs[i] = r;
            out = NULL;
        }
    pthread_mutex_unlock(&idle_mu);
    hl_run_free(out);
}

void hl_run_idle_free(hl_model *m)
{
    pthread_mutex_lock(&idle_mu);
    hl_run *runs[HL_RUN_IDLE];
    for (int i = 0; i < HL_RUN_IDLE; i++) {
        runs[i] = m->idle_runs[i];
        m->idle_runs[i] = NULL;
    }
    pthread_mutex_unlock(&idle_mu);
    for (int i = 0; i < HL_RUN_IDLE; i++)
        hl_run_free(runs[i]);
}

const hl_model *hl_run_model(const hl_run *r)
{
    return r->m;
}

int hl_run_batch(const hl_run *r)
{
    return r->forward_done ? r->batch : 0;
}

long hl_run_forward_serial(const hl_run *r)
{
    return r->forward_done ? r->serial : 0;
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
    r->serial++;
    return HL_OK;
}

void hl_run_clear_overrides(hl_run *r)
{
    for (int v = 0; v < r->m->n_values; v++)
        r->override[v] = NULL;
    r->serial++;
}

/* Copies an override into its value; for the pre-BN value X of a folded
 * conv, the conv's output Y = (X - shift) / scale. */
void hl_run_apply_override(hl_run *r, int v)
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
