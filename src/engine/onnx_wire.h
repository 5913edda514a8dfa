/* The model message without its weights (onnx_wire.c). */
#ifndef HL_ONNX_WIRE_H
#define HL_ONNX_WIRE_H

#include <stddef.h>
#include <stdint.h>

typedef struct hl_onnx_skeleton {
    uint8_t *bytes;        /* the ModelProto to unpack: every initializer's
                              raw_data present but empty */
    size_t size;
    /* per graph initializer, in order: its raw_data in the original
     * bytes (NULL when it has none) */
    const uint8_t **raw;
    size_t *raw_len;
    size_t n_init, cap;
} hl_onnx_skeleton;

/* 0 on success; -1 when the message is not the plain form this reader
 * expects (or out of memory): then unpack the original bytes. */
int hl_onnx_skeleton_build(const uint8_t *data, size_t size,
                           hl_onnx_skeleton *sk);
void hl_onnx_skeleton_free(hl_onnx_skeleton *sk);

#endif
