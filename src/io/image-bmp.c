/* Windows BMP decoding (no library in our dependencies reads it; the format
 * is simple enough to read by its specification). Supported: the 12-byte
 * OS/2 core header and the 40..124-byte Windows headers; 1, 4 and 8 bits
 * per pixel with a palette (uncompressed, RLE8, RLE4), 16 and 32 bits with
 * the default layout or BITFIELDS/ALPHABITFIELDS masks, 24 bits; bottom-up
 * and top-down rows. Alpha (a BITFIELDS alpha mask) is composited on white
 * like PNG's; pixels an RLE stream skips are transparent, so white.
 * Embedded JPEG/PNG (compression 4/5) and CMYK variants are refused. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "image-private.h"

enum { BI_RGB = 0, BI_RLE8 = 1, BI_RLE4 = 2, BI_BITFIELDS = 3,
       BI_JPEG = 4, BI_PNG = 5, BI_ALPHABITFIELDS = 6 };

static uint32_t rd16(const unsigned char *p) { return p[0] | (uint32_t)p[1] << 8; }
static uint32_t rd32(const unsigned char *p)
{
    return p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* One channel mask: where it starts and how wide it is. A mask must be one
 * run of 1 bits (up to 16 wide); 0 means the channel is absent. */
typedef struct channel_mask {
    uint32_t mask;
    int shift, bits;
} channel_mask;

static int mask_init(channel_mask *c, uint32_t mask)
{
    c->mask = mask;
    c->shift = c->bits = 0;
    if (!mask)
        return 1;
    while (!(mask & 1u)) {
        mask >>= 1;
        c->shift++;
    }
    while (mask & 1u) {
        mask >>= 1;
        c->bits++;
    }
    return mask == 0 && c->bits <= 16;
}

/* The channel scaled to 0..255, rounded. */
static uint8_t mask_get(const channel_mask *c, uint32_t px)
{
    if (!c->bits)
        return 0;
    uint32_t v = (px & c->mask) >> c->shift, max = (1u << c->bits) - 1;
    return (uint8_t)((v * 255u + max / 2) / max);
}

typedef struct bmp_info {
    int width, height, top_down, bpp;
    uint32_t compression;
    channel_mask r, g, b, a;
    uint8_t palette[256][3];
    int n_palette;
} bmp_info;

static hl_status truncated(const char *name, hl_error *err)
{
    return hl_error_set(err, HL_ERR_PARSE, "%s: truncated BMP file", name);
}

/* Parses the headers, the masks and the palette into `bi`. */
static hl_status read_headers(const unsigned char *d, size_t size,
                              const char *name, bmp_info *bi,
                              uint32_t *pixel_offset, hl_error *err)
{
    if (size < 18)
        return truncated(name, err);
    *pixel_offset = rd32(d + 10);
    uint32_t hsize = rd32(d + 14);
    if (hsize != 12 && (hsize < 40 || hsize > 124))
        return hl_error_set(err, HL_ERR_UNSUPPORTED,
                            "%s: BMP header of %u bytes is not supported", name,
                            (unsigned)hsize);
    if (size < 14 + (size_t)hsize)
        return truncated(name, err);
    const unsigned char *h = d + 14;
    int64_t height;
    uint32_t planes, n_colors = 0;
    if (hsize == 12) {
        bi->width = (int)rd16(h + 4);
        height = rd16(h + 6);
        planes = rd16(h + 8);
        bi->bpp = (int)rd16(h + 10);
        bi->compression = BI_RGB;
    } else {
        bi->width = (int32_t)rd32(h + 4);
        height = (int32_t)rd32(h + 8);
        planes = rd16(h + 12);
        bi->bpp = (int)rd16(h + 14);
        bi->compression = rd32(h + 16);
        n_colors = rd32(h + 32);
    }
    bi->top_down = height < 0;
    if (height < 0)
        height = -height;
    if (bi->width <= 0 || height <= 0 || height > INT32_MAX ||
        (long long)bi->width * height > HL_IMAGE_MAX_PIXELS)
        return hl_error_set(err, HL_ERR_PARSE, "%s: bad BMP size %dx%lld", name,
                            bi->width, (long long)height);
    bi->height = (int)height;
    if (planes != 1)
        return hl_error_set(err, HL_ERR_PARSE, "%s: BMP with %u planes", name,
                            (unsigned)planes);
    if (bi->compression == BI_JPEG || bi->compression == BI_PNG)
        return hl_error_set(err, HL_ERR_UNSUPPORTED,
                            "%s: BMP holding a %s stream is not supported", name,
                            bi->compression == BI_JPEG ? "JPEG" : "PNG");
    int paletted = bi->bpp == 1 || bi->bpp == 4 || bi->bpp == 8;
    int ok_combo =
        (bi->compression == BI_RGB && (paletted || bi->bpp == 16 || bi->bpp == 24 ||
                                       bi->bpp == 32)) ||
        (bi->compression == BI_RLE8 && bi->bpp == 8) ||
        (bi->compression == BI_RLE4 && bi->bpp == 4) ||
        ((bi->compression == BI_BITFIELDS || bi->compression == BI_ALPHABITFIELDS) &&
         (bi->bpp == 16 || bi->bpp == 32));
    if (!ok_combo)
        return hl_error_set(err, HL_ERR_UNSUPPORTED,
                            "%s: BMP with %d bits per pixel and compression %u is "
                            "not supported",
                            name, bi->bpp, (unsigned)bi->compression);

    /* Masks: defaults, then from the header (V2+) or right after it. */
    uint32_t m[4] = {0, 0, 0, 0};
    if (bi->bpp == 16)
        m[0] = 0x7C00, m[1] = 0x03E0, m[2] = 0x001F;
    else if (bi->bpp == 32)
        m[0] = 0xFF0000, m[1] = 0xFF00, m[2] = 0xFF;
    size_t after = 14 + hsize;
    if (bi->compression == BI_BITFIELDS || bi->compression == BI_ALPHABITFIELDS) {
        int n = bi->compression == BI_ALPHABITFIELDS ? 4 : 3;
        const unsigned char *src = h + 40;
        /* in the header from V2 (52 bytes) on; after a shorter one (a
         * 42-byte header must not have its masks read past its end) */
        if (hsize < 40 + 4 * (uint32_t)n) {
            if (size < after + 4 * (size_t)n)
                return truncated(name, err);
            src = d + after;
            after += 4 * (size_t)n;
        }
        for (int i = 0; i < n; i++)
            m[i] = rd32(src + 4 * i);
    }
    /* The V3+ alpha mask counts with BITFIELDS only: in BI_RGB files the
     * fourth byte of a 32-bit pixel is unused. */
    if (hsize >= 56 && bi->compression == BI_BITFIELDS)
        m[3] = rd32(h + 52);
    if (!mask_init(&bi->r, m[0]) || !mask_init(&bi->g, m[1]) ||
        !mask_init(&bi->b, m[2]) || !mask_init(&bi->a, m[3]))
        return hl_error_set(err, HL_ERR_UNSUPPORTED,
                            "%s: BMP colour masks %08x %08x %08x %08x are not "
                            "supported",
                            name, (unsigned)m[0], (unsigned)m[1], (unsigned)m[2],
                            (unsigned)m[3]);

    if (paletted) {
        int max = 1 << bi->bpp;
        int n = n_colors && n_colors < (uint32_t)max ? (int)n_colors : max;
        size_t entry = hsize == 12 ? 3 : 4;
        /* The palette sits between the headers and the pixels; a short
         * one (fewer entries than announced) is tolerated, none is not. */
        size_t avail = *pixel_offset > after ? (*pixel_offset - after) / entry : 0;
        if ((size_t)n > avail)
            n = (int)avail;
        if (n < 1 || size < after + (size_t)n * entry)
            return hl_error_set(err, HL_ERR_PARSE, "%s: BMP palette missing", name);
        for (int i = 0; i < n; i++) {
            const unsigned char *e = d + after + (size_t)i * entry;
            bi->palette[i][0] = e[2];
            bi->palette[i][1] = e[1];
            bi->palette[i][2] = e[0];
        }
        bi->n_palette = n;
    }
    if (*pixel_offset < after || *pixel_offset >= size)
        return truncated(name, err);
    return HL_OK;
}

/* The image row of the y-th row stored in the file. */
static int image_row(const bmp_info *bi, int y)
{
    return bi->top_down ? y : bi->height - 1 - y;
}

static void put_index(const bmp_info *bi, hl_image *img, int row, int x, int index)
{
    uint8_t *o = img->rgb + ((size_t)row * img->width + x) * 3;
    /* An index past the palette: black, as Windows draws it. */
    if (index < bi->n_palette)
        memcpy(o, bi->palette[index], 3);
    else
        o[0] = o[1] = o[2] = 0;
}

static hl_status decode_uncompressed(const unsigned char *p, size_t avail,
                                     const char *name, const bmp_info *bi,
                                     hl_image *img, hl_error *err)
{
    size_t stride = (((size_t)bi->width * bi->bpp + 31) / 32) * 4;
    /* The last row may lack its padding in files written by some tools. */
    size_t need = stride * (size_t)(bi->height - 1) +
                  ((size_t)bi->width * bi->bpp + 7) / 8;
    if (avail < need)
        return truncated(name, err);
    int has_alpha = 0;
    for (int y = 0; y < bi->height; y++) {
        const unsigned char *s = p + stride * (size_t)y;
        int row = image_row(bi, y);
        uint8_t *o = img->rgb + (size_t)row * img->width * 3;
        for (int x = 0; x < bi->width; x++, o += 3) {
            if (bi->bpp <= 8) {
                int per_byte = 8 / bi->bpp;
                int shift = 8 - bi->bpp * (x % per_byte + 1);
                int index = (s[x / per_byte] >> shift) & ((1 << bi->bpp) - 1);
                put_index(bi, img, row, x, index);
            } else if (bi->bpp == 24) {
                o[0] = s[3 * x + 2];
                o[1] = s[3 * x + 1];
                o[2] = s[3 * x];
            } else {
                uint32_t px = bi->bpp == 16 ? rd16(s + 2 * x) : rd32(s + 4 * x);
                o[0] = mask_get(&bi->r, px);
                o[1] = mask_get(&bi->g, px);
                o[2] = mask_get(&bi->b, px);
                has_alpha |= bi->a.bits && (px & bi->a.mask);
            }
        }
    }
    /* Alpha is applied only when some pixel has it: many 32-bit files
     * carry an alpha mask with every alpha byte 0 and mean opaque. */
    if (!has_alpha)
        return HL_OK;
    for (int y = 0; y < bi->height; y++) {
        const unsigned char *s = p + stride * (size_t)y;
        uint8_t *o = img->rgb + (size_t)image_row(bi, y) * img->width * 3;
        for (int x = 0; x < bi->width; x++, o += 3) {
            uint32_t px = bi->bpp == 16 ? rd16(s + 2 * x) : rd32(s + 4 * x);
            unsigned a = mask_get(&bi->a, px);
            for (int c = 0; c < 3; c++)
                o[c] = hl_over_white(o[c], a);
        }
    }
    return HL_OK;
}

/* RLE8 / RLE4: pairs (count, value) and escapes 0,0 end of line; 0,1 end
 * of bitmap; 0,2,dx,dy move; 0,n n literal indices padded to 16 bits.
 * Pixels never written stay white (transparent). */
static hl_status decode_rle(const unsigned char *p, size_t avail,
                            const char *name, const bmp_info *bi,
                            hl_image *img, hl_error *err)
{
    memset(img->rgb, 255, (size_t)img->width * img->height * 3);
    int four = bi->compression == BI_RLE4;
    int x = 0, y = 0;
    size_t i = 0;
    while (y < bi->height) {
        if (i + 2 > avail)
            return truncated(name, err);
        int count = p[i], value = p[i + 1];
        i += 2;
        if (count > 0) {
            for (int k = 0; k < count && x < bi->width; k++, x++) {
                int index = four ? (k & 1 ? value & 15 : value >> 4) : value;
                put_index(bi, img, image_row(bi, y), x, index);
            }
            continue;
        }
        if (value == 0) {
            x = 0;
            y++;
        } else if (value == 1) {
            break;
        } else if (value == 2) {
            if (i + 2 > avail)
                return truncated(name, err);
            x += p[i];
            y += p[i + 1];
            i += 2;
        } else {
            size_t bytes = four ? ((size_t)value + 1) / 2 : (size_t)value;
            if (i + bytes > avail)
                return truncated(name, err);
            for (int k = 0; k < value; k++, x++) {
                int index = four ? (k & 1 ? p[i + k / 2] & 15 : p[i + k / 2] >> 4)
                                 : p[i + k];
                if (x < bi->width && y < bi->height)
                    put_index(bi, img, image_row(bi, y), x, index);
            }
            i += (bytes + 1) & ~(size_t)1;
        }
    }
    return HL_OK;
}

hl_status hl_bmp_decode(const unsigned char *data, size_t size,
                        const char *name, long long max_pixels,
                        hl_image **out, hl_error *err)
{
    bmp_info bi;
    memset(&bi, 0, sizeof bi);
    uint32_t offset = 0;
    hl_status st = read_headers(data, size, name, &bi, &offset, err);
    if (st)
        return st;
    if ((long long)bi.width * bi.height > max_pixels)
        return hl_error_set(err, HL_ERR_UNSUPPORTED,
                            "%s: BMP of %dx%d pixels is too large (at most "
                            "%g megapixels)", name, bi.width, bi.height,
                            max_pixels / 1e6);
    hl_image *img = hl_image_new(bi.width, bi.height);
    if (!img)
        return hl_error_set(err, HL_ERR_NOMEM, "%s: out of memory for %dx%d", name,
                            bi.width, bi.height);
    if (bi.compression == BI_RLE8 || bi.compression == BI_RLE4)
        st = decode_rle(data + offset, size - offset, name, &bi, img, err);
    else
        st = decode_uncompressed(data + offset, size - offset, name, &bi, img, err);
    if (st) {
        hl_image_free(img);
        return st;
    }
    *out = img;
    return HL_OK;
}
