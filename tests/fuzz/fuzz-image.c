/* libFuzzer harness for the photo decoders (PNG via libpng, JPEG via
 * libjpeg-turbo with EXIF orientation, BMP), decode only: through
 * hl_image_decode with a budget of one megapixel, so a header that
 * declares a large photo is scaled down or refused in milliseconds (the
 * same code paths as the 100-megapixel budget of hl_image_load_buffer,
 * with smaller numbers) instead of costing a 300 MB decode per input. */
#include <stddef.h>
#include <stdint.h>

#include "image.h"

#define FUZZ_MAX_PIXELS (1LL << 20)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    (void)hl_jpeg_exif_orientation(data, size);
    hl_image *img = NULL;
    hl_error err;
    if (hl_image_decode(data, size, "fuzz-image", FUZZ_MAX_PIXELS, &img,
                        &err) == HL_OK)
        hl_image_free(img);
    return 0;
}
