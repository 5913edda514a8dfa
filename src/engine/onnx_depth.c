/* How deeply an ONNX file nests its messages, measured on the protobuf
 * wire format before protobuf-c unpacks it (issue 16: protobuf-c's unpack
 * recurses once per nested message, and a 3.3 MB file of 100,000 nested If
 * subgraphs overflowed the stack).
 *
 * The walk is iterative with a fixed-size stack: it follows only the fields
 * through which ONNX messages can contain themselves (graphs in attributes,
 * training info and functions; types in sequences, maps and optionals) and
 * skips every other field by its length, so it reads each byte at most once
 * and never recurses. Field numbers are those of onnx.proto. */
#include <stdint.h>

#include "onnx_loader.h"

/* Message levels allowed; a subgraph costs three (graph, node, attribute).
 * protobuf-c recurses once per level, so this bounds its stack use. */
#define HL_ONNX_MAX_NESTING 96

enum msg_kind {
    K_NONE, K_MODEL, K_GRAPH, K_NODE, K_ATTR, K_VINFO, K_TYPE,
    K_TYPE_ELEM,  /* TypeProto.Sequence / .Optional: elem_type = 1 */
    K_TYPE_MAP,   /* TypeProto.Map: value_type = 2 */
    K_FUNC, K_TRAIN
};

/* The kind of the message in field `field` of a `parent`, or K_NONE when
 * that field cannot lead back to a recursive message. */
static enum msg_kind child_kind(enum msg_kind parent, uint64_t field)
{
    switch (parent) {
    case K_MODEL:
        return field == 7 ? K_GRAPH : field == 20 ? K_TRAIN
               : field == 25 ? K_FUNC : K_NONE;
    case K_GRAPH:
        return field == 1 ? K_NODE
               : (field >= 11 && field <= 13) ? K_VINFO : K_NONE;
    case K_NODE:
        return field == 5 ? K_ATTR : K_NONE;
    case K_ATTR:
        return (field == 6 || field == 11) ? K_GRAPH
               : (field == 14 || field == 15) ? K_TYPE : K_NONE;
    case K_VINFO:
        return field == 2 ? K_TYPE : K_NONE;
    case K_TYPE:
        return (field == 4 || field == 9) ? K_TYPE_ELEM
               : field == 5 ? K_TYPE_MAP : K_NONE;
    case K_TYPE_ELEM:
        return field == 1 ? K_TYPE : K_NONE;
    case K_TYPE_MAP:
        return field == 2 ? K_TYPE : K_NONE;
    case K_FUNC:
        return field == 7 ? K_NODE : K_NONE;
    case K_TRAIN:
        return (field == 1 || field == 2) ? K_GRAPH : K_NONE;
    default:
        return K_NONE;
    }
}

/* Reads a varint at *pos (< end); 0 when malformed or past `end`. */
static int read_varint(const uint8_t *d, size_t *pos, size_t end,
                       uint64_t *v)
{
    *v = 0;
    for (int shift = 0; shift < 64 && *pos < end; shift += 7) {
        uint8_t b = d[(*pos)++];
        *v |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80))
            return 1;
    }
    return 0;
}

hl_status hl_onnx_check_nesting(const void *data, size_t size,
                                const char *file, hl_error *err)
{
    const uint8_t *d = data;
    size_t end_at[HL_ONNX_MAX_NESTING + 1];
    enum msg_kind kind_at[HL_ONNX_MAX_NESTING + 1];
    int top = 0;
    size_t pos = 0;
    end_at[0] = size;
    kind_at[0] = K_MODEL;
    while (top >= 0) {
        if (pos == end_at[top]) {
            top--;
            continue;
        }
        uint64_t tag, len;
        if (!read_varint(d, &pos, end_at[top], &tag))
            return HL_OK;  /* malformed: protobuf-c refuses it unread */
        uint64_t field = tag >> 3;
        size_t skip;
        switch (tag & 7) {
        case 0:
            if (!read_varint(d, &pos, end_at[top], &len))
                return HL_OK;
            continue;
        case 1:
            skip = 8;
            break;
        case 5:
            skip = 4;
            break;
        case 2:
            if (!read_varint(d, &pos, end_at[top], &len) ||
                len > end_at[top] - pos)
                return HL_OK;
            skip = (size_t)len;
            enum msg_kind k = child_kind(kind_at[top], field);
            if (k != K_NONE) {
                if (top == HL_ONNX_MAX_NESTING)
                    return hl_error_set(
                        err, HL_ERR_UNSUPPORTED,
                        "%s: subgraphs or types nested more than %d "
                        "message levels deep; refused", file,
                        HL_ONNX_MAX_NESTING);
                top++;
                end_at[top] = pos + skip;
                kind_at[top] = k;
                continue;
            }
            break;
        default:
            return HL_OK;  /* groups: protobuf-c refuses them */
        }
        if (skip > end_at[top] - pos)
            return HL_OK;
        pos += skip;
    }
    return HL_OK;
}
