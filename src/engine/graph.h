/* Internal model structures of the engine: values, nodes, plans, arenas.
 *
 * A model is loaded once (onnx_import.c), simplified (constant folding,
 * Identity/Dropout removal, BatchNormalization folded into Conv) and then
 * only read: runs (run*.c, plan.c) keep everything that depends on the
 * batch size.
 */
#ifndef HL_GRAPH_H
#define HL_GRAPH_H

#include "op.h"

/* ------------------------------------------------------------------ arena */

/* Bump allocator over a list of blocks. Reset keeps the blocks for reuse,
 * so a plan recomputed for the same sizes allocates nothing. */
typedef struct hl_arena_block hl_arena_block;
typedef struct hl_arena {
    hl_arena_block *head;   /* blocks in allocation order */
    hl_arena_block *cur;    /* block being filled */
} hl_arena;

void *hl_arena_alloc(hl_arena *a, size_t bytes);       /* zeroed, 64-aligned */
char *hl_arena_strdup(hl_arena *a, const char *s);
void hl_arena_reset(hl_arena *a);
void hl_arena_free(hl_arena *a);

/* ------------------------------------------------------------------ values */

typedef enum {
    HL_VAL_DYNAMIC = 0, /* computed by forward (depends on a float graph input) */
    HL_VAL_CONST,       /* known at load: initializer, Constant, folded node */
    HL_VAL_STATIC,      /* known at plan time: depends only on input shapes
                           (Shape -> Gather -> Concat chains) */
} hl_value_kind;

typedef struct hl_value {
    char *name;
    hl_value_kind kind;
    hl_dtype dtype;      /* CONST: exact; others: set by the batch-1 plan */
    hl_shape shape;      /* CONST only */
    float *data;         /* CONST float data (model arena) */
    int64_t *i64;        /* CONST int64 data (model arena) */
    int producer;        /* node index, -1 for inputs and constants */
    /* A value removed by load-time simplification: it is the value `alias`
     * (Identity, Dropout, a BatchNormalization output folded into its Conv),
     * or, when `scale` is set, scale[c] * alias + shift[c] along axis 1 (the
     * output of a Conv whose BatchNormalization was folded into it, kept so
     * that layer methods on the pre-BN value see exact numbers). */
    int alias;           /* -1 when the value is itself */
    float *scale, *shift;
    int channels;        /* length of scale/shift */
    /* the folded BatchNormalization's mean and bias (beta), per channel,
     * for LRP's rules on the BatchNorm itself (run_lrp.c) */
    float *bn_mean, *bn_beta;
    /* An inner value of an activation fused into one node at load
     * (fuse_activations.c): no run computes it. */
    int fused_away;
} hl_value;

/* name -> value id for node names (also of nodes removed at load time) */
typedef struct hl_name_entry {
    char *name;
    int value;
} hl_name_entry;

#define HL_RUN_IDLE 2   /* idle runs a model keeps (batch --jobs 2) */

struct hl_model {
    char *name;
    hl_arena arena;      /* everything below lives here, except params */
    int opset;

    hl_value *values;
    int n_values;

    hl_node *nodes;      /* topological order, DYNAMIC/STATIC nodes only */
    int n_nodes;
    int *node_kind;      /* hl_value_kind of each node (DYNAMIC or STATIC) */
    hl_attrs *node_attrs; /* the ONNX attributes of each node (re-init) */

    int *inputs;         /* non-constant graph inputs; inputs[0] is public */
    int n_inputs;
    hl_shape *input_shapes; /* as declared; dims[0] = -1 when free */
    int *outputs;
    int n_outputs;

    char **meta_keys, **meta_values;
    int n_meta;

    hl_name_entry *node_names;
    int n_node_names;

    /* Shapes/dtypes of every value at batch 1 (the inputs' declared shapes
     * for models loaded with explicit input shapes). */
    hl_shape *shape1;
    hl_dtype *dtype1;
    double flops1;

    /* A weights copy (model_randomize.c): only `values` and `arena` (the
     * changed weights) are its own; everything else is the original's. */
    int borrows_graph;

    /* Runs given back by hl_run_release, kept for the next
     * hl_run_acquire (run.c; a process-wide mutex guards them). */
    struct hl_run *idle_runs[HL_RUN_IDLE];
};

/* run.c: frees the model's idle runs (hl_model_free). */
void hl_run_idle_free(hl_model *m);

/* Follows `alias` links of values removed without a transform. */
int hl_model_resolve(const hl_model *m, int value);

/* ------------------------------------------------------------------ loading */

/* Internal loader options (conformance runner): graph inputs named in
 * `bound_names` become constants with the given data (e.g. Reshape's shape
 * fed as an input); the remaining graph inputs get the exact shapes
 * `input_shapes` (in graph order) instead of a free batch dimension. */
typedef struct hl_load_options {
    int n_bound;
    const char *const *bound_names;
    const hl_tensor *bound;
    int n_input_shapes;
    const hl_shape *input_shapes;
    int no_simplify;     /* keep BatchNormalization unfolded */
} hl_load_options;

hl_status hl_model_load_onnx_ex(const void *data, size_t size,
                                const char *display_name,
                                const hl_load_options *opt, hl_model **out,
                                hl_error *err);

/* Decodes a serialized ONNX TensorProto (the test data .pb files) into a
 * malloc'ed tensor (float or int64; float16/double/int32/... converted). */
hl_status hl_tensor_proto_read(const void *data, size_t size,
                               const char *display_name, hl_tensor *out,
                               char **name, hl_error *err);
void hl_tensor_free_data(hl_tensor *t);

/* ------------------------------------------------------------------ plans */

/* Shapes, dtypes and plan-time data of every value for concrete input
 * shapes. */
typedef struct hl_plan {
    int n_values;
    hl_tensor *t;        /* per value; CONST/STATIC carry data */
    hl_arena statics;    /* data of STATIC values */
    size_t scratch_floats;
} hl_plan;

/* Computes a plan; `check_batch` > 0 verifies that batched values keep the
 * batch size as their leading dimension (catches models exported with a
 * fixed batch size). Messages name the file, node and op. */
hl_status hl_plan_compute(const hl_model *m, hl_plan *p,
                          const hl_shape *input_shapes, int check_batch,
                          hl_error *err);
void hl_plan_free(hl_plan *p);

/* Evaluates a node whose inputs are all known (load-time constant folding,
 * plan-time static values): shape(), then fold() or, for float tensors,
 * forward(). Outputs allocated in `arena`. */
hl_status hl_node_evaluate(const hl_model *m, const hl_node *n,
                           const hl_tensor *in, hl_tensor *out,
                           hl_arena *arena, hl_error *err);

/* fold_bn.c: BatchNormalization folded into a preceding Conv. */
hl_status hl_model_fold_batchnorm(hl_model *m, hl_error *err);
/* The small graphs of one activation (hl_op.patterns) fused into one node
 * (fuse_activations.c). */
hl_status hl_model_fuse_activations(hl_model *m, hl_error *err);

/* Load-time graph edits (graph_edit.c) */
/* Node inputs and graph outputs that read value v. */
int hl_model_consumers(const hl_model *m, int v);
/* Re-runs node k's init() after its op, inputs or attributes changed;
 * `why` ends the error message's prefix ("after folding ..."). */
hl_status hl_model_node_reinit(hl_model *m, int k, const char *why,
                               hl_error *err);
/* Removes node k (its params freed; later producers renumbered). */
void hl_model_remove_node(hl_model *m, int k);

/* ------------------------------------------------------------------ runs */

/* Forward on several graph inputs with explicit shapes (conformance tests
 * of multi-input graphs); inputs[i] goes to m->inputs[i]. */
hl_status hl_run_forward_inputs(hl_run *r, int n, const hl_tensor *inputs,
                                hl_error *err);
/* The full tensor (dtype, shape, data) of a value after the last forward. */
const hl_tensor *hl_run_tensor(const hl_run *r, int value);

size_t hl_dtype_size(hl_dtype dt);

#endif
