/* Plots of the trust metrics (metric-plots.h): charts with axes, ticks,
 * legend and area; the randomisation strip of thumbnails. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "metric-plots.h"
#include "viz-private.h"

#define PLOT_WIDTH 900
#define MARGIN 24
#define GAP 16
#define TITLE_H 34
#define LINE_H 18
#define CURVE_CHART_H 280
#define CORR_CHART_H 230
#define THUMB_MAX 120
#define THUMB_TEXT_H 34

typedef struct series {
    const double *x, *y;
    int n;
    double r, g, b;
    const char *label;
    int fill;            /* shade the area under it */
} series;

typedef struct chart {
    double x, y, w, h;
    const char *title, *xlabel, *ylabel;
    double xmin, xmax, ymin, ymax;
    int integer_x;       /* ticks at every integer (stages) */
} chart;

static void font(cairo_t *cr, double size, int bold)
{
    cairo_select_font_face(cr, "sans-serif", CAIRO_FONT_SLANT_NORMAL,
                           bold ? CAIRO_FONT_WEIGHT_BOLD : CAIRO_FONT_WEIGHT_NORMAL);
    cairo_set_font_size(cr, size);
}

/* Text with its left (align 0), centre (0.5) or right (1) at x. */
static void text_at(cairo_t *cr, double x, double y, double align, const char *s)
{
    cairo_text_extents_t e;
    cairo_text_extents(cr, s, &e);
    cairo_move_to(cr, x - align * e.x_advance, y);
    cairo_show_text(cr, s);
}

/* Word-wrapped text in `width`; draws when draw != 0; returns the lines. */
static int wrap_text(cairo_t *cr, const char *s, double x, double y,
                     double width, int draw)
{
    char line[1024];
    int lines = 0;
    size_t len = 0;
    while (*s) {
        const char *end = strchr(s, ' ');
        size_t wl = end ? (size_t)(end - s) : strlen(s);
        char trial[1024];
        snprintf(trial, sizeof trial, "%.*s%s%.*s", (int)len, line, len ? " " : "",
                 (int)wl, s);
        cairo_text_extents_t e;
        cairo_text_extents(cr, trial, &e);
        if (len && e.x_advance > width) {
            if (draw)
                text_at(cr, x, y + lines * LINE_H, 0, line);
            lines++;
            snprintf(line, sizeof line, "%.*s", (int)wl, s);
            len = strlen(line);
        } else {
            snprintf(line, sizeof line, "%s", trial);
            len = strlen(line);
        }
        s += wl;
        while (*s == ' ')
            s++;
    }
    if (len) {
        if (draw)
            text_at(cr, x, y + lines * LINE_H, 0, line);
        lines++;
    }
    return lines;
}

static int text_lines(cairo_t *cr, const hl_metric_plots *p, double x,
                      double y, double width, int draw)
{
    font(cr, 12, 0);
    int n = 0;
    for (int i = 0; i < p->n_lines; i++)
        n += wrap_text(cr, p->lines[i], x, y + n * LINE_H, width, draw);
    return n;
}

static double map_x(const chart *c, double v, double *px0, double *pw)
{
    return *px0 + (v - c->xmin) / (c->xmax - c->xmin) * *pw;
}

static void draw_axes(cairo_t *cr, const chart *c, double px, double py,
                      double pw, double ph)
{
    cairo_set_source_rgb(cr, 1, 1, 1);
    cairo_rectangle(cr, px, py, pw, ph);
    cairo_fill(cr);
    font(cr, 10, 0);
    char buf[32];
    for (int k = 0; k <= 4; k++) {
        double v = c->ymin + (c->ymax - c->ymin) * k / 4.0;
        double yy = py + ph - ph * k / 4.0;
        cairo_set_source_rgb(cr, 0.9, 0.9, 0.9);
        cairo_move_to(cr, px, yy);
        cairo_line_to(cr, px + pw, yy);
        cairo_stroke(cr);
        cairo_set_source_rgb(cr, 0.2, 0.2, 0.2);
        snprintf(buf, sizeof buf, "%.2g", v);
        text_at(cr, px - 5, yy + 3.5, 1, buf);
    }
    int nx = c->integer_x ? (int)(c->xmax - c->xmin) : 4;
    for (int k = 0; k <= nx; k++) {
        double v = c->xmin + (c->xmax - c->xmin) * k / (nx ? nx : 1);
        double xx = px + pw * k / (nx ? nx : 1);
        cairo_set_source_rgb(cr, 0.9, 0.9, 0.9);
        cairo_move_to(cr, xx, py);
        cairo_line_to(cr, xx, py + ph);
        cairo_stroke(cr);
        cairo_set_source_rgb(cr, 0.2, 0.2, 0.2);
        snprintf(buf, sizeof buf, c->integer_x ? "%.0f" : "%.2g", v);
        text_at(cr, xx, py + ph + 13, 0.5, buf);
    }
    cairo_set_source_rgb(cr, 0.3, 0.3, 0.3);
    cairo_rectangle(cr, px, py, pw, ph);
    cairo_stroke(cr);
    font(cr, 11, 0);
    text_at(cr, px + pw / 2, py + ph + 29, 0.5, c->xlabel);
    cairo_save(cr);
    cairo_move_to(cr, c->x + 12, py + ph / 2);
    cairo_rotate(cr, -M_PI / 2);
    cairo_text_extents_t e;
    cairo_text_extents(cr, c->ylabel, &e);
    cairo_rel_move_to(cr, -e.x_advance / 2, 0);
    cairo_show_text(cr, c->ylabel);
    cairo_restore(cr);
    font(cr, 12, 1);
    text_at(cr, c->x + c->w / 2, c->y + 14, 0.5, c->title);
}

static void draw_chart(cairo_t *cr, const chart *c, const series *s, int n)
{
    double px = c->x + 52, py = c->y + 24, pw = c->w - 62, ph = c->h - 24 - 40;
    cairo_save(cr);
    cairo_set_line_width(cr, 1.0);
    draw_axes(cr, c, px, py, pw, ph);
    cairo_rectangle(cr, px, py, pw, ph);
    cairo_clip(cr);
    for (int i = 0; i < n; i++) {
        if (s[i].n < 1)
            continue;
        for (int pass = s[i].fill ? 0 : 1; pass < 2; pass++) {
            for (int k = 0; k < s[i].n; k++) {
                double xx = map_x(c, s[i].x[k], &px, &pw);
                double v = isfinite(s[i].y[k]) ? s[i].y[k] : c->ymin;
                double yy = py + ph - (v - c->ymin) / (c->ymax - c->ymin) * ph;
                if (k == 0)
                    cairo_move_to(cr, xx, pass ? yy : py + ph);
                if (k > 0 || !pass)
                    cairo_line_to(cr, xx, yy);
            }
            if (pass == 0) {
                cairo_line_to(cr, map_x(c, s[i].x[s[i].n - 1], &px, &pw), py + ph);
                cairo_close_path(cr);
                cairo_set_source_rgba(cr, s[i].r, s[i].g, s[i].b, 0.15);
                cairo_fill(cr);
            } else {
                cairo_set_source_rgb(cr, s[i].r, s[i].g, s[i].b);
                cairo_set_line_width(cr, 2.0);
                cairo_stroke(cr);
            }
        }
    }
    cairo_reset_clip(cr);
    font(cr, 11, 0);
    cairo_set_source_rgba(cr, 1, 1, 1, 0.85);
    cairo_rectangle(cr, px + pw - 156, py + 4, 152, 16.0 * n + 4);
    cairo_fill(cr);
    for (int i = 0; i < n; i++) {
        double ly = py + 16 + 16 * i;
        cairo_set_source_rgb(cr, s[i].r, s[i].g, s[i].b);
        cairo_rectangle(cr, px + pw - 150, ly - 8, 14, 4);
        cairo_fill(cr);
        cairo_set_source_rgb(cr, 0.1, 0.1, 0.1);
        text_at(cr, px + pw - 130, ly - 2, 0, s[i].label);
    }
    cairo_restore(cr);
}

static void curve_charts(cairo_t *cr, const hl_metric_plots *p, double y, int width)
{
    static const double rgb[2][3] = { { 0.80, 0.15, 0.15 }, { 0.10, 0.45, 0.80 } };
    double cw = (width - 2.0 * MARGIN - (p->n_curves - 1) * GAP) / p->n_curves;
    for (int i = 0; i < p->n_curves; i++) {
        const hl_plot_curve *c = &p->curves[i];
        char label[96], title[128];
        if (isfinite(c->auc))
            snprintf(label, sizeof label, "AUC %.3f", c->auc);
        else
            snprintf(label, sizeof label, "measuring");
        snprintf(title, sizeof title, "%s curve", c->label ? c->label : "");
        chart ch = { MARGIN + i * (cw + GAP), y, cw, CURVE_CHART_H, title,
                     "fraction of pixels", "target probability", 0, 1, 0, 1, 0 };
        series s = { c->x, c->y, c->n, rgb[i % 2][0], rgb[i % 2][1], rgb[i % 2][2],
                     label, 1 };
        draw_chart(cr, &ch, &s, 1);
    }
}

static int thumb_size(const hl_metric_plots *p, int width)
{
    int t = (width - 2 * MARGIN - (p->strip_n - 1) * 8) / (p->strip_n ? p->strip_n : 1);
    t = t > THUMB_MAX ? THUMB_MAX : t;
    return t < 16 ? 16 : t;
}

static int by_float(const void *a, const void *b)
{
    float p = *(const float *)a, q = *(const float *)b;
    return (p > q) - (p < q);
}

/* The 98th percentile of a map's values: thumbnails are scaled by it, as
 * the views clip the largest 2% (Captum's outlier_perc). */
static float display_scale(const float *map, int n)
{
    float *v = malloc((size_t)n * sizeof *v);
    if (!v)
        return 1.0f;
    memcpy(v, map, (size_t)n * sizeof *v);
    qsort(v, (size_t)n, sizeof *v, by_float);
    float s = v[(int)(0.98 * (n - 1))];
    free(v);
    return s > 0.0f ? s : 1.0f;
}

static void thumbnail(cairo_t *cr, const float *map, int h, int w, double x,
                      double y, double size)
{
    float scale = display_scale(map, h * w);
    cairo_surface_t *s = cairo_image_surface_create(CAIRO_FORMAT_RGB24, w, h);
    unsigned char *d = cairo_image_surface_get_data(s);
    int stride = cairo_image_surface_get_stride(s);
    hl_colormap_id cmap = hl_colormap_resolve(HL_CMAP_DEFAULT, HL_SIGN_ABSOLUTE_VALUE);
    cairo_surface_flush(s);
    for (int yy = 0; yy < h; yy++)
        for (int xx = 0; xx < w; xx++) {
            uint8_t rgb[3];
            hl_colormap_lookup(cmap, fminf(map[yy * w + xx] / scale, 1.0f), rgb);
            uint32_t *px = (uint32_t *)(d + yy * stride) + xx;
            *px = (uint32_t)rgb[0] << 16 | (uint32_t)rgb[1] << 8 | rgb[2];
        }
    cairo_surface_mark_dirty(s);
    cairo_save(cr);
    cairo_translate(cr, x, y);
    double k = size / (w > h ? w : h);
    cairo_scale(cr, k, k);
    cairo_set_source_surface(cr, s, 0, 0);
    cairo_pattern_set_filter(cairo_get_source(cr), CAIRO_FILTER_NEAREST);
    cairo_paint(cr);
    cairo_restore(cr);
    cairo_surface_destroy(s);
}

static void strip(cairo_t *cr, const hl_metric_plots *p, double y, int width)
{
    int t = thumb_size(p, width);
    font(cr, 12, 1);
    cairo_set_source_rgb(cr, 0.1, 0.1, 0.1);
    text_at(cr, MARGIN, y + 14, 0, p->flagged
            ? "Model randomisation: the map does NOT change with the weights (flagged)"
            : "Model randomisation: weights re-initialised from the top layer down");
    y += 22;
    for (int i = 0; i < p->strip_n; i++) {
        double x = MARGIN + i * (t + 8);
        thumbnail(cr, p->strip_maps[i], p->strip_h, p->strip_w, x, y, t);
        font(cr, 10, 0);
        cairo_set_source_rgb(cr, 0.15, 0.15, 0.15);
        char buf[64];
        snprintf(buf, sizeof buf, "%.18s", p->strip_labels ? p->strip_labels[i] : "");
        text_at(cr, x, y + t + 12, 0, buf);
        snprintf(buf, sizeof buf, "rho %.2f  ssim %.2f", p->spearman[i], p->ssim[i]);
        text_at(cr, x, y + t + 25, 0, buf);
    }
    y += t + THUMB_TEXT_H;
    double xs[HL_PLOT_MAX_STAGES];
    int n = p->strip_n < HL_PLOT_MAX_STAGES ? p->strip_n : HL_PLOT_MAX_STAGES;
    for (int i = 0; i < n; i++)
        xs[i] = i;
    chart ch = { MARGIN, y, width - 2.0 * MARGIN, CORR_CHART_H,
                 "similarity to the original map", "randomisation stage (0 = original)",
                 "correlation", 0, n > 1 ? n - 1 : 1, -1, 1, 1 };
    series s[2] = {
        { xs, p->spearman, n, 0.10, 0.45, 0.80, "Spearman (|map|)", 0 },
        { xs, p->ssim, n, 0.85, 0.45, 0.05, "SSIM", 0 },
    };
    draw_chart(cr, &ch, s, 2);
}

static double layout(cairo_t *cr, const hl_metric_plots *p, int width, int draw)
{
    double y = MARGIN;
    if (draw && p->title) {
        font(cr, 16, 1);
        cairo_set_source_rgb(cr, 0.05, 0.05, 0.05);
        text_at(cr, MARGIN, y + 16, 0, p->title);
    }
    y += p->title ? TITLE_H : 0;
    if (draw)
        cairo_set_source_rgb(cr, 0.1, 0.1, 0.1);
    y += text_lines(cr, p, MARGIN, y + 12, width - 2.0 * MARGIN, draw) * LINE_H;
    if (p->n_curves > 0) {
        y += GAP;
        if (draw)
            curve_charts(cr, p, y, width);
        y += CURVE_CHART_H;
    }
    if (p->strip_n > 0) {
        y += GAP;
        if (draw)
            strip(cr, p, y, width);
        y += 22 + thumb_size(p, width) + THUMB_TEXT_H + CORR_CHART_H;
    }
    return y + MARGIN;
}

void hl_metric_plots_size(const hl_metric_plots *p, int width, int *w, int *h)
{
    width = width > 0 ? width : PLOT_WIDTH;
    cairo_surface_t *s = cairo_image_surface_create(CAIRO_FORMAT_RGB24, 1, 1);
    cairo_t *cr = cairo_create(s);
    *w = width;
    *h = (int)ceil(layout(cr, p, width, 0));
    cairo_destroy(cr);
    cairo_surface_destroy(s);
}

void hl_metric_plots_draw(cairo_t *cr, const hl_metric_plots *p, int width)
{
    width = width > 0 ? width : PLOT_WIDTH;
    cairo_save(cr);
    layout(cr, p, width, 1);
    cairo_restore(cr);
}

typedef struct page_ctx {
    const hl_metric_plots *p;
    int w, h;
    const hl_viz_view *view;  /* drawn above the plots when set */
    int view_w, view_h, view_canvas_h;
} page_ctx;

static hl_status draw_page(cairo_t *cr, const void *ctx, hl_error *err)
{
    const page_ctx *c = ctx;
    cairo_set_source_rgb(cr, 1, 1, 1);
    cairo_paint(cr);
    if (c->view) {
        cairo_save(cr);
        cairo_translate(cr, (c->w - c->view_w) / 2.0, MARGIN);
        hl_status st = hl_viz_view_draw(cr, c->view, c->view_w, c->view_h, err);
        cairo_restore(cr);
        if (st != HL_OK)
            return st;
        cairo_translate(cr, 0, MARGIN + c->view_canvas_h);
    }
    hl_metric_plots_draw(cr, c->p, c->w);
    return HL_OK;
}

static hl_status write_page(const page_ctx *c, const char *path,
                            const hl_viz_meta *meta, int n_meta, hl_error *err)
{
    hl_viz_format format;
    hl_status st = hl_viz_format_from_path(path, &format, err);
    if (st != HL_OK)
        return st;
    if (format != HL_VIZ_FORMAT_PNG)
        return hl_viz_vector_write(path, format, c->w, c->h, c->p->title, meta, n_meta,
                                   draw_page, c, err);
    cairo_surface_t *s = cairo_image_surface_create(CAIRO_FORMAT_RGB24, c->w, c->h);
    if (cairo_surface_status(s) != CAIRO_STATUS_SUCCESS) {
        cairo_surface_destroy(s);
        return hl_error_set(err, HL_ERR_NOMEM, "%s: cannot create a %dx%d picture",
                            path, c->w, c->h);
    }
    cairo_t *cr = cairo_create(s);
    st = draw_page(cr, c, err);
    cairo_destroy(cr);
    if (st == HL_OK)
        st = hl_viz_write_png_surface(path, s, meta, n_meta, err);
    cairo_surface_destroy(s);
    return st;
}

hl_status hl_metric_plots_export_with_view(const hl_viz_view *v,
                                           const hl_metric_plots *p,
                                           const char *path,
                                           const hl_viz_meta *meta, int n_meta,
                                           hl_error *err)
{
    if (!v || !v->norm || !p)
        return hl_error_set(err, HL_ERR_ARG, "export: no view or plots given");
    hl_status st = hl_viz_check(v->norm, &v->opts, err);
    if (st != HL_OK)
        return st;
    if (p->strip_n < 0 || p->strip_n > HL_PLOT_MAX_STAGES)
        return hl_error_set(err, HL_ERR_ARG, "%s: %d randomisation stages (at most %d)",
                            path, p->strip_n, HL_PLOT_MAX_STAGES);
    int pw = v->photo ? v->photo->width : hl_viz_norm_width(v->norm);
    int ph = v->photo ? v->photo->height : hl_viz_norm_height(v->norm);
    page_ctx c = { p, PLOT_WIDTH, 0, v, 0, 0, 0 };
    hl_metric_plots_size(p, PLOT_WIDTH, &c.w, &c.h);
    /* the picture at most as wide as the page and 600 px high */
    double k = fmin((double)(PLOT_WIDTH - 2 * MARGIN) / pw, 600.0 / ph);
    c.view_w = (int)lround(pw * k);
    c.view_h = (int)lround(ph * k);
    if (c.view_w < 1 || c.view_h < 1)
        return hl_error_set(err, HL_ERR_ARG, "%s: bad picture size", path);
    int cw;
    hl_viz_view_size(v, c.view_w, c.view_h, &cw, &c.view_canvas_h);
    c.h += MARGIN + c.view_canvas_h;
    return write_page(&c, path, meta, n_meta, err);
}

hl_status hl_metric_plots_export(const hl_metric_plots *p, const char *path,
                                 const hl_viz_meta *meta, int n_meta,
                                 hl_error *err)
{
    hl_viz_format format;
    hl_status st = hl_viz_format_from_path(path, &format, err);
    if (st != HL_OK)
        return st;
    if (p->strip_n < 0 || p->strip_n > HL_PLOT_MAX_STAGES)
        return hl_error_set(err, HL_ERR_ARG, "%s: %d randomisation stages (at most %d)",
                            path, p->strip_n, HL_PLOT_MAX_STAGES);
    page_ctx c = { p, PLOT_WIDTH, 0, NULL, 0, 0, 0 };
    hl_metric_plots_size(p, PLOT_WIDTH, &c.w, &c.h);
    return write_page(&c, path, meta, n_meta, err);
}
