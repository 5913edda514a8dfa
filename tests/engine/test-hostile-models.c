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
#include <unistd.h>

#include "graph.h"
#include "tap.h"

typedef struct {
    unsigned char *b;
    size_t n, cap;
    int failed;
} wbuf;

static void put(wbuf *w, const void *p, size_t n)
{
    if (w->failed || n == 0)
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

/* ModelProto fields before its graph: ir_version 8, the given opset. */
static void put_model_head_opset(wbuf *w, size_t graph_len, uint64_t opset)
{
    put_varint(w, 1 << 3);
    put_varint(w, 8);
    put_head(w, 8, 1 + varint_size(opset));
    put_varint(w, 2 << 3);
    put_varint(w, opset);
    put_head(w, 7, graph_len);
}

/* ModelProto fields before its graph: ir_version 8, opset 13. */
static void put_model_head(wbuf *w, size_t graph_len)
{
    put_model_head_opset(w, graph_len, 13);
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


/* ------------------------------------------- small messages, built flat */

static void put_sub(wbuf *w, unsigned field, wbuf *sub)
{
    put_head(w, field, sub->n);
    put(w, sub->b, sub->n);
    w->failed |= sub->failed;
    free(sub->b);
    memset(sub, 0, sizeof *sub);
}

static void put_int(wbuf *w, unsigned field, uint64_t v)
{
    put_varint(w, field << 3);
    put_varint(w, v);
}

/* NodeProto: inputs and outputs separated by commas ("" = none), with an
 * AttributeProto (or NULL); name NULL = an unnamed node. */
static void put_node_attr2(wbuf *g, const char *op, const char *name,
                           const char *ins, const char *outs, wbuf *attr,
                           wbuf *attr2)
{
    wbuf n = {0};
    for (int side = 0; side < 2; side++) {
        char buf[256];
        snprintf(buf, sizeof buf, "%s", side ? outs : ins);
        for (char *t = strtok(buf, ","); t; t = strtok(NULL, ","))
            put_string(&n, side ? 2 : 1, t);
    }
    if (name)
        put_string(&n, 3, name);
    put_string(&n, 4, op);
    if (attr)
        put_sub(&n, 5, attr);
    if (attr2)
        put_sub(&n, 5, attr2);
    put_sub(g, 1, &n);
}

static void put_node_attr(wbuf *g, const char *op, const char *name,
                          const char *ins, const char *outs, wbuf *attr)
{
    put_node_attr2(g, op, name, ins, outs, attr, NULL);
}

static void put_node(wbuf *g, const char *op, const char *name,
                     const char *ins, const char *outs)
{
    put_node_attr(g, op, name, ins, outs, NULL);
}

/* AttributeProto FLOATS (type 6, field 7, one fixed32 each). */
static wbuf floats_attr(const char *name, int n, const float *v)
{
    wbuf a = {0};
    put_string(&a, 1, name);
    for (int i = 0; i < n; i++) {
        put_varint(&a, 7 << 3 | 5);
        put(&a, &v[i], 4);   /* little-endian machine, as protobuf */
    }
    put_int(&a, 20, 6);
    return a;
}

/* AttributeProto INTS (type 7, field 8, one varint each). */
static wbuf ints_attr(const char *name, int n, const int64_t *v)
{
    wbuf a = {0};
    put_string(&a, 1, name);
    for (int i = 0; i < n; i++)
        put_int(&a, 8, (uint64_t)v[i]);
    put_int(&a, 20, 7);
    return a;
}

/* AttributeProto GRAPH (type 5) holding an empty graph. */
static wbuf graph_attr(const char *name)
{
    wbuf a = {0};
    put_string(&a, 1, name);
    put_head(&a, 6, 0);
    put_int(&a, 20, 5);
    return a;
}

/* ValueInfoProto of a float tensor; a dim < 0 is the symbolic "N". */
static void put_value_info(wbuf *g, unsigned field, const char *name,
                           int ndim, const int64_t *dims)
{
    wbuf shape = {0}, tensor = {0}, type = {0}, vi = {0};
    for (int d = 0; d < ndim; d++) {
        wbuf dim = {0};
        if (dims[d] < 0)
            put_string(&dim, 2, "N");
        else
            put_int(&dim, 1, (uint64_t)dims[d]);
        put_sub(&shape, 1, &dim);
    }
    put_int(&tensor, 1, 1);
    put_sub(&tensor, 2, &shape);
    put_sub(&type, 1, &tensor);
    put_string(&vi, 1, name);
    put_sub(&vi, 2, &type);
    put_sub(g, field, &vi);
}

/* An int64 initializer. */
static void put_int64_init(wbuf *g, const char *name, int n,
                           const int64_t *v)
{
    wbuf t = {0};
    put_int(&t, 1, (uint64_t)n);
    put_int(&t, 2, 7);
    for (int i = 0; i < n; i++)
        put_int(&t, 7, (uint64_t)v[i]);
    put_string(&t, 8, name);
    put_sub(g, 5, &t);
}

/* A float initializer of the given dims, all ones. */
static void put_float_init(wbuf *g, const char *name, int ndim,
                           const int64_t *dims)
{
    wbuf t = {0};
    int64_t n = 1;
    for (int d = 0; d < ndim; d++) {
        put_int(&t, 1, (uint64_t)dims[d]);
        n *= dims[d];
    }
    put_int(&t, 2, 1);
    for (int64_t i = 0; i < n; i++) {
        float one = 1.0f;
        put_varint(&t, 4 << 3 | 5);
        put(&t, &one, 4);
    }
    put_string(&t, 8, name);
    put_sub(g, 5, &t);
}

static wbuf model_of_opset(wbuf *graph, uint64_t opset)
{
    wbuf w = {0};
    put_model_head_opset(&w, graph->n, opset);
    put(&w, graph->b, graph->n);
    w.failed |= graph->failed;
    free(graph->b);
    memset(graph, 0, sizeof *graph);
    return w;
}

static wbuf model_of(wbuf *graph)
{
    wbuf w = {0};
    put_model_head(&w, graph->n);
    put(&w, graph->b, graph->n);
    w.failed |= graph->failed;
    free(graph->b);
    memset(graph, 0, sizeof *graph);
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

/* A node with inputs ins[0..n_in) and outputs outs[0..n_out), any of them
 * "" (omitted, which put_node's comma lists cannot say), and one optional
 * int attribute. */
static void put_node_raw(wbuf *g, const char *op, const char *name,
                         const char *const *ins, int n_in,
                         const char *const *outs, int n_out,
                         const char *int_attr, int64_t int_value)
{
    wbuf n = {0};
    for (int i = 0; i < n_in; i++)
        put_string(&n, 1, ins[i]);
    for (int o = 0; o < n_out; o++)
        put_string(&n, 2, outs[o]);
    put_string(&n, 3, name);
    put_string(&n, 4, op);
    if (int_attr) {
        wbuf a = {0};
        put_string(&a, 1, int_attr);
        put_int(&a, 3, (uint64_t)int_value);
        put_int(&a, 20, 2);                /* AttributeProto.INT */
        put_sub(&n, 5, &a);
    }
    put_sub(g, 1, &n);
}

/* Omitted outputs (CI's fuzz-onnx, December 2026): an Add of two
 * initializers whose output is "" was folded at load and its kernel wrote
 * through the null data pointer of that output; every op but Split writes
 * output 0, so it must be present. Split may omit any output: x [N,4]
 * split [2,2] on axis 1 into ("", y) gives y = x[:, 2:4]. */
static void omitted_outputs(void)
{
    wbuf g = {0};
    put_node_raw(&g, "Add", "dead_add", (const char *[]){ "a", "b" }, 2,
                 (const char *[]){ "" }, 1, NULL, 0);
    put_node(&g, "Relu", "r", "x", "y");
    put_float_init(&g, "a", 1, (int64_t[]){ 4 });
    put_float_init(&g, "b", 1, (int64_t[]){ 4 });
    put_value_info(&g, 11, "x", 2, (int64_t[]){ -1, 4 });
    put_value_info(&g, 12, "y", 0, NULL);
    wbuf w = model_of(&g);
    expect_refused(&w, "add-omitted-output.onnx",
                   "node 'dead_add' (Add): output 1 is omitted");
    put_node_raw(&g, "LayerNormalization", "ln", (const char *[]){ "x", "a" },
                 2, (const char *[]){ "", "y" }, 2, NULL, 0);
    put_float_init(&g, "a", 1, (int64_t[]){ 4 });
    put_value_info(&g, 11, "x", 2, (int64_t[]){ -1, 4 });
    put_value_info(&g, 12, "y", 0, NULL);
    w = model_of_opset(&g, 17);
    expect_refused(&w, "layernorm-omitted-y.onnx",
                   "node 'ln' (LayerNormalization): output 1 is omitted");

    put_node_raw(&g, "Split", "split", (const char *[]){ "x", "s" }, 2,
                 (const char *[]){ "", "y" }, 2, "axis", 1);
    put_int64_init(&g, "s", 2, (int64_t[]){ 2, 2 });
    put_value_info(&g, 11, "x", 2, (int64_t[]){ -1, 4 });
    put_value_info(&g, 12, "y", 0, NULL);
    w = model_of(&g);
    hl_model *m = NULL;
    hl_error err = {0};
    hl_status st = hl_model_load_onnx_buffer(w.b, w.n, "split-omitted.onnx",
                                             &m, &err);
    free(w.b);
    const float x[4] = { 1.5f, -2.0f, 3.25f, -4.5f };
    hl_run *r = st == HL_OK ? hl_run_new(m, 1) : NULL;
    hl_shape ys = {0};
    const float *y = NULL;
    if (r && hl_run_forward(r, x, 1, &err) == HL_OK)
        y = hl_run_value(r, hl_model_output_value(m), &ys);
    tap_ok(y && ys.ndim == 2 && ys.dims[0] == 1 && ys.dims[1] == 2 &&
               y[0] == x[2] && y[1] == x[3],
           "split-omitted.onnx: Split into (\"\", y) loads and y = x[:, 2:4] "
           "(%s)", err.msg);
    hl_run_free(r);
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
    /* x [N,4] + ConstantOfShape([1,1,16384,16384]): 1 GiB folded at load */
    hl_set_max_memory((uint64_t)256 << 20);
    wbuf g = {0};
    put_node(&g, "ConstantOfShape", "big_constant", "s", "c");
    put_node(&g, "Add", "add", "x,c", "y");
    put_int64_init(&g, "s", 4, (int64_t[]){ 1, 1, 16384, 16384 });
    put_value_info(&g, 11, "x", 4, (int64_t[]){ -1, 1, 16384, 16384 });
    put_value_info(&g, 12, "y", 0, NULL);
    w = model_of(&g);
    expect_refused(&w, "constant-of-shape-2^28.onnx",
                   "'big_constant' (ConstantOfShape) needs 1024 MiB, over "
                   "the memory limit of 256 MiB");
    /* x [N,4] + ConstantOfShape([4096,4096]): 64 MiB, under the limit,
     * but no image classifier folds it: refused before folding */
    put_node(&g, "ConstantOfShape", "big_constant", "s", "c");
    put_node(&g, "Add", "add", "x,c", "y");
    put_int64_init(&g, "s", 2, (int64_t[]){ 4096, 4096 });
    put_value_info(&g, 11, "x", 2, (int64_t[]){ -1, 4 });
    put_value_info(&g, 12, "y", 0, NULL);
    w = model_of(&g);
    expect_refused(&w, "constant-of-shape-not-a-classifier.onnx",
                   "'big_constant' (ConstantOfShape) folds a constant "
                   "[4096,4096] at load, but the model's input [N,4] is not "
                   "an image");
    /* a fixed 1x3x10000x10000 input of a classifier */
    put_node(&g, "GlobalAveragePool", "gap", "x", "p");
    put_node(&g, "Flatten", "flat", "p", "y");
    put_value_info(&g, 11, "x", 4, (int64_t[]){ 1, 3, 10000, 10000 });
    put_value_info(&g, 12, "y", 2, (int64_t[]){ 1, 3 });
    w = model_of(&g);
    expect_refused(&w, "input-1x3x10000x10000.onnx",
                   "a run at batch 1 needs 2288 MiB, over the memory limit");
    hl_set_max_memory(0);
    omitted_outputs();
    uint64_t phys = (uint64_t)sysconf(_SC_PHYS_PAGES) *
                    (uint64_t)sysconf(_SC_PAGESIZE);
    tap_ok(hl_max_memory() == phys / 2 && phys > 0,
           "the default limit is half the physical memory (%llu MiB)",
           (unsigned long long)(hl_max_memory() >> 20));
    /* Reshape to [2^62, 4]: named by node */
    put_node(&g, "Reshape", "huge_reshape", "x,s", "y");
    put_int64_init(&g, "s", 2, (int64_t[]){ INT64_C(1) << 62, 4 });
    put_value_info(&g, 11, "x", 2, (int64_t[]){ -1, 8 });
    put_value_info(&g, 12, "y", 0, NULL);
    w = model_of(&g);
    expect_refused(&w, "reshape-overflow.onnx",
                   "'huge_reshape' (Reshape): the target shape's element "
                   "count overflows");
    /* a cycle: a = Relu(b), b = Relu(a) */
    put_node(&g, "Relu", "r1", "b", "a");
    put_node(&g, "Relu", "r2", "a", "b");
    put_node(&g, "Add", "add", "x,a", "y");
    put_value_info(&g, 11, "x", 2, (int64_t[]){ -1, 8 });
    put_value_info(&g, 12, "y", 0, NULL);
    w = model_of(&g);
    expect_refused(&w, "cycle.onnx", "");

    /* issue 16, item 7 */
    /* opset 2^62: reported as it is, not truncated to an int */
    put_node(&g, "Relu", "r", "x", "y");
    put_value_info(&g, 11, "x", 2, (int64_t[]){ -1, 8 });
    put_value_info(&g, 12, "y", 0, NULL);
    w = model_of_opset(&g, UINT64_C(1) << 62);
    expect_refused(&w, "opset-2^62.onnx",
                   "ONNX opset 4611686018427387904 is not supported");
    /* If, Loop, Scan: the op is named, not its graph attribute */
    static const char *const control[][2] = {
        { "If", "then_branch" }, { "Loop", "body" }, { "Scan", "body" } };
    for (int i = 0; i < 3; i++) {
        char file[64], want[64];
        wbuf a = graph_attr(control[i][1]);
        put_node_attr(&g, control[i][0], "ctl", "x", "y", &a);
        put_value_info(&g, 11, "x", 2, (int64_t[]){ -1, 8 });
        put_value_info(&g, 12, "y", 0, NULL);
        w = model_of(&g);
        snprintf(file, sizeof file, "control-%s.onnx", control[i][0]);
        snprintf(want, sizeof want, "node 'ctl': unsupported op %s (",
                 control[i][0]);
        expect_refused(&w, file, want);
    }
    /* pads as floats: refused, not read as absent */
    wbuf a = floats_attr("pads", 4, (float[]){ 1, 1, 1, 1 });
    wbuf k = ints_attr("kernel_shape", 2, (int64_t[]){ 3, 3 });
    put_node_attr2(&g, "MaxPool", "pool", "x", "y", &k, &a);
    put_value_info(&g, 11, "x", 4, (int64_t[]){ -1, 3, 8, 8 });
    put_value_info(&g, 12, "y", 0, NULL);
    w = model_of(&g);
    expect_refused(&w, "float-pads.onnx",
                   "node 'pool' (MaxPool): attribute 'pads' must be ints, "
                   "not floats");
    /* a 3-D Conv of a 1x1x1 input with pads 2^20: (2^21+1)^3 output
     * positions would overflow int64; refused by the checked geometry */
    wbuf pads = ints_attr("pads", 6, (int64_t[]){ 1 << 20, 1 << 20, 1 << 20,
                                                  1 << 20, 1 << 20, 1 << 20 });
    put_node_attr(&g, "Conv", "conv3d", "x,w", "y", &pads);
    put_float_init(&g, "w", 5, (int64_t[]){ 1, 1, 1, 1, 1 });
    put_value_info(&g, 11, "x", 5, (int64_t[]){ -1, 1, 1, 1, 1 });
    put_value_info(&g, 12, "y", 0, NULL);
    w = model_of(&g);
    expect_refused(&w, "conv3d-pads-overflow.onnx",
                   "node 'conv3d' (Conv): input [1,1,1,1,1] or weight "
                   "[1,1,1,1,1]: a plane or kernel of more than 2^34");
    /* names with an escape sequence and invalid UTF-8: printed as \xNN */
    put_node(&g, "Celu", "evil\x1b]0;owned\x07\xff\xfe", "x", "y");
    put_value_info(&g, 11, "x", 2, (int64_t[]){ -1, 8 });
    put_value_info(&g, 12, "y", 0, NULL);
    w = model_of(&g);
    expect_refused(&w, "escape-name.onnx",
                   "node 'evil\\x1b]0;owned\\x07\\xff\\xfe': unsupported op Celu");
    /* an unnamed node is "<op>_<index>" in every message: the loader's
     * own check (unsupported op) and the ordering check (a cycle) */
    put_node(&g, "Celu", NULL, "x", "y");
    put_value_info(&g, 11, "x", 2, (int64_t[]){ -1, 8 });
    put_value_info(&g, 12, "y", 0, NULL);
    w = model_of(&g);
    expect_refused(&w, "unnamed-unsupported.onnx", "node 'Celu_0'");
    put_node(&g, "Relu", NULL, "b", "a");
    put_node(&g, "Relu", NULL, "a", "b");
    put_node(&g, "Add", "add", "x,a", "y");
    put_value_info(&g, 11, "x", 2, (int64_t[]){ -1, 8 });
    put_value_info(&g, 12, "y", 0, NULL);
    w = model_of(&g);
    expect_refused(&w, "unnamed-cycle.onnx", "node 'Relu_0' (Relu)");
    /* a model that loads keeps printable node and value names */
    put_node(&g, "Relu", "r\x1b[31m", "x\x9b", "y");
    put_value_info(&g, 11, "x\x9b", 2, (int64_t[]){ -1, 8 });
    put_value_info(&g, 12, "y", 0, NULL);
    w = model_of(&g);
    hl_model *m = NULL;
    hl_error err = {0};
    hl_status st = hl_model_load_onnx_buffer(w.b, w.n, "names.onnx", &m,
                                             &err);
    free(w.b);
    hl_node_info info = {0};
    if (st == HL_OK && hl_model_num_nodes(m) == 1)
        hl_model_node_info(m, 0, &info);
    const char *in_name = st == HL_OK ? hl_model_value_name(m, m->inputs[0])
                                      : NULL;
    tap_ok(st == HL_OK && info.name && !strcmp(info.name, "r\\x1b[31m") &&
               in_name && !strcmp(in_name, "x\\x9b"),
           "names.onnx: node and input names kept printable: '%s', '%s' (%s)",
           info.name ? info.name : "-", in_name ? in_name : "-", err.msg);
    hl_model_free(m);

    /* hl_printable itself, byte by byte against the UTF-8 rules */
    static const struct { const char *in, *out; } pr[] = {
        { "caf\xc3\xa9 \xe6\xbc\xa2 \xf0\x9f\x90\x88", "caf\xc3\xa9 \xe6\xbc\xa2 \xf0\x9f\x90\x88" },
        { "a\x1b[2Jb", "a\\x1b[2Jb" },            /* ESC */
        { "tab\there\nnl", "tab\\x09here\\x0anl" },
        { "del\x7f", "del\\x7f" },
        { "csi\xc2\x9b", "csi\\xc2\\x9b" },         /* C1 control U+009B */
        { "over\xc0\x80long", "over\\xc0\\x80long" }, /* overlong NUL */
        { "sur\xed\xa0\x80", "sur\\xed\\xa0\\x80" }, /* a surrogate */
        { "cut\xe6\xbc", "cut\\xe6\\xbc" },          /* truncated */
        { "back\\x41slash", "back\\x41slash" },         /* kept: idempotent */
    };
    for (size_t i = 0; i < sizeof pr / sizeof pr[0]; i++) {
        char out[64], again[64];
        hl_printable(pr[i].in, out, sizeof out);
        hl_printable(out, again, sizeof again);
        tap_ok(!strcmp(out, pr[i].out) && !strcmp(again, out),
               "hl_printable case %zu: \"%s\" (idempotent)", i, out);
    }
    char small[8];
    hl_printable("ab\xe6\xbc\xa2" "cd", small, sizeof small);
    tap_ok(!strcmp(small, "ab\xe6\xbc\xa2" "cd"), "hl_printable: fits 7 bytes");
    hl_printable("abcd\xe6\xbc\xa2", small, 6);
    tap_ok(!strcmp(small, "abcd"), "hl_printable: a character that does not "
           "fit is left out whole (\"%s\")", small);
    return tap_done();
}
