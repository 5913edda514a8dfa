/* Shared between the image decoders (not part of the io API). */
#ifndef HL_IMAGE_PRIVATE_H
#define HL_IMAGE_PRIVATE_H

#include "image.h"

/* Largest photo a file may declare: a JPEG or a non-interlaced PNG up to
 * this size is scaled down while it is decoded (at most seconds, never
 * more than max_pixels in memory); a larger one is refused. */
#define HL_IMAGE_MAX_SOURCE_PIXELS (512LL * 1000 * 1000)

/* Each decoder returns at most max_pixels (<= HL_IMAGE_MAX_PIXELS):
 * JPEG scaled by 1/2, 1/4 or 1/8 inside libjpeg, PNG by an integer box
 * filter over its rows; BMP and interlaced PNG are refused above it. */
hl_status hl_png_decode(const unsigned char *data, size_t size,
                        const char *name, long long max_pixels,
                        hl_image **out, hl_error *err);
hl_status hl_jpeg_decode(const unsigned char *data, size_t size,
                         const char *name, long long max_pixels,
                         hl_image **out, hl_error *err);
hl_status hl_bmp_decode(const unsigned char *data, size_t size,
                        const char *name, long long max_pixels,
                        hl_image **out, hl_error *err);

/* Alpha a (0..255) over white, rounded. */
static inline uint8_t hl_over_white(unsigned c, unsigned a)
{
    return (uint8_t)((c * a + 255u * (255u - a) + 127u) / 255u);
}

#endif
