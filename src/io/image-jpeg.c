/* JPEG decoding through libjpeg(-turbo): colour and greyscale to RGB,
 * CMYK/YCCK converted (Adobe's inverted CMYK handled), EXIF orientation
 * applied. libjpeg's fatal errors come to our error_exit, which records the
 * message and longjmps back; its messages are never printed. A file that
 * ends early is an error (libjpeg would only warn and fill with grey). */
#include <math.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jpeglib.h>
#include <jerror.h>
#include "image-private.h"

typedef struct jpeg_failure {
    struct jpeg_error_mgr mgr;     /* first: libjpeg passes this pointer */
    jmp_buf jump;
    char message[JMSG_LENGTH_MAX];
    int truncated;                 /* saw "premature end of data" (file
                                      or entropy-coded segment) */
    /* Owned buffers, freed after a longjmp too. */
    unsigned char *pixels;
} jpeg_failure;

static void jpeg_on_error_exit(j_common_ptr cinfo)
{
    jpeg_failure *f = (jpeg_failure *)cinfo->err;
    f->mgr.format_message(cinfo, f->message);
    longjmp(f->jump, 1);
}

static void jpeg_on_message(j_common_ptr cinfo, int level)
{
    jpeg_failure *f = (jpeg_failure *)cinfo->err;
    if (level < 0) {
        f->mgr.num_warnings++;
        /* JWRN_HIT_MARKER: a scan cut short by a marker (typically EOI
         * right after a few bytes of data); libjpeg would go on decoding
         * zeros, so a 500-byte file could cost a 100-megapixel decode. */
        if (f->mgr.msg_code == JWRN_JPEG_EOF ||
            f->mgr.msg_code == JWRN_HIT_MARKER)
            f->truncated = 1;
    }
}

static void jpeg_silent_output(j_common_ptr cinfo)
{
    (void)cinfo;
}

/* ------------------------------------------------------------ EXIF */

static unsigned rd16(const unsigned char *p, int big)
{
    return big ? (unsigned)(p[0] << 8 | p[1]) : (unsigned)(p[1] << 8 | p[0]);
}

static unsigned long rd32(const unsigned char *p, int big)
{
    return big ? ((unsigned long)p[0] << 24 | (unsigned long)p[1] << 16 |
                  (unsigned long)p[2] << 8 | p[3])
               : ((unsigned long)p[3] << 24 | (unsigned long)p[2] << 16 |
                  (unsigned long)p[1] << 8 | p[0]);
}

/* Orientation from an APP1 payload ("Exif\0\0" + TIFF); 1 if none. */
static int exif_orientation(const unsigned char *p, size_t n)
{
    if (n < 14 || memcmp(p, "Exif\0\0", 6))
        return 1;
    const unsigned char *tiff = p + 6;
    size_t len = n - 6;
    int big;
    if (tiff[0] == 'I' && tiff[1] == 'I')
        big = 0;
    else if (tiff[0] == 'M' && tiff[1] == 'M')
        big = 1;
    else
        return 1;
    if (rd16(tiff + 2, big) != 42)
        return 1;
    unsigned long ifd = rd32(tiff + 4, big);
    if (ifd < 8 || ifd > len - 2)
        return 1;
    unsigned count = rd16(tiff + ifd, big);
    for (unsigned i = 0; i < count; i++) {
        unsigned long e = ifd + 2 + 12ul * i;
        if (e + 12 > len)
            return 1;
        if (rd16(tiff + e, big) != 0x0112)
            continue;
        unsigned type = rd16(tiff + e + 2, big);
        unsigned long cnt = rd32(tiff + e + 4, big);
        unsigned v;
        if (type == 3 && cnt >= 1)          /* SHORT, stored inline */
            v = rd16(tiff + e + 8, big);
        else if (type == 4 && cnt >= 1)     /* LONG, tolerated */
            v = (unsigned)rd32(tiff + e + 8, big);
        else
            return 1;
        return v >= 1 && v <= 8 ? (int)v : 1;
    }
    return 1;
}

int hl_jpeg_exif_orientation(const void *data, size_t size)
{
    const unsigned char *d = data;
    if (!d || size < 4 || d[0] != 0xFF || d[1] != 0xD8)
        return 1;
    size_t pos = 2;
    while (pos + 4 <= size) {
        if (d[pos] != 0xFF)
            return 1;
        unsigned marker = d[pos + 1];
        if (marker == 0xFF) {           /* fill byte */
            pos++;
            continue;
        }
        if (marker == 0xD8 || (marker >= 0xD0 && marker <= 0xD7) ||
            marker == 0x01) {
            pos += 2;
            continue;
        }
        if (marker == 0xDA || marker == 0xD9)   /* scan data / end */
            return 1;
        size_t seg = (size_t)d[pos + 2] << 8 | d[pos + 3];
        if (seg < 2 || pos + 2 + seg > size)
            return 1;
        if (marker == 0xE1) {
            int o = exif_orientation(d + pos + 4, seg - 2);
            if (o != 1)
                return o;
        }
        pos += 2 + seg;
    }
    return 1;
}

/* Apply orientation o to a w x h RGB buffer; returns a new image. */
static hl_image *apply_orientation(const unsigned char *px, int w, int h,
                                   int o)
{
    int swap = o >= 5;
    hl_image *img = hl_image_new(swap ? h : w, swap ? w : h);
    if (!img)
        return NULL;
    int ow = img->width, oh = img->height;
    for (int y = 0; y < oh; y++) {
        for (int x = 0; x < ow; x++) {
            int sx, sy;
            switch (o) {
            case 2: sx = w - 1 - x; sy = y; break;
            case 3: sx = w - 1 - x; sy = h - 1 - y; break;
            case 4: sx = x; sy = h - 1 - y; break;
            case 5: sx = y; sy = x; break;                   /* transpose */
            case 6: sx = y; sy = h - 1 - x; break;           /* 90 cw */
            case 7: sx = w - 1 - y; sy = h - 1 - x; break;   /* transverse */
            case 8: sx = w - 1 - y; sy = x; break;           /* 90 ccw */
            default: sx = x; sy = y; break;
            }
            memcpy(img->rgb + ((size_t)y * ow + x) * 3,
                   px + ((size_t)sy * w + sx) * 3, 3);
        }
    }
    return img;
}

/* ------------------------------------------------------------ decode */

/* Bytes of the whole-image coefficient buffer libjpeg allocates for a
 * progressive or multi-scan file (2 bytes a coefficient, at full size
 * whatever the output scale); 0 for a single-scan file, decoded row by
 * row. */
static double coefficient_bytes(j_decompress_ptr cinfo)
{
    if (!jpeg_has_multiple_scans(cinfo))
        return 0;
    double bytes = 0;
    for (int c = 0; c < cinfo->num_components; c++) {
        const jpeg_component_info *ci = &cinfo->comp_info[c];
        int mh = cinfo->max_h_samp_factor > 0 ? cinfo->max_h_samp_factor : 1;
        int mv = cinfo->max_v_samp_factor > 0 ? cinfo->max_v_samp_factor : 1;
        double bw = ceil((double)cinfo->image_width * ci->h_samp_factor /
                         (8.0 * mh));
        double bh = ceil((double)cinfo->image_height * ci->v_samp_factor /
                         (8.0 * mv));
        bytes += bw * bh * 128.0;
    }
    return bytes;
}

/* A progressive JPEG may not need more than this to decode. */
#define JPEG_MAX_COEFFICIENT_BYTES (768.0 * 1024 * 1024)

hl_status hl_jpeg_decode(const unsigned char *data, size_t size,
                         const char *name, long long max_pixels,
                         hl_image **out, hl_error *err)
{
    struct jpeg_decompress_struct cinfo;
    jpeg_failure fail;
    memset(&fail, 0, sizeof fail);
    cinfo.err = jpeg_std_error(&fail.mgr);
    fail.mgr.error_exit = jpeg_on_error_exit;
    fail.mgr.emit_message = jpeg_on_message;
    fail.mgr.output_message = jpeg_silent_output;
    if (setjmp(fail.jump)) {
        int code = fail.mgr.msg_code;
        jpeg_destroy_decompress(&cinfo);
        free(fail.pixels);
        if (code == JERR_BAD_PRECISION || code == JERR_NOT_COMPILED ||
            code == JERR_CONVERSION_NOTIMPL || code == JERR_BAD_J_COLORSPACE)
            return hl_error_set(err, HL_ERR_UNSUPPORTED,
                                "%s: unsupported JPEG variant (%s)", name,
                                fail.message);
        return hl_error_set(err, HL_ERR_PARSE, "%s: corrupt JPEG file (%s)",
                            name, fail.message);
    }
    jpeg_create_decompress(&cinfo);
    jpeg_mem_src(&cinfo, data, (unsigned long)size);
    jpeg_read_header(&cinfo, TRUE);
    /* Sizes are checked before jpeg_start_decompress: for multi-scan
     * files it allocates the whole image's coefficients (a 500-byte
     * header claiming 61220x61184 made it ask for gigabytes). */
    unsigned iw = cinfo.image_width, ih = cinfo.image_height;
    double coef = coefficient_bytes(&cinfo);
    if ((long long)iw * ih > HL_IMAGE_MAX_SOURCE_PIXELS ||
        coef > JPEG_MAX_COEFFICIENT_BYTES) {
        jpeg_destroy_decompress(&cinfo);
        if (coef > JPEG_MAX_COEFFICIENT_BYTES)
            return hl_error_set(err, HL_ERR_UNSUPPORTED,
                                "%s: progressive JPEG of %ux%u pixels is too "
                                "large (it needs %.0f MiB to decode, at most "
                                "%.0f)", name, iw, ih, coef / 1048576.0,
                                JPEG_MAX_COEFFICIENT_BYTES / 1048576.0);
        return hl_error_set(err, HL_ERR_UNSUPPORTED,
                            "%s: JPEG of %ux%u pixels is too large (at most "
                            "%g megapixels)", name, iw, ih,
                            HL_IMAGE_MAX_SOURCE_PIXELS / 1e6);
    }
    /* Over the budget: libjpeg scales by 1/2, 1/4 or 1/8 in its inverse
     * DCT, so the full-size photo never exists. */
    cinfo.scale_num = 1;
    cinfo.scale_denom = 1;
    jpeg_calc_output_dimensions(&cinfo);
    while ((long long)cinfo.output_width * cinfo.output_height > max_pixels &&
           cinfo.scale_denom < 8) {
        cinfo.scale_denom *= 2;
        jpeg_calc_output_dimensions(&cinfo);
    }
    if ((long long)cinfo.output_width * cinfo.output_height > max_pixels) {
        jpeg_destroy_decompress(&cinfo);
        return hl_error_set(err, HL_ERR_UNSUPPORTED,
                            "%s: JPEG of %ux%u pixels is too large (at most "
                            "%g megapixels at 1/8 scale)", name, iw, ih,
                            max_pixels / 1e6);
    }

    int cmyk = cinfo.jpeg_color_space == JCS_CMYK ||
               cinfo.jpeg_color_space == JCS_YCCK;
    cinfo.out_color_space = cmyk ? JCS_CMYK : JCS_RGB;
    jpeg_start_decompress(&cinfo);
    int w = (int)cinfo.output_width, h = (int)cinfo.output_height;
    int comps = cinfo.output_components;
    if ((long long)w * h > max_pixels || w <= 0 || h <= 0 ||
        comps != (cmyk ? 4 : 3)) {
        jpeg_destroy_decompress(&cinfo);
        return hl_error_set(err, HL_ERR_UNSUPPORTED,
                            "%s: unsupported JPEG (%dx%d, %d components)",
                            name, w, h, comps);
    }
    size_t row = (size_t)w * (size_t)comps;
    fail.pixels = malloc(row * (size_t)h);
    if (!fail.pixels) {
        jpeg_destroy_decompress(&cinfo);
        return hl_error_set(err, HL_ERR_NOMEM, "%s: out of memory", name);
    }
    while (cinfo.output_scanline < cinfo.output_height) {
        JSAMPROW r = fail.pixels + row * cinfo.output_scanline;
        if (jpeg_read_scanlines(&cinfo, &r, 1) != 1)
            break;
        if (fail.truncated)
            break;
    }
    if (fail.truncated || cinfo.output_scanline < cinfo.output_height) {
        jpeg_destroy_decompress(&cinfo);
        free(fail.pixels);
        return hl_error_set(err, HL_ERR_PARSE, "%s: truncated JPEG file",
                            name);
    }
    /* Adobe writes CMYK inverted (0 = full ink). */
    int inverted = cmyk && cinfo.saw_Adobe_marker;
    jpeg_finish_decompress(&cinfo);
    jpeg_destroy_decompress(&cinfo);
    if (fail.truncated) {
        free(fail.pixels);
        return hl_error_set(err, HL_ERR_PARSE, "%s: truncated JPEG file",
                            name);
    }
    if (cmyk) {
        /* Naive CMYK -> RGB (no colour profile): R = (1-C)(1-K)... */
        size_t n = (size_t)w * h;
        for (size_t i = 0; i < n; i++) {
            const unsigned char *p = fail.pixels + 4 * i;
            unsigned k = inverted ? p[3] : 255u - p[3];
            for (int c = 0; c < 3; c++) {
                unsigned v = inverted ? p[c] : 255u - p[c];
                fail.pixels[3 * i + (size_t)c] =
                    (unsigned char)((v * k + 127) / 255);
            }
        }
    }
    int orientation = hl_jpeg_exif_orientation(data, size);
    hl_image *img = apply_orientation(fail.pixels, w, h, orientation);
    free(fail.pixels);
    if (!img)
        return hl_error_set(err, HL_ERR_NOMEM, "%s: out of memory", name);
    *out = img;
    return HL_OK;
}
