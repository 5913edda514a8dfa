/* The small graphs exporters write for one activation (torch.onnx.export's
 * Sigmoid x Mul for nn.SiLU, Erf/Tanh/Softplus compositions for GELU and
 * Mish, HardSigmoid x Mul or Add/Clip/Div/Mul for Hardswish) fused into
 * one node of the activation's op at load.
 *
 * Why: attribution rules act per module in Captum. DeepLift treats
 * nn.SiLU as one function with a plain gradient, but on the exported
 * graph the inner Sigmoid looks like a hooked nn.Sigmoid and would get
 * the rescale rule (a map that is neither Captum's nor complete: on
 * EfficientNet-B0 a convergence delta of -6.78 for F(x) - F(0) = -0.087).
 * Fused, the activation keeps its plain gradient by default and takes
 * the rescale rule as a whole under HL_RULE_RELU_FAMILY.
 *
 * The patterns live with their ops (hl_op.patterns,
 * activation_patterns.c); this file only matches them. A match needs the
 * inner values to be read by the pattern's own nodes only (a graph output
 * or another consumer keeps the graph as it is). The inner values stay
 * in the model, marked fused_away, so a layer named after one is refused
 * instead of read uncomputed. The fused node keeps the name and output of
 * the pattern's last node. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "graph.h"

typedef struct {
    int x;                            /* the activation's input value */
    int node[HL_PATTERN_MAX_STEPS];   /* node of each step, -1 unbound */
} binding;

static int pattern_args(const hl_pattern_step *s)
{
    int n = 0;
    while (n < 3 && s->in[n].kind != HL_PAT_NONE)
        n++;
    return n;
}

static int near(double a, double want)
{
    return fabs(a - want) <= 1e-5 * fabs(want) + 1e-7;
}

static int const_equals(const hl_model *m, int v, double want)
{
    const hl_value *val = &m->values[hl_model_resolve(m, v)];
    return val->kind == HL_VAL_CONST && val->dtype == HL_DT_FLOAT &&
           val->data && hl_shape_numel(&val->shape) == 1 &&
           near(val->data[0], want);
}

static int match_step(const hl_model *m, const hl_op_pattern *pat, int s,
                      int k, binding *b);

static int match_arg(const hl_model *m, const hl_op_pattern *pat,
                     const hl_pattern_arg *a, int v, binding *b)
{
    if (v < 0)
        return 0;
    int rv = hl_model_resolve(m, v);
    switch (a->kind) {
    case HL_PAT_X:
        if (m->values[rv].kind != HL_VAL_DYNAMIC)
            return 0;
        if (b->x < 0)
            b->x = rv;
        return b->x == rv;
    case HL_PAT_CONST:
        return const_equals(m, v, a->value);
    case HL_PAT_STEP:
        return m->values[rv].producer >= 0 && m->values[rv].alias < 0 &&
               match_step(m, pat, a->step, m->values[rv].producer, b);
    default:
        return 0;
    }
}

static int attrs_match(const hl_model *m, int k, const hl_pattern_step *st)
{
    for (int i = 0; i < 2; i++) {
        if (!st->attr[i].name)
            continue;
        float v = hl_attrs_float(&m->node_attrs[k], st->attr[i].name,
                                 (float)st->attr[i].onnx_default);
        if (!near(v, st->attr[i].value))
            return 0;
    }
    return 1;
}

/* Node k as step s (its inputs matched recursively); on failure b is as
 * it was. Add and Mul try both operand orders. */
static int match_step(const hl_model *m, const hl_op_pattern *pat, int s,
                      int k, binding *b)
{
    if (b->node[s] >= 0)
        return b->node[s] == k;
    const hl_pattern_step *st = &pat->steps[s];
    const hl_node *nd = &m->nodes[k];
    int n_args = pattern_args(st);
    if (m->node_kind[k] != HL_VAL_DYNAMIC ||
        nd->op != hl_op_index(st->op_type) || nd->n_in != n_args ||
        nd->n_out != 1 || !attrs_match(m, k, st))
        return 0;
    binding saved = *b;
    int orders = n_args == 2 && (strcmp(st->op_type, "Add") == 0 ||
                                 strcmp(st->op_type, "Mul") == 0) ? 2 : 1;
    for (int o = 0; o < orders; o++) {
        *b = saved;
        b->node[s] = k;
        int ok = 1;
        for (int i = 0; i < n_args && ok; i++) {
            int which = o ? n_args - 1 - i : i;
            ok = match_arg(m, pat, &st->in[i], nd->in[which], b);
        }
        if (ok)
            return 1;
    }
    *b = saved;
    return 0;
}

static int in_binding(const binding *b, int n_steps, int k)
{
    for (int s = 0; s < n_steps; s++)
        if (b->node[s] == k)
            return 1;
    return 0;
}

/* Whether the inner values (every step's output but the last) are read
 * only by the pattern's nodes, and the nodes are distinct. */
static int inner_values_private(const hl_model *m, const hl_op_pattern *pat,
                                const binding *b)
{
    int last = pat->n_steps - 1;
    for (int s = 0; s < pat->n_steps; s++)
        for (int t = s + 1; t < pat->n_steps; t++)
            if (b->node[s] < 0 || b->node[s] == b->node[t])
                return 0;
    for (int s = 0; s < last; s++) {
        int v = m->nodes[b->node[s]].out[0];
        for (int i = 0; i < m->n_outputs; i++)
            if (m->outputs[i] == v)
                return 0;
        for (int u = 0; u < m->n_values; u++)
            if (m->values[u].alias == v)
                return 0;
        for (int k = 0; k < m->n_nodes; k++) {
            if (in_binding(b, pat->n_steps, k))
                continue;
            for (int i = 0; i < m->nodes[k].n_in; i++)
                if (m->nodes[k].in[i] == v)
                    return 0;
        }
    }
    /* the result has x's shape (a constant of higher rank would not) */
    int y = m->nodes[b->node[last]].out[0];
    return m->shape1[y].ndim == m->shape1[b->x].ndim;
}

static hl_status fuse(hl_model *m, int op_index, const hl_op_pattern *pat,
                      const binding *b, hl_error *err)
{
    int last = pat->n_steps - 1;
    int k = b->node[last];
    hl_node *nd = &m->nodes[k];
    const hl_op *old = hl_op_get(nd->op);
    if (old->free_params)
        old->free_params(nd);
    nd->params = NULL;
    nd->op = op_index;
    nd->op_type = hl_arena_strdup(&m->arena, hl_op_get(op_index)->op_type);
    nd->n_in = 1;
    nd->in[0] = b->x;
    hl_attrs attrs = {0};
    if (pat->fused_attr) {
        hl_attr *a = hl_arena_alloc(&m->arena, sizeof *a);
        if (!a)
            return hl_error_set(err, HL_ERR_NOMEM, "%s: out of memory",
                                m->name);
        a->name = hl_arena_strdup(&m->arena, pat->fused_attr);
        a->type = HL_ATTR_STRING;
        a->s = hl_arena_strdup(&m->arena, pat->fused_value);
        attrs.n = 1;
        attrs.a = a;
    }
    m->node_attrs[k] = attrs;
    char why[160];
    snprintf(why, sizeof why, "fusing %s", pat->name);
    hl_status st = hl_model_node_reinit(m, k, why, err);
    if (st)
        return st;
    /* the inner nodes, highest index first (removal renumbers) */
    for (int pass = 0; pass < last; pass++) {
        int top = -1;
        for (int s = 0; s < last; s++)
            if (b->node[s] >= 0 && b->node[s] < k && b->node[s] > top &&
                m->values[m->nodes[b->node[s]].out[0]].fused_away == 0)
                top = b->node[s];
        if (top < 0)
            break;
        hl_value *v = &m->values[m->nodes[top].out[0]];
        v->fused_away = 1;
        v->producer = -1;
        hl_model_remove_node(m, top);
        k--;
    }
    return HL_OK;
}

/* Tries every op's patterns with node k as their last step. */
static hl_status try_fuse_at(hl_model *m, int k, int *done, hl_error *err)
{
    *done = 0;
    for (int op = 0; hl_op_get(op); op++) {
        const hl_op_pattern *pats = hl_op_get(op)->patterns;
        for (int p = 0; pats && pats[p].n_steps > 0; p++) {
            const hl_op_pattern *pat = &pats[p];
            binding b;
            b.x = -1;
            for (int s = 0; s < HL_PATTERN_MAX_STEPS; s++)
                b.node[s] = -1;
            if (!match_step(m, pat, pat->n_steps - 1, k, &b) ||
                !inner_values_private(m, pat, &b))
                continue;
            *done = 1;
            return fuse(m, op, pat, &b, err);
        }
    }
    return HL_OK;
}

hl_status hl_model_fuse_activations(hl_model *m, hl_error *err)
{
    if (m->borrows_graph)
        return HL_OK;
    for (int k = 0; k < m->n_nodes; k++) {
        int done = 0;
        hl_status st = try_fuse_at(m, k, &done, err);
        if (st)
            return st;
        if (done)
            k = -1;  /* indices moved; the graph is small, start over */
    }
    return HL_OK;
}
