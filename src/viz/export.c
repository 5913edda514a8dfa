/* Files: PNG via libpng with tEXt metadata, PDF and SVG via cairo (with
 * the same metadata: PDF document properties, SVG title/desc/metadata). Every
 * file is written to a temporary name in the target directory and renamed
 * over the target only when complete, so a failure never destroys an
 * existing file. */
#include <errno.h>
#include <fcntl.h>
#include <time.h>
#include <math.h>
#include <png.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include <cairo-pdf.h>
#include <cairo-svg.h>
#include "viz-private.h"

#ifndef HL_VERSION
#define HL_VERSION "unknown"
#endif

/* ------------------------------------------------------------ temp files */

FILE *hl_viz_temp_open(const char *path, char **tmp_path, hl_error *err)
{
    *tmp_path = NULL;
    size_t len = strlen(path);
    char *tmp = malloc(len + 64);
    if (!tmp) {
        hl_error_set(err, HL_ERR_NOMEM, "%s: out of memory", path);
        return NULL;
    }
    /* Not mkstemp: its files are mode 0600, while an exported picture
     * should get the usual 0666 & ~umask. O_EXCL keeps the name unique. */
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    int fd = -1;
    for (int attempt = 0; attempt < 100 && fd < 0; attempt++) {
        unsigned long tag = (unsigned long)ts.tv_nsec ^
                            ((unsigned long)(uintptr_t)tmp >> 4) ^
                            (unsigned long)attempt * 2654435761u;
        snprintf(tmp, len + 64, "%s.tmp-%ld-%lx", path, (long)getpid(),
                 tag & 0xffffffu);
        fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL, 0666);
        if (fd < 0 && errno != EEXIST)
            break;
    }
    if (fd < 0) {
        hl_error_set(err, HL_ERR_IO,
                     "%s: cannot create a temporary file next to it: %s",
                     path, strerror(errno));
        free(tmp);
        return NULL;
    }
    FILE *f = fdopen(fd, "wb");
    if (!f) {
        hl_error_set(err, HL_ERR_IO, "%s: %s", path, strerror(errno));
        close(fd);
        unlink(tmp);
        free(tmp);
        return NULL;
    }
    *tmp_path = tmp;
    return f;
}

hl_status hl_viz_temp_commit(FILE *f, char *tmp_path, const char *path,
                             int ok, hl_error *err)
{
    hl_status st = HL_OK;
    int flush_failed = fflush(f) != 0 || ferror(f);
    int saved = errno;
    if (fclose(f) != 0 && !flush_failed)
        flush_failed = 1, saved = errno;
    if (ok && flush_failed)
        st = hl_error_set(err, HL_ERR_IO, "%s: write failed: %s", path,
                          strerror(saved));
    else if (ok && rename(tmp_path, path) != 0)
        st = hl_error_set(err, HL_ERR_IO, "%s: cannot replace it: %s", path,
                          strerror(errno));
    else if (!ok)
        st = HL_ERR_IO; /* the caller has already filled err */
    if (st != HL_OK)
        unlink(tmp_path);
    free(tmp_path);
    return st;
}

/* ------------------------------------------------------------ PNG */

typedef struct png_job {
    const uint8_t *rgb;      /* RGB rows, or NULL when `surface` is used */
    int stride;
    cairo_surface_t *surface;
    int width, height;
    const hl_viz_meta *meta;
    int n_meta;
} png_job;

static void png_error_cb(png_structp png, png_const_charp msg)
{
    hl_error *err = png_get_error_ptr(png);
    hl_error_set(err, HL_ERR_IO, "libpng: %s", msg);
    png_longjmp(png, 1);
}

static void png_warning_cb(png_structp png, png_const_charp msg)
{
    (void)png, (void)msg;
}

/* Returns 1 on success. Separate function so no local is live across
 * setjmp except the volatile row buffer. */
static int png_write_job(FILE *f, const png_job *job, const char *path,
                         hl_error *err)
{
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, err,
                                              png_error_cb, png_warning_cb);
    if (!png) {
        hl_error_set(err, HL_ERR_NOMEM, "%s: cannot start libpng", path);
        return 0;
    }
    png_infop info = png_create_info_struct(png);
    uint8_t *volatile row = NULL;
    png_text *volatile texts = NULL;
    if (!info || setjmp(png_jmpbuf(png))) {
        /* libpng failed (error filled by png_error_cb) */
        if (!info)
            hl_error_set(err, HL_ERR_NOMEM, "%s: cannot start libpng", path);
        png_destroy_write_struct(&png, &info);
        free(row);
        free(texts);
        return 0;
    }
    png_init_io(png, f);
    png_set_IHDR(png, info, (png_uint_32)job->width, (png_uint_32)job->height,
                 8, PNG_COLOR_TYPE_RGB, PNG_INTERLACE_NONE,
                 PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    int n_text = 0;
    texts = calloc((size_t)job->n_meta + 1, sizeof(png_text));
    if (!texts) {
        hl_error_set(err, HL_ERR_NOMEM, "%s: out of memory", path);
        png_longjmp(png, 1);
    }
    static const char software_key[] = "Software";
    const char *software_value = "Heatlens " HL_VERSION;
    int has_software = 0;
    for (int i = 0; i < job->n_meta; i++) {
        const char *k = job->meta[i].key, *v = job->meta[i].value;
        size_t kl = k ? strlen(k) : 0;
        if (kl < 1 || kl > 79 || !v)
            continue;   /* PNG keywords are 1..79 characters */
        has_software |= strcmp(k, software_key) == 0;
        /* tEXt is Latin-1: UTF-8 values (labels, file names) go in iTXt */
        int ascii = 1;
        for (const unsigned char *c = (const unsigned char *)v; *c; c++)
            ascii &= *c < 0x80;
        texts[n_text].compression = ascii ? PNG_TEXT_COMPRESSION_NONE
                                          : PNG_ITXT_COMPRESSION_NONE;
        texts[n_text].key = (png_charp)k;
        texts[n_text].text = (png_charp)v;
        n_text++;
    }
    if (!has_software) {
        texts[n_text].compression = PNG_TEXT_COMPRESSION_NONE;
        texts[n_text].key = (png_charp)software_key;
        texts[n_text].text = (png_charp)software_value;
        n_text++;
    }
    png_set_text(png, info, texts, n_text);
    png_write_info(png, info);
    row = malloc((size_t)job->width * 3);
    if (!row) {
        hl_error_set(err, HL_ERR_NOMEM, "%s: out of memory", path);
        png_longjmp(png, 1);
    }
    const unsigned char *sdata = NULL;
    int sstride = 0;
    if (job->surface) {
        cairo_surface_flush(job->surface);
        sdata = cairo_image_surface_get_data(job->surface);
        sstride = cairo_image_surface_get_stride(job->surface);
    }
    for (int y = 0; y < job->height; y++) {
        if (job->rgb) {
            memcpy(row, job->rgb + (size_t)y * job->stride,
                   (size_t)job->width * 3);
        } else {
            /* Cairo: native-endian 32-bit xRGB; our surfaces are opaque. */
            const uint32_t *src = (const uint32_t *)(const void *)(sdata +
                                                 (size_t)y * sstride);
            for (int x = 0; x < job->width; x++) {
                row[3 * x] = (uint8_t)(src[x] >> 16);
                row[3 * x + 1] = (uint8_t)(src[x] >> 8);
                row[3 * x + 2] = (uint8_t)src[x];
            }
        }
        png_write_row(png, row);
    }
    png_write_end(png, info);
    png_destroy_write_struct(&png, &info);
    free(row);
    free(texts);
    return 1;
}

static hl_status png_write_file(const char *path, const png_job *job,
                                hl_error *err)
{
    char *tmp;
    FILE *f = hl_viz_temp_open(path, &tmp, err);
    if (!f)
        return err ? err->status : HL_ERR_IO;
    int ok = png_write_job(f, job, path, err);
    return hl_viz_temp_commit(f, tmp, path, ok, err);
}

hl_status hl_viz_write_png_rgb(const char *path, const uint8_t *rgb,
                               int width, int height, int stride,
                               const hl_viz_meta *meta, int n_meta,
                               hl_error *err)
{
    if (!path || !rgb || width < 1 || height < 1 || stride < width * 3)
        return hl_error_set(err, HL_ERR_ARG, "%s: bad image for PNG export",
                            path ? path : "(no path)");
    png_job job = {rgb, stride, NULL, width, height, meta, n_meta};
    return png_write_file(path, &job, err);
}

hl_status hl_viz_write_png_surface(const char *path, cairo_surface_t *s,
                                   const hl_viz_meta *meta, int n_meta,
                                   hl_error *err)
{
    png_job job = {NULL, 0, s, cairo_image_surface_get_width(s),
                   cairo_image_surface_get_height(s), meta, n_meta};
    return png_write_file(path, &job, err);
}

/* ------------------------------------------------------------ views */

static double view_scale(int img_w)
{
    double s = img_w / 400.0;
    return s < 0.75 ? 0.75 : s > 4.0 ? 4.0 : s;
}

/* The title in at most two lines that fit the picture's width: split at
 * the last space that lets the first line fit, and a line still too wide
 * (no space to break at) cut with "…". The whole title stays in the
 * file's metadata. Returns the number of lines (0: no title). */
static int title_lines(const hl_viz_view *v, int img_w, char lines[2][512])
{
    if (!v->title || !v->title[0])
        return 0;
    double s = view_scale(img_w), max_w = img_w - 16 * s;
    cairo_surface_t *surf = cairo_image_surface_create(CAIRO_FORMAT_RGB24, 1, 1);
    cairo_t *cr = cairo_create(surf);
    cairo_select_font_face(cr, "sans-serif", CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_BOLD);
    cairo_set_font_size(cr, 16 * s);
    cairo_text_extents_t e;
    int n = 1;
    snprintf(lines[0], 512, "%s", v->title);
    lines[1][0] = '\0';
    cairo_text_extents(cr, lines[0], &e);
    if (e.x_advance > max_w) {
        /* the longest first line that fits, ending at a space */
        size_t len = strlen(lines[0]), cut = 0;
        for (size_t i = 1; i < len; i++) {
            if (lines[0][i] != ' ')
                continue;
            char head[512];
            snprintf(head, sizeof head, "%.*s", (int)i, lines[0]);
            cairo_text_extents(cr, head, &e);
            if (e.x_advance > max_w)
                break;
            cut = i;
        }
        if (cut > 0) {
            memcpy(lines[1], lines[0] + cut + 1, len - cut);  /* with its NUL */
            lines[0][cut] = '\0';
            n = 2;
        }
    }
    for (int l = 0; l < n; l++) {
        /* "…" (UTF-8) replaces the end of a line still too wide */
        size_t len = strlen(lines[l]);
        cairo_text_extents(cr, lines[l], &e);
        while (e.x_advance > max_w && len > 1) {
            do
                len--;
            while (len > 1 && ((unsigned char)lines[l][len] & 0xc0) == 0x80);
            snprintf(lines[l] + len, 512 - len, "\xe2\x80\xa6");
            cairo_text_extents(cr, lines[l], &e);
        }
    }
    cairo_destroy(cr);
    cairo_surface_destroy(surf);
    return n;
}

static int title_band(const hl_viz_view *v, int img_w)
{
    char lines[2][512];
    int n = title_lines(v, img_w, lines);
    return n ? (int)lround((30 + 20 * (n - 1)) * view_scale(img_w)) : 0;
}

/* Modes without a heat map have no colour bar (Captum keeps an empty axis
 * there to align several plots; a single picture does not need it). */
static int colorbar_band(const hl_viz_view *v, int img_w)
{
    int has_heat = v->opts.mode == HL_VIZ_HEAT_MAP ||
                   v->opts.mode == HL_VIZ_BLENDED_HEAT_MAP;
    return v->show_colorbar && has_heat ? (int)lround(60 * view_scale(img_w))
                                        : 0;
}

void hl_viz_view_size(const hl_viz_view *v, int img_w, int img_h,
                      int *canvas_w, int *canvas_h)
{
    *canvas_w = img_w;
    *canvas_h = img_h + title_band(v, img_w) + colorbar_band(v, img_w);
}

hl_status hl_viz_view_draw(cairo_t *cr, const hl_viz_view *v, int img_w,
                           int img_h, hl_error *err)
{
    cairo_surface_t *img;
    hl_status st = hl_viz_render_surface(v->norm, v->photo, v->map, &v->opts,
                                         img_w, img_h, &img, err);
    if (st)
        return st;
    int tb = title_band(v, img_w), cb = colorbar_band(v, img_w);
    double s = view_scale(img_w);
    cairo_save(cr);
    cairo_set_source_rgb(cr, 1, 1, 1);
    cairo_rectangle(cr, 0, 0, img_w, img_h + tb + cb);
    cairo_fill(cr);
    cairo_set_source_surface(cr, img, 0, tb);
    cairo_pattern_set_filter(cairo_get_source(cr), CAIRO_FILTER_NEAREST);
    cairo_rectangle(cr, 0, tb, img_w, img_h);
    cairo_fill(cr);
    cairo_surface_destroy(img);
    if (tb) {
        char lines[2][512];
        int n = title_lines(v, img_w, lines);
        cairo_select_font_face(cr, "sans-serif", CAIRO_FONT_SLANT_NORMAL,
                               CAIRO_FONT_WEIGHT_BOLD);
        cairo_set_font_size(cr, 16 * s);
        cairo_set_source_rgb(cr, 0.1, 0.1, 0.1);
        for (int l = 0; l < n; l++) {
            cairo_text_extents_t e;
            cairo_text_extents(cr, lines[l], &e);
            double x = (img_w - e.x_advance) / 2;
            cairo_move_to(cr, x > 2 ? x : 2, (21 + 20 * l) * s);
            cairo_show_text(cr, lines[l]);
        }
    }
    if (cb) {
        double pad = 8 * s;
        hl_viz_colorbar_draw(cr, pad, tb + img_h + pad * 0.75, img_w - 2 * pad,
                             cb - pad, v->opts.cmap, v->opts.sign,
                             hl_viz_norm_threshold(v->norm),
                             v->show_raw_range, hl_viz_norm_is_zero(v->norm));
    }
    cairo_restore(cr);
    return HL_OK;
}

hl_status hl_viz_format_from_path(const char *path, hl_viz_format *out,
                                  hl_error *err)
{
    const char *dot = path ? strrchr(path, '.') : NULL;
    if (dot && strcasecmp(dot, ".png") == 0)
        *out = HL_VIZ_FORMAT_PNG;
    else if (dot && strcasecmp(dot, ".pdf") == 0)
        *out = HL_VIZ_FORMAT_PDF;
    else if (dot && strcasecmp(dot, ".svg") == 0)
        *out = HL_VIZ_FORMAT_SVG;
    else
        return hl_error_set(err, HL_ERR_ARG,
                            "%s: unknown picture format (use .png, .pdf or "
                            ".svg)", path ? path : "(no path)");
    return HL_OK;
}

/* Cairo has no metadata API for SVG: the writer inserts a <title>, a
 * <desc> and a <metadata> block right after the opening <svg ...> tag as
 * the document streams through (`svg_head` is that block, NULL once
 * written or for PDF). */
typedef struct stream_ctx {
    FILE *f;
    int failed;
    char *svg_head;
    int svg_match; /* characters of "<svg" matched so far, 4 = inside it */
} stream_ctx;

static int stream_put(stream_ctx *c, const void *data, size_t length)
{
    if (length && fwrite(data, 1, length, c->f) != length)
        c->failed = 1;
    return !c->failed;
}

static cairo_status_t stream_write(void *closure, const unsigned char *data,
                                   unsigned int length)
{
    stream_ctx *c = closure;
    size_t start = 0;
    for (size_t i = 0; c->svg_head && i < length; i++) {
        if (c->svg_match < 4) {
            c->svg_match = data[i] == "<svg"[c->svg_match] ? c->svg_match + 1
                           : data[i] == '<'                 ? 1
                                                            : 0;
        } else if (data[i] == '>') {
            if (!stream_put(c, data, i + 1) ||
                !stream_put(c, c->svg_head, strlen(c->svg_head)))
                return CAIRO_STATUS_WRITE_ERROR;
            free(c->svg_head);
            c->svg_head = NULL;
            start = i + 1;
        }
    }
    return stream_put(c, data + start, length - start)
               ? CAIRO_STATUS_SUCCESS
               : CAIRO_STATUS_WRITE_ERROR;
}

/* Appends `text` to buf with XML's five special characters escaped. */
static void xml_append(char *buf, const char *text)
{
    char *o = buf + strlen(buf);
    for (const char *p = text; *p; p++) {
        const char *e = *p == '<' ? "&lt;" : *p == '>' ? "&gt;"
                      : *p == '&' ? "&amp;" : *p == '"' ? "&quot;"
                      : *p == '\'' ? "&apos;" : NULL;
        if (e) {
            strcpy(o, e);
            o += strlen(e);
        } else {
            *o++ = *p;
        }
    }
    *o = '\0';
}

/* The block written after <svg ...>: title, desc ("key: value; ...") and
 * one <hl:entry key="..."> per metadata pair. */
static char *svg_head_new(const char *title, const char *desc,
                          const hl_viz_meta *meta, int n_meta)
{
    size_t len = 256 + 6 * (strlen(title) + (desc ? strlen(desc) : 0));
    for (int i = 0; i < n_meta; i++)
        if (meta[i].key && meta[i].value)
            len += 64 + 6 * (strlen(meta[i].key) + strlen(meta[i].value));
    char *s = malloc(len);
    if (!s)
        return NULL;
    strcpy(s, "\n<title>");
    xml_append(s, title);
    strcat(s, "</title>\n");
    if (desc && desc[0]) {
        strcat(s, "<desc>");
        xml_append(s, desc);
        strcat(s, "</desc>\n");
    }
    strcat(s, "<metadata>\n");
    for (int i = 0; i < n_meta; i++) {
        if (!meta[i].key || !meta[i].value)
            continue;
        strcat(s, "<hl:entry xmlns:hl=\"urn:heatlens:metadata\" key=\"");
        xml_append(s, meta[i].key);
        strcat(s, "\">");
        xml_append(s, meta[i].value);
        strcat(s, "</hl:entry>\n");
    }
    strcat(s, "</metadata>");
    return s;
}

/* Join meta as "key: value; key: value" into a malloc'd string. */
static char *meta_join(const hl_viz_meta *meta, int n_meta)
{
    size_t len = 1;
    for (int i = 0; i < n_meta; i++)
        if (meta[i].key && meta[i].value)
            len += strlen(meta[i].key) + strlen(meta[i].value) + 4;
    char *s = malloc(len);
    if (!s)
        return NULL;
    s[0] = '\0';
    for (int i = 0; i < n_meta; i++) {
        if (!meta[i].key || !meta[i].value)
            continue;
        if (s[0])
            strcat(s, "; ");
        strcat(s, meta[i].key);
        strcat(s, ": ");
        strcat(s, meta[i].value);
    }
    return s;
}

hl_status hl_viz_vector_write(const char *path, hl_viz_format format,
                              double w, double h, const char *title,
                              const hl_viz_meta *meta, int n_meta,
                              hl_viz_page_draw_fn draw, const void *ctx,
                              hl_error *err)
{
    char *tmp;
    FILE *f = hl_viz_temp_open(path, &tmp, err);
    if (!f)
        return err ? err->status : HL_ERR_IO;
    stream_ctx sc = {f, 0, NULL, 0};
    const char *doc_title = title && title[0] ? title : "Heatlens picture";
    char *subject = meta_join(meta, n_meta);
    if (format != HL_VIZ_FORMAT_PDF)
        sc.svg_head = svg_head_new(doc_title, subject, meta, n_meta);
    cairo_surface_t *s =
        format == HL_VIZ_FORMAT_PDF
            ? cairo_pdf_surface_create_for_stream(stream_write, &sc, w, h)
            : cairo_svg_surface_create_for_stream(stream_write, &sc, w, h);
    if (format == HL_VIZ_FORMAT_PDF &&
        cairo_surface_status(s) == CAIRO_STATUS_SUCCESS) {
        cairo_pdf_surface_set_metadata(s, CAIRO_PDF_METADATA_TITLE, doc_title);
        cairo_pdf_surface_set_metadata(s, CAIRO_PDF_METADATA_CREATOR,
                                       "Heatlens " HL_VERSION);
        if (subject) {
            cairo_pdf_surface_set_metadata(s, CAIRO_PDF_METADATA_SUBJECT,
                                           subject);
            cairo_pdf_surface_set_metadata(s, CAIRO_PDF_METADATA_KEYWORDS,
                                           subject);
        }
    }
    free(subject);
    cairo_t *cr = cairo_create(s);
    hl_status st = draw(cr, ctx, err);
    if (st == HL_OK)
        cairo_show_page(cr);
    cairo_destroy(cr);
    cairo_surface_finish(s);
    cairo_status_t cst = cairo_surface_status(s);
    cairo_surface_destroy(s);
    /* A document with no <svg> tag would have dropped the metadata. */
    int ok = st == HL_OK && cst == CAIRO_STATUS_SUCCESS && !sc.failed &&
             !sc.svg_head;
    free(sc.svg_head);
    if (st == HL_OK && !ok)
        hl_error_set(err, HL_ERR_IO, "%s: cairo could not write it: %s", path,
                     sc.failed ? strerror(errno) : cairo_status_to_string(cst));
    hl_status cst2 = hl_viz_temp_commit(f, tmp, path, ok, err);
    return st ? st : cst2;
}

typedef struct view_ctx {
    const hl_viz_view *v;
    int img_w, img_h;
} view_ctx;

static hl_status draw_view_page(cairo_t *cr, const void *ctx, hl_error *err)
{
    const view_ctx *c = ctx;
    return hl_viz_view_draw(cr, c->v, c->img_w, c->img_h, err);
}

hl_status hl_viz_export(const hl_viz_view *v, const char *path,
                        hl_viz_format format, int width, int height,
                        const hl_viz_meta *meta, int n_meta, hl_error *err)
{
    if (!v || !v->norm || !path)
        return hl_error_set(err, HL_ERR_ARG,
                            "export: no view, attribution or path given");
    if (format == HL_VIZ_FORMAT_AUTO) {
        hl_status st = hl_viz_format_from_path(path, &format, err);
        if (st)
            return st;
    }
    hl_status st = hl_viz_check(v->norm, &v->opts, err);
    if (st)
        return st;
    int pw = v->photo ? v->photo->width : v->map ? v->map->photo_width
                                                 : hl_viz_norm_width(v->norm);
    int ph = v->photo ? v->photo->height : v->map ? v->map->photo_height
                                                  : hl_viz_norm_height(v->norm);
    if (width <= 0 && height <= 0) {
        /* the photo's resolution, scaled down to what cairo can hold
         * (a 65500x1 panorama is drawn at 32767x1) with room for the
         * title and colour bar bands (at most 360 px) */
        double f = 1.0;
        if (pw > HL_VIZ_MAX_SIDE)
            f = (double)HL_VIZ_MAX_SIDE / pw;
        if (ph * f > HL_VIZ_MAX_SIDE - 360)
            f = (double)(HL_VIZ_MAX_SIDE - 360) / ph;
        width = (int)fmin(HL_VIZ_MAX_SIDE, fmax(1.0, floor(pw * f + 0.5)));
        height = (int)fmin(HL_VIZ_MAX_SIDE - 360,
                           fmax(1.0, floor(ph * f + 0.5)));
    } else if (width <= 0) {
        width = (int)lround((double)height * pw / ph);
    } else if (height <= 0) {
        height = (int)lround((double)width * ph / pw);
    }
    int cw = width, ch = height;
    if (width >= 1 && height >= 1 && width <= HL_VIZ_MAX_SIDE &&
        height <= HL_VIZ_MAX_SIDE)
        hl_viz_view_size(v, width, height, &cw, &ch);
    if (width < 1 || height < 1 || cw > HL_VIZ_MAX_SIDE ||
        ch > HL_VIZ_MAX_SIDE) {
        char bands[64] = "";
        if (cw != width || ch != height)
            snprintf(bands, sizeof bands, " (%dx%d with its title and colour "
                     "bar)", cw, ch);
        return hl_error_set(err, HL_ERR_ARG,
                            "%s: a picture of %dx%d pixels%s is not possible: "
                            "at most %d pixels a side", path, width, height,
                            bands, HL_VIZ_MAX_SIDE);
    }
    view_ctx ctx = {v, width, height};
    if (format != HL_VIZ_FORMAT_PNG)
        return hl_viz_vector_write(path, format, cw, ch, v->title, meta,
                                   n_meta, draw_view_page, &ctx, err);

    cairo_surface_t *s = cairo_image_surface_create(CAIRO_FORMAT_RGB24, cw, ch);
    if (cairo_surface_status(s) != CAIRO_STATUS_SUCCESS) {
        cairo_surface_destroy(s);
        return hl_error_set(err, HL_ERR_NOMEM,
                            "%s: cannot create a %dx%d picture", path, cw, ch);
    }
    cairo_t *cr = cairo_create(s);
    st = draw_view_page(cr, &ctx, err);
    cairo_destroy(cr);
    if (st == HL_OK)
        st = hl_viz_write_png_surface(path, s, meta, n_meta, err);
    cairo_surface_destroy(s);
    return st;
}
