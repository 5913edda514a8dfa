/* libFuzzer harness for the photo decoders (hl_image_load_buffer: PNG via
 * libpng, JPEG via libjpeg-turbo with EXIF orientation). */
#include <stddef.h>
#include <stdint.h>

#include "image.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    (void)hl_jpeg_exif_orientation(data, size);
    hl_image *img = NULL;
    hl_error err;
    if (hl_image_load_buffer(data, size, "fuzz-image", &img, &err) == HL_OK)
        hl_image_free(img);
    return 0;
}
