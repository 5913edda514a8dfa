/* Internal op interface of the engine: what every op family implements.
 *
 * One table entry per ONNX op type ({init, shape, forward, backward}); one
 * file per op family (conv.c, pooling.c, elementwise.c, ...). Kernels never
 * see protobuf: the loader converts attributes into hl_attrs first.
 */
#ifndef HL_OP_H
#define HL_OP_H

#include "engine.h"
#include "threadpool.h"

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
    hl_attr_type misread; /* an accessor wanted this type and found
                             another: the loader refuses the node */
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
/* The attribute `name` when it has type `type`, else NULL. Like the
 * accessors above, an attribute of another type is not taken for absent:
 * it is marked (misread) and the loader refuses the node with one line
 * naming the attribute and both types. */
const hl_attr *hl_attrs_typed(const hl_attrs *as, const char *name,
                              hl_attr_type type);
/* The attribute an accessor found with the wrong type, or NULL. */
const hl_attr *hl_attrs_misread(const hl_attrs *as);
const char *hl_attr_type_name(hl_attr_type t);

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
    hl_threadpool *threadpool; /* parallel_for; NULL = single thread */
    int threads;
    hl_backward_rule rule;    /* backward rule of this run (no modifier) */
    int relu_family;          /* HL_RULE_RELU_FAMILY was given */
    /* For HL_RULE_DEEPLIFT: the same node's inputs/outputs in the
     * reference run (batch = this batch or 1, broadcast). NULL otherwise. */
    const hl_tensor *ref_in;
    const hl_tensor *ref_out;
    /* DeepLift, deeplift_backward only: the reference half's gradients at
     * the node's outputs (Captum's grad_output of the doubled batch's
     * second half); NULL = the same as gout. */
    const hl_tensor *ref_gout;
    /* DeepLift, a rescaled activation whose output feeds a MaxPool: the
     * gradient where |x - x_ref| < 1e-10 is the derivative times
     * eps_grad[i % eps_period] (Captum: the pool's hook replaced the
     * output's gradient by its multipliers, there the complete gradient's
     * first row) instead of times gout; NULL = times gout. */
    const float *eps_grad;
    long eps_period;
    /* The weight inputs are not the model's (LRP's modified weights, a
     * temporary buffer): kernels must not use state cached from them
     * (oneDNN's reordered weights). */
    int weights_transient;
    /* Scratch memory of at least scratch_floats() floats, per call. */
    float *scratch;
} hl_op_ctx;

/* Which tensors an op's backward reads under the gradient, guided and
 * deconvolution rules (a lean run frees everything else after its last
 * forward use). Only ops whose kernels were checked say less than ALL. */
typedef enum {
    HL_BWD_READS_ALL = 0,       /* every input and output (the default) */
    HL_BWD_READS_NOTHING,       /* shapes only (Add, Reshape, AveragePool) */
    HL_BWD_READS_INPUTS,        /* the inputs, not the outputs (MaxPool) */
    HL_BWD_READS_WEIGHTS,       /* inputs other than 0 (Conv) */
    HL_BWD_READS_OTHER_OPERAND, /* input 0's gradient reads input 1 and
                                   back; inputs 2+ are read (Gemm, MatMul) */
} hl_bwd_reads;

/* What the loader and the planner know about an op besides its kernels
 * (they never compare op names). */
enum {
    /* output 0 is input 0 at inference (Identity, Dropout): the loader
     * removes the node after init() accepted it and keeps its output as an
     * alias; other outputs must be unused */
    HL_OP_ALIAS = 1u << 0,
    /* reads only its input's shape (Shape): known at plan time even when
     * its input is computed by forward */
    HL_OP_SHAPE_ONLY = 1u << 1,
    /* takes no input (Constant): always folded at load */
    HL_OP_NO_INPUT = 1u << 2,
    /* the guided and deconvolution rules change its backward (Relu) */
    HL_OP_GUIDED = 1u << 3,
    /* DeepLift's rescale rule replaces its local derivative (Relu,
     * LeakyRelu, Sigmoid, Tanh, Elu: the nonlinearities Captum 0.7 hooks) */
    HL_OP_RESCALE = 1u << 6,
    /* a following BatchNormalization folds into it: input 1 holds weights
     * [C_out, ...], optional input 2 the bias [C_out] (Conv) */
    HL_OP_TAKES_BN = 1u << 4,
    /* BatchNormalization in inference: inputs x, scale, B, mean, var and
     * the attribute epsilon (folded into a preceding HL_OP_TAKES_BN op) */
    HL_OP_BATCHNORM = 1u << 5,
    /* a module Captum's DeepLift hooks (nn.ReLU, Sigmoid, Tanh, ELU,
     * LeakyReLU, MaxPool): when it feeds a MaxPool directly, Captum's
     * tensor hooks let this op's rule see the pool's plain gradient, so the
     * pool's deeplift_backward is not used there, unless this op has one
     * too (a MaxPool: its plain backward sees the multipliers) */
    HL_OP_DEEPLIFT_HOOKED = 1u << 7,
    /* with HL_RULE_RELU_FAMILY the guided and deconvolution rules change
     * its backward as Relu's (Clip = ReLU6, at the lower kink) */
    HL_OP_RELU_FAMILY = 1u << 8,
    /* with HL_RULE_RELU_FAMILY DeepLift's rescale rule replaces its local
     * derivative (every elementwise activation of activation.c) */
    HL_OP_RESCALE_FAMILY = 1u << 9,
    /* any output may be omitted (named ""), output 0 included: its kernels
     * skip an omitted output (Split). Every other op writes output 0, so
     * the loader refuses a node whose output 0 is omitted. */
    HL_OP_OUTPUTS_OPTIONAL = 1u << 10,
};

/* How an op's output depends on its inputs along the last two (H, W)
 * dims of NCHW tensors, for exact incremental forwards
 * (run_incremental.c): an output box is computed from crops of the inputs
 * with the op's own forward. */
typedef struct hl_region {
    /* 0: pointwise: output (h, w) reads only (h, w) of every computed
     * input, all of the output's H and W (activations, Add, Concat on
     * channels, BatchNormalization);
     * 1: a sliding kernel over input 0 (Conv, pools): output row h reads
     * input rows h * s - pb + i * d for i < k (columns alike); the other
     * inputs are weights */
    int sliding;
    int64_t k[2], s[2], d[2], pb[2];
    float pad;       /* what a padded position stands for (MaxPool: -inf) */
    /* sliding: a malloc'ed copy of n->params without padding, for the
     * crops (which carry their padding explicitly); freed with free() */
    void *unpadded;
} hl_region;

/* A small graph an exporter writes for one activation (torch.onnx.export's
 * Sigmoid x Mul for nn.SiLU), fused into one node of the op that lists it
 * (fuse_activations.c). Steps in topological order; the last one's output
 * is the activation's output, x its one dynamic input. Add and Mul match
 * either operand order. */
typedef enum {
    HL_PAT_NONE = 0,
    HL_PAT_X,        /* the activation's input */
    HL_PAT_STEP,     /* the output of an earlier step (.step) */
    HL_PAT_CONST,    /* a one-element float constant equal to .value */
} hl_pattern_arg_kind;

typedef struct hl_pattern_arg {
    hl_pattern_arg_kind kind;
    int step;
    double value;
} hl_pattern_arg;

#define HL_PATTERN_MAX_STEPS 10

typedef struct hl_pattern_step {
    const char *op_type;
    hl_pattern_arg in[3];       /* up to the first HL_PAT_NONE */
    /* float attributes that must equal a value (NULL name: none), with
     * the op's ONNX default for when the node leaves them out */
    struct { const char *name; double value, onnx_default; } attr[2];
} hl_pattern_step;

typedef struct hl_op_pattern {
    const char *name;           /* what the exporter wrote ("torch nn.SiLU") */
    int n_steps;
    hl_pattern_step steps[HL_PATTERN_MAX_STEPS];
    const char *fused_attr;     /* a string attribute of the fused node */
    const char *fused_value;    /* ("approximate" = "tanh"), or NULL */
} hl_op_pattern;

typedef struct hl_op {
    const char *op_type;
    const char *source;    /* __FILE__ of the family file (for the docs) */
    unsigned flags;        /* HL_OP_* */
    hl_lrp_class lrp;      /* LRP rule class (engine.h); 0 = none */
    hl_bwd_reads bwd_reads;
    /* Relu-like ops whose backward (gradient, guided and deconvolution
     * rules) sees input 0 only through (x > lo && x < hi): sets the bounds
     * of this node and returns 1, or 0 when they are not known at plan
     * time. A lean run then keeps that bit mask instead of the input.
     * `in` are the plan's tensors (constants carry data). NULL: no mask. */
    int (*mask_bounds)(const hl_node *n, const hl_attrs *attrs,
                       const hl_tensor *in, float *lo, float *hi);
    /* Fills *r and returns 1 when output boxes of this node can be
     * recomputed from input crops at these (batch-1) shapes, else 0
     * (global pooling, reshapes, matrix products: the incremental forward
     * then recomputes this node and everything after it in full). NULL: 0. */
    int (*region)(const hl_node *n, const hl_tensor *in, const hl_tensor *out,
                  hl_region *r);
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
    /* DeepLift's own multipliers of an op beside the elementwise Rescale
     * rule (MaxPool), as Captum's hook on the op's input tensor applies
     * them: under HL_RULE_DEEPLIFT the engine runs backward() as usual and,
     * once every consumer of input 0 has added its share, calls this with
     * gin[0] holding that complete gradient, which it overwrites. Not
     * called when input 0 comes from an HL_OP_DEEPLIFT_HOOKED op without
     * a deeplift_backward of its own (Captum's hooks then give that op the
     * plain sum). ctx->ref_in/ref_out are set, ctx->ref_gout too where the
     * reference half's gradient is its own (run_backward.c);
     * NULL: no rule of its own. */
    void (*deeplift_backward)(const hl_node *n, hl_op_ctx *c,
                              const hl_tensor *in, const hl_tensor *out,
                              const hl_tensor *gout, hl_tensor *gin);
    /* Small graphs fused into one node of this op at load (an array ended
     * by an entry with n_steps 0), or NULL. */
    const hl_op_pattern *patterns;
    /* Multiply-adds of one forward (for bench GFLOP/s); NULL = elementwise. */
    double (*flops)(const hl_node *n, const hl_tensor *in, const hl_tensor *out);
} hl_op;

/* The op table (ops.c) */
const hl_op *hl_op_find(const char *op_type);
const hl_op *hl_op_get(int index);
/* The public HL_ROLE_* of the op at `index` (0 when out of range). */
unsigned hl_op_roles(int index);
int hl_op_index(const char *op_type);   /* -1 when unsupported */

#endif
