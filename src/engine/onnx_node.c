/* One ONNX node into the model: checked, its attributes converted, its op
 * found in the table and initialised, its outputs' batch-1 shapes
 * computed. A node whose inputs are all constants (Constant itself,
 * HL_OP_NO_INPUT) is evaluated here and leaves only its values; an alias
 * op (Identity, Dropout: HL_OP_ALIAS) leaves only an alias value; a node
 * that reads only shapes (HL_OP_SHAPE_ONLY) or depends only on them is
 * STATIC (evaluated per plan); the rest run in forward. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "onnx_loader.h"

const char *hl_onnx_node_name(const Onnx__NodeProto *np, int index,
                              char buf[HL_NODE_NAME_MAX])
{
    if (np->name && np->name[0])
        hl_printable(np->name, buf, HL_NODE_NAME_MAX);
    else
        snprintf(buf, HL_NODE_NAME_MAX, "%.100s_%d",
                 np->op_type ? np->op_type : "", index);
    return buf;
}

/* The node's name (hl_onnx_node_name), and the checks that need no op:
 * domain, outputs defined once, input count. */
static hl_status node_header(loader *L, const Onnx__NodeProto *np,
                             int index, char fallback[HL_NODE_NAME_MAX],
                             const char **out)
{
    const char *op_type = np->op_type ? np->op_type : "";
    const char *name = hl_onnx_node_name(np, index, fallback);
    *out = name;
    if (np->domain && np->domain[0] && strcmp(np->domain, "ai.onnx") != 0)
        return hl_error_set(L->err, HL_ERR_UNSUPPORTED,
                            "%s: node '%s' (%s): operator domain '%s' is not "
                            "supported (only the default ONNX domain)",
                            L->file, name, op_type, np->domain);
    for (size_t o = 0; o < np->n_output; o++)
        if (np->output[o][0] && hl_loader_find_value(L, np->output[o]) >= 0)
            return hl_error_set(L->err, HL_ERR_PARSE,
                                "%s: node '%s' (%s): output '%s' is defined "
                                "twice", L->file, name, op_type,
                                np->output[o]);
    if (np->n_input > HL_MAX_IO || np->n_output > HL_MAX_IO)
        return hl_error_set(L->err, HL_ERR_UNSUPPORTED,
                            "%s: node '%s' (%s): more than %d inputs or "
                            "outputs", L->file, name, op_type, HL_MAX_IO);
    return HL_OK;
}

/* "unsupported op X": short; the list is one command away. */
static hl_status unsupported_op(loader *L, const char *name,
                                const char *op_type)
{
    return hl_error_set(L->err, HL_ERR_UNSUPPORTED,
                        "%s: node '%s': unsupported op %.64s (the supported "
                        "ops: `heatlens-cli ops` or docs/engine-ops.md)",
                        L->file, name, op_type);
}

/* Where the node's values come from: CONST when every input is a
 * constant (folded now), DYNAMIC when one is computed by forward, STATIC
 * otherwise or when the op reads only its input's shape. */
static hl_value_kind node_kind(const loader *L, const hl_op *op,
                               const int *in_ids, int n_in)
{
    int all_const = 1, any_dynamic = 0;
    for (int i = 0; i < n_in; i++) {
        if (in_ids[i] < 0)
            continue;
        hl_value_kind k = L->m->values[in_ids[i]].kind;
        if (k != HL_VAL_CONST)
            all_const = 0;
        if (k == HL_VAL_DYNAMIC)
            any_dynamic = 1;
    }
    if (all_const)
        return HL_VAL_CONST;
    if (op->flags & HL_OP_SHAPE_ONLY)
        return HL_VAL_STATIC;
    return any_dynamic ? HL_VAL_DYNAMIC : HL_VAL_STATIC;
}

/* The tensors a node's init() sees: constants with data, other values
 * with their batch-1 shape and a free leading dimension. */
static void init_inputs(loader *L, const hl_node *n, hl_tensor *in)
{
    hl_model *m = L->m;
    for (int i = 0; i < n->n_in; i++) {
        memset(&in[i], 0, sizeof in[i]);
        if (n->in[i] < 0) {
            in[i].shape.ndim = -1;
            continue;
        }
        const hl_value *v = &m->values[n->in[i]];
        if (v->kind == HL_VAL_CONST) {
            in[i] = L->p1.t[n->in[i]];
            continue;
        }
        in[i].shape = L->p1.t[n->in[i]].shape;
        in[i].dtype = L->p1.t[n->in[i]].dtype;
        if (L->free_batch && v->kind == HL_VAL_DYNAMIC && in[i].shape.ndim > 0)
            in[i].shape.dims[0] = -1;
    }
}

/* Runs the op's init() on node n; the message names file, node and op. */
static hl_status node_init(loader *L, hl_node *n, const hl_op *op,
                           const hl_attrs *attrs)
{
    hl_tensor in[HL_MAX_IO];
    init_inputs(L, n, in);
    hl_error e = {0};
    hl_status st = op->init ? op->init(n, attrs, in, &e) : HL_OK;
    const hl_attr *bad = hl_attrs_misread(attrs);
    if (bad) {
        if (op->free_params)
            op->free_params(n);
        return hl_error_set(L->err, HL_ERR_PARSE, "%s: node '%s' (%s): "
                            "attribute '%s' must be %s, not %s", L->file,
                            n->name, n->op_type, bad->name,
                            hl_attr_type_name(bad->misread),
                            hl_attr_type_name(bad->type));
    }
    if (st) {
        if (op->free_params)
            op->free_params(n);
        return hl_error_set(L->err, st, "%s: node '%s' (%s): %s", L->file,
                            n->name, n->op_type,
                            e.msg[0] ? e.msg : hl_status_name(st));
    }
    return HL_OK;
}

/* An alias op (Identity, Dropout): checked by its init(), then its
 * output becomes an alias of its input; its other outputs (Dropout's
 * mask) must be unused. */
static hl_status add_alias(loader *L, const Onnx__NodeProto *np,
                           hl_node *n, const hl_op *op, const hl_attrs *attrs)
{
    hl_model *m = L->m;
    if (n->in[0] < 0)
        return hl_error_set(L->err, HL_ERR_PARSE,
                            "%s: node '%s' (%s) needs one input and "
                            "output", L->file, n->name, n->op_type);
    n->n_out = 1;
    for (size_t o = 1; o < np->n_output; o++)
        if (np->output[o][0] && hl_loader_name_used(L, np->output[o]))
            n->n_out = (int)o + 1;   /* init() refuses a used extra output */
    for (int o = 0; o < n->n_out; o++)
        n->out[o] = 0;               /* present; no value of its own */
    hl_status st = node_init(L, n, op, attrs);
    if (st)
        return st;
    if (op->free_params)
        op->free_params(n);
    int id = hl_loader_add_value(L, np->output[0], HL_VAL_DYNAMIC);
    if (id < 0)
        return hl_error_set(L->err, HL_ERR_NOMEM, "%s: out of memory",
                            L->file);
    m->values[id].alias = n->in[0];
    m->values[id].kind = m->values[n->in[0]].kind;
    st = hl_loader_add_node_name(L, n->name, n->in[0]);
    return st ? st : hl_loader_grow_plan(L);
}

/* Room for one more node in the model's node tables. */
static hl_status reserve_node(loader *L)
{
    hl_model *m = L->m;
    if (m->n_nodes < L->cap_nodes)
        return HL_OK;
    int cap = L->cap_nodes ? 2 * L->cap_nodes : 64;
    hl_node *nn = realloc(m->nodes, (size_t)cap * sizeof *nn);
    if (nn)
        m->nodes = nn;
    int *nk = realloc(m->node_kind, (size_t)cap * sizeof *nk);
    if (nk)
        m->node_kind = nk;
    hl_attrs *na = realloc(m->node_attrs, (size_t)cap * sizeof *na);
    if (na)
        m->node_attrs = na;
    if (!nn || !nk || !na)
        return hl_error_set(L->err, HL_ERR_NOMEM, "%s: out of memory",
                            L->file);
    L->cap_nodes = cap;
    return HL_OK;
}

/* The node's outputs as new values of the given kind. */
static hl_status add_outputs(loader *L, const Onnx__NodeProto *np,
                             hl_node *n, hl_value_kind kind)
{
    hl_model *m = L->m;
    n->n_out = (int)np->n_output;
    for (int o = 0; o < n->n_out; o++) {
        if (!np->output[o][0]) {
            n->out[o] = -1;
            continue;
        }
        int id = hl_loader_add_value(L, np->output[o], kind);
        if (id < 0)
            return hl_error_set(L->err, HL_ERR_NOMEM, "%s: out of memory",
                                L->file);
        m->values[id].producer = m->n_nodes;
        n->out[o] = id;
    }
    return hl_loader_grow_plan(L);
}

/* Batch-1 shapes of the outputs of the node just added (and the data of
 * CONST and STATIC ones); a CONST node is then dropped, its values kept. */
static hl_status node_batch1(loader *L, hl_node *n, const hl_op *op,
                             hl_value_kind kind)
{
    hl_model *m = L->m;
    hl_tensor in[HL_MAX_IO], out[HL_MAX_IO];
    for (int i = 0; i < n->n_in; i++) {
        memset(&in[i], 0, sizeof in[i]);
        if (n->in[i] >= 0)
            in[i] = L->p1.t[n->in[i]];
        else
            in[i].shape.ndim = -1;
    }
    memset(out, 0, sizeof out);
    hl_status st;
    if (kind == HL_VAL_DYNAMIC) {
        hl_error e = {0};
        st = op->shape(n, in, out, &e);
        if (st)
            return hl_error_set(L->err, st, "%s: node '%s' (%s): %s", L->file,
                                n->name, n->op_type, e.msg);
        for (int o = 0; o < n->n_out; o++) {
            char b[96];
            if (n->out[o] >= 0 &&
                hl_shape_numel_capped(&out[o].shape, HL_MAX_VALUE_ELEMS) < 0)
                return hl_error_set(L->err, HL_ERR_UNSUPPORTED,
                                    "%s: node '%s' (%s): output %s has more "
                                    "than 2^34 elements per sample", L->file,
                                    n->name, n->op_type,
                                    hl_shape_format(&out[o].shape, b,
                                                    sizeof b));
        }
    } else {
        hl_arena *ar = kind == HL_VAL_CONST ? &m->arena : &L->p1.statics;
        st = hl_node_evaluate(m, n, in, out, ar, L->err);
        if (st)
            return st;
    }
    for (int o = 0; o < n->n_out; o++) {
        if (n->out[o] < 0)
            continue;
        L->p1.t[n->out[o]] = out[o];
        hl_value *v = &m->values[n->out[o]];
        v->dtype = out[o].dtype;
        if (kind == HL_VAL_CONST) {
            v->shape = out[o].shape;
            v->data = out[o].data;
            v->i64 = out[o].i64;
            v->producer = -1;
        }
    }
    if (kind == HL_VAL_CONST) {
        /* folded at load: the node is not kept */
        if (op->free_params)
            op->free_params(n);
        m->n_nodes--;
    }
    return HL_OK;
}

hl_status hl_onnx_add_node(loader *L, const Onnx__NodeProto *np, int index)
{
    hl_model *m = L->m;
    char fallback[HL_NODE_NAME_MAX];
    const char *name;
    const char *op_type = np->op_type ? np->op_type : "";
    hl_status st = node_header(L, np, index, fallback, &name);
    if (st)
        return st;
    /* before its attributes: If's graph attribute is not the problem */
    int opi = hl_op_index(op_type);
    if (opi < 0)
        return unsupported_op(L, name, op_type);
    hl_attrs attrs;
    st = hl_onnx_attrs(L, np, name, &attrs);
    if (st)
        return st;
    const hl_op *op = hl_op_get(opi);
    /* Every op but those that take none reads input 0; their init
     * functions assume it is there. */
    if ((!(op->flags & HL_OP_NO_INPUT) &&
         (np->n_input < 1 || !np->input[0][0])) || np->n_output < 1)
        return hl_error_set(L->err, HL_ERR_PARSE,
                            "%s: node '%s' (%s) has no %s", L->file, name,
                            op_type, np->n_output < 1 ? "output" : "input");
    /* The kernels write output 0 (a node folded at load would write
     * through a null pointer); only Split skips omitted outputs. */
    if (!np->output[0][0] && !(op->flags & HL_OP_OUTPUTS_OPTIONAL))
        return hl_error_set(L->err, HL_ERR_PARSE,
                            "%s: node '%s' (%s): output 1 is omitted (named "
                            "\"\")", L->file, name, op_type);

    hl_node tmp, *n = &tmp;
    if (!(op->flags & HL_OP_ALIAS)) {
        st = reserve_node(L);
        if (st)
            return st;
        n = &m->nodes[m->n_nodes];
    }
    memset(n, 0, sizeof *n);
    n->op = opi;
    n->name = hl_arena_strdup(&m->arena, name);
    n->op_type = hl_arena_strdup(&m->arena, op_type);
    n->opset = m->opset;
    n->n_in = (int)np->n_input;
    for (int i = 0; i < n->n_in; i++)
        n->in[i] = np->input[i][0]
                       ? hl_model_resolve(m, hl_loader_find_value(L,
                                                                  np->input[i]))
                       : -1;
    if (op->flags & HL_OP_ALIAS)
        return add_alias(L, np, n, op, &attrs);

    hl_value_kind kind = node_kind(L, op, n->in, n->n_in);
    st = add_outputs(L, np, n, kind);
    if (!st)
        st = node_init(L, n, op, &attrs);
    if (st)
        return st;
    m->node_kind[m->n_nodes] = kind;
    m->node_attrs[m->n_nodes] = attrs;
    m->n_nodes++;
    st = hl_loader_add_node_name(L, name, n->out[0]);
    return st ? st : node_batch1(L, n, op, kind);
}
