/* Heatlens CNN engine: public API.
 *
 * Plain C11, no GLib. A model is a DAG of nodes over numbered values
 * (value = one tensor: the graph input, a constant/initializer or a node
 * output). Every float value is float32 NCHW-style row-major; dimension 0 of
 * every value that depends on the graph input is the batch dimension and is
 * chosen per run, so one run evaluates many IG steps or occlusion patches.
 *
 * Errors: every fallible call returns an hl_status and, when err != NULL,
 * fills err->msg with one line naming the file, node and op at fault.
 * Nothing here calls exit() or abort() on bad input.
 */
#ifndef HL_ENGINE_H
#define HL_ENGINE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define HL_MAX_DIMS 8

typedef enum {
    HL_OK = 0,
    HL_ERR_IO,          /* cannot open / read / write a file */
    HL_ERR_PARSE,       /* truncated or malformed file (not ONNX, bad PNG...) */
    HL_ERR_UNSUPPORTED, /* op, attribute, data type or feature we lack */
    HL_ERR_SHAPE,       /* shape mismatch */
    HL_ERR_NOMEM,       /* allocation failed */
    HL_ERR_ARG,         /* wrong parameter from the caller */
    HL_ERR_CANCELLED,   /* the cancel flag was raised */
} hl_status;

typedef struct hl_error {
    hl_status status;
    char msg[512];
} hl_error;

/* Fill err (if non-NULL) with printf-style text; returns status. */
hl_status hl_error_set(hl_error *err, hl_status status, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;
const char *hl_status_name(hl_status s);

/* `in` with control characters and bytes that are not valid UTF-8 written
 * as \xNN (printable.c), cut to fit `size`; returns the length written.
 * For any text from a file that reaches a terminal or a label. */
size_t hl_printable(const char *in, char *out, size_t size);

typedef struct hl_shape {
    int ndim;
    int64_t dims[HL_MAX_DIMS];
} hl_shape;

int64_t hl_shape_numel(const hl_shape *s);
/* Most elements one activation may have; shapes come from files, so every
 * element count computed from them is checked against it (without int64
 * overflow) before it is used. */
#define HL_MAX_VALUE_ELEMS ((int64_t)1 << 34)
/* Element count of s; -1 when a dimension is negative or the count
 * exceeds cap (computed without overflow). */
int64_t hl_shape_numel_capped(const hl_shape *s, int64_t cap);
int hl_shape_equal(const hl_shape *a, const hl_shape *b);
/* "[1,3,224,224]" into buf; returns buf. */
char *hl_shape_format(const hl_shape *s, char *buf, size_t size);

/* A float tensor owned by whoever created it (free with hl_array_free). */
typedef struct hl_array {
    hl_shape shape;
    float *data;
} hl_array;

hl_array *hl_array_new(const hl_shape *shape);      /* zero-filled */
hl_array *hl_array_copy(const hl_array *a);
void hl_array_free(hl_array *a);

/* ------------------------------------------------------------------ files */

/* A reader's look at a file's first bytes (n of them, fewer when the file
 * is shorter) before the rest is read; file_size is the whole file's.
 * Returns HL_OK or one line naming path and what is wrong. */
typedef hl_status (*hl_file_check_fn)(const char *path,
                                      const unsigned char *head, size_t n,
                                      uint64_t file_size, void *user,
                                      hl_error *err);

/* The one whole-file reader (file.c): open, read head_size bytes and give
 * them to check (may be NULL), refuse a file over max_bytes naming its
 * size and the cap, then read the rest into one allocation with a NUL
 * after the last byte (not counted in *size). what names the kind of file
 * in messages ("... over the 512 MB limit of image files"). The caller
 * frees *data. */
hl_status hl_file_read(const char *path, const char *what, uint64_t max_bytes,
                       size_t head_size, hl_file_check_fn check, void *user,
                       unsigned char **data, size_t *size, hl_error *err);

/* The same file mapped read-only instead of read (file.c): the same
 * messages and cap, no header check. A file that cannot be mapped (a pipe,
 * an empty file) is read with hl_file_read instead; *mapped says which, and
 * hl_file_unmap releases either. Mapping saves a copy of the whole file
 * and its page faults: loading ResNet-18 reads 45 MB. */
hl_status hl_file_map(const char *path, const char *what, uint64_t max_bytes,
                      const unsigned char **data, size_t *size, int *mapped,
                      hl_error *err);
void hl_file_unmap(const unsigned char *data, size_t size, int mapped);
/* The pages of a mapped file between p and p + n are dropped from memory
 * (read from the file again if touched): a loaded model's weights are not
 * kept twice. */
void hl_file_drop_pages(const void *p, size_t n);

/* Size caps of the readers (bytes): a protobuf message cannot exceed
 * 2 GB; a photo of 108 megapixels is 324 MB as a BMP; labels are text. */
#define HL_MAX_MODEL_BYTES ((uint64_t)2 << 30)
#define HL_MAX_IMAGE_BYTES ((uint64_t)512 << 20)
#define HL_MAX_NPY_BYTES ((uint64_t)1 << 30)
#define HL_MAX_LABELS_BYTES ((uint64_t)16 << 20)

/* ------------------------------------------------------------------ model */

typedef struct hl_model hl_model;

hl_status hl_model_load_onnx(const char *path, hl_model **out, hl_error *err);
hl_status hl_model_load_onnx_buffer(const void *data, size_t size,
                                    const char *display_name, hl_model **out,
                                    hl_error *err);
void hl_model_free(hl_model *m);

/* Display name (file name) of the model. */
const char *hl_model_name(const hl_model *m);

/* The single float graph input and the first graph output. Shapes have
 * dims[0] = -1 for the free batch dimension. */
int hl_model_input_value(const hl_model *m);
int hl_model_output_value(const hl_model *m);
void hl_model_input_shape(const hl_model *m, hl_shape *out);

/* ONNX metadata_props lookup; NULL when absent. */
const char *hl_model_metadata(const hl_model *m, const char *key);

int hl_model_num_values(const hl_model *m);
const char *hl_model_value_name(const hl_model *m, int value);
/* Shape of a value for batch size 1 (dims[0] = 1 for batched values). */
hl_status hl_model_value_shape(const hl_model *m, int value, hl_shape *out);
/* Value id by value name or by the name of the node producing it; -1. */
int hl_model_find_value(const hl_model *m, const char *name);

/* Whether a value is computed from the graph input by each forward (a
 * layer output), as opposed to a weight or a plan-time constant. */
int hl_model_value_is_computed(const hl_model *m, int value);
/* First computed input of the node producing `value` (following values
 * the loader replaced by an alias: folded BatchNorm, Identity); -1. */
int hl_model_layer_input(const hl_model *m, int value);

/* What a node is, for the library's rules (default layer, output kind,
 * notices): set by the engine's op table, so nothing outside it compares
 * op names. */
enum {
    HL_ROLE_CONV = 1u << 0,         /* a convolution */
    HL_ROLE_ACTIVATION = 1u << 1,   /* an elementwise nonlinearity */
    HL_ROLE_MERGE = 1u << 2,        /* joins branches (Add, Sum, Concat) */
    HL_ROLE_RESHAPE = 1u << 3,      /* keeps the values, changes the shape */
    HL_ROLE_SOFTMAX = 1u << 4,
    HL_ROLE_LOG_SOFTMAX = 1u << 5,
    HL_ROLE_GUIDED_RULE = 1u << 6,  /* HL_RULE_GUIDED/DECONV change it */
    HL_ROLE_RESCALE_RULE = 1u << 7, /* HL_RULE_DEEPLIFT rescales it */
    /* the same with HL_RULE_RELU_FAMILY (Relu and Clip; every elementwise
     * activation of activation.c) */
    HL_ROLE_GUIDED_FAMILY_RULE = 1u << 8,
    HL_ROLE_RESCALE_FAMILY_RULE = 1u << 9,
};

typedef struct hl_node_info {
    const char *name;   /* ONNX node name (may be "" in the file; we name it) */
    const char *op;     /* ONNX op_type */
    unsigned roles;     /* HL_ROLE_* */
    int output;         /* first output value id */
    hl_shape shape;     /* that output's shape at batch 1 */
    int n_inputs;       /* input value ids (weights and constants too; */
    const int *inputs;  /* -1 = an omitted optional input), owned by m */
} hl_node_info;

/* Nodes in topological order, as they run (after load-time folding). */
int hl_model_num_nodes(const hl_model *m);
void hl_model_node_info(const hl_model *m, int index, hl_node_info *out);
/* The first node reading a constant (weight) that is NaN (returns 1) or
 * infinite (2), with that node's and value's names; 0 when every weight is
 * finite. For messages explaining a non-finite output. */
int hl_model_nonfinite_weight(const hl_model *m, const char **node,
                              const char **value);

/* ------------------------------------------------------------------ runs */

/* How the ReLU-family nonlinearities pass gradients back in one backward. */
typedef enum {
    HL_RULE_GRADIENT = 0, /* ordinary chain rule */
    HL_RULE_GUIDED,       /* Relu: relu(g) * (x > 0)            (GuidedBackprop) */
    HL_RULE_DECONV,       /* Relu: relu(g), forward mask ignored (Deconvolution) */
    HL_RULE_DEEPLIFT,     /* Relu, Sigmoid, Tanh, Elu, LeakyRelu: g * dy/dx with
                             dy = y - y_ref, dx = x - x_ref (ordinary
                             gradient where |dx| < 1e-10); needs a reference */
    /* Modifier OR-ed into GUIDED, DECONV or DEEPLIFT (beyond Captum, which
     * hooks only the ops above): GUIDED/DECONV also at Clip (ReLU6), as at
     * Relu (the lower kink; guided keeps Clip's forward gate); DEEPLIFT's
     * rescale rule at every elementwise activation (Clip, HardSigmoid,
     * HardSwish too), so completeness holds on ReLU6 models. */
    HL_RULE_RELU_FAMILY = 0x100,
} hl_backward_rule;

/* A run owns the activations and gradients of one batch (per-run arena).
 * A run is reused across calls; it grows to the largest batch seen.
 * Not thread-safe: one run per thread. Several runs may share a model. */
typedef struct hl_run hl_run;

/* Process-wide set-up, once, before the first run: OpenBLAS is made
 * single-threaded (the engine's own pool splits every GEMM, so no idle
 * OpenBLAS thread spins against it). Idempotent and thread-safe
 * (pthread_once); the programs call it first thing in main(). */
void hl_engine_init(void);

/* The memory limit: folded constants (at load and in a plan) and a run's
 * activations and gradients are checked against it before they are
 * allocated. 0 restores the default, half the physical memory. Process-wide
 * and thread-safe. */
void hl_set_max_memory(uint64_t bytes);
uint64_t hl_max_memory(void);
uint64_t hl_default_max_memory(void);   /* the limit when none is set */
uint64_t hl_physical_memory(void);
/* HL_OK, or HL_ERR_NOMEM with "<file>: <what> needs N MiB, over the memory
 * limit of M MiB (--max-memory)" when `bytes` exceed the limit. */
hl_status hl_check_memory(uint64_t bytes, const char *file, const char *what,
                          hl_error *err);

/* The engine's thread pool: the calling thread plus threads - 1 workers
 * that kernels split their work over. threads <= 0: the number of online
 * processors. NULL when out of memory. */
typedef struct hl_threadpool hl_threadpool;
hl_threadpool *hl_threadpool_new(int threads);
void hl_threadpool_free(hl_threadpool *p);
int hl_threadpool_threads(const hl_threadpool *p);  /* 1 for NULL */

/* threads <= 0 means "number of processors". The run owns a pool of its
 * own (none for one thread). */
hl_run *hl_run_new(const hl_model *m, int threads);
/* A run that borrows `pool` (NULL: single-threaded) instead of owning one,
 * so a long-lived caller (the window's worker) keeps one pool for all its
 * runs. hl_run_free does not free it. Runs sharing a pool must not run
 * (forward/backward) concurrently: a pool serves one call at a time. */
hl_run *hl_run_new_shared(const hl_model *m, hl_threadpool *pool);
void hl_run_free(hl_run *r);
const hl_model *hl_run_model(const hl_run *r);

/* hl_run_new (pool NULL) or hl_run_new_shared (pool given), but taking
 * back a run released with the same pool or thread count when the model
 * keeps one: repeated calls at one batch size then skip planning, laying
 * out and first touching the run's memory (page faults), and starting
 * threads. hl_run_release gives a run back instead of freeing it (its
 * overrides cleared, backward stop reset; its keep_only set and plan kept,
 * re-laid out only when the next caller asks otherwise). A model keeps at
 * most 2 idle runs under 1 GiB each, freed with the model; the model must
 * outlive the pool of a run released with a shared pool. Thread-safe:
 * any thread may acquire and release (a run is used by one at a time). */
hl_run *hl_run_acquire(const hl_model *m, hl_threadpool *pool, int threads);
void hl_run_release(hl_run *r);

/* Replace a value during forward: when the run reaches `value` it uses
 * `data` (shape = the value's shape at the run's batch) instead of
 * computing it. Everything downstream is computed from it and backward
 * stops there (the gradient at that value is still available). The pointer
 * is borrowed until hl_run_clear_overrides or the next set. */
hl_status hl_run_set_override(hl_run *r, int value, const float *data,
                              hl_error *err);
void hl_run_clear_overrides(hl_run *r);

/* Forward of `batch` inputs laid out contiguously (batch x input shape). */
hl_status hl_run_forward(hl_run *r, const float *input, int batch,
                         hl_error *err);

/* The value as computed by the last forward; NULL if not computed.
 * shape (optional) receives its shape at the run's batch. */
const float *hl_run_value(const hl_run *r, int value, hl_shape *shape);
int hl_run_batch(const hl_run *r);
/* Names the run's forward state: a number that changes with every forward
 * and every change that applies at the next one (overrides set or
 * cleared, hl_run_keep_only); 0 before any forward. Equal numbers mean
 * the values of the last forward are still those a new forward of the
 * same inputs would give, so a caller may skip it. */
long hl_run_forward_serial(const hl_run *r);

/* Backward from `from_value` with seed gradient `seed` (same shape as that
 * value at the run's batch). Gradients of every value upstream of it become
 * available via hl_run_grad. `reference` is needed for HL_RULE_DEEPLIFT:
 * a run of the same model on the baselines, batch equal to this run's or 1
 * (broadcast); NULL otherwise. Where the model has a MaxPool whose own
 * DeepLift rule applies, the reference run's gradients are overwritten by
 * the reference half's (Captum's doubled batch), which that rule reads:
 * at batch 1 against a larger batch they cannot be, and both halves take
 * this run's gradient. */
hl_status hl_run_backward(hl_run *r, int from_value, const float *seed,
                          hl_backward_rule rule, hl_run *reference,
                          hl_error *err);

/* Backward only as far as `value` (layer methods): later backward passes
 * skip every node that does not lie between `value` and the seed, so
 * gradients upstream of `value` (the input's included) are not computed
 * (hl_run_grad gives NULL for them). -1 = all the way to the inputs. */
void hl_run_set_backward_stop(hl_run *r, int value);

/* Gradient at a value after the last backward (NULL if not reached). */
const float *hl_run_grad(const hl_run *r, int value, hl_shape *shape);

/* Convenience: the gradient w.r.t. the graph input. */
const float *hl_run_input_grad(const hl_run *r);

/* Memory (optional). By default every value of the last forward and every
 * gradient of the last backward stays readable, each in its own buffer.
 * After hl_run_keep_only(r, values, n) with n >= 0, later forwards keep
 * readable only the graph inputs and outputs, overridden values and the n
 * listed values (values and gradients); everything else shares memory by
 * liveness, Relu/Clip keep a bit mask for backward instead of their input,
 * and hl_run_value/hl_run_grad return NULL for those values. Backward then
 * has to start at a kept value, and DeepLift (which reads every node's
 * values in both runs) is refused. Several backwards may still follow one
 * forward. n < 0 restores the default. Takes effect at the next forward. */
hl_status hl_run_keep_only(hl_run *r, const int *values, int n,
                           hl_error *err);
/* Bytes of the run's block as laid out for the last forward (activations,
 * gradients, masks and scratch): what a batch of that size costs. */
size_t hl_run_memory_bytes(const hl_run *r);

/* The run's thread pool (its own or the shared one; NULL: one thread). */
hl_threadpool *hl_run_threadpool(const hl_run *r);

/* Exact incremental forwards (run_incremental.c): forwards of inputs that
 * equal one clean [1,C,H,W] input except inside a box of H x W (every
 * channel), as occlusion makes them. Each layer recomputes only the box
 * the changed pixels reach (their projective field) from the clean
 * forward's activations around it; nodes whose box cannot be followed
 * (global pooling, Reshape/Flatten, Gemm, ...) and everything after them
 * run in full. The numbers equal hl_run_forward's up to float rounding
 * (smaller GEMMs sum in another order). Not thread-safe; the pool serves
 * one call at a time. */
typedef struct hl_box {
    int64_t y0, y1, x0, x1;   /* rows [y0, y1), columns [x0, x1) */
} hl_box;
typedef struct hl_incremental hl_incremental;
/* Runs the clean forward once (keeping every activation at batch 1). */
hl_status hl_incremental_new(const hl_model *m, hl_threadpool *pool,
                             const float *clean, hl_incremental **out,
                             hl_error *err);
void hl_incremental_free(hl_incremental *inc);
/* n rows: inputs [n, C, H, W], row r differing from the clean input only
 * inside boxes[r] (only those numbers are read; clipped to the map). */
hl_status hl_incremental_forward(hl_incremental *inc, const float *inputs,
                                 const hl_box *boxes, int n, hl_error *err);
/* A value of the last forward, all rows: dst [n, value's batch-1 numel]. */
hl_status hl_incremental_read(const hl_incremental *inc, int value,
                              float *dst, hl_error *err);
/* The same from a value downstream of the input: n rows of `value` (rank
 * 4 [1,C,H,W] at batch 1), row r equal to the clean forward's value
 * except inside boxes[r] of its H x W (every channel; only those numbers
 * of rows [n, C*H*W] are read). Only the nodes the change reaches run;
 * everything upstream of the value stays the clean forward's (ablating a
 * layer's units). A folded conv's pre-BN value X starts at the conv's
 * output Y = (X - shift) / scale, as an override of X does. Values not
 * 4-D cannot start one (hl_incremental_can_start says 0;
 * HL_ERR_UNSUPPORTED). */
int hl_incremental_can_start(const hl_incremental *inc, int value);
hl_status hl_incremental_forward_from(hl_incremental *inc, int value,
                                      const float *rows, const hl_box *boxes,
                                      int n, hl_error *err);
/* The clean forward's numbers of a value that can start one (batch 1),
 * NULL otherwise (and for a pre-BN value). */
const float *hl_incremental_clean(const hl_incremental *inc, int value);
/* Bytes the clean forward keeps, and about what one row of a forward with
 * this box adds (its boxes and crops), for sizing batches. The latter
 * forgets the last forward's rows (call it before forwarding). */
size_t hl_incremental_clean_bytes(const hl_incremental *inc);
size_t hl_incremental_row_bytes(hl_incremental *inc, const hl_box *box,
                                hl_error *err);
/* The same for a forward starting at `value` (hl_incremental_forward_from);
 * 0 if it cannot start one. */
size_t hl_incremental_row_bytes_from(hl_incremental *inc, int value,
                                     const hl_box *box, hl_error *err);
/* For tools (bench-incremental): the multiply-adds of every node (arrays
 * of hl_model_num_nodes) that one row with this box computes, and that a
 * full batch-1 forward computes (hl_model_forward_flops' count: MACs for
 * conv and matrix ops, output elements for the rest); a node left clean
 * computes 0. Forgets the last forward's rows. */
hl_status hl_incremental_node_macs(hl_incremental *inc, const hl_box *box,
                                   double *computed, double *full,
                                   hl_error *err);

/* Multiply-add count of one forward at batch 1 (for GFLOP/s in bench). */
double hl_model_forward_flops(const hl_model *m);

/* ---------------------------------------------------------------- LRP */

/* Layer-wise relevance propagation with Captum 0.7's rules (lrp.py,
 * lrp_rules.py). The op table says which class each op belongs to; a
 * rule is chosen per class. */
typedef enum {
    HL_LRP_OTHER = 0,   /* no rule of its own (Add, Clip, Softmax...) */
    HL_LRP_CONV,        /* Conv (with a folded BatchNormalization) */
    HL_LRP_LINEAR,      /* Gemm, MatMul */
    HL_LRP_POOL,        /* MaxPool, AveragePool, GlobalAveragePool */
    HL_LRP_BATCHNORM,   /* a BatchNormalization not folded into a Conv */
    HL_LRP_N_CLASSES,
    HL_LRP_PASS = HL_LRP_N_CLASSES, /* Relu, Tanh, reshapes: relevance
                                       passes unchanged */
} hl_lrp_class;

typedef enum {
    HL_LRP_NO_RULE = 0,   /* refuse the node (Captum's TypeError) */
    HL_LRP_EPSILON,       /* R_in = x * J^T (R / (z + eps sign z)), eps = value */
    HL_LRP_GAMMA,         /* the same with w + value * max(w, 0), eps 1e-9 */
    HL_LRP_ALPHA1_BETA0,  /* the same with max(w, 0) (z+), eps 1e-9 */
    HL_LRP_IDENTITY,      /* R_in = R */
} hl_lrp_kind;

typedef struct hl_lrp_rule {
    hl_lrp_kind kind;
    float value;          /* epsilon or gamma */
} hl_lrp_rule;

typedef struct hl_lrp_rules {
    hl_lrp_rule rule[HL_LRP_N_CLASSES];
} hl_lrp_rules;

/* After a forward (batch 1, a run that keeps every value): relevance from
 * `from_value`, starting as `seed` (Captum: the target output there, 0
 * elsewhere), back to the inputs. Afterwards hl_run_grad(r, v) is the
 * relevance arriving at value v (Captum's relevance_output of the layer
 * computing v). A reached node whose class has no rule: HL_ERR_UNSUPPORTED
 * naming the node. */
hl_status hl_run_backward_lrp(hl_run *r, int from_value, const float *seed,
                              const hl_lrp_rules *rules, hl_error *err);

/* ------------------------------------------------------------- op list */

/* The supported ONNX op types, in the op table's order (for `ops`
 * listings and the docs): index 0 .. hl_engine_op_count() - 1. */
int hl_engine_op_count(void);
const char *hl_engine_op_name(int index);  /* "Conv"; NULL out of range */
const char *hl_engine_op_file(int index);  /* its family file, "conv.c" */
const char *hl_engine_op_note(int index);  /* a short note, or "" */

#ifdef __cplusplus
}
#endif
#endif
