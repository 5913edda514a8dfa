/* Shapes and owned float arrays. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "engine.h"

int64_t hl_shape_numel(const hl_shape *s)
{
    int64_t n = 1;
    for (int i = 0; i < s->ndim; i++)
        n *= s->dims[i];
    return n;
}

int64_t hl_shape_numel_capped(const hl_shape *s, int64_t cap)
{
    if (s->ndim < 0 || s->ndim > HL_MAX_DIMS)
        return -1;
    int64_t n = 1;
    for (int i = 0; i < s->ndim; i++) {
        int64_t d = s->dims[i];
        if (d < 0)
            return -1;
        if (d > 0 && n > cap / d)
            return -1;
        n *= d;
    }
    return n;
}

int hl_shape_equal(const hl_shape *a, const hl_shape *b)
{
    if (a->ndim != b->ndim)
        return 0;
    for (int i = 0; i < a->ndim; i++)
        if (a->dims[i] != b->dims[i])
            return 0;
    return 1;
}

char *hl_shape_format(const hl_shape *s, char *buf, size_t size)
{
    size_t used = 0;
    if (size == 0)
        return buf;
    buf[0] = '\0';
    used += (size_t)snprintf(buf, size, "[");
    for (int i = 0; i < s->ndim && used < size; i++)
        used += (size_t)snprintf(buf + used, size - used, "%s%lld",
                                 i ? "," : "", (long long)s->dims[i]);
    if (used < size)
        snprintf(buf + used, size - used, "]");
    return buf;
}

hl_array *hl_array_new(const hl_shape *shape)
{
    int64_t n = hl_shape_numel(shape);
    if (n < 0 || shape->ndim < 0 || shape->ndim > HL_MAX_DIMS)
        return NULL;
    hl_array *a = calloc(1, sizeof *a);
    if (!a)
        return NULL;
    a->shape = *shape;
    a->data = calloc((size_t)(n > 0 ? n : 1), sizeof(float));
    if (!a->data) {
        free(a);
        return NULL;
    }
    return a;
}

hl_array *hl_array_copy(const hl_array *src)
{
    hl_array *a = hl_array_new(&src->shape);
    if (a)
        memcpy(a->data, src->data,
               (size_t)hl_shape_numel(&src->shape) * sizeof(float));
    return a;
}

void hl_array_free(hl_array *a)
{
    if (!a)
        return;
    free(a->data);
    free(a);
}
