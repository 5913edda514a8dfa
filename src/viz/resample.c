/* Photo resampling for renders at another size than the photo's:
 * separable, area average when shrinking, bilinear when enlarging. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "viz-private.h"

/* For each output index: `count` source indices from `first`, with weights
 * (summing to 1) at weights[i * stride ...]. */
typedef struct axis_contrib {
    int *first, *count;
    float *weights;
    int stride;
} axis_contrib;

static int axis_contrib_init(axis_contrib *a, int src, int dst)
{
    double scale = (double)src / dst;
    a->stride = scale > 1.0 ? (int)ceil(scale) + 2 : 2;
    a->first = malloc((size_t)dst * sizeof(int));
    a->count = malloc((size_t)dst * sizeof(int));
    a->weights = calloc((size_t)dst * (size_t)a->stride, sizeof(float));
    if (!a->first || !a->count || !a->weights)
        return 0;
    for (int o = 0; o < dst; o++) {
        float *w = a->weights + (size_t)o * a->stride;
        if (scale > 1.0) {
            /* Box [o*scale, (o+1)*scale) with partial end pixels. */
            double lo = o * scale, hi = lo + scale;
            int i0 = (int)floor(lo), i1 = (int)ceil(hi);
            if (i1 > src)
                i1 = src;
            a->first[o] = i0;
            a->count[o] = i1 - i0;
            for (int i = i0; i < i1; i++) {
                double cover = fmin(hi, i + 1.0) - fmax(lo, (double)i);
                w[i - i0] = (float)(cover / scale);
            }
        } else {
            double s = (o + 0.5) * scale - 0.5;
            if (s < 0.0)
                s = 0.0;
            int i0 = (int)floor(s);
            if (i0 >= src - 1) {
                a->first[o] = src - 1, a->count[o] = 1, w[0] = 1.0f;
            } else {
                float f = (float)(s - i0);
                a->first[o] = i0, a->count[o] = 2;
                w[0] = 1.0f - f, w[1] = f;
            }
        }
    }
    return 1;
}

static void axis_contrib_free(axis_contrib *a)
{
    free(a->first);
    free(a->count);
    free(a->weights);
}

void hl_viz_resample_rgb(const hl_image *img, int w, int h, uint8_t *out)
{
    if (img->width == w && img->height == h) {
        memcpy(out, img->rgb, (size_t)w * h * 3);
        return;
    }
    /* Vertical pass first into one source-width row of floats, then the
     * horizontal pass from it: no image-sized temporary (touching a fresh
     * image-sized buffer costs more than the arithmetic). */
    axis_contrib ax = {0}, ay = {0};
    size_t row_len = (size_t)img->width * 3;
    float *row = malloc(row_len * sizeof(float));
    if (!row || !axis_contrib_init(&ax, img->width, w) ||
        !axis_contrib_init(&ay, img->height, h)) {
        /* Out of memory: nearest neighbour needs no buffers. */
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++)
                memcpy(out + ((size_t)y * w + x) * 3,
                       img->rgb + ((size_t)(y * (int64_t)img->height / h) *
                                       img->width +
                                   (size_t)(x * (int64_t)img->width / w)) * 3,
                       3);
        free(row);
        axis_contrib_free(&ax);
        axis_contrib_free(&ay);
        return;
    }
    for (int y = 0; y < h; y++) {
        const float *wy = ay.weights + (size_t)y * ay.stride;
        const uint8_t *src = img->rgb + (size_t)ay.first[y] * row_len;
        for (size_t i = 0; i < row_len; i++)
            row[i] = wy[0] * src[i];
        for (int k = 1; k < ay.count[y]; k++) {
            src += row_len;
            float wk = wy[k];
            for (size_t i = 0; i < row_len; i++)
                row[i] += wk * src[i];
        }
        uint8_t *dst = out + (size_t)y * w * 3;
        for (int x = 0; x < w; x++) {
            const float *wx = ax.weights + (size_t)x * ax.stride;
            const float *p = row + (size_t)ax.first[x] * 3;
            float acc0 = 0, acc1 = 0, acc2 = 0;
            for (int k = 0; k < ax.count[x]; k++, p += 3) {
                acc0 += wx[k] * p[0];
                acc1 += wx[k] * p[1];
                acc2 += wx[k] * p[2];
            }
            float acc[3] = {acc0 + 0.5f, acc1 + 0.5f, acc2 + 0.5f};
            for (int c = 0; c < 3; c++)
                dst[x * 3 + c] = (uint8_t)(acc[c] < 0.0f ? 0.0f
                                           : acc[c] > 255.0f ? 255.0f : acc[c]);
        }
    }
    free(row);
    axis_contrib_free(&ax);
    axis_contrib_free(&ay);
}
