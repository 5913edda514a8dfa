/* Shared between the image decoders (not part of the io API). */
#ifndef HL_IMAGE_PRIVATE_H
#define HL_IMAGE_PRIVATE_H

#include "image.h"

/* Largest photo we decode: 100 megapixels (300 MB of RGB). */
#define HL_IMAGE_MAX_PIXELS (100LL * 1000 * 1000)

hl_status hl_png_decode(const unsigned char *data, size_t size,
                        const char *name, hl_image **out, hl_error *err);
hl_status hl_jpeg_decode(const unsigned char *data, size_t size,
                         const char *name, hl_image **out, hl_error *err);
hl_status hl_bmp_decode(const unsigned char *data, size_t size,
                        const char *name, hl_image **out, hl_error *err);

/* Alpha a (0..255) over white, rounded. */
static inline uint8_t hl_over_white(unsigned c, unsigned a)
{
    return (uint8_t)((c * a + 255u * (255u - a) + 127u) / 255u);
}

#endif
