/* Weights copies and layer re-initialisation (model_randomize.h). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "graph.h"
#include "model_randomize.h"

hl_status hl_model_copy_weights(const hl_model *m, hl_model **out,
                                hl_error *err)
{
    *out = NULL;
    if (!m)
        return hl_error_set(err, HL_ERR_ARG, "model copy: no model");
    hl_model *c = malloc(sizeof *c);
    hl_value *values = malloc((size_t)(m->n_values ? m->n_values : 1) * sizeof *values);
    if (!c || !values) {
        free(c);
        free(values);
        return hl_error_set(err, HL_ERR_NOMEM, "%s: out of memory (model copy)", m->name);
    }
    *c = *m;
    memcpy(values, m->values, (size_t)m->n_values * sizeof *values);
    c->values = values;
    memset(&c->arena, 0, sizeof c->arena);
    memset(c->idle_runs, 0, sizeof c->idle_runs);  /* the original's */
    c->borrows_graph = 1;
    *out = c;
    return HL_OK;
}

/* A float constant input (resolved), or -1. */
static int float_const(const hl_model *m, int value)
{
    value = hl_model_resolve(m, value);
    if (value < 0 || value >= m->n_values)
        return -1;
    const hl_value *v = &m->values[value];
    return v->kind == HL_VAL_CONST && v->dtype == HL_DT_FLOAT && v->data &&
           v->alias < 0 ? value : -1;
}

int hl_model_node_has_weights(const hl_model *m, int index)
{
    if (!m || index < 0 || index >= m->n_nodes)
        return 0;
    const hl_node *n = &m->nodes[index];
    for (int i = 0; i < n->n_in; i++) {
        int v = n->in[i] >= 0 ? float_const(m, n->in[i]) : -1;
        if (v >= 0 && m->values[v].shape.ndim >= 2 &&
            hl_shape_numel(&m->values[v].shape) > 1)
            return 1;
    }
    return 0;
}

/* splitmix64: the engine's own small generator (attr has its own). */
static uint64_t next_u64(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static double next_normal(uint64_t *s)
{
    double u1 = ((double)(next_u64(s) >> 11) + 0.5) * 0x1.0p-53;
    double u2 = (double)(next_u64(s) >> 11) * 0x1.0p-53;
    return sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
}

static hl_status reinit(hl_model *c, int value, uint64_t *state, hl_error *err)
{
    hl_value *v = &c->values[value];
    int64_t n = hl_shape_numel(&v->shape);
    if (n <= 1)
        return HL_OK;
    double mean = 0.0, var = 0.0;
    for (int64_t i = 0; i < n; i++)
        mean += v->data[i];
    mean /= (double)n;
    for (int64_t i = 0; i < n; i++)
        var += ((double)v->data[i] - mean) * ((double)v->data[i] - mean);
    double sd = sqrt(var / (double)n);
    if (sd == 0.0)
        return HL_OK;
    float *data = hl_arena_alloc(&c->arena, (size_t)n * sizeof *data);
    if (!data)
        return hl_error_set(err, HL_ERR_NOMEM, "%s: out of memory (random weights)", c->name);
    for (int64_t i = 0; i < n; i++)
        data[i] = (float)(sd * next_normal(state));
    v->data = data;
    return HL_OK;
}

hl_status hl_model_randomize_node(hl_model *copy, int index, uint64_t seed,
                                  hl_error *err)
{
    if (!copy || !copy->borrows_graph)
        return hl_error_set(err, HL_ERR_ARG, "randomize: only a copy from hl_model_copy_weights can be changed");
    if (index < 0 || index >= copy->n_nodes)
        return hl_error_set(err, HL_ERR_ARG, "%s: randomize: no node %d (the model has %d)",
                            copy->name, index, copy->n_nodes);
    const hl_node *n = &copy->nodes[index];
    uint64_t state = seed ^ (0x9e3779b97f4a7c15ULL * (uint64_t)(index + 1));
    for (int i = 0; i < n->n_in; i++) {
        int v = n->in[i] >= 0 ? float_const(copy, n->in[i]) : -1;
        if (v < 0)
            continue;
        hl_status st = reinit(copy, v, &state, err);
        if (st != HL_OK)
            return st;
    }
    return HL_OK;
}
