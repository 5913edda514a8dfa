/* NumPy .npy files: "\x93NUMPY", version (1|2|3).0, header length (uint16
 * for 1.0, uint32 for 2.0/3.0), then a Python dict literal
 * {'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), } padded with
 * spaces and '\n', then the raw data. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "npy.h"

typedef enum { NPY_F4, NPY_F8, NPY_I4, NPY_I8, NPY_U1, NPY_B1 } npy_type;

typedef struct npy_info {
    npy_type type;
    size_t item;          /* bytes per element */
    hl_shape shape;
    const unsigned char *data;
    size_t count;         /* elements */
} npy_info;

/* Value text after 'key': in the header dict, or NULL. */
static const char *find_key(const char *h, const char *key)
{
    char pat[32];
    for (int q = 0; q < 2; q++) {
        snprintf(pat, sizeof pat, "%c%s%c", q ? '"' : '\'', key,
                 q ? '"' : '\'');
        const char *k = strstr(h, pat);
        if (k) {
            k += strlen(pat);
            while (*k == ' ')
                k++;
            if (*k != ':')
                return NULL;
            k++;
            while (*k == ' ')
                k++;
            return k;
        }
    }
    return NULL;
}

static hl_status parse_header(const unsigned char *d, size_t size,
                              const char *name, npy_info *info, hl_error *err)
{
    if (size < 10 || memcmp(d, "\x93NUMPY", 6))
        return hl_error_set(err, HL_ERR_PARSE, "%s: not a .npy file", name);
    int major = d[6];
    size_t hlen, start;
    if (major == 1) {
        hlen = (size_t)d[8] | (size_t)d[9] << 8;
        start = 10;
    } else if (major == 2 || major == 3) {
        if (size < 12)
            return hl_error_set(err, HL_ERR_PARSE, "%s: truncated .npy header",
                                name);
        hlen = (size_t)d[8] | (size_t)d[9] << 8 | (size_t)d[10] << 16 |
               (size_t)d[11] << 24;
        start = 12;
    } else {
        return hl_error_set(err, HL_ERR_UNSUPPORTED,
                            "%s: .npy format version %d.%d not supported",
                            name, major, d[7]);
    }
    if (hlen > size - start || hlen > (1u << 20))
        return hl_error_set(err, HL_ERR_PARSE, "%s: truncated .npy header",
                            name);
    char *h = malloc(hlen + 1);
    if (!h)
        return hl_error_set(err, HL_ERR_NOMEM, "%s: out of memory", name);
    memcpy(h, d + start, hlen);
    h[hlen] = '\0';
    hl_status st = HL_OK;

    const char *v = find_key(h, "descr");
    char descr[16] = "";
    if (v && (*v == '\'' || *v == '"')) {
        char q = *v++;
        size_t k = 0;
        while (v[k] && v[k] != q && k < sizeof descr - 1) {
            /* printable only: it may end up in a message */
            descr[k] = v[k] >= 0x20 && v[k] < 0x7F ? v[k] : '?';
            k++;
        }
        descr[k] = '\0';
    }
    if (!descr[0]) {
        st = hl_error_set(err, HL_ERR_PARSE, "%s: .npy header has no 'descr'",
                          name);
        goto done;
    }
    char order = descr[0];
    const char *t = descr + 1;
    if (order != '<' && order != '|' && order != '=') {
        st = hl_error_set(err, HL_ERR_UNSUPPORTED,
                          order == '>' ? "%s: big-endian .npy data ('%s') not"
                          " supported; save it little-endian"
                                       : "%s: unsupported .npy dtype '%s'",
                          name, descr);
        goto done;
    }
    static const struct { const char *code; npy_type type; size_t item; }
        types[] = {{"f4", NPY_F4, 4}, {"f8", NPY_F8, 8}, {"i4", NPY_I4, 4},
                   {"i8", NPY_I8, 8}, {"u1", NPY_U1, 1}, {"b1", NPY_B1, 1}};
    int found = 0;
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
        if (!strcmp(t, types[i].code)) {
            info->type = types[i].type;
            info->item = types[i].item;
            found = 1;
        }
    if (!found) {
        st = hl_error_set(err, HL_ERR_UNSUPPORTED,
                          "%s: .npy dtype '%s' not supported (float32, "
                          "float64, int32, int64, uint8, bool)", name, descr);
        goto done;
    }
    v = find_key(h, "fortran_order");
    if (!v || (strncmp(v, "False", 5) && strncmp(v, "True", 4))) {
        st = hl_error_set(err, HL_ERR_PARSE,
                          "%s: .npy header has no 'fortran_order'", name);
        goto done;
    }
    if (!strncmp(v, "True", 4)) {
        st = hl_error_set(err, HL_ERR_UNSUPPORTED,
                          "%s: Fortran-order .npy not supported; save a "
                          "C-contiguous array (np.ascontiguousarray)", name);
        goto done;
    }
    v = find_key(h, "shape");
    if (!v || *v != '(') {
        st = hl_error_set(err, HL_ERR_PARSE, "%s: .npy header has no 'shape'",
                          name);
        goto done;
    }
    v++;
    info->shape.ndim = 0;
    size_t count = 1;
    for (;;) {
        while (*v == ' ')
            v++;
        if (*v == ')')
            break;
        char *e;
        errno = 0;
        long long dim = strtoll(v, &e, 10);
        if (e == v || errno || dim < 0) {
            st = hl_error_set(err, HL_ERR_PARSE, "%s: bad .npy shape", name);
            goto done;
        }
        if (info->shape.ndim == HL_MAX_DIMS) {
            st = hl_error_set(err, HL_ERR_UNSUPPORTED,
                              "%s: .npy array has more than %d dimensions",
                              name, HL_MAX_DIMS);
            goto done;
        }
        info->shape.dims[info->shape.ndim++] = dim;
        if (dim && count > ((size_t)1 << 40) / (size_t)dim) {
            st = hl_error_set(err, HL_ERR_UNSUPPORTED,
                              "%s: .npy array too large", name);
            goto done;
        }
        count *= (size_t)dim;
        v = e;
        while (*v == ' ' || *v == 'L')
            v++;
        if (*v == ',')
            v++;
        else if (*v != ')') {
            st = hl_error_set(err, HL_ERR_PARSE, "%s: bad .npy shape", name);
            goto done;
        }
    }
    if (count > (size - start - hlen) / info->item) {
        st = hl_error_set(err, HL_ERR_PARSE,
                          "%s: truncated .npy data (%zu elements of %zu bytes"
                          " expected, %zu bytes present)", name, count,
                          info->item, size - start - hlen);
        goto done;
    }
    info->count = count;
    info->data = d + start + hlen;
done:
    free(h);
    return st;
}

static double element(const npy_info *in, size_t i)
{
    const unsigned char *p = in->data + i * in->item;
    switch (in->type) {
    case NPY_F4: { float f; memcpy(&f, p, 4); return f; }
    case NPY_F8: { double f; memcpy(&f, p, 8); return f; }
    case NPY_I4: { int32_t v; memcpy(&v, p, 4); return v; }
    case NPY_I8: { int64_t v; memcpy(&v, p, 8); return (double)v; }
    case NPY_U1: return *p;
    case NPY_B1: return *p != 0;
    }
    return 0;
}

static int64_t element_int(const npy_info *in, size_t i)
{
    const unsigned char *p = in->data + i * in->item;
    switch (in->type) {
    case NPY_I4: { int32_t v; memcpy(&v, p, 4); return v; }
    case NPY_I8: { int64_t v; memcpy(&v, p, 8); return v; }
    case NPY_U1: return *p;
    case NPY_B1: return *p != 0;
    default: return 0;
    }
}

hl_status hl_npy_read_buffer(const void *data, size_t size,
                             const char *display_name, hl_array **out,
                             hl_error *err)
{
    const char *name = display_name ? display_name : "(buffer)";
    if (!out)
        return hl_error_set(err, HL_ERR_ARG, "%s: no output array", name);
    *out = NULL;
    npy_info in;
    hl_status st = parse_header(data, data ? size : 0, name, &in, err);
    if (st != HL_OK)
        return st;
    hl_array *a = hl_array_new(&in.shape);
    if (!a)
        return hl_error_set(err, HL_ERR_NOMEM, "%s: out of memory", name);
    if (in.type == NPY_F4)
        memcpy(a->data, in.data, in.count * 4);
    else
        for (size_t i = 0; i < in.count; i++)
            a->data[i] = (float)element(&in, i);
    *out = a;
    return HL_OK;
}

/* A .npy starts with "\x93NUMPY": anything else is refused unread. */
static hl_status npy_head_check(const char *path, const unsigned char *d,
                                size_t n, uint64_t file_size, void *user,
                                hl_error *err)
{
    (void)file_size;
    (void)user;
    if (n < 6 || memcmp(d, "\x93NUMPY", 6) != 0)
        return hl_error_set(err, HL_ERR_PARSE,
                            "%s: not a .npy file", path);
    return HL_OK;
}

static hl_status read_file(const char *path, unsigned char **buf, size_t *len,
                           hl_error *err)
{
    return hl_file_read(path, ".npy", HL_MAX_NPY_BYTES, 6,
                        npy_head_check, NULL, buf, len, err);
}

hl_status hl_npy_read(const char *path, hl_array **out, hl_error *err)
{
    unsigned char *buf;
    size_t len;
    if (out)
        *out = NULL;
    hl_status st = read_file(path, &buf, &len, err);
    if (st != HL_OK)
        return st;
    st = hl_npy_read_buffer(buf, len, path, out, err);
    free(buf);
    return st;
}

hl_status hl_npy_read_int64(const char *path, int64_t **data, hl_shape *shape,
                            hl_error *err)
{
    unsigned char *buf;
    size_t len;
    if (!data || !shape)
        return hl_error_set(err, HL_ERR_ARG, "npy: no output given");
    *data = NULL;
    hl_status st = read_file(path, &buf, &len, err);
    if (st != HL_OK)
        return st;
    npy_info in;
    st = parse_header(buf, len, path, &in, err);
    if (st == HL_OK && (in.type == NPY_F4 || in.type == NPY_F8))
        st = hl_error_set(err, HL_ERR_UNSUPPORTED,
                          "%s: expected an integer array (int32, int64, "
                          "uint8 or bool), found floats", path);
    if (st == HL_OK) {
        *data = malloc(sizeof(int64_t) * (in.count ? in.count : 1));
        if (!*data) {
            st = hl_error_set(err, HL_ERR_NOMEM, "%s: out of memory", path);
        } else {
            for (size_t i = 0; i < in.count; i++)
                (*data)[i] = element_int(&in, i);
            *shape = in.shape;
        }
    }
    free(buf);
    return st;
}

hl_status hl_npy_write(const char *path, const hl_array *a, hl_error *err)
{
    if (!path || !a || !a->data || a->shape.ndim < 0 ||
        a->shape.ndim > HL_MAX_DIMS)
        return hl_error_set(err, HL_ERR_ARG, "npy write: bad arguments");
    char dict[512];
    int n = snprintf(dict, sizeof dict,
                     "{'descr': '<f4', 'fortran_order': False, 'shape': (");
    for (int i = 0; i < a->shape.ndim; i++)
        n += snprintf(dict + n, sizeof dict - (size_t)n, "%s%lld",
                      i ? ", " : "", (long long)a->shape.dims[i]);
    if (a->shape.ndim == 1)
        n += snprintf(dict + n, sizeof dict - (size_t)n, ",");
    n += snprintf(dict + n, sizeof dict - (size_t)n, "), }");
    /* Pad with spaces so the data starts at a multiple of 64 bytes. */
    size_t total = 10 + (size_t)n + 1;
    size_t pad = (64 - total % 64) % 64;
    size_t hlen = (size_t)n + pad + 1;
    unsigned char head[10] = {0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0,
                              (unsigned char)(hlen & 0xFF),
                              (unsigned char)(hlen >> 8)};

    size_t plen = strlen(path);
    char *tmp = malloc(plen + 16);
    if (!tmp)
        return hl_error_set(err, HL_ERR_NOMEM, "%s: out of memory", path);
    snprintf(tmp, plen + 16, "%s.tmp-XXXXXX", path);
    int fd = mkstemp(tmp);
    if (fd < 0) {
        hl_status st = hl_error_set(err, HL_ERR_IO, "%s: cannot create: %s",
                                    path, strerror(errno));
        free(tmp);
        return st;
    }
    fchmod(fd, 0644);
    FILE *f = fdopen(fd, "wb");
    if (!f) {
        close(fd);
        unlink(tmp);
        free(tmp);
        return hl_error_set(err, HL_ERR_IO, "%s: cannot write", path);
    }
    int ok = fwrite(head, 1, 10, f) == 10 &&
             fwrite(dict, 1, (size_t)n, f) == (size_t)n;
    for (size_t i = 0; ok && i < pad; i++)
        ok = fputc(' ', f) != EOF;
    ok = ok && fputc('\n', f) != EOF;
    size_t count = (size_t)hl_shape_numel(&a->shape);
    /* float32 little-endian: the in-memory layout on every supported host */
    ok = ok && fwrite(a->data, sizeof(float), count, f) == count;
    ok = ok && fflush(f) == 0;
    ok = (fclose(f) == 0) && ok;
    if (!ok || rename(tmp, path) != 0) {
        hl_status st = hl_error_set(err, HL_ERR_IO, "%s: write failed: %s",
                                    path, strerror(errno));
        unlink(tmp);
        free(tmp);
        return st;
    }
    free(tmp);
    return HL_OK;
}
