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
    axis_contrib ax = {0}, ay = {0};
    float *tmp = malloc((size_t)img->height * w * 3 * sizeof(float));
    if (!tmp || !axis_contrib_init(&ax, img->width, w) ||
        !axis_contrib_init(&ay, img->height, h)) {
        /* Out of memory: nearest neighbour needs no buffers. */
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++)
                memcpy(out + ((size_t)y * w + x) * 3,
                       img->rgb + ((size_t)(y * (int64_t)img->height / h) *
                                       img->width +
                                   (size_t)(x * (int64_t)img->width / w)) * 3,
                       3);
        free(tmp);
        axis_contrib_free(&ax);
        axis_contrib_free(&ay);
        return;
    }
    for (int y = 0; y < img->height; y++) {           /* horizontal pass */
        const uint8_t *row = img->rgb + (size_t)y * img->width * 3;
        for (int x = 0; x < w; x++) {
            const float *wt = ax.weights + (size_t)x * ax.stride;
            float acc[3] = {0, 0, 0};
            for (int k = 0; k < ax.count[x]; k++) {
                const uint8_t *p = row + (size_t)(ax.first[x] + k) * 3;
                acc[0] += wt[k] * p[0], acc[1] += wt[k] * p[1];
                acc[2] += wt[k] * p[2];
            }
            memcpy(tmp + ((size_t)y * w + x) * 3, acc, sizeof acc);
        }
    }
    for (int y = 0; y < h; y++) {                     /* vertical pass */
        const float *wt = ay.weights + (size_t)y * ay.stride;
        for (int x = 0; x < w; x++) {
            float acc[3] = {0, 0, 0};
            for (int k = 0; k < ay.count[y]; k++) {
                const float *p = tmp + ((size_t)(ay.first[y] + k) * w + x) * 3;
                acc[0] += wt[k] * p[0], acc[1] += wt[k] * p[1];
                acc[2] += wt[k] * p[2];
            }
            for (int c = 0; c < 3; c++) {
                float v = acc[c] + 0.5f;
                out[((size_t)y * w + x) * 3 + c] =
                    (uint8_t)(v < 0.0f ? 0.0f : v > 255.0f ? 255.0f : v);
            }
        }
    }
    free(tmp);
    axis_contrib_free(&ax);
    axis_contrib_free(&ay);
}
