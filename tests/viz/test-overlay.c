/* Every mode and sign on a 4x4 image against golden pixels computed here
 * from Captum's documented formulas (visualize_image_attr), with
 * matplotlib's colours for the bins used (0, 64, 128, 192, 255); then the
 * full-photo render through a crop map. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "tap.h"
#include "viz.h"

/* matplotlib 3.6: Colormap(bin / 256 + tiny, bytes=True) at bins
 * 0, 64, 128, 192, 255. */
typedef struct known_cmap {
    hl_colormap_id id;
    unsigned char rgb[5][3];
} known_cmap;

static const known_cmap known[] = {
    {HL_CMAP_BLUES, {{247, 251, 255}, {197, 218, 238}, {106, 173, 213},
                     {32, 112, 180}, {8, 48, 107}}},
    {HL_CMAP_GREENS, {{247, 252, 245}, {198, 232, 191}, {115, 195, 117},
                      {34, 138, 68}, {0, 68, 27}}},
    {HL_CMAP_REDS, {{255, 245, 240}, {252, 186, 160}, {250, 105, 73},
                    {202, 23, 28}, {103, 0, 12}}},
    {HL_CMAP_RDWHGN, {{255, 0, 0}, {255, 128, 128}, {254, 254, 254},
                      {126, 190, 126}, {0, 128, 0}}},
    {HL_CMAP_VIRIDIS, {{68, 1, 84}, {58, 82, 139}, {32, 144, 140},
                       {94, 201, 97}, {253, 231, 36}}},
};
/* matplotlib gray at the same bins */
static const unsigned char gray_known[5] = {0, 64, 128, 192, 255};

static const unsigned char *known_colour(hl_colormap_id id, double t)
{
    int bin = (int)floor(t * 256);
    bin = bin < 0 ? 0 : bin > 255 ? 255 : bin;
    int slot = bin == 0 ? 0 : bin == 64 ? 1 : bin == 128 ? 2 : bin == 192 ? 3
             : bin == 255 ? 4 : -1;
    for (size_t k = 0; k < sizeof known / sizeof *known; k++)
        if (known[k].id == id && slot >= 0)
            return known[k].rgb[slot];
    return NULL;
}

/* Attribution pattern with values 0..4 (four 4s at the end of the sort
 * make the threshold exactly 4 for outlier_perc 2). */
static const float A[16] = {0, 1, 2, 3,
                            4, 4, 4, 4,
                            3, 2, 1, 0,
                            4, 0, 4, 2};
/* Photo: grey levels whose mean hits the bins above, two coloured pixels
 * with the same means, min 0 and max 255. */
static const unsigned char P[16][3] = {
    {0, 0, 0},       {64, 64, 64},   {128, 128, 128}, {192, 192, 192},
    {255, 255, 255}, {192, 0, 0},    {255, 129, 0},   {64, 64, 64},
    {128, 128, 128}, {0, 0, 0},      {255, 255, 255}, {192, 192, 192},
    {10, 200, 174},  {64, 64, 64},   {100, 50, 42},   {128, 128, 128},
};

static hl_array *attr_from(const float *v, float offset)
{
    hl_shape s = {4, {1, 1, 4, 4}};
    hl_array *a = hl_array_new(&s);
    for (int i = 0; i < 16; i++)
        a->data[i] = v[i] + offset;
    return a;
}

static hl_image *photo_4x4(void)
{
    hl_image *img = hl_image_new(4, 4);
    memcpy(img->rgb, P, sizeof P);
    return img;
}

static int round_half_up(double x) { return (int)floor(x + 0.5); }

/* Expected pixel i of a 4x4 render by the documented formula. */
static void golden(hl_viz_mode mode, hl_viz_sign sign, hl_colormap_id cmap,
                   double alpha, double v, const unsigned char *p,
                   unsigned char *out, int *known_ok)
{
    double vmin = sign == HL_SIGN_ALL ? -1 : 0;
    double t = (v - vmin) / (1 - vmin);
    const unsigned char *c = known_colour(cmap, t);
    switch (mode) {
    case HL_VIZ_HEAT_MAP:
        if (!c) { *known_ok = 0; return; }
        memcpy(out, c, 3);
        return;
    case HL_VIZ_BLENDED_HEAT_MAP: {
        if (!c) { *known_ok = 0; return; }
        double mean = (p[0] + p[1] + p[2]) / 3.0; /* photo min 0, max 255 */
        int gbin = (int)floor(mean / 255.0 * 256);
        gbin = gbin > 255 ? 255 : gbin;
        int slot = gbin == 0 ? 0 : gbin == 64 ? 1 : gbin == 128 ? 2
                 : gbin == 192 ? 3 : gbin == 255 ? 4 : -1;
        if (slot < 0) { *known_ok = 0; return; }
        for (int k = 0; k < 3; k++)
            out[k] = (unsigned char)round_half_up(alpha * c[k] +
                                                  (1 - alpha) * gray_known[slot]);
        return;
    }
    case HL_VIZ_MASKED_IMAGE:
        for (int k = 0; k < 3; k++)
            out[k] = (unsigned char)(int)(p[k] * v);
        return;
    case HL_VIZ_ALPHA_SCALING: {
        int a = (int)(v * 255);
        for (int k = 0; k < 3; k++)
            out[k] = (unsigned char)round_half_up((p[k] * a + 255.0 * (255 - a)) / 255.0);
        return;
    }
    default:
        memcpy(out, p, 3);
        return;
    }
}

/* Expected normalised values of the patterns, by hand:
 *   absolute_value on A: A/4
 *   on S = A - 2 (values -2..2, threshold 2 for every sign):
 *   all: S/2; positive: max(S,0)/2; negative: -min(S,0)/2 */
static double expected_v(hl_viz_sign sign, int shifted, int i)
{
    double s = shifted ? A[i] - 2.0 : A[i];
    switch (sign) {
    case HL_SIGN_ALL: return shifted ? s / 2 : s / 4;
    case HL_SIGN_POSITIVE: return shifted ? fmax(s, 0) / 2 : s / 4;
    case HL_SIGN_NEGATIVE: return shifted ? -fmin(s, 0) / 2 : 0;
    default: return fabs(s) / (shifted ? 2 : 4);
    }
}

static void check_mode(hl_viz_mode mode, hl_viz_sign sign, int shifted,
                       hl_colormap_id cmap, double alpha)
{
    hl_array *a = attr_from(A, shifted ? -2.0f : 0.0f);
    hl_image *photo = photo_4x4();
    hl_viz_options o;
    hl_viz_options_init(&o);
    o.mode = mode, o.sign = sign, o.cmap = cmap, o.alpha_overlay = alpha;
    hl_viz_norm *n = NULL;
    hl_image *out = NULL;
    hl_error err = {0};
    hl_status st = hl_viz_normalize(a, sign, 2, &n, &err);
    if (!st)
        st = hl_viz_render_input(n, photo, &o, &out, &err);
    int bad = -1, known_ok = 1;
    unsigned char g[3] = {0, 0, 0};
    if (!st) {
        for (int i = 0; i < 16 && bad < 0; i++) {
            golden(mode, sign, hl_colormap_resolve(cmap, sign), alpha,
                   expected_v(sign, shifted, i), P[i], g, &known_ok);
            if (!known_ok || memcmp(g, out->rgb + 3 * i, 3) != 0)
                bad = i;
        }
    }
    tap_ok(!st && bad < 0 && known_ok,
           "%s / %s / %s alpha %g on %s: golden pixels%s%s", hl_viz_mode_name(mode),
           hl_viz_sign_name(sign), hl_colormap_name(cmap), alpha,
           shifted ? "A-2" : "A", st ? " error: " : "", st ? err.msg : "");
    if (bad >= 0)
        tap_diag("pixel %d: got %d,%d,%d expected %d,%d,%d", bad,
                 out->rgb[3 * bad], out->rgb[3 * bad + 1], out->rgb[3 * bad + 2],
                 g[0], g[1], g[2]);
    hl_image_free(out);
    hl_image_free(photo);
    hl_viz_norm_free(n);
    hl_array_free(a);
}

int main(void)
{
    /* Every mode x sign (both patterns), default colormaps. */
    for (int m = 0; m < HL_VIZ_N_MODES; m++)
        for (int s = 0; s < HL_SIGN_N; s++) {
            if (s == HL_SIGN_ALL && (m == HL_VIZ_MASKED_IMAGE ||
                                     m == HL_VIZ_ALPHA_SCALING))
                continue;
            check_mode((hl_viz_mode)m, (hl_viz_sign)s, 1, HL_CMAP_DEFAULT, 0.5);
            if (s == HL_SIGN_ABSOLUTE_VALUE || s == HL_SIGN_POSITIVE)
                check_mode((hl_viz_mode)m, (hl_viz_sign)s, 0, HL_CMAP_DEFAULT, 0.5);
        }
    check_mode(HL_VIZ_BLENDED_HEAT_MAP, HL_SIGN_ALL, 1, HL_CMAP_DEFAULT, 0.3);
    check_mode(HL_VIZ_HEAT_MAP, HL_SIGN_ALL, 1, HL_CMAP_VIRIDIS, 0.5);
    check_mode(HL_VIZ_BLENDED_HEAT_MAP, HL_SIGN_ABSOLUTE_VALUE, 0, HL_CMAP_VIRIDIS, 1.0);

    /* masked_image / alpha_scaling refuse sign all, as Captum. */
    hl_array *a = attr_from(A, -2.0f);
    hl_image *photo = photo_4x4();
    hl_viz_norm *n_all = NULL, *n_abs = NULL;
    hl_viz_normalize(a, HL_SIGN_ALL, 2, &n_all, NULL);
    hl_viz_normalize(a, HL_SIGN_ABSOLUTE_VALUE, 2, &n_abs, NULL);
    hl_viz_options o;
    hl_viz_options_init(&o);
    tap_ok(o.mode == HL_VIZ_HEAT_MAP && o.sign == HL_SIGN_ABSOLUTE_VALUE &&
           o.outlier_perc == 2 && o.alpha_overlay == 0.5 &&
           o.cmap == HL_CMAP_DEFAULT, "defaults are Captum's");
    hl_error err = {0};
    hl_image *out = NULL;
    o.sign = HL_SIGN_ALL;
    o.mode = HL_VIZ_MASKED_IMAGE;
    tap_ok(hl_viz_render_input(n_all, photo, &o, &out, &err) == HL_ERR_ARG &&
           !out && strstr(err.msg, "masked_image") &&
           strstr(err.msg, "positive and negative"),
           "masked_image + all refused: %s", err.msg);
    o.mode = HL_VIZ_ALPHA_SCALING;
    tap_ok(hl_viz_render_input(n_all, photo, &o, &out, &err) == HL_ERR_ARG &&
           strstr(err.msg, "alpha_scaling"), "alpha_scaling + all refused: %s",
           err.msg);
    o.mode = HL_VIZ_HEAT_MAP;
    tap_ok(hl_viz_render_input(n_abs, photo, &o, &out, &err) == HL_ERR_ARG &&
           strstr(err.msg, "normalise again"),
           "map normalised for another sign refused: %s", err.msg);
    o.sign = HL_SIGN_ABSOLUTE_VALUE;
    o.mode = HL_VIZ_MASKED_IMAGE;
    tap_ok(hl_viz_render_input(n_abs, NULL, &o, &out, &err) == HL_ERR_ARG,
           "masked_image without a photo refused: %s", err.msg);
    o.mode = HL_VIZ_HEAT_MAP;
    tap_ok(hl_viz_render_input(n_abs, NULL, &o, &out, &err) == HL_OK && out &&
           out->width == 4, "heat_map draws without a photo");
    hl_image_free(out);
    out = NULL;

    /* Alpha scaling on a checkerboard: a = 0 shows the background. */
    o.mode = HL_VIZ_ALPHA_SCALING;
    o.background = HL_VIZ_BG_CHECKER;
    hl_viz_render_input(n_abs, photo, &o, &out, &err);
    /* pixel (2,0): S = 0 -> v = 0 -> background light square (204) */
    tap_ok(out && out->rgb[6] == 204 && out->rgb[7] == 204,
           "alpha_scaling on the checker background");
    hl_image_free(out);
    out = NULL;

    /* Zero attribution: a neutral (all-zero) map, flagged, no NaN. */
    {
        hl_shape s = {4, {1, 3, 4, 4}};
        hl_array *z = hl_array_new(&s);
        hl_viz_norm *nz = NULL;
        hl_viz_options oz;
        hl_viz_options_init(&oz);
        int ok = hl_viz_normalize(z, HL_SIGN_ABSOLUTE_VALUE, 2, &nz, NULL) == HL_OK &&
                 hl_viz_norm_is_zero(nz) &&
                 hl_viz_render_input(nz, photo, &oz, &out, NULL) == HL_OK;
        /* every pixel is Blues(0) */
        for (int i = 0; ok && i < 16; i++)
            ok = out->rgb[3 * i] == 247 && out->rgb[3 * i + 1] == 251 &&
                 out->rgb[3 * i + 2] == 255;
        tap_ok(ok, "all-zero attribution draws the colormap's zero colour");
        hl_image_free(out);
        out = NULL;
        hl_viz_norm_free(nz);
        hl_array_free(z);
    }

    /* Full photo through a crop map: photo 8x6, crop at (2,1), scale 1.
     * Inside pixels equal the model-input render; outside are dimmed. */
    {
        hl_image *big = hl_image_new(8, 6);
        for (int y = 0; y < 6; y++)
            for (int x = 0; x < 8; x++)
                for (int k = 0; k < 3; k++)
                    big->rgb[(y * 8 + x) * 3 + k] =
                        (unsigned char)(30 + 20 * x + 7 * y + k);
        for (int y = 0; y < 4; y++)
            memcpy(big->rgb + ((y + 1) * 8 + 2) * 3, P[y * 4], 12);
        hl_crop_map map = {2, 1, 1, 1, 8, 6, 4, 4};
        for (int m = 0; m < HL_VIZ_N_MODES; m++) {
            if (m == HL_VIZ_BLENDED_HEAT_MAP)
                continue; /* grey autoscale covers the photo: checked below */
            hl_viz_options of;
            hl_viz_options_init(&of);
            of.mode = (hl_viz_mode)m;
            unsigned char rgb[8 * 6 * 3];
            hl_status st = hl_viz_render_rgb(n_abs, big, &map, &of, 8, 6, rgb,
                                             24, &err);
            int bad = st != HL_OK;
            for (int y = 0; y < 6 && !bad; y++)
                for (int x = 0; x < 8 && !bad; x++) {
                    unsigned char g[3];
                    const unsigned char *p = big->rgb + (y * 8 + x) * 3;
                    int known_ok = 1;
                    if (x >= 2 && x < 6 && y >= 1 && y < 5) {
                        int i = (y - 1) * 4 + (x - 2);
                        golden(of.mode, HL_SIGN_ABSOLUTE_VALUE, HL_CMAP_BLUES,
                               0.5, expected_v(HL_SIGN_ABSOLUTE_VALUE, 1, i),
                               P[i], g, &known_ok);
                    } else {
                        for (int k = 0; k < 3; k++)
                            g[k] = (unsigned char)round_half_up(p[k] * 0.4);
                    }
                    bad = !known_ok || memcmp(g, rgb + (y * 8 + x) * 3, 3) != 0;
                }
            tap_ok(!bad, "%s on the full photo: crop region exact, outside "
                   "dimmed to 40%%", hl_viz_mode_name(m));
        }
        /* The same as a cairo surface (RGB24 pixels). */
        cairo_surface_t *surf = NULL;
        hl_viz_options of;
        hl_viz_options_init(&of);
        unsigned char rgb[8 * 6 * 3];
        hl_viz_render_rgb(n_abs, big, &map, &of, 8, 6, rgb, 24, NULL);
        int ok = hl_viz_render_surface(n_abs, big, &map, &of, 0, 0, &surf,
                                       &err) == HL_OK &&
                 cairo_image_surface_get_width(surf) == 8 &&
                 cairo_image_surface_get_height(surf) == 6;
        for (int y = 0; ok && y < 6; y++)
            for (int x = 0; ok && x < 8; x++) {
                uint32_t px = ((uint32_t *)(void *)(cairo_image_surface_get_data(surf) +
                               y * cairo_image_surface_get_stride(surf)))[x];
                const unsigned char *q = rgb + (y * 8 + x) * 3;
                ok = (px & 0xffffff) == ((uint32_t)q[0] << 16 | (uint32_t)q[1] << 8 | q[2]);
            }
        tap_ok(ok, "cairo surface render has the same pixels");
        cairo_surface_destroy(surf);
        /* A map on a coarser grid than the model input (2x2 over the 4x4
         * crop) is stretched over the same crop: each grid cell covers 2x2
         * photo pixels, u = (x + 0.5 - 2) / 2 - 0.5 clamped to [0, 1]. */
        {
            const float g[4] = {0, 4, 2, 1}; /* threshold 4: values g/4 */
            hl_shape s2 = {2, {2, 2}};
            hl_array *a2 = hl_array_new(&s2);
            memcpy(a2->data, g, sizeof g);
            hl_viz_norm *n2 = NULL;
            hl_viz_normalize(a2, HL_SIGN_ABSOLUTE_VALUE, 2, &n2, NULL);
            hl_viz_options om;
            hl_viz_options_init(&om);
            om.mode = HL_VIZ_MASKED_IMAGE;
            hl_image *flat = hl_image_new(8, 6);
            memset(flat->rgb, 200, 8 * 6 * 3);
            hl_status st2 = hl_viz_render_rgb(n2, flat, &map, &om, 8, 6, rgb,
                                              24, &err);
            int worst = st2 == HL_OK ? 0 : 999;
            for (int y = 1; y < 5 && !st2; y++)
                for (int x = 2; x < 6; x++) {
                    double u = fmin(fmax((x + 0.5 - 2) / 2 - 0.5, 0), 1);
                    double v = fmin(fmax((y + 0.5 - 1) / 2 - 0.5, 0), 1);
                    double val = (g[0] * (1 - u) + g[1] * u) * (1 - v) +
                                 (g[2] * (1 - u) + g[3] * u) * v;
                    int e = (int)(200 * val / 4);
                    int d = abs(e - rgb[(y * 8 + x) * 3]);
                    worst = d > worst ? d : worst;
                }
            tap_ok(worst <= 1, "2x2 map stretched over the 4x4 crop (worst "
                   "difference %d) %s", worst, st2 ? err.msg : "");
            hl_image_free(flat);
            hl_viz_norm_free(n2);
            hl_array_free(a2);
        }
        hl_image_free(big);
    }

    /* Smooth upsampling: photo 8x8 constant 200, the 4x4 map scaled by 2;
     * masked_image = trunc(200 * v) with v bilinear at pixel centres:
     * model coordinate u = (x + 0.5) / 2 - 0.5, clamped to [0, 3]. */
    {
        hl_image *big = hl_image_new(8, 8);
        memset(big->rgb, 200, 8 * 8 * 3);
        hl_crop_map map = {0, 0, 2, 2, 8, 8, 4, 4};
        hl_viz_options of;
        hl_viz_options_init(&of);
        of.mode = HL_VIZ_MASKED_IMAGE;
        unsigned char rgb[16 * 16 * 3];
        /* render at 16x16: twice the photo; pixel centre -> photo (x+0.5)/2 */
        hl_status st = hl_viz_render_rgb(n_abs, big, &map, &of, 16, 16, rgb,
                                         48, &err);
        int worst = 0;
        for (int y = 0; y < 16; y++)
            for (int x = 0; x < 16; x++) {
                double px = (x + 0.5) / 2, py = (y + 0.5) / 2;
                double u = fmin(fmax(px / 2 - 0.5, 0), 3);
                double v = fmin(fmax(py / 2 - 0.5, 0), 3);
                int x0 = (int)u, y0 = (int)v;
                int x1 = x0 < 3 ? x0 + 1 : 3, y1 = y0 < 3 ? y0 + 1 : 3;
                double fx = u - x0, fy = v - y0;
#define NV(xx, yy) expected_v(HL_SIGN_ABSOLUTE_VALUE, 1, (yy) * 4 + (xx))
                double val = (NV(x0, y0) * (1 - fx) + NV(x1, y0) * fx) * (1 - fy) +
                             (NV(x0, y1) * (1 - fx) + NV(x1, y1) * fx) * fy;
#undef NV
                int e = (int)(200 * val);
                int d = abs(e - rgb[(y * 16 + x) * 3]);
                worst = d > worst ? d : worst;
            }
        tap_ok(st == HL_OK && worst <= 1,
               "upsampled 4x on the photo grid: bilinear attribution (worst "
               "difference %d)", worst);
        /* Downscale of the constant photo stays constant (original_image). */
        of.mode = HL_VIZ_ORIGINAL_IMAGE;
        unsigned char small[3 * 3 * 3];
        st = hl_viz_render_rgb(n_abs, big, &map, &of, 3, 3, small, 9, &err);
        int flat = st == HL_OK;
        for (int i = 0; flat && i < 27; i++)
            flat = small[i] == 200;
        tap_ok(flat, "area-averaged downscale of a flat photo stays flat");
        hl_image_free(big);
    }

    hl_viz_norm_free(n_all);
    hl_viz_norm_free(n_abs);
    hl_image_free(photo);
    hl_array_free(a);
    return tap_done();
}
