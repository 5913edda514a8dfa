/* Lookup of parsed ONNX node attributes. An attribute of the wrong type
 * (pads given as floats) is never read as absent: the accessor marks it
 * and the loader refuses the node (hl_attrs_misread). */
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

/* `name` if its type is `type` or `also` (0: none); else NULL, and a
 * present attribute is marked as misread. */
static const hl_attr *find_as(const hl_attrs *as, const char *name,
                              hl_attr_type type, hl_attr_type also)
{
    if (!as)
        return NULL;
    for (int i = 0; i < as->n; i++) {
        hl_attr *a = &as->a[i];
        if (strcmp(a->name, name) != 0)
            continue;
        if (a->type == type || (also && a->type == also))
            return a;
        if (!a->misread)
            a->misread = type;
        return NULL;
    }
    return NULL;
}

const hl_attr *hl_attrs_typed(const hl_attrs *as, const char *name,
                              hl_attr_type type)
{
    return find_as(as, name, type, 0);
}

const hl_attr *hl_attrs_misread(const hl_attrs *as)
{
    for (int i = 0; as && i < as->n; i++)
        if (as->a[i].misread)
            return &as->a[i];
    return NULL;
}

const char *hl_attr_type_name(hl_attr_type t)
{
    switch (t) {
    case HL_ATTR_FLOAT: return "a float";
    case HL_ATTR_INT: return "an int";
    case HL_ATTR_STRING: return "a string";
    case HL_ATTR_TENSOR: return "a tensor";
    case HL_ATTR_FLOATS: return "floats";
    case HL_ATTR_INTS: return "ints";
    case HL_ATTR_STRINGS: return "strings";
    }
    return "an unknown type";
}

int64_t hl_attrs_int(const hl_attrs *as, const char *name, int64_t dflt)
{
    const hl_attr *a = find_as(as, name, HL_ATTR_INT, 0);
    return a ? a->i : dflt;
}

float hl_attrs_float(const hl_attrs *as, const char *name, float dflt)
{
    const hl_attr *a = find_as(as, name, HL_ATTR_FLOAT, HL_ATTR_INT);
    if (!a)
        return dflt;
    return a->type == HL_ATTR_FLOAT ? a->f : (float)a->i;
}

const char *hl_attrs_string(const hl_attrs *as, const char *name,
                            const char *dflt)
{
    const hl_attr *a = find_as(as, name, HL_ATTR_STRING, 0);
    return a && a->s ? a->s : dflt;
}

int hl_attrs_ints(const hl_attrs *as, const char *name, int64_t *out, int max)
{
    const hl_attr *a = find_as(as, name, HL_ATTR_INTS, 0);
    if (!a)
        return -1;
    for (int i = 0; i < a->n && i < max; i++)
        out[i] = a->ints[i];
    return a->n;
}
