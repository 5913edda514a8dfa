/* NumPy .npy files (format 1.0/2.0/3.0, C order, little endian). */
#ifndef HL_NPY_H
#define HL_NPY_H

#include "../engine/engine.h"

/* float32/float64/int32/int64/uint8/bool arrays, converted to float. */
hl_status hl_npy_read(const char *path, hl_array **out, hl_error *err);
hl_status hl_npy_read_buffer(const void *data, size_t size,
                             const char *display_name, hl_array **out,
                             hl_error *err);
/* Integer arrays (int32/int64/uint8) as int64, for feature masks. */
hl_status hl_npy_read_int64(const char *path, int64_t **data, hl_shape *shape,
                            hl_error *err);
/* float32 C-order; written to a temporary file then renamed, so a failed
 * write never destroys an existing file. */
hl_status hl_npy_write(const char *path, const hl_array *a, hl_error *err);

#endif
