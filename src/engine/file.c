/* Reading a whole file, once for every reader (ONNX models, photos, .npy
 * arrays, labels): the header is checked and the size capped before the
 * rest is read, so a 2 GB file of the wrong kind costs one small read. */
#include <errno.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "engine.h"

static hl_status read_rest(FILE *f, const char *path, const char *what,
                           uint64_t max_bytes, unsigned char **buf,
                           size_t *len, size_t cap, hl_error *err)
{
    for (;;) {
        if (*len + 1 >= cap) {
            if (cap > max_bytes)
                return hl_error_set(err, HL_ERR_ARG,
                                    "%s: over the %llu MB limit of %s files",
                                    path, (unsigned long long)(max_bytes >> 20),
                                    what);
            size_t ncap = cap * 2;
            unsigned char *nb = realloc(*buf, ncap);
            if (!nb)
                return hl_error_set(err, HL_ERR_NOMEM, "%s: out of memory "
                                    "reading %zu bytes", path, ncap);
            *buf = nb;
            cap = ncap;
        }
        errno = 0;
        size_t got = fread(*buf + *len, 1, cap - *len - 1, f);
        *len += got;
        if (got == 0) {
            if (ferror(f))
                return hl_error_set(err, HL_ERR_IO, "%s: cannot read: %s", path,
                                    errno ? strerror(errno) : "read error");
            return HL_OK;
        }
    }
}

hl_status hl_file_read(const char *path, const char *what, uint64_t max_bytes,
                       size_t head_size, hl_file_check_fn check, void *user,
                       unsigned char **data, size_t *size, hl_error *err)
{
    *data = NULL;
    *size = 0;
    if (!path)
        return hl_error_set(err, HL_ERR_ARG, "no %s file given", what);
    FILE *f = fopen(path, "rb");
    if (!f)
        return hl_error_set(err, HL_ERR_IO, "%s: cannot open: %s", path,
                            strerror(errno));
    struct stat sb;
    int regular = fstat(fileno(f), &sb) == 0 && S_ISREG(sb.st_mode);
    if (S_ISDIR(sb.st_mode)) {
        fclose(f);
        return hl_error_set(err, HL_ERR_IO, "%s: is a directory, not a file",
                            path);
    }
    uint64_t file_size = regular ? (uint64_t)sb.st_size : 0;
    /* The header first, whatever the size. */
    size_t cap = head_size + 1 > 4096 ? head_size + 1 : 4096;
    if (regular && file_size + 1 < cap)
        cap = (size_t)file_size + 1;
    unsigned char *buf = malloc(cap);
    if (!buf) {
        fclose(f);
        return hl_error_set(err, HL_ERR_NOMEM, "%s: out of memory", path);
    }
    size_t len = fread(buf, 1, head_size < cap - 1 ? head_size : cap - 1, f);
    hl_status st = HL_OK;
    if (ferror(f))
        st = hl_error_set(err, HL_ERR_IO, "%s: cannot read: %s", path,
                          strerror(errno));
    if (st == HL_OK && check)
        st = check(path, buf, len, regular ? file_size : len, user, err);
    if (st == HL_OK && regular && file_size > max_bytes)
        st = hl_error_set(err, HL_ERR_ARG,
                          "%s: %llu MB is over the %llu MB limit of %s files",
                          path, (unsigned long long)(file_size >> 20),
                          (unsigned long long)(max_bytes >> 20), what);
    if (st == HL_OK && regular && file_size + 1 > cap) {
        unsigned char *nb = realloc(buf, (size_t)file_size + 1);
        if (!nb)
            st = hl_error_set(err, HL_ERR_NOMEM, "%s: out of memory reading "
                              "%llu bytes", path, (unsigned long long)file_size);
        else {
            buf = nb;
            cap = (size_t)file_size + 1;
        }
    }
    if (st == HL_OK)
        st = read_rest(f, path, what, max_bytes, &buf, &len, cap, err);
    fclose(f);
    if (st == HL_OK && len > max_bytes)
        st = hl_error_set(err, HL_ERR_ARG,
                          "%s: %llu MB is over the %llu MB limit of %s files",
                          path, (unsigned long long)(len >> 20),
                          (unsigned long long)(max_bytes >> 20), what);
    if (st != HL_OK) {
        free(buf);
        return st;
    }
    buf[len] = '\0';
    *data = buf;
    *size = len;
    return HL_OK;
}

hl_status hl_file_map(const char *path, const char *what, uint64_t max_bytes,
                      const unsigned char **data, size_t *size, int *mapped,
                      hl_error *err)
{
    *data = NULL;
    *size = 0;
    *mapped = 0;
    int fd = path ? open(path, O_RDONLY | O_CLOEXEC) : -1;
    struct stat sb;
    if (fd >= 0 && fstat(fd, &sb) == 0 && S_ISREG(sb.st_mode) &&
        sb.st_size > 0) {
        if ((uint64_t)sb.st_size > max_bytes) {
            close(fd);
            return hl_error_set(err, HL_ERR_ARG,
                                "%s: %llu MB is over the %llu MB limit of %s "
                                "files", path,
                                (unsigned long long)(sb.st_size >> 20),
                                (unsigned long long)(max_bytes >> 20), what);
        }
        /* not MAP_POPULATE: pages come in as they are read and the loader
         * drops them once copied, so the file is never resident whole */
        void *p = mmap(NULL, (size_t)sb.st_size, PROT_READ, MAP_PRIVATE, fd,
                       0);
        close(fd);
        if (p != MAP_FAILED) {
            *data = p;
            *size = (size_t)sb.st_size;
            *mapped = 1;
            return HL_OK;
        }
    } else if (fd >= 0) {
        close(fd);
    }
    /* not mappable (or not openable: hl_file_read says why) */
    unsigned char *buf;
    hl_status st = hl_file_read(path, what, max_bytes, 0, NULL, NULL, &buf,
                                size, err);
    *data = buf;
    return st;
}

void hl_file_unmap(const unsigned char *data, size_t size, int mapped)
{
    if (mapped)
        munmap((void *)data, size);
    else
        free((void *)data);
}

void hl_file_drop_pages(const void *p, size_t n)
{
    uintptr_t page = (uintptr_t)sysconf(_SC_PAGESIZE);
    uintptr_t a = ((uintptr_t)p + page - 1) & ~(page - 1);
    uintptr_t b = ((uintptr_t)p + n) & ~(page - 1);
    if (b > a)
        madvise((void *)a, b - a, MADV_DONTNEED);
}
