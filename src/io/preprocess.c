/* From a photo to the model's input tensor: policy from defaults, model
 * metadata and user overrides; crop + resize in one resampling step. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "preprocess.h"

void hl_preprocess_defaults(hl_preprocess *p)
{
    static const float mean[3] = {0.485f, 0.456f, 0.406f};
    static const float std[3] = {0.229f, 0.224f, 0.225f};
    memset(p, 0, sizeof *p);
    p->width = p->height = 224;
    p->policy = HL_RESIZE_SHORTER_CROP;
    p->resize_shorter = 256;
    memcpy(p->mean, mean, sizeof mean);
    memcpy(p->std, std, sizeof std);
    p->scale = 1.0f / 255.0f;
    p->bgr = 0;
    p->channels = 3;
    p->crop_fraction = 0.875f;
}

/* ---------------------------------------------------------- value syntax */

static const char *skip_space(const char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    return s;
}

/* One number, optionally "a/b"; *end after it. */
static int parse_number(const char *s, double *out, const char **end)
{
    char *e;
    s = skip_space(s);
    errno = 0;
    double v = strtod(s, &e);
    if (e == s || errno)
        return 0;
    e = (char *)skip_space(e);
    if (*e == '/') {
        const char *d = skip_space(e + 1);
        double den = strtod(d, &e);
        if (e == d || den == 0)
            return 0;
        v /= den;
        e = (char *)skip_space(e);
    }
    if (!isfinite(v))
        return 0;
    *out = v;
    *end = e;
    return 1;
}

/* "a" or "a,b,c" (n = 3) / "a,b" (n = 2); one value fills all when
 * allow_broadcast. Returns the count parsed (n) or 0. */
static int parse_list(const char *s, double *vals, int n, int allow_broadcast)
{
    int k = 0;
    const char *e;
    while (k < n) {
        if (!parse_number(s, &vals[k], &e))
            return 0;
        k++;
        if (*e == '\0')
            break;
        if (*e != ',' && *e != 'x')
            return 0;
        s = e + 1;
        if (k == n)
            return 0;   /* more values than expected */
    }
    if (k == 1 && allow_broadcast) {
        for (int i = 1; i < n; i++)
            vals[i] = vals[0];
        return n;
    }
    return k == n ? n : 0;
}

static hl_status set_key(hl_preprocess *p, const char *key, const char *value,
                         const char *where, hl_error *err)
{
    double v[3];
    hl_preprocess q = *p;
    if (!value)
        return hl_error_set(err, HL_ERR_ARG, "%s%s: missing value", where,
                            key);
    if (!strcmp(key, "input-size") || !strcmp(key, "input_size")) {
        if (parse_list(value, v, 2, 1) != 2 || v[0] < 1 || v[1] < 1 ||
            v[0] > 16384 || v[1] > 16384 || v[0] != floor(v[0]) ||
            v[1] != floor(v[1]))
            goto bad;
        q.width = (int)v[0];
        q.height = (int)v[1];
    } else if (!strcmp(key, "resize")) {
        const char *e;
        if (!strcasecmp(value, "stretch")) {
            q.policy = HL_RESIZE_STRETCH;
        } else if (!strncasecmp(value, "shorter:", 8)) {
            if (!parse_number(value + 8, &v[0], &e) || *e || v[0] < 1 ||
                v[0] > 65536 || v[0] != floor(v[0]))
                goto bad;
            q.policy = HL_RESIZE_SHORTER_CROP;
            q.resize_shorter = (int)v[0];
        } else if (!strncasecmp(value, "crop_fraction:", 14)) {
            if (!parse_number(value + 14, &v[0], &e) || *e || !(v[0] > 0) ||
                v[0] > 1)
                goto bad;
            q.policy = HL_RESIZE_CROP_FRACTION;
            q.crop_fraction = (float)v[0];
        } else {
            goto bad;
        }
    } else if (!strcmp(key, "mean") || !strcmp(key, "std")) {
        int is_std = key[0] == 's';
        if (parse_list(value, v, 3, 1) != 3)
            goto bad;
        for (int c = 0; c < 3; c++) {
            if (is_std && !(v[c] > 0))
                goto bad;
            (is_std ? q.std : q.mean)[c] = (float)v[c];
        }
    } else if (!strcmp(key, "scale")) {
        const char *e;
        if (!parse_number(value, &v[0], &e) || *e || !(v[0] > 0))
            goto bad;
        q.scale = (float)v[0];
    } else if (!strcmp(key, "channel-order") ||
               !strcmp(key, "channel_order")) {
        if (!strcasecmp(value, "rgb"))
            q.bgr = 0;
        else if (!strcasecmp(value, "bgr"))
            q.bgr = 1;
        else
            goto bad;
    } else if (!strcmp(key, "crop")) {
        if (strcasecmp(value, "center") && strcasecmp(value, "centre"))
            goto bad;
    } else {
        return hl_error_set(err, HL_ERR_ARG,
                            "%s%s: unknown preprocessing setting (input-size,"
                            " resize, mean, std, scale, channel-order)",
                            where, key);
    }
    *p = q;
    return HL_OK;
bad:
    return hl_error_set(err, HL_ERR_ARG, "%s%s: bad value \"%s\"", where, key,
                        value);
}

hl_status hl_preprocess_set(hl_preprocess *p, const char *key,
                            const char *value, hl_error *err)
{
    if (!p || !key)
        return hl_error_set(err, HL_ERR_ARG, "preprocess: no setting given");
    return set_key(p, key, value, "", err);
}

hl_status hl_preprocess_for_model(const hl_model *m, hl_preprocess *out,
                                  hl_error *err)
{
    static const char *keys[] = {"input_size", "resize", "crop", "mean",
                                 "std", "scale", "channel_order"};
    hl_preprocess p;
    hl_preprocess_defaults(&p);
    if (!m || !out)
        return hl_error_set(err, HL_ERR_ARG, "preprocess: no model");
    hl_shape s;
    hl_model_input_shape(m, &s);
    if (s.ndim != 4 || (s.dims[1] > 0 && s.dims[1] != 3 && s.dims[1] != 1))
        return hl_error_set(err, HL_ERR_UNSUPPORTED,
                            "%s: input is not an image batch [N,3,H,W] or [N,1,H,W]",
                            hl_model_name(m) ? hl_model_name(m) : "model");
    if (s.dims[1] == 1) {
        p.channels = 1;
        for (int c = 0; c < 3; c++)
            p.mean[c] = 0, p.std[c] = 1;
    }
    char where[300];
    snprintf(where, sizeof where, "%s: metadata heatlens.",
             hl_model_name(m) ? hl_model_name(m) : "model");
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        char full[64];
        snprintf(full, sizeof full, "heatlens.%s", keys[i]);
        const char *v = hl_model_metadata(m, full);
        if (!v)
            continue;
        hl_status st = set_key(&p, keys[i], v, where, err);
        if (st != HL_OK)
            return st;
    }
    if (s.dims[2] > 0 && s.dims[3] > 0) {
        p.height = (int)s.dims[2];
        p.width = (int)s.dims[3];
    }
    if (!hl_model_metadata(m, "heatlens.resize")) {
        /* torchvision's 256/224 ratio for other input sizes */
        int side = p.width < p.height ? p.width : p.height;
        p.resize_shorter = (int)floor(side * 256.0 / 224.0 + 0.5);
    }
    *out = p;
    return HL_OK;
}

/* ------------------------------------------------------------ apply */

hl_status hl_preprocess_apply(const hl_preprocess *p, const hl_image *photo,
                              hl_array **input, hl_crop_map *map,
                              float **image01, hl_error *err)
{
    if (input)
        *input = NULL;
    if (image01)
        *image01 = NULL;
    if (!p || !photo || !photo->rgb || photo->width <= 0 ||
        photo->height <= 0 || !input)
        return hl_error_set(err, HL_ERR_ARG, "preprocess: no photo");
    if (p->width <= 0 || p->height <= 0 || !(p->scale > 0) ||
        !(p->std[0] > 0 && p->std[1] > 0 && p->std[2] > 0))
        return hl_error_set(err, HL_ERR_ARG,
                            "preprocess: bad settings (input %dx%d)",
                            p->width, p->height);
    int W = photo->width, H = photo->height, w = p->width, h = p->height;
    double x0, y0, sx, sy;
    switch (p->policy) {
    case HL_RESIZE_STRETCH:
        x0 = y0 = 0;
        sx = (double)W / w;
        sy = (double)H / h;
        break;
    case HL_RESIZE_CROP_FRACTION: {
        double f = p->crop_fraction;
        if (!(f > 0) || f > 1)
            return hl_error_set(err, HL_ERR_ARG,
                                "preprocess: bad crop fraction %g", f);
        x0 = W * (1 - f) / 2;
        y0 = H * (1 - f) / 2;
        sx = W * f / w;
        sy = H * f / h;
        break;
    }
    default: {
        if (p->resize_shorter <= 0)
            return hl_error_set(err, HL_ERR_ARG,
                                "preprocess: bad resize size %d",
                                p->resize_shorter);
        /* Photo pixels per resized pixel; the centre w x h of the resized
         * photo is the window (no rounding of the resized size). */
        double s = (double)(W < H ? W : H) / p->resize_shorter;
        sx = sy = s;
        x0 = (W - w * s) / 2;
        y0 = (H - h * s) / 2;
        break;
    }
    }
    size_t plane = (size_t)w * (size_t)h;
    float *px = malloc(sizeof(float) * plane * 3);
    if (!px)
        return hl_error_set(err, HL_ERR_NOMEM, "preprocess: out of memory");
    hl_status st = hl_image_resample_region(photo, x0, y0, w * sx, h * sy,
                                            w, h, px, err);
    if (st != HL_OK) {
        free(px);
        return st;
    }
    int channels = p->channels == 1 ? 1 : 3;
    if (channels == 1)
        for (size_t i = 0; i < plane; i++) /* grey level in place, slot 0 */
            px[3 * i] = 0.299f * px[3 * i] + 0.587f * px[3 * i + 1] + 0.114f * px[3 * i + 2];
    hl_shape shape = {4, {1, channels, h, w}};
    hl_array *a = hl_array_new(&shape);
    float *img01 = image01 ? malloc(sizeof(float) * plane * channels) : NULL;
    if (!a || (image01 && !img01)) {
        free(px);
        free(img01);
        hl_array_free(a);
        return hl_error_set(err, HL_ERR_NOMEM, "preprocess: out of memory");
    }
    for (int c = 0; c < channels; c++) {
        /* model channel c reads photo channel src_c */
        int src_c = channels == 3 && p->bgr ? 2 - c : c;
        float mean = p->mean[c], std = p->std[c];
        float *dst = a->data + (size_t)c * plane;
        for (size_t i = 0; i < plane; i++)
            dst[i] = (px[3 * i + (size_t)src_c] * p->scale - mean) / std;
        if (img01)
            for (size_t i = 0; i < plane; i++) {
                float v = px[3 * i + (size_t)c] / 255.0f;
                img01[(size_t)c * plane + i] = v < 0 ? 0 : v > 1 ? 1 : v;
            }
    }
    free(px);
    if (map) {
        map->x0 = x0;
        map->y0 = y0;
        map->sx = sx;
        map->sy = sy;
        map->photo_width = W;
        map->photo_height = H;
        map->input_width = w;
        map->input_height = h;
    }
    *input = a;
    if (image01)
        *image01 = img01;
    return HL_OK;
}
