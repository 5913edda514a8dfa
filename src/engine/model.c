/* The loaded model: arena, lifetime and public queries. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "graph.h"

/* ------------------------------------------------------------------ arena */

struct hl_arena_block {
    hl_arena_block *next;
    size_t size, used;
    /* data follows, 64-aligned */
};

#define HL_ARENA_ALIGN 64
#define HL_ARENA_HEADER                                                     \
    ((sizeof(hl_arena_block) + HL_ARENA_ALIGN - 1) / HL_ARENA_ALIGN *        \
     HL_ARENA_ALIGN)

static unsigned char *block_data(hl_arena_block *b)
{
    return (unsigned char *)b + HL_ARENA_HEADER;
}

void *hl_arena_alloc(hl_arena *a, size_t bytes)
{
    bytes = (bytes + HL_ARENA_ALIGN - 1) / HL_ARENA_ALIGN * HL_ARENA_ALIGN;
    if (bytes == 0)
        bytes = HL_ARENA_ALIGN;
    /* the current block, then the blocks kept after a reset */
    for (hl_arena_block *b = a->cur ? a->cur : a->head; b; b = b->next) {
        if (b->size - b->used >= bytes) {
            void *p = block_data(b) + b->used;
            b->used += bytes;
            a->cur = b;
            memset(p, 0, bytes);
            return p;
        }
        if (b->next)
            b->next->used = 0;
    }
    size_t size = bytes > (1u << 16) ? bytes : (1u << 16);
    hl_arena_block *b = aligned_alloc(HL_ARENA_ALIGN, HL_ARENA_HEADER + size);
    if (!b)
        return NULL;
    b->next = NULL;
    b->size = size;
    b->used = bytes;
    if (!a->head) {
        a->head = b;
    } else {
        hl_arena_block *t = a->head;
        while (t->next)
            t = t->next;
        t->next = b;
    }
    a->cur = b;
    memset(block_data(b), 0, bytes);
    return block_data(b);
}

char *hl_arena_strdup(hl_arena *a, const char *s)
{
    size_t n = strlen(s) + 1;
    char *d = hl_arena_alloc(a, n);
    if (d)
        memcpy(d, s, n);
    return d;
}

void hl_arena_reset(hl_arena *a)
{
    if (a->head)
        a->head->used = 0;
    a->cur = a->head;
}

void hl_arena_free(hl_arena *a)
{
    hl_arena_block *b = a->head;
    while (b) {
        hl_arena_block *next = b->next;
        free(b);
        b = next;
    }
    a->head = a->cur = NULL;
}

/* ------------------------------------------------------------------ model */

size_t hl_dtype_size(hl_dtype dt)
{
    return dt == HL_DT_INT64 ? sizeof(int64_t) : sizeof(float);
}

int hl_model_resolve(const hl_model *m, int value)
{
    int guard = 0;
    while (value >= 0 && value < m->n_values && m->values[value].alias >= 0 &&
           !m->values[value].scale && guard++ < 1000)
        value = m->values[value].alias;
    return value;
}

void hl_model_free(hl_model *m)
{
    if (!m)
        return;
    hl_run_idle_free(m);
    if (m->borrows_graph) {
        free(m->values);
        hl_arena_free(&m->arena);
        free(m);
        return;
    }
    for (int i = 0; i < m->n_nodes; i++) {
        const hl_op *op = hl_op_get(m->nodes[i].op);
        if (op && op->free_params)
            op->free_params(&m->nodes[i]);
    }
    free(m->nodes);
    free(m->node_kind);
    free(m->node_attrs);
    free(m->values);
    free(m->node_names);
    hl_arena_free(&m->arena);
    free(m);
}

const char *hl_model_name(const hl_model *m)
{
    return m->name;
}

int hl_model_input_value(const hl_model *m)
{
    return m->n_inputs ? m->inputs[0] : -1;
}

int hl_model_output_value(const hl_model *m)
{
    return m->n_outputs ? m->outputs[0] : -1;
}

void hl_model_input_shape(const hl_model *m, hl_shape *out)
{
    memset(out, 0, sizeof *out);
    if (m->n_inputs)
        *out = m->input_shapes[0];
}

const char *hl_model_metadata(const hl_model *m, const char *key)
{
    for (int i = 0; i < m->n_meta; i++)
        if (strcmp(m->meta_keys[i], key) == 0)
            return m->meta_values[i];
    return NULL;
}

int hl_model_num_values(const hl_model *m)
{
    return m->n_values;
}

const char *hl_model_value_name(const hl_model *m, int value)
{
    if (value < 0 || value >= m->n_values)
        return NULL;
    return m->values[value].name;
}

hl_status hl_model_value_shape(const hl_model *m, int value, hl_shape *out)
{
    if (value < 0 || value >= m->n_values)
        return hl_error_set(NULL, HL_ERR_ARG, "no such value");
    *out = m->shape1[value];
    return HL_OK;
}

int hl_model_find_value(const hl_model *m, const char *name)
{
    if (!name)
        return -1;
    for (int v = 0; v < m->n_values; v++)
        if (strcmp(m->values[v].name, name) == 0)
            return v;
    for (int i = 0; i < m->n_node_names; i++)
        if (strcmp(m->node_names[i].name, name) == 0)
            return m->node_names[i].value;
    return -1;
}

int hl_model_value_is_computed(const hl_model *m, int value)
{
    return value >= 0 && value < m->n_values &&
           m->values[value].kind == HL_VAL_DYNAMIC &&
           !m->values[value].fused_away;
}

int hl_model_layer_input(const hl_model *m, int value)
{
    int v = value;
    for (int guard = 0; v >= 0 && v < m->n_values && guard < 64; guard++) {
        if (m->values[v].producer >= 0)
            break;
        if (m->values[v].alias < 0 || m->values[v].alias == v)
            return -1;
        v = m->values[v].alias;
    }
    if (v < 0 || v >= m->n_values || m->values[v].producer < 0)
        return -1;
    const hl_node *n = &m->nodes[m->values[v].producer];
    for (int i = 0; i < n->n_in; i++) {
        int in = n->in[i];
        if (hl_model_value_is_computed(m, in))
            return in;
    }
    return -1;
}

int hl_model_num_nodes(const hl_model *m)
{
    return m->n_nodes;
}

void hl_model_node_info(const hl_model *m, int index, hl_node_info *out)
{
    memset(out, 0, sizeof *out);
    if (index < 0 || index >= m->n_nodes)
        return;
    const hl_node *n = &m->nodes[index];
    out->name = n->name;
    out->op = n->op_type;
    out->roles = hl_op_roles(n->op);
    out->output = n->out[0];
    out->n_inputs = n->n_in;
    out->inputs = n->in;
    if (n->out[0] >= 0)
        out->shape = m->shape1[n->out[0]];
}

double hl_model_forward_flops(const hl_model *m)
{
    return m->flops1;
}

int hl_model_nonfinite_weight(const hl_model *m, const char **node,
                              const char **value)
{
    for (int k = 0; k < m->n_nodes; k++) {
        const hl_node *n = &m->nodes[k];
        for (int i = 0; i < n->n_in; i++) {
            if (n->in[i] < 0)
                continue;
            const hl_value *v = &m->values[hl_model_resolve(m, n->in[i])];
            if (v->kind != HL_VAL_CONST || !v->data)
                continue;
            int64_t cnt = hl_shape_numel(&v->shape);
            for (int64_t j = 0; j < cnt; j++)
                if (!isfinite(v->data[j])) {
                    *node = n->name;
                    *value = v->name;
                    return isnan(v->data[j]) ? 1 : 2;
                }
        }
    }
    return 0;
}
