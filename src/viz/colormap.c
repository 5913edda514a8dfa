/* Colormaps (matplotlib's lookup tables) and the names of modes, signs and
 * colormaps. */
#include <ctype.h>
#include <math.h>
#include <string.h>
#include "viz-private.h"

static const char *const mode_names[HL_VIZ_N_MODES] = {
    "heat_map", "blended_heat_map", "masked_image", "alpha_scaling",
    "original_image",
};
static const char *const sign_names[HL_SIGN_N] = {
    "absolute_value", "positive", "negative", "all",
};
static const char *const cmap_names[HL_CMAP_N] = {
    "default", "rdwhgn", "greens", "reds", "blues", "viridis", "inferno",
    "bwr", "coolwarm", "gray",
};

int hl_viz_name_equal(const char *a, const char *b)
{
    for (;; a++, b++) {
        int ca = *a == '-' ? '_' : tolower((unsigned char)*a);
        int cb = *b == '-' ? '_' : tolower((unsigned char)*b);
        if (ca != cb)
            return 0;
        if (!ca)
            return 1;
    }
}

static int find_name(const char *const *names, int n, const char *name)
{
    if (!name)
        return -1;
    for (int i = 0; i < n; i++)
        if (hl_viz_name_equal(names[i], name))
            return i;
    return -1;
}

const char *hl_viz_mode_name(hl_viz_mode mode)
{
    return (unsigned)mode < HL_VIZ_N_MODES ? mode_names[mode] : "?";
}

const char *hl_viz_sign_name(hl_viz_sign sign)
{
    return (unsigned)sign < HL_SIGN_N ? sign_names[sign] : "?";
}

const char *hl_colormap_name(hl_colormap_id cmap)
{
    return (unsigned)cmap < HL_CMAP_N ? cmap_names[cmap] : "?";
}

const char *hl_viz_mode_names(void)
{
    return "heat_map, blended_heat_map, masked_image, alpha_scaling, "
           "original_image";
}

const char *hl_viz_sign_names(void)
{
    return "absolute_value, positive, negative, all";
}

const char *hl_colormap_names(void)
{
    return "default, rdwhgn, greens, reds, blues, viridis, inferno, bwr, "
           "coolwarm, gray";
}

hl_status hl_viz_mode_from_name(const char *name, hl_viz_mode *out,
                                hl_error *err)
{
    int i = find_name(mode_names, HL_VIZ_N_MODES, name);
    if (i < 0)
        return hl_error_set(err, HL_ERR_ARG,
                            "visualisation mode '%s': expected one of %s",
                            name ? name : "", hl_viz_mode_names());
    *out = (hl_viz_mode)i;
    return HL_OK;
}

hl_status hl_viz_sign_from_name(const char *name, hl_viz_sign *out,
                                hl_error *err)
{
    int i = find_name(sign_names, HL_SIGN_N, name);
    if (i < 0)
        return hl_error_set(err, HL_ERR_ARG,
                            "sign '%s': expected one of %s", name ? name : "",
                            hl_viz_sign_names());
    *out = (hl_viz_sign)i;
    return HL_OK;
}

hl_status hl_colormap_from_name(const char *name, hl_colormap_id *out,
                                hl_error *err)
{
    int i = find_name(cmap_names, HL_CMAP_N, name);
    if (i < 0)
        return hl_error_set(err, HL_ERR_ARG,
                            "colormap '%s': expected one of %s",
                            name ? name : "", hl_colormap_names());
    *out = (hl_colormap_id)i;
    return HL_OK;
}

hl_colormap_id hl_colormap_resolve(hl_colormap_id cmap, hl_viz_sign sign)
{
    if (cmap != HL_CMAP_DEFAULT && (unsigned)cmap < HL_CMAP_N)
        return cmap;
    switch (sign) {
    case HL_SIGN_ALL: return HL_CMAP_RDWHGN;
    case HL_SIGN_POSITIVE: return HL_CMAP_GREENS;
    case HL_SIGN_NEGATIVE: return HL_CMAP_REDS;
    default: return HL_CMAP_BLUES;
    }
}

const uint8_t (*hl_colormap_table(hl_colormap_id cmap))[3]
{
    switch (cmap) {
    case HL_CMAP_RDWHGN: return hl_cmap_table_rdwhgn;
    case HL_CMAP_GREENS: return hl_cmap_table_greens;
    case HL_CMAP_REDS: return hl_cmap_table_reds;
    case HL_CMAP_VIRIDIS: return hl_cmap_table_viridis;
    case HL_CMAP_INFERNO: return hl_cmap_table_inferno;
    case HL_CMAP_BWR: return hl_cmap_table_bwr;
    case HL_CMAP_COOLWARM: return hl_cmap_table_coolwarm;
    case HL_CMAP_GRAY: return hl_cmap_table_gray;
    default: return hl_cmap_table_blues;
    }
}

void hl_colormap_lookup(hl_colormap_id cmap, double t, uint8_t rgb[3])
{
    /* matplotlib Colormap.__call__ on floats: x *= N; x == N -> N - 1;
     * truncate; under/over use the end colours (their defaults). */
    int i = 0;
    if (t == t) {
        double x = t * 256.0;
        i = x < 0.0 ? 0 : x >= 255.0 ? 255 : (int)x;
    }
    const uint8_t (*table)[3] = hl_colormap_table(hl_colormap_resolve(cmap, HL_SIGN_ABSOLUTE_VALUE));
    memcpy(rgb, table[i], 3);
}

void hl_viz_sign_range(hl_viz_sign sign, double *vmin, double *vmax)
{
    *vmin = sign == HL_SIGN_ALL ? -1.0 : 0.0;
    *vmax = 1.0;
}
