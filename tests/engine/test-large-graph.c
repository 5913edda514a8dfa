/* A model of 100,000 nodes loads (issue 16: the loader found each input by
 * a scan over every value, and such a model did not load in 240 s).
 *
 * The ONNX bytes are built here through the generated protobuf-c structs:
 * x [N, 4] -> Relu -> Relu -> ... (100,000 nodes) -> y. No timing
 * threshold: the test must simply finish within meson's timeout. The
 * loaded model is then checked against what the chain computes: 100,000
 * nodes, every value findable by name, and y = relu(x) (relu is
 * idempotent) at batch 2. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "graph.h"
#include "onnx.pb-c.h"
#include "tap.h"

#define N_NODES 100000
#define WIDTH 4

/* The serialized model; NULL when out of memory. */
static unsigned char *chain_model(size_t *len)
{
    Onnx__NodeProto *nodes = calloc(N_NODES, sizeof *nodes);
    Onnx__NodeProto **node_ptrs = calloc(N_NODES, sizeof *node_ptrs);
    char (*names)[24] = calloc(N_NODES + 1, sizeof *names);
    char **ins = calloc(N_NODES, sizeof *ins);
    char **outs = calloc(N_NODES, sizeof *outs);
    unsigned char *buf = NULL;
    if (!nodes || !node_ptrs || !names || !ins || !outs)
        goto done;
    snprintf(names[0], sizeof names[0], "x");
    for (int k = 1; k <= N_NODES; k++)
        snprintf(names[k], sizeof names[k], k == N_NODES ? "y" : "v%d", k);
    for (int k = 0; k < N_NODES; k++) {
        onnx__node_proto__init(&nodes[k]);
        nodes[k].op_type = (char *)"Relu";
        ins[k] = names[k];
        outs[k] = names[k + 1];
        nodes[k].n_input = 1;
        nodes[k].input = &ins[k];
        nodes[k].n_output = 1;
        nodes[k].output = &outs[k];
        node_ptrs[k] = &nodes[k];
    }
    /* x and y: float [N, 4] with a symbolic batch */
    Onnx__TensorShapeProto__Dimension d0 =
        ONNX__TENSOR_SHAPE_PROTO__DIMENSION__INIT;
    d0.value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_PARAM;
    d0.dim_param = (char *)"N";
    Onnx__TensorShapeProto__Dimension d1 =
        ONNX__TENSOR_SHAPE_PROTO__DIMENSION__INIT;
    d1.value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE;
    d1.dim_value = WIDTH;
    Onnx__TensorShapeProto__Dimension *dims[2] = { &d0, &d1 };
    Onnx__TensorShapeProto shape = ONNX__TENSOR_SHAPE_PROTO__INIT;
    shape.n_dim = 2;
    shape.dim = dims;
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

    Onnx__GraphProto g = ONNX__GRAPH_PROTO__INIT;
    g.name = (char *)"relu_chain";
    g.n_node = N_NODES;
    g.node = node_ptrs;
    g.n_input = 1;
    g.input = gin;
    g.n_output = 1;
    g.output = gout;
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
    mp.graph = &g;

    *len = onnx__model_proto__get_packed_size(&mp);
    buf = malloc(*len);
    if (buf)
        onnx__model_proto__pack(&mp, buf);
done:
    free(nodes);
    free(node_ptrs);
    free(names);
    free(ins);
    free(outs);
    return buf;
}

int main(void)
{
    hl_engine_init();
    size_t len = 0;
    unsigned char *bytes = chain_model(&len);
    tap_ok(bytes != NULL, "built a %d-node Relu chain (%zu bytes)", N_NODES,
           len);
    if (!bytes)
        return tap_done();
    hl_model *m = NULL;
    hl_error err = {0};
    hl_status st = hl_model_load_onnx_buffer(bytes, len, "relu_chain.onnx",
                                             &m, &err);
    free(bytes);
    tap_ok(st == HL_OK, "the %d-node model loads (%s)", N_NODES,
           st ? err.msg : "ok");
    if (st)
        return tap_done();
    tap_ok(hl_model_num_nodes(m) == N_NODES, "%d nodes kept (%d)", N_NODES,
           hl_model_num_nodes(m));
    int y = hl_model_output_value(m);
    tap_ok(y >= 0 && strcmp(hl_model_value_name(m, y), "y") == 0 &&
               hl_model_find_value(m, "v50000") >= 0 &&
               hl_model_find_value(m, "x") == hl_model_input_value(m),
           "values are found by name (x, v50000, y)");

    float x[2 * WIDTH] = { -2.0f, -0.5f, 0.0f, 0.25f, 1.5f, -1e-3f, 7.0f,
                           -0.0f };
    hl_run *r = hl_run_new(m, 1);
    st = r ? hl_run_forward(r, x, 2, &err) : HL_ERR_NOMEM;
    int good = st == HL_OK;
    hl_shape s;
    const float *out = good ? hl_run_value(r, y, &s) : NULL;
    for (int i = 0; good && i < 2 * WIDTH; i++)
        if (!out || out[i] != (x[i] > 0 ? x[i] : 0.0f))
            good = 0;
    tap_ok(good, "forward at batch 2 gives relu(x)");
    hl_run_free(r);
    hl_model_free(m);
    return tap_done();
}
