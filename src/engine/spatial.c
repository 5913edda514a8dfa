/* Kernel geometry of Conv and the pooling ops (see spatial.h). */
#include <string.h>
#include "spatial.h"

/* Larger kernels, strides, dilations or pads are no real CNN and would
 * overflow the element counts computed from them. */
#define HL_WINDOW_MAX (1 << 20)

hl_status hl_kernel_geom_parse(hl_kernel_geom *w, const hl_attrs *attrs, int nsp,
                          int allow_ceil, int allow_dilations, hl_error *err)
{
    int64_t v[6];
    memset(w, 0, sizeof *w);
    if (nsp < 1 || nsp > 3)
        return hl_error_set(err, HL_ERR_UNSUPPORTED,
                            "%d spatial dimensions (1 to 3 supported)", nsp);
    w->nsp = nsp;
    int off = 3 - nsp;
    for (int i = 0; i < 3; i++) {
        w->k[i] = 1;
        w->s[i] = 1;
        w->d[i] = 1;
    }
    int cnt = hl_attrs_ints(attrs, "kernel_shape", v, 3);
    if (cnt >= 0) {
        if (cnt != nsp)
            return hl_error_set(err, HL_ERR_SHAPE,
                                "attribute 'kernel_shape' has %d values for %d spatial dims",
                                cnt, nsp);
        w->has_kernel = 1;
        for (int i = 0; i < nsp; i++) {
            if (v[i] < 1 || v[i] > HL_WINDOW_MAX)
                return hl_error_set(err, HL_ERR_ARG,
                                    "attribute 'kernel_shape' has a value outside 1..%d",
                                    HL_WINDOW_MAX);
            w->k[off + i] = v[i];
        }
    }
    cnt = hl_attrs_ints(attrs, "strides", v, 3);
    if (cnt >= 0) {
        if (cnt != nsp)
            return hl_error_set(err, HL_ERR_SHAPE,
                                "attribute 'strides' has %d values for %d spatial dims",
                                cnt, nsp);
        for (int i = 0; i < nsp; i++) {
            if (v[i] < 1 || v[i] > HL_WINDOW_MAX)
                return hl_error_set(err, HL_ERR_ARG,
                                    "attribute 'strides' has a value outside 1..%d",
                                    HL_WINDOW_MAX);
            w->s[off + i] = v[i];
        }
    }
    cnt = hl_attrs_ints(attrs, "dilations", v, 3);
    if (cnt >= 0) {
        if (cnt != nsp)
            return hl_error_set(err, HL_ERR_SHAPE,
                                "attribute 'dilations' has %d values for %d spatial dims",
                                cnt, nsp);
        for (int i = 0; i < nsp; i++) {
            if (v[i] < 1 || v[i] > HL_WINDOW_MAX)
                return hl_error_set(err, HL_ERR_ARG,
                                    "attribute 'dilations' has a value outside 1..%d",
                                    HL_WINDOW_MAX);
            if (v[i] != 1 && !allow_dilations)
                return hl_error_set(err, HL_ERR_UNSUPPORTED,
                                    "attribute 'dilations' is not supported here");
            w->d[off + i] = v[i];
        }
    }
    cnt = hl_attrs_ints(attrs, "pads", v, 6);
    if (cnt >= 0) {
        if (cnt != 2 * nsp)
            return hl_error_set(err, HL_ERR_SHAPE,
                                "attribute 'pads' has %d values for %d spatial dims",
                                cnt, nsp);
        for (int i = 0; i < nsp; i++) {
            if (v[i] < 0 || v[nsp + i] < 0)
                return hl_error_set(err, HL_ERR_UNSUPPORTED,
                                    "negative value in attribute 'pads'");
            if (v[i] > HL_WINDOW_MAX || v[nsp + i] > HL_WINDOW_MAX)
                return hl_error_set(err, HL_ERR_ARG,
                                    "attribute 'pads' has a value over %d",
                                    HL_WINDOW_MAX);
            w->pb[off + i] = v[i];
            w->pe[off + i] = v[nsp + i];
        }
    }
    const char *ap = hl_attrs_string(attrs, "auto_pad", "NOTSET");
    if (strcmp(ap, "NOTSET") == 0 || ap[0] == '\0')
        w->auto_pad = HL_PAD_NOTSET;
    else if (strcmp(ap, "SAME_UPPER") == 0)
        w->auto_pad = HL_PAD_SAME_UPPER;
    else if (strcmp(ap, "SAME_LOWER") == 0)
        w->auto_pad = HL_PAD_SAME_LOWER;
    else if (strcmp(ap, "VALID") == 0)
        w->auto_pad = HL_PAD_VALID;
    else
        return hl_error_set(err, HL_ERR_UNSUPPORTED,
                            "attribute 'auto_pad' value '%s'", ap);
    int64_t ceil_mode = hl_attrs_int(attrs, "ceil_mode", 0);
    if (ceil_mode != 0 && ceil_mode != 1)
        return hl_error_set(err, HL_ERR_UNSUPPORTED,
                            "attribute 'ceil_mode' value %lld",
                            (long long)ceil_mode);
    if (ceil_mode && !allow_ceil)
        return hl_error_set(err, HL_ERR_UNSUPPORTED,
                            "attribute 'ceil_mode' is not supported here");
    w->ceil_mode = (int)ceil_mode;
    return HL_OK;
}

int hl_kernel_geom_out(const hl_kernel_geom *w, const int64_t in[3], int64_t out[3],
                  int64_t pad_begin[3])
{
    for (int i = 0; i < 3; i++) {
        int64_t ext = (w->k[i] - 1) * w->d[i] + 1; /* dilated kernel extent */
        int64_t o, pb = w->pb[i], pe = w->pe[i];
        switch (w->auto_pad) {
        case HL_PAD_SAME_UPPER:
        case HL_PAD_SAME_LOWER: {
            o = (in[i] + w->s[i] - 1) / w->s[i];
            int64_t total = (o - 1) * w->s[i] + ext - in[i];
            if (total < 0)
                total = 0;
            pb = w->auto_pad == HL_PAD_SAME_UPPER ? total / 2
                                                   : total - total / 2;
            break;
        }
        case HL_PAD_VALID:
            pb = 0;
            o = in[i] >= ext ? (in[i] - ext) / w->s[i] + 1 : 0;
            break;
        default: {
            int64_t span = in[i] + pb + pe - ext;
            if (span < 0) {
                o = 0;
                break;
            }
            if (w->ceil_mode) {
                o = (span + w->s[i] - 1) / w->s[i] + 1;
                /* PyTorch/ONNX: the last window must start inside the
                 * input or the begin padding */
                if ((o - 1) * w->s[i] >= in[i] + pb)
                    o--;
            } else {
                o = span / w->s[i] + 1;
            }
            break;
        }
        }
        if (o < 1)
            return -1;
        out[i] = o;
        pad_begin[i] = pb;
    }
    return 0;
}

int hl_kernel_geom_region(const hl_kernel_geom *w, const hl_tensor *in,
                          hl_region *r)
{
    const hl_shape *xs = &in[0].shape;
    if (w->nsp != 2 || xs->ndim != 4)
        return 0;
    int64_t ins[3] = {1, xs->dims[2], xs->dims[3]}, out[3], pb[3];
    if (hl_kernel_geom_out(w, ins, out, pb))
        return 0;
    for (int i = 0; i < 2; i++) {
        r->k[i] = w->k[1 + i];
        r->s[i] = w->s[1 + i];
        r->d[i] = w->d[1 + i];
        r->pb[i] = pb[1 + i];
    }
    r->sliding = 1;
    return 1;
}

void hl_kernel_geom_unpad(hl_kernel_geom *w)
{
    w->auto_pad = HL_PAD_NOTSET;
    w->ceil_mode = 0;
    for (int i = 0; i < 3; i++)
        w->pb[i] = w->pe[i] = 0;
}

/* Computed inputs (data == NULL here) must have the output's H and W;
 * known ones must not vary along them (they broadcast numpy-style). */
int hl_region_pointwise(const hl_node *n, const hl_tensor *in,
                        const hl_tensor *out, hl_region *r)
{
    const hl_shape *os = &out[0].shape;
    memset(r, 0, sizeof *r);
    if (os->ndim != 4 || n->n_out != 1)
        return 0;
    for (int i = 0; i < n->n_in; i++) {
        if (n->in[i] < 0)
            continue;
        const hl_shape *s = &in[i].shape;
        if (!in[i].data && !in[i].i64) {
            if (s->ndim != 4 || s->dims[2] != os->dims[2] ||
                s->dims[3] != os->dims[3])
                return 0;
        } else if ((s->ndim >= 1 && s->dims[s->ndim - 1] != 1) ||
                   (s->ndim >= 2 && s->dims[s->ndim - 2] != 1)) {
            return 0;
        }
    }
    return 1;
}
