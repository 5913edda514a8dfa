/* A run's memory: one block for activations, gradients, masks and
 * scratch, laid out per plan. By default every value and gradient has its
 * own buffer; a lean run (hl_run_keep_only) shares memory between buffers
 * whose lifetimes do not meet, which needs to know what each op's
 * backward reads (hl_op.bwd_reads, hl_op.mask_bounds). */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "run_internal.h"


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
/* ------------------------------------------------------ memory layout */

/* Does node k's backward read the data of its input (is_out = 0) or output
 * (is_out = 1) in `slot`, under the gradient, guided and deconvolution
 * rules? As its op says (hl_op.bwd_reads). A node with a backward mask
 * (Relu, Clip in a lean run) reads neither its input 0 nor its output. */
static int bwd_reads(const hl_run *r, int k, int is_out, int slot)
{
    const hl_model *m = r->m;
    const hl_node *n = &m->nodes[k];
    if (r->masked[k])
        return is_out || slot == 0 ? 0 : 1;
    switch (hl_op_get(n->op)->bwd_reads) {
    case HL_BWD_READS_NOTHING:
        return 0;
    case HL_BWD_READS_INPUTS:
        return !is_out;
    case HL_BWD_READS_WEIGHTS:
        return is_out ? 0 : slot != 0;
    case HL_BWD_READS_OTHER_OPERAND: {
        /* dA uses B and dB uses A: A is read when B needs a gradient */
        if (is_out || slot > 1)
            return is_out ? 0 : 1;
        int other = n->in[1 - slot];
        return other >= 0 &&
               m->values[hl_model_resolve(m, other)].kind == HL_VAL_DYNAMIC;
    }
    case HL_BWD_READS_ALL:
    default:
        return 1;
    }
}

/* Nodes whose backward can run from a bit mask of the forward input
 * (x > lo && x < hi, hl_op.mask_bounds): in a lean run the mask replaces
 * the input, which then need not survive until backward. Bounds must be
 * known at plan time: inputs computed by forward are handed to the op
 * without data. */
static int mask_bounds(const hl_run *r, int k, float *lo, float *hi)
{
    const hl_model *m = r->m;
    const hl_node *n = &m->nodes[k];
    const hl_op *op = hl_op_get(n->op);
    if (!op->mask_bounds)
        return 0;
    if (n->n_in < 1 || n->in[0] < 0 || n->n_out != 1 || n->out[0] < 0 ||
        r->plan.t[n->in[0]].dtype != HL_DT_FLOAT)
        return 0;
    hl_tensor in[HL_MAX_IO];
    for (int i = 0; i < n->n_in; i++) {
        memset(&in[i], 0, sizeof in[i]);
        if (n->in[i] < 0) {
            in[i].shape.ndim = -1;
            continue;
        }
        in[i] = r->plan.t[n->in[i]];
        if (m->values[hl_model_resolve(m, n->in[i])].kind == HL_VAL_DYNAMIC) {
            in[i].data = NULL;
            in[i].i64 = NULL;
        }
    }
    return op->mask_bounds(n, &m->node_attrs[k], in, lo, hi);
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
    char what[64];
    snprintf(what, sizeof what, "a run at batch %lld",
             (long long)r->plan_shapes[0].dims[0]);
    hl_status mst = hl_check_memory(need, m->name, what, err);
    if (mst) {
        free(items);
        return mst;
    }
    if (need > r->mem_size) {
        free(r->mem);
        r->mem = hl_huge_block_alloc(&need, HL_RUN_ALIGN);
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

hl_status hl_run_plan(hl_run *r, int n, const hl_shape *shapes,
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
    r->serial++;
    return HL_OK;
}
