/* Decoded photos: 8-bit RGB, row-major, no alpha (alpha is composited on
 * white at load time). PNG through libpng, JPEG through libjpeg-turbo
 * (EXIF orientation applied), BMP by our own reader (image-bmp.c). */
#ifndef HL_IMAGE_H
#define HL_IMAGE_H

#include <stddef.h>
#include <stdint.h>
#include "../engine/engine.h"

typedef struct hl_image {
    int width, height;
    uint8_t *rgb;          /* width*height*3 bytes */
} hl_image;

hl_image *hl_image_new(int width, int height);   /* black */
void hl_image_free(hl_image *img);

/* Format sniffed from the bytes, not the name. Unknown format, truncated or
 * corrupt file: HL_ERR_PARSE / HL_ERR_UNSUPPORTED naming the file. */
hl_status hl_image_load(const char *path, hl_image **out, hl_error *err);
hl_status hl_image_load_buffer(const void *data, size_t size,
                               const char *display_name, hl_image **out,
                               hl_error *err);

/* Largest photo kept in memory: 100 megapixels (300 MB of RGB). */
#define HL_IMAGE_MAX_PIXELS (100LL * 1000 * 1000)

/* hl_image_load_buffer with a pixel budget (at most HL_IMAGE_MAX_PIXELS,
 * which the loaders above use): a larger JPEG or non-interlaced PNG is
 * scaled down while it is decoded, never decoded whole (a 108-megapixel
 * phone photo arrives at half its width and height, 27 megapixels).
 * The fuzzer decodes with a small budget so each input costs
 * milliseconds. */
hl_status hl_image_decode(const void *data, size_t size,
                          const char *display_name, long long max_pixels,
                          hl_image **out, hl_error *err);

/* Resize with antialiasing (area averaging when shrinking, bilinear when
 * enlarging). NULL on bad sizes or out of memory. */
hl_image *hl_image_resize(const hl_image *img, int width, int height);

/* The window [x0, x0+w) x [y0, y0+h) of the photo (fractional, may reach
 * outside it: edge pixels repeat) resampled to out_w x out_h with the same
 * rule per axis, as floats 0..255, row-major RGB (out_w*out_h*3 floats the
 * caller provides). Used by preprocessing to crop and resize in one step
 * without rounding to 8 bits in between. */
hl_status hl_image_resample_region(const hl_image *img, double x0, double y0,
                                   double w, double h, int out_w, int out_h,
                                   float *out, hl_error *err);

/* EXIF orientation (1..8) of a JPEG in memory; 1 when absent/unreadable. */
int hl_jpeg_exif_orientation(const void *data, size_t size);

#endif
