/* Hostile ONNX models (issue 16), generated here at test time and each
 * refused with one line naming the file, or loaded: never a crash.
 *
 * Nesting is written straight in the protobuf wire format (protobuf-c's
 * own packer would recurse as deeply as its unpacker): the length of every
 * level is computed from the inside out, then the bytes are written from
 * the outside in, so a field's length always precedes its contents. No
 * timing thresholds: each case must simply finish within meson's timeout. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "graph.h"
#include "tap.h"

typedef struct {
    unsigned char *b;
    size_t n, cap;
    int failed;
} wbuf;

static void put(wbuf *w, const void *p, size_t n)
{
    if (w->failed)
        return;
    if (w->n + n > w->cap) {
        size_t cap = (w->cap + n) * 2;
        unsigned char *b = realloc(w->b, cap);
        if (!b) {
            w->failed = 1;
            return;
        }
        w->b = b;
        w->cap = cap;
    }
    memcpy(w->b + w->n, p, n);
    w->n += n;
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

static void put_varint(wbuf *w, uint64_t v)
{
    unsigned char b[10];
    size_t n = 0;
    while (v >= 0x80) {
        b[n++] = (unsigned char)(v | 0x80);
        v >>= 7;
    }
    b[n++] = (unsigned char)v;
    put(w, b, n);
}

/* Bytes taken by a length-delimited field of `len` content bytes. */
static size_t field_size(unsigned field, size_t len)
{
    return varint_size(field << 3 | 2) + varint_size(len) + len;
}

/* The tag and length of a length-delimited field. */
static void put_head(wbuf *w, unsigned field, size_t len)
{
    put_varint(w, field << 3 | 2);
    put_varint(w, len);
}

static void put_string(wbuf *w, unsigned field, const char *s)
{
    put_head(w, field, strlen(s));
    put(w, s, strlen(s));
}

/* ModelProto fields before its graph: ir_version 8, opset 13. */
static void put_model_head(wbuf *w, size_t graph_len)
{
    put_varint(w, 1 << 3);
    put_varint(w, 8);
    put_head(w, 8, 2);
    put_varint(w, 2 << 3);
    put_varint(w, 13);
    put_head(w, 7, graph_len);
}

/* depth If nodes, each holding the next graph in its then_branch. */
static wbuf nested_if(int depth)
{
    wbuf w = {0};
    size_t *glen = calloc((size_t)depth + 1, sizeof *glen);
    size_t *alen = calloc((size_t)depth + 1, sizeof *alen);
    size_t *nlen = calloc((size_t)depth + 1, sizeof *nlen);
    if (!glen || !alen || !nlen) {
        w.failed = 1;
        goto done;
    }
    for (int k = 1; k <= depth; k++) {
        /* attribute: name, type GRAPH (field 20 = 5), g (field 6) */
        alen[k] = field_size(1, 11) + varint_size(20 << 3) + 1 +
                  field_size(6, glen[k - 1]);
        nlen[k] = field_size(4, 2) + field_size(5, alen[k]);
        glen[k] = field_size(1, nlen[k]);
    }
    put_model_head(&w, glen[depth]);
    for (int k = depth; k >= 1; k--) {
        put_head(&w, 1, nlen[k]);
        put_string(&w, 4, "If");
        put_head(&w, 5, alen[k]);
        put_string(&w, 1, "then_branch");
        put_varint(&w, 20 << 3);
        put_varint(&w, 5);
        put_head(&w, 6, glen[k - 1]);
    }
done:
    free(glen);
    free(alen);
    free(nlen);
    return w;
}

/* A graph input whose type is a sequence of a sequence of ... (depth
 * levels) of float tensors. */
static wbuf nested_type(int depth)
{
    wbuf w = {0};
    size_t *tlen = calloc((size_t)depth + 1, sizeof *tlen);
    if (!tlen) {
        w.failed = 1;
        return w;
    }
    tlen[0] = field_size(1, 2);  /* tensor_type { elem_type: 1 } */
    for (int k = 1; k <= depth; k++)
        tlen[k] = field_size(4, field_size(1, tlen[k - 1]));
    size_t vlen = field_size(1, 1) + field_size(2, tlen[depth]);
    put_model_head(&w, field_size(11, vlen));
    put_head(&w, 11, vlen);
    put_string(&w, 1, "x");
    put_head(&w, 2, tlen[depth]);
    for (int k = depth; k >= 1; k--) {
        put_head(&w, 4, field_size(1, tlen[k - 1]));
        put_head(&w, 1, tlen[k - 1]);
    }
    put_head(&w, 1, 2);
    put_varint(&w, 1 << 3);
    put_varint(&w, 1);
    free(tlen);
    return w;
}

static int one_line(const char *s)
{
    return s[0] && !strchr(s, '\n');
}

/* Loads the bytes as `file`: refused (not loaded) with one line naming the
 * file and containing `needle` (or, when `needle` starts with '!', not
 * containing the rest). */
static void expect_refused(wbuf *w, const char *file, const char *needle)
{
    tap_ok(!w->failed, "%s: built (%zu bytes)", file, w->n);
    if (w->failed) {
        free(w->b);
        return;
    }
    hl_model *m = NULL;
    hl_error err = {0};
    hl_status st = hl_model_load_onnx_buffer(w->b, w->n, file, &m, &err);
    free(w->b);
    int has = needle[0] == '!' ? !strstr(err.msg, needle + 1)
                               : strstr(err.msg, needle) != NULL;
    tap_ok(st != HL_OK && !m && one_line(err.msg) && strstr(err.msg, file) &&
               has,
           "%s: refused with one line (%s, %s\"%s\"): \"%s\"", file,
           hl_status_name(st), needle[0] == '!' ? "without " : "",
           needle + (needle[0] == '!'), err.msg);
    hl_model_free(m);
}

int main(void)
{
    hl_engine_init();
    wbuf w = nested_if(100000);
    expect_refused(&w, "nested-if-100000.onnx", "nested more than");
    w = nested_if(10);
    expect_refused(&w, "nested-if-10.onnx", "!nested more than");
    w = nested_type(100000);
    expect_refused(&w, "nested-sequence-100000.onnx", "nested more than");
    return tap_done();
}
