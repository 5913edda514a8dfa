/* Initializer bytes reach the weights unchanged however the protobuf wire
 * format spells them (onnx_wire.c unpacks a skeleton of the message and
 * copies each raw_data from the original bytes).
 *
 * The model is y = x + W with W a float32 [4] initializer whose raw_data is
 * written here by hand after the rest of the TensorProto (packed by
 * protobuf-c): once plainly, once with non-minimal varint lengths and a
 * first raw_data that a second one replaces (protobuf's last-one-wins).
 * The reference is the arithmetic x + W on the W written. Loaded from the
 * buffer and from a file (the mapped path that drops pages). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "graph.h"
#include "onnx.pb-c.h"
#include "tap.h"

static const float W[4] = { 0.5f, -1.25f, 3.0e-8f, 1024.0f };
static const float WRONG[4] = { 9.0f, 9.0f, 9.0f, 9.0f };

typedef struct bytes {
    unsigned char b[4096];
    size_t n;
} bytes;

static void put(bytes *o, const void *p, size_t n)
{
    memcpy(o->b + o->n, p, n);
    o->n += n;
}

static void put_varint(bytes *o, uint64_t v, int padded)
{
    while (v >= 0x80) {
        o->b[o->n++] = (unsigned char)(v | 0x80);
        v >>= 7;
    }
    if (padded) { /* the same value in one byte more */
        o->b[o->n++] = (unsigned char)(v | 0x80);
        v = 0;
    }
    o->b[o->n++] = (unsigned char)v;
}

static void put_len_field(bytes *o, int number, const bytes *value,
                          int padded)
{
    put_varint(o, (uint64_t)number << 3 | 2, 0);
    put_varint(o, value->n, padded);
    put(o, value->b, value->n);
}

/* The model with W's raw_data spelled plainly (odd = 0) or oddly. */
static void build(bytes *out, int odd)
{
    int64_t dims[1] = { 4 };
    Onnx__TensorProto w = ONNX__TENSOR_PROTO__INIT;
    w.name = (char *)"W";
    w.n_dims = 1;
    w.dims = dims;
    w.has_data_type = 1;
    w.data_type = 1;
    bytes tensor = { .n = 0 }, raw = { .n = 0 }, wrong = { .n = 0 };
    tensor.n = onnx__tensor_proto__pack(&w, tensor.b);
    put(&raw, W, sizeof W);
    put(&wrong, WRONG, sizeof WRONG);
    if (odd)
        put_len_field(&tensor, 9, &wrong, 1);
    put_len_field(&tensor, 9, &raw, odd);

    Onnx__TensorShapeProto__Dimension d0 =
        ONNX__TENSOR_SHAPE_PROTO__DIMENSION__INIT;
    d0.value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_PARAM;
    d0.dim_param = (char *)"N";
    Onnx__TensorShapeProto__Dimension d1 =
        ONNX__TENSOR_SHAPE_PROTO__DIMENSION__INIT;
    d1.value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE;
    d1.dim_value = 4;
    Onnx__TensorShapeProto__Dimension *sd[2] = { &d0, &d1 };
    Onnx__TensorShapeProto shape = ONNX__TENSOR_SHAPE_PROTO__INIT;
    shape.n_dim = 2;
    shape.dim = sd;
    Onnx__TypeProto__Tensor tt = ONNX__TYPE_PROTO__TENSOR__INIT;
    tt.has_elem_type = 1;
    tt.elem_type = 1;
    tt.shape = &shape;
    Onnx__TypeProto type = ONNX__TYPE_PROTO__INIT;
    type.value_case = ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE;
    type.tensor_type = &tt;
    Onnx__ValueInfoProto vx = ONNX__VALUE_INFO_PROTO__INIT, vy = vx;
    vx.name = (char *)"x";
    vx.type = &type;
    vy.name = (char *)"y";
    vy.type = &type;
    Onnx__ValueInfoProto *gin[1] = { &vx }, *gout[1] = { &vy };
    char *ins[2] = { (char *)"x", (char *)"W" }, *outs[1] = { (char *)"y" };
    Onnx__NodeProto add = ONNX__NODE_PROTO__INIT;
    add.op_type = (char *)"Add";
    add.n_input = 2;
    add.input = ins;
    add.n_output = 1;
    add.output = outs;
    Onnx__NodeProto *nodes[1] = { &add };
    Onnx__GraphProto g = ONNX__GRAPH_PROTO__INIT;
    g.name = (char *)"add_w";
    g.n_node = 1;
    g.node = nodes;
    g.n_input = 1;
    g.input = gin;
    g.n_output = 1;
    g.output = gout;
    bytes graph = { .n = 0 };
    graph.n = onnx__graph_proto__pack(&g, graph.b);
    put_len_field(&graph, 5, &tensor, odd);

    Onnx__OperatorSetIdProto os = ONNX__OPERATOR_SET_ID_PROTO__INIT;
    os.domain = (char *)"";
    os.has_version = 1;
    os.version = 13;
    Onnx__OperatorSetIdProto *osp[1] = { &os };
    Onnx__ModelProto mp = ONNX__MODEL_PROTO__INIT;
    mp.has_ir_version = 1;
    mp.ir_version = 8;
    mp.n_opset_import = 1;
    mp.opset_import = osp;
    out->n = onnx__model_proto__pack(&mp, out->b);
    put_len_field(out, 7, &graph, odd);
}

/* y = x + W exactly (one float addition per element) */
static void check(hl_status st, hl_model *m, const hl_error *err,
                  const char *how)
{
    tap_ok(st == HL_OK, "%s: loads (%s)", how, st ? err->msg : "ok");
    if (st)
        return;
    float x[8] = { 1, 2, 3, 4, -0.5f, 0.25f, -3.0e-8f, 1.0f };
    hl_error e = {0};
    hl_run *r = hl_run_new(m, 1);
    int good = r && hl_run_forward(r, x, 2, &e) == HL_OK;
    hl_shape s;
    const float *y = good ? hl_run_value(r, hl_model_output_value(m), &s)
                          : NULL;
    for (int i = 0; good && i < 8; i++)
        good = y && y[i] == x[i] + W[i % 4];
    tap_ok(good, "%s: y = x + W bit for bit", how);
    hl_run_free(r);
    hl_model_free(m);
}

int main(void)
{
    hl_engine_init();
    for (int odd = 0; odd < 2; odd++) {
        const char *how = odd ? "non-minimal lengths, raw_data twice"
                              : "plain raw_data";
        bytes b = { .n = 0 };
        build(&b, odd);
        hl_model *m = NULL;
        hl_error err = {0};
        char what[128];
        snprintf(what, sizeof what, "%s, from a buffer", how);
        hl_status st = hl_model_load_onnx_buffer(b.b, b.n, "add_w.onnx", &m,
                                                 &err);
        check(st, m, &err, what);

        char path[] = "/tmp/hl-test-onnx-wire-XXXXXX";
        int fd = mkstemp(path);
        int written = fd >= 0 && write(fd, b.b, b.n) == (ssize_t)b.n;
        if (fd >= 0)
            close(fd);
        tap_ok(written, "%s: model written to %s", how, path);
        snprintf(what, sizeof what, "%s, from a file", how);
        m = NULL;
        st = hl_model_load_onnx(path, &m, &err);
        check(st, m, &err, what);
        unlink(path);
    }
    return tap_done();
}
