/* .npy reading and writing (src/io/npy.c): files written by numpy
 * (tests/data/io/, values from the formulas of make-data.py recomputed
 * here), round trips, rejected variants and broken headers. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "npy.h"
#include "tap.h"

static char data_dir[1024];

static hl_array *load(const char *name, hl_status *st, hl_error *err)
{
    char path[1200];
    hl_array *a = NULL;
    snprintf(path, sizeof path, "%s/%s", data_dir, name);
    *st = hl_npy_read(path, &a, err);
    return a;
}

static int shape_is(const hl_array *a, int ndim, const int64_t *dims)
{
    if (!a || a->shape.ndim != ndim)
        return 0;
    for (int i = 0; i < ndim; i++)
        if (a->shape.dims[i] != dims[i])
            return 0;
    return 1;
}

static void test_numpy_files(void)
{
    hl_status st;
    hl_error err = {0};
    hl_array *a;
    int ok;

    static const char *f4_files[] = {"f4-2x3.npy", "f4-v2.npy", "f4-v3.npy"};
    for (int k = 0; k < 3; k++) {
        a = load(f4_files[k], &st, &err);
        ok = st == HL_OK && shape_is(a, 2, (int64_t[]){2, 3});
        for (int i = 0; ok && i < 6; i++)
            ok = a->data[i] == i * 0.5f - 1;
        tap_ok(ok, "%s: float32 2x3 = arange*0.5-1 (%s)", f4_files[k],
               st ? err.msg : "ok");
        hl_array_free(a);
    }

    a = load("f8-2x3x4.npy", &st, &err);
    ok = st == HL_OK && shape_is(a, 3, (int64_t[]){2, 3, 4});
    for (int i = 0; ok && i < 24; i++)
        ok = a->data[i] == (float)(i / 7.0);
    tap_ok(ok, "f8-2x3x4.npy: float64 arange/7 converted to float");
    hl_array_free(a);

    a = load("i4-5.npy", &st, &err);
    static const float i4[5] = {-3, -1, 0, 7, 100000};
    tap_ok(st == HL_OK && shape_is(a, 1, (int64_t[]){5}) &&
               !memcmp(a->data, i4, sizeof i4), "i4-5.npy: int32 values");
    hl_array_free(a);

    a = load("i8-2x2.npy", &st, &err);
    tap_ok(st == HL_OK && shape_is(a, 2, (int64_t[]){2, 2}) &&
               a->data[0] == 1 && a->data[1] == -2 && a->data[2] == 3 &&
               a->data[3] == (float)(1LL << 40), "i8-2x2.npy: int64 values");
    hl_array_free(a);

    a = load("u1-3x2.npy", &st, &err);
    static const float u1[6] = {0, 1, 128, 200, 254, 255};
    tap_ok(st == HL_OK && shape_is(a, 2, (int64_t[]){3, 2}) &&
               !memcmp(a->data, u1, sizeof u1), "u1-3x2.npy: uint8 values");
    hl_array_free(a);

    a = load("b1-4.npy", &st, &err);
    static const float b1[4] = {1, 0, 0, 1};
    tap_ok(st == HL_OK && shape_is(a, 1, (int64_t[]){4}) &&
               !memcmp(a->data, b1, sizeof b1), "b1-4.npy: bool values");
    hl_array_free(a);

    a = load("scalar-f4.npy", &st, &err);
    tap_ok(st == HL_OK && a && a->shape.ndim == 0 && a->data[0] == 2.5f,
           "scalar-f4.npy: 0-d array 2.5");
    hl_array_free(a);

    a = load("empty-0x3.npy", &st, &err);
    tap_ok(st == HL_OK && shape_is(a, 2, (int64_t[]){0, 3}),
           "empty-0x3.npy: shape (0, 3)");
    hl_array_free(a);

    struct { const char *file, *word; } rejects[] = {
        {"fortran-f4.npy", "Fortran"}, {"be-f4.npy", "big-endian"},
        {"c8-2.npy", "<c8"}};
    for (int k = 0; k < 3; k++) {
        a = load(rejects[k].file, &st, &err);
        tap_ok(st == HL_ERR_UNSUPPORTED && !a &&
                   strstr(err.msg, rejects[k].word) &&
                   strstr(err.msg, rejects[k].file),
               "%s rejected clearly (%s)", rejects[k].file, err.msg);
    }

    /* Integer reader */
    char path[1200];
    int64_t *iv = NULL;
    hl_shape shape;
    snprintf(path, sizeof path, "%s/i8-2x2.npy", data_dir);
    st = hl_npy_read_int64(path, &iv, &shape, &err);
    tap_ok(st == HL_OK && shape.ndim == 2 && iv[3] == (1LL << 40) &&
               iv[1] == -2, "hl_npy_read_int64 keeps 2^40 exactly");
    free(iv);
    iv = NULL;
    snprintf(path, sizeof path, "%s/u1-3x2.npy", data_dir);
    st = hl_npy_read_int64(path, &iv, &shape, &err);
    tap_ok(st == HL_OK && shape.ndim == 2 && iv[5] == 255,
           "hl_npy_read_int64 on uint8");
    free(iv);
    iv = NULL;
    snprintf(path, sizeof path, "%s/f4-2x3.npy", data_dir);
    st = hl_npy_read_int64(path, &iv, &shape, &err);
    tap_ok(st == HL_ERR_UNSUPPORTED && !iv, "hl_npy_read_int64 on floats: %s",
           err.msg);
}

static void test_round_trip(void)
{
    char dir[] = "/tmp/hl-npy-XXXXXX";
    if (!mkdtemp(dir)) {
        tap_ok(0, "temporary directory");
        return;
    }
    char path[256];
    snprintf(path, sizeof path, "%s/out.npy", dir);
    hl_error err = {0};
    static const int dims_n[] = {0, 1, 2, 4};
    for (int k = 0; k < 4; k++) {
        hl_shape s = {dims_n[k], {3, 2, 5, 7}};
        hl_array *a = hl_array_new(&s);
        int64_t n = hl_shape_numel(&s);
        for (int64_t i = 0; i < n; i++)
            a->data[i] = (float)(i * 0.37 - 3.1);
        hl_status st = hl_npy_write(path, a, &err);
        hl_array *b = NULL;
        if (st == HL_OK)
            st = hl_npy_read(path, &b, &err);
        tap_ok(st == HL_OK && b && hl_shape_equal(&a->shape, &b->shape) &&
                   !memcmp(a->data, b->data, sizeof(float) * (size_t)n),
               "round trip of a %d-d array (%s)", dims_n[k],
               st ? err.msg : "ok");
        /* numpy's own layout: header padded so data starts at 64k bytes */
        FILE *f = fopen(path, "rb");
        long size = -1;
        if (f) {
            fseek(f, 0, SEEK_END);
            size = ftell(f);
            fclose(f);
        }
        tap_ok(size >= 0 && (size - (long)(n * 4)) % 64 == 0,
               "header of the %d-d file is 64-byte aligned", dims_n[k]);
        hl_array_free(a);
        hl_array_free(b);
    }
    /* No temporary file is left behind. */
    DIR *d = opendir(dir);
    int entries = 0;
    struct dirent *e;
    while (d && (e = readdir(d)))
        if (e->d_name[0] != '.')
            entries++;
    if (d)
        closedir(d);
    tap_ok(entries == 1, "only out.npy in the folder (%d entries)", entries);

    /* Failing write: the existing file is untouched. */
    hl_shape s = {1, {4}};
    hl_array *a = hl_array_new(&s);
    char bad[300];
    snprintf(bad, sizeof bad, "%s/missing-dir/x.npy", dir);
    hl_status st = hl_npy_write(bad, a, &err);
    tap_ok(st == HL_ERR_IO && strstr(err.msg, "x.npy"),
           "write into a missing folder -> io error (%s)", err.msg);
    hl_array_free(a);
    unlink(path);
    rmdir(dir);
}

static void expect_bad(const char *what, const void *data, size_t size,
                       hl_status want)
{
    hl_array *a = NULL;
    hl_error err = {0};
    hl_status st = hl_npy_read_buffer(data, size, what, &a, &err);
    tap_ok(st == want && !a && strstr(err.msg, what),
           "%s -> %s (%s)", what, hl_status_name(st), err.msg);
}

static void test_broken(void)
{
    char path[1200];
    snprintf(path, sizeof path, "%s/f8-2x3x4.npy", data_dir);
    FILE *f = fopen(path, "rb");
    unsigned char buf[512];
    size_t n = f ? fread(buf, 1, sizeof buf, f) : 0;
    if (f)
        fclose(f);
    expect_bad("empty.npy", buf, 0, HL_ERR_PARSE);
    expect_bad("magic-only.npy", buf, 8, HL_ERR_PARSE);
    expect_bad("cut-header.npy", buf, 40, HL_ERR_PARSE);
    expect_bad("cut-data.npy", buf, n - 8, HL_ERR_PARSE);
    unsigned char copy[512];
    memcpy(copy, buf, n);
    copy[6] = 9;
    expect_bad("version9.npy", copy, n, HL_ERR_UNSUPPORTED);
    memcpy(copy, buf, n);
    memcpy(copy + 10, "{'dexxx'", 8);
    expect_bad("no-descr.npy", copy, n, HL_ERR_PARSE);
    static const char nine_dims[] =
        "\x93NUMPY\x01\x00\x4c\x00{'descr': '<f4', 'fortran_order': False, "
        "'shape': (1,1,1,1,1,1,1,1,1), }   \n";
    expect_bad("nine-dims.npy", nine_dims, sizeof nine_dims - 1,
               HL_ERR_UNSUPPORTED);
    static const char neg[] =
        "\x93NUMPY\x01\x00\x3d\x00{'descr': '<f4', 'fortran_order': False, "
        "'shape': (-2,), }  \n";
    expect_bad("negative-dim.npy", neg, sizeof neg - 1, HL_ERR_PARSE);
    expect_bad("text.npy", "hello, world", 12, HL_ERR_PARSE);
}

int main(void)
{
    const char *root = getenv("HL_SOURCE_ROOT");
    snprintf(data_dir, sizeof data_dir, "%s/tests/data/io", root ? root : ".");
    test_numpy_files();
    test_round_trip();
    test_broken();
    return tap_done();
}
