/* libFuzzer harness for the .npy reader (hl_npy_read_buffer). */
#include <stddef.h>
#include <stdint.h>

#include "npy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    hl_array *a = NULL;
    hl_error err;
    if (hl_npy_read_buffer(data, size, "fuzz.npy", &a, &err) == HL_OK)
        hl_array_free(a);
    return 0;
}
