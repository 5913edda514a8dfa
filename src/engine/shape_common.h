/* Helpers shared by the data-movement op files (reshape_ops.c,
 * layout_ops.c, const_ops.c): element sizes, int64-or-float data, strides
 * and a strided index walk (Transpose, Slice). */
#ifndef HL_SHAPE_COMMON_H
#define HL_SHAPE_COMMON_H

#include <stdlib.h>
#include <string.h>
#include "kernels.h"

static inline size_t dtype_size(hl_dtype t)
{
    return t == HL_DT_INT64 ? sizeof(int64_t) : sizeof(float);
}

static inline void *tensor_ptr(const hl_tensor *t)
{
    return t->dtype == HL_DT_INT64 ? (void *)t->i64 : (void *)t->data;
}

static inline int tensor_known(const hl_tensor *t)
{
    return tensor_ptr(t) != NULL;
}

static inline void row_strides(const hl_shape *s, int64_t st[HL_MAX_DIMS])
{
    int64_t r = 1;
    for (int i = s->ndim - 1; i >= 0; i--) {
        st[i] = r;
        r *= s->dims[i];
    }
}

/* ------------------------------------------------------------- strided
 * out[i0..ik] = src[base + sum i_d * istride[d]] (Transpose, Slice). */
typedef struct {
    int ndim;
    int64_t dims[HL_MAX_DIMS];
    int64_t istride[HL_MAX_DIMS];
    int64_t base;
} strided_map;

#define STRIDED_WALK(M, BODY)                                                 \
    do {                                                                      \
        int64_t idx_[HL_MAX_DIMS] = { 0 };                                    \
        int nd_ = (M)->ndim;                                                  \
        int64_t inner_ = nd_ ? (M)->dims[nd_ - 1] : 1;                        \
        int64_t is_ = nd_ ? (M)->istride[nd_ - 1] : 0;                        \
        int64_t total_ = 1;                                                   \
        for (int d_ = 0; d_ < nd_; d_++)                                      \
            total_ *= (M)->dims[d_];                                          \
        int64_t o = 0;                                                        \
        while (o < total_) {                                                  \
            int64_t src = (M)->base;                                          \
            for (int d_ = 0; d_ < nd_ - 1; d_++)                              \
                src += idx_[d_] * (M)->istride[d_];                           \
            for (int64_t k = 0; k < inner_; k++, o++, src += is_) {           \
                BODY                                                          \
            }                                                                 \
            for (int d_ = nd_ - 2; d_ >= 0; d_--) {                           \
                if (++idx_[d_] < (M)->dims[d_])                               \
                    break;                                                    \
                idx_[d_] = 0;                                                 \
            }                                                                 \
        }                                                                     \
    } while (0)

static inline void strided_gather(const strided_map *m, const void *src, void *dst,
                           hl_dtype dt)
{
    if (dt == HL_DT_INT64) {
        const int64_t *s = src;
        int64_t *d = dst;
        STRIDED_WALK(m, { d[o] = s[src]; });
    } else {
        const float *s = src;
        float *d = dst;
        STRIDED_WALK(m, { d[o] = s[src]; });
    }
}

static inline void strided_scatter_add(const strided_map *m, const float *g,
                                float *gx)
{
    STRIDED_WALK(m, { gx[src] += g[o]; });
}

/* Params of the ops with one 'axis' attribute (Flatten, Concat, Gather). */
typedef struct {
    int64_t axis;
} axis_params;

/* Forward of ops whose output is the input bytes in another shape. */
static inline void copy_forward(const hl_node *n, hl_op_ctx *c, const hl_tensor *in,
                         hl_tensor *out)
{
    (void)n; (void)c;
    if (out[0].data != in[0].data)
        memcpy(out[0].data, in[0].data,
               sizeof(float) * (size_t)hl_shape_numel(&in[0].shape));
}

static inline void copy_backward(const hl_node *n, hl_op_ctx *c, const hl_tensor *in,
                          const hl_tensor *out, const hl_tensor *gout,
                          hl_tensor *gin)
{
    (void)n; (void)c; (void)out;
    if (!gout[0].data || !gin[0].data)
        return;
    int64_t total = hl_shape_numel(&in[0].shape);
    const float *g = gout[0].data;
    float *gx = gin[0].data;
    for (int64_t i = 0; i < total; i++)
        gx[i] += g[i];
}

#endif
