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
    /* Captum: the image itself is scaled, so a sign cannot be shown */
    if (o->sign == HL_SIGN_ALL && (o->mode == HL_VIZ_MASKED_IMAGE ||
                                   o->mode == HL_VIZ_ALPHA_SCALING))
        return hl_error_set(err, HL_ERR_ARG,
                            "%s cannot show both positive and negative "
                            "attributions (sign all): choose sign positive, "
                            "negative or absolute_value",
                            hl_viz_mode_name(o->mode));
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

static int colour_bin(double t)
{
    /* matplotlib: floor(t * N), clamped to the table (t = 1 -> N - 1) */
    double x = t * 256.0;
    return x < 0.0 ? 0 : x >= 255.0 ? 255 : (int)x;
}

/* Everything one pixel's colour depends on besides the pixel itself,
 * precomputed per render so the per-pixel work is a few lookups. */
typedef struct pixel_ctx {
    const hl_viz_options *o;
    const uint8_t (*table)[3];
    double vmin, vscale;        /* t = (v - vmin) * vscale */
    uint8_t gray_of_sum[766];   /* blended: gray LUT of autoscaled mean(R,G,B) */
    uint8_t dim[256];           /* outside the crop: p * (1 - outside_dim) */
} pixel_ctx;

static void pixel_inside(const pixel_ctx *k, const uint8_t *p, float v,
                         int checker_dark, uint8_t *dst)
{
    const hl_viz_options *o = k->o;
    switch (o->mode) {
    case HL_VIZ_HEAT_MAP:
    case HL_VIZ_BLENDED_HEAT_MAP: {
        const uint8_t *c = k->table[colour_bin(((double)v - k->vmin) * k->vscale)];
        if (o->mode == HL_VIZ_HEAT_MAP || !p) {
            memcpy(dst, c, 3);
            break;
        }
        double g = k->gray_of_sum[p[0] + p[1] + p[2]];
        double a = o->alpha_overlay;
        for (int i = 0; i < 3; i++)
            dst[i] = clamp_round(a * c[i] + (1.0 - a) * g);
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
    if (!p) {
        dst[0] = dst[1] = dst[2] = 0;
    } else if (k->o->mode == HL_VIZ_BLENDED_HEAT_MAP) {
        dst[0] = dst[1] = dst[2] = k->dim[k->gray_of_sum[p[0] + p[1] + p[2]]];
    } else {
        dst[0] = k->dim[p[0]], dst[1] = k->dim[p[1]], dst[2] = k->dim[p[2]];
    }
}

/* Bilinear sampling positions along one axis: output pixel i's centre in
 * model units is m; inside when 0 <= m < n; samples cells i0, i1 with
 * weight f on i1 (model pixel j has its centre at j + 0.5; edges clamp). */
typedef struct axis_samples {
    int *i0, *i1;
    float *f;
    uint8_t *inside;
} axis_samples;

static int axis_samples_init(axis_samples *a, int out, double to_photo,
                             double origin, double scale, int n)
{
    a->i0 = malloc((size_t)out * sizeof(int));
    a->i1 = malloc((size_t)out * sizeof(int));
    a->f = malloc((size_t)out * sizeof(float));
    a->inside = malloc((size_t)out);
    if (!a->i0 || !a->i1 || !a->f || !a->inside)
        return 0;
    for (int i = 0; i < out; i++) {
        double m = ((i + 0.5) * to_photo - origin) / scale;
        a->inside[i] = m >= 0.0 && m < n;
        double u = m - 0.5;
        u = u < 0.0 ? 0.0 : u > n - 1 ? n - 1 : u;
        int j = (int)u;
        a->i0[i] = j;
        a->i1[i] = j + 1 < n ? j + 1 : j;
        a->f[i] = (float)(u - j);
    }
    return 1;
}

static void axis_samples_free(axis_samples *a)
{
    free(a->i0);
    free(a->i1);
    free(a->f);
    free(a->inside);
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
        if (!(m.sx > 0.0 && m.sy > 0.0) || m.photo_width < 1 ||
            m.photo_height < 1 || m.input_width < 1 || m.input_height < 1)
            return hl_error_set(err, HL_ERR_ARG,
                                "render: crop map scale %g,%g / photo %dx%d "
                                "must be positive", m.sx, m.sy,
                                m.photo_width, m.photo_height);
        /* A coarser (or finer) grid than the model input, e.g. a layer
         * attribution not upsampled, covers the same crop. */
        m.sx *= (double)m.input_width / nw;
        m.sy *= (double)m.input_height / nh;
        m.input_width = nw, m.input_height = nh;
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

    pixel_ctx *k = calloc(1, sizeof *k);
    uint8_t *scaled = photo ? malloc((size_t)width * height * 3) : NULL;
    axis_samples ax = {0}, ay = {0};
    int ok = k && (!photo || scaled) &&
             axis_samples_init(&ax, width, (double)m.photo_width / width,
                               m.x0, m.sx, nw) &&
             axis_samples_init(&ay, height, (double)m.photo_height / height,
                               m.y0, m.sy, nh);
    if (!ok) {
        free(k);
        free(scaled);
        axis_samples_free(&ax);
        axis_samples_free(&ay);
        return hl_error_set(err, HL_ERR_NOMEM,
                            "render: out of memory for %dx%d", width, height);
    }
    if (photo)
        hl_viz_resample_rgb(photo, width, height, scaled);

    k->o = o;
    k->table = hl_colormap_table(hl_colormap_resolve(o->cmap, o->sign));
    double vmax;
    hl_viz_sign_range(o->sign, &k->vmin, &vmax);
    k->vscale = 1.0 / (vmax - k->vmin);
    for (int i = 0; i < 256; i++)
        k->dim[i] = clamp_round(i * (1.0 - o->outside_dim));
    if (photo && o->mode == HL_VIZ_BLENDED_HEAT_MAP) {
        /* imshow(mean, cmap="gray") autoscales to the data's min..max of
         * the whole photo; a flat photo maps to 0 as matplotlib's
         * Normalize does. Sums of R+G+B are exact integers. */
        int lo = 765, hi = 0;
        size_t np = (size_t)photo->width * photo->height;
        for (size_t i = 0; i < np; i++) {
            const uint8_t *p = photo->rgb + i * 3;
            int sum = p[0] + p[1] + p[2];
            lo = sum < lo ? sum : lo;
            hi = sum > hi ? sum : hi;
        }
        for (int sum = 0; sum <= 765; sum++) {
            double t = hi > lo ? (sum / 3.0 - lo / 3.0) / ((hi - lo) / 3.0)
                               : 0.0;
            k->gray_of_sum[sum] = hl_cmap_table_gray[colour_bin(t)][0];
        }
    }

    const float *vals = hl_viz_norm_values(n);
    for (int y = 0; y < height; y++) {
        uint8_t *row = rgb + (size_t)y * stride;
        const uint8_t *prow = scaled ? scaled + (size_t)y * width * 3 : NULL;
        const float *r0 = vals + (size_t)ay.i0[y] * nw;
        const float *r1 = vals + (size_t)ay.i1[y] * nw;
        float fy = ay.f[y];
        for (int x = 0; x < width; x++) {
            const uint8_t *p = prow ? prow + x * 3 : NULL;
            if (ay.inside[y] && ax.inside[x]) {
                int x0 = ax.i0[x], x1 = ax.i1[x];
                float fx = ax.f[x];
                float top = r0[x0] + (r0[x1] - r0[x0]) * fx;
                float bot = r1[x0] + (r1[x1] - r1[x0]) * fx;
                pixel_inside(k, p, top + (bot - top) * fy,
                             ((x >> 3) ^ (y >> 3)) & 1, row + x * 3);
            } else {
                pixel_outside(k, p, row + x * 3);
            }
        }
    }
    free(k);
    free(scaled);
    axis_samples_free(&ax);
    axis_samples_free(&ay);
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
