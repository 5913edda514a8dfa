/* ONNX AttributeProto -> hl_attr, copied into the model arena: kernels
 * never see protobuf. */
#include <stdio.h>
#include <string.h>

#include "onnx_loader.h"

hl_status hl_onnx_attrs(loader *L, const Onnx__NodeProto *np,
                        const char *node_name, hl_attrs *as)
{
    hl_arena *ar = &L->m->arena;
    as->n = 0;
    as->a = NULL;
    if (np->n_attribute == 0)
        return HL_OK;
    as->a = hl_arena_alloc(ar, np->n_attribute * sizeof(hl_attr));
    if (!as->a)
        return hl_error_set(L->err, HL_ERR_NOMEM, "%s: out of memory", L->file);
    for (size_t k = 0; k < np->n_attribute; k++) {
        const Onnx__AttributeProto *ap = np->attribute[k];
        hl_attr *a = &as->a[as->n];
        a->name = hl_arena_strdup(ar, ap->name ? ap->name : "");
        int type = ap->has_type ? (int)ap->type : 0;
        if (ap->ref_attr_name && ap->ref_attr_name[0])
            return hl_error_set(L->err, HL_ERR_UNSUPPORTED,
                                "%s: node '%s' (%s): attribute %s refers to "
                                "a function attribute", L->file, node_name,
                                np->op_type, a->name);
        a->type = (hl_attr_type)type;
        switch (type) {
        case HL_ATTR_FLOAT: a->f = ap->f; break;
        case HL_ATTR_INT: a->i = ap->i; break;
        case HL_ATTR_STRING: {
            char *s = hl_arena_alloc(ar, ap->s.len + 1);
            if (!s)
                return hl_error_set(L->err, HL_ERR_NOMEM, "%s: out of memory",
                                    L->file);
            if (ap->s.len)
                memcpy(s, ap->s.data, ap->s.len);
            a->s = s;
            break;
        }
        case HL_ATTR_TENSOR: {
            if (!ap->t)
                return hl_error_set(L->err, HL_ERR_PARSE,
                                    "%s: node '%s' (%s): tensor attribute %s "
                                    "has no tensor", L->file, node_name,
                                    np->op_type, a->name);
            a->t = hl_arena_alloc(ar, sizeof(hl_tensor));
            char what[400];
            snprintf(what, sizeof what, "node '%s' (%s): attribute %s",
                     node_name, np->op_type, a->name);
            hl_status st = hl_onnx_tensor(ap->t, ar, L->file, what, a->t,
                                             L->err);
            if (st)
                return st;
            break;
        }
        case HL_ATTR_FLOATS:
            a->n = (int)ap->n_floats;
            a->floats = hl_arena_alloc(ar, (ap->n_floats + 1) * sizeof(float));
            if (ap->n_floats)
                memcpy(a->floats, ap->floats, ap->n_floats * sizeof(float));
            break;
        case HL_ATTR_INTS:
            a->n = (int)ap->n_ints;
            a->ints = hl_arena_alloc(ar, (ap->n_ints + 1) * sizeof(int64_t));
            if (ap->n_ints)
                memcpy(a->ints, ap->ints, ap->n_ints * sizeof(int64_t));
            break;
        case HL_ATTR_STRINGS:
            /* kept as a count only: no supported op reads string lists */
            a->n = (int)ap->n_strings;
            break;
        default:
            return hl_error_set(L->err, HL_ERR_UNSUPPORTED,
                                "%s: node '%s' (%s): attribute %s has an "
                                "unsupported type (%d: graph, sparse tensor "
                                "or type)", L->file, node_name, np->op_type,
                                a->name, type);
        }
        as->n++;
    }
    return HL_OK;
}
