/* Load-time edits of a model's graph, shared by the simplifications
 * (fold_bn.c, fuse_activations.c). */
#include <string.h>

#include "graph.h"

int hl_model_consumers(const hl_model *m, int v)
{
    int n = 0;
    for (int k = 0; k < m->n_nodes; k++)
        for (int i = 0; i < m->nodes[k].n_in; i++)
            if (m->nodes[k].in[i] == v)
                n++;
    for (int i = 0; i < m->n_outputs; i++)
        if (m->outputs[i] == v)
            n++;
    return n;
}

hl_status hl_model_node_reinit(hl_model *m, int k, const char *why,
                               hl_error *err)
{
    hl_node *n = &m->nodes[k];
    const hl_op *op = hl_op_get(n->op);
    if (op->free_params)
        op->free_params(n);
    n->params = NULL;
    hl_tensor in[HL_MAX_IO];
    for (int i = 0; i < n->n_in; i++) {
        memset(&in[i], 0, sizeof in[i]);
        if (n->in[i] < 0) {
            in[i].shape.ndim = -1;
            continue;
        }
        const hl_value *v = &m->values[n->in[i]];
        if (v->kind == HL_VAL_CONST) {
            in[i].shape = v->shape;
            in[i].dtype = v->dtype;
            in[i].data = v->data;
            in[i].i64 = v->i64;
        } else {
            in[i].shape = m->shape1[n->in[i]];
            in[i].dtype = m->dtype1[n->in[i]];
            if (in[i].shape.ndim > 0 && v->kind == HL_VAL_DYNAMIC)
                in[i].shape.dims[0] = -1;
        }
    }
    hl_error e = {0};
    hl_status st = op->init ? op->init(n, &m->node_attrs[k], in, &e) : HL_OK;
    if (st)
        return hl_error_set(err, st, "%s: node '%s' (%s): %s: %s", m->name,
                            n->name, n->op_type, why, e.msg);
    return HL_OK;
}

void hl_model_remove_node(hl_model *m, int k)
{
    const hl_op *op = hl_op_get(m->nodes[k].op);
    if (op->free_params)
        op->free_params(&m->nodes[k]);
    for (int j = k; j + 1 < m->n_nodes; j++) {
        m->nodes[j] = m->nodes[j + 1];
        m->node_kind[j] = m->node_kind[j + 1];
        m->node_attrs[j] = m->node_attrs[j + 1];
    }
    m->n_nodes--;
    for (int v = 0; v < m->n_values; v++)
        if (m->values[v].producer > k)
            m->values[v].producer--;
}
