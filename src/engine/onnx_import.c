/* ONNX import: protobuf message -> hl_model, converted once.
 *
 * The protobuf-c message is unpacked, turned into our own values, nodes
 * and attributes (strings and weights copied into the model arena) and
 * freed before returning. Constant subgraphs are evaluated at load; nodes
 * that depend only on input shapes are STATIC (evaluated per plan); the
 * rest run in forward. This file: the model and its values; the graph's
 * inputs and node order are in onnx_graph.c, one node in onnx_node.c.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "onnx_loader.h"
#include "onnx_wire.h"

/* Opsets 18-22 change our ops only by new data types, or by semantics the
 * ops read themselves (Reduce* and Split sizes as inputs, Pad axes; Pad's
 * 'wrap' and AveragePool's dilations are refused by the ops). */
#define HL_OPSET_MIN 7
#define HL_OPSET_MAX 22

/* ------------------------------------------------------------ values */

int hl_loader_find_value(const loader *L, const char *name)
{
    return hl_name_map_get(&L->names, name);
}

int hl_loader_add_value(loader *L, const char *name, hl_value_kind kind)
{
    hl_model *m = L->m;
    if (m->n_values == L->cap_values) {
        int cap = L->cap_values ? 2 * L->cap_values : 64;
        hl_value *v = realloc(m->values, (size_t)cap * sizeof *v);
        if (!v)
            return -1;
        m->values = v;
        L->cap_values = cap;
    }
    hl_value *v = &m->values[m->n_values];
    memset(v, 0, sizeof *v);
    v->name = hl_arena_strdup(&m->arena, name);
    if (!v->name || hl_name_map_set(&L->names, v->name, m->n_values))
        return -1;
    v->kind = kind;
    v->producer = -1;
    v->alias = -1;
    return m->n_values++;
}

hl_status hl_loader_add_const(loader *L, const char *name, const hl_tensor *t)
{
    int id = hl_loader_add_value(L, name, HL_VAL_CONST);
    if (id < 0)
        return hl_error_set(L->err, HL_ERR_NOMEM, "%s: out of memory", L->file);
    hl_value *v = &L->m->values[id];
    v->dtype = t->dtype;
    v->shape = t->shape;
    v->data = t->data;
    v->i64 = t->i64;
    return HL_OK;
}

/* Value `id` is known by `name` (arena string) from now on; its old name
 * no longer finds it. */
hl_status hl_loader_rename_value(loader *L, int id, const char *name)
{
    hl_value *v = &L->m->values[id];
    if (hl_name_map_set(&L->names, v->name, -1) ||
        hl_name_map_set(&L->names, name, id))
        return hl_error_set(L->err, HL_ERR_NOMEM, "%s: out of memory",
                            L->file);
    v->name = (char *)name;
    return HL_OK;
}

hl_status hl_loader_add_node_name(loader *L, const char *name, int value)
{
    hl_model *m = L->m;
    if (m->n_node_names == L->cap_node_names) {
        int cap = L->cap_node_names ? 2 * L->cap_node_names : 64;
        hl_name_entry *e = realloc(m->node_names, (size_t)cap * sizeof *e);
        if (!e)
            return hl_error_set(L->err, HL_ERR_NOMEM, "%s: out of memory",
                                L->file);
        m->node_names = e;
        L->cap_node_names = cap;
    }
    hl_name_entry *e = &m->node_names[m->n_node_names];
    e->name = hl_arena_strdup(&m->arena, name);
    e->value = value;
    if (!e->name)
        return hl_error_set(L->err, HL_ERR_NOMEM, "%s: out of memory", L->file);
    m->n_node_names++;
    return HL_OK;
}

hl_status hl_loader_grow_plan(loader *L)
{
    hl_model *m = L->m;
    if (L->p1.n_values >= m->n_values)
        return HL_OK;
    /* capacity doubles: 100,000 nodes must not copy the plan 1,500 times */
    int cap = L->cap_p1;
    if (cap < m->n_values) {
        cap = cap ? 2 * cap : 64;
        if (cap < m->n_values)
            cap = m->n_values;
        hl_tensor *t = realloc(L->p1.t, (size_t)cap * sizeof *t);
        if (!t)
            return hl_error_set(L->err, HL_ERR_NOMEM, "%s: out of memory",
                                L->file);
        memset(t + L->p1.n_values, 0,
               (size_t)(cap - L->p1.n_values) * sizeof *t);
        L->p1.t = t;
        L->cap_p1 = cap;
    }
    hl_tensor *t = L->p1.t;
    for (int v = L->p1.n_values; v < m->n_values; v++) {
        const hl_value *val = &m->values[v];
        if (val->kind == HL_VAL_CONST) {
            t[v].shape = val->shape;
            t[v].dtype = val->dtype;
            t[v].data = val->data;
            t[v].i64 = val->i64;
        }
    }
    L->p1.n_values = m->n_values;
    return HL_OK;
}

int hl_loader_name_used(loader *L, const char *name)
{
    const Onnx__GraphProto *g = L->graph;
    if (!L->used_built) {
        /* once, on first use: every name a node or graph output reads */
        for (size_t k = 0; k < g->n_node; k++)
            for (size_t i = 0; i < g->node[k]->n_input; i++)
                if (hl_name_map_set(&L->used, g->node[k]->input[i], 1))
                    return 1;  /* out of memory: assume used (refuse) */
        for (size_t k = 0; k < g->n_output; k++)
            if (g->output[k]->name &&
                hl_name_map_set(&L->used, g->output[k]->name, 1))
                return 1;
        L->used_built = 1;
    }
    return hl_name_map_get(&L->used, name) > 0;
}

/* ------------------------------------------------------------ model */

static hl_status convert_model(loader *L, const Onnx__ModelProto *mp,
                               const hl_load_options *opt)
{
    hl_model *m = L->m;
    const Onnx__GraphProto *g = mp->graph;
    L->graph = g;
    if (!g || (g->n_node == 0 && g->n_input == 0 && g->n_output == 0))
        return hl_error_set(L->err, HL_ERR_PARSE,
                            "%s: not an ONNX model (no graph)", L->file);

    m->opset = -1;
    for (size_t i = 0; i < mp->n_opset_import; i++) {
        const Onnx__OperatorSetIdProto *os = mp->opset_import[i];
        if (!os->domain || !os->domain[0] || strcmp(os->domain, "ai.onnx") == 0)
            m->opset = os->has_version ? (int)os->version : 1;
    }
    if (m->opset < 0 && mp->n_opset_import == 0)
        m->opset = 1; /* IR < 3: opset 1 */
    if (m->opset < HL_OPSET_MIN || m->opset > HL_OPSET_MAX)
        return hl_error_set(L->err, HL_ERR_UNSUPPORTED,
                            "%s: ONNX opset %d is not supported (opsets %d "
                            "to %d are)", L->file, m->opset, HL_OPSET_MIN,
                            HL_OPSET_MAX);
    if (g->n_sparse_initializer)
        return hl_error_set(L->err, HL_ERR_UNSUPPORTED,
                            "%s: sparse initializers are not supported",
                            L->file);

    hl_status st;
    for (size_t i = 0; i < g->n_initializer; i++) {
        const Onnx__TensorProto *tp = g->initializer[i];
        char what[300];
        snprintf(what, sizeof what, "initializer '%s'",
                 tp->name ? tp->name : "");
        hl_tensor t;
        st = hl_onnx_tensor(tp, &m->arena, L->file, what, &t, L->err);
        if (st)
            return st;
        /* copied: the file's pages of these weights are not needed again */
        if (L->mapped_raw && i < L->mapped_raw->n_init &&
            L->mapped_raw->raw[i])
            hl_file_drop_pages(L->mapped_raw->raw[i],
                               L->mapped_raw->raw_len[i]);
        st = hl_loader_add_const(L, tp->name ? tp->name : "", &t);
        if (st)
            return st;
    }
    st = hl_onnx_graph_inputs(L, g, opt);
    if (st)
        return st;
    st = hl_loader_grow_plan(L);
    if (st)
        return st;
    for (int i = 0; i < m->n_inputs; i++) {
        hl_tensor *t = &L->p1.t[m->inputs[i]];
        t->dtype = HL_DT_FLOAT;
        t->shape = m->input_shapes[i];
        if (t->shape.dims[0] < 0)
            t->shape.dims[0] = 1;
    }
    L->free_batch = !(opt && opt->n_input_shapes);
    if (L->nhwc_name) {
        /* the model's own NHWC input = Transpose(NCHW input, 0,2,3,1) */
        int64_t perm[4] = { 0, 2, 3, 1 };
        Onnx__AttributeProto pa = ONNX__ATTRIBUTE_PROTO__INIT;
        pa.name = (char *)"perm";
        pa.has_type = 1;
        pa.type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INTS;
        pa.n_ints = 4;
        pa.ints = perm;
        Onnx__AttributeProto *pattrs[1] = { &pa };
        char *ins[1] = { (char *)L->nchw_input };
        char *outs[1] = { (char *)L->nhwc_name };
        Onnx__NodeProto tp = ONNX__NODE_PROTO__INIT;
        tp.name = (char *)"heatlens/nchw_to_nhwc";
        tp.op_type = (char *)"Transpose";
        tp.n_input = 1;
        tp.input = ins;
        tp.n_output = 1;
        tp.output = outs;
        tp.n_attribute = 1;
        tp.attribute = pattrs;
        st = hl_onnx_add_node(L, &tp, 0);
        if (st)
            return st;
    }
    st = hl_onnx_graph_nodes(L, g);
    if (st)
        return st;

    if (g->n_output == 0)
        return hl_error_set(L->err, HL_ERR_PARSE, "%s: the graph has no output",
                            L->file);
    m->outputs = hl_arena_alloc(&m->arena, g->n_output * sizeof(int));
    for (size_t i = 0; i < g->n_output; i++) {
        const char *name = g->output[i]->name ? g->output[i]->name : "";
        int id = hl_loader_find_value(L, name);
        if (id < 0)
            return hl_error_set(L->err, HL_ERR_PARSE,
                                "%s: graph output '%s' is not produced by any "
                                "node", L->file, name);
        m->outputs[m->n_outputs++] = hl_model_resolve(m, id);
    }

    m->meta_keys = hl_arena_alloc(&m->arena,
                                  (mp->n_metadata_props + 1) * sizeof(char *));
    m->meta_values = hl_arena_alloc(&m->arena, (mp->n_metadata_props + 1) *
                                                   sizeof(char *));
    for (size_t i = 0; i < mp->n_metadata_props; i++) {
        const Onnx__StringStringEntryProto *e = mp->metadata_props[i];
        m->meta_keys[m->n_meta] = hl_arena_strdup(&m->arena, e->key ? e->key : "");
        m->meta_values[m->n_meta] =
            hl_arena_strdup(&m->arena, e->value ? e->value : "");
        m->n_meta++;
    }
    return HL_OK;
}

/* Shapes of all values at batch 1, from the load-time plan. */
static hl_status keep_batch1_shapes(loader *L)
{
    hl_model *m = L->m;
    m->shape1 = hl_arena_alloc(&m->arena, ((size_t)m->n_values + 1) *
                                              sizeof(hl_shape));
    m->dtype1 = hl_arena_alloc(&m->arena, ((size_t)m->n_values + 1) *
                                              sizeof(hl_dtype));
    if (!m->shape1 || !m->dtype1)
        return hl_error_set(L->err, HL_ERR_NOMEM, "%s: out of memory", L->file);
    for (int v = 0; v < m->n_values; v++) {
        int r = hl_model_resolve(m, v);
        m->shape1[v] = L->p1.t[r].shape;
        m->dtype1[v] = L->p1.t[r].dtype ? L->p1.t[r].dtype : HL_DT_FLOAT;
    }
    return HL_OK;
}

/* Frees a partially built model (params of the nodes kept so far). */
void hl_model_free(hl_model *m);

/* The message, unpacked from its skeleton (onnx_wire.c) when it has one:
 * the initializers' raw_data then point into `data` (sk->raw[i] set),
 * copied once by hl_onnx_tensor instead of twice. */
static Onnx__ModelProto *unpack_model(const uint8_t *data, size_t size,
                                      hl_onnx_skeleton *sk)
{
    if (hl_onnx_skeleton_build(data, size, sk) == 0) {
        Onnx__ModelProto *mp =
            onnx__model_proto__unpack(NULL, sk->size, sk->bytes);
        if (mp && mp->graph && mp->graph->n_initializer == sk->n_init) {
            for (size_t i = 0; i < sk->n_init; i++) {
                Onnx__TensorProto *tp = mp->graph->initializer[i];
                if (!sk->raw[i] || !tp->has_raw_data || tp->raw_data.len) {
                    sk->raw[i] = NULL;
                    continue;
                }
                tp->raw_data.data = (uint8_t *)sk->raw[i];
                tp->raw_data.len = sk->raw_len[i];
            }
            return mp;
        }
        if (mp)
            onnx__model_proto__free_unpacked(mp, NULL);
        hl_onnx_skeleton_free(sk);
    }
    return onnx__model_proto__unpack(NULL, size, data);
}

static void free_model_proto(Onnx__ModelProto *mp, hl_onnx_skeleton *sk)
{
    for (size_t i = 0; i < sk->n_init; i++)
        if (sk->raw[i]) {
            /* not protobuf-c's to free */
            mp->graph->initializer[i]->raw_data.data = NULL;
            mp->graph->initializer[i]->raw_data.len = 0;
        }
    onnx__model_proto__free_unpacked(mp, NULL);
    hl_onnx_skeleton_free(sk);
}

/* data_is_mapped: `data` is a read-only file mapping whose pages can be
 * dropped once copied (never a caller's buffer). */
static hl_status load_onnx(const void *data, size_t size,
                           const char *display_name, const hl_load_options *opt,
                           int data_is_mapped, hl_model **out, hl_error *err)
{
    const char *file = display_name ? display_name : "model";
    *out = NULL;
    if (size == 0)
        return hl_error_set(err, HL_ERR_PARSE, "%s: empty file", file);
    hl_status nest = hl_onnx_check_nesting(data, size, file, err);
    if (nest)
        return nest;
    hl_onnx_skeleton sk;
    Onnx__ModelProto *mp = unpack_model(data, size, &sk);
    if (!mp)
        return hl_error_set(err, HL_ERR_PARSE,
                            "%s: not an ONNX model, or truncated (protobuf "
                            "decoding failed)", file);
    hl_model *m = calloc(1, sizeof *m);
    if (!m) {
        free_model_proto(mp, &sk);
        return hl_error_set(err, HL_ERR_NOMEM, "%s: out of memory", file);
    }
    m->name = hl_arena_strdup(&m->arena, file);
    loader L = {.m = m, .file = m->name, .err = err,
                .mapped_raw = data_is_mapped ? &sk : NULL};
    hl_status st = convert_model(&L, mp, opt);
    free_model_proto(mp, &sk);
    if (st == HL_OK)
        st = keep_batch1_shapes(&L);
    hl_plan_free(&L.p1);
    hl_name_map_free(&L.names);
    hl_name_map_free(&L.used);
    if (st == HL_OK && !(opt && opt->no_simplify))
        st = hl_model_fold_batchnorm(m, err);
    if (st == HL_OK && !(opt && opt->no_simplify))
        st = hl_model_fuse_activations(m, err);
    if (st == HL_OK && !(opt && opt->n_input_shapes)) {
        /* Catch models exported with a fixed batch size now rather than
         * at the first batched run. */
        hl_plan p2 = {0};
        hl_shape s2 = m->input_shapes[0];
        s2.dims[0] = 2;
        st = hl_plan_compute(m, &p2, &s2, 2, err);
        hl_plan_free(&p2);
    }
    if (st == HL_OK) {
        hl_plan p1 = {0};
        hl_shape s1[HL_MAX_IO];
        int n = m->n_inputs < HL_MAX_IO ? m->n_inputs : HL_MAX_IO;
        for (int i = 0; i < n; i++) {
            s1[i] = m->input_shapes[i];
            if (s1[i].dims[0] < 0)
                s1[i].dims[0] = 1;
        }
        /* activations and gradients of a batch-1 run, before any input
         * is prepared for it (a fixed 1x3x10000x10000 input) */
        uint64_t run1 = 0;
        for (int i = 0; i < n; i++)
            run1 += 2 * sizeof(float) * (uint64_t)hl_shape_numel(&s1[i]);
        if (m->n_inputs <= HL_MAX_IO) {
            st = hl_plan_compute(m, &p1, s1, 0, err);
            for (int k = 0; st == HL_OK && k < m->n_nodes; k++) {
                const hl_node *nd = &m->nodes[k];
                const hl_op *op = hl_op_get(nd->op);
                hl_tensor in[HL_MAX_IO], o[HL_MAX_IO];
                for (int i = 0; i < nd->n_in; i++)
                    if (nd->in[i] >= 0)
                        in[i] = p1.t[nd->in[i]];
                    else
                        memset(&in[i], 0, sizeof in[i]);
                for (int j = 0; j < nd->n_out; j++)
                    if (nd->out[j] >= 0)
                        o[j] = p1.t[nd->out[j]];
                    else
                        memset(&o[j], 0, sizeof o[j]);
                if (m->node_kind[k] != HL_VAL_DYNAMIC)
                    continue;
                for (int j = 0; j < nd->n_out; j++)
                    if (nd->out[j] >= 0)
                        run1 += 2 * (uint64_t)hl_shape_numel(&o[j].shape) *
                                hl_dtype_size(o[j].dtype ? o[j].dtype
                                                         : HL_DT_FLOAT);
                if (op->flops)
                    m->flops1 += op->flops(nd, in, o);
                else if (nd->out[0] >= 0)
                    m->flops1 += (double)hl_shape_numel(&o[0].shape);
            }
            if (st == HL_OK)
                st = hl_check_memory(run1, file, "a run at batch 1", err);
        }
        hl_plan_free(&p1);
    }
    if (st) {
        hl_model_free(m);
        return st;
    }
    *out = m;
    return HL_OK;
}

hl_status hl_model_load_onnx_ex(const void *data, size_t size,
                                const char *display_name,
                                const hl_load_options *opt, hl_model **out,
                                hl_error *err)
{
    return load_onnx(data, size, display_name, opt, 0, out, err);
}

hl_status hl_model_load_onnx_buffer(const void *data, size_t size,
                                    const char *display_name, hl_model **out,
                                    hl_error *err)
{
    return hl_model_load_onnx_ex(data, size, display_name, NULL, out, err);
}

hl_status hl_model_load_onnx(const char *path, hl_model **out, hl_error *err)
{
    *out = NULL;
    const unsigned char *buf;
    size_t len;
    int mapped;
    hl_status st = hl_file_map(path, "model", HL_MAX_MODEL_BYTES, &buf, &len,
                               &mapped, err);
    if (st == HL_OK) {
        const char *base = strrchr(path, '/');
        st = load_onnx(buf, len, base ? base + 1 : path, NULL, mapped, out,
                       err);
    }
    if (buf)
        hl_file_unmap(buf, len, mapped);
    return st;
}
