/* Conv forward and backward w.r.t. the input through oneDNN (Debian's
 * libdnnl 2.6), when the build found it (HL_HAVE_DNNL). conv.c asks here
 * first and falls back to its own kernels when a call returns 0: no
 * oneDNN, HL_DNNL=0 in the environment, weights that are not constants, a
 * shape oneDNN refuses, or one where our kernels measured faster
 * (conv_dnnl.c, dn_wanted). */
#ifndef HL_CONV_DNNL_H
#define HL_CONV_DNNL_H

#include "spatial.h"

typedef struct hl_conv_dnnl hl_conv_dnnl;

#ifdef HL_HAVE_DNNL
/* Per-node state (primitives, reordered weights), NULL when oneDNN is not
 * to be used for this node. */
hl_conv_dnnl *hl_conv_dnnl_new(const hl_kernel_geom *w, int64_t group,
                               int weights_known);
void hl_conv_dnnl_free(hl_conv_dnnl *d);
/* Scratch floats a call needs at these shapes (0: our kernels run). */
size_t hl_conv_dnnl_scratch(hl_conv_dnnl *d, const hl_shape *xs,
                            const hl_shape *ws);
/* y = conv(x, w) + bias; 1 when done, 0 when our kernels must run. */
int hl_conv_dnnl_forward(hl_conv_dnnl *d, hl_op_ctx *c, const hl_tensor *x,
                         const hl_tensor *w, const float *bias, float *y);
/* gx += conv_backward_data(gy, w); 1 when done, 0 otherwise. */
int hl_conv_dnnl_backward(hl_conv_dnnl *d, hl_op_ctx *c, const hl_tensor *x,
                          const hl_tensor *w, const float *gy, float *gx);
#else
static inline hl_conv_dnnl *hl_conv_dnnl_new(const hl_kernel_geom *w,
                                             int64_t group, int weights_known)
{
    (void)w; (void)group; (void)weights_known;
    return NULL;
}
static inline void hl_conv_dnnl_free(hl_conv_dnnl *d) { (void)d; }
static inline size_t hl_conv_dnnl_scratch(hl_conv_dnnl *d, const hl_shape *xs,
                                          const hl_shape *ws)
{
    (void)d; (void)xs; (void)ws;
    return 0;
}
static inline int hl_conv_dnnl_forward(hl_conv_dnnl *d, hl_op_ctx *c,
                                       const hl_tensor *x, const hl_tensor *w,
                                       const float *bias, float *y)
{
    (void)d; (void)c; (void)x; (void)w; (void)bias; (void)y;
    return 0;
}
static inline int hl_conv_dnnl_backward(hl_conv_dnnl *d, hl_op_ctx *c,
                                        const hl_tensor *x, const hl_tensor *w,
                                        const float *gy, float *gx)
{
    (void)d; (void)c; (void)x; (void)w; (void)gy; (void)gx;
    return 0;
}
#endif

#endif
