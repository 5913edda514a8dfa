/* The one helper header of the attribution tests: data paths, model and
 * .npy loading, running a method, the numbers of the Captum manifests (a
 * minimal scan of one method entry's numeric fields, enough for the
 * manifest.json files of tests/data/captum/), an hl_attr_call for the
 * internal entry points, and brute-force Shapley values through the engine
 * (independent of the code under test). */
#ifndef HL_ATTR_TEST_UTIL_H
#define HL_ATTR_TEST_UTIL_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tap.h"
#include "attr-private.h"
#include "../io/npy.h"

__attribute__((unused)) static const char *source_path(const char *rel)
{
    static char buf[8][1024];
    static int slot = 0;
    const char *root = getenv("HL_SOURCE_ROOT");
    char *b = buf[slot++ % 8];
    snprintf(b, 1024, "%s/%s", root ? root : ".", rel);
    return b;
}

__attribute__((unused)) static hl_model *load_source_model(const char *rel)
{
    hl_model *m = NULL;
    hl_error err = {0};
    if (hl_model_load_onnx(source_path(rel), &m, &err) != HL_OK) {
        tap_diag("cannot load %s: %s", rel, err.msg);
        return NULL;
    }
    return m;
}

__attribute__((unused)) static hl_array *load_source_npy(const char *rel)
{
    hl_array *a = NULL;
    hl_error err = {0};
    if (hl_npy_read(source_path(rel), &a, &err) != HL_OK) {
        tap_diag("cannot read %s: %s", rel, err.msg);
        return NULL;
    }
    return a;
}

__attribute__((unused)) static char *read_source_text(const char *rel)
{
    FILE *f = fopen(source_path(rel), "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *s = malloc((size_t)n + 1);
    if (s && fread(s, 1, (size_t)n, f) != (size_t)n) {
        free(s);
        s = NULL;
    }
    if (s)
        s[n] = '\0';
    fclose(f);
    return s;
}

/* In the method entry whose "output" is `output`, the numbers of the
 * field `key` (a number or a list of numbers). Returns the count (<= max),
 * 0 when absent. */
__attribute__((unused)) static int manifest_numbers(const char *json, const char *output,
                               const char *key, double *out, int max)
{
    char pat[256];
    snprintf(pat, sizeof pat, "\"output\": \"%s\"", output);
    const char *entry = strstr(json, pat);
    if (!entry)
        return 0;
    /* back to the entry's opening brace, forward to the next entry */
    const char *start = entry;
    while (start > json && strncmp(start, "\n  {", 4) != 0)
        start--;
    const char *end = strstr(entry, "\n  },");
    if (!end)
        end = json + strlen(json);
    snprintf(pat, sizeof pat, "\"%s\": ", key);
    const char *k = start;
    for (;;) {
        k = strstr(k, pat);
        if (!k || k >= end)
            return 0;
        if (k > start)
            break;
    }
    const char *p = k + strlen(pat);
    int n = 0;
    if (*p == '[') {
        p++;
        while (*p && *p != ']' && n < max) {
            char *e;
            double v = strtod(p, &e);
            if (e == p)
                break;
            out[n++] = v;
            p = e;
            while (*p == ',' || *p == ' ' || *p == '\n')
                p++;
        }
    } else {
        char *e;
        double v = strtod(p, &e);
        if (e != p && max > 0)
            out[n++] = v;
    }
    return n;
}

/* Engine threads for the tests: HL_TEST_THREADS, default 2. */
__attribute__((unused)) static int test_threads(void)
{
    const char *t = getenv("HL_TEST_THREADS");
    return t ? atoi(t) : 2;
}

/* Run a method; returns the result's attribution (caller frees) or NULL. */
__attribute__((unused)) static hl_array *run_attr(const hl_model *m, const char *method, const hl_array *x,
                        const hl_attr_params *p, const hl_attr_context *ctx,
                        hl_attr_result *res)
{
    hl_attr_result r;
    hl_error err = {0};
    hl_attr_context dflt = { .threads = test_threads() };
    if (!ctx)
        ctx = &dflt;
    if (hl_attribute(m, method, x, p, ctx, &r, &err) != HL_OK) {
        tap_diag("%s failed: %s", method, err.msg);
        if (res)
            memset(res, 0, sizeof *res);
        return NULL;
    }
    hl_array *a = r.attr;
    r.attr = NULL;
    if (res)
        *res = r;
    return a;
}

__attribute__((unused)) static double sum_floats(const float *a, long n)
{
    double s = 0.0;
    for (long i = 0; i < n; i++)
        s += a[i];
    return s;
}


/* One engine thread: the models are tiny, and meson runs test programs in
 * parallel on the 2 cores anyway. */
#define TEST_THREADS 1

/* The same, with paths relative to tests/data/. */
__attribute__((unused)) static const char *data_path(const char *rel)
{
    char tmp[512];
    snprintf(tmp, sizeof tmp, "tests/data/%.480s", rel);
    return source_path(tmp);
}

__attribute__((unused)) static hl_model *load_model(const char *rel)
{
    char tmp[512];
    snprintf(tmp, sizeof tmp, "tests/data/%.480s", rel);
    return load_source_model(tmp);
}

__attribute__((unused)) static hl_array *load_npy(const char *rel)
{
    char tmp[512];
    snprintf(tmp, sizeof tmp, "tests/data/%.480s", rel);
    return load_source_npy(tmp);
}

/* The model and the .npy files of a Captum case (tests/data/captum/CASE/). */
__attribute__((unused)) static hl_model *case_model(const char *cas)
{
    char rel[256];
    snprintf(rel, sizeof rel, "captum/%.200s/model.onnx", cas);
    return load_model(rel);
}

__attribute__((unused)) static hl_array *case_npy(const char *cas, const char *name)
{
    char rel[256];
    snprintf(rel, sizeof rel, "captum/%.100s/%.100s.npy", cas, name);
    return load_npy(rel);
}

/* Runs a registered method on TEST_THREADS engine threads; returns the
 * attribution (caller frees) or NULL with a diagnostic. */
__attribute__((unused)) static hl_array *run_method(const hl_model *m, const char *method,
                            const hl_array *x, const hl_attr_params *p,
                            hl_attr_result *res_out)
{
    hl_attr_context ctx;
    memset(&ctx, 0, sizeof ctx);
    ctx.threads = TEST_THREADS;
    return run_attr(m, method, x, p, &ctx, res_out);
}

/* An hl_attr_call for the internal entry points (free with call_done). */
typedef struct test_call {
    hl_attr_call c;
    hl_attr_context ctx;
    hl_rng rng;
} test_call;

__attribute__((unused)) static void call_init(test_call *t, const hl_model *m, const hl_array *x,
                      const hl_attr_params *p, int target)
{
    memset(t, 0, sizeof *t);
    hl_rng_seed(&t->rng, p->seed);
    t->c.model = m;
    t->c.input = x;
    t->c.p = p;
    t->c.ctx = &t->ctx;
    t->c.target = target;
    t->ctx.threads = TEST_THREADS;
    t->c.run = hl_run_new(m, TEST_THREADS);
    t->c.rng = &t->rng;
    t->c.output_value = hl_model_output_value(m);
    t->c.input_value = hl_model_input_value(m);
}

__attribute__((unused)) static void call_done(test_call *t)
{
    hl_run_free(t->c.run);
    t->c.run = NULL;
}

/* Target logit of each of `batch` inputs, straight through the engine. */
__attribute__((unused)) static int engine_logits(const hl_model *m, const float *inputs, int batch,
                         int target, double *out)
{
    hl_run *r = hl_run_new(m, TEST_THREADS);
    hl_error err = {0};
    int ok = r && hl_run_forward(r, inputs, batch, &err) == HL_OK;
    if (ok) {
        hl_shape s;
        const float *y = hl_run_value(r, hl_model_output_value(m), &s);
        int64_t k = hl_shape_numel(&s) / batch;
        for (int b = 0; b < batch; b++)
            out[b] = y[(int64_t)b * k + target];
    } else {
        tap_diag("engine forward failed: %s", err.msg);
    }
    hl_run_free(r);
    return ok;
}

/* Exact Shapley values of F features (ids[numel] in 0..F-1) by evaluating
 * all 2^F coalitions: phi_i = sum_S |S|!(F-|S|-1)!/F! (v(S+i) - v(S)). */
__attribute__((unused)) static int brute_force_shapley(const hl_model *m, const hl_array *x,
                               const float *base, const int *ids, int F,
                               int target, double *phi)
{
    const int64_t numel = hl_shape_numel(&x->shape);
    const int n = 1 << F;
    double *v = malloc((size_t)n * sizeof *v);
    const int chunk = 256;
    float *buf = malloc((size_t)chunk * numel * sizeof *buf);
    int ok = v && buf;
    for (int s0 = 0; ok && s0 < n; s0 += chunk) {
        int nb = n - s0 < chunk ? n - s0 : chunk;
        for (int b = 0; b < nb; b++) {
            int set = s0 + b;
            float *dst = buf + (int64_t)b * numel;
            for (int64_t i = 0; i < numel; i++)
                dst[i] = (set >> ids[i]) & 1 ? x->data[i] : base[i];
        }
        ok = engine_logits(m, buf, nb, target, v + s0);
    }
    double *fact = malloc((size_t)(F + 1) * sizeof *fact);
    fact[0] = 1;
    for (int i = 1; i <= F; i++)
        fact[i] = fact[i - 1] * i;
    for (int i = 0; ok && i < F; i++) {
        double acc = 0;
        for (int set = 0; set < n; set++) {
            if (set >> i & 1)
                continue;
            int k = __builtin_popcount((unsigned)set);
            acc += fact[k] * fact[F - k - 1] / fact[F] * (v[set | 1 << i] - v[set]);
        }
        phi[i] = acc;
    }
    free(fact);
    free(v);
    free(buf);
    return ok;
}

/* Relative L2 between a per-element attribution and per-feature values. */
__attribute__((unused)) static double rel_l2_features(const hl_array *a, const int *ids,
                              const double *phi)
{
    int64_t n = hl_shape_numel(&a->shape);
    float *ref = malloc((size_t)n * sizeof *ref);
    for (int64_t i = 0; i < n; i++)
        ref[i] = (float)phi[ids[i]];
    double r = tap_rel_l2(a->data, ref, n);
    free(ref);
    return r;
}

/* Grid ids computed here, independently of feature_mask.c. */
__attribute__((unused)) static int *grid_ids(int C, int H, int W, int N)
{
    int *ids = malloc((size_t)C * H * W * sizeof *ids);
    int cols = (W + N - 1) / N;
    for (int c = 0; c < C; c++)
        for (int y = 0; y < H; y++)
            for (int x = 0; x < W; x++)
                ids[((int64_t)c * H + y) * W + x] = (y / N) * cols + x / N;
    return ids;
}

/* A little-endian int32 .npy (format 1.0), written here so the mask reader
 * is tested against an independent writer. */
__attribute__((unused)) static int write_npy_int32(const char *path, const int64_t *shape, int ndim,
                           const int32_t *data)
{
    char dims[128] = "";
    int64_t n = 1;
    for (int i = 0; i < ndim; i++) {
        size_t len = strlen(dims);
        snprintf(dims + len, sizeof dims - len, "%lld,%s", (long long)shape[i],
                 i + 1 < ndim ? " " : "");
        n *= shape[i];
    }
    char header[256];
    int hl = snprintf(header, sizeof header,
                      "{'descr': '<i4', 'fortran_order': False, 'shape': (%s), }",
                      dims);
    int total = 10 + hl + 1;
    int pad = (64 - total % 64) % 64;
    FILE *f = fopen(path, "wb");
    if (!f)
        return 0;
    unsigned short hlen = (unsigned short)(hl + pad + 1);
    fwrite("\x93NUMPY\x01\x00", 1, 8, f);
    fputc(hlen & 0xff, f);
    fputc(hlen >> 8, f);
    fwrite(header, 1, (size_t)hl, f);
    for (int i = 0; i < pad; i++)
        fputc(' ', f);
    fputc('\n', f);
    fwrite(data, sizeof *data, (size_t)n, f);
    return fclose(f) == 0;
}

__attribute__((unused)) static int arrays_equal(const hl_array *a, const hl_array *b)
{
    return a && b && hl_shape_equal(&a->shape, &b->shape) &&
           memcmp(a->data, b->data,
                  (size_t)hl_shape_numel(&a->shape) * sizeof(float)) == 0;
}

#endif
