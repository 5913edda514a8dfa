/* What conv.c and conv_depthwise.c share: the geometry of one Conv at
 * concrete shapes (conv_geom_make in conv.c) and the depthwise kernels. */
#ifndef HL_CONV_H
#define HL_CONV_H

#include <string.h>
#include "spatial.h"

typedef struct {
    int64_t N, C, OC, G, Cg, OCg;
    int64_t in[3], out[3], k[3], s[3], d[3], pb[3];
    int64_t X, P, KK, K;   /* input plane, output plane, taps, Cg*taps */
    int pointwise;         /* 1x1, stride 1, no pad */
    int depthwise;         /* direct kernel */
    int64_t nb;            /* images per GEMM chunk */
} conv_geom;

/* Valid output range [lo, hi) along the last dim for tap offset off. */
static inline void conv_valid_range(int64_t off, int64_t s, int64_t in,
                                    int64_t out, int64_t *lo, int64_t *hi)
{
    int64_t l = off >= 0 ? 0 : (-off + s - 1) / s;
    int64_t h = in - 1 - off >= 0 ? (in - 1 - off) / s + 1 : 0;
    if (h > out)
        h = out;
    if (l > h)
        l = h;
    *lo = l;
    *hi = h;
}

/* Depthwise convs (groups == channels, 2-D): a direct kernel split over
 * planes with hl_par_for, forward over [N * OC) output planes, backward
 * over [N * C) input-gradient planes (added into gx). */
typedef struct {
    const conv_geom *g;
    const float *x, *w, *bias, *gy;
    float *y, *gx;
} dw_job;

void hl_conv_dw_forward(void *arg, long begin, long end);
void hl_conv_dw_backward(void *arg, long begin, long end);

#endif
