/* heatlens-cli gallery: a contact sheet of a batch folder, one row per
 * image and target (the photo, then each method's overlay), with labels,
 * probabilities and one colour bar shared by every overlay (each map is
 * normalised on its own, as Captum does, so they share the normalised
 * scale). HTML: one self-contained XHTML file, images inline as base64
 * PNG. PDF: cairo pages of rows. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cairo-pdf.h>
#include <glib.h>
#include <glib/gstdio.h>

#include "cli-commands.h"
#include "cli-explain.h"
#include "cli-manifest.h"
#include "cli-method.h"
#include "cli-options.h"
#include "npy.h"
#include "viz.h"

#define GALLERY_PDF_MARGIN 24.0
#define GALLERY_PDF_HEADER 70.0
#define GALLERY_PDF_TEXT 46.0
#define GALLERY_PDF_ROWS 5

/* What rows can be sorted and coloured by: the numbers batch --evaluate
 * writes and the probability; each with the direction that is better. */
typedef enum { BY_NONE, BY_DELETION, BY_INSERTION, BY_INFIDELITY, BY_SENSITIVITY,
               BY_PROBABILITY } gallery_by;
static const char *const by_names[] = { "", "deletion", "insertion", "infidelity",
                                        "sensitivity", "probability", NULL };
#define BY_NAMES "deletion, insertion, infidelity, sensitivity, probability"
/* lower is better for deletion, infidelity, sensitivity */
static const int by_higher_better[] = { 0, 0, 1, 0, 0, 1 };

static void gallery_help(void)
{
    printf("Usage: %s gallery DIR --out gallery.html|gallery.pdf [--cell-size N]\n"
           "                    [--model FILE.onnx] [--viz MODE] [--sign SIGN]\n"
           "                    [--cmap NAME] [--outlier-perc P] [--alpha A]\n"
           "\n"
           "A contact sheet of a folder written by 'batch' (its manifest.jsonl\n"
           "and batch.json): one row per image and target with the photo and each\n"
           "method's overlay (drawn from the .npy outputs), the label and\n"
           "probability, and one colour bar for all overlays. The HTML is a single\n"
           "file with the pictures inline, readable offline; the PDF has %d rows\n"
           "a page. Image paths are read as batch saw them: run gallery from the\n"
           "same folder (or give absolute paths to batch).\n"
           "\n"
           "Options:\n"
           "  --out FILE             .html (or .htm) or .pdf\n"
           "  --cell-size N          side of each picture (default 160)\n"
           "  --model FILE.onnx      the model for the preprocessing (default: the\n"
           "                         one batch.json names)\n"
           "  --viz MODE             default blended_heat_map; %s\n"
           "  --sign SIGN            default absolute_value; %s\n"
           "  --cmap NAME            %s\n"
           "  --outlier-perc P       percent of the largest values clipped (default 2)\n"
           "  --alpha A              overlay opacity (default 0.5)\n"
           "  --sort-by METRIC       rows best first by %s\n"
           "                         (the first three need 'batch --evaluate'); rows\n"
           "                         without the number go last\n"
           "  --color-by METRIC      shade rows from good (green) to bad (red) by the\n"
           "                         metric (default: the --sort-by one)\n"
           "  --by-method NAME       whose number sorts and colours a row (default: the\n"
           "                         first method of the row that has it)\n"
           "  --help                 this text\n",
           CLI_PROG, GALLERY_PDF_ROWS, hl_viz_mode_names(), hl_viz_sign_names(),
           hl_colormap_names(), BY_NAMES);
}

/* One row: an image and a target, each method's line (or NULL). */
typedef struct gallery_row {
    const cli_plan_image *image;
    const char *request;
    const cli_manifest_line **cells; /* one per method */
    int order;                       /* in batch.json (ties keep it) */
    double sort_value, color_value;  /* NaN: the row has none */
} gallery_row;


typedef struct gallery {
    const char *dir;
    cli_batch_plan plan;
    cli_manifest manifest;
    cli_input in;
    char **overrides;          /* "key=value" split for cli_input */
    explain_viz viz;
    int cell;
    gallery_row *rows;
    int n_rows, n_methods;
    int problems;
    gallery_by sort_by, color_by;
    const char *by_method;     /* --by-method: whose number (NULL = first) */
    double color_lo, color_hi; /* the range of the colouring metric */
} gallery;

static double line_value(const cli_manifest_line *l, gallery_by by)
{
    if (!l || l->error)
        return NAN;
    switch (by) {
    case BY_DELETION: return l->deletion_auc;
    case BY_INSERTION: return l->insertion_auc;
    case BY_INFIDELITY: return l->infidelity;
    case BY_SENSITIVITY: return l->sensitivity;
    case BY_PROBABILITY:
        return l->has_target && l->probability >= 0 && strcmp(l->target_request, "-") != 0
                   ? l->probability : NAN;
    default: return NAN;
    }
}

/* The row's number: --by-method's, else the first method's that has one. */
static double row_value(const gallery *g, const gallery_row *r, gallery_by by)
{
    for (int m = 0; by != BY_NONE && m < g->n_methods; m++) {
        if (g->by_method && strcmp(g->plan.methods[m], g->by_method) != 0)
            continue;
        double v = line_value(r->cells[m], by);
        if (!isnan(v))
            return v;
    }
    return NAN;
}

static int by_sort_value(const void *a, const void *b, void *user)
{
    const gallery_row *p = a, *q = b;
    int higher = *(const int *)user;
    int pn = isnan(p->sort_value), qn = isnan(q->sort_value);
    if (pn != qn)
        return pn - qn;   /* rows without a number last */
    if (!pn && p->sort_value != q->sort_value)
        return (p->sort_value < q->sort_value) == !higher ? -1 : 1;
    return p->order - q->order;
}

/* Sort by --sort-by (best first) and find the range of --color-by. */
static void order_rows(gallery *g)
{
    g->color_lo = INFINITY;
    g->color_hi = -INFINITY;
    for (int r = 0; r < g->n_rows; r++) {
        gallery_row *row = &g->rows[r];
        row->order = r;
        row->sort_value = row_value(g, row, g->sort_by);
        row->color_value = row_value(g, row, g->color_by);
        if (!isnan(row->color_value)) {
            g->color_lo = fmin(g->color_lo, row->color_value);
            g->color_hi = fmax(g->color_hi, row->color_value);
        }
    }
    int higher = by_higher_better[g->sort_by];
    if (g->sort_by != BY_NONE)
        g_qsort_with_data(g->rows, g->n_rows, sizeof *g->rows, by_sort_value, &higher);
}

/* A row's shade: light green (best of the folder) to light red (worst);
 * 0 when the row has no number (no shade). */
static int row_shade(const gallery *g, const gallery_row *r, double rgb[3])
{
    if (g->color_by == BY_NONE || isnan(r->color_value))
        return 0;
    double t = g->color_hi > g->color_lo
                   ? (r->color_value - g->color_lo) / (g->color_hi - g->color_lo) : 0.5;
    if (by_higher_better[g->color_by])
        t = 1.0 - t;   /* t: 0 best, 1 worst */
    rgb[0] = 0.80 + 0.18 * t;
    rgb[1] = 0.98 - 0.18 * t;
    rgb[2] = 0.80;
    return 1;
}

/* "deletion 0.123, insertion 0.456, ..." of a line's metrics ("" none). */
static void metrics_caption(const cli_manifest_line *l, char *buf, size_t size)
{
    buf[0] = '\0';
    if (!l || l->error || !l->evaluate)
        return;
    static const gallery_by shown[] = { BY_DELETION, BY_INSERTION, BY_INFIDELITY,
                                        BY_SENSITIVITY };
    for (size_t i = 0; i < sizeof shown / sizeof shown[0]; i++) {
        double v = line_value(l, shown[i]);
        if (isnan(v))
            continue;
        size_t len = strlen(buf);
        snprintf(buf + len, size - len, "%s%s %.3g", len ? ", " : "", by_names[shown[i]], v);
    }
    if (l->randomization_flagged >= 0) {
        size_t len = strlen(buf);
        snprintf(buf + len, size - len, "%ssanity %s", len ? ", " : "",
                 l->randomization_flagged ? "FLAGGED" : "passed");
    }
}

/* ------------------------------------------------------------ rendering */

static cairo_surface_t *image_surface(const hl_image *img, int w, int h)
{
    hl_image *small = hl_image_resize(img, w, h);
    if (!small)
        return NULL;
    cairo_surface_t *s = cairo_image_surface_create(CAIRO_FORMAT_RGB24, w, h);
    unsigned char *data = cairo_image_surface_get_data(s);
    int stride = cairo_image_surface_get_stride(s);
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            const uint8_t *p = small->rgb + ((size_t)y * w + x) * 3;
            ((uint32_t *)(data + (size_t)y * stride))[x] =
                (uint32_t)p[0] << 16 | (uint32_t)p[1] << 8 | p[2];
        }
    cairo_surface_mark_dirty(s);
    hl_image_free(small);
    return s;
}

/* The picture size of a photo fitted in the cell. */
static void fit(const hl_image *photo, int cell, int *w, int *h)
{
    double scale = (double)cell / (photo->width > photo->height ? photo->width
                                                                : photo->height);
    *w = (int)(photo->width * scale + 0.5);
    *h = (int)(photo->height * scale + 0.5);
    if (*w < 1)
        *w = 1;
    if (*h < 1)
        *h = 1;
}

/* The overlay of a line's .npy on the row's photo; NULL (printed) on error. */
static cairo_surface_t *overlay_surface(gallery *g, const cli_input *in,
                                        const cli_manifest_line *l)
{
    const char *npy = NULL;
    for (int i = 0; l->outputs && l->outputs[i]; i++)
        if (g_str_has_suffix(l->outputs[i], ".npy"))
            npy = l->outputs[i];
    if (!npy) {
        cli_fail("gallery: %s / %s has no .npy output (run batch with --formats "
                 "npy,...)", l->stem, l->method);
        return NULL;
    }
    char *path = g_build_filename(g->dir, npy, NULL);
    hl_error err = {0};
    hl_array *attr = NULL, *shown = NULL;
    hl_viz_norm *norm = NULL;
    cairo_surface_t *s = NULL;
    int in_h = (int)in->input->shape.dims[2], in_w = (int)in->input->shape.dims[3];
    int w, h;
    fit(in->photo, g->cell, &w, &h);
    if (hl_npy_read(path, &attr, &err) != HL_OK)
        cli_fail("gallery: %s", err.msg);
    else if (!(shown = hl_attr_on_input_grid(attr, in_h, in_w)))
        cli_fail("gallery: %s: cannot draw an attribution of this shape", path);
    else if (hl_viz_normalize(shown, g->viz.opts.sign, g->viz.opts.outlier_perc,
                              &norm, &err) != HL_OK ||
             hl_viz_render_surface(norm, in->photo, &in->map, &g->viz.opts, w,
                                   h, &s, &err) != HL_OK)
        cli_fail("gallery: %s: %s", path, err.msg);
    hl_viz_norm_free(norm);
    hl_array_free(shown);
    hl_array_free(attr);
    g_free(path);
    return s;
}

static cairo_status_t png_to_bytes(void *closure, const unsigned char *data,
                                   unsigned int length)
{
    g_byte_array_append(closure, data, length);
    return CAIRO_STATUS_SUCCESS;
}

/* <img .../> with the surface inline as base64 PNG. */
static void html_image(FILE *f, cairo_surface_t *s, const char *alt)
{
    GByteArray *png = g_byte_array_new();
    cairo_surface_write_to_png_stream(s, png_to_bytes, png);
    char *b64 = g_base64_encode(png->data, png->len);
    char *alt_x = g_markup_escape_text(alt, -1);
    fprintf(f, "<img src=\"data:image/png;base64,%s\" width=\"%d\" height=\"%d\" "
            "alt=\"%s\"/>", b64, cairo_image_surface_get_width(s),
            cairo_image_surface_get_height(s), alt_x);
    g_free(alt_x);
    g_free(b64);
    g_byte_array_unref(png);
}

static void html_text(FILE *f, const char *text)
{
    char *x = g_markup_escape_text(text ? text : "", -1);
    fputs(x, f);
    g_free(x);
}

static int uses_colormap(const hl_viz_options *o)
{
    return o->mode == HL_VIZ_HEAT_MAP || o->mode == HL_VIZ_BLENDED_HEAT_MAP;
}

static cairo_surface_t *colorbar_surface(const hl_viz_options *o, int w, int h)
{
    cairo_surface_t *s = cairo_image_surface_create(CAIRO_FORMAT_RGB24, w, h);
    cairo_t *cr = cairo_create(s);
    cairo_set_source_rgb(cr, 1, 1, 1);
    cairo_paint(cr);
    hl_viz_colorbar_draw(cr, 4, 2, w - 8, h - 4, o->cmap, o->sign, 0, 0, 0);
    cairo_destroy(cr);
    return s;
}

/* The label line of a row: "281 tabby, tabby cat (p = 0.5123)". */
static void row_caption(const gallery_row *r, int n_methods, char *buf,
                        size_t size)
{
    buf[0] = '\0';
    for (int m = 0; m < n_methods; m++) {
        const cli_manifest_line *l = r->cells[m];
        if (l && !l->error && l->has_target && strcmp(l->target_request, "-") != 0) {
            snprintf(buf, size, "%d %s (p = %.4f)", l->target,
                     l->label ? l->label : "", l->probability);
            return;
        }
    }
    for (int m = 0; m < n_methods; m++)
        if (r->cells[m] && r->cells[m]->error) {
            snprintf(buf, size, "error: %s", r->cells[m]->error);
            return;
        }
}

/* Load the row's photo into in; the message is printed on failure. */
static int row_photo(gallery *g, cli_input *in, const gallery_row *r)
{
    /* A row whose entries all failed shows their errors, no photo. */
    int any = 0;
    for (int m = 0; m < g->n_methods; m++)
        any |= r->cells[m] && !r->cells[m]->error;
    if (!any)
        return 1;
    in->image_path = r->image->image;
    if (cli_input_load_image(in) != 0) {
        g->problems++;
        return 1;
    }
    return 0;
}

static int write_html(gallery *g, FILE *f)
{
    fprintf(f, "<!DOCTYPE html>\n<html xmlns=\"http://www.w3.org/1999/xhtml\" "
            "lang=\"en\">\n<head>\n<meta charset=\"utf-8\"/>\n<title>Heatlens "
            "gallery: ");
    html_text(f, g->dir);
    fprintf(f, "</title>\n<style>\nbody{font-family:sans-serif;margin:16px;}\n"
            "table{border-collapse:collapse;}\n"
            "td,th{padding:4px;vertical-align:top;text-align:center;"
            "font-size:12px;}\nth{background:#eee;}\n"
            ".error{color:#b00;max-width:%dpx;}\n.caption{max-width:%dpx;}\n"
            "</style>\n</head>\n<body>\n<h1>", g->cell, g->cell);
    html_text(f, g->dir);
    fprintf(f, "</h1>\n<p>Model ");
    html_text(f, g->plan.model);
    fprintf(f, ", targets ");
    html_text(f, g->plan.targets);
    fprintf(f, ", %d rows; overlay %s, sign %s.", g->n_rows,
            hl_viz_mode_name(g->viz.opts.mode), hl_viz_sign_name(g->viz.opts.sign));
    if (g->sort_by != BY_NONE)
        fprintf(f, " Rows sorted by %s, %s first.", by_names[g->sort_by],
                by_higher_better[g->sort_by] ? "highest" : "lowest");
    if (g->color_by != BY_NONE)
        fprintf(f, " Shaded by %s: green best, red worst.", by_names[g->color_by]);
    fprintf(f, "</p>\n");
    if (uses_colormap(&g->viz.opts)) {
        cairo_surface_t *bar = colorbar_surface(&g->viz.opts, 360, 48);
        fprintf(f, "<p class=\"colorbar\">");
        html_image(f, bar, "colour bar: normalised attribution");
        fprintf(f, "</p>\n");
        cairo_surface_destroy(bar);
    }
    fprintf(f, "<table>\n<tr><th>image</th>");
    for (int m = 0; m < g->n_methods; m++) {
        fprintf(f, "<th>");
        html_text(f, g->plan.methods[m]);
        fprintf(f, "</th>");
    }
    fprintf(f, "</tr>\n");
    cli_input in = g->in;
    in.photo = NULL;
    in.input = NULL;
    in.image01 = NULL;
    for (int r = 0; r < g->n_rows; r++) {
        const gallery_row *row = &g->rows[r];
        char caption[1200];
        row_caption(row, g->n_methods, caption, sizeof caption);
        fprintf(f, "<tr data-image=\"");
        html_text(f, row->image->image);
        fprintf(f, "\" data-stem=\"");
        html_text(f, row->image->stem);
        fprintf(f, "\"");
        if (g->sort_by != BY_NONE && !isnan(row->sort_value))
            fprintf(f, " data-%s=\"%.9g\"", by_names[g->sort_by], row->sort_value);
        double rgb[3];
        if (row_shade(g, row, rgb))
            fprintf(f, " style=\"background:#%02x%02x%02x\"", (int)(rgb[0] * 255 + 0.5),
                    (int)(rgb[1] * 255 + 0.5), (int)(rgb[2] * 255 + 0.5));
        fprintf(f, "><td class=\"caption\">");
        int have_photo = row_photo(g, &in, row) == 0;
        if (have_photo) {
            int w, h;
            fit(in.photo, g->cell, &w, &h);
            cairo_surface_t *s = image_surface(in.photo, w, h);
            if (s) {
                html_image(f, s, row->image->image);
                cairo_surface_destroy(s);
            }
        }
        fprintf(f, "<br/>");
        html_text(f, row->image->image);
        fprintf(f, "<br/>");
        html_text(f, caption);
        fprintf(f, "</td>");
        for (int m = 0; m < g->n_methods; m++) {
            const cli_manifest_line *l = row->cells[m];
            fprintf(f, "<td>");
            cairo_surface_t *s = NULL;
            if (!l) {
                fprintf(f, "<span class=\"error\">missing from the manifest</span>");
            } else if (l->error) {
                fprintf(f, "<span class=\"error\">");
                html_text(f, l->error);
                fprintf(f, "</span>");
            } else if (have_photo && (s = overlay_surface(g, &in, l))) {
                char alt[600];
                snprintf(alt, sizeof alt, "%s %s target %d", row->image->stem,
                         l->method, l->target);
                html_image(f, s, alt);
                cairo_surface_destroy(s);
            } else {
                g->problems += have_photo;
                fprintf(f, "<span class=\"error\">");
                html_text(f, have_photo ? cli_last_error() : "photo not found");
                fprintf(f, "</span>");
            }
            if (l && !l->error && l->has_delta)
                fprintf(f, "<br/>delta %.3g", l->delta);
            char numbers[256];
            metrics_caption(l, numbers, sizeof numbers);
            if (numbers[0]) {
                fprintf(f, "<br/><span class=\"metrics\">");
                html_text(f, numbers);
                fprintf(f, "</span>");
            }
            fprintf(f, "</td>");
        }
        fprintf(f, "</tr>\n");
    }
    cli_input_clear_image(&in);
    fprintf(f, "</table>\n<p>Heatlens %s</p>\n</body>\n</html>\n", HL_VERSION);
    return ferror(f) ? cli_fail("gallery: write error: %s", strerror(errno)) : 0;
}

/* ------------------------------------------------------------ PDF */

static void pdf_text(cairo_t *cr, double x, double y, double max_w,
                     const char *text, double size)
{
    cairo_set_font_size(cr, size);
    char buf[200];
    snprintf(buf, sizeof buf, "%s", text);
    cairo_text_extents_t e;
    cairo_text_extents(cr, buf, &e);
    /* Shorten to the column (bytes; labels are ASCII in practice). */
    for (size_t len = strlen(buf); e.width > max_w && len > 4; len--) {
        buf[len - 4] = '.';
        buf[len - 3] = '.';
        buf[len - 2] = '\0';
        cairo_text_extents(cr, buf, &e);
    }
    cairo_move_to(cr, x, y);
    cairo_show_text(cr, buf);
}

static void pdf_header(gallery *g, cairo_t *cr, double page_w)
{
    cairo_set_source_rgb(cr, 0, 0, 0);
    cairo_select_font_face(cr, "sans-serif", CAIRO_FONT_SLANT_NORMAL,
                           CAIRO_FONT_WEIGHT_BOLD);
    pdf_text(cr, GALLERY_PDF_MARGIN, GALLERY_PDF_MARGIN + 12, page_w / 2, g->dir, 14);
    cairo_select_font_face(cr, "sans-serif", CAIRO_FONT_SLANT_NORMAL,
                           CAIRO_FONT_WEIGHT_NORMAL);
    if (uses_colormap(&g->viz.opts))
        hl_viz_colorbar_draw(cr, page_w - GALLERY_PDF_MARGIN - 260,
                             GALLERY_PDF_MARGIN, 260, 36, g->viz.opts.cmap,
                             g->viz.opts.sign, 0, 0, 0);
    double col = g->cell + 8;
    for (int m = -1; m < g->n_methods; m++)
        pdf_text(cr, GALLERY_PDF_MARGIN + (m + 1) * col,
                 GALLERY_PDF_MARGIN + GALLERY_PDF_HEADER - 8, g->cell,
                 m < 0 ? "image" : g->plan.methods[m], 10);
}

static int write_pdf(gallery *g, const char *path)
{
    double col = g->cell + 8, row_h = g->cell + GALLERY_PDF_TEXT;
    double page_w = 2 * GALLERY_PDF_MARGIN + (g->n_methods + 1) * col;
    if (page_w < 2 * GALLERY_PDF_MARGIN + 420)
        page_w = 2 * GALLERY_PDF_MARGIN + 420;
    double page_h = 2 * GALLERY_PDF_MARGIN + GALLERY_PDF_HEADER +
                    GALLERY_PDF_ROWS * row_h;
    cairo_surface_t *pdf = cairo_pdf_surface_create(path, page_w, page_h);
    cairo_t *cr = cairo_create(pdf);
    cli_input in = g->in;
    in.photo = NULL;
    in.input = NULL;
    in.image01 = NULL;
    for (int r = 0; r < g->n_rows; r++) {
        int slot = r % GALLERY_PDF_ROWS;
        if (slot == 0) {
            if (r > 0)
                cairo_show_page(cr);
            pdf_header(g, cr, page_w);
        }
        const gallery_row *row = &g->rows[r];
        double y = GALLERY_PDF_MARGIN + GALLERY_PDF_HEADER + slot * row_h;
        int have_photo = row_photo(g, &in, row) == 0;
        double rgb[3];
        if (row_shade(g, row, rgb)) {
            cairo_set_source_rgb(cr, rgb[0], rgb[1], rgb[2]);
            cairo_rectangle(cr, GALLERY_PDF_MARGIN - 4, y - 4,
                            page_w - 2 * GALLERY_PDF_MARGIN + 8, row_h - 2);
            cairo_fill(cr);
        }
        for (int m = -1; m < g->n_methods; m++) {
            double x = GALLERY_PDF_MARGIN + (m + 1) * col;
            const cli_manifest_line *l = m >= 0 ? row->cells[m] : NULL;
            cairo_surface_t *s = NULL;
            if (have_photo && m < 0) {
                int w, h;
                fit(in.photo, g->cell, &w, &h);
                s = image_surface(in.photo, w, h);
            } else if (have_photo && l && !l->error) {
                s = overlay_surface(g, &in, l);
                g->problems += !s;
            }
            cairo_set_source_rgb(cr, 0.7, 0, 0);
            if (s) {
                cairo_set_source_surface(cr, s, x, y);
                cairo_paint(cr);
                cairo_surface_destroy(s);
            } else if (m >= 0) {
                pdf_text(cr, x, y + 12, g->cell,
                         !l ? "missing" : l->error ? l->error : "not drawn", 8);
            }
            char numbers[256];
            metrics_caption(l, numbers, sizeof numbers);
            if (numbers[0]) {
                cairo_set_source_rgb(cr, 0.1, 0.1, 0.1);
                pdf_text(cr, x, y + g->cell + 34, g->cell, numbers, 7);
            }
        }
        char caption[1200];
        row_caption(row, g->n_methods, caption, sizeof caption);
        cairo_set_source_rgb(cr, 0, 0, 0);
        pdf_text(cr, GALLERY_PDF_MARGIN, y + g->cell + 12, page_w - 2 * GALLERY_PDF_MARGIN,
                 row->image->image, 9);
        pdf_text(cr, GALLERY_PDF_MARGIN, y + g->cell + 24, page_w - 2 * GALLERY_PDF_MARGIN,
                 caption, 9);
    }
    cli_input_clear_image(&in);
    cairo_destroy(cr);
    cairo_surface_finish(pdf);
    cairo_status_t st = cairo_surface_status(pdf);
    cairo_surface_destroy(pdf);
    if (st != CAIRO_STATUS_SUCCESS)
        return cli_fail("gallery: %s: %s", path, cairo_status_to_string(st));
    return 0;
}

/* ------------------------------------------------------------ setup */

static int method_uses_target(const char *name)
{
    const hl_method_desc *m = hl_method_find(name);
    return m && cli_method_uses(m, "target");
}

static void build_rows(gallery *g)
{
    GHashTable *by_id = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    for (int i = 0; i < g->manifest.n; i++)
        g_hash_table_replace(by_id, cli_manifest_identity(&g->manifest.lines[i]),
                             &g->manifest.lines[i]);
    g->n_methods = (int)g_strv_length(g->plan.methods);
    GArray *rows = g_array_new(FALSE, TRUE, sizeof(gallery_row));
    for (int i = 0; i < g->plan.n_images; i++) {
        const cli_plan_image *im = &g->plan.images[i];
        for (int t = 0; im->targets && im->targets[t]; t++) {
            gallery_row r = {.image = im, .request = im->targets[t]};
            r.cells = g_new0(const cli_manifest_line *, g->n_methods + 1);
            for (int m = 0; m < g->n_methods; m++) {
                int uses = method_uses_target(g->plan.methods[m]);
                cli_manifest_line key = {.stem = im->stem,
                                         .method = g->plan.methods[m],
                                         .target_request = uses ? im->targets[t] : "-"};
                char *id = cli_manifest_identity(&key);
                r.cells[m] = g_hash_table_lookup(by_id, id);
                g_free(id);
            }
            g_array_append_val(rows, r);
        }
    }
    g->n_rows = (int)rows->len;
    g->rows = (gallery_row *)g_array_free(rows, FALSE);
    g_hash_table_destroy(by_id);
    order_rows(g);
}

static int load(gallery *g, const char *model)
{
    char *plan = g_build_filename(g->dir, "batch.json", NULL);
    char *manifest = g_build_filename(g->dir, "manifest.jsonl", NULL);
    int bad = cli_batch_plan_read(plan, &g->plan) ||
              cli_manifest_read(manifest, &g->manifest);
    g_free(plan);
    g_free(manifest);
    if (bad)
        return 1;
    g->in.model_path = model ? model : g->plan.model;
    g->in.labels_path = g->plan.labels;
    /* The preprocessing options batch was given, as "key=value". */
    int n = g->plan.preprocess ? (int)g_strv_length(g->plan.preprocess) : 0;
    g->overrides = g_new0(char *, 2 * n + 1);
    for (int i = 0; i < n && i < CLI_MAX_PREPROCESS_OVERRIDES; i++) {
        char **kv = g_strsplit(g->plan.preprocess[i], "=", 2);
        g->overrides[2 * i] = g_strdup(kv[0]);
        g->overrides[2 * i + 1] = g_strdup(kv[1] ? kv[1] : "");
        g_strfreev(kv);
        g->in.overrides[i].key = g->overrides[2 * i];
        g->in.overrides[i].value = g->overrides[2 * i + 1];
        g->in.n_overrides++;
    }
    if (cli_input_load(&g->in, 0))
        return 1;
    build_rows(g);
    return 0;
}

static void gallery_clear(gallery *g)
{
    for (int r = 0; r < g->n_rows; r++)
        g_free(g->rows[r].cells);
    g_free(g->rows);
    cli_input_clear(&g->in);
    g_strfreev(g->overrides);
    cli_manifest_clear(&g->manifest);
    cli_batch_plan_clear(&g->plan);
}

static int parse_options(gallery *g, int argc, char **argv, const char **out,
                         const char **model, int *color_given)
{
    cli_args a;
    cli_args_init(&a, argc, argv, 1);
    for (;;) {
        /* The folder is the one word without dashes. */
        if (a.index < argc && strncmp(argv[a.index], "--", 2) != 0) {
            if (g->dir)
                return cli_fail("gallery takes one folder, not '%s' too",
                                argv[a.index]);
            g->dir = argv[a.index++];
            continue;
        }
        int r = cli_args_next(&a);
        if (r <= 0)
            return r < 0;
        int used = explain_viz_option(&g->viz, &a);
        if (used < 0)
            return 1;
        if (used && strcmp(a.name, "out") == 0)
            *out = g->viz.out_path;
        if (used)
            continue;
        const char *v;
        if (strcmp(a.name, "model") == 0) {
            if (!(*model = cli_args_value(&a)))
                return 1;
        } else if (strcmp(a.name, "sort-by") == 0 || strcmp(a.name, "color-by") == 0) {
            if (!(v = cli_args_value(&a)))
                return 1;
            int k = 1;
            while (by_names[k] && strcmp(by_names[k], v) != 0)
                k++;
            if (!by_names[k])
                return cli_fail("--%s: unknown metric '%s'; valid: %s", a.name, v, BY_NAMES);
            *(a.name[0] == 's' ? &g->sort_by : &g->color_by) = (gallery_by)k;
            if (a.name[0] == 'c')
                *color_given = 1;
        } else if (strcmp(a.name, "by-method") == 0) {
            if (!(g->by_method = cli_args_value(&a)))
                return 1;
        } else if (strcmp(a.name, "cell-size") == 0) {
            if (!(v = cli_args_value(&a)) ||
                !cli_parse_int("cell-size", v, 32, 1024, &g->cell))
                return 1;
        } else {
            return cli_fail("gallery: unknown option '%s'; valid: --out, "
                            "--cell-size, --model, --viz, --sign, --cmap, "
                            "--outlier-perc, --alpha, --sort-by, --color-by, "
                            "--by-method, --help", a.word);
        }
    }
}

int cmd_gallery(int argc, char **argv)
{
    if (cli_wants_help(argc, argv, 1)) {
        gallery_help();
        return 0;
    }
    gallery *g = g_new0(gallery, 1);
    cli_input_init(&g->in);
    g->cell = 160;
    const char *out = NULL, *model = NULL;
    int status = 1, color_given = 0;
    if (parse_options(g, argc, argv, &out, &model, &color_given))
        goto done;
    if (!color_given)
        g->color_by = g->sort_by;
    if (!g->dir || !out) {
        cli_fail("gallery needs a batch folder and --out gallery.html|gallery.pdf");
        goto done;
    }
    int pdf = g_str_has_suffix(out, ".pdf") || g_str_has_suffix(out, ".PDF");
    int html = g_str_has_suffix(out, ".html") || g_str_has_suffix(out, ".htm") ||
               g_str_has_suffix(out, ".HTML");
    if (!pdf && !html) {
        cli_fail("--out: a gallery is written as .html or .pdf, not '%s'", out);
        goto done;
    }
    /* The overlay options, checked as explain checks them. */
    if (cli_viz_resolve(&g->viz.given, HL_VIZ_BLENDED_HEAT_MAP, &g->viz.opts) ||
        load(g, model))
        goto done;
    if (pdf) {
        status = write_pdf(g, out);
    } else {
        char *tmp = g_strdup_printf("%s.tmp-XXXXXX", out);
        int fd = g_mkstemp(tmp);
        FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;
        if (!f) {
            cli_fail("gallery: cannot write %s: %s", out, strerror(errno));
        } else {
            status = write_html(g, f);
            if (fclose(f) != 0)
                status = cli_fail("gallery: cannot write %s: %s", out, strerror(errno));
            if (status == 0 && rename(tmp, out) != 0)
                status = cli_fail("gallery: cannot write %s: %s", out, strerror(errno));
            if (status)
                g_unlink(tmp);
            else
                chmod(out, 0644);
        }
        g_free(tmp);
    }
    if (status == 0) {
        printf("gallery: %d rows x %d methods from %s into %s\n", g->n_rows,
               g->n_methods, g->dir, out);
        if (g->problems)
            status = cli_fail("gallery: %d picture%s could not be drawn (above)",
                              g->problems, g->problems == 1 ? "" : "s");
    }
done:
    gallery_clear(g);
    g_free(g);
    return status;
}
