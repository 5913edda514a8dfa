/* Decoded photos: 8-bit RGB, row-major, no alpha (alpha is composited on
 * white at load time). PNG through libpng, JPEG through libjpeg-turbo
 * (EXIF orientation applied). */
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

/* Resize with antialiasing (area averaging when shrinking, bilinear when
 * enlarging). */
hl_image *hl_image_resize(const hl_image *img, int width, int height);

#endif
