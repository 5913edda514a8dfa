/* Photos in memory: allocation, loading (format sniffed from the bytes) and
 * antialiased resampling. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "image-private.h"

hl_image *hl_image_new(int width, int height)
{
    if (width <= 0 || height <= 0 ||
        (long long)width * height > HL_IMAGE_MAX_PIXELS)
        return NULL;
    hl_image *img = calloc(1, sizeof *img);
    if (!img)
        return NULL;
    img->rgb = calloc((size_t)width * (size_t)height, 3);
    if (!img->rgb) {
        free(img);
        return NULL;
    }
    img->width = width;
    img->height = height;
    return img;
}

void hl_image_free(hl_image *img)
{
    if (!img)
        return;
    free(img->rgb);
    free(img);
}

/* What a file we cannot read probably is, for the message. */
static const char *guess_format(const unsigned char *d, size_t n)
{
    if (n >= 6 && (!memcmp(d, "GIF87a", 6) || !memcmp(d, "GIF89a", 6)))
        return "GIF";
    if (n >= 12 && !memcmp(d, "RIFF", 4) && !memcmp(d + 8, "WEBP", 4))
        return "WebP";
    if (n >= 4 && (!memcmp(d, "II*\0", 4) || !memcmp(d, "MM\0*", 4)))
        return "TIFF";
    if (n >= 12 && !memcmp(d + 4, "ftyp", 4))
        return "HEIF/AVIF";
    if (n >= 2 && d[0] == 'P' && d[1] >= '1' && d[1] <= '7')
        return "PNM";
    return NULL;
}

hl_status hl_image_load_buffer(const void *data, size_t size,
                               const char *display_name, hl_image **out,
                               hl_error *err)
{
    return hl_image_decode(data, size, display_name, HL_IMAGE_MAX_PIXELS, out,
                           err);
}

hl_status hl_image_decode(const void *data, size_t size,
                          const char *display_name, long long max_pixels,
                          hl_image **out, hl_error *err)
{
    static const unsigned char png_sig[8] = {0x89, 'P', 'N', 'G',
                                             '\r', '\n', 0x1a, '\n'};
    const unsigned char *d = data;
    const char *name = display_name ? display_name : "(buffer)";
    if (!out)
        return hl_error_set(err, HL_ERR_ARG, "%s: no output image", name);
    *out = NULL;
    if (!d || size == 0)
        return hl_error_set(err, HL_ERR_PARSE, "%s: empty file", name);
    if (max_pixels <= 0 || max_pixels > HL_IMAGE_MAX_PIXELS)
        max_pixels = HL_IMAGE_MAX_PIXELS;
    if (size >= 8 && !memcmp(d, png_sig, 8))
        return hl_png_decode(d, size, name, max_pixels, out, err);
    if (size >= 3 && d[0] == 0xFF && d[1] == 0xD8 && d[2] == 0xFF)
        return hl_jpeg_decode(d, size, name, max_pixels, out, err);
    if (size >= 2 && d[0] == 'B' && d[1] == 'M')
        return hl_bmp_decode(d, size, name, max_pixels, out, err);
    if (size < 8 && size >= 1 &&
        ((d[0] == 0x89 && !memcmp(d, png_sig, size)) ||
         (d[0] == 0xFF && (size < 2 || d[1] == 0xD8))))
        return hl_error_set(err, HL_ERR_PARSE, "%s: truncated image file",
                            name);
    const char *fmt = guess_format(d, size);
    if (fmt)
        return hl_error_set(err, HL_ERR_UNSUPPORTED,
                            "%s: %s images are not supported (PNG, JPEG or "
                            "BMP only)", name, fmt);
    return hl_error_set(err, HL_ERR_PARSE,
                        "%s: not a PNG, JPEG or BMP image", name);
}

/* Before reading a whole photo: its first bytes must be a PNG, JPEG or
 * BMP signature (else the message names what it is), and a PNG's or BMP's
 * declared size must be within the pixel cap and fit the file size. */
static hl_status image_head_check(const char *path, const unsigned char *d,
                                  size_t n, uint64_t file_size, void *user,
                                  hl_error *err)
{
    (void)user;
    int png = n >= 8 && d[0] == 0x89 && d[1] == 'P';
    int jpeg = n >= 3 && d[0] == 0xFF && d[1] == 0xD8;
    int bmp = n >= 2 && d[0] == 'B' && d[1] == 'M';
    if (!png && !jpeg && !bmp) {
        hl_image *img = NULL;
        hl_status st = hl_image_load_buffer(d, n, path, &img, err);
        hl_image_free(img);
        return st != HL_OK ? st : hl_error_set(err, HL_ERR_PARSE,
                                               "%s: not an image", path);
    }
    long long w = 0, h = 0;
    if (png && n >= 24) {
        w = ((long long)d[16] << 24) | (d[17] << 16) | (d[18] << 8) | d[19];
        h = ((long long)d[20] << 24) | (d[21] << 16) | (d[22] << 8) | d[23];
    } else if (bmp && n >= 26 && (d[14] | d[15] << 8) >= 40) {
        w = (int32_t)((uint32_t)d[18] | (uint32_t)d[19] << 8 |
                      (uint32_t)d[20] << 16 | (uint32_t)d[21] << 24);
        h = (int32_t)((uint32_t)d[22] | (uint32_t)d[23] << 8 |
                      (uint32_t)d[24] << 16 | (uint32_t)d[25] << 24);
        h = h < 0 ? -h : h;
        /* at most 4 bytes a pixel, headers and palette aside */
        if (w > 0 && file_size > (uint64_t)(w * h * 4 + (1 << 20)) &&
            w * h <= HL_IMAGE_MAX_PIXELS)
            return hl_error_set(err, HL_ERR_PARSE,
                                "%s: %llu MB is far more than a BMP of "
                                "%lldx%lld pixels can be", path,
                                (unsigned long long)(file_size >> 20), w, h);
    }
    /* a PNG is scaled down while it is decoded; a BMP is not */
    long long cap = png ? HL_IMAGE_MAX_SOURCE_PIXELS : HL_IMAGE_MAX_PIXELS;
    if (w * h > cap)
        return hl_error_set(err, HL_ERR_PARSE,
                            "%s: %s of %lldx%lld pixels is too large (at most "
                            "%g megapixels)", path, png ? "PNG" : "BMP", w,
                            h, cap / 1e6);
    return HL_OK;
}

hl_status hl_image_load(const char *path, hl_image **out, hl_error *err)
{
    if (out)
        *out = NULL;
    unsigned char *buf;
    size_t len;
    hl_status st = hl_file_read(path, "image", HL_MAX_IMAGE_BYTES, 32,
                                image_head_check, NULL, &buf, &len, err);
    if (st != HL_OK)
        return st;
    st = hl_image_load_buffer(buf, len, path, out, err);
    free(buf);
    return st;
}

/* ------------------------------------------------------------ resampling */

/* Weights of one output sample along one axis: taps [first, first+count)
 * of the source (indices clamped to the image) with their weights. */
typedef struct axis_taps {
    int *index;    /* per output: offset into src/weight arrays */
    int *count;
    int *src;
    float *weight;
} axis_taps;

static void axis_taps_free(axis_taps *t)
{
    free(t->index);
    free(t->count);
    free(t->src);
    free(t->weight);
}

static int clampi(long long v, int n)
{
    return v < 0 ? 0 : v >= n ? n - 1 : (int)v;
}

/* Window [start, start+length) of an axis of n pixels to out samples:
 * area averaging (box filter of the output pixel's footprint) when
 * shrinking, bilinear (pixel centres aligned) when enlarging. */
static int axis_taps_make(axis_taps *t, int n, double start, double length,
                          int out)
{
    double scale = length / out;
    int max_taps = scale > 1 ? (int)ceil(scale) + 2 : 2;
    memset(t, 0, sizeof *t);
    t->index = malloc(sizeof(int) * (size_t)out);
    t->count = malloc(sizeof(int) * (size_t)out);
    t->src = malloc(sizeof(int) * (size_t)out * (size_t)max_taps);
    t->weight = malloc(sizeof(float) * (size_t)out * (size_t)max_taps);
    if (!t->index || !t->count || !t->src || !t->weight) {
        axis_taps_free(t);
        return 0;
    }
    int used = 0;
    for (int o = 0; o < out; o++) {
        int k = 0;
        t->index[o] = used;
        if (scale > 1) {
            double a = start + o * scale, b = a + scale;
            for (long long i = (long long)floor(a); i < (long long)ceil(b) &&
                 k < max_taps; i++) {
                double lo = a > (double)i ? a : (double)i;
                double hi = b < (double)(i + 1) ? b : (double)(i + 1);
                if (hi <= lo)
                    continue;
                t->src[used + k] = clampi(i, n);
                t->weight[used + k] = (float)((hi - lo) / scale);
                k++;
            }
        } else {
            double c = start + (o + 0.5) * scale - 0.5;
            double i0 = floor(c), f = c - i0;
            t->src[used] = clampi((long long)i0, n);
            t->weight[used] = (float)(1 - f);
            t->src[used + 1] = clampi((long long)i0 + 1, n);
            t->weight[used + 1] = (float)f;
            k = 2;
        }
        t->count[o] = k;
        used += k;
    }
    return 1;
}

hl_status hl_image_resample_region(const hl_image *img, double x0, double y0,
                                   double w, double h, int out_w, int out_h,
                                   float *out, hl_error *err)
{
    if (!img || !out || out_w <= 0 || out_h <= 0 || !(w > 0) || !(h > 0) ||
        !isfinite(x0) || !isfinite(y0) || !isfinite(w) || !isfinite(h) ||
        (long long)out_w * out_h > HL_IMAGE_MAX_PIXELS)
        return hl_error_set(err, HL_ERR_ARG,
                            "image resample: bad window %gx%g+%g+%g -> %dx%d",
                            w, h, x0, y0, out_w, out_h);
    axis_taps tx, ty;
    if (!axis_taps_make(&tx, img->width, x0, w, out_w))
        return hl_error_set(err, HL_ERR_NOMEM, "image resample: out of memory");
    if (!axis_taps_make(&ty, img->height, y0, h, out_h)) {
        axis_taps_free(&tx);
        return hl_error_set(err, HL_ERR_NOMEM, "image resample: out of memory");
    }
    /* Horizontal pass into one float row per source row that the vertical
     * pass needs (all rows: simple and at most width*height*3 floats). */
    float *rows = malloc(sizeof(float) * (size_t)out_w * 3 *
                         (size_t)img->height);
    if (!rows) {
        axis_taps_free(&tx);
        axis_taps_free(&ty);
        return hl_error_set(err, HL_ERR_NOMEM, "image resample: out of memory");
    }
    char *needed = calloc((size_t)img->height, 1);
    if (!needed) {
        free(rows);
        axis_taps_free(&tx);
        axis_taps_free(&ty);
        return hl_error_set(err, HL_ERR_NOMEM, "image resample: out of memory");
    }
    for (int o = 0; o < out_h; o++)
        for (int k = 0; k < ty.count[o]; k++)
            needed[ty.src[ty.index[o] + k]] = 1;
    for (int y = 0; y < img->height; y++) {
        if (!needed[y])
            continue;
        const uint8_t *src = img->rgb + (size_t)y * img->width * 3;
        float *dst = rows + (size_t)y * out_w * 3;
        for (int o = 0; o < out_w; o++) {
            float r = 0, g = 0, b = 0;
            for (int k = 0; k < tx.count[o]; k++) {
                const uint8_t *p = src + (size_t)tx.src[tx.index[o] + k] * 3;
                float wt = tx.weight[tx.index[o] + k];
                r += wt * p[0];
                g += wt * p[1];
                b += wt * p[2];
            }
            dst[3 * o] = r;
            dst[3 * o + 1] = g;
            dst[3 * o + 2] = b;
        }
    }
    for (int o = 0; o < out_h; o++) {
        float *dst = out + (size_t)o * out_w * 3;
        memset(dst, 0, sizeof(float) * (size_t)out_w * 3);
        for (int k = 0; k < ty.count[o]; k++) {
            const float *src = rows + (size_t)ty.src[ty.index[o] + k] *
                                      out_w * 3;
            float wt = ty.weight[ty.index[o] + k];
            for (int i = 0; i < out_w * 3; i++)
                dst[i] += wt * src[i];
        }
    }
    free(needed);
    free(rows);
    axis_taps_free(&tx);
    axis_taps_free(&ty);
    return HL_OK;
}

hl_image *hl_image_resize(const hl_image *img, int width, int height)
{
    if (!img)
        return NULL;
    hl_image *res = hl_image_new(width, height);
    if (!res)
        return NULL;
    size_t n = (size_t)width * height * 3;
    float *f = malloc(sizeof(float) * n);
    if (!f || hl_image_resample_region(img, 0, 0, img->width, img->height,
                                       width, height, f, NULL) != HL_OK) {
        free(f);
        hl_image_free(res);
        return NULL;
    }
    for (size_t i = 0; i < n; i++) {
        float v = floorf(f[i] + 0.5f);
        res->rgb[i] = (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v);
    }
    free(f);
    return res;
}
