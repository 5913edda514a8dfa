/* Backward of a run from any value with any seed, under a rule. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "run_internal.h"

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

/* Whether node nd's own DeepLift multipliers apply (MaxPool): under
 * HL_RULE_DEEPLIFT, unless its input 0 is the output of an op Captum hooks
 * (then Captum's hooks give that op the pool's plain gradient). */
static int deeplift_own_rule(const hl_run *r, const hl_op_ctx *ctx,
                             const hl_node *nd)
{
    const hl_model *m = r->m;
    if (ctx->rule != HL_RULE_DEEPLIFT || !ctx->ref_in ||
        !hl_op_get(nd->op)->deeplift_backward || nd->in[0] < 0)
        return 0;
    int p = m->values[hl_model_resolve(m, nd->in[0])].producer;
    return p < 0 ||
           !(hl_op_get(m->nodes[p].op)->flags & HL_OP_DEEPLIFT_HOOKED);
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

/* The arguments of hl_run_backward, checked. */
static hl_status backward_check(const hl_run *r, int from_value,
                                const float *seed, hl_backward_rule rule,
                                const hl_run *reference, hl_error *err)
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
    return HL_OK;
}

/* Marks in r->grad_valid the values between the inputs (and overridden
 * values, or the backward stop) and `from`: those whose gradient the
 * backward computes. */
static void backward_reach(hl_run *r, int from)
{
    const hl_model *m = r->m;
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
}

/* Node k's tensors for backward: in/out of the run, gout/gin the
 * gradients of its reached outputs/inputs (data NULL where not reached).
 * Returns 1 when some output is live and some input reached. */
static int node_grad_tensors(const hl_run *r, int k, hl_tensor *in,
                             hl_tensor *out, hl_tensor *gout, hl_tensor *gin)
{
    const hl_model *m = r->m;
    const unsigned char *reached = r->grad_valid;
    const hl_node *nd = &m->nodes[k];
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
    return live && any_in;
}

/* The reference run's tensors of node k, into ctx (DeepLift). */
static void node_ref_tensors(const hl_run *reference, const hl_node *nd,
                             hl_op_ctx *ctx, hl_tensor *ref_in,
                             hl_tensor *ref_out)
{
    for (int i = 0; i < nd->n_in; i++)
        ref_tensor(reference, nd->in[i], &ref_in[i]);
    for (int o = 0; o < nd->n_out; o++)
        ref_tensor(reference, nd->out[o], &ref_out[o]);
    ctx->ref_in = ref_in;
    ctx->ref_out = ref_out;
}

/* Zeroing a gradient: large ones over the pool in blocks of 16K floats
 * (a serial memset of ResNet-18's 112x112 planes left the second thread
 * idle long enough to fall asleep before the kernel that follows). */
#define CLEAR_BLOCK 16384L

typedef struct {
    float *p;
    size_t n;
} clear_job;

static void clear_range(void *arg, long begin, long end)
{
    const clear_job *j = arg;
    size_t a = (size_t)begin * CLEAR_BLOCK, b = (size_t)end * CLEAR_BLOCK;
    if (b > j->n)
        b = j->n;
    memset(j->p + a, 0, (b - a) * sizeof(float));
}

static void grad_clear(const hl_op_ctx *ctx, float *p, size_t n)
{
    clear_job j = { p, n };
    long blocks = (long)((n + CLEAR_BLOCK - 1) / CLEAR_BLOCK);
    if (blocks < 4 || !ctx->threadpool)
        memset(p, 0, n * sizeof(float));
    else
        hl_threadpool_for(ctx->threadpool, blocks, clear_range, &j);
}

/* Node k's backward: into the gradients of its reached inputs from those
 * of its reached outputs (a lean run's masked Relu/Clip from its mask).
 * `reference` is the DeepLift reference run, NULL for other rules. A node
 * with its own DeepLift multipliers (MaxPool) is marked in `pending`: they
 * replace its input's gradient once complete (apply_deeplift_pending). */
static void backward_node(hl_run *r, hl_op_ctx *ctx, int k,
                          const hl_run *reference, unsigned char *pending)
{
    const hl_model *m = r->m;
    const hl_node *nd = &m->nodes[k];
    hl_tensor in[HL_MAX_IO], out[HL_MAX_IO], gin[HL_MAX_IO],
        gout[HL_MAX_IO];
    if (!node_grad_tensors(r, k, in, out, gout, gin))
        return;
    hl_tensor ref_in[HL_MAX_IO], ref_out[HL_MAX_IO];
    if (reference)
        node_ref_tensors(reference, nd, ctx, ref_in, ref_out);
    double t0 = r->prof_bwd ? hl_run_profile_now(r) : 0;
    for (int i = 0; i < nd->n_in; i++) {
        int v = nd->in[i] >= 0 ? hl_model_resolve(m, nd->in[i]) : -1;
        if (gin[i].data && !r->zeroed[v]) {
            grad_clear(ctx, gin[i].data,
                       (size_t)hl_shape_numel(&gin[i].shape));
            r->zeroed[v] = 1;
        }
    }
    if (r->prof_bwd)
        r->prof_clear += hl_run_profile_now(r) - t0;
    if (r->mask_words[k])
        hl_run_mask_backward(r, k, &in[0], gout[0].data, gin[0].data,
                             ctx->rule, ctx->relu_family);
    else
        hl_op_get(nd->op)->backward(nd, ctx, in, out, gout, gin);
    if (pending && gin[0].data && deeplift_own_rule(r, ctx, nd) &&
        !m->values[nd->in[0]].scale)
        pending[k] = 1;
    if (r->prof_bwd)
        r->prof_bwd[k] += hl_run_profile_now(r) - t0;
}

/* Replaces the complete input gradient of each pending node whose input
 * is produced by node `producer` (-1: every one left) by the node's
 * DeepLift multipliers, in forward order (Captum's hooks on one tensor run
 * in the order the modules registered them). */
static void apply_deeplift_pending(hl_run *r, hl_op_ctx *ctx,
                                   const hl_run *reference,
                                   unsigned char *pending, int producer)
{
    const hl_model *m = r->m;
    for (int q = 0; q < m->n_nodes; q++) {
        if (!pending[q])
            continue;
        const hl_node *nd = &m->nodes[q];
        int p = m->values[hl_model_resolve(m, nd->in[0])].producer;
        if (producer >= 0 && p != producer)
            continue;
        pending[q] = 0;
        hl_tensor in[HL_MAX_IO], out[HL_MAX_IO], gin[HL_MAX_IO],
            gout[HL_MAX_IO], ref_in[HL_MAX_IO], ref_out[HL_MAX_IO];
        if (!node_grad_tensors(r, q, in, out, gout, gin) || !gin[0].data)
            continue;
        node_ref_tensors(reference, nd, ctx, ref_in, ref_out);
        hl_op_get(nd->op)->deeplift_backward(nd, ctx, in, out, gout, gin);
    }
}

hl_status hl_run_backward(hl_run *r, int from_value, const float *seed,
                          hl_backward_rule rule, const hl_run *reference,
                          hl_error *err)
{
    const hl_model *m = r->m;
    int relu_family = (rule & HL_RULE_RELU_FAMILY) != 0;
    rule = (hl_backward_rule)(rule & ~HL_RULE_RELU_FAMILY);
    if (relu_family && rule != HL_RULE_GUIDED && rule != HL_RULE_DECONV &&
        rule != HL_RULE_DEEPLIFT)
        return hl_error_set(err, HL_ERR_ARG, "%s: HL_RULE_RELU_FAMILY "
                            "modifies only the guided, deconvolution and "
                            "DeepLift rules", m->name);
    hl_status st = backward_check(r, from_value, seed, rule, reference, err);
    if (st)
        return st;
    /* the seed goes to the value that is computed: Y for a pre-BN X
     * (d<seed, X>/dY = seed * scale) */
    int from = from_value;
    const hl_value *fv = &m->values[from_value];
    if (fv->alias >= 0)
        from = fv->scale ? fv->alias : hl_model_resolve(m, from_value);
    backward_reach(r, from);
    unsigned char *reached = r->grad_valid;
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
    ctx.threadpool = r->pool;
    ctx.threads = r->threads;
    ctx.rule = rule;
    ctx.relu_family = relu_family;
    ctx.scratch = r->scratch;
    ctx.weights_transient = m->borrows_graph;  /* see run_forward.c */
    unsigned char *pending = NULL;
    if (rule == HL_RULE_DEEPLIFT) {
        pending = calloc((size_t)m->n_nodes + 1, 1);
        if (!pending)
            return hl_error_set(err, HL_ERR_NOMEM, "%s: out of memory",
                                m->name);
    }
    for (int k = m->n_nodes - 1; k >= 0; k--) {
        if (pending)
            apply_deeplift_pending(r, &ctx, reference, pending, k);
        if (m->node_kind[k] == HL_VAL_DYNAMIC)
            backward_node(r, &ctx, k,
                          rule == HL_RULE_DEEPLIFT ? reference : NULL,
                          pending);
    }
    if (pending)
        apply_deeplift_pending(r, &ctx, reference, pending, -1);
    free(pending);
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
