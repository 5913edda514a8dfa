/* Shared helpers of the op kernels (not part of the op interface).
 * Each op family file defines its hl_op tables; ops.c lists them. */
#ifndef HL_KERNELS_H
#define HL_KERNELS_H

#include <stddef.h>
#include <stdint.h>
#include "op.h"

/* Work below this many elements is not worth waking the pool for. */
#define HL_PAR_MIN 32768

/* ---------------------------------------------------------- op tables */
extern const hl_op hl_op_conv, hl_op_batchnorm;
extern const hl_op hl_op_relu, hl_op_leakyrelu, hl_op_prelu, hl_op_clip,
    hl_op_sigmoid, hl_op_hardsigmoid, hl_op_hardswish, hl_op_tanh, hl_op_elu,
    hl_op_swish, hl_op_gelu, hl_op_mish;
extern const hl_op hl_op_maxpool, hl_op_averagepool, hl_op_globalaveragepool,
    hl_op_globalmaxpool;
extern const hl_op hl_op_add, hl_op_sub, hl_op_mul, hl_op_div, hl_op_sum,
    hl_op_max, hl_op_min, hl_op_expand;
extern const hl_op hl_op_gemm, hl_op_matmul;
extern const hl_op hl_op_flatten, hl_op_reshape, hl_op_transpose,
    hl_op_concat, hl_op_squeeze, hl_op_unsqueeze, hl_op_pad, hl_op_identity,
    hl_op_dropout, hl_op_shape, hl_op_gather, hl_op_constant, hl_op_cast,
    hl_op_slice, hl_op_constantofshape;
extern const hl_op hl_op_softmax, hl_op_logsoftmax;
extern const hl_op hl_op_reducemean, hl_op_reducesum, hl_op_reducemax,
    hl_op_reducemin;
extern const hl_op hl_op_sqrt, hl_op_abs, hl_op_erf, hl_op_exp, hl_op_log, hl_op_neg,
    hl_op_reciprocal, hl_op_softplus, hl_op_pow;
extern const hl_op hl_op_layernormalization, hl_op_instancenormalization,
    hl_op_lrn;
extern const hl_op hl_op_split, hl_op_resize, hl_op_upsample;
extern const hl_op hl_op_dequantizelinear;
/* the exported forms of the gated activations (activation_patterns.c) */
extern const hl_op_pattern hl_patterns_swish[], hl_patterns_gelu[],
    hl_patterns_mish[], hl_patterns_hardswish[];

/* ------------------------------------------------------------- helpers */

/* forward/backward of ops whose outputs are only ever known at plan time
 * (Shape, Constant, ConstantOfShape, DequantizeLinear of weights): the
 * forward evaluates fold(), and there is no data input to pass a gradient
 * to. */
void hl_fold_forward(const hl_node *n, hl_op_ctx *c, const hl_tensor *in,
                     hl_tensor *out);
void hl_no_backward(const hl_node *n, hl_op_ctx *c, const hl_tensor *in,
                    const hl_tensor *out, const hl_tensor *gout, hl_tensor *gin);

/* Is input i present (not omitted)? */
static inline int hl_has_input(const hl_node *n, int i)
{
    return i < n->n_in && n->in[i] >= 0;
}

static inline int hl_has_output(const hl_node *n, int i)
{
    return i < n->n_out && n->out[i] >= 0;
}

/* Normalise a possibly negative axis against rank; -1 when out of range. */
static inline int hl_axis(int64_t axis, int rank)
{
    if (axis < 0)
        axis += rank;
    return axis >= 0 && axis < rank ? (int)axis : -1;
}

/* C = alpha op(A) op(B) + beta C (row-major), split over the pool (sgemm.c). */
void hl_sgemm(const hl_op_ctx *c, int trans_a, int trans_b, int M, int N,
              int K, float alpha, const float *A, int lda, const float *B,
              int ldb, float beta, float *C, int ldc);

/* Parallel range loop that stays on the calling thread for small work. */
static inline void hl_par_for(const hl_op_ctx *c, long total, long work,
                              void (*fn)(void *, long, long), void *arg)
{
    if (total <= 0)
        return;
    if (!c || !c->threadpool || work < HL_PAR_MIN)
        fn(arg, 0, total);
    else
        hl_threadpool_for(c->threadpool, total, fn, arg);
}

/* NumPy broadcasting of two shapes, collapsed to as few dims as possible.
 * Element strides are 0 along broadcast dims. */
typedef struct hl_bcast {
    int ndim;
    int64_t dims[HL_MAX_DIMS];
    int64_t sa[HL_MAX_DIMS], sb[HL_MAX_DIMS];
    int64_t total;
} hl_bcast;

/* Output shape of broadcasting a and b; 0 on success, -1 if incompatible. */
int hl_broadcast_shape(const hl_shape *a, const hl_shape *b, hl_shape *out);
/* Fills bc for broadcasting a and b (must be compatible). */
void hl_bcast_init(hl_bcast *bc, const hl_shape *a, const hl_shape *b);
/* Offsets into a and b of the first element of "row" r, where a row is the
 * innermost collapsed dim (length dims[ndim-1]). */
void hl_bcast_row(const hl_bcast *bc, int64_t r, int64_t *oa, int64_t *ob);

/* Allocate n->params (zeroed) of the given size; NOMEM on failure. */
hl_status hl_params_alloc(hl_node *n, size_t size, hl_error *err);
void hl_params_free(hl_node *n);

/* Read an int64 tensor (plan-time) or float as integers; count returned. */
int hl_tensor_ints(const hl_tensor *t, int64_t *out, int max);

#endif
