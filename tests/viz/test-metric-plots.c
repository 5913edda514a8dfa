/* The metric plots page (metric-plots.h): its size is the one announced,
 * the three formats are written, and a curve lands where the axes say:
 * the pixel on the chart at a known (fraction, probability) point has the
 * curve's colour, and a point off the curve has not. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cairo.h>

#include "tap.h"
#include "metric-plots.h"

/* Chart geometry of metric-plots.c for a page with a title, no lines and
 * two charts at width 900: first chart at x 24, y 24+34+16; the plot area
 * starts 52 px right and 24 px below the chart's corner and is
 * (chart width - 62) x (280 - 64). */
static void to_pixel(double fx, double p, double *x, double *y)
{
    double chart_w = (900.0 - 2 * 24 - 16) / 2;
    double px = 24 + 52, py = 24 + 34 + 16 + 24, pw = chart_w - 62, ph = 280 - 64;
    *x = px + fx * pw;
    *y = py + ph - p * ph;
}

int main(void)
{
    double fx[11], del[11], ins[11];
    for (int i = 0; i <= 10; i++) {
        fx[i] = i / 10.0;
        del[i] = 1.0 - fx[i];
        ins[i] = fx[i];
    }
    hl_plot_curve curves[2] = {
        { "deletion", fx, del, 11, 0.5 },
        { "insertion", fx, ins, 11, 0.5 },
    };
    float m0[64], m1[64];
    for (int i = 0; i < 64; i++) {
        m0[i] = (float)i / 63.0f;
        m1[i] = (float)((i * 37) % 64) / 63.0f;
    }
    const float *maps[2] = { m0, m1 };
    const char *labels[2] = { "original", "top 3 of 3" };
    double rho[2] = { 1.0, 0.1 }, ssim[2] = { 1.0, 0.05 };
    hl_metric_plots p = { .title = "test page", .curves = curves, .n_curves = 2,
                          .strip_n = 2, .strip_maps = maps, .strip_h = 8, .strip_w = 8,
                          .strip_labels = labels, .spearman = rho, .ssim = ssim };
    int w, h;
    hl_metric_plots_size(&p, 0, &w, &h);
    tap_ok(w == 900 && h > 600 && h < 1200, "page 900 wide, %d high", h);

    cairo_surface_t *s = cairo_image_surface_create(CAIRO_FORMAT_RGB24, w, h);
    cairo_t *cr = cairo_create(s);
    cairo_set_source_rgb(cr, 1, 1, 1);
    cairo_paint(cr);
    hl_metric_plots_draw(cr, &p, 0);
    cairo_destroy(cr);
    cairo_surface_flush(s);
    const unsigned char *d = cairo_image_surface_get_data(s);
    int stride = cairo_image_surface_get_stride(s);
    /* deletion is drawn in (0.80, 0.15, 0.15) */
    int on = 0, off = 0;
    for (int k = 1; k < 10; k++) {
        double x, y, x2, y2;
        to_pixel(k / 10.0 + 0.05, 1.0 - (k / 10.0 + 0.05), &x, &y);
        to_pixel(k / 10.0 + 0.05, 1.0 - (k / 10.0 + 0.05) + 0.3, &x2, &y2);
        uint32_t c = *(const uint32_t *)(d + (int)lround(y) * stride + 4 * (int)lround(x));
        uint32_t c2 = *(const uint32_t *)(d + (int)lround(y2) * stride + 4 * (int)lround(x2));
        on += ((c >> 16) & 255) > 150 && ((c >> 8) & 255) < 90;
        off += ((c2 >> 16) & 255) > 150 && ((c2 >> 8) & 255) < 90;
    }
    tap_ok(on == 9 && off == 0, "the deletion line is where the axes put it (%d/9 on, %d off)", on, off);
    cairo_surface_destroy(s);

    static const char *const exts[] = { "png", "pdf", "svg" };
    static const char *const magic[] = { "\x89PNG", "%PDF", "<?xml" };
    for (int i = 0; i < 3; i++) {
        char path[256];
        snprintf(path, sizeof path, "%s/hl-metric-plots-test.%s",
                 getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp", exts[i]);
        hl_error err = {0};
        hl_status st = hl_metric_plots_export(&p, path, NULL, 0, &err);
        char head[8] = {0};
        FILE *f = fopen(path, "rb");
        if (f) {
            if (fread(head, 1, 5, f) == 0)
                head[0] = '\0';
            fclose(f);
        }
        tap_ok(st == HL_OK && strncmp(head, magic[i], strlen(magic[i])) == 0,
               "export %s %s", exts[i], err.msg);
        remove(path);
    }
    hl_error err = {0};
    tap_ok(hl_metric_plots_export(&p, "/tmp/x.bmp", NULL, 0, &err) == HL_ERR_ARG,
           "a .bmp path is refused: %s", err.msg);
    return tap_done();
}
