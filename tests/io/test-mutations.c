/* Robustness of the PNG, JPEG and .npy readers against damaged input: valid
 * files with random bytes changed, inserted or cut off (a fixed seed, so
 * runs are repeatable). Every call must return either a sane result or an
 * error whose message is one line naming the file; a crash or a memory
 * error (run under valgrind or ASan to see those) fails the test.
 *
 * With arguments, runs the same checks on the given files instead (a
 * poor man's fuzz driver: test-mutations ITERATIONS FILE...). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "image.h"
#include "npy.h"
#include "tap.h"
#include "test-files.h"

static unsigned long long rng_state = 0x2545F4914F6CDD1DULL;

static unsigned rnd(unsigned n)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return n ? (unsigned)(rng_state % n) : 0;
}

/* One damaged copy of src into dst (capacity n + 64); returns its size. */
static size_t mutate(const unsigned char *src, size_t n, unsigned char *dst)
{
    memcpy(dst, src, n);
    size_t size = n;
    switch (rnd(4)) {
    case 0: {                                /* flip a few bytes */
        int k = 1 + (int)rnd(8);
        for (int i = 0; i < k; i++)
            dst[rnd((unsigned)size)] ^= (unsigned char)(1 + rnd(255));
        break;
    }
    case 1:                                  /* cut the tail */
        size = rnd((unsigned)n);
        break;
    case 2: {                                /* overwrite a run */
        size_t at = rnd((unsigned)size), len = 1 + rnd(32);
        for (size_t i = at; i < at + len && i < size; i++)
            dst[i] = (unsigned char)rnd(256);
        break;
    }
    default: {                               /* insert bytes */
        size_t at = rnd((unsigned)size), len = 1 + rnd(64);
        memmove(dst + at + len, src + at, n - at);
        for (size_t i = 0; i < len; i++)
            dst[at + i] = (unsigned char)rnd(256);
        size = n + len;
        break;
    }
    }
    return size;
}

static int check_one(const unsigned char *data, size_t size, int npy,
                     const char *name)
{
    hl_error err = {0};
    if (npy) {
        hl_array *a = NULL;
        hl_status st = hl_npy_read_buffer(data, size, name, &a, &err);
        int ok = st == HL_OK ? a != NULL && a->shape.ndim <= HL_MAX_DIMS
                             : a == NULL && strstr(err.msg, name) &&
                                   !strchr(err.msg, '\n');
        if (!ok)
            tap_diag("%s: status %s, message \"%s\"", name,
                     hl_status_name(st), err.msg);
        hl_array_free(a);
        return ok;
    }
    hl_image *img = NULL;
    hl_status st = hl_image_load_buffer(data, size, name, &img, &err);
    int ok = st == HL_OK ? img && img->width > 0 && img->height > 0 &&
                               img->rgb
                         : img == NULL && strstr(err.msg, name) &&
                               !strchr(err.msg, '\n');
    if (!ok)
        tap_diag("%s: status %s, message \"%s\"", name, hl_status_name(st),
                 err.msg);
    if (ok && img) {
        /* Read every pixel so an under-sized buffer shows up under
         * valgrind/ASan (the sum itself is not checked). */
        volatile unsigned sum = 0;
        for (size_t i = 0; i < (size_t)img->width * img->height * 3; i++)
            sum += img->rgb[i];
    }
    hl_image_free(img);
    return ok;
}

static void run_file(const char *path, int iterations)
{
    size_t n;
    unsigned char *src = test_read_file(path, &n);
    if (!src || n == 0) {
        tap_ok(0, "%s readable", path);
        free(src);
        return;
    }
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    int npy = strstr(base, ".npy") != NULL;
    unsigned char *buf = malloc(n + 64);
    int failures = 0;
    for (int i = 0; i < iterations; i++) {
        size_t size = mutate(src, n, buf);
        /* A fresh heap copy of exactly `size` bytes, so reads past the end
         * are caught by valgrind/ASan. */
        unsigned char *exact = malloc(size ? size : 1);
        memcpy(exact, buf, size);
        if (!check_one(exact, size, npy, base))
            failures++;
        free(exact);
    }
    tap_ok(failures == 0, "%s: %d damaged copies handled cleanly (%d bad)",
           base, iterations, failures);
    free(buf);
    free(src);
}

int main(int argc, char **argv)
{
    if (argc > 2) {
        int it = atoi(argv[1]);
        for (int i = 2; i < argc; i++)
            run_file(argv[i], it > 0 ? it : 1000);
        return tap_done();
    }
    const char *root = getenv("HL_SOURCE_ROOT");
    if (!root)
        root = ".";
    static const struct { const char *path; int iterations; } files[] = {
        {"tests/data/io/owl-rgb.jpg", 3000},
        {"tests/data/io/owl-progressive.jpg", 1000},
        {"tests/data/io/owl-grey.jpg", 1000},
        {"tests/data/io/owl-cmyk.jpg", 1000},
        {"tests/data/io/owl-grey.ref.png", 2000},
        {"tests/data/io/owl-rgb.ref.png", 2000},
        {"tests/data/io/bmp/pal8.bmp", 2000},
        {"tests/data/io/bmp/rle4.bmp", 2000},
        {"tests/data/io/bmp/rgba32-v5.bmp", 2000},
        {"tests/data/io/f4-2x3.npy", 20000},
        {"tests/data/io/f4-v3.npy", 5000},
        {"tests/data/io/i8-2x2.npy", 5000},
    };
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        char path[1200];
        snprintf(path, sizeof path, "%s/%s", root, files[i].path);
        run_file(path, files[i].iterations);
    }
    return tap_done();
}
