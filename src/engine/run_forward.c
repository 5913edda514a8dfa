/* Forward of a run: every node in order, overrides applied. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "run_internal.h"

/* Node k's forward, unless every output is overridden; then the
 * overrides of its outputs and which of them need gradients. */
static void forward_node(hl_run *r, hl_op_ctx *ctx, int k)
{
    const hl_model *m = r->m;
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
        double t0 = r->prof_fwd ? hl_run_profile_now(r) : 0;
        op->forward(nd, ctx, in, out);
        if (r->mask_words[k])
            hl_run_mask_make(r, k, &in[0]);
        if (r->prof_fwd)
            r->prof_fwd[k] += hl_run_profile_now(r) - t0;
    }
    for (int o = 0; o < nd->n_out; o++) {
        int v = nd->out[o];
        if (v < 0)
            continue;
        if (r->overridden[v]) {
            /* the override of v itself, or of its pre-BN alias */
            if (r->override[v]) {
                hl_run_apply_override(r, v);
            } else {
                for (int d = 0; d < m->n_values; d++)
                    if (r->override[d] && is_derived(m, d) &&
                        m->values[d].alias == v)
                        hl_run_apply_override(r, d);
            }
        } else if (any_grad && r->plan.t[v].dtype == HL_DT_FLOAT) {
            r->requires_grad[v] = 1;
        }
    }
}

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
    r->serial++;
    hl_status st = hl_run_plan(r, n, shapes, err);
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
            hl_run_apply_override(r, v);

    hl_op_ctx ctx = {0};
    ctx.threadpool = r->pool;
    ctx.threads = r->threads;
    ctx.rule = HL_RULE_GRADIENT;
    ctx.scratch = r->scratch;
    /* a weights copy (model_randomize.c) shares the nodes, and with them
     * oneDNN's primitives made for the original's weights */
    ctx.weights_transient = m->borrows_graph;
    for (int k = 0; k < m->n_nodes; k++)
        if (m->node_kind[k] == HL_VAL_DYNAMIC)
            forward_node(r, &ctx, k);
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
