/* ONNX TensorProto -> hl_tensor: float types to float32, integer types to
 * int64, raw little-endian or typed fields; sizes checked before any
 * allocation. Also reads the test data .pb files (hl_tensor_proto_read). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "onnx_loader.h"

static void *tensor_alloc(hl_arena *arena, size_t bytes)
{
    if (arena)
        return hl_arena_alloc(arena, bytes ? bytes : 1);
    return calloc(1, bytes ? bytes : 1);
}

static float half_to_float(uint16_t h)
{
    int sign = h >> 15, exp = (h >> 10) & 0x1f, mant = h & 0x3ff;
    float v;
    if (exp == 0)
        v = ldexpf((float)mant, -24);
    else if (exp == 31)
        v = mant ? NAN : INFINITY;
    else
        v = ldexpf((float)(mant | 0x400), exp - 25);
    return sign ? -v : v;
}

static float bfloat16_to_float(uint16_t b)
{
    uint32_t u = (uint32_t)b << 16;
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

/* Size in bytes of one element in raw_data; 0 for unsupported types. */
static size_t onnx_elem_size(int dt)
{
    switch (dt) {
    case 1: case 6: case 12: return 4;
    case 2: case 3: case 9: return 1;
    case 4: case 5: case 10: case 16: return 2;
    case 7: case 11: case 13: return 8;
    default: return 0;
    }
}

static int onnx_dtype_is_float(int dt)
{
    return dt == 1 || dt == 10 || dt == 11 || dt == 16;
}

const char *hl_onnx_dtype_name(int dt)
{
    static const char *names[] = {
        "undefined", "float", "uint8", "int8", "uint16", "int16", "int32",
        "int64", "string", "bool", "float16", "double", "uint32", "uint64",
        "complex64", "complex128", "bfloat16"};
    return dt >= 0 && dt <= 16 ? names[dt] : "unknown";
}

/* Element k of a raw little-endian buffer of ONNX type dt, as double
 * (float types) or int64 (integer types). */
static double raw_get_double(const uint8_t *p, int dt, size_t k)
{
    switch (dt) {
    case 1: { float f; memcpy(&f, p + 4 * k, 4); return f; }
    case 11: { double d; memcpy(&d, p + 8 * k, 8); return d; }
    case 10: { uint16_t h; memcpy(&h, p + 2 * k, 2); return half_to_float(h); }
    case 16: { uint16_t h; memcpy(&h, p + 2 * k, 2); return bfloat16_to_float(h); }
    }
    return 0;
}

static int64_t raw_get_int(const uint8_t *p, int dt, size_t k)
{
    switch (dt) {
    case 2: case 9: return p[k];
    case 3: return (int8_t)p[k];
    case 4: { uint16_t v; memcpy(&v, p + 2 * k, 2); return v; }
    case 5: { int16_t v; memcpy(&v, p + 2 * k, 2); return v; }
    case 6: { int32_t v; memcpy(&v, p + 4 * k, 4); return v; }
    case 12: { uint32_t v; memcpy(&v, p + 4 * k, 4); return v; }
    case 7: { int64_t v; memcpy(&v, p + 8 * k, 8); return v; }
    case 13: { uint64_t v; memcpy(&v, p + 8 * k, 8); return (int64_t)v; }
    }
    return 0;
}

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define HL_RAW_IS_NATIVE 1 /* ONNX raw_data is little-endian */
#else
#define HL_RAW_IS_NATIVE 0
#endif

/* TensorProto -> hl_tensor (float for float types, int64 for integers).
 * `what` names the tensor in messages ("initializer 'w'"). */
hl_status hl_onnx_tensor(const Onnx__TensorProto *tp, hl_arena *arena,
                         const char *file, const char *what, hl_tensor *out,
                         hl_error *err)
{
    memset(out, 0, sizeof *out);
    int dt = tp->has_data_type ? tp->data_type : 0;
    if (tp->n_external_data > 0 ||
        (tp->has_data_location &&
         tp->data_location == ONNX__TENSOR_PROTO__DATA_LOCATION__EXTERNAL))
        return hl_error_set(err, HL_ERR_UNSUPPORTED,
                            "%s: %s keeps its data in an external file; save "
                            "the model with all tensors inside it", file, what);
    if (tp->segment)
        return hl_error_set(err, HL_ERR_UNSUPPORTED,
                            "%s: %s is a segmented tensor", file, what);
    size_t esize = onnx_elem_size(dt);
    if (esize == 0)
        return hl_error_set(err, HL_ERR_UNSUPPORTED,
                            "%s: %s has data type %s, not supported", file,
                            what, hl_onnx_dtype_name(dt));
    if (tp->n_dims > HL_MAX_DIMS)
        return hl_error_set(err, HL_ERR_UNSUPPORTED,
                            "%s: %s has %zu dimensions (at most %d)", file,
                            what, tp->n_dims, HL_MAX_DIMS);
    out->shape.ndim = (int)tp->n_dims;
    size_t numel = 1;
    int too_large = 0;
    for (size_t i = 0; i < tp->n_dims; i++) {
        if (tp->dims[i] < 0 || tp->dims[i] > ((int64_t)1 << 40))
            return hl_error_set(err, HL_ERR_PARSE,
                                "%s: %s has an invalid dimension %lld", file,
                                what, (long long)tp->dims[i]);
        out->shape.dims[i] = tp->dims[i];
        /* checked before multiplying: [2^32, 2^32] must not wrap to 0
         * elements and pass as an empty tensor */
        if (numel && (size_t)tp->dims[i] > ((size_t)1 << 34) / numel)
            too_large = 1;
        numel *= (size_t)tp->dims[i];
    }
    if (too_large || numel > ((size_t)1 << 34))
        return hl_error_set(err, HL_ERR_PARSE, "%s: %s is too large", file,
                            what);
    int is_float = onnx_dtype_is_float(dt);
    out->dtype = is_float ? HL_DT_FLOAT : HL_DT_INT64;

    /* where the elements are */
    size_t have;
    if (tp->has_raw_data) {
        have = tp->raw_data.len / esize;
        if (tp->raw_data.len % esize)
            have = (size_t)-1;
    } else if (dt == 1) {
        have = tp->n_float_data;
    } else if (dt == 11) {
        have = tp->n_double_data;
    } else if (dt == 7) {
        have = tp->n_int64_data;
    } else if (dt == 12 || dt == 13) {
        have = tp->n_uint64_data;
    } else {
        have = tp->n_int32_data;
    }
    if (have != numel)
        return hl_error_set(err, HL_ERR_PARSE,
                            "%s: %s has %zu elements for shape of %zu "
                            "(truncated or malformed)", file, what,
                            have == (size_t)-1 ? 0 : have, numel);

    if ((dt == 1 || dt == 7) && tp->has_raw_data && HL_RAW_IS_NATIVE) {
        /* the same bytes as converting element by element, at memcpy speed */
        void *d = tensor_alloc(arena, numel * esize);
        if (!d)
            return hl_error_set(err, HL_ERR_NOMEM, "%s: out of memory", file);
        memcpy(d, tp->raw_data.data, numel * esize);
        if (dt == 1)
            out->data = d;
        else
            out->i64 = d;
        return HL_OK;
    }
    if (is_float) {
        float *d = tensor_alloc(arena, numel * sizeof(float));
        if (!d)
            return hl_error_set(err, HL_ERR_NOMEM, "%s: out of memory", file);
        for (size_t k = 0; k < numel; k++) {
            if (tp->has_raw_data)
                d[k] = (float)raw_get_double(tp->raw_data.data, dt, k);
            else if (dt == 1)
                d[k] = tp->float_data[k];
            else if (dt == 11)
                d[k] = (float)tp->double_data[k];
            else if (dt == 10)
                d[k] = half_to_float((uint16_t)tp->int32_data[k]);
            else
                d[k] = bfloat16_to_float((uint16_t)tp->int32_data[k]);
        }
        out->data = d;
    } else {
        int64_t *d = tensor_alloc(arena, numel * sizeof(int64_t));
        if (!d)
            return hl_error_set(err, HL_ERR_NOMEM, "%s: out of memory", file);
        for (size_t k = 0; k < numel; k++) {
            if (tp->has_raw_data)
                d[k] = raw_get_int(tp->raw_data.data, dt, k);
            else if (dt == 7)
                d[k] = tp->int64_data[k];
            else if (dt == 12 || dt == 13)
                d[k] = (int64_t)tp->uint64_data[k];
            else
                d[k] = tp->int32_data[k];
        }
        out->i64 = d;
    }
    return HL_OK;
}

hl_status hl_tensor_proto_read(const void *data, size_t size,
                               const char *display_name, hl_tensor *out,
                               char **name, hl_error *err)
{
    memset(out, 0, sizeof *out);
    if (name)
        *name = NULL;
    Onnx__TensorProto *tp = onnx__tensor_proto__unpack(NULL, size, data);
    if (!tp)
        return hl_error_set(err, HL_ERR_PARSE,
                            "%s: not a serialized ONNX TensorProto",
                            display_name);
    char what[300];
    snprintf(what, sizeof what, "tensor '%s'", tp->name ? tp->name : "");
    hl_status st = hl_onnx_tensor(tp, NULL, display_name, what, out, err);
    if (st == HL_OK && name && tp->name)
        *name = strdup(tp->name);
    onnx__tensor_proto__free_unpacked(tp, NULL);
    return st;
}

void hl_tensor_free_data(hl_tensor *t)
{
    free(t->data);
    free(t->i64);
    t->data = NULL;
    t->i64 = NULL;
}
