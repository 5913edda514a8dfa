/* Internal op interface of the engine: what every op family implements.
 *
 * One table entry per ONNX op type ({init, shape, forward, backward}); one
 * file per op family (conv.c, pool.c, elementwise.c, ...). Kernels never
 * see protobuf: the loader converts attributes into hl_attrs first.
 */
#ifndef HL_OP_H
#define HL_OP_H

#include "engine.h"
#include "pool.h"

typedef enum { HL_DT_FLOAT = 1, HL_DT_INT64 = 7 } hl_dtype; /* ONNX codes */

/* A tensor as kernels see it. Float values have data != NULL. Values known
 * at plan time (initializers, Constant outputs, folded Shape chains) may be
 * int64 with i64 != NULL; in shape() callbacks, data/i64 are non-NULL only
 * for such known values (weights, Reshape's shape input, Pad's pads...). */
typedef struct hl_tensor {
    hl_shape shape;
    hl_dtype dtype;
    float *data;
    int64_t *i64;
} hl_tensor;

/* ------------------------------------------------------------ attributes */

typedef enum {
    HL_ATTR_FLOAT = 1, HL_ATTR_INT = 2, HL_ATTR_STRING = 3, HL_ATTR_TENSOR = 4,
    HL_ATTR_FLOATS = 6, HL_ATTR_INTS = 7, HL_ATTR_STRINGS = 8,
} hl_attr_type; /* ONNX AttributeProto codes */

typedef struct hl_attr {
    char *name;
    hl_attr_type type;
    float f;
    int64_t i;
    char *s;
    float *floats;
    int64_t *ints;
    int n;          /* element count of floats / ints */
    hl_tensor *t;   /* TENSOR attribute (e.g. Constant's value) */
} hl_attr;

typedef struct hl_attrs {
    int n;
    hl_attr *a;
} hl_attrs;

const hl_attr *hl_attrs_find(const hl_attrs *as, const char *name);
int64_t hl_attrs_int(const hl_attrs *as, const char *name, int64_t dflt);
float hl_attrs_float(const hl_attrs *as, const char *name, float dflt);
const char *hl_attrs_string(const hl_attrs *as, const char *name,
                            const char *dflt);
/* Copies up to max ints into out; returns the count, or -1 when absent. */
int hl_attrs_ints(const hl_attrs *as, const char *name, int64_t *out, int max);

/* ------------------------------------------------------------------ nodes */

#define HL_MAX_IO 64  /* DenseNet concatenates up to 49 tensors */

typedef struct hl_node {
    int op;            /* index into the op table */
    char *name;        /* node name (never NULL; loader invents one) */
    char *op_type;     /* ONNX op_type */
    int opset;         /* opset version of the default domain */
    int n_in, n_out;
    int in[HL_MAX_IO];  /* value ids; -1 for an omitted optional input */
    int out[HL_MAX_IO];
    void *params;      /* parsed attributes, owned by the op (free()) */
} hl_node;

/* Per-call context handed to kernels. */
typedef struct hl_op_ctx {
    hl_pool *pool;            /* parallel_for; NULL = single thread */
    int threads;
    hl_backward_rule rule;    /* backward rule of this run */
    /* For HL_RULE_DEEPLIFT: the same node's inputs/outputs in the
     * reference run (batch = this batch or 1, broadcast). NULL otherwise. */
    const hl_tensor *ref_in;
    const hl_tensor *ref_out;
    /* Scratch memory of at least scratch_floats() floats, per call. */
    float *scratch;
} hl_op_ctx;

typedef struct hl_op {
    const char *op_type;
    /* Parse and check attributes (opset-aware) into n->params. Constant
     * inputs are available as `in` entries with data/i64 set; others have
     * only their static shape filled when known (dims may be -1). Unknown
     * or unsupported attribute values: HL_ERR_UNSUPPORTED with a message
     * naming the attribute (the caller prefixes file/node/op). */
    hl_status (*init)(hl_node *n, const hl_attrs *attrs, const hl_tensor *in,
                      hl_error *err);
    /* Output shapes (and dtypes) from the input shapes at a concrete batch.
     * Known (constant) inputs carry data. */
    hl_status (*shape)(const hl_node *n, const hl_tensor *in, hl_tensor *out,
                       hl_error *err);
    /* Scratch floats needed by forward/backward at these shapes (may be NULL). */
    size_t (*scratch_floats)(const hl_node *n, const hl_tensor *in,
                             const hl_tensor *out);
    void (*forward)(const hl_node *n, hl_op_ctx *c, const hl_tensor *in,
                    hl_tensor *out);
    /* Accumulate (+=) into gin[i].data for each float input i whose
     * gin[i].data != NULL (gradients w.r.t. data inputs only, never
     * weights). gout[j] is the gradient of output j (NULL data = zero). */
    void (*backward)(const hl_node *n, hl_op_ctx *c, const hl_tensor *in,
                     const hl_tensor *out, const hl_tensor *gout,
                     hl_tensor *gin);
    /* Evaluate on plan-time-known int64/float tensors (Shape, Gather,
     * Unsqueeze, Concat, Cast, ...): used to fold shape chains. NULL if the
     * op cannot be folded; then forward() is used for float-only inputs. */
    hl_status (*fold)(const hl_node *n, const hl_tensor *in, hl_tensor *out,
                      hl_error *err);
    /* fold(): out[] is preallocated by the runtime from shape(). */
    void (*free_params)(hl_node *n);
    /* Multiply-adds of one forward (for bench GFLOP/s); NULL = elementwise. */
    double (*flops)(const hl_node *n, const hl_tensor *in, const hl_tensor *out);
} hl_op;

/* The op table (ops.c) */
const hl_op *hl_op_find(const char *op_type);
const hl_op *hl_op_get(int index);
int hl_op_index(const char *op_type);   /* -1 when unsupported */
/* Comma-separated list of supported op types, for error messages. */
const char *hl_op_supported_list(void);

#endif
