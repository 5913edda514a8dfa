/* ONNX import: protobuf message -> hl_model, converted once.
 *
 * The protobuf-c message is unpacked, turned into our own values, nodes
 * and attributes (strings and weights copied into the model arena) and
 * freed before returning. Constant subgraphs are evaluated here; nodes
 * that depend only on input shapes are marked STATIC (evaluated per plan);
 * the rest run in forward.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "graph.h"
#include "onnx.pb-c.h"

/* Opsets 18-22 change our ops only by new data types, or by semantics the
 * ops read themselves (Reduce* and Split sizes as inputs, Pad axes; Pad's
 * 'wrap' and AveragePool's dilations are refused by the ops). */
/* Height and width given to an [N,C,H,W] input whose H/W are free. */
#define HL_FREE_IMAGE_SIDE 224

#define HL_OPSET_MIN 7
#define HL_OPSET_MAX 22

typedef struct loader {
    hl_model *m;
    const char *file;
    hl_error *err;
    int cap_values;
    hl_plan p1;        /* batch-1 plan built while nodes are added */
    int cap_nodes;
    /* An NHWC image input (Keras, tf2onnx, the model zoo's
     * EfficientNet-Lite): the graph input value is renamed to
     * nchw_input and presented as [N,C,H,W]; a Transpose node (added
     * before the graph's nodes) gives the model its NHWC tensor under
     * nhwc_name. NULL otherwise. */
    const char *nhwc_name, *nchw_input;
} loader;

/* ------------------------------------------------------------ tensors */

static void *tensor_alloc(hl_arena *arena, size_t bytes)
{
    if (arena)
        return hl_arena_alloc(arena, bytes ? bytes : 1);
    return calloc(1, bytes ? bytes : 1);
}

static float half_to_float(uint16_t h)
{
    int sign = h >> 15, exp = (h >> 10) & 0x1f, mant = h & 0x3ff;
    float v;
    if (exp == 0)
        v = ldexpf((float)mant, -24);
    else if (exp == 31)
        v = mant ? NAN : INFINITY;
    else
        v = ldexpf((float)(mant | 0x400), exp - 25);
    return sign ? -v : v;
}

static float bfloat16_to_float(uint16_t b)
{
    uint32_t u = (uint32_t)b << 16;
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

/* Size in bytes of one element in raw_data; 0 for unsupported types. */
static size_t onnx_elem_size(int dt)
{
    switch (dt) {
    case 1: case 6: case 12: return 4;
    case 2: case 3: case 9: return 1;
    case 4: case 5: case 10: case 16: return 2;
    case 7: case 11: case 13: return 8;
    default: return 0;
    }
}

static int onnx_dtype_is_float(int dt)
{
    return dt == 1 || dt == 10 || dt == 11 || dt == 16;
}

static const char *onnx_dtype_name(int dt)
{
    static const char *names[] = {
        "undefined", "float", "uint8", "int8", "uint16", "int16", "int32",
        "int64", "string", "bool", "float16", "double", "uint32", "uint64",
        "complex64", "complex128", "bfloat16"};
    return dt >= 0 && dt <= 16 ? names[dt] : "unknown";
}

/* Element k of a raw little-endian buffer of ONNX type dt, as double
 * (float types) or int64 (integer types). */
static double raw_get_double(const uint8_t *p, int dt, size_t k)
{
    switch (dt) {
    case 1: { float f; memcpy(&f, p + 4 * k, 4); return f; }
    case 11: { double d; memcpy(&d, p + 8 * k, 8); return d; }
    case 10: { uint16_t h; memcpy(&h, p + 2 * k, 2); return half_to_float(h); }
    case 16: { uint16_t h; memcpy(&h, p + 2 * k, 2); return bfloat16_to_float(h); }
    }
    return 0;
}

static int64_t raw_get_int(const uint8_t *p, int dt, size_t k)
{
    switch (dt) {
    case 2: case 9: return p[k];
    case 3: return (int8_t)p[k];
    case 4: { uint16_t v; memcpy(&v, p + 2 * k, 2); return v; }
    case 5: { int16_t v; memcpy(&v, p + 2 * k, 2); return v; }
    case 6: { int32_t v; memcpy(&v, p + 4 * k, 4); return v; }
    case 12: { uint32_t v; memcpy(&v, p + 4 * k, 4); return v; }
    case 7: { int64_t v; memcpy(&v, p + 8 * k, 8); return v; }
    case 13: { uint64_t v; memcpy(&v, p + 8 * k, 8); return (int64_t)v; }
    }
    return 0;
}

/* TensorProto -> hl_tensor (float for float types, int64 for integers).
 * `what` names the tensor in messages ("initializer 'w'"). */
static hl_status tensor_from_proto(const Onnx__TensorProto *tp,
                                   hl_arena *arena, const char *file,
                                   const char *what, hl_tensor *out,
                                   hl_error *err)
{
    memset(out, 0, sizeof *out);
    int dt = tp->has_data_type ? tp->data_type : 0;
    if (tp->n_external_data > 0 ||
        (tp->has_data_location &&
         tp->data_location == ONNX__TENSOR_PROTO__DATA_LOCATION__EXTERNAL))
        return hl_error_set(err, HL_ERR_UNSUPPORTED,
                            "%s: %s keeps its data in an external file; save "
                            "the model with all tensors inside it", file, what);
    if (tp->segment)
        return hl_error_set(err, HL_ERR_UNSUPPORTED,
                            "%s: %s is a segmented tensor", file, what);
    size_t esize = onnx_elem_size(dt);
    if (esize == 0)
        return hl_error_set(err, HL_ERR_UNSUPPORTED,
                            "%s: %s has data type %s, not supported", file,
                            what, onnx_dtype_name(dt));
    if (tp->n_dims > HL_MAX_DIMS)
        return hl_error_set(err, HL_ERR_UNSUPPORTED,
                            "%s: %s has %zu dimensions (at most %d)", file,
                            what, tp->n_dims, HL_MAX_DIMS);
    out->shape.ndim = (int)tp->n_dims;
    size_t numel = 1;
    int too_large = 0;
    for (size_t i = 0; i < tp->n_dims; i++) {
        if (tp->dims[i] < 0 || tp->dims[i] > ((int64_t)1 << 40))
            return hl_error_set(err, HL_ERR_PARSE,
                                "%s: %s has an invalid dimension %lld", file,
                                what, (long long)tp->dims[i]);
        out->shape.dims[i] = tp->dims[i];
        /* checked before multiplying: [2^32, 2^32] must not wrap to 0
         * elements and pass as an empty tensor */
        if (numel && (size_t)tp->dims[i] > ((size_t)1 << 34) / numel)
            too_large = 1;
        numel *= (size_t)tp->dims[i];
    }
    if (too_large || numel > ((size_t)1 << 34))
        return hl_error_set(err, HL_ERR_PARSE, "%s: %s is too large", file,
                            what);
    int is_float = onnx_dtype_is_float(dt);
    out->dtype = is_float ? HL_DT_FLOAT : HL_DT_INT64;

    /* where the elements are */
    size_t have;
    if (tp->has_raw_data) {
        have = tp->raw_data.len / esize;
        if (tp->raw_data.len % esize)
            have = (size_t)-1;
    } else if (dt == 1) {
        have = tp->n_float_data;
    } else if (dt == 11) {
        have = tp->n_double_data;
    } else if (dt == 7) {
        have = tp->n_int64_data;
    } else if (dt == 12 || dt == 13) {
        have = tp->n_uint64_data;
    } else {
        have = tp->n_int32_data;
    }
    if (have != numel)
        return hl_error_set(err, HL_ERR_PARSE,
                            "%s: %s has %zu elements for shape of %zu "
                            "(truncated or malformed)", file, what,
                            have == (size_t)-1 ? 0 : have, numel);

    if (is_float) {
        float *d = tensor_alloc(arena, numel * sizeof(float));
        if (!d)
            return hl_error_set(err, HL_ERR_NOMEM, "%s: out of memory", file);
        for (size_t k = 0; k < numel; k++) {
            if (tp->has_raw_data)
                d[k] = (float)raw_get_double(tp->raw_data.data, dt, k);
            else if (dt == 1)
                d[k] = tp->float_data[k];
            else if (dt == 11)
                d[k] = (float)tp->double_data[k];
            else if (dt == 10)
                d[k] = half_to_float((uint16_t)tp->int32_data[k]);
            else
                d[k] = bfloat16_to_float((uint16_t)tp->int32_data[k]);
        }
        out->data = d;
    } else {
        int64_t *d = tensor_alloc(arena, numel * sizeof(int64_t));
        if (!d)
            return hl_error_set(err, HL_ERR_NOMEM, "%s: out of memory", file);
        for (size_t k = 0; k < numel; k++) {
            if (tp->has_raw_data)
                d[k] = raw_get_int(tp->raw_data.data, dt, k);
            else if (dt == 7)
                d[k] = tp->int64_data[k];
            else if (dt == 12 || dt == 13)
                d[k] = (int64_t)tp->uint64_data[k];
            else
                d[k] = tp->int32_data[k];
        }
        out->i64 = d;
    }
    return HL_OK;
}

hl_status hl_tensor_proto_read(const void *data, size_t size,
                               const char *display_name, hl_tensor *out,
                               char **name, hl_error *err)
{
    memset(out, 0, sizeof *out);
    if (name)
        *name = NULL;
    Onnx__TensorProto *tp = onnx__tensor_proto__unpack(NULL, size, data);
    if (!tp)
        return hl_error_set(err, HL_ERR_PARSE,
                            "%s: not a serialized ONNX TensorProto",
                            display_name);
    char what[300];
    snprintf(what, sizeof what, "tensor '%s'", tp->name ? tp->name : "");
    hl_status st = tensor_from_proto(tp, NULL, display_name, what, out, err);
    if (st == HL_OK && name && tp->name)
        *name = strdup(tp->name);
    onnx__tensor_proto__free_unpacked(tp, NULL);
    return st;
}

void hl_tensor_free_data(hl_tensor *t)
{
    free(t->data);
    free(t->i64);
    t->data = NULL;
    t->i64 = NULL;
}

/* ------------------------------------------------------------ values */

static int find_value(const hl_model *m, const char *name)
{
    for (int i = m->n_values - 1; i >= 0; i--)
        if (strcmp(m->values[i].name, name) == 0)
            return i;
    return -1;
}

static int add_value(loader *L, const char *name, hl_value_kind kind)
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
    if (!v->name)
        return -1;
    v->kind = kind;
    v->producer = -1;
    v->alias = -1;
    return m->n_values++;
}

static hl_status add_const(loader *L, const char *name, const hl_tensor *t)
{
    int id = add_value(L, name, HL_VAL_CONST);
    if (id < 0)
        return hl_error_set(L->err, HL_ERR_NOMEM, "%s: out of memory", L->file);
    hl_value *v = &L->m->values[id];
    v->dtype = t->dtype;
    v->shape = t->shape;
    v->data = t->data;
    v->i64 = t->i64;
    return HL_OK;
}

/* ------------------------------------------------------------ attributes */

static hl_status convert_attrs(loader *L, const Onnx__NodeProto *np,
                               const char *node_name, hl_attrs *as)
{
    hl_arena *ar = &L->m->arena;
    as->n = 0;
    as->a = NULL;
    if (np->n_attribute == 0)
        return HL_OK;
    as->a = hl_arena_alloc(ar, np->n_attribute * sizeof(hl_attr));
    if (!as->a)
        return hl_error_set(L->err, HL_ERR_NOMEM, "%s: out of memory", L->file);
    for (size_t k = 0; k < np->n_attribute; k++) {
        const Onnx__AttributeProto *ap = np->attribute[k];
        hl_attr *a = &as->a[as->n];
        a->name = hl_arena_strdup(ar, ap->name ? ap->name : "");
        int type = ap->has_type ? (int)ap->type : 0;
        if (ap->ref_attr_name && ap->ref_attr_name[0])
            return hl_error_set(L->err, HL_ERR_UNSUPPORTED,
                                "%s: node '%s' (%s): attribute %s refers to "
                                "a function attribute", L->file, node_name,
                                np->op_type, a->name);
        a->type = (hl_attr_type)type;
        switch (type) {
        case HL_ATTR_FLOAT: a->f = ap->f; break;
        case HL_ATTR_INT: a->i = ap->i; break;
        case HL_ATTR_STRING: {
            char *s = hl_arena_alloc(ar, ap->s.len + 1);
            if (!s)
                return hl_error_set(L->err, HL_ERR_NOMEM, "%s: out of memory",
                                    L->file);
            if (ap->s.len)
                memcpy(s, ap->s.data, ap->s.len);
            a->s = s;
            break;
        }
        case HL_ATTR_TENSOR: {
            if (!ap->t)
                return hl_error_set(L->err, HL_ERR_PARSE,
                                    "%s: node '%s' (%s): tensor attribute %s "
                                    "has no tensor", L->file, node_name,
                                    np->op_type, a->name);
            a->t = hl_arena_alloc(ar, sizeof(hl_tensor));
            char what[400];
            snprintf(what, sizeof what, "node '%s' (%s): attribute %s",
                     node_name, np->op_type, a->name);
            hl_status st = tensor_from_proto(ap->t, ar, L->file, what, a->t,
                                             L->err);
            if (st)
                return st;
            break;
        }
        case HL_ATTR_FLOATS:
            a->n = (int)ap->n_floats;
            a->floats = hl_arena_alloc(ar, (ap->n_floats + 1) * sizeof(float));
            if (ap->n_floats)
                memcpy(a->floats, ap->floats, ap->n_floats * sizeof(float));
            break;
        case HL_ATTR_INTS:
            a->n = (int)ap->n_ints;
            a->ints = hl_arena_alloc(ar, (ap->n_ints + 1) * sizeof(int64_t));
            if (ap->n_ints)
                memcpy(a->ints, ap->ints, ap->n_ints * sizeof(int64_t));
            break;
        case HL_ATTR_STRINGS:
            /* kept as a count only: no supported op reads string lists */
            a->n = (int)ap->n_strings;
            break;
        default:
            return hl_error_set(L->err, HL_ERR_UNSUPPORTED,
                                "%s: node '%s' (%s): attribute %s has an "
                                "unsupported type (%d: graph, sparse tensor "
                                "or type)", L->file, node_name, np->op_type,
                                a->name, type);
        }
        as->n++;
    }
    return HL_OK;
}

/* A Constant node's value as a tensor. */
static hl_status constant_value(loader *L, const Onnx__NodeProto *np,
                                const char *node_name, const hl_attrs *as,
                                hl_tensor *t)
{
    hl_arena *ar = &L->m->arena;
    memset(t, 0, sizeof *t);
    for (int k = 0; k < as->n; k++) {
        const hl_attr *a = &as->a[k];
        if (strcmp(a->name, "value") == 0 && a->type == HL_ATTR_TENSOR) {
            *t = *a->t;
            return HL_OK;
        }
        if (strcmp(a->name, "value_float") == 0) {
            t->dtype = HL_DT_FLOAT;
            t->data = hl_arena_alloc(ar, sizeof(float));
            t->data[0] = a->f;
            return HL_OK;
        }
        if (strcmp(a->name, "value_int") == 0) {
            t->dtype = HL_DT_INT64;
            t->i64 = hl_arena_alloc(ar, sizeof(int64_t));
            t->i64[0] = a->i;
            return HL_OK;
        }
        if (strcmp(a->name, "value_floats") == 0) {
            t->dtype = HL_DT_FLOAT;
            t->shape.ndim = 1;
            t->shape.dims[0] = a->n;
            t->data = a->floats;
            return HL_OK;
        }
        if (strcmp(a->name, "value_ints") == 0) {
            t->dtype = HL_DT_INT64;
            t->shape.ndim = 1;
            t->shape.dims[0] = a->n;
            t->i64 = a->ints;
            return HL_OK;
        }
    }
    return hl_error_set(L->err, HL_ERR_UNSUPPORTED,
                        "%s: node '%s' (Constant): no supported value "
                        "attribute (value, value_float(s), value_int(s))%s",
                        L->file, node_name,
                        np->n_attribute ? "" : "; node has no attribute");
}

/* ------------------------------------------------------------ graph */

static hl_status graph_inputs(loader *L, const Onnx__GraphProto *g,
                              const hl_load_options *opt)
{
    hl_model *m = L->m;
    m->inputs = hl_arena_alloc(&m->arena, (g->n_input + 1) * sizeof(int));
    m->input_shapes = hl_arena_alloc(&m->arena,
                                     (g->n_input + 1) * sizeof(hl_shape));
    for (size_t i = 0; i < g->n_input; i++) {
        const Onnx__ValueInfoProto *vi = g->input[i];
        const char *name = vi->name ? vi->name : "";
        if (find_value(m, name) >= 0)
            continue; /* an initializer (old exporters list them as inputs) */
        int bound = -1;
        for (int b = 0; opt && b < opt->n_bound; b++)
            if (strcmp(opt->bound_names[b], name) == 0)
                bound = b;
        if (bound >= 0) {
            const hl_tensor *bt = &opt->bound[bound];
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
            hl_status st = add_const(L, name, &t);
            if (st)
                return st;
            continue;
        }
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
                                onnx_dtype_name(et));
        int id = add_value(L, name, HL_VAL_DYNAMIC);
        if (id < 0)
            return hl_error_set(L->err, HL_ERR_NOMEM, "%s: out of memory",
                                L->file);
        m->values[id].dtype = HL_DT_FLOAT;
        hl_shape *s = &m->input_shapes[m->n_inputs];
        const Onnx__TensorShapeProto *sp = tp->tensor_type->shape;
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
                m->values[id].name = renamed;
                L->nchw_input = renamed;
            }
        }
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

static int op_is(const char *op_type, const char *name)
{
    return strcmp(op_type, name) == 0;
}

/* Outputs of node j used by any other node k? */
static int output_used(const Onnx__GraphProto *g, const char *name)
{
    for (size_t k = 0; k < g->n_node; k++)
        for (size_t i = 0; i < g->node[k]->n_input; i++)
            if (strcmp(g->node[k]->input[i], name) == 0)
                return 1;
    for (size_t k = 0; k < g->n_output; k++)
        if (g->output[k]->name && strcmp(g->output[k]->name, name) == 0)
            return 1;
    return 0;
}

static hl_status add_node_name(loader *L, const char *name, int value)
{
    hl_model *m = L->m;
    hl_name_entry *e = realloc(m->node_names,
                               (size_t)(m->n_node_names + 1) * sizeof *e);
    if (!e)
        return hl_error_set(L->err, HL_ERR_NOMEM, "%s: out of memory", L->file);
    m->node_names = e;
    e[m->n_node_names].name = hl_arena_strdup(&m->arena, name);
    e[m->n_node_names].value = value;
    m->n_node_names++;
    return HL_OK;
}

/* The tensors a node's init() sees: constants with data, other values
 * with their batch-1 shape and a free leading dimension. */
static void init_inputs(loader *L, const hl_node *n, hl_tensor *in,
                        int free_batch)
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
        if (free_batch && v->kind == HL_VAL_DYNAMIC && in[i].shape.ndim > 0)
            in[i].shape.dims[0] = -1;
    }
}

/* Grows the batch-1 plan to the current number of values. */
static hl_status grow_plan(loader *L)
{
    hl_model *m = L->m;
    if (L->p1.n_values >= m->n_values)
        return HL_OK;
    int cap = m->n_values + 64;
    hl_tensor *t = realloc(L->p1.t, (size_t)cap * sizeof *t);
    if (!t)
        return hl_error_set(L->err, HL_ERR_NOMEM, "%s: out of memory", L->file);
    memset(t + L->p1.n_values, 0,
           (size_t)(cap - L->p1.n_values) * sizeof *t);
    L->p1.t = t;
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

/* Adds one ONNX node (inputs already defined). */
static hl_status add_node(loader *L, const Onnx__NodeProto *np, int index,
                          int free_batch, const Onnx__GraphProto *g)
{
    hl_model *m = L->m;
    char fallback[64];
    const char *op_type = np->op_type ? np->op_type : "";
    const char *name = np->name && np->name[0] ? np->name : NULL;
    if (!name) {
        snprintf(fallback, sizeof fallback, "%s_%d", op_type, index);
        name = fallback;
    }
    if (np->domain && np->domain[0] && strcmp(np->domain, "ai.onnx") != 0)
        return hl_error_set(L->err, HL_ERR_UNSUPPORTED,
                            "%s: node '%s' (%s): operator domain '%s' is not "
                            "supported (only the default ONNX domain)",
                            L->file, name, op_type, np->domain);
    for (size_t o = 0; o < np->n_output; o++)
        if (np->output[o][0] && find_value(m, np->output[o]) >= 0)
            return hl_error_set(L->err, HL_ERR_PARSE,
                                "%s: node '%s' (%s): output '%s' is defined "
                                "twice", L->file, name, op_type,
                                np->output[o]);
    if (np->n_input > HL_MAX_IO || np->n_output > HL_MAX_IO)
        return hl_error_set(L->err, HL_ERR_UNSUPPORTED,
                            "%s: node '%s' (%s): more than %d inputs or "
                            "outputs", L->file, name, op_type, HL_MAX_IO);

    hl_attrs attrs;
    hl_status st = convert_attrs(L, np, name, &attrs);
    if (st)
        return st;

    if (op_is(op_type, "Constant")) {
        hl_tensor t;
        st = constant_value(L, np, name, &attrs, &t);
        if (st)
            return st;
        if (np->n_output < 1)
            return hl_error_set(L->err, HL_ERR_PARSE,
                                "%s: node '%s' (Constant) has no output",
                                L->file, name);
        st = add_const(L, np->output[0], &t);
        if (!st)
            st = add_node_name(L, name, m->n_values - 1);
        return st ? st : grow_plan(L);
    }

    int in_ids[HL_MAX_IO];
    for (size_t i = 0; i < np->n_input; i++)
        in_ids[i] = np->input[i][0]
                        ? hl_model_resolve(m, find_value(m, np->input[i]))
                        : -1;

    /* Identity and Dropout (inference) are removed: their output is an
     * alias of their input. */
    if (op_is(op_type, "Identity") || op_is(op_type, "Dropout")) {
        if (np->n_input < 1 || np->n_output < 1 || in_ids[0] < 0)
            return hl_error_set(L->err, HL_ERR_PARSE,
                                "%s: node '%s' (%s) needs one input and "
                                "output", L->file, name, op_type);
        if (op_is(op_type, "Dropout") && np->n_input > 2 && in_ids[2] >= 0) {
            /* training_mode (opset 12+): only a constant false is inference */
            const hl_value *tm = &m->values[in_ids[2]];
            int64_t numel = hl_shape_numel(&tm->shape);
            int is_true = tm->kind != HL_VAL_CONST || numel != 1 ||
                          (tm->i64 ? tm->i64[0] != 0 : tm->data[0] != 0);
            if (is_true)
                return hl_error_set(L->err, HL_ERR_UNSUPPORTED,
                                    "%s: node '%s' (Dropout): training_mode "
                                    "is not a constant false (training-mode "
                                    "dropout is not supported)", L->file, name);
        }
        if (np->n_output > 1 && np->output[1][0] &&
            output_used(g, np->output[1]))
            return hl_error_set(L->err, HL_ERR_UNSUPPORTED,
                                "%s: node '%s' (Dropout): the mask output is "
                                "used (training-mode graph)", L->file, name);
        int id = add_value(L, np->output[0], HL_VAL_DYNAMIC);
        if (id < 0)
            return hl_error_set(L->err, HL_ERR_NOMEM, "%s: out of memory",
                                L->file);
        m->values[id].alias = in_ids[0];
        m->values[id].kind = m->values[in_ids[0]].kind;
        st = add_node_name(L, name, in_ids[0]);
        return st ? st : grow_plan(L);
    }

    int opi = hl_op_index(op_type);
    if (opi < 0) {
        /* The list of supported ops is longer than an error message: cut
         * it after the last op name that fits. */
        char line[4096];
        size_t cap = sizeof L->err->msg;
        int len = snprintf(line, sizeof line,
                           "%s: node '%s' (%s): unsupported op (supported: "
                           "%s)", L->file, name, op_type,
                           hl_op_supported_list());
        if (len >= (int)cap) {
            size_t cut = cap - sizeof ", ...)";
            while (cut > 0 && line[cut] != ',')
                cut--;
            if (cut > 0)
                memcpy(line + cut, ", ...)", sizeof ", ...)");
        }
        return hl_error_set(L->err, HL_ERR_UNSUPPORTED, "%s", line);
    }
    const hl_op *op = hl_op_get(opi);
    /* Every supported op but Constant (handled above) reads input 0; the
     * ops' init functions assume it is there. */
    if (np->n_input < 1 || !np->input[0][0] || np->n_output < 1)
        return hl_error_set(L->err, HL_ERR_PARSE,
                            "%s: node '%s' (%s) has no %s", L->file, name,
                            op_type, np->n_output < 1 ? "output" : "input");

    /* kind of the node from its inputs */
    int all_const = 1, any_dynamic = 0;
    for (size_t i = 0; i < np->n_input; i++) {
        if (in_ids[i] < 0)
            continue;
        hl_value_kind k = m->values[in_ids[i]].kind;
        if (k != HL_VAL_CONST)
            all_const = 0;
        if (k == HL_VAL_DYNAMIC)
            any_dynamic = 1;
    }
    hl_value_kind kind = any_dynamic ? HL_VAL_DYNAMIC : HL_VAL_STATIC;
    if (op_is(op_type, "Shape") || op_is(op_type, "Size"))
        kind = HL_VAL_STATIC; /* depends on the input's shape only */
    if (all_const)
        kind = HL_VAL_CONST;

    if (m->n_nodes == L->cap_nodes) {
        int cap = L->cap_nodes ? 2 * L->cap_nodes : 64;
        hl_node *nn = realloc(m->nodes, (size_t)cap * sizeof *nn);
        int *nk = realloc(m->node_kind, (size_t)cap * sizeof *nk);
        hl_attrs *na = realloc(m->node_attrs, (size_t)cap * sizeof *na);
        if (nn)
            m->nodes = nn;
        if (nk)
            m->node_kind = nk;
        if (na)
            m->node_attrs = na;
        if (!nn || !nk || !na)
            return hl_error_set(L->err, HL_ERR_NOMEM, "%s: out of memory",
                                L->file);
        L->cap_nodes = cap;
    }
    hl_node *n = &m->nodes[m->n_nodes];
    memset(n, 0, sizeof *n);
    n->op = opi;
    n->name = hl_arena_strdup(&m->arena, name);
    n->op_type = hl_arena_strdup(&m->arena, op_type);
    n->opset = m->opset;
    n->n_in = (int)np->n_input;
    n->n_out = (int)np->n_output;
    for (int i = 0; i < n->n_in; i++)
        n->in[i] = in_ids[i];
    for (int o = 0; o < n->n_out; o++) {
        if (!np->output[o][0]) {
            n->out[o] = -1;
            continue;
        }
        int id = add_value(L, np->output[o], kind);
        if (id < 0)
            return hl_error_set(L->err, HL_ERR_NOMEM, "%s: out of memory",
                                L->file);
        m->values[id].producer = m->n_nodes;
        n->out[o] = id;
    }
    st = grow_plan(L);
    if (st)
        return st;

    hl_tensor in[HL_MAX_IO];
    init_inputs(L, n, in, free_batch);
    hl_error e = {0};
    st = op->init ? op->init(n, &attrs, in, &e) : HL_OK;
    if (st) {
        if (op->free_params)
            op->free_params(n);
        return hl_error_set(L->err, st, "%s: node '%s' (%s): %s", L->file,
                            name, op_type, e.msg[0] ? e.msg : hl_status_name(st));
    }
    m->node_kind[m->n_nodes] = kind;
    m->node_attrs[m->n_nodes] = attrs;
    m->n_nodes++;
    st = add_node_name(L, name, n->out[0]);
    if (st)
        return st;

    /* shapes at batch 1 (and plan-time data of constants and statics) */
    for (int i = 0; i < n->n_in; i++)
        if (n->in[i] >= 0)
            in[i] = L->p1.t[n->in[i]];
    hl_tensor out[HL_MAX_IO];
    memset(out, 0, sizeof out);
    if (kind == HL_VAL_DYNAMIC) {
        st = op->shape(n, in, out, &e);
        if (st)
            return hl_error_set(L->err, st, "%s: node '%s' (%s): %s", L->file,
                                name, op_type, e.msg);
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

/* Adds the nodes in a topological order (files are usually sorted; a
 * few hand-made ones are not). */
static hl_status graph_nodes(loader *L, const Onnx__GraphProto *g,
                             int free_batch)
{
    hl_model *m = L->m;
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
                if (np->input[i][0] && find_value(m, np->input[i]) < 0)
                    ready = 0;
            if (!ready)
                continue;
            st = add_node(L, np, (int)k, free_batch, g);
            done[k] = 1;
            n_done++;
            progress++;
        }
        if (st == HL_OK && progress == 0) {
            /* report the first node whose input is missing */
            for (size_t k = 0; k < nn; k++) {
                if (done[k])
                    continue;
                const Onnx__NodeProto *np = g->node[k];
                for (size_t i = 0; i < np->n_input; i++)
                    if (np->input[i][0] && find_value(m, np->input[i]) < 0) {
                        int produced = 0;
                        for (size_t j = 0; j < nn; j++)
                            for (size_t o = 0; o < g->node[j]->n_output; o++)
                                if (strcmp(g->node[j]->output[o],
                                           np->input[i]) == 0)
                                    produced = 1;
                        st = hl_error_set(
                            L->err, HL_ERR_PARSE,
                            "%s: node '%s' (%s): input '%s' %s", L->file,
                            np->name && np->name[0] ? np->name : "?",
                            np->op_type, np->input[i],
                            produced ? "is part of a cycle"
                                     : "is not produced by any node, "
                                       "initializer or graph input");
                        break;
                    }
                if (st)
                    break;
            }
        }
    }
    free(done);
    return st;
}

static hl_status convert_model(loader *L, const Onnx__ModelProto *mp,
                               const hl_load_options *opt)
{
    hl_model *m = L->m;
    const Onnx__GraphProto *g = mp->graph;
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
        st = tensor_from_proto(tp, &m->arena, L->file, what, &t, L->err);
        if (st)
            return st;
        st = add_const(L, tp->name ? tp->name : "", &t);
        if (st)
            return st;
    }
    st = graph_inputs(L, g, opt);
    if (st)
        return st;
    st = grow_plan(L);
    if (st)
        return st;
    for (int i = 0; i < m->n_inputs; i++) {
        hl_tensor *t = &L->p1.t[m->inputs[i]];
        t->dtype = HL_DT_FLOAT;
        t->shape = m->input_shapes[i];
        if (t->shape.dims[0] < 0)
            t->shape.dims[0] = 1;
    }
    int free_batch = !(opt && opt->n_input_shapes);
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
        st = add_node(L, &tp, 0, free_batch, g);
        if (st)
            return st;
    }
    st = graph_nodes(L, g, free_batch);
    if (st)
        return st;

    if (g->n_output == 0)
        return hl_error_set(L->err, HL_ERR_PARSE, "%s: the graph has no output",
                            L->file);
    m->outputs = hl_arena_alloc(&m->arena, g->n_output * sizeof(int));
    for (size_t i = 0; i < g->n_output; i++) {
        const char *name = g->output[i]->name ? g->output[i]->name : "";
        int id = find_value(m, name);
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

hl_status hl_model_load_onnx_ex(const void *data, size_t size,
                                const char *display_name,
                                const hl_load_options *opt, hl_model **out,
                                hl_error *err)
{
    const char *file = display_name ? display_name : "model";
    *out = NULL;
    if (size == 0)
        return hl_error_set(err, HL_ERR_PARSE, "%s: empty file", file);
    Onnx__ModelProto *mp = onnx__model_proto__unpack(NULL, size, data);
    if (!mp)
        return hl_error_set(err, HL_ERR_PARSE,
                            "%s: not an ONNX model, or truncated (protobuf "
                            "decoding failed)", file);
    hl_model *m = calloc(1, sizeof *m);
    if (!m) {
        onnx__model_proto__free_unpacked(mp, NULL);
        return hl_error_set(err, HL_ERR_NOMEM, "%s: out of memory", file);
    }
    m->name = hl_arena_strdup(&m->arena, file);
    loader L = {.m = m, .file = m->name, .err = err};
    hl_status st = convert_model(&L, mp, opt);
    onnx__model_proto__free_unpacked(mp, NULL);
    if (st == HL_OK)
        st = keep_batch1_shapes(&L);
    hl_plan_free(&L.p1);
    if (st == HL_OK && !(opt && opt->no_simplify))
        st = hl_model_fold_batchnorm(m, err);
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
                if (op->flops)
                    m->flops1 += op->flops(nd, in, o);
                else if (nd->out[0] >= 0)
                    m->flops1 += (double)hl_shape_numel(&o[0].shape);
            }
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

hl_status hl_model_load_onnx_buffer(const void *data, size_t size,
                                    const char *display_name, hl_model **out,
                                    hl_error *err)
{
    return hl_model_load_onnx_ex(data, size, display_name, NULL, out, err);
}

hl_status hl_model_load_onnx(const char *path, hl_model **out, hl_error *err)
{
    *out = NULL;
    unsigned char *buf;
    size_t len;
    hl_status st = hl_file_read(path, "model", HL_MAX_MODEL_BYTES, 0, NULL,
                                NULL, &buf, &len, err);
    if (st == HL_OK) {
        const char *base = strrchr(path, '/');
        st = hl_model_load_onnx_buffer(buf, len, base ? base + 1 : path, out,
                                       err);
    }
    free(buf);
    return st;
}
