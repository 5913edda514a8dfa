/* Export and report files: PNG size and tEXt metadata read back with
 * libpng, PDF/SVG headers and sizes, and that a failed export never
 * destroys an existing file. */
#include <dirent.h>
#include <errno.h>
#include <glib.h>
#include <png.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>
#include "tap.h"
#include "viz.h"

typedef struct png_info_read {
    int ok, width, height;
    char text[4096];   /* "key=value\n" lines */
} png_info_read;

static png_info_read read_png(const char *path)
{
    png_info_read r = {0};
    FILE *f = fopen(path, "rb");
    if (!f)
        return r;
    png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
    png_infop info = png_create_info_struct(png);
    if (setjmp(png_jmpbuf(png))) {
        png_destroy_read_struct(&png, &info, NULL);
        fclose(f);
        r.ok = 0;
        return r;
    }
    png_init_io(png, f);
    png_read_info(png, info);
    r.width = (int)png_get_image_width(png, info);
    r.height = (int)png_get_image_height(png, info);
    png_textp texts;
    int n = 0;
    png_get_text(png, info, &texts, &n);
    size_t used = 0;
    for (int i = 0; i < n && used < sizeof r.text; i++)
        used += (size_t)snprintf(r.text + used, sizeof r.text - used, "%s=%s\n",
                                 texts[i].key, texts[i].text);
    r.ok = 1;
    png_destroy_read_struct(&png, &info, NULL);
    fclose(f);
    return r;
}

static long file_size(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 ? (long)st.st_size : -1;
}

static int starts_with_file(const char *path, const char *magic)
{
    char buf[16] = {0};
    FILE *f = fopen(path, "rb");
    if (!f)
        return 0;
    size_t n = fread(buf, 1, strlen(magic), f);
    fclose(f);
    return n == strlen(magic) && memcmp(buf, magic, n) == 0;
}

/* SVG read back with GLib's GMarkup parser (an XML parser independent of
 * the writer): the <title> text and each <hl:entry key="..."> text. */
typedef struct svg_read {
    char title[256];
    char entries[1024]; /* "key=value\n" lines */
    const char *element;
    char key[128];
} svg_read;

static void svg_start(GMarkupParseContext *ctx, const char *name,
                      const char **attr_names, const char **attr_values,
                      gpointer data, GError **error)
{
    (void)ctx, (void)error;
    svg_read *r = data;
    r->element = name;
    r->key[0] = '\0';
    for (int i = 0; attr_names[i]; i++)
        if (strcmp(attr_names[i], "key") == 0)
            snprintf(r->key, sizeof r->key, "%s", attr_values[i]);
}

static void svg_text(GMarkupParseContext *ctx, const char *text, gsize len,
                     gpointer data, GError **error)
{
    (void)ctx, (void)error;
    svg_read *r = data;
    if (r->element && strcmp(r->element, "title") == 0)
        snprintf(r->title, sizeof r->title, "%.*s", (int)len, text);
    else if (r->element && strcmp(r->element, "hl:entry") == 0) {
        size_t n = strlen(r->entries);
        snprintf(r->entries + n, sizeof r->entries - n, "%s=%.*s\n", r->key, (int)len, text);
    }
}

static void svg_end(GMarkupParseContext *ctx, const char *name, gpointer data,
                    GError **error)
{
    (void)ctx, (void)name, (void)error;
    ((svg_read *)data)->element = NULL;
}

/* 1 when the whole file parses as XML. */
static int read_svg(const char *path, svg_read *r)
{
    memset(r, 0, sizeof *r);
    gchar *text;
    gsize len;
    if (!g_file_get_contents(path, &text, &len, NULL))
        return 0;
    GMarkupParser parser = {svg_start, svg_end, svg_text, NULL, NULL};
    GMarkupParseContext *ctx = g_markup_parse_context_new(&parser, 0, r, NULL);
    int ok = g_markup_parse_context_parse(ctx, text, (gssize)len, NULL) &&
             g_markup_parse_context_end_parse(ctx, NULL);
    g_markup_parse_context_free(ctx);
    g_free(text);
    return ok;
}

static int file_contains(const char *path, const char *needle)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return 0;
    static char buf[1 << 20];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    size_t nl = strlen(needle);
    for (size_t i = 0; i + nl <= n; i++)
        if (memcmp(buf + i, needle, nl) == 0)
            return 1;
    return 0;
}

/* rm -r of a directory with files and one level of subdirectories. */
static void remove_tree(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    char p[1024];
    while (d && (e = readdir(d))) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
            continue;
        snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
        if (unlink(p) != 0)
            remove_tree(p);
    }
    if (d)
        closedir(d);
    rmdir(dir);
}

/* Files in dir whose name contains ".tmp-". */
static int temp_files_left(const char *dir)
{
    DIR *d = opendir(dir);
    int n = 0;
    struct dirent *e;
    while (d && (e = readdir(d)))
        n += strstr(e->d_name, ".tmp-") != NULL;
    if (d)
        closedir(d);
    return n;
}

int main(void)
{
    char dir[] = "/tmp/hl-viz-test-XXXXXX";
    if (!mkdtemp(dir)) {
        tap_ok(0, "mkdtemp: %s", strerror(errno));
        return tap_done();
    }
    char path[512];

    /* A 64x48 photo, a 16x16 model input cropped from its centre
     * (shorter side 48 -> 16: scale 3, x0 = 8). */
    hl_image *photo = hl_image_new(64, 48);
    for (int y = 0; y < 48; y++)
        for (int x = 0; x < 64; x++) {
            unsigned char *p = photo->rgb + (y * 64 + x) * 3;
            p[0] = (unsigned char)(x * 4), p[1] = (unsigned char)(y * 5);
            p[2] = 128;
        }
    hl_crop_map map = {8, 0, 3, 3, 64, 48, 16, 16};
    hl_shape s = {4, {1, 3, 16, 16}};
    hl_array *attr = hl_array_new(&s);
    for (int c = 0; c < 3; c++)
        for (int i = 0; i < 256; i++)
            attr->data[c * 256 + i] = (float)((i % 16) - 6) * 0.01f * (c + 1);
    hl_viz_options o;
    hl_viz_options_init(&o);
    o.mode = HL_VIZ_BLENDED_HEAT_MAP;
    o.sign = HL_SIGN_ALL;
    hl_viz_norm *norm = NULL;
    hl_error err = {0};
    tap_ok(hl_viz_normalize(attr, o.sign, o.outlier_perc, &norm, &err) == HL_OK,
           "normalise 16x16");

    /* View export at the photo's resolution, no bands. */
    hl_viz_view view = {photo, &map, norm, o, NULL, 0, 0};
    hl_viz_meta meta[] = {{"method", "integrated_gradients"},
                          {"model", "tiny.onnx"},
                          {"target", "tabby cat (281)"}};
    snprintf(path, sizeof path, "%s/view.png", dir);
    hl_status st = hl_viz_export(&view, path, HL_VIZ_FORMAT_AUTO, 0, 0, meta, 3, &err);
    png_info_read r = read_png(path);
    tap_ok(st == HL_OK && r.ok && r.width == 64 && r.height == 48,
           "PNG at the photo's resolution: %dx%d (%s)", r.width, r.height, err.msg);
    tap_ok(strstr(r.text, "method=integrated_gradients\n") &&
           strstr(r.text, "model=tiny.onnx\n") &&
           strstr(r.text, "target=tabby cat (281)\n") &&
           strstr(r.text, "Software=Heatlens "), "PNG tEXt metadata");

    /* Chosen size with a title and colour bar: canvas from view_size. */
    view.title = "Integrated Gradients";
    view.show_colorbar = 1;
    view.show_raw_range = 1;
    int cw, ch;
    hl_viz_view_size(&view, 200, 150, &cw, &ch);
    st = hl_viz_export(&view, path, HL_VIZ_FORMAT_PNG, 200, 0, meta, 3, &err);
    r = read_png(path);
    tap_ok(st == HL_OK && r.ok && r.width == cw && r.height == ch && ch > 150,
           "PNG at width 200 keeps the aspect (image 200x150) plus bands: %dx%d",
           r.width, r.height);

    /* A 65500x1 panorama (issue 16): over cairo's 32767 pixels a side, so
     * drawn at 32767x1 by default; a size over the limit is refused with
     * one line naming it. */
    {
        hl_image *wide = hl_image_new(65500, 1);
        hl_crop_map wmap = {32749.5, 0, 1.0 / 16, 1.0 / 16, 65500, 1, 16, 16};
        hl_viz_view wv = {wide, &wmap, norm, o, NULL, 0, 0};
        char wpath[600];
        snprintf(wpath, sizeof wpath, "%s/wide.png", dir);
        st = hl_viz_export(&wv, wpath, HL_VIZ_FORMAT_PNG, 0, 0, NULL, 0, &err);
        r = read_png(wpath);
        tap_ok(st == HL_OK && r.ok && r.width == 32767 && r.height == 1,
               "65500x1 photo exported at 32767x1: %dx%d (%s)", r.width,
               r.height, st ? err.msg : "ok");
        st = hl_viz_export(&wv, wpath, HL_VIZ_FORMAT_PNG, 40000, 1, NULL, 0,
                           &err);
        tap_ok(st == HL_ERR_ARG && strstr(err.msg, "at most 32767 pixels a "
                                          "side") && !strchr(err.msg, '\n'),
               "40000x1 asked for: refused with one line: %s", err.msg);
        hl_image_free(wide);
    }

    /* Modes without a colormap get no colour-bar band. */
    {
        hl_viz_view v2 = view;
        int w0, h0, w1, h1;
        v2.show_colorbar = 0;
        hl_viz_view_size(&v2, 200, 150, &w0, &h0);
        v2.show_colorbar = 1;
        v2.opts.mode = HL_VIZ_ORIGINAL_IMAGE;
        hl_viz_view_size(&v2, 200, 150, &w1, &h1);
        tap_ok(h1 == h0 && ch > h0 && h0 > 150,
               "colour-bar band only for heat maps (%d, %d, %d)", h0, h1, ch);
    }

    /* A title wider than the picture takes two lines (a band 20 px x the
     * scale taller; the scale is 0.75 at 200 px); one without a space to
     * break at stays one line, cut with an ellipsis. */
    {
        hl_viz_view v3 = view;
        int w2, h2, w3, h3;
        v3.title = "Integrated Gradients of neuron 12,3,4 — a long ImageNet label, "
                   "several synonyms (71.2%)";
        hl_viz_view_size(&v3, 200, 150, &w2, &h2);
        v3.title = "Integrated_Gradients_of_neuron_12,3,4_without_a_single_space";
        hl_viz_view_size(&v3, 200, 150, &w3, &h3);
        tap_ok(h2 == ch + (int)lround(50 * 0.75) - (int)lround(30 * 0.75) && h3 == ch,
               "a long title on two lines (%d = %d + 15), one without spaces cut (%d)",
               h2, ch, h3);
        snprintf(path, sizeof path, "%s/long-title.png", dir);
        v3.title = "Integrated Gradients of neuron 12,3,4 — a long ImageNet label, "
                   "several synonyms (71.2%)";
        st = hl_viz_export(&v3, path, HL_VIZ_FORMAT_PNG, 200, 0, meta, 3, &err);
        r = read_png(path);
        tap_ok(st == HL_OK && r.width == w2 && r.height == h2,
               "PNG with a two-line title: %dx%d", r.width, r.height);
    }

    snprintf(path, sizeof path, "%s/view.pdf", dir);
    st = hl_viz_export(&view, path, HL_VIZ_FORMAT_AUTO, 0, 0, meta, 3, &err);
    tap_ok(st == HL_OK && starts_with_file(path, "%PDF") && file_size(path) > 1000,
           "PDF view: %ld bytes (%s)", file_size(path), err.msg);
    snprintf(path, sizeof path, "%s/view.svg", dir);
    st = hl_viz_export(&view, path, HL_VIZ_FORMAT_AUTO, 0, 0, NULL, 0, &err);
    tap_ok(st == HL_OK && file_contains(path, "<svg") && file_size(path) > 1000,
           "SVG view: %ld bytes", file_size(path));
    {
        hl_viz_meta svg_meta[] = {{"method", "integrated_gradients"},
                                  {"note", "a<b & \"c\" 'd' > e"}};
        svg_read sr;
        st = hl_viz_export(&view, path, HL_VIZ_FORMAT_SVG, 0, 0, svg_meta, 2, &err);
        tap_ok(st == HL_OK && read_svg(path, &sr), "SVG with metadata parses as XML (%s)", err.msg);
        tap_ok(strcmp(sr.title, "Integrated Gradients") == 0, "SVG <title>: '%s'", sr.title);
        int same = strcmp(sr.entries, "method=integrated_gradients\nnote=a<b & \"c\" 'd' > e\n") == 0;
        for (char *nl = strchr(sr.entries, '\n'); nl; nl = strchr(nl, '\n'))
            *nl = ';'; /* one TAP line */
        tap_ok(same, "SVG metadata entries, escaped and read back: %s", sr.entries);
    }
    snprintf(path, sizeof path, "%s/view.bmp", dir);
    tap_ok(hl_viz_export(&view, path, HL_VIZ_FORMAT_AUTO, 0, 0, NULL, 0, &err) ==
               HL_ERR_ARG && strstr(err.msg, ".png"),
           "unknown extension refused: %s", err.msg);

    /* masked_image + all refused before any file is made. */
    view.opts.mode = HL_VIZ_MASKED_IMAGE;
    snprintf(path, sizeof path, "%s/masked.png", dir);
    tap_ok(hl_viz_export(&view, path, HL_VIZ_FORMAT_AUTO, 0, 0, NULL, 0, &err) ==
               HL_ERR_ARG && file_size(path) < 0,
           "masked_image + all: error, no file (%s)", err.msg);
    view.opts.mode = HL_VIZ_BLENDED_HEAT_MAP;

    /* Never destroy an existing file. (1) Directory that does not exist. */
    tap_ok(hl_viz_export(&view, "/nonexistent-hl-dir/x.png", HL_VIZ_FORMAT_AUTO,
                         0, 0, NULL, 0, &err) == HL_ERR_IO &&
               strstr(err.msg, "/nonexistent-hl-dir/x.png"),
           "missing directory: %s", err.msg);
    /* (2) Read-only directory holding the target. */
    char rodir[600], keep[700];
    snprintf(rodir, sizeof rodir, "%s/ro", dir);
    mkdir(rodir, 0755);
    snprintf(keep, sizeof keep, "%s/keep.png", rodir);
    FILE *f = fopen(keep, "wb");
    fputs("precious", f);
    fclose(f);
    chmod(rodir, 0555);
    if (access(rodir, W_OK) == 0) {
        /* Root writes anywhere; /proc refuses new files even to root, and
         * /proc/version is an existing file there. */
        char before[256] = "", after[256] = "";
        FILE *pv = fopen("/proc/version", "r");
        if (pv) {
            if (!fgets(before, sizeof before, pv))
                before[0] = '\0';
            fclose(pv);
        }
        st = hl_viz_export(&view, "/proc/version", HL_VIZ_FORMAT_PNG, 0, 0,
                           NULL, 0, &err);
        pv = fopen("/proc/version", "r");
        if (pv) {
            if (!fgets(after, sizeof after, pv))
                after[0] = '\0';
            fclose(pv);
        }
        tap_ok(st == HL_ERR_IO && before[0] && strcmp(before, after) == 0,
               "unwritable directory (/proc, as root): error, file kept (%s)",
               err.msg);
    } else {
        st = hl_viz_export(&view, keep, HL_VIZ_FORMAT_AUTO, 0, 0, NULL, 0, &err);
        tap_ok(st == HL_ERR_IO && file_size(keep) == 8 && temp_files_left(rodir) == 0,
               "read-only directory: error, existing file kept (%s)", err.msg);
    }
    chmod(rodir, 0755);
    /* (3) A write that fails half-way (file size limit, works as root too):
     * the old file stays, no temporary file is left. */
    struct rlimit old_lim, lim;
    getrlimit(RLIMIT_FSIZE, &old_lim);
    signal(SIGXFSZ, SIG_IGN);
    lim = old_lim;
    lim.rlim_cur = 200;
    int limited = setrlimit(RLIMIT_FSIZE, &lim) == 0;
    const char *fmts[] = {"png", "pdf", "svg"};
    for (int i = 0; i < 3; i++) {
        snprintf(keep, sizeof keep, "%s/keep.%s", rodir, fmts[i]);
        f = fopen(keep, "wb");
        if (f) {
            fputs("precious", f);
            fclose(f);
        }
        st = hl_viz_export(&view, keep, HL_VIZ_FORMAT_AUTO, 0, 0, NULL, 0, &err);
        tap_ok(limited && st == HL_ERR_IO && file_size(keep) == 8 &&
                   temp_files_left(rodir) == 0,
               "%s write failing half-way: error, existing file kept, no temp "
               "file (%s)", fmts[i], err.msg);
    }
    setrlimit(RLIMIT_FSIZE, &old_lim);

    /* Direct RGB PNG writer. */
    unsigned char px[2 * 3 * 3] = {255, 0, 0, 0, 255, 0, 0, 0, 255,
                                   1, 2, 3, 4, 5, 6, 7, 8, 9};
    snprintf(path, sizeof path, "%s/tiny.png", dir);
    hl_viz_meta m1[2] = {{"heatlens.test", "yes"},
                         {"heatlens.label", "caf\xc3\xa9 \xe7\x8c\xab"}};
    st = hl_viz_write_png_rgb(path, px, 3, 2, 9, m1, 2, &err);
    r = read_png(path);
    tap_ok(st == HL_OK && r.width == 3 && r.height == 2 &&
           strstr(r.text, "heatlens.test=yes") &&
           strstr(r.text, "heatlens.label=caf\xc3\xa9 \xe7\x8c\xab"),
           "RGB PNG writer; a UTF-8 value survives (iTXt)");

    /* Colour bar into any cairo context. */
    {
        cairo_surface_t *cs = cairo_image_surface_create(CAIRO_FORMAT_RGB24, 256, 60);
        cairo_t *cr = cairo_create(cs);
        cairo_set_source_rgb(cr, 1, 1, 1);
        cairo_paint(cr);
        hl_viz_colorbar_draw(cr, 0, 0, 256, 60, HL_CMAP_DEFAULT, HL_SIGN_ALL,
                             0.05, 0, 0);
        cairo_destroy(cr);
        cairo_surface_flush(cs);
        unsigned char *d = cairo_image_surface_get_data(cs);
        int stride = cairo_image_surface_get_stride(cs);
        /* one column per table bin: column 2 is bin 2, column 253 bin 253 */
        uint32_t left = ((uint32_t *)(void *)(d + 10 * stride))[2];
        uint32_t right = ((uint32_t *)(void *)(d + 10 * stride))[253];
        /* RdWhGn (matplotlib): bin 2 = (255,4,4), bin 253 = (4,129,4) */
        tap_ok((left & 0xffffff) == 0xff0404 && (right & 0xffffff) == 0x048104,
               "colour bar gradient red..green (%06x, %06x)",
               (unsigned)(left & 0xffffff), (unsigned)(right & 0xffffff));
        /* with the raw row, the two rows are named in a left column: the
         * bar starts after it (white at column 2, still green at 253) */
        cairo_set_source_rgb(cr = cairo_create(cs), 1, 1, 1);
        cairo_paint(cr);
        hl_viz_colorbar_draw(cr, 0, 0, 256, 60, HL_CMAP_DEFAULT, HL_SIGN_ALL,
                             0.05, 1, 0);
        cairo_destroy(cr);
        cairo_surface_flush(cs);
        left = ((uint32_t *)(void *)(d + 10 * stride))[2];
        right = ((uint32_t *)(void *)(d + 10 * stride))[253];
        tap_ok((left & 0xffffff) == 0xffffff && (right & 0x00ff00) > 0x006000,
               "colour bar with raw values: rows named left of the bar (%06x, %06x)",
               (unsigned)(left & 0xffffff), (unsigned)(right & 0xffffff));
        cairo_surface_destroy(cs);
    }

    /* Report: original + 3 panels (cols 4, rows 1), cell 200. */
    hl_viz_options o_pos;
    hl_viz_options_init(&o_pos);
    o_pos.sign = HL_SIGN_POSITIVE;
    hl_shape zs = {2, {16, 16}};
    hl_array *zero = hl_array_new(&zs);
    hl_report_panel panels[3] = {
        {"Integrated Gradients", "n_steps=200, baseline=zeros", attr, NULL, 1.25, 1, 0.0031, "= the plain gradient: no ReLU in this model"},
        {"GradCAM", "layer=conv3", attr, &o_pos, 0.05, 0, 0, NULL},
        {"Occlusion", "window 3,8,8 stride 3,4,4", zero, NULL, 2.5, 0, 0, NULL},
    };
    hl_report_info info = {0};
    info.image_name = "cat.png";
    info.photo = photo;
    info.map = &map;
    info.model_name = "tiny.onnx";
    info.target_label = "tabby cat";
    info.target_index = 281;
    info.probability = 0.873;
    hl_viz_options_init(&info.opts);
    info.opts.mode = HL_VIZ_BLENDED_HEAT_MAP;
    info.opts.sign = HL_SIGN_ALL;
    info.cell_size = 200;
    info.date = "2026-01-02 03:04 UTC";
    /* Layout formula from viz.h: 4 columns, 1 row. */
    int exp_w = 2 * HL_REPORT_MARGIN + 4 * 200 + 3 * HL_REPORT_GAP;
    int exp_h = 2 * HL_REPORT_MARGIN + HL_REPORT_HEADER + HL_REPORT_FOOTER +
                200 + HL_REPORT_PANEL_EXTRA;
    snprintf(path, sizeof path, "%s/report.png", dir);
    st = hl_report_write(path, &info, panels, 3, &err);
    r = read_png(path);
    tap_ok(st == HL_OK && r.ok && r.width == exp_w && r.height == exp_h,
           "report PNG %dx%d (expected %dx%d) %s", r.width, r.height, exp_w,
           exp_h, st ? err.msg : "");
    tap_ok(strstr(r.text, "heatlens.model=tiny.onnx") &&
           strstr(r.text, "heatlens.target=tabby cat (class 281), p = 0.873") &&
           strstr(r.text, "heatlens.methods=Integrated Gradients, GradCAM, Occlusion") &&
           strstr(r.text, "heatlens.image=cat.png") &&
           strstr(r.text, "n_steps=200") && strstr(r.text, "delta=0.0031") &&
           strstr(r.text, "Software=Heatlens "),
           "report PNG metadata has method, parameters, model, target");
    for (char *nl = strchr(r.text, '\n'); nl; nl = strchr(nl, '\n'))
        *nl = '|';
    tap_diag("%s", r.text);

    snprintf(path, sizeof path, "%s/report.pdf", dir);
    st = hl_report_write(path, &info, panels, 3, &err);
    tap_ok(st == HL_OK && starts_with_file(path, "%PDF") && file_size(path) > 5000 &&
           file_contains(path, "Heatlens report: cat.png"),
           "report PDF: %ld bytes, title in the metadata (%s)", file_size(path),
           st ? err.msg : "");

    snprintf(path, sizeof path, "%s/report.svg", dir);
    st = hl_report_write(path, &info, panels, 3, &err);
    {
        char want[64];
        snprintf(want, sizeof want, "width=\"%dpt\"", exp_w);
        tap_ok(st == HL_OK && file_contains(path, "<svg") &&
               file_contains(path, want) && file_size(path) > 5000,
               "report SVG: %ld bytes, page width %d (%s)", file_size(path),
               exp_w, st ? err.msg : "");
    }

    /* 5 panels -> 4 columns, 2 rows. */
    hl_report_panel five[5] = {panels[0], panels[1], panels[2], panels[0], panels[1]};
    info.cell_size = 0; /* default 300 */
    snprintf(path, sizeof path, "%s/report5.png", dir);
    st = hl_report_write(path, &info, five, 5, &err);
    r = read_png(path);
    exp_w = 2 * HL_REPORT_MARGIN + 4 * 300 + 3 * HL_REPORT_GAP;
    exp_h = 2 * HL_REPORT_MARGIN + HL_REPORT_HEADER + HL_REPORT_FOOTER +
            2 * (300 + HL_REPORT_PANEL_EXTRA) + HL_REPORT_GAP;
    tap_ok(st == HL_OK && r.width == exp_w && r.height == exp_h,
           "report of 5 panels: %dx%d (expected %dx%d)", r.width, r.height,
           exp_w, exp_h);

    /* On paper: A4 / Letter at 2 px per point for a PNG, in points for a
     * PDF; this content is wider than tall, so the sheet is landscape. */
    {
        static const struct { hl_paper paper; const char *name; int w, h; } sheets[] = {
            { HL_PAPER_A4, "a4", 842, 595 }, { HL_PAPER_LETTER, "letter", 792, 612 } };
        for (int i = 0; i < 2; i++) {
            hl_paper parsed = HL_PAPER_FIT;
            tap_ok(hl_paper_from_name(sheets[i].name, &parsed, &err) == HL_OK &&
                   parsed == sheets[i].paper, "paper name '%s'", sheets[i].name);
            info.paper = sheets[i].paper;
            snprintf(path, sizeof path, "%s/report-%s.png", dir, sheets[i].name);
            st = hl_report_write(path, &info, five, 5, &err);
            r = read_png(path);
            tap_ok(st == HL_OK && r.width == 2 * sheets[i].w && r.height == 2 * sheets[i].h,
                   "report on %s, PNG: %dx%d (expected %dx%d)", sheets[i].name, r.width,
                   r.height, 2 * sheets[i].w, 2 * sheets[i].h);
            snprintf(path, sizeof path, "%s/report-%s.pdf", dir, sheets[i].name);
            st = hl_report_write(path, &info, five, 5, &err);
            char box[64];
            snprintf(box, sizeof box, "/MediaBox [ 0 0 %d %d ]", sheets[i].w, sheets[i].h);
            tap_ok(st == HL_OK && file_contains(path, box), "report on %s, PDF: %s", sheets[i].name, box);
        }
        hl_paper bad;
        tap_ok(hl_paper_from_name("a5", &bad, &err) == HL_ERR_ARG && strstr(err.msg, "a4"),
               "unknown paper: %s", err.msg);
        info.paper = HL_PAPER_FIT;
    }

    /* A panel that cannot be shown is an error naming it. */
    hl_viz_options o_bad;
    hl_viz_options_init(&o_bad);
    o_bad.mode = HL_VIZ_MASKED_IMAGE;
    o_bad.sign = HL_SIGN_ALL;
    panels[1].opts = &o_bad;
    snprintf(path, sizeof path, "%s/bad.png", dir);
    tap_ok(hl_report_write(path, &info, panels, 3, &err) == HL_ERR_ARG &&
               strstr(err.msg, "GradCAM") && file_size(path) < 0,
           "bad panel named: %s", err.msg);

    hl_array_free(zero);
    hl_array_free(attr);
    hl_viz_norm_free(norm);
    hl_image_free(photo);
    remove_tree(dir);
    return tap_done();
}
