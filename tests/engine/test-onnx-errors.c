/* Bad ONNX input: every case gets the right status and a one-line message
 * naming the file and, where there is one, the node and op at fault.
 * Never a crash (also run under valgrind). The small models come from
 * tests/data/engine/make_models.py. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "graph.h"
#include "tap.h"
#include "test-files.h"

static char data_dir[4096];

static int contains(const char *s, const char *part)
{
    return strstr(s, part) != NULL;
}

static int one_line(const char *s)
{
    return s[0] && !strchr(s, '\n');
}

/* Loads tests/data/engine/<file>, expects `want` and the message parts. */
static void expect_file(const char *file, hl_status want, const char *needle,
                        const char *needle2)
{
    char path[4200];
    snprintf(path, sizeof path, "%.4000s/%s", data_dir, file);
    hl_model *m = NULL;
    hl_error err = {0};
    hl_status st = hl_model_load_onnx(path, &m, &err);
    tap_ok(st == want && m == NULL, "%s: status %s (want %s)", file,
           hl_status_name(st), hl_status_name(want));
    tap_ok(one_line(err.msg) && contains(err.msg, file) &&
               (!needle || contains(err.msg, needle)) &&
               (!needle2 || contains(err.msg, needle2)),
           "%s: message names file%s%s%s%s: \"%s\"", file,
           needle ? " + " : "", needle ? needle : "", needle2 ? " + " : "",
           needle2 ? needle2 : "", err.msg);
    hl_model_free(m);
}

static uint32_t lcg(uint32_t *s)
{
    *s = *s * 1664525u + 1013904223u;
    return *s >> 8;
}

int main(void)
{
    hl_engine_init();
    const char *src = getenv("HL_SOURCE_ROOT");
    snprintf(data_dir, sizeof data_dir, "%.3000s/tests/data/engine",
             src ? src : ".");
    char captum[4200];
    snprintf(captum, sizeof captum, "%.3000s/tests/data/captum/tinyres/model.onnx",
             src ? src : ".");

    hl_model *m = NULL;
    hl_error err = {0};

    /* missing file */
    hl_status st = hl_model_load_onnx("/nonexistent/dir/model.onnx", &m, &err);
    tap_ok(st == HL_ERR_IO && m == NULL &&
               contains(err.msg, "/nonexistent/dir/model.onnx"),
           "missing file: %s \"%s\"", hl_status_name(st), err.msg);

    /* empty file and empty buffer */
    st = hl_model_load_onnx("/dev/null", &m, &err);
    tap_ok(st == HL_ERR_PARSE && m == NULL && contains(err.msg, "null"),
           "empty file: %s \"%s\"", hl_status_name(st), err.msg);
    st = hl_model_load_onnx_buffer("", 0, "empty.onnx", &m, &err);
    tap_ok(st == HL_ERR_PARSE && contains(err.msg, "empty.onnx"),
           "empty buffer: %s \"%s\"", hl_status_name(st), err.msg);

    /* truncated copies of a real model */
    size_t len = 0;
    unsigned char *model = test_read_file(captum, &len);
    tap_ok(model && len > 1000, "read tinyres model (%zu bytes)", len);
    if (model) {
        size_t cuts[] = {len - 1, len - 17, len / 2, len / 3, 200, 37, 1};
        for (size_t i = 0; i < sizeof cuts / sizeof cuts[0]; i++) {
            hl_error e = {0};
            st = hl_model_load_onnx_buffer(model, cuts[i], "cut.onnx", &m, &e);
            tap_ok(st == HL_ERR_PARSE && m == NULL && one_line(e.msg) &&
                       contains(e.msg, "cut.onnx"),
                   "truncated to %zu of %zu bytes: %s \"%s\"", cuts[i], len,
                   hl_status_name(st), e.msg);
            hl_model_free(m);
            m = NULL;
        }
    }

    /* random bytes */
    uint32_t seed = 12345;
    int random_ok = 1;
    for (int i = 0; i < 200; i++) {
        size_t n = 1 + lcg(&seed) % 4000;
        unsigned char *buf = malloc(n);
        for (size_t k = 0; k < n; k++)
            buf[k] = (unsigned char)lcg(&seed);
        hl_error e = {0};
        st = hl_model_load_onnx_buffer(buf, n, "random.bin", &m, &e);
        if (st != HL_ERR_PARSE || m || !contains(e.msg, "random.bin")) {
            random_ok = 0;
            tap_diag("random buffer %d (%zu bytes): %s \"%s\"", i, n,
                     hl_status_name(st), e.msg);
        }
        hl_model_free(m);
        m = NULL;
        free(buf);
    }
    tap_ok(random_ok, "200 random buffers: HL_ERR_PARSE naming the file");

    /* a real model with random bytes flipped: any clean outcome */
    if (model) {
        int clean = 1, loaded = 0;
        for (int i = 0; i < 300; i++) {
            unsigned char *buf = malloc(len);
            memcpy(buf, model, len);
            int flips = 1 + (int)(lcg(&seed) % 4);
            for (int f = 0; f < flips; f++)
                buf[lcg(&seed) % len] = (unsigned char)lcg(&seed);
            hl_error e = {0};
            st = hl_model_load_onnx_buffer(buf, len, "flipped.onnx", &m, &e);
            if (st == HL_OK) {
                loaded++;
                hl_run *r = hl_run_new(m, 1);
                hl_shape s;
                hl_model_input_shape(m, &s);
                s.dims[0] = 2;
                size_t n = (size_t)hl_shape_numel(&s);
                float *x = calloc(n, sizeof(float));
                if (hl_run_forward(r, x, 2, &e) == HL_OK) {
                    int out = hl_model_output_value(m);
                    hl_shape os;
                    const float *y = hl_run_value(r, out, &os);
                    if (y) {
                        float *seedg = calloc((size_t)hl_shape_numel(&os) + 1,
                                              sizeof(float));
                        hl_run_backward(r, out, seedg, HL_RULE_GRADIENT, NULL,
                                        &e);
                        free(seedg);
                    }
                }
                free(x);
                hl_run_free(r);
            } else if (!one_line(e.msg) || !contains(e.msg, "flipped.onnx")) {
                clean = 0;
                tap_diag("flipped %d: %s \"%s\"", i, hl_status_name(st), e.msg);
            }
            hl_model_free(m);
            m = NULL;
            free(buf);
        }
        tap_ok(clean, "300 corrupted copies: loaded %d, the others fail "
               "with a message naming the file", loaded);
    }
    free(model);

    expect_file("unsupported_op.onnx", HL_ERR_UNSUPPORTED, "'/act2/Celu'",
                "unsupported op Celu");
    expect_file("external_data.onnx", HL_ERR_UNSUPPORTED, "'W'", "external");
    /* opsets 18-22 load now; the opset range is checked in test-models.c */
    /* fixed_batch.onnx (Reshape to [1, -1]) loads now: a leading 1 in a
     * Reshape target is the batch (tests/engine/test-models.c) */
    expect_file("int64_input.onnx", HL_ERR_UNSUPPORTED, "'x'", "int64");
    expect_file("dangling_input.onnx", HL_ERR_PARSE, "'/add/Add'", "'ghost'");
    expect_file("unsupported_attr.onnx", HL_ERR_UNSUPPORTED, "'/pool/MaxPool'",
                "storage_order");

    /* a good small model: metadata, invented node names, aliases */
    char path[4200];
    snprintf(path, sizeof path, "%.4000s/metadata.onnx", data_dir);
    st = hl_model_load_onnx(path, &m, &err);
    tap_ok(st == HL_OK, "metadata.onnx loads: %s", st ? err.msg : "ok");
    if (st == HL_OK) {
        const char *labels = hl_model_metadata(m, "heatlens.labels");
        tap_ok(labels && strcmp(labels, "a,b,c,d") == 0 &&
                   hl_model_metadata(m, "nothing") == NULL,
               "metadata_props lookup");
        tap_ok(hl_model_num_nodes(m) == 1, "Identity and Dropout removed "
               "(%d node left)", hl_model_num_nodes(m));
        hl_node_info ni;
        hl_model_node_info(m, 0, &ni);
        tap_ok(ni.name && strcmp(ni.name, "Relu_0") == 0 &&
                   strcmp(ni.op, "Relu") == 0,
               "unnamed node gets <op>_<index>: %s", ni.name ? ni.name : "?");
        int r = hl_model_find_value(m, "r");
        tap_ok(r >= 0 && hl_model_find_value(m, "Relu_0") == r &&
                   hl_model_find_value(m, "/drop/Dropout") == r &&
                   hl_model_output_value(m) == r &&
                   hl_model_find_value(m, "nope") == -1,
               "find_value by value or node name, aliases resolved");
        hl_shape s;
        hl_model_input_shape(m, &s);
        tap_ok(s.ndim == 2 && s.dims[0] == -1 && s.dims[1] == 4,
               "input shape has a free batch");
        hl_run *run = hl_run_new(m, 1);
        float x[8] = {-1, 2, -3, 4, 5, -6, 7, -8};
        st = hl_run_forward(run, x, 2, &err);
        hl_shape ys;
        const float *y = hl_run_value(run, hl_model_find_value(m, "y"), &ys);
        int good = st == HL_OK && y && ys.dims[0] == 2;
        for (int i = 0; good && i < 8; i++)
            good = y[i] == (x[i] > 0 ? x[i] : 0);
        tap_ok(good, "forward through removed Identity/Dropout");
        hl_run_free(run);
        hl_model_free(m);
    }
    return tap_done();
}
