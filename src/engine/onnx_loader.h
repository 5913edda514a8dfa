/* What the files of the ONNX loader share (onnx_import.c: the model;
 * onnx_graph.c: graph inputs and node order; onnx_node.c: one node;
 * onnx_attrs.c: attributes; onnx_tensor.c: TensorProto). The protobuf-c
 * message is converted once into hl_model and freed; nothing after the
 * loader sees protobuf. */
#ifndef HL_ONNX_LOADER_H
#define HL_ONNX_LOADER_H

#include "graph.h"
#include "name_map.h"
#include "onnx.pb-c.h"
#include "onnx_wire.h"

typedef struct loader {
    hl_model *m;
    const char *file;
    hl_error *err;
    int cap_values;
    int cap_nodes;
    int cap_node_names;
    hl_name_map names;  /* value name -> value id (the latest definition) */
    hl_name_map used;   /* names read by a node or a graph output (built on
                           first use: Dropout's mask output) */
    int used_built;
    const Onnx__GraphProto *graph;
    int free_batch;     /* dim 0 of computed values is the free batch */
    hl_plan p1;         /* batch-1 plan built while nodes are added */
    int cap_p1;         /* entries allocated in p1.t */
    /* An NHWC image input (Keras, tf2onnx, the model zoo's
     * EfficientNet-Lite): the graph input value is renamed to
     * nchw_input and presented as [N,C,H,W]; a Transpose node (added
     * before the graph's nodes) gives the model its NHWC tensor under
     * nhwc_name. NULL otherwise. */
    const char *nhwc_name, *nchw_input;
    /* The file's initializer bytes (a read-only mapping) whose pages are
     * dropped as each is copied; NULL for a caller's buffer. */
    const struct hl_onnx_skeleton *mapped_raw;
} loader;

/* onnx_tensor.c */
hl_status hl_onnx_tensor(const Onnx__TensorProto *tp, hl_arena *arena,
                         const char *file, const char *what, hl_tensor *out,
                         hl_error *err);
const char *hl_onnx_dtype_name(int dt);

/* onnx_depth.c: refuses a file whose messages nest deeper than protobuf-c
 * may safely recurse, from a bounded iterative walk over its wire format. */
hl_status hl_onnx_check_nesting(const void *data, size_t size,
                                const char *file, hl_error *err);

/* onnx_attrs.c: a node's attributes, copied into the model arena. */
hl_status hl_onnx_attrs(loader *L, const Onnx__NodeProto *np,
                        const char *node_name, hl_attrs *as);

/* onnx_import.c: values and names */
int hl_loader_find_value(const loader *L, const char *name);
int hl_loader_add_value(loader *L, const char *name, hl_value_kind kind);
hl_status hl_loader_add_const(loader *L, const char *name,
                              const hl_tensor *t);
hl_status hl_loader_rename_value(loader *L, int id, const char *name);
hl_status hl_loader_add_node_name(loader *L, const char *name, int value);
/* Grows the batch-1 plan to the current number of values. */
hl_status hl_loader_grow_plan(loader *L);
/* Is `name` read by some node or graph output? */
int hl_loader_name_used(loader *L, const char *name);

/* onnx_graph.c */
hl_status hl_onnx_graph_inputs(loader *L, const Onnx__GraphProto *g,
                               const hl_load_options *opt);
hl_status hl_onnx_graph_nodes(loader *L, const Onnx__GraphProto *g);

/* onnx_node.c: the name a node goes by in the model and in every message:
 * its own name made printable (hl_printable), or "<op>_<index>" for an
 * unnamed node (index in the graph's node list). */
#define HL_NODE_NAME_MAX 1024
const char *hl_onnx_node_name(const Onnx__NodeProto *np, int index,
                              char buf[HL_NODE_NAME_MAX]);

/* onnx_node.c: adds one node (its inputs already defined); `index` names
 * an unnamed node. */
hl_status hl_onnx_add_node(loader *L, const Onnx__NodeProto *np, int index);

#endif
