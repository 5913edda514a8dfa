/* One-page report: the original photo and several methods side by side,
 * each with its overlay, colour bar and the facts needed to reproduce it. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include "label_names.h"
#include "metric-plots.h"
#include "viz-private.h"

#ifndef HL_VERSION
#define HL_VERSION "unknown"
#endif

/* Heights inside HL_REPORT_PANEL_EXTRA: title above the image, colour bar
 * and 6 text lines below it (parameters may take two). */
#define TITLE_H 24
#define BAR_H 44
#define LINE_H 16

static int report_cell(const hl_report_info *info)
{
    return info->cell_size > 0 ? info->cell_size : 300;
}

static void grid_dims(int n_panels, int *cols, int *rows)
{
    int cells = n_panels + 1;
    *cols = cells < 4 ? cells : 4;
    *rows = (cells + *cols - 1) / *cols;
}

void hl_report_page_size(const hl_report_info *info, int n_panels,
                         int *page_w, int *page_h)
{
    int cols, rows, cell = report_cell(info);
    grid_dims(n_panels, &cols, &rows);
    *page_w = 2 * HL_REPORT_MARGIN + cols * cell + (cols - 1) * HL_REPORT_GAP;
    *page_h = 2 * HL_REPORT_MARGIN + HL_REPORT_HEADER + HL_REPORT_FOOTER +
              rows * (cell + HL_REPORT_PANEL_EXTRA) +
              (rows - 1) * HL_REPORT_GAP;
    for (int i = 0; i < info->n_evaluations; i++) {
        int w, h;
        hl_metric_plots_size(info->evaluations[i], *page_w, &w, &h);
        *page_h += HL_REPORT_GAP + h;
    }
}

/* The metrics section (report --evaluate) below the panel grid. */
static void draw_evaluations(cairo_t *cr, const hl_report_info *info,
                             int page_w, double y)
{
    for (int i = 0; i < info->n_evaluations; i++) {
        int w, h;
        hl_metric_plots_size(info->evaluations[i], page_w, &w, &h);
        y += HL_REPORT_GAP;
        cairo_set_source_rgb(cr, 0.8, 0.8, 0.8);
        cairo_move_to(cr, HL_REPORT_MARGIN, y - HL_REPORT_GAP / 2.0);
        cairo_line_to(cr, page_w - HL_REPORT_MARGIN, y - HL_REPORT_GAP / 2.0);
        cairo_stroke(cr);
        cairo_save(cr);
        cairo_translate(cr, 0, y);
        hl_metric_plots_draw(cr, info->evaluations[i], page_w);
        cairo_restore(cr);
        y += h;
    }
}

typedef struct report_ctx {
    const hl_report_info *info;
    const hl_report_panel *panels;
    int n_panels;
    hl_viz_norm **norms;      /* one per panel */
    char date[64];
} report_ctx;

hl_status hl_paper_from_name(const char *name, hl_paper *out, hl_error *err)
{
    static const char *const names[] = { "fit", "a4", "letter" };
    for (int i = 0; i < 3; i++)
        if (name && strcasecmp(name, names[i]) == 0) {
            *out = (hl_paper)i;
            return HL_OK;
        }
    return hl_error_set(err, HL_ERR_ARG, "paper '%s': expected fit, a4 or letter",
                        name ? name : "");
}

int hl_paper_size(hl_paper paper, double *w_pt, double *h_pt)
{
    switch (paper) {
    case HL_PAPER_A4: *w_pt = 595; *h_pt = 842; return 1;
    case HL_PAPER_LETTER: *w_pt = 612; *h_pt = 792; return 1;
    default: return 0;
    }
}

/* The content (content_w x content_h) on a sheet: its size (portrait or
 * landscape, whichever shows the content larger), the scale and offset
 * that centre the content with a margin. */
typedef struct paper_fit {
    const void *report;         /* report_ctx */
    double sheet_w, sheet_h, scale, ox, oy;
} paper_fit;

static void paper_fit_make(hl_paper paper, double units_per_pt, int content_w,
                           int content_h, paper_fit *f)
{
    double pw, ph, m = 24 * units_per_pt;
    hl_paper_size(paper, &pw, &ph);
    pw *= units_per_pt;
    ph *= units_per_pt;
    double portrait = fmin((pw - 2 * m) / content_w, (ph - 2 * m) / content_h);
    double landscape = fmin((ph - 2 * m) / content_w, (pw - 2 * m) / content_h);
    f->sheet_w = landscape > portrait ? ph : pw;
    f->sheet_h = landscape > portrait ? pw : ph;
    f->scale = fmax(portrait, landscape);
    f->ox = (f->sheet_w - content_w * f->scale) / 2;
    f->oy = (f->sheet_h - content_h * f->scale) / 2;
}

static hl_status draw_report(cairo_t *cr, const void *vctx, hl_error *err);

static hl_status draw_on_paper(cairo_t *cr, const void *vctx, hl_error *err)
{
    const paper_fit *f = vctx;
    cairo_set_source_rgb(cr, 1, 1, 1);
    cairo_paint(cr);
    cairo_save(cr);
    cairo_translate(cr, f->ox, f->oy);
    cairo_scale(cr, f->scale, f->scale);
    hl_status st = draw_report(cr, f->report, err);
    cairo_restore(cr);
    return st;
}

/* Show text at (x,y) cut with "..." to fit max_w. */
static void show_fitted(cairo_t *cr, double x, double y, double max_w,
                        const char *text)
{
    char buf[512];
    snprintf(buf, sizeof buf, "%s", text);
    cairo_text_extents_t e;
    cairo_text_extents(cr, buf, &e);
    size_t len = strlen(buf);
    while (e.x_advance > max_w && len > 3) {
        len--;
        /* do not cut a UTF-8 sequence in half */
        while (len > 3 && ((unsigned char)buf[len] & 0xC0) == 0x80)
            len--;
        memcpy(buf + len, "...", 4);
        cairo_text_extents(cr, buf, &e);
    }
    cairo_move_to(cr, x, y);
    cairo_show_text(cr, buf);
}

/* Greedy word wrap on spaces into at most max_lines lines (the last one
 * cut with "..."); returns the number of lines drawn. */
static int show_wrapped(cairo_t *cr, double x, double y, double max_w,
                        double line_h, int max_lines, const char *text)
{
    char line[512];
    const char *p = text;
    int n = 0;
    while (*p && n < max_lines) {
        if (n == max_lines - 1) {
            show_fitted(cr, x, y + n * line_h, max_w, p);
            return n + 1;
        }
        /* take words while they fit */
        size_t best = 0, len = 0;
        for (;;) {
            const char *sp = strchr(p + len, ' ');
            size_t next = sp ? (size_t)(sp - p) : strlen(p);
            if (next >= sizeof line)
                break;
            memcpy(line, p, next);
            line[next] = '\0';
            cairo_text_extents_t e;
            cairo_text_extents(cr, line, &e);
            if (e.x_advance > max_w && best > 0)
                break;
            best = next;
            if (!sp || e.x_advance > max_w)
                break;
            len = next + 1;
        }
        if (best == 0) { /* one long word: cut it */
            show_fitted(cr, x, y + n * line_h, max_w, p);
            return n + 1;
        }
        memcpy(line, p, best);
        line[best] = '\0';
        cairo_move_to(cr, x, y + n * line_h);
        cairo_show_text(cr, line);
        n++;
        p += best;
        while (*p == ' ')
            p++;
    }
    return n;
}

static void set_font(cairo_t *cr, double size, int bold)
{
    cairo_select_font_face(cr, "sans-serif", CAIRO_FONT_SLANT_NORMAL,
                           bold ? CAIRO_FONT_WEIGHT_BOLD
                                : CAIRO_FONT_WEIGHT_NORMAL);
    cairo_set_font_size(cr, size);
}

static void target_text(const hl_report_info *info, char *buf, size_t size)
{
    /* the label's first synonym: ImageNet's lists run to a line or more */
    char label[256];
    hl_label_short(info->target_label, label, sizeof label);
    size_t used = (size_t)snprintf(buf, size, "%s", label);
    if (info->target_index >= 0 && used < size)
        used += (size_t)snprintf(buf + used, size - used, "%s(class %d)",
                                 used ? " " : "", info->target_index);
    if (info->probability >= 0 && used < size)
        snprintf(buf + used, size - used, "%sp = %.3f", used ? ", " : "",
                 info->probability);
    if (!buf[0])
        snprintf(buf, size, "-");
}

/* The photo fitted into a cell x cell square: size and offset. */
static void fit_photo(const hl_image *photo, int cell, int *w, int *h,
                      int *ox, int *oy)
{
    double s = fmin((double)cell / photo->width, (double)cell / photo->height);
    *w = (int)lround(photo->width * s), *h = (int)lround(photo->height * s);
    if (*w < 1)
        *w = 1;
    if (*h < 1)
        *h = 1;
    *ox = (cell - *w) / 2, *oy = (cell - *h) / 2;
}

/* The photo shrunk to fw x fh as a cairo surface; NULL when out of memory. */
static cairo_surface_t *photo_surface(const hl_image *photo, int fw, int fh)
{
    uint8_t *rgb = malloc((size_t)fw * fh * 3);
    cairo_surface_t *img = cairo_image_surface_create(CAIRO_FORMAT_RGB24, fw, fh);
    if (!rgb || cairo_surface_status(img) != CAIRO_STATUS_SUCCESS) {
        free(rgb);
        cairo_surface_destroy(img);
        return NULL;
    }
    hl_viz_resample_rgb(photo, fw, fh, rgb);
    cairo_surface_flush(img);
    unsigned char *d = cairo_image_surface_get_data(img);
    int st = cairo_image_surface_get_stride(img);
    for (int yy = 0; yy < fh; yy++)
        for (int xx = 0; xx < fw; xx++) {
            const uint8_t *s = rgb + ((size_t)yy * fw + xx) * 3;
            ((uint32_t *)(void *)(d + (size_t)yy * st))[xx] =
                0xff000000u | (uint32_t)s[0] << 16 | (uint32_t)s[1] << 8 | s[2];
        }
    cairo_surface_mark_dirty(img);
    free(rgb);
    return img;
}

static hl_status draw_report(cairo_t *cr, const void *vctx, hl_error *err)
{
    const report_ctx *c = vctx;
    const hl_report_info *info = c->info;
    int page_w, page_h, cols, rows, cell = report_cell(info);
    hl_report_page_size(info, c->n_panels, &page_w, &page_h);
    grid_dims(c->n_panels, &cols, &rows);
    char line[512], target[256];
    target_text(info, target, sizeof target);

    cairo_set_source_rgb(cr, 1, 1, 1);
    cairo_paint(cr);

    /* Header */
    cairo_set_source_rgb(cr, 0.1, 0.1, 0.1);
    set_font(cr, 20, 1);
    snprintf(line, sizeof line, "Heatlens report: %s",
             info->image_name ? info->image_name : "image");
    show_fitted(cr, HL_REPORT_MARGIN, HL_REPORT_MARGIN + 22,
                page_w - 2 * HL_REPORT_MARGIN, line);
    set_font(cr, 13, 0);
    snprintf(line, sizeof line, "model: %s    target: %s",
             info->model_name ? info->model_name : "-", target);
    show_fitted(cr, HL_REPORT_MARGIN, HL_REPORT_MARGIN + 46,
                page_w - 2 * HL_REPORT_MARGIN, line);

    int fw, fh, ox, oy;
    fit_photo(info->photo, cell, &fw, &fh, &ox, &oy);
    for (int i = 0; i <= c->n_panels; i++) {
        int col = i % cols, row = i / cols;
        double x = HL_REPORT_MARGIN + col * (cell + HL_REPORT_GAP);
        double y = HL_REPORT_MARGIN + HL_REPORT_HEADER +
                   row * (cell + HL_REPORT_PANEL_EXTRA + HL_REPORT_GAP);
        const hl_report_panel *p = i ? &c->panels[i - 1] : NULL;
        hl_viz_options o = p && p->opts ? *p->opts : info->opts;
        if (!p)
            o.mode = HL_VIZ_ORIGINAL_IMAGE, o.sign = HL_SIGN_ABSOLUTE_VALUE;

        cairo_set_source_rgb(cr, 0.1, 0.1, 0.1);
        set_font(cr, 14, 1);
        show_fitted(cr, x, y + 17, cell,
                    p ? (p->title ? p->title : "method") : "Original");

        double iy = y + TITLE_H;
        cairo_set_source_rgb(cr, 0.93, 0.93, 0.93);
        cairo_rectangle(cr, x, iy, cell, cell);
        cairo_fill(cr);
        cairo_surface_t *img = NULL;
        if (p) {
            hl_status st = hl_viz_render_surface(c->norms[i - 1], info->photo,
                                                 info->map, &o, fw, fh, &img,
                                                 err);
            if (st)
                return st;
        } else if (!(img = photo_surface(info->photo, fw, fh))) {
            /* the original: the photo, with the model's crop outlined */
            return hl_error_set(err, HL_ERR_NOMEM, "report: out of memory");
        }
        cairo_set_source_surface(cr, img, x + ox, iy + oy);
        cairo_rectangle(cr, x + ox, iy + oy, fw, fh);
        cairo_fill(cr);
        cairo_surface_destroy(img);
        if (!p && info->map) {
            double sc = (double)fw / info->photo->width;
            const hl_crop_map *m = info->map;
            cairo_set_source_rgb(cr, 1.0, 0.85, 0.0);
            cairo_set_line_width(cr, 1.5);
            double dash = 4;
            cairo_set_dash(cr, &dash, 1, 0);
            cairo_rectangle(cr, x + ox + m->x0 * sc, iy + oy + m->y0 * sc,
                            m->input_width * m->sx * sc,
                            m->input_height * m->sy * sc);
            cairo_stroke(cr);
            cairo_set_dash(cr, NULL, 0, 0);
        }

        double ty = iy + cell;
        cairo_set_source_rgb(cr, 0.15, 0.15, 0.15);
        if (p && (o.mode == HL_VIZ_HEAT_MAP ||
                  o.mode == HL_VIZ_BLENDED_HEAT_MAP)) {
            hl_viz_colorbar_draw(cr, x, ty + 4, cell, BAR_H - 6, o.cmap,
                                 o.sign, hl_viz_norm_threshold(c->norms[i - 1]),
                                 1, hl_viz_norm_is_zero(c->norms[i - 1]));
        } else if (p && hl_viz_norm_is_zero(c->norms[i - 1])) {
            set_font(cr, 11, 0);
            show_fitted(cr, x, ty + 20, cell, "attribution is zero everywhere");
        }
        ty += BAR_H;
        set_font(cr, 11, 0);
        cairo_set_source_rgb(cr, 0.15, 0.15, 0.15);
        if (p) {
            const char *lines[4];
            char l_params[300], l_viz[160], l_target[300], l_model[300],
                l_time[160];
            snprintf(l_params, sizeof l_params, "%s",
                     p->params && p->params[0] ? p->params : "defaults");
            snprintf(l_viz, sizeof l_viz, "%s, sign %s, outliers %g%%",
                     hl_viz_mode_name(o.mode), hl_viz_sign_name(o.sign),
                     hl_viz_norm_outlier_perc(c->norms[i - 1]));
            snprintf(l_target, sizeof l_target, "target: %s", target);
            snprintf(l_model, sizeof l_model, "model: %s",
                     info->model_name ? info->model_name : "-");
            size_t used = 0;
            l_time[0] = '\0';
            if (p->seconds >= 0)
                used = (size_t)snprintf(l_time, sizeof l_time, "time: %.2f s",
                                        p->seconds);
            if (p->has_delta && used < sizeof l_time)
                snprintf(l_time + used, sizeof l_time - used,
                         "%sconvergence delta: %.3g", used ? ", " : "",
                         p->delta);
            show_wrapped(cr, x, ty + LINE_H - 4, cell, LINE_H, 2, l_params);
            lines[0] = l_viz, lines[1] = l_target;
            lines[2] = l_model, lines[3] = l_time;
            for (int k = 0; k < 4; k++)
                show_fitted(cr, x, ty + LINE_H * (k + 3) - 4, cell, lines[k]);
            if (p->notice && p->notice[0]) {
                cairo_set_source_rgb(cr, 0.65, 0.1, 0.05);
                show_wrapped(cr, x, ty + LINE_H * 7 - 4, cell, LINE_H, 2, p->notice);
            }
        } else {
            snprintf(line, sizeof line, "%d x %d pixels", info->photo->width,
                     info->photo->height);
            show_fitted(cr, x, ty + LINE_H - 4, cell, line);
            if (info->map) {
                snprintf(line, sizeof line,
                         "model input %d x %d (dashed: its crop)",
                         info->map->input_width, info->map->input_height);
                show_fitted(cr, x, ty + 2 * LINE_H - 4, cell, line);
            }
        }
    }

    draw_evaluations(cr, info, page_w,
                     HL_REPORT_MARGIN + HL_REPORT_HEADER +
                         rows * (cell + HL_REPORT_PANEL_EXTRA) +
                         (rows - 1) * HL_REPORT_GAP);

    /* Footer */
    set_font(cr, 10, 0);
    cairo_set_source_rgb(cr, 0.4, 0.4, 0.4);
    snprintf(line, sizeof line, "Heatlens %s  -  %s", HL_VERSION, c->date);
    show_fitted(cr, HL_REPORT_MARGIN, page_h - HL_REPORT_MARGIN - 8,
                page_w - 2 * HL_REPORT_MARGIN, line);
    return HL_OK;
}

/* Key/value strings of the report, owned by the caller's arrays. */
enum { FIXED_META = 8 };

hl_status hl_report_write(const char *path, const hl_report_info *info,
                          const hl_report_panel *panels, int n_panels,
                          hl_error *err)
{
    if (!path || !info || !info->photo || !info->photo->rgb)
        return hl_error_set(err, HL_ERR_ARG,
                            "report: a path and the photo are required");
    if (n_panels < 0 || n_panels > 64 || (n_panels && !panels))
        return hl_error_set(err, HL_ERR_ARG,
                            "report %s: %d panels (expected 0..64)", path,
                            n_panels);
    hl_viz_format format;
    hl_status st = hl_viz_format_from_path(path, &format, err);
    if (st)
        return st;
    report_ctx c = {info, panels, n_panels, NULL, ""};
    c.norms = calloc((size_t)n_panels + 1, sizeof *c.norms);
    int n_meta = FIXED_META + n_panels;
    hl_viz_meta *meta = calloc((size_t)n_meta, sizeof *meta);
    char *strings = calloc((size_t)n_meta, 640);
    if (!c.norms || !meta || !strings) {
        st = hl_error_set(err, HL_ERR_NOMEM, "report %s: out of memory", path);
        goto done;
    }
    if (info->date) {
        snprintf(c.date, sizeof c.date, "%s", info->date);
    } else {
        time_t now = time(NULL);
        struct tm tm;
        gmtime_r(&now, &tm);
        strftime(c.date, sizeof c.date, "%Y-%m-%d %H:%M UTC", &tm);
    }

    /* Normalise every panel first, so a bad one fails before any output. */
    for (int i = 0; i < n_panels; i++) {
        const hl_viz_options *o = panels[i].opts ? panels[i].opts : &info->opts;
        const char *title = panels[i].title ? panels[i].title : "method";
        st = hl_viz_check(NULL, o, err);
        if (!st)
            st = hl_viz_normalize(panels[i].attr, o->sign, o->outlier_perc,
                                  &c.norms[i], err);
        if (st) {
            if (err) {
                char msg[sizeof err->msg];
                snprintf(msg, sizeof msg, "%s", err->msg);
                hl_error_set(err, st, "report panel %d (%s): %s", i + 1, title,
                             msg);
            }
            goto done;
        }
    }

    /* Metadata: PNG tEXt chunks / PDF metadata. */
    char target[256];
    target_text(info, target, sizeof target);
    int k = 0;
#define META(KEY, ...)                                                  \
    do {                                                                \
        char *s_ = strings + (size_t)k * 640;                           \
        snprintf(s_, 640, __VA_ARGS__);                                 \
        meta[k].key = (KEY);                                            \
        meta[k].value = s_;                                             \
        k++;                                                            \
    } while (0)
    META("Title", "Heatlens report: %s", info->image_name ? info->image_name : "image");
    META("heatlens.version", "%s", HL_VERSION);
    META("heatlens.date", "%s", c.date);
    META("heatlens.image", "%s", info->image_name ? info->image_name : "");
    META("heatlens.model", "%s", info->model_name ? info->model_name : "");
    META("heatlens.target", "%s", target);
    {
        char *s = strings + (size_t)k * 640;
        size_t used = 0;
        s[0] = '\0';
        for (int i = 0; i < n_panels && used < 600; i++)
            used += (size_t)snprintf(s + used, 640 - used, "%s%s",
                                     i ? ", " : "",
                                     panels[i].title ? panels[i].title : "method");
        meta[k].key = "heatlens.methods";
        meta[k].value = s;
        k++;
    }
    static const char *const panel_keys[] = {
        "heatlens.panel.1", "heatlens.panel.2", "heatlens.panel.3",
        "heatlens.panel.4", "heatlens.panel.5", "heatlens.panel.6",
        "heatlens.panel.7", "heatlens.panel.8", "heatlens.panel.9",
        "heatlens.panel.10", "heatlens.panel.11", "heatlens.panel.12",
        "heatlens.panel.13", "heatlens.panel.14", "heatlens.panel.15",
        "heatlens.panel.16",
    };
    for (int i = 0; i < n_panels && i < 16; i++) {
        const hl_viz_options *o = panels[i].opts ? panels[i].opts : &info->opts;
        char delta[64] = "";
        if (panels[i].has_delta)
            snprintf(delta, sizeof delta, "; delta=%.6g", panels[i].delta);
        META(panel_keys[i], "%s; %s; viz=%s sign=%s outlier_perc=%g; "
             "seconds=%.3f; threshold=%.6g%s",
             panels[i].title ? panels[i].title : "method",
             panels[i].params ? panels[i].params : "",
             hl_viz_mode_name(o->mode), hl_viz_sign_name(o->sign),
             o->outlier_perc, panels[i].seconds,
             hl_viz_norm_threshold(c.norms[i]), delta);
    }
#undef META

    int page_w, page_h;
    hl_report_page_size(info, n_panels, &page_w, &page_h);
    int vector = format == HL_VIZ_FORMAT_PDF || format == HL_VIZ_FORMAT_SVG;
    paper_fit fit = { &c, page_w, page_h, 1, 0, 0 };
    hl_viz_page_draw_fn draw = draw_report;
    const void *draw_ctx = &c;
    if (info->paper != HL_PAPER_FIT) {
        paper_fit_make(info->paper, vector ? 1.0 : 2.0, page_w, page_h, &fit);
        fit.sheet_w = round(fit.sheet_w);
        fit.sheet_h = round(fit.sheet_h);
        draw = draw_on_paper;
        draw_ctx = &fit;
    }
    if (vector) {
        /* PDF: "Title" goes into the PDF title, the rest into
         * subject/keywords; SVG has no metadata API in cairo. */
        st = hl_viz_vector_write(path, format, fit.sheet_w, fit.sheet_h, meta[0].value,
                                 meta + 1, k - 1, draw, draw_ctx, err);
    } else {
        page_w = (int)fit.sheet_w;
        page_h = (int)fit.sheet_h;
        cairo_surface_t *s = cairo_image_surface_create(CAIRO_FORMAT_RGB24,
                                                        page_w, page_h);
        if (cairo_surface_status(s) != CAIRO_STATUS_SUCCESS) {
            st = hl_error_set(err, HL_ERR_NOMEM,
                              "report %s: cannot create a %dx%d page", path,
                              page_w, page_h);
        } else {
            cairo_t *cr = cairo_create(s);
            st = draw(cr, draw_ctx, err);
            cairo_destroy(cr);
            if (!st)
                st = hl_viz_write_png_surface(path, s, meta, k, err);
        }
        cairo_surface_destroy(s);
    }

done:
    if (c.norms)
        for (int i = 0; i < n_panels; i++)
            hl_viz_norm_free(c.norms[i]);
    free(c.norms);
    free(meta);
    free(strings);
    return st;
}
