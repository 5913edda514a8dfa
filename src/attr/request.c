/* Requests as pure data: the policy (default layer) applied and the files
 * a request names read and checked once, before hl_attribute_request; a
 * content hash and comparison for caches. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attr.h"
#include "feature_mask.h"
#include "../io/npy.h"

static int names_file(const char *spec)
{
    size_t n = strlen(spec);
    return n > 4 && strcmp(spec + n - 4, ".npy") == 0;
}

static int uses(const hl_method_desc *m, const char *param)
{
    for (int i = 0; m->params && m->params[i]; i++)
        if (strcmp(m->params[i], param) == 0)
            return 1;
    return 0;
}

/* C*H*W of the model input when every one is known, else 0. */
static int64_t input_row(const hl_model *model, hl_shape *s)
{
    hl_model_input_shape(model, s);
    int64_t n = 1;
    for (int i = 1; i < s->ndim; i++) {
        if (s->dims[i] <= 0)
            return 0;
        n *= s->dims[i];
    }
    return s->ndim >= 2 ? n : 0;
}

static hl_status read_baseline(hl_attr_request *r, const hl_model *model,
                               hl_error *err)
{
    const char *path = r->params.baseline;
    hl_status st = hl_npy_read(path, &r->baseline, err);
    if (st != HL_OK)
        return st;
    hl_shape in;
    int64_t row = input_row(model, &in);
    if (row && hl_shape_numel(&r->baseline->shape) != row) {
        char a[96], b[96];
        return hl_error_set(err, HL_ERR_SHAPE,
                            "--baseline %s: shape %s does not match the "
                            "model input %s", path,
                            hl_shape_format(&r->baseline->shape, a, sizeof a),
                            hl_shape_format(&in, b, sizeof b));
    }
    return HL_OK;
}

static hl_status read_baseline_set(hl_attr_request *r, const hl_model *model,
                                   hl_error *err)
{
    const char *path = r->params.baselines_npy;
    hl_status st = hl_npy_read(path, &r->baselines, err);
    if (st != HL_OK)
        return st;
    hl_shape in;
    int64_t row = input_row(model, &in);
    const hl_shape *s = &r->baselines->shape;
    int ok = s->ndim >= 3 && s->ndim <= 4 && hl_shape_numel(s) > 0;
    for (int i = 1; ok && row && i <= 3; i++)
        ok = s->dims[s->ndim - i] == in.dims[in.ndim - i];
    if (!ok) {
        char got[96], want[96];
        return hl_error_set(err, HL_ERR_SHAPE,
                            "baselines %s: shape %s, expected [K,C,H,W] with "
                            "C,H,W of the model input %s", path,
                            hl_shape_format(s, got, sizeof got),
                            hl_shape_format(&in, want, sizeof want));
    }
    return HL_OK;
}

static hl_status read_mask(hl_attr_request *r, const hl_model *model,
                           hl_error *err)
{
    const char *path = r->params.feature_mask;
    hl_status st = hl_npy_read_int64(path, &r->mask_ids, &r->mask_shape, err);
    if (st != HL_OK)
        return st;
    hl_shape in;
    if (!input_row(model, &in) || in.ndim != 4)
        return HL_OK;   /* checked against the input when it runs */
    int mask_c;
    return hl_feature_mask_check_shape(&r->mask_shape, path, (int)in.dims[1],
                                       (int)in.dims[2], (int)in.dims[3],
                                       &mask_c, err);
}

/* --layer-mask FILE.npy: its ids, checked against the layer's shape. */
static hl_status read_layer_mask(hl_attr_request *r, const hl_model *model,
                                 hl_error *err)
{
    const char *path = r->params.layer_mask;
    hl_status st = hl_npy_read_int64(path, &r->layer_mask_ids,
                                     &r->layer_mask_shape, err);
    if (st != HL_OK)
        return st;
    int v = hl_model_find_value(model, r->params.layer);
    if (v >= 0 && r->params.attribute_to_layer_input)
        v = hl_model_layer_input(model, v);
    hl_shape s;
    if (v < 0 || hl_model_value_shape(model, v, &s) != HL_OK)
        return HL_OK;   /* the method names the layer's problem */
    s.dims[0] = 1;
    return hl_layer_mask_check_shape(&r->layer_mask_shape, &s, path, err);
}

hl_status hl_attr_request_prepare(hl_attr_request *r, const hl_model *model,
                                  const char *method,
                                  const hl_attr_params *params, hl_error *err)
{
    memset(r, 0, sizeof *r);
    const hl_method_desc *m = method ? hl_method_find(method) : NULL;
    if (!m)
        return hl_error_set(err, HL_ERR_ARG, "unknown method '%s' (valid: %s)",
                            method ? method : "(null)", hl_method_names());
    if (!model)
        return hl_error_set(err, HL_ERR_ARG, "%s: no model", m->name);
    r->method = m;
    if (params)
        r->params = *params;
    else
        hl_attr_params_init_for_method(&r->params, m->name);
    hl_attr_params *p = &r->params;
    hl_status st = HL_OK;
    if (m->needs_layer && p->layer[0] == '\0')
        st = hl_default_layer(model, p->layer, sizeof p->layer, err);
    if (st == HL_OK && uses(m, "baseline") && names_file(p->baseline))
        st = read_baseline(r, model, err);
    if (st == HL_OK && uses(m, "baselines") && p->baselines_npy[0])
        st = read_baseline_set(r, model, err);
    if (st == HL_OK && uses(m, "feature-mask") && names_file(p->feature_mask))
        st = read_mask(r, model, err);
    if (st == HL_OK && uses(m, "layer-mask") && names_file(p->layer_mask))
        st = read_layer_mask(r, model, err);
    if (st != HL_OK)
        hl_attr_request_clear(r);
    return st;
}

void hl_attr_request_clear(hl_attr_request *r)
{
    if (!r)
        return;
    hl_array_free(r->baseline);
    hl_array_free(r->baselines);
    free(r->mask_ids);
    free(r->layer_mask_ids);
    memset(r, 0, sizeof *r);
}

hl_status hl_attr_request_copy(hl_attr_request *dst, const hl_attr_request *src,
                               hl_error *err)
{
    *dst = *src;
    dst->baseline = src->baseline ? hl_array_copy(src->baseline) : NULL;
    dst->baselines = src->baselines ? hl_array_copy(src->baselines) : NULL;
    dst->mask_ids = NULL;
    size_t mask_bytes = src->mask_ids
        ? (size_t)hl_shape_numel(&src->mask_shape) * sizeof(int64_t) : 0;
    if (mask_bytes && (dst->mask_ids = malloc(mask_bytes)))
        memcpy(dst->mask_ids, src->mask_ids, mask_bytes);
    dst->layer_mask_ids = NULL;
    size_t lm_bytes = src->layer_mask_ids
        ? (size_t)hl_shape_numel(&src->layer_mask_shape) * sizeof(int64_t) : 0;
    if (lm_bytes && (dst->layer_mask_ids = malloc(lm_bytes)))
        memcpy(dst->layer_mask_ids, src->layer_mask_ids, lm_bytes);
    if ((src->baseline && !dst->baseline) || (src->baselines && !dst->baselines) ||
        (mask_bytes && !dst->mask_ids) || (lm_bytes && !dst->layer_mask_ids)) {
        hl_attr_request_clear(dst);
        return hl_error_set(err, HL_ERR_NOMEM, "out of memory copying a request");
    }
    return HL_OK;
}

/* The parameters the method uses, as text; a file parameter is written as
 * "file" (its content is compared separately). */
static void params_text(const hl_attr_request *r, char *buf, size_t size)
{
    size_t len = (size_t)snprintf(buf, size, "%s", r->method ? r->method->name : "");
    const hl_method_desc *m = r->method;
    for (int i = 0; m && m->params && m->params[i] && len < size; i++) {
        const hl_param_desc *d = hl_param_find(m->params[i]);
        if (!d)
            continue;
        char value[600];
        hl_param_format(&r->params, d, value, sizeof value);
        if ((strcmp(d->name, "baseline") == 0 && r->baseline) ||
            (strcmp(d->name, "baselines") == 0 && r->baselines) ||
            (strcmp(d->name, "feature-mask") == 0 && r->mask_ids) ||
            (strcmp(d->name, "layer-mask") == 0 && r->layer_mask_ids))
            snprintf(value, sizeof value, "file");
        len += (size_t)snprintf(buf + len, size - len, "|%s=%s", d->name, value);
    }
    if (m && m->needs_neuron && len < size)
        snprintf(buf + len, size - len, "|has-neuron=%d", r->params.has_neuron);
}

static uint64_t fnv(uint64_t h, const void *data, size_t n)
{
    const unsigned char *b = data;
    for (size_t i = 0; i < n; i++) {
        h ^= b[i];
        h *= 0x100000001b3ull;
    }
    return h;
}

static uint64_t hash_array(uint64_t h, const hl_array *a)
{
    if (!a)
        return fnv(h, "-", 1);
    h = fnv(h, &a->shape.ndim, sizeof a->shape.ndim);
    h = fnv(h, a->shape.dims, sizeof(int64_t) * (size_t)a->shape.ndim);
    return fnv(h, a->data, sizeof(float) * (size_t)hl_shape_numel(&a->shape));
}

static uint64_t files_hash(const hl_attr_request *r)
{
    uint64_t h = 0xcbf29ce484222325ull;
    h = hash_array(h, r->baseline);
    h = hash_array(h, r->baselines);
    if (r->mask_ids) {
        h = fnv(h, r->mask_shape.dims, sizeof(int64_t) * (size_t)r->mask_shape.ndim);
        h = fnv(h, r->mask_ids,
                sizeof(int64_t) * (size_t)hl_shape_numel(&r->mask_shape));
    }
    if (r->layer_mask_ids) {
        h = fnv(h, r->layer_mask_shape.dims,
                sizeof(int64_t) * (size_t)r->layer_mask_shape.ndim);
        h = fnv(h, r->layer_mask_ids,
                sizeof(int64_t) * (size_t)hl_shape_numel(&r->layer_mask_shape));
    }
    return h;
}

static int has_files(const hl_attr_request *r)
{
    return r->baseline || r->baselines || r->mask_ids || r->layer_mask_ids;
}

uint64_t hl_attr_request_hash(const hl_attr_request *r)
{
    char text[4096];
    params_text(r, text, sizeof text);
    uint64_t h = fnv(files_hash(r), text, strlen(text));
    return h;
}

static int arrays_equal(const hl_array *a, const hl_array *b)
{
    if (!a || !b)
        return a == b;
    return hl_shape_equal(&a->shape, &b->shape) &&
           memcmp(a->data, b->data,
                  sizeof(float) * (size_t)hl_shape_numel(&a->shape)) == 0;
}

static int ids_equal(const int64_t *a, const hl_shape *as, const int64_t *b,
                     const hl_shape *bs)
{
    if (!a || !b)
        return a == b;
    return hl_shape_equal(as, bs) &&
           memcmp(a, b, sizeof(int64_t) * (size_t)hl_shape_numel(as)) == 0;
}

int hl_attr_request_equal(const hl_attr_request *a, const hl_attr_request *b)
{
    char ta[4096], tb[4096];
    params_text(a, ta, sizeof ta);
    params_text(b, tb, sizeof tb);
    if (strcmp(ta, tb) != 0 || !arrays_equal(a->baseline, b->baseline) ||
        !arrays_equal(a->baselines, b->baselines))
        return 0;
    return ids_equal(a->mask_ids, &a->mask_shape, b->mask_ids, &b->mask_shape) &&
           ids_equal(a->layer_mask_ids, &a->layer_mask_shape, b->layer_mask_ids,
                     &b->layer_mask_shape);
}

void hl_attr_request_key(const hl_attr_request *r, char *buf, size_t size)
{
    params_text(r, buf, size);
    size_t len = strlen(buf);
    if (has_files(r) && len < size)
        snprintf(buf + len, size - len, "|files=%016" PRIx64, files_hash(r));
}
