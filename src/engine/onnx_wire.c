/* The model message without its weights, read from the protobuf wire
 * format: ModelProto.graph (7) -> GraphProto.initializer (5) ->
 * TensorProto.raw_data (9).
 *
 * protobuf-c copies every bytes field while unpacking, and the loader then
 * copies the weights into the model arena: with the file's own bytes that
 * made three copies of ResNet-18's 45 MB alive at once. The skeleton is the
 * same message with each initializer's raw_data left empty (a few KB);
 * where each payload lies in the original bytes is kept beside it, so the
 * loader copies every weight once, straight from the file into the arena.
 * Anything this reader does not expect (a second graph field, groups, a
 * malformed field) gives up, and the whole message is unpacked as before,
 * so protobuf-c stays the one judge of what is malformed. */
#include <stdlib.h>
#include <string.h>

#include "onnx_wire.h"

#define FIELD_MODEL_GRAPH 7
#define FIELD_GRAPH_INITIALIZER 5
#define FIELD_TENSOR_RAW_DATA 9
#define WIRE_VARINT 0
#define WIRE_FIXED64 1
#define WIRE_LEN 2
#define WIRE_FIXED32 5

static int read_varint(const uint8_t **p, const uint8_t *end, uint64_t *v)
{
    *v = 0;
    for (int shift = 0; shift < 64 && *p < end; shift += 7) {
        uint8_t b = *(*p)++;
        *v |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80))
            return 0;
    }
    return -1;
}

static size_t varint_size(uint64_t v)
{
    size_t n = 1;
    while (v >= 0x80) {
        v >>= 7;
        n++;
    }
    return n;
}

static uint8_t *write_varint(uint8_t *o, uint64_t v)
{
    while (v >= 0x80) {
        *o++ = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    *o++ = (uint8_t)v;
    return o;
}

/* One field at *p: its number, wire type, where its value starts (after the
 * length prefix for WIRE_LEN) and its length; *p moves past it. */
typedef struct field {
    uint64_t number;
    int wire;
    const uint8_t *start, *after_tag, *value; /* the tag; the value */
    size_t len;                   /* of the value */
} field;

static int next_field(const uint8_t **p, const uint8_t *end, field *f)
{
    uint64_t tag, n;
    f->start = *p;
    if (read_varint(p, end, &tag))
        return -1;
    f->number = tag >> 3;
    f->wire = (int)(tag & 7);
    f->after_tag = f->value = *p;
    switch (f->wire) {
    case WIRE_VARINT:
        if (read_varint(p, end, &n))
            return -1;
        break;
    case WIRE_FIXED64:
    case WIRE_FIXED32: {
        size_t k = f->wire == WIRE_FIXED64 ? 8 : 4;
        if ((size_t)(end - *p) < k)
            return -1;
        *p += k;
        break;
    }
    case WIRE_LEN:
        if (read_varint(p, end, &n) || n > (uint64_t)(end - *p))
            return -1;
        f->value = *p;
        *p += n;
        break;
    default:
        return -1; /* groups and unknown wire types */
    }
    f->len = (size_t)(*p - f->value);
    return 0;
}

/* Length of a TensorProto with its raw_data payloads removed. */
static int tensor_size(const uint8_t *p, size_t len, size_t *out)
{
    const uint8_t *end = p + len;
    size_t size = 0;
    field f;
    while (p < end) {
        if (next_field(&p, end, &f))
            return -1;
        if (f.number == FIELD_TENSOR_RAW_DATA && f.wire == WIRE_LEN)
            size += (size_t)(f.after_tag - f.start) + 1;
        else
            size += (size_t)(p - f.start);
    }
    *out = size;
    return 0;
}

static int graph_size(const uint8_t *p, size_t len, size_t *out)
{
    const uint8_t *end = p + len;
    size_t size = 0;
    field f;
    while (p < end) {
        if (next_field(&p, end, &f))
            return -1;
        if (f.number == FIELD_GRAPH_INITIALIZER && f.wire == WIRE_LEN) {
            size_t t;
            if (tensor_size(f.value, f.len, &t))
                return -1;
            size += (size_t)(f.after_tag - f.start) + varint_size(t) + t;
        } else {
            size += (size_t)(p - f.start);
        }
    }
    *out = size;
    return 0;
}

/* Copies the tag of f with a new length `len` for its value. */
static uint8_t *write_prefix(uint8_t *o, const field *f, uint64_t len)
{
    size_t tag_len = (size_t)(f->after_tag - f->start);
    memcpy(o, f->start, tag_len);
    return write_varint(o + tag_len, len);
}

static void set_raw(hl_onnx_skeleton *sk, const uint8_t *raw, size_t len)
{
    sk->raw[sk->n_init - 1] = raw;
    sk->raw_len[sk->n_init - 1] = len;
}

static int new_initializer(hl_onnx_skeleton *sk)
{
    if (sk->n_init == sk->cap) {
        size_t cap = sk->cap ? 2 * sk->cap : 64;
        const uint8_t **r = realloc(sk->raw, cap * sizeof *r);
        if (!r)
            return -1;
        sk->raw = r;
        size_t *l = realloc(sk->raw_len, cap * sizeof *l);
        if (!l)
            return -1;
        sk->raw_len = l;
        sk->cap = cap;
    }
    sk->raw[sk->n_init] = NULL;
    sk->raw_len[sk->n_init] = 0;
    sk->n_init++;
    return 0;
}

static uint8_t *write_tensor(hl_onnx_skeleton *sk, uint8_t *o,
                             const uint8_t *p, size_t len)
{
    const uint8_t *end = p + len;
    field f;
    while (o && p < end) {
        if (next_field(&p, end, &f))
            return NULL; /* not after tensor_size, but never assumed */
        if (f.number == FIELD_TENSOR_RAW_DATA && f.wire == WIRE_LEN) {
            o = write_prefix(o, &f, 0);
            set_raw(sk, f.value, f.len); /* the last one wins, as in unpack */
        } else {
            memcpy(o, f.start, (size_t)(p - f.start));
            o += p - f.start;
        }
    }
    return o;
}

static uint8_t *write_graph(hl_onnx_skeleton *sk, uint8_t *o,
                            const uint8_t *p, size_t len)
{
    const uint8_t *end = p + len;
    field f;
    while (o && p < end) {
        if (next_field(&p, end, &f))
            return NULL;
        if (f.number == FIELD_GRAPH_INITIALIZER && f.wire == WIRE_LEN) {
            size_t t = 0;
            if (tensor_size(f.value, f.len, &t) || new_initializer(sk))
                return NULL;
            o = write_prefix(o, &f, t);
            o = write_tensor(sk, o, f.value, f.len);
        } else {
            memcpy(o, f.start, (size_t)(p - f.start));
            o += p - f.start;
        }
    }
    return o;
}

int hl_onnx_skeleton_build(const uint8_t *data, size_t size,
                           hl_onnx_skeleton *sk)
{
    memset(sk, 0, sizeof *sk);
    const uint8_t *p = data, *end = data + size;
    size_t out_size = 0, n_graph = 0;
    field f, graph = {0};
    while (p < end) {
        if (next_field(&p, end, &f))
            return -1;
        if (f.number == FIELD_MODEL_GRAPH) {
            size_t g;
            if (f.wire != WIRE_LEN || n_graph++ ||
                graph_size(f.value, f.len, &g))
                return -1; /* merged graphs: leave them to protobuf-c */
            graph = f;
            out_size += (size_t)(f.after_tag - f.start) + varint_size(g) + g;
        } else {
            out_size += (size_t)(p - f.start);
        }
    }
    if (n_graph != 1)
        return -1;
    sk->bytes = malloc(out_size ? out_size : 1);
    if (!sk->bytes)
        return -1;
    uint8_t *o = sk->bytes;
    p = data;
    while (o && p < end) {
        if (next_field(&p, end, &f)) {
            o = NULL;
            break;
        }
        if (f.start == graph.start) {
            size_t g = 0;
            if (graph_size(f.value, f.len, &g)) {
                o = NULL;
                break;
            }
            o = write_prefix(o, &f, g);
            o = write_graph(sk, o, f.value, f.len);
        } else {
            memcpy(o, f.start, (size_t)(p - f.start));
            o += p - f.start;
        }
    }
    if (!o || (size_t)(o - sk->bytes) != out_size) {
        hl_onnx_skeleton_free(sk);
        return -1;
    }
    sk->size = out_size;
    return 0;
}

void hl_onnx_skeleton_free(hl_onnx_skeleton *sk)
{
    free(sk->bytes);
    free(sk->raw);
    free(sk->raw_len);
    memset(sk, 0, sizeof *sk);
}
