/* Plans: the shape, dtype and plan-time data of every value for concrete
 * input shapes. STATIC values (Shape chains) are evaluated here, and so
 * are load-time constant nodes (hl_node_evaluate). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "graph.h"

static hl_status node_error(const hl_model *m, const hl_node *n, hl_status st,
                            const char *msg, hl_error *err)
{
    return hl_error_set(err, st, "%s: node '%s' (%s): %s", m->name, n->name,
                        n->op_type, msg && msg[0] ? msg : hl_status_name(st));
}

/* Element counts are checked with hl_shape_numel_capped: the caps keep
 * hostile files from asking for wrapped or absurd allocations. */
#define HL_MAX_FOLDED_ELEMS ((int64_t)1 << 28) /* one load/plan-time value */

static int64_t safe_numel(const hl_shape *s, int64_t cap)
{
    return hl_shape_numel_capped(s, cap);
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

/* A constant this large is folded only for a model whose input is an
 * image, [N,3,H,W] or [N,1,H,W] as preprocessing needs (issue 16): a
 * 133-byte file that is no image classifier must not cost seconds and
 * gigabytes before it is refused. */
#define HL_LARGE_FOLD_ELEMS ((int64_t)1 << 22)

static hl_status check_large_fold(const hl_model *m, const hl_node *n,
                                  const hl_shape *s, hl_error *err)
{
    if (hl_shape_numel(s) <= HL_LARGE_FOLD_ELEMS)
        return HL_OK;
    const hl_shape *x = m->n_inputs == 1 && m->input_shapes
                            ? &m->input_shapes[0] : NULL;
    if (x && x->ndim == 4 && (x->dims[1] == 3 || x->dims[1] == 1))
        return HL_OK;
    char b1[128], b2[128] = "(several inputs)";
    if (x) {   /* [N,4]: the batch is free */
        hl_shape rest = *x;
        rest.ndim = x->ndim > 0 ? x->ndim - 1 : 0;
        for (int d = 0; d < rest.ndim; d++)
            rest.dims[d] = x->dims[d + 1];
        char r[120];
        hl_shape_format(&rest, r, sizeof r);
        snprintf(b2, sizeof b2, "[N%s%s", rest.ndim ? "," : "", r + 1);
    }
    return hl_error_set(err, HL_ERR_UNSUPPORTED,
                        "%s: node '%s' (%s) folds a constant %s at load, but "
                        "the model's input %s is not an image [N,3,H,W] or "
                        "[N,1,H,W]: not an image classifier", m->name, n->name,
                        n->op_type, hl_shape_format(s, b1, sizeof b1), b2);
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
        st = check_large_fold(m, n, &out[o].shape, err);
        if (st)
            return st;
        size_t numel = (size_t)hl_shape_numel(&out[o].shape);
        char what[300];
        snprintf(what, sizeof what, "folding node '%s' (%s)", n->name,
                 n->op_type);
        st = hl_check_memory(numel * hl_dtype_size(out[o].dtype), m->name,
                             what, err);
        if (st)
            return st;
        void *p = hl_arena_alloc(arena, numel * hl_dtype_size(out[o].dtype));
        if (!p)
            return hl_error_set(err, HL_ERR_NOMEM, "%s: out of memory",
                                m->name);
        out[o].data = out[o].dtype == HL_DT_FLOAT ? p : NULL;
        out[o].i64 = out[o].dtype == HL_DT_INT64 ? p : NULL;
    }
    /* The forward kernels read every present input: each must be float
     * and hold its data (a fold that answered "inputs not known" leaves a
     * value whose data is not there; a kernel must never see it). */
    int all_float = 1, missing = -1;
    for (int i = 0; i < n->n_in; i++) {
        if (n->in[i] < 0)
            continue;
        if (in[i].dtype != HL_DT_FLOAT)
            all_float = 0;
        else if (!in[i].data && hl_shape_numel(&in[i].shape) > 0 && missing < 0)
            missing = i;
    }
    if (missing >= 0)
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
    if (st && missing >= 0) {
        char what[80];
        snprintf(what, sizeof what, "input %d has no data at load time",
                 missing + 1);
        return node_error(m, n, HL_ERR_UNSUPPORTED, what, err);
    }
    if (st)
        return node_error(m, n, HL_ERR_UNSUPPORTED,
                          "cannot evaluate this op on constant int64 "
                          "inputs at load time", err);
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
    uint64_t folded = 0;
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
            for (int o = 0; st == HL_OK && o < n->n_out; o++)
                if (n->out[o] >= 0)
                    folded += (uint64_t)hl_shape_numel(&out[o].shape) *
                              hl_dtype_size(out[o].dtype);
            if (st == HL_OK)
                st = hl_check_memory(folded, m->name,
                                     "the plan's folded values", err);
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
