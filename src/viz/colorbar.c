/* A horizontal colour bar with normalised ticks and, optionally, the raw
 * attribution values they stand for (threshold * tick). */
#include <math.h>
#include <stdio.h>
#include "viz-private.h"

static void draw_centered(cairo_t *cr, double cx, double y, const char *s,
                          double x_min, double x_max)
{
    cairo_text_extents_t e;
    cairo_text_extents(cr, s, &e);
    double x = cx - e.width / 2 - e.x_bearing;
    if (x < x_min)
        x = x_min;
    if (x + e.width > x_max)
        x = x_max - e.width;
    cairo_move_to(cr, x, y);
    cairo_show_text(cr, s);
}

void hl_viz_colorbar_draw(cairo_t *cr, double x, double y, double w,
                          double h, hl_colormap_id cmap, hl_viz_sign sign,
                          double threshold, int show_raw, int is_zero)
{
    if (w < 4 || h < 4)
        return;
    const uint8_t (*table)[3] = hl_colormap_table(hl_colormap_resolve(cmap, sign));
    double bar_h = h * 0.4;
    double font = h * 0.22;
    if (font > 14)
        font = 14;
    int two_rows = show_raw && !is_zero && threshold != 0.0;
    cairo_save(cr);
    cairo_select_font_face(cr, "sans-serif", CAIRO_FONT_SLANT_NORMAL,
                           CAIRO_FONT_WEIGHT_NORMAL);
    cairo_set_font_size(cr, font);
    /* two rows of numbers: named in a left column ("norm." the normalised
     * values the colours stand for, "raw" the attribution values) */
    if (two_rows) {
        cairo_text_extents_t e;
        cairo_text_extents(cr, "norm.", &e);
        double names_w = e.x_advance + font * 0.6;
        if (names_w < w / 3) {
            cairo_set_source_rgb(cr, 0.45, 0.45, 0.45);
            cairo_move_to(cr, x, y + bar_h + font * 1.5);
            cairo_show_text(cr, "norm.");
            cairo_move_to(cr, x, y + bar_h + font * 2.8);
            cairo_show_text(cr, "raw");
            x += names_w;
            w -= names_w;
        }
    }

    /* Gradient: one rectangle per table entry (as matplotlib's colorbar). */
    for (int i = 0; i < 256; i++) {
        double x0 = x + w * i / 256.0, x1 = x + w * (i + 1) / 256.0;
        cairo_set_source_rgb(cr, table[i][0] / 255.0, table[i][1] / 255.0,
                             table[i][2] / 255.0);
        /* Overlap by a hair so no seams show when scaled. */
        cairo_rectangle(cr, x0, y, x1 - x0 + 0.5, bar_h);
        cairo_fill(cr);
    }
    cairo_set_source_rgb(cr, 0.2, 0.2, 0.2);
    cairo_set_line_width(cr, 1.0);
    cairo_rectangle(cr, x + 0.5, y + 0.5, w - 1, bar_h - 1);
    cairo_stroke(cr);

    double vmin, vmax;
    hl_viz_sign_range(sign, &vmin, &vmax);
    char buf[48];
    for (int i = 0; i <= 4; i++) {
        double tick = vmin + (vmax - vmin) * i / 4.0;
        double tx = x + w * i / 4.0;
        cairo_move_to(cr, floor(tx) + 0.5, y + bar_h);
        cairo_line_to(cr, floor(tx) + 0.5, y + bar_h + font * 0.4);
        cairo_stroke(cr);
        snprintf(buf, sizeof buf, "%g", tick + 0.0);
        draw_centered(cr, tx, y + bar_h + font * 1.5, buf, x, x + w);
        if (two_rows) {
            /* (+ 0.0: a negative map's threshold is negative, and its 0
             * tick would print "-0") */
            snprintf(buf, sizeof buf, "%.3g", threshold * tick + 0.0);
            draw_centered(cr, tx, y + bar_h + font * 2.8, buf, x, x + w);
        }
    }
    if (is_zero) {
        cairo_set_source_rgb(cr, 0.6, 0.1, 0.1);
        draw_centered(cr, x + w / 2, y + bar_h + font * 2.8,
                      "attribution is zero everywhere", x, x + w);
    }
    cairo_restore(cr);
}
