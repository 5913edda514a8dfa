/* Kernel geometry (hl_kernel_geom) shared by Conv and the pooling ops:
 * the sliding kernel (a "pool window" in pooling.c), strides,
 * dilations and pads of up to 3 spatial dims, padded at the front to
 * exactly 3 (a 2-D op has depth 1), plus ONNX auto_pad. */
#ifndef HL_SPATIAL_H
#define HL_SPATIAL_H

#include "kernels.h"

typedef enum {
    HL_PAD_NOTSET, HL_PAD_SAME_UPPER, HL_PAD_SAME_LOWER, HL_PAD_VALID,
} hl_auto_pad;

typedef struct hl_kernel_geom {
    int nsp;              /* spatial rank in the model (1..3) */
    hl_auto_pad auto_pad;
    int ceil_mode;
    int has_kernel;       /* kernel_shape attribute given */
    int64_t k[3], s[3], d[3];
    int64_t pb[3], pe[3]; /* explicit pads (begin, end) when NOTSET */
} hl_kernel_geom;

/* Parses kernel_shape, strides, dilations, pads, auto_pad (and ceil_mode
 * when allow_ceil) for a spatial rank nsp. */
hl_status hl_kernel_geom_parse(hl_kernel_geom *w, const hl_attrs *attrs, int nsp,
                          int allow_ceil, int allow_dilations, hl_error *err);

/* Output extent of each of the 3 dims and the begin pads actually used,
 * for input spatial extents in[3] (leading 1s for lower ranks).
 * Returns -1 when some output extent is < 1. */
int hl_kernel_geom_out(const hl_kernel_geom *w, const int64_t in[3], int64_t out[3],
                  int64_t pad_begin[3]);

/* Exact incremental forwards (hl_op.region): the H and W geometry of a
 * 2-D kernel at input 0's shape (the begin pads auto_pad resolves to);
 * 0 for other ranks. */
int hl_kernel_geom_region(const hl_kernel_geom *w, const hl_tensor *in,
                          hl_region *r);
/* The same kernel without any padding (a crop carries its own). */
void hl_kernel_geom_unpad(hl_kernel_geom *w);

#endif
