/* Heatlens viz: attribution arrays -> pictures, with the semantics of
 * Captum's visualize_image_attr (captum/attr/_utils/visualization.py).
 *
 * Three steps, kept apart so a window can re-colour instantly:
 *   1. hl_viz_normalize: sum over channels, pick a sign, divide by the
 *      cumulative-sum threshold (outlier_perc), clip. Redo when the sign or
 *      the outlier percentage changes (milliseconds at 224x224).
 *   2. hl_viz_render_*: colour the normalised map with a mode, colormap and
 *      opacity, at the model-input grid or on the full photo through the
 *      crop map. Redo when the mode, colormap, opacity or size changes.
 *   3. hl_viz_export / hl_report_write: files (PNG with tEXt metadata, PDF,
 *      SVG), written to a temporary file and renamed into place.
 *
 * Usage (CLI "explain --out cat.png"):
 *
 *     hl_viz_options o;
 *     hl_viz_options_init(&o);                       // Captum's defaults
 *     if (hl_viz_mode_from_name("blended_heat_map", &o.mode, &err) ||
 *         hl_viz_sign_from_name("all", &o.sign, &err))
 *         ...;                                        // err.msg lists names
 *     hl_viz_norm *norm;
 *     if (hl_viz_normalize(attr, o.sign, o.outlier_perc, &norm, &err))
 *         ...;
 *     if (hl_viz_norm_is_zero(norm))
 *         fprintf(stderr, "note: attribution is zero everywhere\n");
 *     hl_viz_view view = { .photo = photo, .map = &crop_map, .norm = norm,
 *                          .opts = o, .title = "Integrated Gradients",
 *                          .show_colorbar = 1 };
 *     hl_viz_meta meta[] = { { "method", "integrated_gradients" },
 *                            { "model", "mobilenet.onnx" } };
 *     if (hl_viz_export(&view, "cat.png", HL_VIZ_FORMAT_AUTO, 0, 0,
 *                       meta, 2, &err))
 *         ...;
 *     hl_viz_norm_free(norm);
 *
 * Plain C11 + cairo + libpng; no globals; every fallible call returns an
 * hl_status and fills err. Every function is reentrant: renders of the same
 * hl_viz_norm may run in several threads at once.
 *
 * Cost (one core): normalising 224x224 takes a few ms; a render is linear
 * in the output pixels plus one pass over the photo when it is shrunk
 * (and one more for blended_heat_map's grey autoscale), so a window should
 * render at its display size, not the photo's.
 */
#ifndef HL_VIZ_H
#define HL_VIZ_H

#include <stdint.h>
#include <cairo.h>
#include "../engine/engine.h"
#include "../io/image.h"
#include "../io/preprocess.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------ names */

/* Captum's ImageVisualizationMethod. */
typedef enum {
    HL_VIZ_HEAT_MAP = 0,       /* the colormap image alone */
    HL_VIZ_BLENDED_HEAT_MAP,   /* greyscale photo, heat map on top (alpha) */
    HL_VIZ_MASKED_IMAGE,       /* photo * normalised attribution */
    HL_VIZ_ALPHA_SCALING,      /* photo with alpha = normalised attribution */
    HL_VIZ_ORIGINAL_IMAGE,     /* the photo only */
    HL_VIZ_N_MODES
} hl_viz_mode;

/* Captum's VisualizeSign. */
typedef enum {
    HL_SIGN_ABSOLUTE_VALUE = 0, /* |a|, vmin 0, vmax 1 */
    HL_SIGN_POSITIVE,           /* max(a, 0) */
    HL_SIGN_NEGATIVE,           /* min(a, 0), shown as magnitudes 0..1 */
    HL_SIGN_ALL,                /* a, threshold on |a|, vmin -1, vmax 1 */
    HL_SIGN_N
} hl_viz_sign;

typedef enum {
    HL_CMAP_DEFAULT = 0, /* Captum's choice for the sign (see below) */
    HL_CMAP_RDWHGN,      /* red-white-green, Captum's default for "all" */
    HL_CMAP_GREENS,      /* matplotlib Greens, default for "positive" */
    HL_CMAP_REDS,        /* matplotlib Reds, default for "negative" */
    HL_CMAP_BLUES,       /* matplotlib Blues, default for "absolute_value" */
    HL_CMAP_VIRIDIS,
    HL_CMAP_INFERNO,
    HL_CMAP_BWR,         /* matplotlib bwr: blue-white-red, diverging */
    HL_CMAP_COOLWARM,    /* matplotlib coolwarm: softer blue-white-red */
    HL_CMAP_GRAY,
    HL_CMAP_N
} hl_colormap_id;

/* Name <-> value. Names are Captum's ("heat_map", "absolute_value", ...);
 * parsing also accepts '-' for '_' and any case. Unknown name: HL_ERR_ARG
 * with the list of valid names in err->msg. */
const char *hl_viz_mode_name(hl_viz_mode mode);
hl_status hl_viz_mode_from_name(const char *name, hl_viz_mode *out,
                                hl_error *err);
const char *hl_viz_sign_name(hl_viz_sign sign);
hl_status hl_viz_sign_from_name(const char *name, hl_viz_sign *out,
                                hl_error *err);
const char *hl_colormap_name(hl_colormap_id cmap);   /* "default", "rdwhgn", "greens", ... */
hl_status hl_colormap_from_name(const char *name, hl_colormap_id *out,
                                hl_error *err);
/* Comma-separated lists of the valid names, for --help and messages. */
const char *hl_viz_mode_names(void);
const char *hl_viz_sign_names(void);
const char *hl_colormap_names(void);

/* ------------------------------------------------------------ colormaps */

/* HL_CMAP_DEFAULT resolved for a sign: all -> RDWHGN, positive -> GREENS,
 * negative -> REDS, absolute_value -> BLUES; other ids unchanged. */
hl_colormap_id hl_colormap_resolve(hl_colormap_id cmap, hl_viz_sign sign);

/* Colour of t in [0,1] exactly as matplotlib: bin floor(t*256) of the
 * 256-entry table, clamped to 0..255 (NaN -> bin 0). rgb receives 3 bytes.
 * HL_CMAP_DEFAULT here means Blues (resolve it for a sign first). For a
 * normalised value v: t = (v - vmin) / (vmax - vmin), see below. */
void hl_colormap_lookup(hl_colormap_id cmap, double t, uint8_t rgb[3]);

/* Captum's vmin/vmax for a sign: all -> -1, 1; the others -> 0, 1. */
void hl_viz_sign_range(hl_viz_sign sign, double *vmin, double *vmax);

/* ------------------------------------------------------------ normalisation */

/* A normalised attribution map on the model-input grid (opaque). */
typedef struct hl_viz_norm hl_viz_norm;

/* attr: any [1,C,h,w], [C,h,w] or [h,w] float array on the model input.
 * Steps (Captum's _normalize_attr):
 *   s = sum over channels (float32, in channel order, like np.sum);
 *   positive: s = s * (s > 0);       t = csum_threshold(s)
 *   negative: s = s * (s < 0);       t = -csum_threshold(|s|)
 *   absolute_value: s = |s|;         t = csum_threshold(s)
 *   all:      s unchanged;           t = csum_threshold(|s|)
 *   normalised = clip(s / t, -1, 1)   (negative: values end up in 0..1)
 * csum_threshold(v): sort v ascending, running sums c_i (float32, like
 * np.cumsum); the first i with c_i >= c_last * 0.01 * (100 - outlier_perc);
 * returns v_i. It is NOT a plain percentile.
 * The comparison is done in float32 (NumPy 1.x casts the float64 target to
 * the array's float32).
 * When every selected value is zero (an all-zero map, or e.g. sign positive
 * on an all-negative map) Captum asserts "Cannot normalize by scale factor
 * = 0"; we return a map of zeros with hl_viz_norm_is_zero() = 1 so the
 * caller can say "attribution is zero everywhere" (for that sign). When t
 * is 0 but some values are not (outlier_perc 100 with zeros present) each
 * value becomes its sign, the limit of clip(s/t) for t -> 0+.
 * NaN/Inf in attr or outlier_perc outside [0,100]: HL_ERR_ARG. */
hl_status hl_viz_normalize(const hl_array *attr, hl_viz_sign sign,
                           double outlier_perc, hl_viz_norm **out,
                           hl_error *err);
void hl_viz_norm_free(hl_viz_norm *n);

int hl_viz_norm_width(const hl_viz_norm *n);
int hl_viz_norm_height(const hl_viz_norm *n);
hl_viz_sign hl_viz_norm_sign(const hl_viz_norm *n);
double hl_viz_norm_outlier_perc(const hl_viz_norm *n);
/* Row-major width*height normalised values in [-1,1] (or [0,1]). */
const float *hl_viz_norm_values(const hl_viz_norm *n);
/* Normalised value / channel-summed raw value at model-input pixel (x,y);
 * 0 outside the grid. */
float hl_viz_norm_value(const hl_viz_norm *n, int x, int y);
float hl_viz_norm_raw(const hl_viz_norm *n, int x, int y);
/* Captum's scale factor t (raw value shown as normalised 1; negative for
 * sign negative). 0 when hl_viz_norm_is_zero. */
double hl_viz_norm_threshold(const hl_viz_norm *n);
int hl_viz_norm_is_zero(const hl_viz_norm *n);

/* ------------------------------------------------------------ overlays */

/* Where alpha_scaling's transparent parts show through. */
typedef enum {
    HL_VIZ_BG_WHITE = 0, /* matplotlib's white figure: Captum's look */
    HL_VIZ_BG_CHECKER,   /* 8-pixel light/mid grey checkerboard */
} hl_viz_background;

typedef struct hl_viz_options {
    hl_viz_mode mode;         /* default HL_VIZ_HEAT_MAP */
    hl_viz_sign sign;         /* default HL_SIGN_ABSOLUTE_VALUE */
    double outlier_perc;      /* default 2 (used by hl_viz_normalize callers) */
    hl_colormap_id cmap;      /* default HL_CMAP_DEFAULT */
    double alpha_overlay;     /* default 0.5 (blended_heat_map) */
    double outside_dim;       /* photo outside the crop: 0 = as is, 1 = black;
                                 default 0.6 */
    hl_viz_background background; /* default HL_VIZ_BG_WHITE */
} hl_viz_options;

void hl_viz_options_init(hl_viz_options *o);

/* HL_ERR_ARG with Captum's reason when the mode cannot show the sign
 * (masked_image / alpha_scaling with sign "all"), when the norm was made
 * with another sign than o->sign, or alpha_overlay is outside [0,1]. */
hl_status hl_viz_check(const hl_viz_norm *n, const hl_viz_options *o,
                       hl_error *err);

/* Pixel formulas (8-bit, p = photo channel, v = normalised value,
 * c = colormap colour of (v - vmin) / (vmax - vmin)):
 *   heat_map:          c
 *   blended_heat_map:  g = mean(R,G,B) autoscaled to the min..max of the
 *                      photo (imshow with cmap gray and no vmin/vmax), then
 *                      round(alpha*c + (1-alpha)*gray_lut(g))
 *   masked_image:      trunc(p * v)
 *   alpha_scaling:     a = trunc(v*255) (clipped 0..255);
 *                      round((p*a + bg*(255-a)) / 255)
 *   original_image:    p
 * Full-photo renders sample v bilinearly (edges clamped) at each output
 * pixel's centre mapped through the crop map; outside the crop the pixel
 * is p * (1 - outside_dim) (greyscale for blended_heat_map). A map whose
 * grid differs from the crop map's input size (a layer attribution at 7x7)
 * is stretched over the same crop. */

/* At the model-input resolution: crop = the model-input crop of the photo
 * (same size as the map; may be NULL for heat_map). *out = new RGB image. */
hl_status hl_viz_render_input(const hl_viz_norm *n, const hl_image *crop,
                              const hl_viz_options *o, hl_image **out,
                              hl_error *err);

/* Into a caller's buffer at any size: the whole photo (width x height; it is
 * resampled: area average when shrinking, bilinear when enlarging) with the
 * map placed by `map`. map may be NULL when the photo IS the model input
 * (same aspect). photo may be NULL only for heat_map: the output then
 * covers the map's photo area with black outside the crop (no map: just
 * the attribution grid).
 * rgb: width*height*3 bytes with rows `stride` bytes apart. */
hl_status hl_viz_render_rgb(const hl_viz_norm *n, const hl_image *photo,
                            const hl_crop_map *map, const hl_viz_options *o,
                            int width, int height, uint8_t *rgb, int stride,
                            hl_error *err);

/* Same, as a new opaque cairo image surface (CAIRO_FORMAT_RGB24) for GTK
 * (gdk_texture / cairo drawing) or further drawing. width/height 0 = the
 * photo's size. */
hl_status hl_viz_render_surface(const hl_viz_norm *n, const hl_image *photo,
                                const hl_crop_map *map,
                                const hl_viz_options *o, int width,
                                int height, cairo_surface_t **out,
                                hl_error *err);

/* ------------------------------------------------------------ colour bar */

/* A horizontal colour bar in the rectangle (x,y,w,h) of cr: the gradient in
 * the top ~40%, normalised ticks (-1,-0.5,0,0.5,1 for all; 0,.25,.5,.75,1
 * otherwise) below it and, when show_raw and threshold != 0, the raw values
 * threshold*tick under them. is_zero writes "attribution is zero
 * everywhere" instead of raw values. Text is sized from h. */
void hl_viz_colorbar_draw(cairo_t *cr, double x, double y, double w,
                          double h, hl_colormap_id cmap, hl_viz_sign sign,
                          double threshold, int show_raw, int is_zero);

/* ------------------------------------------------------------ export */

typedef enum {
    HL_VIZ_FORMAT_AUTO = 0, /* from the extension: .png .pdf .svg */
    HL_VIZ_FORMAT_PNG,
    HL_VIZ_FORMAT_PDF,
    HL_VIZ_FORMAT_SVG,
} hl_viz_format;

/* PNG text entries / PDF keywords. Keys: 1..79 Latin-1 characters; ASCII
 * values go into tEXt chunks, UTF-8 ones into iTXt. */
typedef struct hl_viz_meta {
    const char *key;
    const char *value;
} hl_viz_meta;

/* One picture: photo + overlay + optional title band above and colour bar
 * band below (only for heat_map and blended_heat_map, the modes that use a
 * colormap). */
typedef struct hl_viz_view {
    const hl_image *photo;     /* full photo (or the model-input crop) */
    const hl_crop_map *map;    /* NULL: photo is the model input */
    const hl_viz_norm *norm;
    hl_viz_options opts;
    const char *title;         /* NULL or "": no title band; wider than
                                * the picture: two lines (band 50 px x
                                * scale instead of 30), a line that still
                                * does not fit ends in "…" */
    int show_colorbar;
    int show_raw_range;        /* raw values under the colour bar */
} hl_viz_view;

/* Canvas size of a view whose image area is img_w x img_h. */
void hl_viz_view_size(const hl_viz_view *v, int img_w, int img_h,
                      int *canvas_w, int *canvas_h);

/* Draw the view on cr with its image area img_w x img_h at (0,0) of the
 * current transform (title and colour bar bands add to the height). */
hl_status hl_viz_view_draw(cairo_t *cr, const hl_viz_view *v, int img_w,
                           int img_h, hl_error *err);

/* cairo's image surfaces hold at most this many pixels a side. */
#define HL_VIZ_MAX_SIDE 32767

/* Write the view to path. width/height: the image area (0,0 = the photo's
 * resolution, scaled down to fit HL_VIZ_MAX_SIDE with its bands when the
 * photo is larger; one of them 0 = keep the aspect; a larger size asked
 * for is refused, naming the limit). PNG: 8-bit RGB via libpng
 * with meta as tEXt chunks plus "Software" = "Heatlens <version>"; PDF
 * (1 px = 1 pt, metadata via cairo_pdf_surface_set_metadata) and SVG via
 * cairo. Written to a temporary file in the same directory, then renamed:
 * an existing file is never destroyed by a failed export. */
hl_status hl_viz_export(const hl_viz_view *v, const char *path,
                        hl_viz_format format, int width, int height,
                        const hl_viz_meta *meta, int n_meta, hl_error *err);

/* Format of a path by extension (case-insensitive); HL_ERR_ARG naming the
 * path when it is none of .png .pdf .svg. */
hl_status hl_viz_format_from_path(const char *path, hl_viz_format *out,
                                  hl_error *err);

/* Write an RGB image as PNG with tEXt metadata (temp file + rename). */
hl_status hl_viz_write_png_rgb(const char *path, const uint8_t *rgb,
                               int width, int height, int stride,
                               const hl_viz_meta *meta, int n_meta,
                               hl_error *err);

/* ------------------------------------------------------------ report */

typedef struct hl_report_panel {
    const char *title;          /* "Integrated Gradients" */
    const char *params;         /* "n_steps=200, baseline=zeros" or NULL */
    const hl_array *attr;       /* [1,C,h,w] / [C,h,w] / [h,w] on the model input */
    const hl_viz_options *opts; /* NULL: the report's options */
    double seconds;             /* < 0: not shown */
    int has_delta;
    double delta;               /* convergence delta (IG, DeepLift) */
    const char *notice;         /* NULL or one short line under the picture
                                   ("= the plain gradient: no ReLU ...") */
} hl_report_panel;

struct hl_metric_plots;         /* metric-plots.h */

/* The report's page: its content's own size, or a standard paper size
 * (the content scaled to fit, centred, turned landscape when that makes
 * it larger). Paper is in points (PDF, SVG); a PNG gets 2 pixels per
 * point (144 dpi). */
typedef enum {
    HL_PAPER_FIT = 0,   /* the page is the content's size */
    HL_PAPER_A4,        /* 595 x 842 pt */
    HL_PAPER_LETTER,    /* 612 x 792 pt */
} hl_paper;

/* "fit", "a4", "letter" (any case). */
hl_status hl_paper_from_name(const char *name, hl_paper *out, hl_error *err);
/* Portrait size in points; FALSE (0) for HL_PAPER_FIT. */
int hl_paper_size(hl_paper paper, double *w_pt, double *h_pt);

typedef struct hl_report_info {
    const char *image_name;     /* shown in the header */
    const hl_image *photo;      /* required */
    const hl_crop_map *map;     /* NULL: the photo is the model input */
    const char *model_name;
    const char *target_label;   /* may be NULL */
    int target_index;           /* < 0: not shown */
    double probability;         /* < 0: not shown */
    hl_viz_options opts;        /* common overlay options */
    int cell_size;              /* image side of each panel; 0 = 300 */
    const char *date;           /* NULL: now, UTC */
    /* Metrics section below the panels (report --evaluate): one plots
     * block per method, drawn the page's width; n = 0: none. */
    const struct hl_metric_plots *const *evaluations;
    int n_evaluations;
    hl_paper paper;             /* HL_PAPER_FIT (0): the content's size */
} hl_report_info;

/* Page layout in pixels (PNG) or points (PDF), all panels + the original
 * in a grid of cols = min(n_panels + 1, 4) columns and
 * rows = ceil((n_panels + 1) / cols):
 *   page_w = 2*HL_REPORT_MARGIN + cols*cell + (cols-1)*HL_REPORT_GAP
 *   page_h = 2*HL_REPORT_MARGIN + HL_REPORT_HEADER + HL_REPORT_FOOTER
 *            + rows*(cell + HL_REPORT_PANEL_EXTRA) + (rows-1)*HL_REPORT_GAP
 *            + for each evaluation: HL_REPORT_GAP + its hl_metric_plots_size
 *              height at page_w
 * where cell = cell_size (the image area of a panel is cell x cell, the
 * photo fitted inside keeping its aspect). */
#define HL_REPORT_MARGIN 24
#define HL_REPORT_GAP 16
#define HL_REPORT_HEADER 64
#define HL_REPORT_FOOTER 28
#define HL_REPORT_PANEL_EXTRA 198

void hl_report_page_size(const hl_report_info *info, int n_panels,
                         int *page_w, int *page_h);

/* One page with the original photo and each panel's overlay, colour bar,
 * title, parameters, target/probability, model, seconds and delta; header
 * (image, model, target) and footer (Heatlens version, date). Format by
 * extension: .png (tEXt: Title, Software, heatlens.image, heatlens.model,
 * heatlens.target, heatlens.probability, heatlens.methods, heatlens.panel.N)
 * or .pdf (same text in the PDF metadata). A panel whose options cannot be
 * shown (masked_image + all) is an error naming the panel. */
hl_status hl_report_write(const char *path, const hl_report_info *info,
                          const hl_report_panel *panels, int n_panels,
                          hl_error *err);

/* ------------------------------------------------------------ per method */

/* The sign and colormap a method's map is shown with unless the user
 * chooses (method-defaults.c, the one place this is decided; the window,
 * explain --out, batch and report use it): signed attributions (Integrated
 * Gradients, DeepLift, Input x Gradient, occlusion, ...) -> "all" on the
 * diverging red-white-green map, since their negative part is evidence
 * against the class; saliency (|gradient|) -> "absolute_value" on Blues;
 * CAMs and RISE (evidence for the class is the positive part; negative
 * CAM values are other objects) -> "positive" on Inferno. A mode that
 * cannot show "all" (masked_image, alpha_scaling) gets "absolute_value".
 * Other methods are signed; NULL: absolute_value, HL_CMAP_DEFAULT
 * (Captum's own defaults). */
void hl_viz_method_defaults(const char *method, hl_viz_mode mode,
                            hl_viz_sign *sign, hl_colormap_id *cmap);

#ifdef __cplusplus
}
#endif
#endif
