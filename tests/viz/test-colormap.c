/* Colormaps against matplotlib 3.6's own output (values printed by
 * Colormap.__call__(t, bytes=True) for t = 0, 0.25, 0.499, 0.5, 0.75, 1),
 * and the name <-> enum functions. */
#include <string.h>
#include "tap.h"
#include "viz.h"

typedef struct expect {
    hl_colormap_id id;
    const char *name;
    unsigned char rgb[6][3];
} expect;

static const double ts[6] = {0.0, 0.25, 0.499, 0.5, 0.75, 1.0};

static const expect expected[] = {
    {HL_CMAP_RDWHGN, "rdwhgn", {{255, 0, 0}, {255, 128, 128}, {255, 254, 254},
                                {254, 254, 254}, {126, 190, 126}, {0, 128, 0}}},
    {HL_CMAP_GREENS, "greens", {{247, 252, 245}, {198, 232, 191}, {116, 196, 118},
                                {115, 195, 117}, {34, 138, 68}, {0, 68, 27}}},
    {HL_CMAP_REDS, "reds", {{255, 245, 240}, {252, 186, 160}, {251, 106, 74},
                            {250, 105, 73}, {202, 23, 28}, {103, 0, 12}}},
    {HL_CMAP_BLUES, "blues", {{247, 251, 255}, {197, 218, 238}, {107, 174, 214},
                              {106, 173, 213}, {32, 112, 180}, {8, 48, 107}}},
    {HL_CMAP_VIRIDIS, "viridis", {{68, 1, 84}, {58, 82, 139}, {32, 143, 140},
                                  {32, 144, 140}, {94, 201, 97}, {253, 231, 36}}},
    {HL_CMAP_INFERNO, "inferno", {{0, 0, 3}, {87, 15, 109}, {186, 54, 85},
                                  {187, 55, 84}, {249, 142, 8}, {252, 254, 164}}},
    {HL_CMAP_BWR, "bwr", {{0, 0, 255}, {128, 128, 255}, {254, 254, 255},
                          {255, 254, 254}, {255, 126, 126}, {255, 0, 0}}},
    {HL_CMAP_COOLWARM, "coolwarm", {{58, 76, 192}, {141, 175, 253}, {220, 220, 221},
                                    {221, 220, 219}, {243, 152, 121}, {179, 3, 38}}},
    {HL_CMAP_GRAY, "gray", {{0, 0, 0}, {64, 64, 64}, {127, 127, 127},
                            {128, 128, 128}, {192, 192, 192}, {255, 255, 255}}},
};

int main(void)
{
    for (size_t k = 0; k < sizeof expected / sizeof *expected; k++) {
        const expect *e = &expected[k];
        for (int i = 0; i < 6; i++) {
            unsigned char rgb[3];
            hl_colormap_lookup(e->id, ts[i], rgb);
            tap_ok(memcmp(rgb, e->rgb[i], 3) == 0,
                   "%s(%g) = %d,%d,%d (matplotlib %d,%d,%d)", e->name, ts[i],
                   rgb[0], rgb[1], rgb[2], e->rgb[i][0], e->rgb[i][1],
                   e->rgb[i][2]);
        }
        hl_colormap_id id;
        tap_ok(hl_colormap_from_name(e->name, &id, NULL) == HL_OK && id == e->id &&
               strcmp(hl_colormap_name(id), e->name) == 0,
               "colormap name %s round-trips", e->name);
    }
    /* Out of range clamps to the end colours (matplotlib's under/over). */
    unsigned char lo[3], hi[3];
    hl_colormap_lookup(HL_CMAP_BLUES, -0.5, lo);
    hl_colormap_lookup(HL_CMAP_BLUES, 7.0, hi);
    tap_ok(lo[0] == 247 && lo[1] == 251 && lo[2] == 255 && hi[0] == 8 &&
           hi[1] == 48 && hi[2] == 107, "under/over use the end colours");

    /* Captum's defaults per sign, and vmin/vmax. */
    tap_ok(hl_colormap_resolve(HL_CMAP_DEFAULT, HL_SIGN_ALL) == HL_CMAP_RDWHGN &&
           hl_colormap_resolve(HL_CMAP_DEFAULT, HL_SIGN_POSITIVE) == HL_CMAP_GREENS &&
           hl_colormap_resolve(HL_CMAP_DEFAULT, HL_SIGN_NEGATIVE) == HL_CMAP_REDS &&
           hl_colormap_resolve(HL_CMAP_DEFAULT, HL_SIGN_ABSOLUTE_VALUE) == HL_CMAP_BLUES &&
           hl_colormap_resolve(HL_CMAP_VIRIDIS, HL_SIGN_ALL) == HL_CMAP_VIRIDIS,
           "default colormap per sign as Captum");
    double vmin, vmax;
    hl_viz_sign_range(HL_SIGN_ALL, &vmin, &vmax);
    int ok = vmin == -1 && vmax == 1;
    hl_viz_sign_range(HL_SIGN_NEGATIVE, &vmin, &vmax);
    tap_ok(ok && vmin == 0 && vmax == 1, "vmin/vmax: all -1..1, others 0..1");

    /* Names */
    const char *modes[] = {"heat_map", "blended_heat_map", "masked_image",
                           "alpha_scaling", "original_image"};
    for (int i = 0; i < 5; i++) {
        hl_viz_mode m;
        tap_ok(hl_viz_mode_from_name(modes[i], &m, NULL) == HL_OK && (int)m == i &&
               strcmp(hl_viz_mode_name(m), modes[i]) == 0, "mode %s", modes[i]);
    }
    const char *signs[] = {"absolute_value", "positive", "negative", "all"};
    for (int i = 0; i < 4; i++) {
        hl_viz_sign s;
        tap_ok(hl_viz_sign_from_name(signs[i], &s, NULL) == HL_OK && (int)s == i &&
               strcmp(hl_viz_sign_name(s), signs[i]) == 0, "sign %s", signs[i]);
    }
    hl_viz_mode m;
    tap_ok(hl_viz_mode_from_name("Blended-Heat-Map", &m, NULL) == HL_OK &&
           m == HL_VIZ_BLENDED_HEAT_MAP, "'-' and case accepted");
    hl_error err = {0};
    tap_ok(hl_viz_mode_from_name("heatmap", &m, &err) == HL_ERR_ARG &&
           strstr(err.msg, "heatmap") && strstr(err.msg, "alpha_scaling"),
           "unknown mode names the valid ones: %s", err.msg);
    hl_viz_sign s;
    tap_ok(hl_viz_sign_from_name("abs", &s, &err) == HL_ERR_ARG &&
           strstr(err.msg, "absolute_value"), "unknown sign: %s", err.msg);
    hl_colormap_id c;
    tap_ok(hl_colormap_from_name("jet", &c, &err) == HL_ERR_ARG &&
           strstr(err.msg, "viridis"), "unknown colormap: %s", err.msg);
    tap_ok(strstr(hl_colormap_names(), "coolwarm") &&
           strstr(hl_viz_sign_names(), "negative") &&
           strstr(hl_viz_mode_names(), "original_image"), "name lists");
    return tap_done();
}
