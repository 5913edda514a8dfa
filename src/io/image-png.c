/* PNG decoding through libpng: every colour type and bit depth becomes 8-bit
 * RGB; alpha (including tRNS) is composited on white; a photo over the
 * pixel budget is averaged down while its rows are read. libpng reports errors
 * by calling our error function, which records the message and longjmps
 * back here; warnings are ignored. Nothing is printed. */
#include <png.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "image-private.h"

typedef struct png_source {
    const unsigned char *data;
    size_t size, pos;
    char message[200];      /* libpng's error text */
    int truncated;
    /* Owned buffers, freed after a longjmp too. */
    unsigned char *pixels;
    png_bytep *rows;
    hl_image *img;
} png_source;

static void png_read_mem(png_structp png, png_bytep out, size_t n)
{
    png_source *src = png_get_io_ptr(png);
    if (n > src->size - src->pos) {
        src->truncated = 1;
        png_error(png, "unexpected end of file");
    }
    memcpy(out, src->data + src->pos, n);
    src->pos += n;
}

static void png_on_error(png_structp png, png_const_charp msg)
{
    png_source *src = png_get_error_ptr(png);
    snprintf(src->message, sizeof src->message, "%s", msg ? msg : "error");
    png_longjmp(png, 1);
}

static void png_on_warning(png_structp png, png_const_charp msg)
{
    (void)png;
    (void)msg;
}

/* A non-interlaced PNG over the budget, read row by row: every f x f
 * block of pixels (alpha composited on white first) becomes their mean.
 * Memory: one file row and one row of sums. */
static hl_status read_scaled(png_structp png, png_source *src, int width,
                             int height, int channels, size_t rowbytes, int f)
{
    int ow = (width + f - 1) / f, oh = (height + f - 1) / f;
    size_t sums_at = (rowbytes + 7) / 8 * 8;   /* aligned for the sums */
    src->pixels = malloc(sums_at + (size_t)ow * 3 * sizeof(uint32_t));
    src->img = hl_image_new(ow, oh);
    if (!src->pixels || !src->img)
        return HL_ERR_NOMEM;
    uint32_t *sum = (uint32_t *)(void *)(src->pixels + sums_at);
    for (int oy = 0; oy < oh; oy++) {
        memset(sum, 0, (size_t)ow * 3 * sizeof *sum);
        int rows = height - oy * f < f ? height - oy * f : f;
        for (int r = 0; r < rows; r++) {
            png_read_row(png, src->pixels, NULL);
            const unsigned char *p = src->pixels;
            for (int x = 0; x < width; x++, p += channels) {
                uint32_t *o = sum + (size_t)(x / f) * 3;
                for (int c = 0; c < 3; c++)
                    o[c] += channels == 4 ? hl_over_white(p[c], p[3]) : p[c];
            }
        }
        uint8_t *dst = src->img->rgb + (size_t)oy * ow * 3;
        for (int ox = 0; ox < ow; ox++) {
            int cols = width - ox * f < f ? width - ox * f : f;
            uint32_t n = (uint32_t)(cols * rows);
            for (int c = 0; c < 3; c++)
                dst[ox * 3 + c] = (uint8_t)((sum[ox * 3 + c] + n / 2) / n);
        }
    }
    return HL_OK;
}

/* Every chunk up to IEND must fit in the file: libpng allocates a text
 * chunk's declared length before reading it (a 136-byte file declaring a
 * 1.6 GB tEXt chunk cost 1.6 GB and seconds; found by fuzz-image in CI).
 * libpng would refuse such a file as truncated anyway, later. */
static int chunks_fit(const unsigned char *d, size_t size)
{
    size_t p = 8;
    while (p + 12 <= size) {
        size_t len = (size_t)d[p] << 24 | (size_t)d[p + 1] << 16 |
                     (size_t)d[p + 2] << 8 | d[p + 3];
        if (len > size - p - 12)
            return 0;
        if (!memcmp(d + p + 4, "IEND", 4))
            return 1;
        p += 12 + len;
    }
    return 0;
}

hl_status hl_png_decode(const unsigned char *data, size_t size,
                        const char *name, long long max_pixels,
                        hl_image **out, hl_error *err)
{
    if (!chunks_fit(data, size))
        return hl_error_set(err, HL_ERR_PARSE, "%s: truncated PNG file",
                            name);
    png_source src;
    memset(&src, 0, sizeof src);
    src.data = data;
    src.size = size;
    png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &src,
                                             png_on_error, png_on_warning);
    if (!png)
        return hl_error_set(err, HL_ERR_NOMEM, "%s: out of memory", name);
    png_infop info = png_create_info_struct(png);
    if (!info) {
        png_destroy_read_struct(&png, NULL, NULL);
        return hl_error_set(err, HL_ERR_NOMEM, "%s: out of memory", name);
    }
    if (setjmp(png_jmpbuf(png))) {
        png_destroy_read_struct(&png, &info, NULL);
        free(src.rows);
        free(src.pixels);
        hl_image_free(src.img);
        if (src.truncated)
            return hl_error_set(err, HL_ERR_PARSE, "%s: truncated PNG file",
                                name);
        return hl_error_set(err, HL_ERR_PARSE, "%s: corrupt PNG file (%s)",
                            name, src.message);
    }
    png_set_read_fn(png, &src, png_read_mem);
    png_set_user_limits(png, 1 << 20, 1 << 20);
    png_read_info(png, info);

    png_uint_32 width = png_get_image_width(png, info);
    png_uint_32 height = png_get_image_height(png, info);
    int color = png_get_color_type(png, info);
    int depth = png_get_bit_depth(png, info);
    int interlaced = png_get_interlace_type(png, info) != PNG_INTERLACE_NONE;
    long long pixels = (long long)width * height;
    if (pixels > HL_IMAGE_MAX_SOURCE_PIXELS ||
        (interlaced && pixels > max_pixels)) {
        png_destroy_read_struct(&png, &info, NULL);
        return hl_error_set(err, HL_ERR_UNSUPPORTED,
                            "%s: %sPNG of %ux%u pixels is too large (at most "
                            "%g megapixels)", name,
                            interlaced ? "interlaced " : "", (unsigned)width,
                            (unsigned)height,
                            (double)(interlaced ? max_pixels
                                                : HL_IMAGE_MAX_SOURCE_PIXELS) /
                                1e6);
    }
    /* over the budget: every f x f block becomes one pixel */
    int f = 1;
    while (((long long)width + f - 1) / f * (((long long)height + f - 1) / f) >
           max_pixels)
        f++;
    /* Palette -> RGB, grey < 8 bits -> 8, tRNS -> alpha channel. */
    png_set_expand(png);
    if (depth == 16)
        png_set_scale_16(png);   /* rounds, unlike png_set_strip_16 */
    if (color == PNG_COLOR_TYPE_GRAY || color == PNG_COLOR_TYPE_GRAY_ALPHA)
        png_set_gray_to_rgb(png);
    png_set_interlace_handling(png);
    png_read_update_info(png, info);

    int channels = png_get_channels(png, info);
    size_t rowbytes = png_get_rowbytes(png, info);
    if ((channels != 3 && channels != 4) ||
        rowbytes != (size_t)width * (size_t)channels) {
        png_destroy_read_struct(&png, &info, NULL);
        return hl_error_set(err, HL_ERR_UNSUPPORTED,
                            "%s: unsupported PNG layout (%d channels)",
                            name, channels);
    }
    /* Deflate expands at most ~1032:1; a header promising far more pixels
     * than the file can hold is corrupt (and would make us allocate for
     * nothing). */
    if ((double)rowbytes * height > 1100.0 * (double)size + 4096.0) {
        png_destroy_read_struct(&png, &info, NULL);
        return hl_error_set(err, HL_ERR_PARSE,
                            "%s: corrupt PNG file (%ux%u pixels cannot fit in"
                            " %zu bytes)", name, (unsigned)width,
                            (unsigned)height, size);
    }
    if (f > 1) {
        hl_status st = read_scaled(png, &src, (int)width, (int)height,
                                   channels, rowbytes, f);
        if (st) {
            png_destroy_read_struct(&png, &info, NULL);
            free(src.pixels);
            hl_image_free(src.img);
            return hl_error_set(err, st, "%s: out of memory", name);
        }
        png_read_end(png, NULL);
        png_destroy_read_struct(&png, &info, NULL);
        free(src.pixels);
        *out = src.img;
        return HL_OK;
    }
    src.pixels = malloc(rowbytes * height);
    src.rows = malloc(sizeof(png_bytep) * height);
    src.img = hl_image_new((int)width, (int)height);
    if (!src.pixels || !src.rows || !src.img) {
        png_destroy_read_struct(&png, &info, NULL);
        free(src.rows);
        free(src.pixels);
        hl_image_free(src.img);
        return hl_error_set(err, HL_ERR_NOMEM, "%s: out of memory", name);
    }
    for (png_uint_32 y = 0; y < height; y++)
        src.rows[y] = src.pixels + y * rowbytes;
    png_read_image(png, src.rows);
    png_read_end(png, NULL);
    png_destroy_read_struct(&png, &info, NULL);

    uint8_t *dst = src.img->rgb;
    size_t n = (size_t)width * height;
    if (channels == 3) {
        memcpy(dst, src.pixels, n * 3);
    } else {
        for (size_t i = 0; i < n; i++) {
            const unsigned char *p = src.pixels + 4 * i;
            dst[3 * i] = hl_over_white(p[0], p[3]);
            dst[3 * i + 1] = hl_over_white(p[1], p[3]);
            dst[3 * i + 2] = hl_over_white(p[2], p[3]);
        }
    }
    free(src.rows);
    free(src.pixels);
    *out = src.img;
    return HL_OK;
}
