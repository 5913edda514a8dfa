/* BatchNormalization (HL_OP_BATCHNORM) folded into the Conv before it
 * (HL_OP_TAKES_BN).
 *
 * Y = s * (conv(X0) - mean) + beta with s = gamma / sqrt(var + eps) is the
 * conv with weights W * s and bias (b - mean) * s + beta: one pass less
 * over the activations in forward and in backward. The Conv's own output
 * X (the pre-BN value a user may pick as a layer, as Captum's tinyres case
 * does) is kept as a derived value X = Y / s + (mean - beta / s), which the
 * run computes only when it is read, so layer methods on it see the
 * numbers of the unfolded graph. Folding happens only when X has no other
 * consumer and every s is finite and non-zero.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "graph.h"

static int const_float(const hl_model *m, int v, int64_t numel)
{
    if (v < 0)
        return 0;
    const hl_value *val = &m->values[v];
    return val->kind == HL_VAL_CONST && val->dtype == HL_DT_FLOAT &&
           val->data && hl_shape_numel(&val->shape) == numel;
}

/* Appends a constant float value (copying shape1/dtype1 tables). */
static int add_const_value(hl_model *m, const char *name, const hl_shape *s,
                           float *data)
{
    hl_value *vals = realloc(m->values, (size_t)(m->n_values + 1) *
                                            sizeof *vals);
    if (!vals)
        return -1;
    m->values = vals;
    hl_shape *s1 = hl_arena_alloc(&m->arena, ((size_t)m->n_values + 2) *
                                                 sizeof *s1);
    hl_dtype *d1 = hl_arena_alloc(&m->arena, ((size_t)m->n_values + 2) *
                                                 sizeof *d1);
    if (!s1 || !d1)
        return -1;
    memcpy(s1, m->shape1, (size_t)m->n_values * sizeof *s1);
    memcpy(d1, m->dtype1, (size_t)m->n_values * sizeof *d1);
    int id = m->n_values;
    s1[id] = *s;
    d1[id] = HL_DT_FLOAT;
    m->shape1 = s1;
    m->dtype1 = d1;
    hl_value *v = &m->values[id];
    memset(v, 0, sizeof *v);
    v->name = hl_arena_strdup(&m->arena, name);
    v->kind = HL_VAL_CONST;
    v->dtype = HL_DT_FLOAT;
    v->shape = *s;
    v->data = data;
    v->producer = -1;
    v->alias = -1;
    m->n_values++;
    return id;
}

/* Folds the BN node k into its Conv when possible; *done = 1 if so. */
static hl_status try_fold(hl_model *m, int k, int *done, hl_error *err)
{
    *done = 0;
    hl_node *bn = &m->nodes[k];
    if (m->node_kind[k] != HL_VAL_DYNAMIC || bn->n_in != 5 ||
        bn->out[0] < 0)
        return HL_OK;
    for (int o = 1; o < bn->n_out; o++)
        if (bn->out[o] >= 0 && hl_model_consumers(m, bn->out[o]))
            return HL_OK;
    if (hl_attrs_int(&m->node_attrs[k], "training_mode", 0) != 0 ||
        hl_attrs_int(&m->node_attrs[k], "spatial", 1) != 1)
        return HL_OK;
    int x = bn->in[0];
    if (x < 0 || m->values[x].producer < 0)
        return HL_OK;
    int ck = m->values[x].producer;
    hl_node *conv = &m->nodes[ck];
    if (!(hl_op_get(conv->op)->flags & HL_OP_TAKES_BN) ||
        m->node_kind[ck] != HL_VAL_DYNAMIC ||
        conv->out[0] != x || conv->n_out != 1 || hl_model_consumers(m, x) != 1)
        return HL_OK;
    int w = conv->in[1];
    int b = conv->n_in > 2 ? conv->in[2] : -1;
    if (w < 0 || m->values[w].kind != HL_VAL_CONST ||
        m->values[w].dtype != HL_DT_FLOAT || m->values[w].shape.ndim < 2)
        return HL_OK;
    /* a copy: adding values below reallocates m->values */
    const hl_shape wshape = m->values[w].shape;
    const hl_shape *ws = &wshape;
    int64_t c = ws->dims[0];
    if (b >= 0 && !const_float(m, b, c))
        return HL_OK;
    for (int i = 1; i < 5; i++)
        if (!const_float(m, bn->in[i], c))
            return HL_OK;
    if (m->shape1[x].ndim < 2 || m->shape1[x].dims[1] != c)
        return HL_OK;

    float eps = hl_attrs_float(&m->node_attrs[k], "epsilon", 1e-5f);
    const float *gamma = m->values[bn->in[1]].data;
    const float *beta = m->values[bn->in[2]].data;
    const float *mean = m->values[bn->in[3]].data;
    const float *var = m->values[bn->in[4]].data;
    float *s = hl_arena_alloc(&m->arena, (size_t)c * sizeof(float));
    float *scale = hl_arena_alloc(&m->arena, (size_t)c * sizeof(float));
    float *shift = hl_arena_alloc(&m->arena, (size_t)c * sizeof(float));
    float *bn_mean = hl_arena_alloc(&m->arena, (size_t)c * sizeof(float));
    float *bn_beta = hl_arena_alloc(&m->arena, (size_t)c * sizeof(float));
    if (!s || !scale || !shift || !bn_mean || !bn_beta)
        return hl_error_set(err, HL_ERR_NOMEM, "%s: out of memory", m->name);
    for (int64_t j = 0; j < c; j++) {
        double sj = (double)gamma[j] / sqrt((double)var[j] + (double)eps);
        if (!isfinite(sj) || sj == 0.0 || !isfinite(1.0 / sj))
            return HL_OK; /* not invertible: keep the BN node */
        s[j] = (float)sj;
        scale[j] = (float)(1.0 / sj);
        shift[j] = (float)((double)mean[j] - (double)beta[j] / sj);
        bn_mean[j] = mean[j];
        bn_beta[j] = beta[j];
    }

    int64_t wn = hl_shape_numel(ws), per = wn / c;
    float *nw = hl_arena_alloc(&m->arena, (size_t)wn * sizeof(float));
    float *nb = hl_arena_alloc(&m->arena, (size_t)c * sizeof(float));
    if (!nw || !nb)
        return hl_error_set(err, HL_ERR_NOMEM, "%s: out of memory", m->name);
    const float *ow = m->values[w].data;
    for (int64_t j = 0; j < c; j++) {
        for (int64_t q = 0; q < per; q++)
            nw[j * per + q] = ow[j * per + q] * s[j];
        double bj = b >= 0 ? m->values[b].data[j] : 0.0;
        nb[j] = (float)((bj - mean[j]) * s[j] + beta[j]);
    }
    char name[512];
    snprintf(name, sizeof name, "%s.bnfold_W", conv->name);
    int nwid = add_const_value(m, name, ws, nw);
    hl_shape bs = {.ndim = 1, .dims = {c}};
    snprintf(name, sizeof name, "%s.bnfold_B", conv->name);
    int nbid = add_const_value(m, name, &bs, nb);
    if (nwid < 0 || nbid < 0)
        return hl_error_set(err, HL_ERR_NOMEM, "%s: out of memory", m->name);
    conv = &m->nodes[ck];
    bn = &m->nodes[k];

    int y = bn->out[0];
    conv->in[1] = nwid;
    conv->in[2] = nbid;
    if (conv->n_in < 3)
        conv->n_in = 3;
    conv->out[0] = y;
    m->values[y].producer = ck;
    hl_value *xv = &m->values[x];
    xv->alias = y;
    xv->scale = scale;
    xv->shift = shift;
    xv->channels = (int)c;
    xv->bn_mean = bn_mean;
    xv->bn_beta = bn_beta;
    xv->producer = -1;
    hl_status st = hl_model_node_reinit(m, ck, "after folding BatchNormalization", err);
    if (st)
        return st;
    hl_model_remove_node(m, k);
    *done = 1;
    return HL_OK;
}

hl_status hl_model_fold_batchnorm(hl_model *m, hl_error *err)
{
    for (int k = 0; k < m->n_nodes; k++) {
        if (!(hl_op_get(m->nodes[k].op)->flags & HL_OP_BATCHNORM))
            continue;
        int done = 0;
        hl_status st = try_fold(m, k, &done, err);
        if (st)
            return st;
        if (done)
            k--;
    }
    return HL_OK;
}
