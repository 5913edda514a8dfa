/* Lookup of parsed ONNX node attributes. */
#include <string.h>
#include "op.h"

const hl_attr *hl_attrs_find(const hl_attrs *as, const char *name)
{
    if (!as)
        return NULL;
    for (int i = 0; i < as->n; i++)
        if (strcmp(as->a[i].name, name) == 0)
            return &as->a[i];
    return NULL;
}

int64_t hl_attrs_int(const hl_attrs *as, const char *name, int64_t dflt)
{
    const hl_attr *a = hl_attrs_find(as, name);
    return a && a->type == HL_ATTR_INT ? a->i : dflt;
}

float hl_attrs_float(const hl_attrs *as, const char *name, float dflt)
{
    const hl_attr *a = hl_attrs_find(as, name);
    if (a && a->type == HL_ATTR_FLOAT)
        return a->f;
    if (a && a->type == HL_ATTR_INT)
        return (float)a->i;
    return dflt;
}

const char *hl_attrs_string(const hl_attrs *as, const char *name,
                            const char *dflt)
{
    const hl_attr *a = hl_attrs_find(as, name);
    return a && a->type == HL_ATTR_STRING && a->s ? a->s : dflt;
}

int hl_attrs_ints(const hl_attrs *as, const char *name, int64_t *out, int max)
{
    const hl_attr *a = hl_attrs_find(as, name);
    if (!a || a->type != HL_ATTR_INTS)
        return -1;
    for (int i = 0; i < a->n && i < max; i++)
        out[i] = a->ints[i];
    return a->n;
}
