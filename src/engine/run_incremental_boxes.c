/* Box propagation of the incremental forward (run_incremental.c): where
 * each row's values may differ from the clean forward's, node by node,
 * from the value a forward starts at (the input, or a layer's value),
 * and what that costs: bytes per row (for sizing batches) and
 * multiply-adds per node (for tools that ask how much of a full forward
 * an occlusion window recomputes). */
#include <string.h>

#include "run_incremental.h"

/* Output rows [lo, hi) whose kernel reads any of input rows [a, e). */
static void slide_range(int64_t a, int64_t e, int64_t k, int64_t s,
                        int64_t d, int64_t pb, int64_t out, int64_t *lo,
                        int64_t *hi)
{
    int64_t l = floor_div(a + pb - (k - 1) * d + s - 1, s);
    int64_t h = floor_div(e - 1 + pb, s) + 1;
    *lo = l < 0 ? 0 : l;
    *hi = h > out ? out : h;
    if (*hi < *lo)
        *hi = *lo;
}

hl_box hl_inc_out_box(const hl_incremental *inc, int k, int row)
{
    const hl_model *m = inc->m;
    const hl_node *nd = &m->nodes[k];
    const hl_region *r = &inc->reg[k];
    const hl_shape *os = &inc->plan1.t[nd->out[0]].shape;
    hl_box b = {0, 0, 0, 0};
    int any = 0;
    for (int i = 0; i < nd->n_in; i++) {
        int v = hl_model_resolve(m, nd->in[i]);
        if (!is_dynamic(m, v))
            continue;
        const row_state *s = state(inc, v, row);
        if (!s->dirty)
            continue;
        hl_box o = s->b;
        if (r->sliding) {
            slide_range(s->b.y0, s->b.y1, r->k[0], r->s[0], r->d[0], r->pb[0],
                        os->dims[2], &o.y0, &o.y1);
            slide_range(s->b.x0, s->b.x1, r->k[1], r->s[1], r->d[1], r->pb[1],
                        os->dims[3], &o.x0, &o.x1);
        }
        if (!any) {
            b = o;
            any = 1;
        } else {
            b.y0 = o.y0 < b.y0 ? o.y0 : b.y0;
            b.x0 = o.x0 < b.x0 ? o.x0 : b.x0;
            b.y1 = o.y1 > b.y1 ? o.y1 : b.y1;
            b.x1 = o.x1 > b.x1 ? o.x1 : b.x1;
        }
    }
    return b;
}

/* Does node k read a value that is dirty in some row? */
int hl_inc_node_dirty(const hl_incremental *inc, int k)
{
    const hl_model *m = inc->m;
    const hl_node *nd = &m->nodes[k];
    for (int i = 0; i < nd->n_in; i++) {
        int v = hl_model_resolve(m, nd->in[i]);
        if (is_dynamic(m, v))
            for (int r = 0; r < inc->n; r++)
                if (state(inc, v, r)->dirty)
                    return 1;
    }
    return 0;
}

int64_t hl_inc_propagate(hl_incremental *inc, int64_t input_floats,
                         int64_t *crop_max)
{
    const hl_model *m = inc->m;
    int64_t total = (input_floats + 15) / 16 * 16;
    if (crop_max)
        *crop_max = 0;
    for (int k = 0; k < m->n_nodes; k++) {
        if (m->node_kind[k] != HL_VAL_DYNAMIC || !hl_inc_node_dirty(inc, k))
            continue;
        const hl_node *nd = &m->nodes[k];
        int64_t in_floats = 0;
        for (int i = 0; i < nd->n_in; i++) {
            int v = hl_model_resolve(m, nd->in[i]);
            if (is_dynamic(m, v))
                in_floats += hl_shape_numel(&inc->plan1.t[v].shape);
        }
        if (crop_max && in_floats > *crop_max)
            *crop_max = in_floats;
        for (int o = 0; o < nd->n_out; o++) {
            int v = nd->out[o];
            if (v < 0 || (inc->tracked[k] ? o > 0
                                          : inc->plan1.t[v].dtype != HL_DT_FLOAT))
                continue;   /* as forward_tracked and forward_full do */
            const hl_shape *s1 = &inc->plan1.t[v].shape;
            int64_t floats = 0;
            for (int r = 0; r < inc->n; r++) {
                row_state *s = state(inc, v, r);
                if (inc->tracked[k]) {
                    s->b = hl_inc_out_box(inc, k, r);
                    s->dirty = !box_empty(&s->b);
                    floats += s1->dims[1] * box_area(&s->b);
                } else {
                    s->dirty = 1;
                    s->b = (hl_box){0, s1->ndim == 4 ? s1->dims[2] : 1, 0,
                                    s1->ndim == 4 ? s1->dims[3] : 1};
                    floats += hl_shape_numel(s1);
                }
            }
            total += (floats + 15) / 16 * 16;
        }
    }
    return total;
}

hl_status hl_inc_seed(hl_incremental *inc, int v, const hl_box *boxes,
                      int n, int64_t *floats, hl_error *err)
{
    hl_status st = hl_inc_reserve_rows(inc, n, err);
    if (st != HL_OK)
        return st;
    inc->n = n;
    memset(inc->rs, 0, sizeof *inc->rs * (size_t)inc->m->n_values * (size_t)inc->cap_rows);
    const hl_shape *vs = &inc->plan1.t[v].shape;
    const int64_t H = vs->dims[2], W = vs->dims[3];
    *floats = 0;
    for (int r = 0; r < n; r++) {
        row_state *s = state(inc, v, r);
        hl_box b = boxes[r];
        b.y0 = b.y0 < 0 ? 0 : b.y0;
        b.x0 = b.x0 < 0 ? 0 : b.x0;
        b.y1 = b.y1 > H ? H : b.y1;
        b.x1 = b.x1 > W ? W : b.x1;
        s->b = b;
        s->dirty = !box_empty(&b);
        s->off = *floats;
        *floats += vs->dims[1] * box_area(&b);
    }
    return HL_OK;
}

/* One row with `box` at start value v through the propagation, without
 * computing; the last forward's rows are forgotten. */
static hl_status one_row(hl_incremental *inc, int v, const hl_box *box,
                         int64_t *floats, int64_t *crop_max, hl_error *err)
{
    int64_t seeded = 0;
    hl_status st = hl_inc_seed(inc, v, box, 1, &seeded, err);
    if (st == HL_OK)
        *floats = hl_inc_propagate(inc, seeded, crop_max);
    return st;
}

size_t hl_incremental_row_bytes(hl_incremental *inc, const hl_box *box,
                                hl_error *err)
{
    return hl_incremental_row_bytes_from(inc, inc->input, box, err);
}

size_t hl_incremental_row_bytes_from(hl_incremental *inc, int value,
                                     const hl_box *box, hl_error *err)
{
    int v = value == inc->input ? value : hl_inc_start_value(inc, value);
    if (v < 0)
        return 0;
    /* its dirty numbers of every value plus the crops of its largest
     * node (at most whole inputs, plus a padding ring) */
    int64_t floats = 0, crop_max = 0;
    if (one_row(inc, v, box, &floats, &crop_max, err) != HL_OK)
        return 0;
    inc->n = 0;
    return sizeof(float) * (size_t)(floats + 2 * crop_max);
}

hl_status hl_incremental_node_macs(hl_incremental *inc, const hl_box *box,
                                   double *computed, double *full,
                                   hl_error *err)
{
    int64_t floats = 0;
    hl_status st = one_row(inc, inc->input, box, &floats, NULL, err);
    const hl_model *m = inc->m;
    for (int k = 0; st == HL_OK && k < m->n_nodes; k++) {
        computed[k] = full[k] = 0;
        const hl_node *nd = &m->nodes[k];
        if (m->node_kind[k] != HL_VAL_DYNAMIC || nd->out[0] < 0)
            continue;
        /* the node's count at batch 1, as hl_model_forward_flops sums */
        const hl_op *op = hl_op_get(nd->op);
        hl_tensor in[HL_MAX_IO], out[HL_MAX_IO];
        for (int i = 0; i < nd->n_in; i++)
            if (nd->in[i] >= 0)
                in[i] = inc->plan1.t[hl_model_resolve(m, nd->in[i])];
            else
                memset(&in[i], 0, sizeof in[i]);
        for (int o = 0; o < nd->n_out; o++)
            if (nd->out[o] >= 0)
                out[o] = inc->plan1.t[nd->out[o]];
            else
                memset(&out[o], 0, sizeof out[o]);
        full[k] = op->flops ? op->flops(nd, in, out)
                            : (double)hl_shape_numel(&out[0].shape);
        /* a computed box costs its share of the output (every output
         * element of a conv or a pointwise op costs the same) */
        const row_state *s = state(inc, nd->out[0], 0);
        const hl_shape *os = &out[0].shape;
        if (!s->dirty)
            continue;
        computed[k] = full[k];
        if (inc->tracked[k] && os->ndim == 4 && os->dims[2] * os->dims[3] > 0)
            computed[k] *= (double)box_area(&s->b) /
                           (double)(os->dims[2] * os->dims[3]);
    }
    inc->n = 0;
    return st;
}
