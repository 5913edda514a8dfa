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

/* Whether node nd has DeepLift multipliers of its own (MaxPool) that
 * replace its input's gradient as the input's producer's backward sees it:
 * unless that producer is an op Captum hooks with an elementwise rule
 * (Relu...), whose rule reads the gradient Captum's hook on the shared
 * tensor captured before the pool's hook ran. A hooked MaxPool producer's
 * plain backward does see the replacement (autograd), while its own rule
 * reads the gradient from before it (dl_state.pre). */
static int deeplift_own_node(const hl_model *m, const hl_node *nd)
{
    if (!hl_op_get(nd->op)->deeplift_backward || nd->in[0] < 0)
        return 0;
    int p = m->values[hl_model_resolve(m, nd->in[0])].producer;
    if (p < 0)
        return 1;
    const hl_op *po = hl_op_get(m->nodes[p].op);
    return !(po->flags & HL_OP_DEEPLIFT_HOOKED) || po->deeplift_backward;
}

/* Whether node nd's own DeepLift multipliers apply: under
 * HL_RULE_DEEPLIFT with a reference, at a deeplift_own_node. */
static int deeplift_own_rule(const hl_run *r, const hl_op_ctx *ctx,
                             const hl_node *nd)
{
    return ctx->rule == HL_RULE_DEEPLIFT && ctx->ref_in &&
           deeplift_own_node(r->m, nd);
}

/* What a DeepLift backward keeps besides the gradients:
 * - pending (per node): the node's own multipliers replace its input's
 *   gradient once complete (apply_deeplift_pending);
 * - feeds_pool (per node): a hooked elementwise op whose output is a
 *   MaxPool's input (Captum's pool hook then replaces that output's
 *   gradient before this op's own hook reads its grad_input; see the ctx
 *   field eps_grad);
 * - pre, pre_half (per value): the gradient of the output of a MaxPool
 *   with a rule of its own before the multipliers of the pools it feeds
 *   replaced it (Captum's hook on a module's output captures it first):
 *   what that pool's rule reads;
 * - half, half_from: Captum's doubled batch carries the reference in its
 *   second half, with a gradient of its own, which the MaxPool rule reads
 *   (grad_output's second half). It differs from the input half's where
 *   an op's backward treats the halves differently (a pool's plain
 *   backward routes each over its own argmax). So the reference run's
 *   backward runs too, into its own gradients, through the same rules with
 *   this run as its reference, in step with this run's, for the nodes from
 *   half_from on: the first MaxPool with a rule of its own, below which no
 *   rule reads the reference half's gradient. NULL when the graph has none
 *   (no cost), or the reference has batch 1 against a larger batch (then
 *   both halves take this run's gradient). The halves' gradients are equal
 *   from the seed on, and again at the input of every pool with a rule:
 *   a value's gradient is the half's own (mat) only from a node whose
 *   backward may treat the halves differently (half_node), and becomes
 *   shared again where both come out equal; a node whose backward reads
 *   no data runs for the half only where some of its gradients are the
 *   half's own. */
typedef struct {
    unsigned char *pending, *feeds_pool;
    unsigned char *mat; /* per value: the half's gradient is its own */
    float **pre, **pre_half;
    hl_run *half;
    int half_from;
} dl_state;

static void dl_state_free(const hl_model *m, dl_state *d)
{
    for (int v = 0; d->pre && v < m->n_values; v++) {
        free(d->pre[v]);
        free(d->pre_half[v]);
    }
    free(d->pre);
    free(d->pending);
}

static hl_status dl_state_init(hl_run *r, hl_run *reference, dl_state *d,
                               hl_error *err)
{
    const hl_model *m = r->m;
    memset(d, 0, sizeof *d);
    d->pending = calloc(2 * ((size_t)m->n_nodes + 1) + (size_t)m->n_values,
                        1);
    d->pre = calloc(2 * (size_t)m->n_values + 1, sizeof *d->pre);
    if (!d->pending || !d->pre) {
        dl_state_free(m, d);
        return hl_error_set(err, HL_ERR_NOMEM, "%s: out of memory", m->name);
    }
    d->pre_half = d->pre + m->n_values;
    d->feeds_pool = d->pending + m->n_nodes + 1;
    d->mat = d->feeds_pool + m->n_nodes + 1;
    d->half_from = m->n_nodes;
    for (int k = m->n_nodes - 1; k >= 0; k--) {
        const hl_node *nd = &m->nodes[k];
        if (m->node_kind[k] != HL_VAL_DYNAMIC ||
            !hl_op_get(nd->op)->deeplift_backward || nd->in[0] < 0)
            continue;
        if (deeplift_own_node(m, nd)) {
            d->half_from = k;
            continue;
        }
        int p = m->values[hl_model_resolve(m, nd->in[0])].producer;
        if (p >= 0)
            d->feeds_pool[p] = 1;
    }
    if (d->half_from < m->n_nodes && reference != r &&
        reference->batch == r->batch)
        d->half = reference;
    return HL_OK;
}

/* Copies the gradient of value v (before a pool's multipliers replace
 * it) for its producer's own rule; 0 when out of memory. */
static int dl_keep_pre(const hl_run *run, int v, float **slot)
{
    if (*slot || !run->grad[v])
        return 1;
    size_t n = (size_t)hl_shape_numel(&run->plan.t[v].shape);
    *slot = malloc(n * sizeof(float));
    if (!*slot)
        return 0;
    memcpy(*slot, run->grad[v], n * sizeof(float));
    return 1;
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

/* Node k's tensors for backward: in/out of `half` (the run, or under
 * DeepLift the reference run for the reference half), gout/gin the
 * gradients of its reached outputs/inputs (data NULL where not reached;
 * what is reached is the run's; for the reference half, an output whose
 * gradient is not its own (mat) takes the run's). Returns 1 when some
 * output is live and some input reached. */
static int node_grad_tensors(const hl_run *r, const hl_run *half,
                             const unsigned char *mat, int k, hl_tensor *in,
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
        out[o] = half->plan.t[v];
        gout[o].shape = out[o].shape;
        gout[o].dtype = HL_DT_FLOAT;
        if (reached[v] && !r->overridden[v] && half->grad[v]) {
            /* a shared gradient is the run's */
            gout[o].data = half == r || (mat && mat[v]) ? half->grad[v]
                                                        : r->grad[v];
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
        in[i] = half->plan.t[v];
        gin[i].shape = in[i].shape;
        gin[i].dtype = in[i].dtype;
        if (reached[v] && half->grad[v]) {
            gin[i].data = half->grad[v];
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

/* Node k's backward in `half` (the run, or under DeepLift the reference
 * run for Captum's reference half): into the gradients of its reached
 * inputs from those of its reached outputs (a lean run's masked Relu/Clip
 * from its mask). `other` is that half's DeepLift reference (the reference
 * run, or the run for the reference half), NULL for other rules. A node
 * of the run with its own DeepLift multipliers (MaxPool) is marked
 * pending: they replace its input's gradient once complete
 * (apply_deeplift_pending). */
static void backward_node(hl_run *r, hl_run *half, hl_op_ctx *ctx, int k,
                          const hl_run *other, dl_state *dl)
{
    const hl_model *m = r->m;
    const hl_node *nd = &m->nodes[k];
    hl_tensor in[HL_MAX_IO], out[HL_MAX_IO], gin[HL_MAX_IO],
        gout[HL_MAX_IO];
    if (!node_grad_tensors(r, half, dl ? dl->mat : NULL, k, in, out, gout, gin))
        return;
    hl_tensor ref_in[HL_MAX_IO], ref_out[HL_MAX_IO];
    if (other)
        node_ref_tensors(other, nd, ctx, ref_in, ref_out);
    int prof = r->prof_bwd && half == r;
    double t0 = prof ? hl_run_profile_now(r) : 0;
    for (int i = 0; i < nd->n_in; i++) {
        int v = nd->in[i] >= 0 ? hl_model_resolve(m, nd->in[i]) : -1;
        if (gin[i].data && !half->zeroed[v]) {
            grad_clear(ctx, gin[i].data,
                       (size_t)hl_shape_numel(&gin[i].shape));
            half->zeroed[v] = 1;
        }
    }
    if (prof)
        r->prof_clear += hl_run_profile_now(r) - t0;
    ctx->eps_grad = NULL;
    if (dl && dl->feeds_pool[k] && nd->out[0] >= 0 && r->grad[nd->out[0]]) {
        /* Captum's grad_input here is the pool's multipliers, at these
         * positions the complete gradient's first row (the run's) */
        const hl_shape *s = &r->plan.t[nd->out[0]].shape;
        ctx->eps_grad = r->grad[nd->out[0]];
        ctx->eps_period = s->ndim > 0 && s->dims[0] > 0
                              ? (long)(hl_shape_numel(s) / s->dims[0])
                              : (long)hl_shape_numel(s);
    }
    if (half->mask_words[k])
        hl_run_mask_backward(half, k, &in[0], gout[0].data, gin[0].data,
                             ctx->rule, ctx->relu_family);
    else
        hl_op_get(nd->op)->backward(nd, ctx, in, out, gout, gin);
    ctx->eps_grad = NULL;
    if (dl && half == r && gin[0].data && deeplift_own_rule(r, ctx, nd) &&
        !m->values[nd->in[0]].scale)
        dl->pending[k] = 1;
    if (prof)
        r->prof_bwd[k] += hl_run_profile_now(r) - t0;
}

/* Pending node q's multipliers over its input's complete gradient (both
 * halves' where the reference half runs: the same values, as Captum
 * concatenates the multipliers twice). Its output's gradient from before
 * the replacement by the pools it feeds, where it was (dl->pre). */
static void deeplift_pending_node(hl_run *r, hl_op_ctx *ctx,
                                  const hl_run *reference, dl_state *dl,
                                  int q)
{
    const hl_model *m = r->m;
    const hl_node *nd = &m->nodes[q];
    hl_tensor in[HL_MAX_IO], out[HL_MAX_IO], gin[HL_MAX_IO],
        gout[HL_MAX_IO], ref_in[HL_MAX_IO], ref_out[HL_MAX_IO];
    if (!node_grad_tensors(r, r, NULL, q, in, out, gout, gin) || !gin[0].data)
        return;
    hl_tensor hin[HL_MAX_IO], hout[HL_MAX_IO], hgin[HL_MAX_IO],
        hgout[HL_MAX_IO];
    int half = dl->half && q >= dl->half_from &&
               node_grad_tensors(r, dl->half, dl->mat, q, hin, hout, hgout,
                                 hgin) &&
               hgin[0].data;
    int u = hl_model_resolve(m, nd->in[0]), w = nd->out[0];
    int p = m->values[u].producer;
    if (p >= 0 && deeplift_own_node(m, &m->nodes[p])) {
        /* the producer, a MaxPool, reads u's gradient from before this */
        if (!dl_keep_pre(r, u, &dl->pre[u]) ||
            (half && dl->mat[u] &&
             !dl_keep_pre(dl->half, u, &dl->pre_half[u])))
            return; /* out of memory: the plain gradient stays */
    }
    if (w >= 0 && dl->pre[w] && gout[0].data)
        gout[0].data = dl->pre[w];
    /* the half's own gradient at w, else the run's (ref_gout NULL) */
    half = half && w >= 0 && hgout[0].data && (dl->pre_half[w] || dl->mat[w]);
    if (half && dl->pre_half[w])
        hgout[0].data = dl->pre_half[w];
    node_ref_tensors(reference, nd, ctx, ref_in, ref_out);
    ctx->ref_gout = half ? hgout : NULL;
    hl_op_get(nd->op)->deeplift_backward(nd, ctx, in, out, gout, gin);
    ctx->ref_gout = NULL;
    dl->mat[u] = 0; /* both halves now hold the multipliers */
}

/* Replaces the complete input gradient of each pending node whose input
 * is produced by node `producer` (-1: every one left) by the node's
 * DeepLift multipliers, in forward order (Captum's hooks on one tensor run
 * in the order the modules registered them). */
static void apply_deeplift_pending(hl_run *r, hl_op_ctx *ctx,
                                   const hl_run *reference, dl_state *dl,
                                   int producer)
{
    const hl_model *m = r->m;
    for (int q = 0; q < m->n_nodes; q++) {
        if (!dl->pending[q])
            continue;
        const hl_node *nd = &m->nodes[q];
        int p = m->values[hl_model_resolve(m, nd->in[0])].producer;
        if (producer >= 0 && p != producer)
            continue;
        dl->pending[q] = 0;
        deeplift_pending_node(r, ctx, reference, dl, q);
    }
}

/* Whether node k's backward may treat the halves differently with the
 * same output gradients: it reads data (an activation, a pool), or a
 * weight computed from the input. */
static int half_node(const hl_run *r, int k)
{
    const hl_node *nd = &r->m->nodes[k];
    hl_bwd_reads reads = hl_op_get(nd->op)->bwd_reads;
    if (reads == HL_BWD_READS_NOTHING)
        return 0;
    if (reads != HL_BWD_READS_WEIGHTS && reads != HL_BWD_READS_OTHER_OPERAND)
        return 1;
    for (int i = 1; i < nd->n_in; i++)
        if (nd->in[i] >= 0 && r->requires_grad[nd->in[i]])
            return 1;
    return 0;
}

/* Before node k's backward: whether the reference half's runs, and if so
 * its inputs' gradients made its own (a copy of the run's so far: the
 * consumers done until now gave both halves the same share). */
static int half_begin(const hl_run *r, dl_state *dl, int k)
{
    const hl_model *m = r->m;
    const hl_node *nd = &m->nodes[k];
    if (deeplift_own_node(m, nd)) {
        /* its multipliers replace the input's gradient in both halves;
         * the half's share before that is read only by a MaxPool with a
         * rule of its own that produced the input (its grad_output) */
        int p = m->values[hl_model_resolve(m, nd->in[0])].producer;
        if (p < 0 || !deeplift_own_node(m, &m->nodes[p]))
            return 0;
    }
    int need = half_node(r, k);
    for (int o = 0; o < nd->n_out && !need; o++)
        need = nd->out[o] >= 0 && dl->mat[nd->out[o]];
    for (int i = 0; i < nd->n_in && !need; i++)
        need = nd->in[i] >= 0 && dl->mat[hl_model_resolve(m, nd->in[i])];
    if (!need)
        return 0;
    hl_run *h = dl->half;
    for (int i = 0; i < nd->n_in; i++) {
        int v = nd->in[i] >= 0 ? hl_model_resolve(m, nd->in[i]) : -1;
        if (v < 0 || dl->mat[v] || !r->grad_valid[v] || !h->grad[v])
            continue;
        dl->mat[v] = 1;
        h->zeroed[v] = r->zeroed[v];
        if (r->zeroed[v])
            memcpy(h->grad[v], r->grad[v],
                   (size_t)hl_shape_numel(&r->plan.t[v].shape) *
                       sizeof(float));
    }
    return 1;
}

/* After node k's backward in both halves: an input whose two gradients
 * came out equal is shared again. */
static void half_end(const hl_run *r, dl_state *dl, int k)
{
    const hl_node *nd = &r->m->nodes[k];
    for (int i = 0; i < nd->n_in; i++) {
        int v = nd->in[i] >= 0 ? hl_model_resolve(r->m, nd->in[i]) : -1;
        if (v >= 0 && dl->mat[v] && r->zeroed[v] && dl->half->zeroed[v] &&
            !memcmp(dl->half->grad[v], r->grad[v],
                    (size_t)hl_shape_numel(&r->plan.t[v].shape) *
                        sizeof(float)))
            dl->mat[v] = 0;
    }
}

/* The seed into `half`'s gradient at `from` (the value that is computed:
 * Y for a pre-BN X, d<seed, X>/dY = seed * scale). */
static void seed_gradient(hl_run *half, int from, const hl_value *fv,
                          const float *seed)
{
    const hl_shape *s = &half->plan.t[from].shape;
    size_t n = (size_t)hl_shape_numel(s);
    float *g = half->grad[from];
    if (fv->alias >= 0 && fv->scale) {
        for (size_t i = 0; i < n; i++)
            g[i] = seed[i] * fv->scale[channel_of(s, i)];
    } else {
        memcpy(g, seed, n * sizeof(float));
    }
    half->zeroed[from] = 1;
}

hl_status hl_run_backward(hl_run *r, int from_value, const float *seed,
                          hl_backward_rule rule, hl_run *reference,
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
    int from = from_value;
    const hl_value *fv = &m->values[from_value];
    if (fv->alias >= 0)
        from = fv->scale ? fv->alias : hl_model_resolve(m, from_value);
    backward_reach(r, from);
    unsigned char *reached = r->grad_valid;
    dl_state dl;
    int deeplift = rule == HL_RULE_DEEPLIFT;
    if (deeplift && (st = dl_state_init(r, reference, &dl, err)))
        return st;
    /* gradients start at zero: each is cleared when the first consumer's
     * backward is about to write it (every reached value but `from` has a
     * consumer that runs), not all at once here: in a lean run the memory
     * may hold another value until then, and in any run it is then warm
     * in the cache for the kernel that accumulates into it */
    memset(r->zeroed, 0, (size_t)m->n_values);
    seed_gradient(r, from, fv, seed);
    if (deeplift && dl.half)
        memset(dl.half->zeroed, 0, (size_t)m->n_values);

    hl_op_ctx ctx = {0};
    ctx.threadpool = r->pool;
    ctx.threads = r->threads;
    ctx.rule = rule;
    ctx.relu_family = relu_family;
    ctx.scratch = r->scratch;
    ctx.weights_transient = m->borrows_graph;  /* see run_forward.c */
    for (int k = m->n_nodes - 1; k >= 0; k--) {
        if (deeplift)
            apply_deeplift_pending(r, &ctx, reference, &dl, k);
        if (m->node_kind[k] != HL_VAL_DYNAMIC)
            continue;
        int half = deeplift && dl.half && k >= dl.half_from &&
                   half_begin(r, &dl, k);
        if (half)
            backward_node(r, dl.half, &ctx, k, r, &dl);
        backward_node(r, r, &ctx, k, deeplift ? reference : NULL,
                      deeplift ? &dl : NULL);
        if (half)
            half_end(r, &dl, k);
    }
    if (deeplift) {
        apply_deeplift_pending(r, &ctx, reference, &dl, -1);
        dl_state_free(m, &dl);
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
