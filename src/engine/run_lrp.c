/* Layer-wise relevance propagation (Captum 0.7's LRP and its rules).
 *
 * Captum hooks every layer with a rule: at the layer's output the arriving
 * relevance R is divided by z + eps sign(z) (z the layer's output, computed
 * with the rule's weights from the original inputs, sign(0) = 1), the
 * layer's backward (with those weights) takes it to the inputs and the
 * result is multiplied by the inputs x: R_in = x * J^T (R / stab(z)).
 * Relevance passes Relu/Tanh unchanged and reshapes as they are. Here each
 * node's own backward (the gradient rule) is that J^T, so one rule covers
 * every op class; the op table gives each op its class (hl_op.lrp). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "run_internal.h"

#define LRP_STABILITY 1e-9f  /* Captum's PropagationRule.STABILITY_FACTOR */

static float stabilised(float z, float eps)
{
    return z + (z >= 0.0f ? eps : -eps);
}

/* The rule's weights (Captum's _manipulate_weights): gamma w + g max(w,0),
 * alpha1-beta0 max(w,0). Bias unchanged (set_bias_to_zero=False). */
static void modify_weights(const hl_lrp_rule *rule, const float *w, float *o,
                           size_t n)
{
    for (size_t i = 0; i < n; i++) {
        float p = w[i] > 0.0f ? w[i] : 0.0f;
        o[i] = rule->kind == HL_LRP_GAMMA ? w[i] + rule->value * p : p;
    }
}

/* The pre-BN value of a Conv whose BatchNormalization was folded into it
 * (fold_bn.c), or -1. */
static int pre_bn_value(const hl_model *m, int vo)
{
    for (int v = 0; v < m->n_values; v++)
        if (m->values[v].alias == vo && m->values[v].scale &&
            m->values[v].bn_mean)
            return v;
    return -1;
}

/* Captum's rule on the folded BatchNorm Y = s (X - mean) + beta, from
 * R_Y to R_X: R_X = X s' R_Y / stab(s' (X - mean) + beta), s' = s for
 * epsilon (stab with its eps), s + g max(s, 0) for gamma, max(s, 0) for
 * alpha1-beta0 (Captum changes the BN weight gamma, and s = gamma /
 * sqrt(var + eps) has its sign); identity passes R_Y. */
static void lrp_bn_step(const hl_value *pv, const hl_shape *shape,
                        const float *x, const float *ry,
                        const hl_lrp_rule *rule, float *rx)
{
    size_t n = (size_t)hl_shape_numel(shape);
    float eps = rule->kind == HL_LRP_EPSILON ? rule->value : LRP_STABILITY;
    for (size_t i = 0; i < n; i++) {
        int c = channel_of(shape, i);
        float sc = 1.0f / pv->scale[c];
        if (rule->kind == HL_LRP_IDENTITY) {
            rx[i] = ry[i];
            continue;
        }
        float sp = sc > 0.0f ? sc : 0.0f;
        float s2 = rule->kind == HL_LRP_GAMMA ? sc + rule->value * sp
                   : rule->kind == HL_LRP_ALPHA1_BETA0 ? sp : sc;
        float z = s2 * (x[i] - pv->bn_mean[c]) + pv->bn_beta[c];
        rx[i] = x[i] * s2 * ry[i] / stabilised(z, eps);
    }
}

typedef struct lrp_state {
    hl_run *r;
    hl_op_ctx ctx;
    unsigned char *has;   /* per resolved value: relevance arrived */
    const hl_lrp_rules *rules;
} lrp_state;

/* Relevance R (the output's gradient slot) through node k under `rule`
 * into its data inputs' slots. */
static hl_status lrp_rule_node(lrp_state *st, const hl_node *nd,
                               const hl_lrp_rule *rule, hl_error *err)
{
    hl_run *r = st->r;
    const hl_model *m = r->m;
    const hl_op *op = hl_op_get(nd->op);
    int vo = hl_model_resolve(m, nd->out[0]);
    hl_tensor in[HL_MAX_IO], out[HL_MAX_IO], gin[HL_MAX_IO], gout[HL_MAX_IO];
    memset(gout, 0, sizeof gout);
    memset(out, 0, sizeof out);
    out[0] = r->plan.t[vo];
    size_t no = (size_t)hl_shape_numel(&out[0].shape);
    float *wmod = NULL, *zmod = NULL, *s = malloc(no * sizeof *s);
    float *tmp[HL_MAX_IO] = {0};
    hl_status ret = HL_OK;
    if (!s)
        return hl_error_set(err, HL_ERR_NOMEM, "%s: out of memory (LRP)", m->name);
    for (int i = 0; i < nd->n_in; i++) {
        memset(&gin[i], 0, sizeof gin[i]);
        if (nd->in[i] < 0) {
            memset(&in[i], 0, sizeof in[i]);
            in[i].shape.ndim = gin[i].shape.ndim = -1;
            continue;
        }
        int v = hl_model_resolve(m, nd->in[i]);
        in[i] = r->plan.t[v];
        gin[i].shape = in[i].shape;
        gin[i].dtype = in[i].dtype;
    }
    int weighted = rule->kind == HL_LRP_GAMMA || rule->kind == HL_LRP_ALPHA1_BETA0;
    const float *g = r->grad[vo];
    /* A Conv with a folded BatchNorm is Captum's two layers: the BN's rule
     * from R_Y to R_X, then the Conv's with its own weights W = W_f / s and
     * bias b = (b_f - beta) / s + mean (fold_bn.c). */
    int pv = nd->n_in > 2 && in[1].data && in[2].data
                 ? pre_bn_value(m, vo) : -1;
    float *rpre = NULL, *borig = NULL;
    if (pv >= 0) {
        const hl_value *bn = &m->values[pv];
        size_t nw = (size_t)hl_shape_numel(&in[1].shape);
        int64_t cout = in[1].shape.dims[0], per = (int64_t)nw / cout;
        const float *xpre = hl_run_value(r, pv, NULL);
        rpre = malloc(no * sizeof *rpre);
        wmod = malloc(nw * sizeof *wmod);
        borig = malloc((size_t)cout * sizeof *borig);
        zmod = malloc(no * sizeof *zmod);
        if (!xpre || !rpre || !wmod || !borig || !zmod) {
            ret = hl_error_set(err, HL_ERR_NOMEM, "%s: out of memory (LRP)", m->name);
            free(rpre);
            free(borig);
            goto done;
        }
        lrp_bn_step(bn, &out[0].shape, xpre, g,
                    &st->rules->rule[HL_LRP_BATCHNORM], rpre);
        for (int64_t c = 0; c < cout; c++) {
            for (int64_t q = 0; q < per; q++)
                wmod[c * per + q] = in[1].data[c * per + q] * bn->scale[c];
            borig[c] = (in[2].data[c] - bn->bn_beta[c]) * bn->scale[c] +
                       bn->bn_mean[c];
        }
        if (weighted)
            modify_weights(rule, wmod, wmod, nw);
        in[1].data = wmod;
        in[2].data = borig;
        out[0].data = zmod;
        st->ctx.weights_transient = 1;
        op->forward(nd, &st->ctx, in, out);
        g = rpre;
    } else if (weighted && nd->n_in > 1 && nd->in[1] >= 0 && in[1].data &&
        !r->requires_grad[hl_model_resolve(m, nd->in[1])]) {
        size_t nw = (size_t)hl_shape_numel(&in[1].shape);
        wmod = malloc(nw * sizeof *wmod);
        zmod = malloc(no * sizeof *zmod);
        if (!wmod || !zmod) {
            ret = hl_error_set(err, HL_ERR_NOMEM, "%s: out of memory (LRP)", m->name);
            goto done;
        }
        modify_weights(rule, in[1].data, wmod, nw);
        in[1].data = wmod;
        out[0].data = zmod;
        st->ctx.weights_transient = 1;
        op->forward(nd, &st->ctx, in, out);
    }
    float eps = rule->kind == HL_LRP_EPSILON ? rule->value : LRP_STABILITY;
    for (size_t j = 0; j < no; j++)
        s[j] = g[j] / stabilised(out[0].data[j], eps);
    free(rpre);
    rpre = NULL;
    free(borig);
    borig = NULL;
    gout[0].shape = out[0].shape;
    gout[0].dtype = HL_DT_FLOAT;
    gout[0].data = s;
    for (int i = 0; i < nd->n_in; i++) {
        if (nd->in[i] < 0 || !r->requires_grad[hl_model_resolve(m, nd->in[i])])
            continue;
        tmp[i] = calloc((size_t)hl_shape_numel(&in[i].shape), sizeof(float));
        if (!tmp[i]) {
            ret = hl_error_set(err, HL_ERR_NOMEM, "%s: out of memory (LRP)", m->name);
            goto done;
        }
        gin[i].data = tmp[i];
    }
    op->backward(nd, &st->ctx, in, out, gout, gin);
    st->ctx.weights_transient = 0;
    for (int i = 0; i < nd->n_in; i++) {
        if (!tmp[i])
            continue;
        int v = hl_model_resolve(m, nd->in[i]);
        size_t n = (size_t)hl_shape_numel(&in[i].shape);
        const float *x = r->plan.t[v].data;
        float *rel = r->grad[v];
        for (size_t j = 0; j < n; j++)
            rel[j] += x[j] * tmp[i][j];
        st->has[v] = 1;
    }
done:
    for (int i = 0; i < nd->n_in; i++)
        free(tmp[i]);
    free(s);
    free(wmod);
    free(zmod);
    return ret;
}

/* Relu, Tanh, reshapes and the identity rule: R_in = R for every data
 * input (Captum's IdentityRule gives each input the output's relevance). */
static hl_status lrp_pass_node(lrp_state *st, const hl_node *nd, hl_error *err)
{
    hl_run *r = st->r;
    const hl_model *m = r->m;
    int vo = hl_model_resolve(m, nd->out[0]);
    size_t no = (size_t)hl_shape_numel(&r->plan.t[vo].shape);
    for (int i = 0; i < nd->n_in; i++) {
        if (nd->in[i] < 0)
            continue;
        int v = hl_model_resolve(m, nd->in[i]);
        if (!r->requires_grad[v])
            continue;
        if ((size_t)hl_shape_numel(&r->plan.t[v].shape) != no)
            return hl_error_set(err, HL_ERR_UNSUPPORTED,
                                "%s: node '%s' (%s): the identity LRP rule needs "
                                "inputs of the output's size", m->name,
                                nd->name, nd->op_type);
        for (size_t j = 0; j < no; j++)
            r->grad[v][j] += r->grad[vo][j];
        st->has[v] = 1;
    }
    return HL_OK;
}

static hl_status lrp_node(lrp_state *st, int k, const hl_lrp_rules *rules,
                          hl_error *err)
{
    const hl_model *m = st->r->m;
    const hl_node *nd = &m->nodes[k];
    int live = 0;
    for (int o = 0; o < nd->n_out; o++)
        if (nd->out[o] >= 0 && st->has[hl_model_resolve(m, nd->out[o])])
            live = 1;
    if (!live)
        return HL_OK;
    hl_lrp_class cls = hl_op_get(nd->op)->lrp;
    if (cls == HL_LRP_PASS)
        return lrp_pass_node(st, nd, err);
    const hl_lrp_rule *rule = &rules->rule[cls];
    if (rule->kind == HL_LRP_NO_RULE)
        return hl_error_set(err, HL_ERR_UNSUPPORTED,
                            "%s: node '%s' (%s) has no LRP rule (Captum refuses "
                            "it too); choose a rule for other layers (lrp-other)",
                            m->name, nd->name, nd->op_type);
    if (nd->n_out != 1)
        return hl_error_set(err, HL_ERR_UNSUPPORTED,
                            "%s: node '%s' (%s): LRP rules take one output",
                            m->name, nd->name, nd->op_type);
    if (rule->kind == HL_LRP_IDENTITY)
        return lrp_pass_node(st, nd, err);
    return lrp_rule_node(st, nd, rule, err);
}

/* A pre-BN value X of a folded Conv (a layer LayerLRP may name): the
 * BatchNorm's rule from R_Y (lrp_bn_step; BN weights not kept: epsilon). */
static void lrp_pre_bn(hl_run *r, const hl_lrp_rules *rules)
{
    const hl_model *m = r->m;
    const hl_lrp_rule *bn = &rules->rule[HL_LRP_BATCHNORM];
    float eps = bn->kind == HL_LRP_EPSILON ? bn->value : LRP_STABILITY;
    for (int v = 0; v < m->n_values; v++) {
        if (!is_derived(m, v) || !r->grad_valid[m->values[v].alias])
            continue;
        const float *x = hl_run_value(r, v, NULL);
        const hl_shape *s = &r->plan.t[m->values[v].alias].shape;
        const float *y = r->plan.t[m->values[v].alias].data;
        const float *ry = r->grad[m->values[v].alias];
        float *rx = r->grad[v];
        if (!x || !rx)
            continue;
        if (m->values[v].bn_mean) {
            lrp_bn_step(&m->values[v], s, x, ry, bn, rx);
        } else {
            size_t n = (size_t)hl_shape_numel(s);
            for (size_t i = 0; i < n; i++)
                rx[i] = x[i] * m->values[v].scale[channel_of(s, i)] * ry[i] /
                        stabilised(y[i], eps);
        }
        r->grad_valid[v] = 1;
        r->derived_grad_ready[v] = 1;
    }
}

hl_status hl_run_backward_lrp(hl_run *r, int from_value, const float *seed,
                              const hl_lrp_rules *rules, hl_error *err)
{
    const hl_model *m = r->m;
    if (!r->forward_done || r->layout_lean)
        return hl_error_set(err, HL_ERR_ARG, "%s: LRP needs a forward in a "
                            "run that keeps every value", m->name);
    if (from_value < 0 || from_value >= m->n_values || !seed || !rules ||
        is_derived(m, from_value))
        return hl_error_set(err, HL_ERR_ARG, "%s: LRP needs a computed value "
                            "and a seed", m->name);
    int from = hl_model_resolve(m, from_value);
    if (!r->requires_grad[from])
        return hl_error_set(err, HL_ERR_ARG, "%s: value '%s' does not depend "
                            "on the input", m->name, m->values[from].name);
    lrp_state st = { .r = r, .rules = rules };
    st.has = calloc((size_t)m->n_values, 1);
    if (!st.has)
        return hl_error_set(err, HL_ERR_NOMEM, "%s: out of memory (LRP)", m->name);
    st.ctx.threadpool = r->pool;
    st.ctx.threads = r->threads;
    st.ctx.rule = HL_RULE_GRADIENT;
    st.ctx.scratch = r->scratch;
    for (int v = 0; v < m->n_values; v++)
        if (r->grad[v] && r->requires_grad[v] && hl_model_resolve(m, v) == v &&
            !is_derived(m, v))
            memset(r->grad[v], 0, (size_t)hl_shape_numel(&r->plan.t[v].shape) *
                                      sizeof(float));
    memcpy(r->grad[from], seed,
           (size_t)hl_shape_numel(&r->plan.t[from].shape) * sizeof(float));
    st.has[from] = 1;
    hl_status ret = HL_OK;
    for (int k = m->n_nodes - 1; k >= 0 && ret == HL_OK; k--)
        if (m->node_kind[k] == HL_VAL_DYNAMIC)
            ret = lrp_node(&st, k, rules, err);
    memset(r->derived_grad_ready, 0, (size_t)m->n_values);
    for (int v = 0; v < m->n_values; v++)
        r->grad_valid[v] = ret == HL_OK && st.has[hl_model_resolve(m, v)] &&
                           !is_derived(m, v);
    if (ret == HL_OK)
        lrp_pre_bn(r, rules);
    free(st.has);
    return ret;
}
