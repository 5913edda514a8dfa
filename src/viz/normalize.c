/* Captum's _normalize_attr: channel sum, sign selection, cumulative-sum
 * threshold, scale and clip. Arithmetic is float32 where NumPy's is, so a
 * float32 attribution normalises to the same floats as in Captum. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "viz-private.h"

struct hl_viz_norm {
    int width, height;
    hl_viz_sign sign;
    double outlier_perc;
    float *raw;        /* [h,w] channel sums */
    float *values;     /* [h,w] normalised */
    double threshold;  /* Captum's scale factor, signed */
    int is_zero;
};

static int compare_float(const void *pa, const void *pb)
{
    float a = *(const float *)pa, b = *(const float *)pb;
    return (a > b) - (a < b);
}

/* np.sort, np.cumsum (float32, sequential), first index reaching the
 * target. vals (n >= 1, non-negative) is sorted in place. */
static float cumulative_sum_threshold(float *vals, size_t n, double percentile)
{
    qsort(vals, n, sizeof *vals, compare_float);
    float total = 0.0f;
    for (size_t i = 0; i < n; i++)
        total += vals[i];
    /* NumPy 1.x: float32 scalar * 0.01 * p is float64; comparing it with a
     * float32 array casts it back to float32. */
    float target = (float)((double)total * 0.01 * percentile);
    float cum = 0.0f;
    for (size_t i = 0; i < n; i++) {
        cum += vals[i];
        if (cum >= target)
            return vals[i];
    }
    return vals[n - 1]; /* unreachable: the last running sum is total */
}

static hl_status attr_geometry(const hl_array *attr, int *channels, int *h,
                               int *w, hl_error *err)
{
    char buf[96];
    const hl_shape *s = &attr->shape;
    int64_t c = 1, hh, ww;
    if (s->ndim == 4) {
        if (s->dims[0] != 1)
            return hl_error_set(err, HL_ERR_SHAPE,
                                "attribution %s: batch must be 1 to draw it",
                                hl_shape_format(s, buf, sizeof buf));
        c = s->dims[1], hh = s->dims[2], ww = s->dims[3];
    } else if (s->ndim == 3) {
        c = s->dims[0], hh = s->dims[1], ww = s->dims[2];
    } else if (s->ndim == 2) {
        hh = s->dims[0], ww = s->dims[1];
    } else {
        return hl_error_set(err, HL_ERR_SHAPE,
                            "attribution %s: expected [1,C,H,W], [C,H,W] or [H,W]",
                            hl_shape_format(s, buf, sizeof buf));
    }
    if (c < 1 || hh < 1 || ww < 1 || hh > 65536 || ww > 65536 || c > 65536)
        return hl_error_set(err, HL_ERR_SHAPE,
                            "attribution %s: empty or too large to draw",
                            hl_shape_format(s, buf, sizeof buf));
    *channels = (int)c, *h = (int)hh, *w = (int)ww;
    return HL_OK;
}

hl_status hl_viz_normalize(const hl_array *attr, hl_viz_sign sign,
                           double outlier_perc, hl_viz_norm **out,
                           hl_error *err)
{
    *out = NULL;
    if (!attr || !attr->data)
        return hl_error_set(err, HL_ERR_ARG, "attribution: no array given");
    if ((unsigned)sign >= HL_SIGN_N)
        return hl_error_set(err, HL_ERR_ARG, "sign %d: expected one of %s",
                            (int)sign, hl_viz_sign_names());
    if (!(outlier_perc >= 0.0 && outlier_perc <= 100.0))
        return hl_error_set(err, HL_ERR_ARG,
                            "outlier percentage %g: must be between 0 and 100",
                            outlier_perc);
    int channels = 0, h = 0, w = 0;
    hl_status st = attr_geometry(attr, &channels, &h, &w, err);
    if (st)
        return st;
    size_t plane = (size_t)h * (size_t)w;
    for (size_t i = 0; i < plane * (size_t)channels; i++)
        if (!isfinite(attr->data[i]))
            return hl_error_set(err, HL_ERR_ARG,
                                "attribution: value %zu is %s; cannot draw it",
                                i, isnan(attr->data[i]) ? "NaN" : "infinite");

    hl_viz_norm *n = calloc(1, sizeof *n);
    float *sorted = malloc(plane * sizeof(float));
    if (n) {
        n->raw = malloc(plane * sizeof(float));
        n->values = malloc(plane * sizeof(float));
    }
    if (!n || !sorted || !n->raw || !n->values) {
        free(sorted);
        hl_viz_norm_free(n);
        return hl_error_set(err, HL_ERR_NOMEM,
                            "attribution: out of memory for a %dx%d map", w, h);
    }
    n->width = w, n->height = h, n->sign = sign;
    n->outlier_perc = outlier_perc;

    /* np.sum(attr, axis=channel): float32, channels in order. */
    for (size_t i = 0; i < plane; i++) {
        float s = 0.0f;
        for (int c = 0; c < channels; c++)
            s += attr->data[(size_t)c * plane + i];
        n->raw[i] = s;
    }

    /* Selected values (into values) and their magnitudes (into sorted). */
    int any_nonzero = 0;
    for (size_t i = 0; i < plane; i++) {
        float s = n->raw[i], v;
        switch (sign) {
        case HL_SIGN_POSITIVE: v = s > 0.0f ? s : 0.0f; break;
        case HL_SIGN_NEGATIVE: v = s < 0.0f ? s : 0.0f; break;
        case HL_SIGN_ABSOLUTE_VALUE: v = fabsf(s); break;
        default: v = s; break;
        }
        n->values[i] = v;
        sorted[i] = fabsf(v);
        any_nonzero |= v != 0.0f;
    }
    float t = cumulative_sum_threshold(sorted, plane, 100.0 - outlier_perc);
    free(sorted);
    if (sign == HL_SIGN_NEGATIVE)
        t = -t;
    n->threshold = t;

    if (!any_nonzero) {
        n->is_zero = 1;
        memset(n->values, 0, plane * sizeof(float));
    } else if (t == 0.0f) {
        /* Only with outlier_perc 100: the limit of clip(v / t), t -> 0+. */
        for (size_t i = 0; i < plane; i++) {
            float v = n->values[i];
            n->values[i] = v > 0.0f ? 1.0f : v < 0.0f ? -1.0f : 0.0f;
            if (sign == HL_SIGN_NEGATIVE)
                n->values[i] = -n->values[i];
        }
    } else {
        for (size_t i = 0; i < plane; i++) {
            float q = n->values[i] / t;
            n->values[i] = q > 1.0f ? 1.0f : q < -1.0f ? -1.0f : q;
        }
    }
    *out = n;
    return HL_OK;
}

void hl_viz_norm_free(hl_viz_norm *n)
{
    if (!n)
        return;
    free(n->raw);
    free(n->values);
    free(n);
}

int hl_viz_norm_width(const hl_viz_norm *n) { return n->width; }
int hl_viz_norm_height(const hl_viz_norm *n) { return n->height; }
hl_viz_sign hl_viz_norm_sign(const hl_viz_norm *n) { return n->sign; }
double hl_viz_norm_outlier_perc(const hl_viz_norm *n) { return n->outlier_perc; }
const float *hl_viz_norm_values(const hl_viz_norm *n) { return n->values; }
double hl_viz_norm_threshold(const hl_viz_norm *n) { return n->threshold; }
int hl_viz_norm_is_zero(const hl_viz_norm *n) { return n->is_zero; }

float hl_viz_norm_value(const hl_viz_norm *n, int x, int y)
{
    if (x < 0 || y < 0 || x >= n->width || y >= n->height)
        return 0.0f;
    return n->values[(size_t)y * n->width + x];
}

float hl_viz_norm_raw(const hl_viz_norm *n, int x, int y)
{
    if (x < 0 || y < 0 || x >= n->width || y >= n->height)
        return 0.0f;
    return n->raw[(size_t)y * n->width + x];
}
