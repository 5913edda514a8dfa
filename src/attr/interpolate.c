/* Captum's LayerAttribution.interpolate = PyTorch F.interpolate on the
 * layer map: "nearest" (src = floor(dst * in/out), float scale as PyTorch)
 * and "bilinear" with align_corners=False. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "attr-private.h"

static int nearest_index(int o, int in, int out)
{
    if (in == out)
        return o;
    float scale = (float)in / (float)out;
    int i = (int)floorf((float)o * scale);
    return i < in - 1 ? i : in - 1;
}

/* PyTorch's area_pixel_compute_source_index (align_corners=False) and the
 * linear weights of upsample_bilinear2d. */
static void linear_index(int o, int in, int out, int *i0, int *i1, float *l1)
{
    float scale = (float)in / (float)out;
    float src = scale * ((float)o + 0.5f) - 0.5f;
    if (src < 0.0f)
        src = 0.0f;
    int a = (int)src;
    if (a > in - 1)
        a = in - 1;
    *i0 = a;
    *i1 = a + (a < in - 1 ? 1 : 0);
    *l1 = src - (float)a;
}

void hl_attr_interpolate(const float *src, int maps, int ih, int iw,
                         float *dst, int oh, int ow, hl_interp mode)
{
    for (int m = 0; m < maps; m++) {
        const float *s = src + (size_t)m * ih * iw;
        float *d = dst + (size_t)m * oh * ow;
        for (int y = 0; y < oh; y++) {
            if (mode != HL_INTERP_BILINEAR) {
                const float *row = s + (size_t)nearest_index(y, ih, oh) * iw;
                for (int x = 0; x < ow; x++)
                    d[(size_t)y * ow + x] = row[nearest_index(x, iw, ow)];
                continue;
            }
            int y0, y1, x0, x1;
            float ly, lx;
            linear_index(y, ih, oh, &y0, &y1, &ly);
            for (int x = 0; x < ow; x++) {
                linear_index(x, iw, ow, &x0, &x1, &lx);
                float top = (1.0f - lx) * s[(size_t)y0 * iw + x0] + lx * s[(size_t)y0 * iw + x1];
                float bot = (1.0f - lx) * s[(size_t)y1 * iw + x0] + lx * s[(size_t)y1 * iw + x1];
                d[(size_t)y * ow + x] = (1.0f - ly) * top + ly * bot;
            }
        }
    }
}

hl_status hl_attr_store_layer_map(hl_attr_call *c, const float *map,
                                  const hl_shape *shape, hl_attr_result *out,
                                  hl_error *err)
{
    hl_shape s = *shape;
    s.dims[0] = 1;
    if (c->p->interpolate == HL_INTERP_NONE) {
        out->attr = hl_array_new(&s);
        if (!out->attr)
            return hl_error_set(err, HL_ERR_NOMEM, "out of memory (layer map)");
        memcpy(out->attr->data, map, sizeof(float) * (size_t)hl_shape_numel(&s));
        out->is_layer = 1;
        return HL_OK;
    }
    const hl_shape *in = &c->input->shape;
    if (s.ndim != 4 || in->ndim != 4)
        return hl_error_set(err, HL_ERR_SHAPE,
                            "--interpolate: the layer map must be 4-D [N,C,H,W] like the input (layer '%s')",
                            c->p->layer);
    hl_shape o = s;
    o.dims[2] = in->dims[2];
    o.dims[3] = in->dims[3];
    out->attr = hl_array_new(&o);
    if (!out->attr)
        return hl_error_set(err, HL_ERR_NOMEM, "out of memory (layer map)");
    hl_attr_interpolate(map, (int)s.dims[1], (int)s.dims[2], (int)s.dims[3],
                        out->attr->data, (int)o.dims[2], (int)o.dims[3],
                        c->p->interpolate);
    out->is_layer = 0;
    return HL_OK;
}

hl_array *hl_attr_on_input_grid(const hl_array *attr, int in_h, int in_w)
{
    const hl_shape *s = &attr->shape;
    if (s->ndim < 2 || in_h <= 0 || in_w <= 0)
        return NULL;
    int64_t h = s->dims[s->ndim - 2], w = s->dims[s->ndim - 1];
    if (h == in_h && w == in_w)
        return hl_array_copy(attr);
    if (h <= 0 || w <= 0)
        return NULL;
    hl_shape out_shape = *s;
    out_shape.dims[s->ndim - 2] = in_h;
    out_shape.dims[s->ndim - 1] = in_w;
    hl_array *out = hl_array_new(&out_shape);
    if (out)
        hl_attr_interpolate(attr->data, (int)(hl_shape_numel(s) / (h * w)),
                            (int)h, (int)w, out->data, in_h, in_w,
                            HL_ATTR_DISPLAY_INTERP);
    return out;
}
