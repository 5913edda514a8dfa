/* Plots of the trust metrics (docs/trust.md): deletion and insertion
 * curves with their area, the model-randomisation strip of thumbnails with
 * its correlation curve, and a few lines of numbers, drawn with cairo on
 * one page exportable as PNG, PDF or SVG. Plain data in, so the window,
 * the CLI and reports draw the same picture. */
#ifndef HL_METRIC_PLOTS_H
#define HL_METRIC_PLOTS_H

#include <cairo.h>
#include "viz.h"

#ifdef __cplusplus
extern "C" {
#endif

/* One curve of a chart: n points (x, y), its label and area. */
typedef struct hl_plot_curve {
    const char *label;      /* "deletion" */
    const double *x, *y;
    int n;
    double auc;             /* shown in the chart; NaN = not shown */
} hl_plot_curve;

#define HL_PLOT_MAX_STAGES 64

typedef struct hl_metric_plots {
    const char *title;                /* "Saliency on cat.jpg: ..." */
    const char *const *lines;         /* text lines (numbers, notices) */
    int n_lines;
    /* deletion / insertion charts (probability vs fraction), side by side */
    const hl_plot_curve *curves;
    int n_curves;
    /* randomisation strip: n maps of h x w magnitudes in [0, 1] (stage 0 =
     * the original), one label each, and the curves of Spearman and SSIM
     * against the stage; n = 0: no strip */
    int strip_n;
    const float *const *strip_maps;
    int strip_h, strip_w;
    const char *const *strip_labels;
    const double *spearman, *ssim;
    int flagged;
} hl_metric_plots;

/* Page size of the plots at width `width` (0 = 900). */
void hl_metric_plots_size(const hl_metric_plots *p, int width, int *w, int *h);
/* Draw at the current origin of cr, `width` wide (0 = 900). */
void hl_metric_plots_draw(cairo_t *cr, const hl_metric_plots *p, int width);
/* Write the page to path (.png / .pdf / .svg by extension). */
hl_status hl_metric_plots_export(const hl_metric_plots *p, const char *path,
                                 const hl_viz_meta *meta, int n_meta,
                                 hl_error *err);

/* The view (hl_viz_export's picture, scaled to the page's width) with the
 * plots page under it, as one page: what the window exports when its
 * metrics page is shown. */
hl_status hl_metric_plots_export_with_view(const hl_viz_view *v,
                                           const hl_metric_plots *p,
                                           const char *path,
                                           const hl_viz_meta *meta, int n_meta,
                                           hl_error *err);

#ifdef __cplusplus
}
#endif
#endif
