/* Overlay modes with Captum's visualize_image_attr semantics, on the
 * model-input grid or on the full photo through the crop map. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "viz-private.h"

void hl_viz_options_init(hl_viz_options *o)
{
    memset(o, 0, sizeof *o);
    o->mode = HL_VIZ_HEAT_MAP;
    o->sign = HL_SIGN_ABSOLUTE_VALUE;
    o->outlier_perc = 2.0;
    o->cmap = HL_CMAP_DEFAULT;
    o->alpha_overlay = 0.5;
    o->outside_dim = 0.6;
    o->background = HL_VIZ_BG_WHITE;
}

hl_status hl_viz_check(const hl_viz_norm *n, const hl_viz_options *o,
                       hl_error *err)
{
    if ((unsigned)o->mode >= HL_VIZ_N_MODES)
        return hl_error_set(err, HL_ERR_ARG,
                            "visualisation mode %d: expected one of %s",
                            (int)o->mode, hl_viz_mode_names());
    if ((unsigned)o->sign >= HL_SIGN_N)
        return hl_error_set(err, HL_ERR_ARG, "sign %d: expected one of %s",
                            (int)o->sign, hl_viz_sign_names());
    if ((unsigned)o->cmap >= HL_CMAP_N)
        return hl_error_set(err, HL_ERR_ARG, "colormap %d: expected one of %s",
                            (int)o->cmap, hl_colormap_names());
    if (o->sign == HL_SIGN_ALL && o->mode == HL_VIZ_MASKED_IMAGE)
        return hl_error_set(err, HL_ERR_ARG,
                            "masked_image cannot show both positive and "
                            "negative attributions (sign all): choose sign "
                            "positive, negative or absolute_value");
    if (o->sign == HL_SIGN_ALL && o->mode == HL_VIZ_ALPHA_SCALING)
        return hl_error_set(err, HL_ERR_ARG,
                            "alpha_scaling cannot show both positive and "
                            "negative attributions (sign all): choose sign "
                            "positive, negative or absolute_value");
    if (!(o->alpha_overlay >= 0.0 && o->alpha_overlay <= 1.0))
        return hl_error_set(err, HL_ERR_ARG,
                            "alpha_overlay %g: must be between 0 and 1",
                            o->alpha_overlay);
    if (!(o->outside_dim >= 0.0 && o->outside_dim <= 1.0))
        return hl_error_set(err, HL_ERR_ARG,
                            "outside_dim %g: must be between 0 and 1",
                            o->outside_dim);
    if (n && hl_viz_norm_sign(n) != o->sign)
        return hl_error_set(err, HL_ERR_ARG,
                            "the attribution was normalised for sign %s but "
                            "is drawn with sign %s: normalise again",
                            hl_viz_sign_name(hl_viz_norm_sign(n)),
                            hl_viz_sign_name(o->sign));
    return HL_OK;
}

static uint8_t clamp_round(double v)
{
    v += 0.5;
    return (uint8_t)(v < 0.0 ? 0.0 : v > 255.0 ? 255.0 : v);
}

/* Everything one pixel's colour depends on besides the pixel itself. */
typedef struct pixel_ctx {
    const hl_viz_options *o;
    const uint8_t (*table)[3];
    double vmin, vmax;
    double gray_lo, gray_span;  /* blended: autoscale of mean(R,G,B) */
} pixel_ctx;

static void pixel_inside(const pixel_ctx *k, const uint8_t *p, float v,
                         int checker_dark, uint8_t *dst)
{
    const hl_viz_options *o = k->o;
    switch (o->mode) {
    case HL_VIZ_HEAT_MAP:
    case HL_VIZ_BLENDED_HEAT_MAP: {
        double t = ((double)v - k->vmin) / (k->vmax - k->vmin);
        double x = t * 256.0;
        int bin = x < 0.0 ? 0 : x >= 255.0 ? 255 : (int)x;
        const uint8_t *c = k->table[bin];
        if (o->mode == HL_VIZ_HEAT_MAP || !p) {
            memcpy(dst, c, 3);
            break;
        }
        double g = (((double)p[0] + p[1] + p[2]) / 3.0 - k->gray_lo) /
                   k->gray_span * 256.0;
        int gbin = g < 0.0 ? 0 : g >= 255.0 ? 255 : (int)g;
        const uint8_t *gc = hl_cmap_table_gray[gbin];
        double a = o->alpha_overlay;
        for (int i = 0; i < 3; i++)
            dst[i] = clamp_round(a * c[i] + (1.0 - a) * gc[i]);
        break;
    }
    case HL_VIZ_MASKED_IMAGE:
        /* _prepare_image: astype(int) truncates, then clip 0..255. */
        for (int i = 0; i < 3; i++) {
            double m = (double)p[i] * (double)v;
            dst[i] = m <= 0.0 ? 0 : m >= 255.0 ? 255 : (uint8_t)m;
        }
        break;
    case HL_VIZ_ALPHA_SCALING: {
        double av = (double)v * 255.0;
        int a = av <= 0.0 ? 0 : av >= 255.0 ? 255 : (int)av;
        int bg = o->background == HL_VIZ_BG_CHECKER
                     ? (checker_dark ? 153 : 204) : 255;
        for (int i = 0; i < 3; i++)
            dst[i] = clamp_round(((double)p[i] * a + (double)bg * (255 - a)) /
                                 255.0);
        break;
    }
    default:
        memcpy(dst, p, 3);
        break;
    }
}

static void pixel_outside(const pixel_ctx *k, const uint8_t *p, uint8_t *dst)
{
    double keep = 1.0 - k->o->outside_dim;
    if (!p) {
        dst[0] = dst[1] = dst[2] = 0;
    } else if (k->o->mode == HL_VIZ_BLENDED_HEAT_MAP) {
        double g = (((double)p[0] + p[1] + p[2]) / 3.0 - k->gray_lo) /
                   k->gray_span * 256.0;
        int gbin = g < 0.0 ? 0 : g >= 255.0 ? 255 : (int)g;
        uint8_t gv = clamp_round(hl_cmap_table_gray[gbin][0] * keep);
        dst[0] = dst[1] = dst[2] = gv;
    } else {
        for (int i = 0; i < 3; i++)
            dst[i] = clamp_round(p[i] * keep);
    }
}

/* Bilinear sample of the normalised map at model coordinates (u,v) of pixel
 * centres (pixel i has centre i), edges clamped. */
static float sample_bilinear(const float *vals, int w, int h, double u,
                             double v)
{
    u = u < 0.0 ? 0.0 : u > w - 1 ? w - 1 : u;
    v = v < 0.0 ? 0.0 : v > h - 1 ? h - 1 : v;
    int x0 = (int)u, y0 = (int)v;
    int x1 = x0 + 1 < w ? x0 + 1 : x0, y1 = y0 + 1 < h ? y0 + 1 : y0;
    double fx = u - x0, fy = v - y0;
    double top = vals[(size_t)y0 * w + x0] * (1 - fx) + vals[(size_t)y0 * w + x1] * fx;
    double bot = vals[(size_t)y1 * w + x0] * (1 - fx) + vals[(size_t)y1 * w + x1] * fx;
    return (float)(top * (1 - fy) + bot * fy);
}

hl_status hl_viz_render_rgb(const hl_viz_norm *n, const hl_image *photo,
                            const hl_crop_map *map, const hl_viz_options *o,
                            int width, int height, uint8_t *rgb, int stride,
                            hl_error *err)
{
    hl_status st = hl_viz_check(n, o, err);
    if (st)
        return st;
    if (!n)
        return hl_error_set(err, HL_ERR_ARG, "render: no attribution map");
    if (width < 1 || height < 1 || width > 32768 || height > 32768 ||
        stride < width * 3)
        return hl_error_set(err, HL_ERR_ARG,
                            "render: bad output size %dx%d (stride %d)",
                            width, height, stride);
    if (!photo && o->mode != HL_VIZ_HEAT_MAP)
        return hl_error_set(err, HL_ERR_ARG,
                            "render: %s needs the photo (only heat_map draws "
                            "without it)", hl_viz_mode_name(o->mode));
    int nw = hl_viz_norm_width(n), nh = hl_viz_norm_height(n);
    hl_crop_map m;
    if (map) {
        m = *map;
        if (m.input_width != nw || m.input_height != nh)
            return hl_error_set(err, HL_ERR_SHAPE,
                                "render: attribution is %dx%d but the crop "
                                "map's model input is %dx%d",
                                nw, nh, m.input_width, m.input_height);
        if (!(m.sx > 0.0 && m.sy > 0.0))
            return hl_error_set(err, HL_ERR_ARG,
                                "render: crop map scale %g,%g must be > 0",
                                m.sx, m.sy);
        if (photo && (photo->width != m.photo_width ||
                      photo->height != m.photo_height))
            return hl_error_set(err, HL_ERR_SHAPE,
                                "render: photo is %dx%d but the crop map was "
                                "made for %dx%d", photo->width, photo->height,
                                m.photo_width, m.photo_height);
    } else {
        int pw = photo ? photo->width : nw, ph = photo ? photo->height : nh;
        m = (hl_crop_map){0.0, 0.0, (double)pw / nw, (double)ph / nh,
                          pw, ph, nw, nh};
    }
    if (photo && (!photo->rgb || photo->width < 1 || photo->height < 1))
        return hl_error_set(err, HL_ERR_ARG, "render: empty photo");

    uint8_t *scaled = NULL;
    if (photo) {
        scaled = malloc((size_t)width * height * 3);
        if (!scaled)
            return hl_error_set(err, HL_ERR_NOMEM,
                                "render: out of memory for %dx%d", width,
                                height);
        hl_viz_resample_rgb(photo, width, height, scaled);
    }

    pixel_ctx k = {.o = o};
    k.table = hl_colormap_table(hl_colormap_resolve(o->cmap, o->sign));
    hl_viz_sign_range(o->sign, &k.vmin, &k.vmax);
    k.gray_lo = 0.0, k.gray_span = 1.0;
    if (photo && o->mode == HL_VIZ_BLENDED_HEAT_MAP) {
        /* imshow(mean, cmap="gray") autoscales to the data's min..max;
         * a flat image (span 0) maps to 0 as matplotlib's Normalize does. */
        double lo = 1e9, hi = -1e9;
        size_t np = (size_t)photo->width * photo->height;
        for (size_t i = 0; i < np; i++) {
            const uint8_t *p = photo->rgb + i * 3;
            double g = ((double)p[0] + p[1] + p[2]) / 3.0;
            lo = g < lo ? g : lo;
            hi = g > hi ? g : hi;
        }
        k.gray_lo = lo;
        k.gray_span = hi > lo ? hi - lo : 1e30;
    }

    const float *vals = hl_viz_norm_values(n);
    double to_px = (double)m.photo_width / width;
    double to_py = (double)m.photo_height / height;
    for (int y = 0; y < height; y++) {
        double py = (y + 0.5) * to_py;
        double my = (py - m.y0) / m.sy;   /* model units, 0..nh inside */
        uint8_t *row = rgb + (size_t)y * stride;
        for (int x = 0; x < width; x++) {
            double px = (x + 0.5) * to_px;
            double mx = (px - m.x0) / m.sx;
            const uint8_t *p = scaled ? scaled + ((size_t)y * width + x) * 3
                                      : NULL;
            if (mx >= 0.0 && mx < nw && my >= 0.0 && my < nh) {
                float v = sample_bilinear(vals, nw, nh, mx - 0.5, my - 0.5);
                pixel_inside(&k, p, v, ((x >> 3) ^ (y >> 3)) & 1, row + x * 3);
            } else {
                pixel_outside(&k, p, row + x * 3);
            }
        }
    }
    free(scaled);
    return HL_OK;
}

hl_status hl_viz_render_input(const hl_viz_norm *n, const hl_image *crop,
                              const hl_viz_options *o, hl_image **out,
                              hl_error *err)
{
    *out = NULL;
    if (!n)
        return hl_error_set(err, HL_ERR_ARG, "render: no attribution map");
    int w = hl_viz_norm_width(n), h = hl_viz_norm_height(n);
    if (crop && (crop->width != w || crop->height != h))
        return hl_error_set(err, HL_ERR_SHAPE,
                            "render: the model-input crop is %dx%d but the "
                            "attribution is %dx%d",
                            crop->width, crop->height, w, h);
    hl_image *img = hl_image_new(w, h);
    if (!img)
        return hl_error_set(err, HL_ERR_NOMEM, "render: out of memory");
    hl_status st = hl_viz_render_rgb(n, crop, NULL, o, w, h, img->rgb, w * 3,
                                     err);
    if (st) {
        hl_image_free(img);
        return st;
    }
    *out = img;
    return HL_OK;
}

hl_status hl_viz_render_surface(const hl_viz_norm *n, const hl_image *photo,
                                const hl_crop_map *map,
                                const hl_viz_options *o, int width,
                                int height, cairo_surface_t **out,
                                hl_error *err)
{
    *out = NULL;
    if (!n)
        return hl_error_set(err, HL_ERR_ARG, "render: no attribution map");
    if (width <= 0 || height <= 0) {
        width = photo ? photo->width : map ? map->photo_width
                                           : hl_viz_norm_width(n);
        height = photo ? photo->height : map ? map->photo_height
                                             : hl_viz_norm_height(n);
    }
    if (width > 32768 || height > 32768)
        return hl_error_set(err, HL_ERR_ARG, "render: size %dx%d too large",
                            width, height);
    uint8_t *rgb = malloc((size_t)width * height * 3);
    if (!rgb)
        return hl_error_set(err, HL_ERR_NOMEM, "render: out of memory");
    hl_status st = hl_viz_render_rgb(n, photo, map, o, width, height, rgb,
                                     width * 3, err);
    if (st) {
        free(rgb);
        return st;
    }
    cairo_surface_t *s = cairo_image_surface_create(CAIRO_FORMAT_RGB24, width,
                                                    height);
    if (cairo_surface_status(s) != CAIRO_STATUS_SUCCESS) {
        cairo_surface_destroy(s);
        free(rgb);
        return hl_error_set(err, HL_ERR_NOMEM,
                            "render: cannot create a %dx%d cairo surface",
                            width, height);
    }
    cairo_surface_flush(s);
    unsigned char *data = cairo_image_surface_get_data(s);
    int cs = cairo_image_surface_get_stride(s);
    for (int y = 0; y < height; y++) {
        uint32_t *dst = (uint32_t *)(void *)(data + (size_t)y * cs);
        const uint8_t *src = rgb + (size_t)y * width * 3;
        for (int x = 0; x < width; x++)
            dst[x] = 0xff000000u | (uint32_t)src[3 * x] << 16 |
                     (uint32_t)src[3 * x + 1] << 8 | src[3 * x + 2];
    }
    cairo_surface_mark_dirty(s);
    free(rgb);
    *out = s;
    return HL_OK;
}
