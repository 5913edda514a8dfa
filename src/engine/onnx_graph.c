/* The graph's inputs (with their shapes, NHWC images presented as NCHW)
 * and its nodes, added in a topological order. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "onnx_loader.h"

/* Height and width given to an [N,C,H,W] input whose H/W are free. */
#define HL_FREE_IMAGE_SIDE 224

/* A graph input the options bind to data (the conformance runner's
 * Reshape shapes...): a constant. *bound = 0 when not bound. */
static hl_status bound_input(loader *L, const char *name,
                             const hl_load_options *opt, int *bound)
{
    hl_model *m = L->m;
    *bound = 0;
    int b = -1;
    for (int k = 0; opt && k < opt->n_bound; k++)
        if (strcmp(opt->bound_names[k], name) == 0)
            b = k;
    if (b < 0)
        return HL_OK;
    *bound = 1;
    const hl_tensor *bt = &opt->bound[b];
    hl_tensor t = *bt;
    size_t n = (size_t)hl_shape_numel(&bt->shape);
    if (bt->dtype == HL_DT_FLOAT) {
        t.data = hl_arena_alloc(&m->arena, (n + 1) * sizeof(float));
        if (n)
            memcpy(t.data, bt->data, n * sizeof(float));
        t.i64 = NULL;
    } else {
        t.i64 = hl_arena_alloc(&m->arena, (n + 1) * sizeof(int64_t));
        if (n)
            memcpy(t.i64, bt->i64, n * sizeof(int64_t));
        t.data = NULL;
    }
    return hl_loader_add_const(L, name, &t);
}

/* The shape of graph input `id` (value `name`): given by the options, or
 * as declared with a free batch (and free image sides planned at
 * HL_FREE_IMAGE_SIDE); an NHWC image input is presented as NCHW. */
static hl_status input_shape(loader *L, const Onnx__TensorShapeProto *sp,
                             const hl_load_options *opt, const char *name,
                             int id, hl_shape *s)
{
    hl_model *m = L->m;
    if (opt && opt->n_input_shapes) {
        if (m->n_inputs >= opt->n_input_shapes)
            return hl_error_set(L->err, HL_ERR_ARG,
                                "%s: no shape given for graph input '%s'",
                                L->file, name);
        *s = opt->input_shapes[m->n_inputs];
    } else {
        if (!sp || sp->n_dim < 1 || sp->n_dim > HL_MAX_DIMS)
            return hl_error_set(L->err, HL_ERR_UNSUPPORTED,
                                "%s: graph input '%s' has no usable shape "
                                "(need 1 to %d dimensions, the first "
                                "being the batch)", L->file, name,
                                HL_MAX_DIMS);
        s->ndim = (int)sp->n_dim;
        s->dims[0] = -1; /* the batch is always chosen per run */
        int64_t raw[HL_MAX_DIMS];
        for (size_t d = 1; d < sp->n_dim; d++)
            raw[d] = sp->dim[d]->value_case ==
                    ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE
                ? sp->dim[d]->dim_value : -1;
        /* [N,H,W,C] with C = 1 or 3 and H not a channel count: an
         * NHWC image model */
        int nhwc = sp->n_dim == 4 && !(opt && opt->n_bound) &&
                   (raw[3] == 3 || raw[3] == 1) && raw[1] != 3 &&
                   raw[1] != 1;
        int64_t per_sample = 1;
        for (size_t d = 1; d < sp->n_dim; d++) {
            int64_t value = raw[d];
            /* An image model exported with free height and width
             * ([N,C,H,W], dynamic_axes on 2 and 3) is planned at
             * ImageNet's 224 x 224; the channels must be fixed. */
            if (value <= 0 && sp->n_dim == 4 && (nhwc ? d <= 2 : d >= 2))
                value = HL_FREE_IMAGE_SIDE;
            if (value <= 0)
                return hl_error_set(L->err, HL_ERR_UNSUPPORTED,
                                    "%s: graph input '%s' has a free "
                                    "dimension %zu; only the batch "
                                    "dimension (0) and the height and "
                                    "width of an [N,C,H,W] input may be "
                                    "free", L->file, name, d);
            /* same bound as initializers; also keeps every later
             * element count (batch x sample) inside int64_t */
            if (value > ((int64_t)1 << 34) / per_sample)
                return hl_error_set(L->err, HL_ERR_UNSUPPORTED,
                                    "%s: graph input '%s' is too large "
                                    "(more than 2^34 elements per "
                                    "sample)", L->file, name);
            per_sample *= value;
            s->dims[d] = value;
        }
        if (nhwc) {
            int64_t h = s->dims[1], w = s->dims[2], c = s->dims[3];
            s->dims[1] = c;
            s->dims[2] = h;
            s->dims[3] = w;
            char *renamed = hl_arena_alloc(&m->arena, strlen(name) + 6);
            if (!renamed)
                return hl_error_set(L->err, HL_ERR_NOMEM,
                                    "%s: out of memory", L->file);
            sprintf(renamed, "%s:nchw", name);
            L->nhwc_name = m->values[id].name;
            L->nchw_input = renamed;
            hl_status st = hl_loader_rename_value(L, id, renamed);
            if (st)
                return st;
        }
    }
    return HL_OK;
}

hl_status hl_onnx_graph_inputs(loader *L, const Onnx__GraphProto *g,
                               const hl_load_options *opt)
{
    hl_model *m = L->m;
    m->inputs = hl_arena_alloc(&m->arena, (g->n_input + 1) * sizeof(int));
    m->input_shapes = hl_arena_alloc(&m->arena,
                                     (g->n_input + 1) * sizeof(hl_shape));
    for (size_t i = 0; i < g->n_input; i++) {
        const Onnx__ValueInfoProto *vi = g->input[i];
        const char *name = vi->name ? vi->name : "";
        if (hl_loader_find_value(L, name) >= 0)
            continue; /* an initializer (old exporters list them as inputs) */
        int bound;
        hl_status st = bound_input(L, name, opt, &bound);
        if (st)
            return st;
        if (bound)
            continue;
        const Onnx__TypeProto *tp = vi->type;
        if (!tp || tp->value_case != ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE ||
            !tp->tensor_type)
            return hl_error_set(L->err, HL_ERR_UNSUPPORTED,
                                "%s: graph input '%s' is not a tensor",
                                L->file, name);
        int et = tp->tensor_type->has_elem_type ? tp->tensor_type->elem_type
                                                : 0;
        if (et != 1)
            return hl_error_set(L->err, HL_ERR_UNSUPPORTED,
                                "%s: graph input '%s' has data type %s; only "
                                "float inputs are supported", L->file, name,
                                hl_onnx_dtype_name(et));
        int id = hl_loader_add_value(L, name, HL_VAL_DYNAMIC);
        if (id < 0)
            return hl_error_set(L->err, HL_ERR_NOMEM, "%s: out of memory",
                                L->file);
        m->values[id].dtype = HL_DT_FLOAT;
        st = input_shape(L, tp->tensor_type->shape, opt, name, id,
                         &m->input_shapes[m->n_inputs]);
        if (st)
            return st;
        m->inputs[m->n_inputs++] = id;
    }
    if (m->n_inputs == 0)
        return hl_error_set(L->err, HL_ERR_UNSUPPORTED,
                            "%s: the graph has no non-constant input",
                            L->file);
    if (!(opt && opt->n_input_shapes) && m->n_inputs != 1)
        return hl_error_set(L->err, HL_ERR_UNSUPPORTED,
                            "%s: the graph has %d inputs; Heatlens explains "
                            "models with exactly one (image) input", L->file,
                            m->n_inputs);
    return HL_OK;
}

/* The error for a graph whose remaining nodes cannot be ordered: the
 * first node with an input that nothing defines, or that a cycle holds. */
static hl_status missing_input(loader *L, const Onnx__GraphProto *g,
                               const char *done)
{
    size_t nn = g->n_node;
    for (size_t k = 0; k < nn; k++) {
        if (done[k])
            continue;
        const Onnx__NodeProto *np = g->node[k];
        for (size_t i = 0; i < np->n_input; i++) {
            if (!np->input[i][0] || hl_loader_find_value(L, np->input[i]) >= 0)
                continue;
            int produced = 0;
            for (size_t j = 0; j < nn; j++)
                for (size_t o = 0; o < g->node[j]->n_output; o++)
                    if (strcmp(g->node[j]->output[o], np->input[i]) == 0)
                        produced = 1;
            char name[HL_NODE_NAME_MAX];
            return hl_error_set(L->err, HL_ERR_PARSE,
                                "%s: node '%s' (%s): input '%s' %s", L->file,
                                hl_onnx_node_name(np, (int)k, name),
                                np->op_type, np->input[i],
                                produced ? "is part of a cycle"
                                         : "is not produced by any node, "
                                           "initializer or graph input");
        }
    }
    return HL_OK;
}

/* Adds the nodes in a topological order (files are usually sorted, and
 * then this is one pass; a few hand-made ones are not). */
hl_status hl_onnx_graph_nodes(loader *L, const Onnx__GraphProto *g)
{
    size_t nn = g->n_node;
    char *done = calloc(nn + 1, 1);
    if (!done)
        return hl_error_set(L->err, HL_ERR_NOMEM, "%s: out of memory", L->file);
    size_t n_done = 0;
    hl_status st = HL_OK;
    while (n_done < nn && st == HL_OK) {
        size_t progress = 0;
        for (size_t k = 0; k < nn && st == HL_OK; k++) {
            if (done[k])
                continue;
            const Onnx__NodeProto *np = g->node[k];
            int ready = 1;
            for (size_t i = 0; i < np->n_input && ready; i++)
                if (np->input[i][0] &&
                    hl_loader_find_value(L, np->input[i]) < 0)
                    ready = 0;
            if (!ready)
                continue;
            st = hl_onnx_add_node(L, np, (int)k);
            done[k] = 1;
            n_done++;
            progress++;
        }
        if (st == HL_OK && progress == 0)
            st = missing_input(L, g, done);
    }
    free(done);
    return st;
}
