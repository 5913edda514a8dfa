/* The one whole-file reader (hl_file_read) as every reader uses it: the
 * header is checked and the size capped before the rest is read, so huge
 * files of the wrong kind cost one small read (checked by the process's
 * peak memory, not by time); labels files and the one "background" rule. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "tap.h"
#include "image.h"
#include "npy.h"
#include "preprocess.h"

/* A sparse file of `size` bytes starting with head[n] (no disk used). */
static int sparse_file(const char *path, const void *head, size_t n, off_t size)
{
    int fd = open(path, O_CREAT | O_TRUNC | O_WRONLY, 0600);
    if (fd < 0)
        return 0;
    int ok = write(fd, head, n) == (ssize_t)n && ftruncate(fd, size) == 0;
    return close(fd) == 0 && ok;
}

static long peak_mb(void)
{
    struct rusage u;
    getrusage(RUSAGE_SELF, &u);
    return u.ru_maxrss / 1024;
}

static void huge_files(void)
{
    const char *path = "/tmp/hl-test-file-read.bin";
    const off_t two_gb = (off_t)2 << 30;
    long before = peak_mb();
    hl_error err = {0};
    hl_image *img = NULL;

    /* "BM" + a BITMAPINFOHEADER of 100x100x24: far smaller than the file */
    unsigned char bmp[54] = {'B', 'M'};
    bmp[14] = 40, bmp[18] = 100, bmp[22] = 100, bmp[26] = 1, bmp[28] = 24;
    int ok = sparse_file(path, bmp, sizeof bmp, two_gb);
    hl_status st = ok ? hl_image_load(path, &img, &err) : HL_ERR_IO;
    tap_ok(ok && st != HL_OK && strstr(err.msg, path) && strstr(err.msg, "2048 MB"),
           "a 2 GB file starting with BM (100x100) is refused naming its size (%s)",
           err.msg);

    /* a BMP header of 20000x20000: over the pixel cap */
    bmp[18] = 0x20, bmp[19] = 0x4e, bmp[22] = 0x20, bmp[23] = 0x4e;
    ok = sparse_file(path, bmp, sizeof bmp, two_gb);
    st = ok ? hl_image_load(path, &img, &err) : HL_ERR_IO;
    tap_ok(ok && st != HL_OK && strstr(err.msg, "20000x20000") &&
           strstr(err.msg, "too large"),
           "a 2 GB BMP declaring 20000x20000 is refused from its header (%s)", err.msg);

    static const unsigned char png[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    ok = sparse_file(path, png, sizeof png, (off_t)600 << 20);
    st = ok ? hl_image_load(path, &img, &err) : HL_ERR_IO;
    tap_ok(ok && st != HL_OK && strstr(err.msg, "600 MB"),
           "a 600 MB file starting like a PNG is refused by the cap (%s)", err.msg);

    ok = sparse_file(path, "GIF89a", 6, two_gb);
    st = ok ? hl_image_load(path, &img, &err) : HL_ERR_IO;
    tap_ok(ok && st == HL_ERR_UNSUPPORTED && strstr(err.msg, "GIF"),
           "a 2 GB GIF is named as a GIF from its first bytes (%s)", err.msg);

    hl_array *a = NULL;
    ok = sparse_file(path, "PK\3\4", 4, two_gb);
    st = ok ? hl_npy_read(path, &a, &err) : HL_ERR_IO;
    tap_ok(ok && st == HL_ERR_PARSE && strstr(err.msg, "not a .npy file"),
           "a 2 GB non-.npy file is refused from its magic (%s)", err.msg);

    hl_model *m = NULL;
    ok = sparse_file(path, "\x08\x07", 2, (off_t)3 << 30);
    st = ok ? hl_model_load_onnx(path, &m, &err) : HL_ERR_IO;
    tap_ok(ok && st != HL_OK && strstr(err.msg, "2048 MB"),
           "a 3 GB model is refused by the protobuf size cap (%s)", err.msg);

    hl_labels *l = NULL;
    ok = sparse_file(path, "cat\n", 4, (off_t)64 << 20);
    st = ok ? hl_labels_from_file(path, 10, &l, &err) : HL_ERR_IO;
    tap_ok(ok && st != HL_OK && strstr(err.msg, "16 MB"),
           "a 64 MB labels file is refused by its cap (%s)", err.msg);
    remove(path);

    long used = peak_mb() - before;
    tap_ok(used < 64, "refusing all of them raised the peak memory by %ld MB "
           "(< 64 MB: nothing was read whole)", used);

    st = hl_image_load("/tmp", &img, &err);
    tap_ok(st == HL_ERR_IO && strstr(err.msg, "directory"),
           "a directory is named as one (%s)", err.msg);
}

static int write_text(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    if (!f)
        return 0;
    fputs(text, f);
    return fclose(f) == 0;
}

static void labels_files(void)
{
    const char *path = "/tmp/hl-test-labels.txt";
    hl_labels *l = NULL;
    hl_error err = {0};
    int ok = write_text(path, "background\nzero\none\ntwo\n") &&
             hl_labels_from_file(path, 3, &l, &err) == HL_OK;
    tap_ok(ok && l->n == 3 && !strcmp(l->names[0], "zero") &&
           !strcmp(l->names[2], "two"),
           "n + 1 lines starting with background: that line is dropped");
    hl_labels_free(l);
    ok = hl_labels_from_file(path, 4, &l, &err) == HL_OK;
    tap_ok(ok && !strcmp(l->names[0], "background") && !strcmp(l->names[3], "two"),
           "n lines: taken as they are, background included");
    hl_labels_free(l);
    ok = write_text(path, "a\r\nb\n") && hl_labels_from_file(path, 4, &l, &err) == HL_OK;
    tap_ok(ok && !strcmp(l->names[0], "a") && !strcmp(l->names[1], "b") &&
           !strcmp(l->names[2], "class 2") && !strcmp(l->names[3], "class 3"),
           "missing lines are numbered, CRLF is accepted");
    hl_labels_free(l);
    remove(path);
    tap_ok(hl_labels_from_file(path, 3, &l, &err) == HL_ERR_IO && strstr(err.msg, path),
           "a missing labels file is an error naming it (%s)", err.msg);
}

int main(void)
{
    hl_engine_init();
    huge_files();
    labels_files();
    return tap_done();
}
