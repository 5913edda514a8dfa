/* Helpers of the part-1 attribution tests: data paths, model/.npy loading,
 * running a method, and reading numbers out of the Captum manifests
 * (a minimal scan for one method entry's numeric fields, enough for the
 * manifest.json files of tests/data/captum/). */
#ifndef HL_TEST_PART1_UTIL_H
#define HL_TEST_PART1_UTIL_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tap.h"
#include "attr-private.h"
#include "../io/npy.h"

__attribute__((unused)) static const char *p1_path(const char *rel)
{
    static char buf[8][1024];
    static int slot = 0;
    const char *root = getenv("HL_SOURCE_ROOT");
    char *b = buf[slot++ % 8];
    snprintf(b, 1024, "%s/%s", root ? root : ".", rel);
    return b;
}

__attribute__((unused)) static hl_model *p1_load_model(const char *rel)
{
    hl_model *m = NULL;
    hl_error err = {0};
    if (hl_model_load_onnx(p1_path(rel), &m, &err) != HL_OK) {
        tap_diag("cannot load %s: %s", rel, err.msg);
        return NULL;
    }
    return m;
}

__attribute__((unused)) static hl_array *p1_load_npy(const char *rel)
{
    hl_array *a = NULL;
    hl_error err = {0};
    if (hl_npy_read(p1_path(rel), &a, &err) != HL_OK) {
        tap_diag("cannot read %s: %s", rel, err.msg);
        return NULL;
    }
    return a;
}

__attribute__((unused)) static char *p1_read_text(const char *rel)
{
    FILE *f = fopen(p1_path(rel), "rb");
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
__attribute__((unused)) static int p1_manifest_numbers(const char *json, const char *output,
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
__attribute__((unused)) static int p1_threads(void)
{
    const char *t = getenv("HL_TEST_THREADS");
    return t ? atoi(t) : 2;
}

/* Run a method; returns the result's attribution (caller frees) or NULL. */
__attribute__((unused)) static hl_array *p1_run(const hl_model *m, const char *method, const hl_array *x,
                        const hl_attr_params *p, const hl_attr_context *ctx,
                        hl_attr_result *res)
{
    hl_attr_result r;
    hl_error err = {0};
    hl_attr_context dflt = { .threads = p1_threads() };
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

__attribute__((unused)) static double p1_sum(const float *a, long n)
{
    double s = 0.0;
    for (long i = 0; i < n; i++)
        s += a[i];
    return s;
}

#endif
