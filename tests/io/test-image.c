/* Image decoding and resampling (src/io/image*.c).
 *
 * PNG variants are written at run time with libpng and must decode to the
 * pixels we wrote (expanded / composited on white by the formulas below).
 * JPEGs are compared with ImageMagick's decoding of the same files
 * (tests/data/io/owl-NAME.ref.png), EXIF orientation with JPEGs written here with
 * an APP1 marker. Broken inputs must fail with the right status and a
 * one-line message naming the file. */
#include <math.h>
#include <png.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jpeglib.h>
#include "image.h"
#include "tap.h"
#include "test-files.h"

static char data_dir[1024];
static char sample_dir[1024];

/* ------------------------------------------------------- memory buffers */

typedef struct membuf {
    unsigned char *data;
    size_t size, cap;
} membuf;

static void membuf_put(membuf *b, const void *p, size_t n)
{
    if (b->size + n > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;
        while (cap < b->size + n)
            cap *= 2;
        b->data = realloc(b->data, cap);
        if (!b->data) {
            fprintf(stderr, "out of memory\n");
            exit(2);
        }
        b->cap = cap;
    }
    memcpy(b->data + b->size, p, n);
    b->size += n;
}

static void png_write_mem(png_structp png, png_bytep p, size_t n)
{
    membuf_put(png_get_io_ptr(png), p, n);
}

static void png_flush_mem(png_structp png)
{
    (void)png;
}

/* A PNG of w x h from `rows` (already packed for the given colour type and
 * depth; 16-bit samples big-endian as PNG wants). */
static membuf make_png(int w, int h, int color, int depth,
                       unsigned char **rows, const png_color *palette,
                       int n_palette, const unsigned char *trns, int n_trns,
                       const png_color_16 *trns_colour, int interlace)
{
    membuf b = {0};
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL,
                                              NULL, NULL);
    png_infop info = png_create_info_struct(png);
    if (setjmp(png_jmpbuf(png))) {
        png_destroy_write_struct(&png, &info);
        free(b.data);
        b.data = NULL;
        b.size = 0;
        return b;
    }
    png_set_write_fn(png, &b, png_write_mem, png_flush_mem);
    png_set_IHDR(png, info, (png_uint_32)w, (png_uint_32)h, depth, color,
                 interlace ? PNG_INTERLACE_ADAM7 : PNG_INTERLACE_NONE,
                 PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    if (palette)
        png_set_PLTE(png, info, palette, n_palette);
    if (trns || trns_colour)
        png_set_tRNS(png, info, trns, n_trns, trns_colour);
    png_write_info(png, info);
    png_write_image(png, rows);
    png_write_end(png, NULL);
    png_destroy_write_struct(&png, &info);
    return b;
}

static int over_white(double c, double a)   /* c, a in 0..1 */
{
    return (int)floor((c * a + (1 - a)) * 255 + 0.5);
}

/* Decode b and compare with expected RGB (tolerance tol). */
static void check_decode(const char *what, membuf b, int w, int h,
                         const unsigned char *expect, int tol)
{
    hl_image *img = NULL;
    hl_error err = {0};
    hl_status st = hl_image_load_buffer(b.data, b.size, what, &img, &err);
    if (!tap_ok(st == HL_OK && img, "%s decodes (%s)", what,
                st == HL_OK ? "ok" : err.msg))
        return;
    tap_ok(img->width == w && img->height == h, "%s size %dx%d", what,
           img->width, img->height);
    int worst = 0;
    if (img->width == w && img->height == h)
        for (int i = 0; i < w * h * 3; i++) {
            int d = abs((int)img->rgb[i] - (int)expect[i]);
            if (d > worst)
                worst = d;
        }
    tap_ok(worst <= tol, "%s pixels (max diff %d, tolerance %d)", what, worst,
           tol);
    hl_image_free(img);
}

static void test_png_variants(void)
{
    enum { W = 7, H = 5 };
    unsigned char rows_buf[H][W * 8];
    unsigned char *rows[H];
    unsigned char expect[W * H * 3];
    for (int y = 0; y < H; y++)
        rows[y] = rows_buf[y];

    /* RGB 8 */
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++)
            for (int c = 0; c < 3; c++) {
                int v = (x * 37 + y * 53 + c * 91) % 256;
                rows_buf[y][3 * x + c] = (unsigned char)v;
                expect[(y * W + x) * 3 + c] = (unsigned char)v;
            }
    membuf b = make_png(W, H, PNG_COLOR_TYPE_RGB, 8, rows, NULL, 0, NULL, 0,
                        NULL, 0);
    check_decode("rgb8.png", b, W, H, expect, 0);
    free(b.data);

    /* RGB 8, Adam7 interlaced */
    b = make_png(W, H, PNG_COLOR_TYPE_RGB, 8, rows, NULL, 0, NULL, 0, NULL, 1);
    check_decode("rgb8-interlaced.png", b, W, H, expect, 0);
    free(b.data);

    /* RGBA 8: alpha over white */
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++) {
            int a = (x * 40 + y * 10) % 256;
            for (int c = 0; c < 3; c++) {
                int v = (x * 37 + y * 53 + c * 91) % 256;
                rows_buf[y][4 * x + c] = (unsigned char)v;
                expect[(y * W + x) * 3 + c] =
                    (unsigned char)over_white(v / 255.0, a / 255.0);
            }
            rows_buf[y][4 * x + 3] = (unsigned char)a;
        }
    b = make_png(W, H, PNG_COLOR_TYPE_RGB_ALPHA, 8, rows, NULL, 0, NULL, 0,
                 NULL, 0);
    check_decode("rgba8.png", b, W, H, expect, 1);
    free(b.data);

    /* Grey 8 */
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++) {
            int v = (x * 31 + y * 17) % 256;
            rows_buf[y][x] = (unsigned char)v;
            memset(expect + (y * W + x) * 3, v, 3);
        }
    b = make_png(W, H, PNG_COLOR_TYPE_GRAY, 8, rows, NULL, 0, NULL, 0, NULL,
                 0);
    check_decode("grey8.png", b, W, H, expect, 0);
    free(b.data);

    /* Grey 2-bit: values 0..3 -> v * 255 / 3 */
    for (int y = 0; y < H; y++) {
        memset(rows_buf[y], 0, sizeof rows_buf[y]);
        for (int x = 0; x < W; x++) {
            int v = (x + y) % 4;
            rows_buf[y][x / 4] |= (unsigned char)(v << (6 - 2 * (x % 4)));
            memset(expect + (y * W + x) * 3, v * 85, 3);
        }
    }
    b = make_png(W, H, PNG_COLOR_TYPE_GRAY, 2, rows, NULL, 0, NULL, 0, NULL,
                 0);
    check_decode("grey2.png", b, W, H, expect, 0);
    free(b.data);

    /* Grey + alpha 8 */
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++) {
            int v = (x * 31 + y * 17) % 256, a = 255 - x * 30;
            rows_buf[y][2 * x] = (unsigned char)v;
            rows_buf[y][2 * x + 1] = (unsigned char)a;
            memset(expect + (y * W + x) * 3,
                   over_white(v / 255.0, a / 255.0), 3);
        }
    b = make_png(W, H, PNG_COLOR_TYPE_GRAY_ALPHA, 8, rows, NULL, 0, NULL, 0,
                 NULL, 0);
    check_decode("grey-alpha8.png", b, W, H, expect, 1);
    free(b.data);

    /* Grey 16: v16 -> round(v16 / 257) */
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++) {
            int v = (x * 9001 + y * 3011) % 65536;
            rows_buf[y][2 * x] = (unsigned char)(v >> 8);
            rows_buf[y][2 * x + 1] = (unsigned char)(v & 255);
            memset(expect + (y * W + x) * 3, (int)floor(v / 257.0 + 0.5), 3);
        }
    b = make_png(W, H, PNG_COLOR_TYPE_GRAY, 16, rows, NULL, 0, NULL, 0, NULL,
                 0);
    check_decode("grey16.png", b, W, H, expect, 0);
    free(b.data);

    /* RGBA 16: composite of the exact 16-bit values, within 1 */
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++) {
            int a = (x * 11000 + y * 2000) % 65536;
            for (int c = 0; c < 3; c++) {
                int v = (x * 7001 + y * 5003 + c * 20011) % 65536;
                rows_buf[y][8 * x + 2 * c] = (unsigned char)(v >> 8);
                rows_buf[y][8 * x + 2 * c + 1] = (unsigned char)(v & 255);
                expect[(y * W + x) * 3 + c] =
                    (unsigned char)over_white(v / 65535.0, a / 65535.0);
            }
            rows_buf[y][8 * x + 6] = (unsigned char)(a >> 8);
            rows_buf[y][8 * x + 7] = (unsigned char)(a & 255);
        }
    b = make_png(W, H, PNG_COLOR_TYPE_RGB_ALPHA, 16, rows, NULL, 0, NULL, 0,
                 NULL, 0);
    check_decode("rgba16.png", b, W, H, expect, 1);
    free(b.data);

    /* Palette 8-bit with tRNS on some entries */
    png_color pal[6];
    unsigned char trns[6] = {255, 0, 128, 255, 64, 255};
    for (int i = 0; i < 6; i++) {
        pal[i].red = (png_byte)(i * 50);
        pal[i].green = (png_byte)(255 - i * 40);
        pal[i].blue = (png_byte)(i * i * 7);
    }
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++) {
            int i = (x + 2 * y) % 6;
            rows_buf[y][x] = (unsigned char)i;
            unsigned char *e = expect + (y * W + x) * 3;
            e[0] = (unsigned char)over_white(pal[i].red / 255.0,
                                             trns[i] / 255.0);
            e[1] = (unsigned char)over_white(pal[i].green / 255.0,
                                             trns[i] / 255.0);
            e[2] = (unsigned char)over_white(pal[i].blue / 255.0,
                                             trns[i] / 255.0);
        }
    b = make_png(W, H, PNG_COLOR_TYPE_PALETTE, 8, rows, pal, 6, trns, 6, NULL,
                 0);
    check_decode("palette8-trns.png", b, W, H, expect, 1);
    free(b.data);

    /* Palette 4-bit, opaque */
    for (int y = 0; y < H; y++) {
        memset(rows_buf[y], 0, sizeof rows_buf[y]);
        for (int x = 0; x < W; x++) {
            int i = (3 * x + y) % 6;
            rows_buf[y][x / 2] |= (unsigned char)(i << (x % 2 ? 0 : 4));
            unsigned char *e = expect + (y * W + x) * 3;
            e[0] = pal[i].red;
            e[1] = pal[i].green;
            e[2] = pal[i].blue;
        }
    }
    b = make_png(W, H, PNG_COLOR_TYPE_PALETTE, 4, rows, pal, 6, NULL, 0, NULL,
                 0);
    check_decode("palette4.png", b, W, H, expect, 0);
    free(b.data);

    /* RGB 8 with a tRNS colour key: that colour becomes white */
    png_color_16 key = {0, 10, 20, 30, 0};
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++) {
            int keyed = (x + y) % 3 == 0;
            unsigned char px[3] = {keyed ? 10 : (unsigned char)(x * 30),
                                   keyed ? 20 : (unsigned char)(y * 40),
                                   keyed ? 30 : 99};
            memcpy(rows_buf[y] + 3 * x, px, 3);
            if (keyed)
                memset(expect + (y * W + x) * 3, 255, 3);
            else
                memcpy(expect + (y * W + x) * 3, px, 3);
        }
    b = make_png(W, H, PNG_COLOR_TYPE_RGB, 8, rows, NULL, 0, NULL, 0, &key, 0);
    check_decode("rgb8-colour-key.png", b, W, H, expect, 0);
    free(b.data);
}

/* ------------------------------------------------------------- JPEG */

static void test_jpeg_against_reference(const char *stem, double max_mean,
                                        int max_abs)
{
    char jpg[1200], ref[1200];
    snprintf(jpg, sizeof jpg, "%s/%s.jpg", data_dir, stem);
    snprintf(ref, sizeof ref, "%s/%s.ref.png", data_dir, stem);
    hl_image *a = NULL, *b = NULL;
    hl_error err = {0};
    hl_status sa = hl_image_load(jpg, &a, &err);
    tap_ok(sa == HL_OK, "%s.jpg loads (%s)", stem, sa ? err.msg : "ok");
    hl_status sb = hl_image_load(ref, &b, &err);
    tap_ok(sb == HL_OK, "%s.ref.png loads (%s)", stem, sb ? err.msg : "ok");
    if (sa == HL_OK && sb == HL_OK && a->width == b->width &&
        a->height == b->height) {
        double sum = 0;
        int worst = 0;
        size_t n = (size_t)a->width * a->height * 3;
        for (size_t i = 0; i < n; i++) {
            int d = abs((int)a->rgb[i] - (int)b->rgb[i]);
            sum += d;
            if (d > worst)
                worst = d;
        }
        tap_ok(sum / n <= max_mean && worst <= max_abs,
               "%s: decode matches ImageMagick's (mean |diff| %.3f, max %d)",
               stem, sum / n, worst);
    } else {
        tap_ok(0, "%s: sizes match", stem);
    }
    hl_image_free(a);
    hl_image_free(b);
}

/* A 48x32 JPEG of 3x2 solid 16x16 blocks of distinct colours, with an
 * EXIF APP1 giving `orientation` (0 = no APP1), in byte order big/little. */
static const unsigned char block_colour[2][3][3] = {
    {{220, 30, 30}, {30, 200, 40}, {40, 40, 210}},
    {{230, 230, 40}, {30, 210, 220}, {200, 40, 200}}};

static membuf make_jpeg_blocks(int orientation, int big_endian)
{
    membuf out = {0};
    struct jpeg_compress_struct c;
    struct jpeg_error_mgr jerr;
    unsigned char *mem = NULL;
    unsigned long mem_size = 0;
    c.err = jpeg_std_error(&jerr);
    jpeg_create_compress(&c);
    jpeg_mem_dest(&c, &mem, &mem_size);
    c.image_width = 48;
    c.image_height = 32;
    c.input_components = 3;
    c.in_color_space = JCS_RGB;
    jpeg_set_defaults(&c);
    jpeg_set_quality(&c, 95, TRUE);
    jpeg_start_compress(&c, TRUE);
    if (orientation) {
        /* "Exif\0\0" + TIFF header + IFD0 with one entry (0x0112 SHORT 1) */
        unsigned char app1[6 + 8 + 2 + 12 + 4];
        memcpy(app1, "Exif\0\0", 6);
        unsigned char *t = app1 + 6;
        int be = big_endian;
#define PUT16(p, v) do { if (be) { (p)[0] = (unsigned char)((v) >> 8); \
        (p)[1] = (unsigned char)(v); } else { (p)[0] = (unsigned char)(v); \
        (p)[1] = (unsigned char)((v) >> 8); } } while (0)
#define PUT32(p, v) do { if (be) { PUT16(p, (v) >> 16); PUT16((p) + 2, (v)); }\
        else { PUT16(p, (v) & 0xFFFF); PUT16((p) + 2, (v) >> 16); } } while (0)
        t[0] = t[1] = be ? 'M' : 'I';
        PUT16(t + 2, 42);
        PUT32(t + 4, 8);
        PUT16(t + 8, 1);                    /* one entry */
        PUT16(t + 10, 0x0112);
        PUT16(t + 12, 3);                   /* SHORT */
        PUT32(t + 14, 1);
        PUT16(t + 18, orientation);
        PUT16(t + 20, 0);
        PUT32(t + 22, 0);                   /* no next IFD */
#undef PUT16
#undef PUT32
        jpeg_write_marker(&c, JPEG_APP0 + 1, app1, sizeof app1);
    }
    unsigned char row[48 * 3];
    for (int y = 0; y < 32; y++) {
        for (int x = 0; x < 48; x++)
            memcpy(row + 3 * x, block_colour[y / 16][x / 16], 3);
        JSAMPROW r = row;
        jpeg_write_scanlines(&c, &r, 1);
    }
    jpeg_finish_compress(&c);
    jpeg_destroy_compress(&c);
    membuf_put(&out, mem, mem_size);
    free(mem);
    return out;
}

/* The displayed block grid for each EXIF orientation, built from the two
 * elementary moves: rotate 90 degrees clockwise and mirror left-right. */
typedef struct grid {
    int w, h;
    int cell[3][3];   /* [row][col] = original block index r*3+c */
} grid;

static grid grid_rotate_cw(grid g)
{
    grid r = {g.h, g.w, {{0}}};
    for (int y = 0; y < r.h; y++)
        for (int x = 0; x < r.w; x++)
            r.cell[y][x] = g.cell[g.h - 1 - x][y];
    return r;
}

static grid grid_mirror(grid g)
{
    grid r = g;
    for (int y = 0; y < g.h; y++)
        for (int x = 0; x < g.w; x++)
            r.cell[y][x] = g.cell[y][g.w - 1 - x];
    return r;
}

static grid expected_grid(int orientation)
{
    grid g = {3, 2, {{0, 1, 2}, {3, 4, 5}}};
    switch (orientation) {
    case 2: return grid_mirror(g);
    case 3: return grid_rotate_cw(grid_rotate_cw(g));
    case 4: return grid_mirror(grid_rotate_cw(grid_rotate_cw(g)));
    case 5: return grid_mirror(grid_rotate_cw(g));
    case 6: return grid_rotate_cw(g);
    case 7: return grid_mirror(grid_rotate_cw(grid_rotate_cw(
                grid_rotate_cw(g))));
    case 8: return grid_rotate_cw(grid_rotate_cw(grid_rotate_cw(g)));
    default: return g;
    }
}

static void test_exif_orientation(void)
{
    for (int be = 0; be < 2; be++) {
        for (int o = 0; o <= 8; o++) {
            membuf b = make_jpeg_blocks(o, be);
            int read_o = hl_jpeg_exif_orientation(b.data, b.size);
            tap_ok(read_o == (o ? o : 1),
                   "EXIF (%s) orientation %d read as %d",
                   be ? "MM" : "II", o, read_o);
            hl_image *img = NULL;
            hl_error err = {0};
            hl_status st = hl_image_load_buffer(b.data, b.size, "blocks.jpg",
                                                &img, &err);
            grid g = expected_grid(o);
            int ok = st == HL_OK && img->width == g.w * 16 &&
                     img->height == g.h * 16;
            for (int y = 0; ok && y < g.h; y++)
                for (int x = 0; x < g.w; x++) {
                    int k = g.cell[y][x];
                    const unsigned char *want = block_colour[k / 3][k % 3];
                    const unsigned char *got = img->rgb +
                        ((size_t)(y * 16 + 8) * img->width + x * 16 + 8) * 3;
                    for (int c = 0; c < 3; c++)
                        if (abs(got[c] - want[c]) > 8)
                            ok = 0;
                }
            tap_ok(ok, "orientation %d (%s): %dx%d, blocks where expected", o,
                   be ? "MM" : "II", img ? img->width : 0,
                   img ? img->height : 0);
            hl_image_free(img);
            free(b.data);
        }
    }
    /* Malformed APP1 payloads must not matter. */
    membuf b = make_jpeg_blocks(6, 0);
    unsigned char *p = b.data;
    for (size_t i = 0; i + 6 < b.size; i++)
        if (!memcmp(p + i, "Exif", 4)) {
            p[i + 6 + 4] = 0xFF;   /* IFD offset far out of range */
            p[i + 6 + 5] = 0xFF;
            break;
        }
    hl_image *img = NULL;
    hl_status st = hl_image_load_buffer(b.data, b.size, "bad-exif.jpg", &img,
                                        NULL);
    tap_ok(st == HL_OK && img && img->width == 48,
           "broken EXIF IFD offset: image loads unrotated");
    hl_image_free(img);
    free(b.data);
}

/* ------------------------------------------------------------ broken */

static void expect_failure(const char *what, const void *data, size_t size,
                           hl_status want)
{
    hl_image *img = (hl_image *)1;
    hl_error err = {0};
    hl_status st = hl_image_load_buffer(data, size, what, &img, &err);
    tap_ok(st == want && img == NULL && strstr(err.msg, what) &&
               !strchr(err.msg, '\n'),
           "%s -> %s (%s)", what, hl_status_name(st), err.msg);
}

/* CRC-32 as PNG chunks use it (polynomial 0xEDB88320). */
static unsigned long crc32_png(const unsigned char *p, size_t n)
{
    unsigned long c = 0xFFFFFFFFul;
    for (size_t i = 0; i < n; i++) {
        c ^= p[i];
        for (int k = 0; k < 8; k++)
            c = c & 1 ? 0xEDB88320ul ^ (c >> 1) : c >> 1;
    }
    return c ^ 0xFFFFFFFFul;
}

static void test_broken(void)
{
    size_t n_png, n_jpg;
    char path[1200];
    snprintf(path, sizeof path, "%s/cat.png", sample_dir);
    unsigned char *png = test_read_file(path, &n_png);
    snprintf(path, sizeof path, "%s/owl.jpg", sample_dir);
    unsigned char *jpg = test_read_file(path, &n_jpg);
    if (!png || !jpg) {
        tap_ok(0, "sample photos readable");
        free(png);
        free(jpg);
        return;
    }
    expect_failure("empty.png", png, 0, HL_ERR_PARSE);
    expect_failure("cut-after-signature.png", png, 8, HL_ERR_PARSE);
    expect_failure("cut-in-header.png", png, 20, HL_ERR_PARSE);
    expect_failure("cut-in-half.png", png, n_png / 2, HL_ERR_PARSE);
    expect_failure("cut-before-end.png", png, n_png - 13, HL_ERR_PARSE);
    expect_failure("cut-after-soi.jpg", jpg, 3, HL_ERR_PARSE);
    expect_failure("cut-in-header.jpg", jpg, 300, HL_ERR_PARSE);
    expect_failure("cut-in-half.jpg", jpg, n_jpg / 2, HL_ERR_PARSE);
    expect_failure("short.jpg", jpg, 2, HL_ERR_PARSE);

    /* A flipped bit in the IHDR chunk: CRC mismatch. */
    unsigned char *bad = malloc(n_png);
    memcpy(bad, png, n_png);
    bad[18] ^= 0x40;
    expect_failure("bad-crc.png", bad, n_png, HL_ERR_PARSE);
    /* Garbage in the compressed data (CRC recomputed would be needed to
     * get past libpng's check: this exercises the CRC path too). */
    memcpy(bad, png, n_png);
    for (size_t i = n_png / 3; i < n_png / 3 + 64; i++)
        bad[i] ^= 0x5A;
    expect_failure("scrambled.png", bad, n_png, HL_ERR_PARSE);
    free(bad);

    /* A valid IHDR promising 9000x9000 pixels in a 57-byte file. */
    unsigned char bomb[8 + 25 + 12 + 12];
    memcpy(bomb, "\x89PNG\r\n\x1a\n", 8);
    static const unsigned char ihdr[4 + 4 + 13] = {
        0, 0, 0, 13, 'I', 'H', 'D', 'R', 0, 0, 0x23, 0x28, 0, 0, 0x23, 0x28,
        8, 2, 0, 0, 0};
    memcpy(bomb + 8, ihdr, sizeof ihdr);
    unsigned long crc = crc32_png(ihdr + 4, 17);
    for (int i = 0; i < 4; i++)
        bomb[8 + 21 + i] = (unsigned char)(crc >> (24 - 8 * i));
    static const unsigned char iend[12] = {0, 0, 0, 0, 'I', 'E', 'N', 'D',
                                           0xAE, 0x42, 0x60, 0x82};
    unsigned char idat[12] = {0, 0, 0, 0, 'I', 'D', 'A', 'T'};
    crc = crc32_png(idat + 4, 4);
    for (int i = 0; i < 4; i++)
        idat[8 + i] = (unsigned char)(crc >> (24 - 8 * i));
    memcpy(bomb + 33, idat, 12);
    memcpy(bomb + 45, iend, 12);
    expect_failure("bomb.png", bomb, sizeof bomb, HL_ERR_PARSE);

    unsigned char noise[4096];
    unsigned s = 12345;
    for (size_t i = 0; i < sizeof noise; i++) {
        s = s * 1103515245u + 12345u;
        noise[i] = (unsigned char)(s >> 16);
    }
    noise[0] = 0x17;
    expect_failure("noise.bin", noise, sizeof noise, HL_ERR_PARSE);
    /* JPEG signature followed by noise */
    noise[0] = 0xFF;
    noise[1] = 0xD8;
    noise[2] = 0xFF;
    expect_failure("noise.jpg", noise, sizeof noise, HL_ERR_PARSE);
    static const unsigned char bmp[] = "BM\x36\x00\x00\x00\x00\x00";
    expect_failure("photo.bmp", bmp, sizeof bmp - 1, HL_ERR_PARSE);
    static const unsigned char tiff[] = "II*\x00\x08\x00\x00\x00";
    expect_failure("scan.tif", tiff, sizeof tiff - 1, HL_ERR_UNSUPPORTED);
    static const unsigned char gif[] = "GIF89a\x01\x00\x01\x00";
    expect_failure("anim.gif", gif, sizeof gif - 1, HL_ERR_UNSUPPORTED);
    expect_failure("text.txt", "hello world\n", 12, HL_ERR_PARSE);

    hl_image *img = NULL;
    hl_error err = {0};
    hl_status st = hl_image_load("/nonexistent/dir/photo.png", &img, &err);
    tap_ok(st == HL_ERR_IO && !img && strstr(err.msg, "photo.png"),
           "missing file -> io error (%s)", err.msg);
    free(png);
    free(jpg);
}

/* ------------------------------------------------------------- BMP */

/* tests/data/io/bmp/NAME.bmp against NAME.ref.png, the pixels
 * make-bmp.py encoded (cross-checked there with Pillow's reader). */
static void test_bmp(void)
{
    static const char *const cases[] = {
        "rgb24", "rgb24-topdown", "core24", "pal1", "pal4", "pal8",
        "rgb16-555", "rgb16-565", "rgbx32", "rgba32-v5", "rle8", "rle4"};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char bmp[1200], ref[1200];
        snprintf(bmp, sizeof bmp, "%s/bmp/%s.bmp", data_dir, cases[i]);
        snprintf(ref, sizeof ref, "%s/bmp/%s.ref.png", data_dir, cases[i]);
        hl_image *a = NULL, *b = NULL;
        hl_error err = {0};
        hl_status sa = hl_image_load(bmp, &a, &err);
        hl_status sb = hl_image_load(ref, &b, NULL);
        int same = sa == HL_OK && sb == HL_OK && a->width == b->width &&
                   a->height == b->height &&
                   memcmp(a->rgb, b->rgb, (size_t)a->width * a->height * 3) == 0;
        tap_ok(same, "BMP %s: pixels equal the encoded ones (%s)", cases[i],
               sa ? err.msg : "ok");
        hl_image_free(a);
        hl_image_free(b);
    }
    static const struct {
        const char *name;
        hl_status status;
        const char *says;
    } bad[] = {{"bad-truncated", HL_ERR_PARSE, "truncated"},
               {"bad-jpeg", HL_ERR_UNSUPPORTED, "JPEG"},
               {"bad-bpp2", HL_ERR_UNSUPPORTED, "2 bits per pixel"},
               {"bad-size", HL_ERR_PARSE, "size"}};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char path[1200];
        snprintf(path, sizeof path, "%s/bmp/%s.bmp", data_dir, bad[i].name);
        hl_image *img = NULL;
        hl_error err = {0};
        hl_status st = hl_image_load(path, &img, &err);
        tap_ok(st == bad[i].status && !img && strstr(err.msg, bad[i].says) &&
                   strstr(err.msg, bad[i].name),
               "%s refused: %s", bad[i].name, err.msg);
    }
}

/* ------------------------------------------------------------- resize */

static hl_image *grey_row(const int *v, int n, int height)
{
    hl_image *img = hl_image_new(n, height);
    for (int y = 0; y < height; y++)
        for (int x = 0; x < n; x++)
            memset(img->rgb + ((size_t)y * n + x) * 3, v[x], 3);
    return img;
}

static void test_resize(void)
{
    /* 4x4 -> 2x2: each output is the mean of a 2x2 block */
    hl_image *img = hl_image_new(4, 4);
    int ok = 1;
    for (int i = 0; i < 16 * 3; i++)
        img->rgb[i] = (unsigned char)(i * 5);
    hl_image *r = hl_image_resize(img, 2, 2);
    for (int y = 0; y < 2; y++)
        for (int x = 0; x < 2; x++)
            for (int c = 0; c < 3; c++) {
                double s = 0;
                for (int dy = 0; dy < 2; dy++)
                    for (int dx = 0; dx < 2; dx++)
                        s += img->rgb[((2 * y + dy) * 4 + 2 * x + dx) * 3 + c];
                if (r->rgb[(y * 2 + x) * 3 + c] != (int)floor(s / 4 + 0.5))
                    ok = 0;
            }
    tap_ok(ok, "4x4 -> 2x2 is the 2x2 block mean");
    hl_image_free(r);
    hl_image_free(img);

    /* 3 -> 2 along x: footprints [0,1.5) and [1.5,3) */
    int row3[3] = {0, 90, 180};
    img = grey_row(row3, 3, 1);
    r = hl_image_resize(img, 2, 1);
    tap_ok(r && r->rgb[0] == 30 && r->rgb[3] == 150,
           "3 -> 2 area weights: %d %d (expect 30 150)", r ? r->rgb[0] : -1,
           r ? r->rgb[3] : -1);
    hl_image_free(r);
    hl_image_free(img);

    /* 2 -> 4 bilinear with centres aligned, edges held */
    int row2[2] = {0, 100};
    img = grey_row(row2, 2, 2);
    r = hl_image_resize(img, 4, 2);
    tap_ok(r && r->rgb[0] == 0 && r->rgb[3] == 25 && r->rgb[6] == 75 &&
               r->rgb[9] == 100,
           "2 -> 4 bilinear: %d %d %d %d (expect 0 25 75 100)",
           r ? r->rgb[0] : -1, r ? r->rgb[3] : -1, r ? r->rgb[6] : -1,
           r ? r->rgb[9] : -1);
    hl_image_free(r);
    hl_image_free(img);

    /* Antialiasing: a 1-pixel checkerboard shrunk by a non-integer factor
     * becomes nearly uniform grey (point sampling would alias to a
     * pattern of 0 and 255). */
    img = hl_image_new(300, 300);
    for (int y = 0; y < 300; y++)
        for (int x = 0; x < 300; x++)
            memset(img->rgb + ((size_t)y * 300 + x) * 3, (x + y) % 2 ? 255 : 0,
                   3);
    r = hl_image_resize(img, 67, 67);
    int lo = 255, hi = 0;
    for (int i = 0; r && i < 67 * 67 * 3; i++) {
        if (r->rgb[i] < lo)
            lo = r->rgb[i];
        if (r->rgb[i] > hi)
            hi = r->rgb[i];
    }
    tap_ok(r && lo >= 118 && hi <= 137,
           "checkerboard 300 -> 67 stays grey (range %d..%d)", lo, hi);
    hl_image_free(r);
    hl_image_free(img);

    /* Mean brightness is preserved by area averaging. */
    img = hl_image_new(97, 61);
    double mean_in = 0, mean_out = 0;
    for (int i = 0; i < 97 * 61 * 3; i++) {
        img->rgb[i] = (unsigned char)((i * 7919) % 256);
        mean_in += img->rgb[i];
    }
    r = hl_image_resize(img, 31, 20);
    for (int i = 0; r && i < 31 * 20 * 3; i++)
        mean_out += r->rgb[i];
    mean_in /= 97 * 61 * 3;
    mean_out /= 31 * 20 * 3;
    tap_ok(r && fabs(mean_in - mean_out) < 1.0,
           "97x61 -> 31x20 keeps the mean (%.2f vs %.2f)", mean_in, mean_out);
    hl_image_free(r);
    hl_image_free(img);

    img = hl_image_new(4, 4);
    tap_ok(hl_image_resize(img, 0, 3) == NULL, "resize to 0 width -> NULL");
    hl_image_free(img);
    tap_ok(hl_image_new(0, 5) == NULL && hl_image_new(5, -1) == NULL,
           "hl_image_new rejects empty sizes");
}

/* ------------------------------------------------- photos over the budget */

/* A baseline JPEG of w x h, streamed row by row: left half black, right
 * half white (grey only, so the file stays small). */
static membuf make_jpeg_halves(int w, int h, int progressive)
{
    membuf out = {0};
    struct jpeg_compress_struct c;
    struct jpeg_error_mgr jerr;
    unsigned char *mem = NULL;
    unsigned long mem_size = 0;
    c.err = jpeg_std_error(&jerr);
    jpeg_create_compress(&c);
    jpeg_mem_dest(&c, &mem, &mem_size);
    c.image_width = (JDIMENSION)w;
    c.image_height = (JDIMENSION)h;
    c.input_components = 1;
    c.in_color_space = JCS_GRAYSCALE;
    jpeg_set_defaults(&c);
    jpeg_set_quality(&c, 90, TRUE);
    if (progressive)
        jpeg_simple_progression(&c);
    jpeg_start_compress(&c, TRUE);
    unsigned char *row = malloc((size_t)w);
    for (int x = 0; x < w; x++)
        row[x] = x < w / 2 ? 0 : 255;
    for (int y = 0; y < h; y++) {
        JSAMPROW r = row;
        jpeg_write_scanlines(&c, &r, 1);
    }
    free(row);
    jpeg_finish_compress(&c);
    jpeg_destroy_compress(&c);
    membuf_put(&out, mem, mem_size);
    free(mem);
    return out;
}

/* The two halves of a decoded make_jpeg_halves picture, away from the
 * edge: worst distance from black on the left and white on the right. */
static int halves_error(const hl_image *img)
{
    int worst = 0, margin = img->width / 20 + 2;
    for (int y = 0; y < img->height; y += img->height / 16 + 1)
        for (int x = 0; x < img->width; x++) {
            if (abs(x - img->width / 2) < margin)
                continue;
            int want = x < img->width / 2 ? 0 : 255;
            for (int c = 0; c < 3; c++) {
                int d = abs(img->rgb[((size_t)y * img->width + x) * 3 + c] -
                            want);
                worst = d > worst ? d : worst;
            }
        }
    return worst;
}

static void test_large_photos(void)
{
    /* a 108-megapixel phone photo (12000 x 9000) is decoded at 1/2 scale
     * inside libjpeg: 6000 x 4500, under the 100-megapixel budget */
    membuf b = make_jpeg_halves(12000, 9000, 0);
    hl_image *img = NULL;
    hl_error err = {0};
    hl_status st = hl_image_load_buffer(b.data, b.size, "phone.jpg", &img,
                                        &err);
    tap_ok(st == HL_OK && img && img->width == 6000 && img->height == 4500,
           "108-megapixel JPEG (%zu KB) decoded at half size: %dx%d (%s)",
           b.size >> 10, img ? img->width : 0, img ? img->height : 0,
           st ? err.msg : "ok");
    if (img)
        tap_ok(halves_error(img) <= 3, "... black and white halves kept "
               "(max error %d)", halves_error(img));
    hl_image_free(img);
    free(b.data);
    /* the same rule under a small budget: 2000 x 1500 (3 MP) at 1/2 for
     * 1 MP; progressive too (its coefficients are at full size) */
    for (int prog = 0; prog < 2; prog++) {
        b = make_jpeg_halves(2000, 1500, prog);
        img = NULL;
        st = hl_image_decode(b.data, b.size, "budget.jpg", 1000000, &img,
                             &err);
        tap_ok(st == HL_OK && img && img->width == 1000 &&
                   img->height == 750 && halves_error(img) <= 3,
               "%s JPEG of 3 MP at a 1 MP budget: %dx%d (%s)",
               prog ? "progressive" : "baseline", img ? img->width : 0,
               img ? img->height : 0, st ? err.msg : "ok");
        hl_image_free(img);
        free(b.data);
    }

    /* PNG: every f x f block becomes its mean; 301 x 200 RGB at a budget
     * of 10000 pixels -> f = 3 (101 x 67, last column and row partial) */
    int w = 301, h = 200;
    unsigned char **rows = malloc(sizeof *rows * (size_t)h);
    for (int y = 0; y < h; y++) {
        rows[y] = malloc((size_t)w * 3);
        for (int x = 0; x < w; x++)
            for (int c = 0; c < 3; c++)
                rows[y][x * 3 + c] = (unsigned char)((x * 7 + y * 13 +
                                                      c * 50) % 256);
    }
    for (int interlace = 0; interlace < 2; interlace++) {
        b = make_png(w, h, PNG_COLOR_TYPE_RGB, 8, rows, NULL, 0, NULL, 0,
                     NULL, interlace);
        img = NULL;
        st = hl_image_decode(b.data, b.size, "budget.png", 10000, &img, &err);
        if (interlace) {
            tap_ok(st == HL_ERR_UNSUPPORTED && !img &&
                       strstr(err.msg, "budget.png: interlaced PNG of "
                                       "301x200 pixels is too large"),
                   "interlaced PNG over the budget refused: %s", err.msg);
        } else if (tap_ok(st == HL_OK && img && img->width == 101 &&
                              img->height == 67,
                          "PNG 301x200 at a 10000-pixel budget: %dx%d (%s)",
                          img ? img->width : 0, img ? img->height : 0,
                          st ? err.msg : "ok")) {
            /* the mean of each block, in double, rounded half up */
            double worst = 0;
            for (int oy = 0; oy < 67; oy++)
                for (int ox = 0; ox < 101; ox++)
                    for (int c = 0; c < 3; c++) {
                        double sum = 0;
                        int n = 0;
                        for (int y = oy * 3; y < oy * 3 + 3 && y < h; y++)
                            for (int x = ox * 3; x < ox * 3 + 3 && x < w;
                                 x++, n++)
                                sum += rows[y][x * 3 + c];
                        double d = fabs(img->rgb[((size_t)oy * 101 + ox) * 3 +
                                                 c] - floor(sum / n + 0.5));
                        worst = d > worst ? d : worst;
                    }
            tap_ok(worst == 0, "... each pixel the mean of its 3x3 block "
                   "(max diff %g)", worst);
        }
        hl_image_free(img);
        free(b.data);
    }
    for (int y = 0; y < h; y++)
        free(rows[y]);
    free(rows);
}

int main(void)
{
    const char *root = getenv("HL_SOURCE_ROOT");
    if (!root)
        root = ".";
    snprintf(data_dir, sizeof data_dir, "%s/tests/data/io", root);
    snprintf(sample_dir, sizeof sample_dir, "%s/data/samples", root);

    test_png_variants();
    test_jpeg_against_reference("owl-rgb", 0.1, 2);
    test_jpeg_against_reference("owl-progressive", 0.1, 2);
    test_jpeg_against_reference("owl-grey", 0.1, 2);
    test_jpeg_against_reference("owl-cmyk", 1.0, 4);
    test_exif_orientation();
    test_bmp();
    test_broken();
    test_resize();
    test_large_photos();
    return tap_done();
}
