/* Exact incremental forwards: inputs that equal one clean input except
 * inside a box of H x W (occlusion windows). Changing input pixels changes
 * only the activations in their projective field, which grows layer by
 * layer; everything outside it is the clean forward's. So each row keeps,
 * per value, only the box where it may differ from the clean activation
 * (its "dirty box") and the numbers inside it; a node computes only its
 * output's dirty box, by running the op's own forward on crops of its
 * inputs (clean numbers with the dirty boxes laid over them, padding
 * written into the crop). No threshold: the numbers inside a box are the
 * full forward's up to the summation order of smaller GEMMs.
 *
 * How an op maps boxes is its hl_op.region: pointwise (the union of the
 * inputs' boxes) or a sliding kernel (stride, padding, dilation). A node
 * without one (global pooling, Reshape/Flatten, Gemm, MatMul, attention)
 * or whose inputs it cannot take is computed in full for every row, from
 * the clean numbers with the boxes laid over them, and its outputs count
 * as dirty everywhere: from there on the forward is a full one (the same
 * op forwards as hl_run_forward, at a plan for that batch).
 *
 * A forward may also start at a 4-D value downstream of the input
 * (ablating a layer's units): its rows are seeded there, and the nodes
 * upstream of it, never dirty, never run.
 *
 * Rows whose boxes have the same size at a node run as one batch, so a
 * conv over 16 windows is one GEMM over all their columns. (The idea of
 * Krypton, Nakandala et al., SIGMOD 2019, without its approximation.) */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "kernels.h"
#include "run_incremental.h"

/* A buffer of `floats` floats, 64-byte aligned. From 4 MiB on it is
 * 2 MiB aligned and asked to be backed by transparent huge pages (as the
 * run's block, run_layout.c): a fresh process's first occlusion touches
 * ~100 MB of new buffers, and with 4 KiB pages their page faults cost
 * more than the arithmetic of its first windows. */
/* A block of at least *floats floats (updated to what it holds). */
static float *buf_alloc(size_t *floats)
{
    size_t bytes = *floats * sizeof(float);
    float *p = hl_huge_block_alloc(&bytes, 64);
    if (p)
        *floats = bytes / sizeof(float);
    return p;
}

/* Grows *p to at least n floats (contents not kept). */
static int reserve(float **p, size_t *cap, size_t n)
{
    if (n <= *cap)
        return 0;
    size_t want = n + n / 4;
    float *q = buf_alloc(&want);
    if (!q)
        return -1;
    free(*p);
    *p = q;
    *cap = want;
    return 0;
}

/* buf[v] for this forward: `floats` floats of the arena (sized for the
 * whole forward by arena_for before the first node). */
static int take(hl_incremental *inc, int v, size_t floats)
{
    size_t n = (floats + 15) / 16 * 16;   /* 64-byte aligned */
    if (inc->arena_used + n > inc->arena_cap)
        return -1;
    inc->buf[v] = inc->arena + inc->arena_used;
    inc->buf_cap[v] = floats;
    inc->arena_used += n;
    return 0;
}

/* ------------------------------------------------------------- copies */

/* Crops of one value for the rows of a group: crop g covers input rows
 * [r0[g], r0[g] + ch) and columns [c0[g], c0[g] + cw) of every channel;
 * positions outside the map hold `pad`. One job unit = one plane. */
typedef struct crop_job {
    const hl_incremental *inc;
    int v;
    const int *rows;
    const int64_t *r0, *c0;
    int64_t C, H, W, ch, cw;
    float pad;
    float *dst;
} crop_job;

static void fill(float *p, int64_t n, float v)
{
    for (int64_t i = 0; i < n; i++)
        p[i] = v;
}

static void crop_range(void *arg, long begin, long end)
{
    const crop_job *j = arg;
    for (long u = begin; u < end; u++) {
        int64_t g = u / j->C, c = u % j->C;
        const row_state *s = state(j->inc, j->v, j->rows[g]);
        const float *clean = j->inc->clean[j->v] + c * j->H * j->W;
        const float *dirty = j->inc->buf[j->v] + s->off;
        int64_t bh = s->b.y1 - s->b.y0, bw = s->b.x1 - s->b.x0;
        int64_t r0 = j->r0[g], c0 = j->c0[g];
        /* the columns inside the map: [xa, xb) of the crop */
        int64_t xa = c0 < 0 ? -c0 : 0;
        int64_t xb = c0 + j->cw > j->W ? j->W - c0 : j->cw;
        if (xb < xa)
            xb = xa;
        for (int64_t y = 0; y < j->ch; y++) {
            int64_t iy = r0 + y;
            float *d = j->dst + (u * j->ch + y) * j->cw;
            if (iy < 0 || iy >= j->H) {
                fill(d, j->cw, j->pad);
                continue;
            }
            fill(d, xa, j->pad);
            memcpy(d + xa, clean + iy * j->W + c0 + xa,
                   sizeof(float) * (size_t)(xb - xa));
            fill(d + xb, j->cw - xb, j->pad);
            if (!s->dirty || iy < s->b.y0 || iy >= s->b.y1)
                continue;
            int64_t a = s->b.x0 > c0 ? s->b.x0 : c0;
            int64_t e = s->b.x1 < c0 + j->cw ? s->b.x1 : c0 + j->cw;
            if (a < e)
                memcpy(d + (a - c0),
                       dirty + (c * bh + iy - s->b.y0) * bw + (a - s->b.x0),
                       sizeof(float) * (size_t)(e - a));
        }
    }
}

/* Whole rows of value v (batch-1 numel `numel`) into dst [n, numel]. */
static void compose_rows(const hl_incremental *inc, int v, int n,
                         float *dst)
{
    const hl_shape *s = &inc->plan1.t[v].shape;
    int64_t numel = hl_shape_numel(s);
    for (int r = 0; r < n; r++) {
        const row_state *st = state(inc, v, r);
        float *d = dst + (int64_t)r * numel;
        const float *dirty = inc->buf[v] + st->off;
        if (st->dirty && s->ndim != 4) {
            memcpy(d, dirty, sizeof(float) * (size_t)numel);
            continue;
        }
        memcpy(d, inc->clean[v], sizeof(float) * (size_t)numel);
        if (!st->dirty)
            continue;
        int64_t C = s->dims[1], H = s->dims[2], W = s->dims[3];
        int64_t bh = st->b.y1 - st->b.y0, bw = st->b.x1 - st->b.x0;
        for (int64_t c = 0; c < C; c++)
            for (int64_t y = 0; y < bh; y++)
                memcpy(d + (c * H + st->b.y0 + y) * W + st->b.x0,
                       dirty + (c * bh + y) * bw,
                       sizeof(float) * (size_t)bw);
    }
}

/* ------------------------------------------------------------ set-up */

/* Scratch for one call; at least `least` floats (a plan's: oneDNN's
 * kernels get what a run at that plan would give them). */
static hl_status scratch_for(hl_incremental *inc, const hl_op *op,
                             const hl_node *nd, const hl_tensor *in,
                             const hl_tensor *out, size_t least, hl_error *err)
{
    size_t sf = op->scratch_floats ? op->scratch_floats(nd, in, out) : 0;
    if (sf < least)
        sf = least;
    if (reserve(&inc->scratch, &inc->scratch_cap, sf ? sf : 1))
        return hl_error_set(err, HL_ERR_NOMEM, "%s: out of memory "
                            "(incremental forward)", inc->m->name);
    return HL_OK;
}

static hl_op_ctx op_ctx(const hl_incremental *inc)
{
    hl_op_ctx c = {0};
    c.threadpool = inc->pool;
    c.threads = hl_threadpool_threads(inc->pool);
    c.rule = HL_RULE_GRADIENT;
    c.scratch = inc->scratch;
    return c;
}

/* Node k's inputs and outputs as plan tensors of `plan`, dynamic floats
 * pointing at `data[v]` (NULL: left without data). */
static void node_tensors(const hl_model *m, const hl_plan *plan,
                         const hl_node *nd, float *const *data,
                         hl_tensor *in, hl_tensor *out)
{
    for (int i = 0; i < nd->n_in; i++) {
        int v = hl_model_resolve(m, nd->in[i]);
        if (nd->in[i] < 0) {
            memset(&in[i], 0, sizeof in[i]);
            in[i].shape.ndim = -1;
            continue;
        }
        in[i] = plan->t[v];
        if (is_dynamic(m, v))
            in[i].data = data ? data[v] : NULL;
    }
    for (int o = 0; o < nd->n_out; o++) {
        memset(&out[o], 0, sizeof out[o]);
        if (nd->out[o] >= 0) {
            out[o] = plan->t[nd->out[o]];
            out[o].data = data ? data[nd->out[o]] : NULL;
        }
    }
}

/* One block for the clean forward's values (the input and every float
 * output of a computed node), so that it is faulted in as a few huge
 * pages rather than a hundred separate buffers. */
static hl_status clean_block(hl_incremental *inc, hl_error *err)
{
    const hl_model *m = inc->m;
    const int64_t align = 16;   /* floats: 64 bytes */
    unsigned char *kept = calloc((size_t)m->n_values, 1);
    if (!kept)
        return hl_error_set(err, HL_ERR_NOMEM, "out of memory");
    kept[inc->input] = 1;
    for (int k = 0; k < m->n_nodes; k++)
        for (int o = 0; m->node_kind[k] == HL_VAL_DYNAMIC && o < m->nodes[k].n_out; o++)
            if (m->nodes[k].out[o] >= 0)
                kept[m->nodes[k].out[o]] = 1;
    int64_t total = 0;
    for (int v = 0; v < m->n_values; v++) {
        const hl_tensor *t = &inc->plan1.t[v];
        kept[v] &= t->dtype == HL_DT_FLOAT;
        if (kept[v])
            total += (hl_shape_numel(&t->shape) + align - 1) / align * align;
    }
    inc->clean_bytes = sizeof(float) * (size_t)total;
    hl_status st = hl_check_memory(inc->clean_bytes, m->name,
                                   "the incremental forward", err);
    size_t floats = (size_t)(total ? total : 1);
    if (st == HL_OK && !(inc->clean_block = buf_alloc(&floats)))
        st = hl_error_set(err, HL_ERR_NOMEM, "%s: out of memory "
                          "(incremental forward)", m->name);
    for (int64_t v = 0, off = 0; st == HL_OK && v < m->n_values; v++)
        if (kept[v]) {
            inc->clean[v] = inc->clean_block + off;
            off += (hl_shape_numel(&inc->plan1.t[v].shape) + align - 1) / align * align;
        }
    free(kept);
    return st;
}

/* The clean forward at batch 1, every dynamic value kept; which nodes
 * can be tracked. */
static hl_status clean_forward(hl_incremental *inc, const float *clean,
                               hl_error *err)
{
    const hl_model *m = inc->m;
    hl_status st = clean_block(inc, err);
    if (st != HL_OK)
        return st;
    memcpy(inc->clean[inc->input], clean,
           sizeof(float) * (size_t)hl_shape_numel(&inc->plan1.t[inc->input].shape));
    for (int k = 0; k < m->n_nodes; k++) {
        if (m->node_kind[k] != HL_VAL_DYNAMIC)
            continue;
        const hl_node *nd = &m->nodes[k];
        const hl_op *op = hl_op_get(nd->op);
        hl_tensor in[HL_MAX_IO], out[HL_MAX_IO];
        node_tensors(m, &inc->plan1, nd, inc->clean, in, out);
        for (int o = 0; o < nd->n_out; o++)
            if (nd->out[o] >= 0 && out[o].dtype == HL_DT_FLOAT)
                out[o].data = inc->clean[nd->out[o]];
        for (int i = 0; i < nd->n_in; i++)
            if (nd->in[i] >= 0 && in[i].dtype == HL_DT_FLOAT && !in[i].data &&
                !in[i].i64)
                return hl_error_set(err, HL_ERR_UNSUPPORTED, "%s: node '%s' "
                                    "reads a value the incremental forward "
                                    "does not keep", m->name, nd->name);
        st = scratch_for(inc, op, nd, in, out, inc->plan1.scratch_floats, err);
        if (st != HL_OK)
            return st;
        hl_op_ctx c = op_ctx(inc);
        op->forward(nd, &c, in, out);

        /* Tracked: a region, one float output, and for a sliding kernel
         * only input 0 computed. The region callback sees computed inputs
         * without data. */
        hl_tensor rin[HL_MAX_IO], rout[HL_MAX_IO];
        node_tensors(m, &inc->plan1, nd, NULL, rin, rout);
        if (op->region && nd->n_out == 1 && rout[0].dtype == HL_DT_FLOAT &&
            rout[0].shape.ndim == 4 &&
            op->region(nd, rin, rout, &inc->reg[k])) {
            int ok = 1;
            for (int i = 1; i < nd->n_in && inc->reg[k].sliding; i++)
                if (is_dynamic(m, hl_model_resolve(m, nd->in[i])))
                    ok = 0;
            if (inc->reg[k].sliding &&
                (nd->n_in < 1 || rin[0].shape.ndim != 4 ||
                 !is_dynamic(m, hl_model_resolve(m, nd->in[0]))))
                ok = 0;
            inc->tracked[k] = (unsigned char)ok;
        }
    }
    return HL_OK;
}

hl_status hl_incremental_new(const hl_model *m, hl_threadpool *pool,
                             const float *clean, hl_incremental **out,
                             hl_error *err)
{
    *out = NULL;
    if (!m || !clean)
        return hl_error_set(err, HL_ERR_ARG, "incremental forward: no model "
                            "or input");
    if (m->n_inputs != 1)
        return hl_error_set(err, HL_ERR_UNSUPPORTED, "%s: the incremental "
                            "forward takes models with one input", m->name);
    hl_shape s1 = m->input_shapes[0];
    s1.dims[0] = 1;
    if (s1.ndim != 4 || hl_shape_numel(&s1) < 1)
        return hl_error_set(err, HL_ERR_UNSUPPORTED, "%s: the incremental "
                            "forward takes a [1,C,H,W] input", m->name);
    for (int v = 0; v < m->n_values; v++)
        if (m->values[v].scale && m->values[v].kind == HL_VAL_DYNAMIC)
            for (int k = 0; k < m->n_nodes; k++)
                for (int i = 0; i < m->nodes[k].n_in; i++)
                    if (m->nodes[k].in[i] == v)
                        return hl_error_set(err, HL_ERR_UNSUPPORTED,
                                            "%s: node '%s' reads a pre-BN "
                                            "value", m->name, m->nodes[k].name);
    hl_incremental *inc = calloc(1, sizeof *inc);
    if (!inc)
        return hl_error_set(err, HL_ERR_NOMEM, "out of memory");
    inc->m = m;
    inc->pool = pool;
    inc->input = m->inputs[0];
    inc->plan_n_batch = 0;
    inc->clean = calloc((size_t)m->n_values, sizeof *inc->clean);
    inc->buf = calloc((size_t)m->n_values, sizeof *inc->buf);
    inc->buf_cap = calloc((size_t)m->n_values, sizeof *inc->buf_cap);
    inc->reg = calloc((size_t)(m->n_nodes > 0 ? m->n_nodes : 1), sizeof *inc->reg);
    inc->tracked = calloc((size_t)(m->n_nodes > 0 ? m->n_nodes : 1), 1);
    hl_status st = HL_OK;
    if (!inc->clean || !inc->buf || !inc->buf_cap || !inc->reg || !inc->tracked)
        st = hl_error_set(err, HL_ERR_NOMEM, "out of memory");
    if (st == HL_OK)
        st = hl_plan_compute(m, &inc->plan1, &s1, 1, err);
    if (st == HL_OK)
        st = clean_forward(inc, clean, err);
    if (st != HL_OK) {
        hl_incremental_free(inc);
        return st;
    }
    *out = inc;
    return HL_OK;
}

void hl_incremental_free(hl_incremental *inc)
{
    if (!inc)
        return;
    const hl_model *m = inc->m;
    free(inc->clean_block);
    free(inc->arena);
    for (int k = 0; inc->reg && k < m->n_nodes; k++)
        free(inc->reg[k].unpadded);
    for (int i = 0; i < HL_MAX_IO; i++)
        free(inc->crop[i]);
    free(inc->clean);
    free(inc->buf);
    free(inc->buf_cap);
    free(inc->reg);
    free(inc->tracked);
    free(inc->rs);
    free(inc->scratch);
    free(inc->group);
    free(inc->done);
    hl_plan_free(&inc->plan1);
    if (inc->plan_n_batch)
        hl_plan_free(&inc->plan_n);
    free(inc);
}

/* ------------------------------------------------------------ nodes */

/* Tracked node k: each dirty row's output box from crops, rows of one box
 * size in one call. */
static hl_status forward_tracked(hl_incremental *inc, int k, hl_error *err)
{
    const hl_model *m = inc->m;
    const hl_node *nd = &m->nodes[k];
    const hl_op *op = hl_op_get(nd->op);
    const hl_region *reg = &inc->reg[k];
    const int vo = nd->out[0];
    const hl_shape *os = &inc->plan1.t[vo].shape;
    const int64_t OC = os->dims[1];
    int64_t total = 0;
    for (int r = 0; r < inc->n; r++) {
        row_state *s = state(inc, vo, r);
        s->b = hl_inc_out_box(inc, k, r);
        s->dirty = !box_empty(&s->b);
        s->off = 0;
        total += OC * box_area(&s->b);
        inc->done[r] = !s->dirty;
    }
    if (take(inc, vo, (size_t)total))
        return hl_error_set(err, HL_ERR_NOMEM, "%s: out of memory "
                            "(incremental forward)", m->name);
    hl_node tn = *nd;
    if (reg->unpadded)
        tn.params = reg->unpadded;
    int64_t cursor = 0;
    for (int r0 = 0; r0 < inc->n; r0++) {
        if (inc->done[r0])
            continue;
        const hl_box *b0 = &state(inc, vo, r0)->b;
        int64_t bh = b0->y1 - b0->y0, bw = b0->x1 - b0->x0;
        int G = 0;
        for (int r = r0; r < inc->n; r++) {
            const hl_box *b = &state(inc, vo, r)->b;
            if (!inc->done[r] && b->y1 - b->y0 == bh && b->x1 - b->x0 == bw) {
                inc->group[G++] = r;
                inc->done[r] = 1;
            }
        }
        /* crop geometry: rows [y0 * s - pb, ...) of the input map; a box
         * of the whole map reads whole input maps with the node as it is
         * (its padding, and oneDNN's kernels where they are faster) */
        const int whole = bh == os->dims[2] && bw == os->dims[3];
        const hl_node *call = whole ? nd : &tn;
        int64_t ch = bh, cw = bw;
        if (whole && reg->sliding) {
            const hl_shape *is0 = &inc->plan1.t[hl_model_resolve(m, nd->in[0])].shape;
            ch = is0->dims[2];
            cw = is0->dims[3];
        } else if (reg->sliding) {
            ch = (bh - 1) * reg->s[0] + (reg->k[0] - 1) * reg->d[0] + 1;
            cw = (bw - 1) * reg->s[1] + (reg->k[1] - 1) * reg->d[1] + 1;
        }
        int64_t cr[2 * 64];   /* crop origins of up to 64 rows at a time */
        for (int g0 = 0; g0 < G; g0 += 64) {
            int gn = G - g0 < 64 ? G - g0 : 64;
            int64_t *ry = cr, *rx = cr + 64;
            for (int g = 0; g < gn; g++) {
                row_state *s = state(inc, vo, inc->group[g0 + g]);
                ry[g] = whole ? 0 : reg->sliding ? s->b.y0 * reg->s[0] - reg->pb[0] : s->b.y0;
                rx[g] = whole ? 0 : reg->sliding ? s->b.x0 * reg->s[1] - reg->pb[1] : s->b.x0;
                s->off = cursor + (int64_t)g * OC * bh * bw;
            }
            hl_tensor in[HL_MAX_IO], out[HL_MAX_IO];
            node_tensors(m, &inc->plan1, nd, NULL, in, out);
            for (int i = 0; i < nd->n_in; i++) {
                int v = hl_model_resolve(m, nd->in[i]);
                if (!is_dynamic(m, v))
                    continue;
                int64_t C = in[i].shape.dims[1];
                size_t need = (size_t)(gn * C * ch * cw);
                if (reserve(&inc->crop[i], &inc->crop_cap[i], need ? need : 1))
                    return hl_error_set(err, HL_ERR_NOMEM, "%s: out of memory "
                                        "(incremental forward)", m->name);
                crop_job j = { inc, v, inc->group + g0, ry, rx, C,
                               in[i].shape.dims[2], in[i].shape.dims[3], ch, cw,
                               reg->pad, inc->crop[i] };
                hl_op_ctx c = op_ctx(inc);
                hl_par_for(&c, (long)(gn * C), (long)(gn * C * ch * cw),
                           crop_range, &j);
                in[i].shape.dims[0] = gn;
                in[i].shape.dims[2] = ch;
                in[i].shape.dims[3] = cw;
                in[i].data = inc->crop[i];
            }
            hl_tensor sh[HL_MAX_IO];
            memset(sh, 0, sizeof sh);
            hl_error e = {0};
            if (op->shape(call, in, sh, &e) != HL_OK || sh[0].shape.ndim != 4 ||
                sh[0].shape.dims[0] != gn || sh[0].shape.dims[1] != OC ||
                sh[0].shape.dims[2] != bh || sh[0].shape.dims[3] != bw)
                return hl_error_set(err, HL_ERR_UNSUPPORTED, "%s: node '%s' (%s): "
                                    "a crop does not give its box (%s)", m->name,
                                    nd->name, nd->op_type, e.msg);
            out[0] = sh[0];
            out[0].data = inc->buf[vo] + cursor;
            hl_status st = scratch_for(inc, op, call, in, out,
                                       whole ? inc->plan1.scratch_floats : 0, err);
            if (st != HL_OK)
                return st;
            hl_op_ctx c = op_ctx(inc);
            op->forward(call, &c, in, out);
            cursor += (int64_t)gn * OC * bh * bw;
        }
    }
    return HL_OK;
}

/* A plan at batch n for the nodes computed in full (values known at plan
 * time, Reshape's shapes for one, depend on the batch). */
static hl_status plan_for(hl_incremental *inc, int n, hl_error *err)
{
    if (inc->plan_n_batch == n)
        return HL_OK;
    if (inc->plan_n_batch)
        hl_plan_free(&inc->plan_n);
    inc->plan_n_batch = 0;
    memset(&inc->plan_n, 0, sizeof inc->plan_n);
    hl_shape s = inc->plan1.t[inc->input].shape;
    s.dims[0] = n;
    hl_status st = hl_plan_compute(inc->m, &inc->plan_n, &s, n, err);
    if (st == HL_OK)
        inc->plan_n_batch = n;
    return st;
}

/* Node k in full for every row (some input is dirty). */
static hl_status forward_full(hl_incremental *inc, int k, hl_error *err)
{
    const hl_model *m = inc->m;
    const hl_node *nd = &m->nodes[k];
    const hl_op *op = hl_op_get(nd->op);
    const int n = inc->n;
    hl_status st = plan_for(inc, n, err);
    if (st != HL_OK)
        return st;
    hl_tensor in[HL_MAX_IO], out[HL_MAX_IO];
    node_tensors(m, &inc->plan_n, nd, NULL, in, out);
    for (int i = 0; i < nd->n_in; i++) {
        int v = hl_model_resolve(m, nd->in[i]);
        if (!is_dynamic(m, v))
            continue;
        size_t need = (size_t)(n * hl_shape_numel(&inc->plan1.t[v].shape));
        if (reserve(&inc->crop[i], &inc->crop_cap[i], need ? need : 1))
            return hl_error_set(err, HL_ERR_NOMEM, "%s: out of memory "
                                "(incremental forward)", m->name);
        compose_rows(inc, v, n, inc->crop[i]);
        in[i].data = inc->crop[i];
    }
    for (int o = 0; o < nd->n_out; o++) {
        int v = nd->out[o];
        if (v < 0 || out[o].dtype != HL_DT_FLOAT)
            continue;
        const hl_shape *s1 = &inc->plan1.t[v].shape;
        int64_t numel = hl_shape_numel(s1);
        if (take(inc, v, (size_t)(n * numel)))
            return hl_error_set(err, HL_ERR_NOMEM, "%s: out of memory "
                                "(incremental forward)", m->name);
        out[o].data = inc->buf[v];
        for (int r = 0; r < n; r++) {
            row_state *s = state(inc, v, r);
            s->dirty = 1;
            s->off = (int64_t)r * numel;
            s->b = (hl_box){0, s1->ndim == 4 ? s1->dims[2] : 1, 0,
                            s1->ndim == 4 ? s1->dims[3] : 1};
        }
    }
    st = scratch_for(inc, op, nd, in, out, inc->plan_n.scratch_floats, err);
    if (st != HL_OK)
        return st;
    hl_op_ctx c = op_ctx(inc);
    op->forward(nd, &c, in, out);
    return HL_OK;
}

hl_status hl_inc_reserve_rows(hl_incremental *inc, int n, hl_error *err)
{
    if (n <= inc->cap_rows)
        return HL_OK;
    const hl_model *m = inc->m;
    row_state *rs = calloc((size_t)m->n_values * (size_t)n, sizeof *rs);
    int *group = malloc(sizeof(int) * (size_t)n);
    unsigned char *done = malloc((size_t)n);
    if (!rs || !group || !done) {
        free(rs);
        free(group);
        free(done);
        return hl_error_set(err, HL_ERR_NOMEM, "out of memory");
    }
    free(inc->rs);
    free(inc->group);
    free(inc->done);
    inc->rs = rs;
    inc->group = group;
    inc->done = done;
    inc->cap_rows = n;
    return HL_OK;
}

/* The arena for one forward of inc->n rows whose start value's boxes are
 * set (input_floats of them): every node's output boxes are found first
 * (forward_tracked and forward_full set the same ones again), so that the
 * rows' numbers of every value go into one block, faulted in as a few
 * huge pages and kept for the next forward. */
static hl_status arena_for(hl_incremental *inc, int64_t input_floats,
                           hl_error *err)
{
    size_t total = (size_t)hl_inc_propagate(inc, input_floats, NULL);
    inc->arena_used = 0;
    if (reserve(&inc->arena, &inc->arena_cap, total ? total : 1))
        return hl_error_set(err, HL_ERR_NOMEM, "%s: out of memory "
                            "(incremental forward)", inc->m->name);
    return HL_OK;
}

hl_status hl_inc_run(hl_incremental *inc, int v, const float *rows,
                     const hl_box *boxes, int n, hl_error *err)
{
    const hl_model *m = inc->m;
    int64_t total = 0;
    hl_status st = hl_inc_seed(inc, v, boxes, n, &total, err);
    if (st == HL_OK)
        st = arena_for(inc, total, err);
    if (st != HL_OK)
        return st;
    if (take(inc, v, (size_t)total))
        return hl_error_set(err, HL_ERR_NOMEM, "%s: out of memory "
                            "(incremental forward)", m->name);
    const hl_shape *vs = &inc->plan1.t[v].shape;
    const int64_t C = vs->dims[1], H = vs->dims[2], W = vs->dims[3];
    const int64_t numel = C * H * W;
    for (int r = 0; r < n; r++) {
        const row_state *s = state(inc, v, r);
        if (!s->dirty)
            continue;
        int64_t bh = s->b.y1 - s->b.y0, bw = s->b.x1 - s->b.x0;
        float *d = inc->buf[v] + s->off;
        for (int64_t c = 0; c < C; c++)
            for (int64_t y = 0; y < bh; y++)
                memcpy(d + (c * bh + y) * bw,
                       rows + r * numel + (c * H + s->b.y0 + y) * W + s->b.x0,
                       sizeof(float) * (size_t)bw);
    }

    /* every node reading a dirty value, in order: upstream of v nothing
     * is dirty, so nothing there runs */
    for (int k = 0; k < m->n_nodes; k++) {
        if (m->node_kind[k] != HL_VAL_DYNAMIC || !hl_inc_node_dirty(inc, k))
            continue;   /* its outputs stay clean in every row */
        st = inc->tracked[k] ? forward_tracked(inc, k, err)
                             : forward_full(inc, k, err);
        if (st != HL_OK)
            return st;
    }
    return HL_OK;
}

hl_status hl_incremental_forward(hl_incremental *inc, const float *inputs,
                                 const hl_box *boxes, int n, hl_error *err)
{
    if (!inc || !inputs || !boxes || n < 1)
        return hl_error_set(err, HL_ERR_ARG, "incremental forward: no inputs");
    return hl_inc_run(inc, inc->input, inputs, boxes, n, err);
}

/* ------------------------------------------- starting at another value */

int hl_inc_start_value(const hl_incremental *inc, int value)
{
    const hl_model *m = inc->m;
    if (value < 0 || value >= m->n_values)
        return -1;
    int v = value;
    if (m->values[v].alias >= 0 && m->values[v].scale)
        v = m->values[v].alias;
    v = hl_model_resolve(m, v);
    return v >= 0 && is_dynamic(m, v) && inc->clean[v] &&
           inc->plan1.t[v].shape.ndim == 4 ? v : -1;
}

/* Rows of a pre-BN value X as rows of its conv's output Y. */
static hl_status unfold_rows(hl_incremental *inc, int value, const float *rows,
                             int n, float **out, hl_error *err)
{
    const hl_value *val = &inc->m->values[value];
    const hl_shape *s = &inc->plan1.t[hl_inc_start_value(inc, value)].shape;
    const int64_t C = s->dims[1], HW = s->dims[2] * s->dims[3];
    float *y = malloc(sizeof(float) * (size_t)(n * C * HW));
    if (!y)
        return hl_error_set(err, HL_ERR_NOMEM, "out of memory (incremental forward)");
    for (int64_t i = 0; i < n * C * HW; i++) {
        int ch = val->channels == 1 ? 0 : (int)((i / HW) % C);
        y[i] = (rows[i] - val->shift[ch]) / val->scale[ch];
    }
    *out = y;
    return HL_OK;
}

int hl_incremental_can_start(const hl_incremental *inc, int value)
{
    return inc && hl_inc_start_value(inc, value) >= 0;
}

hl_status hl_incremental_forward_from(hl_incremental *inc, int value,
                                      const float *rows, const hl_box *boxes,
                                      int n, hl_error *err)
{
    if (!inc || !rows || !boxes || n < 1)
        return hl_error_set(err, HL_ERR_ARG, "incremental forward: no rows");
    int v = hl_inc_start_value(inc, value);
    if (v < 0)
        return hl_error_set(err, HL_ERR_UNSUPPORTED, "%s: the incremental "
                            "forward cannot start at value %d", inc->m->name,
                            value);
    float *unfolded = NULL;
    hl_status st = HL_OK;
    if (hl_model_resolve(inc->m, value) != v)
        st = unfold_rows(inc, value, rows, n, &unfolded, err);
    if (st == HL_OK)
        st = hl_inc_run(inc, v, unfolded ? unfolded : rows, boxes, n, err);
    free(unfolded);
    return st;
}

const float *hl_incremental_clean(const hl_incremental *inc, int value)
{
    int v = inc ? hl_inc_start_value(inc, value) : -1;
    return v >= 0 && hl_model_resolve(inc->m, value) == v ? inc->clean[v] : NULL;
}

/* ------------------------------------------------------------ reading */

hl_status hl_incremental_read(const hl_incremental *inc, int value,
                              float *dst, hl_error *err)
{
    const hl_model *m = inc->m;
    int v = hl_model_resolve(m, value);
    if (v < 0 || v >= m->n_values || !is_dynamic(m, v) || !inc->clean[v] ||
        inc->n < 1)
        return hl_error_set(err, HL_ERR_ARG, "%s: the incremental forward has "
                            "no value %d", m->name, value);
    compose_rows(inc, v, inc->n, dst);
    return HL_OK;
}

size_t hl_incremental_clean_bytes(const hl_incremental *inc)
{
    return inc ? inc->clean_bytes : 0;
}
