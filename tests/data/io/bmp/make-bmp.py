#!/usr/bin/python3
"""BMP test files for tests/io/test-image.c, written byte by byte from the
format's specification (Microsoft's BITMAPINFOHEADER/BITMAPV5HEADER docs).

Each case has known pixels (a seeded pattern); NAME.bmp is its encoding and
NAME.ref.png the expected 8-bit RGB written by Pillow. Pillow also decodes
every NAME.bmp and must give the same pixels (within 1 for 16-bit files,
where it truncates instead of rounding; for RLE only the pixels the stream
writes before the delta escape: Pillow paints skipped pixels with palette
entry 0 where we leave them transparent, i.e. white, and Pillow 9.4 reads
the delta escape's two bytes twice, losing the rest of the stream) - a check of this generator by an
independent reader. Alpha is composited on white: round((c*a + 255*(255-a))/255).
Run with Debian's python3 (numpy, PIL) in this folder.
"""
import struct
import numpy as np
from PIL import Image

rng = np.random.default_rng(7)


def file_header(pixel_offset, total):
    return b'BM' + struct.pack('<IHHI', total, 0, 0, pixel_offset)


def info_header(w, h, bpp, compression, n_colors=0, size=40, masks=None, image_size=0):
    hdr = struct.pack('<IiiHHIIiiII', size, w, h, 1, bpp, compression, image_size, 2835, 2835, n_colors, 0)
    if size > 40:
        m = list(masks or [0, 0, 0, 0]) + [0] * 4
        hdr += struct.pack('<IIII', *m[:4])
        hdr += b'sRGB'[::-1] + bytes(size - 40 - 16 - 4)
    return hdr


def pad_row(b):
    return b + bytes((-len(b)) % 4)


def write(name, headers, pixels, expected, written=None):
    off = 14 + len(headers)
    data = file_header(off, off + len(pixels)) + headers + pixels
    open(f'{name}.bmp', 'wb').write(data)
    Image.fromarray(expected.astype(np.uint8), 'RGB').save(f'{name}.ref.png')
    got = np.asarray(Image.open(f'{name}.bmp').convert('RGBA')).astype(int)
    rgb = got[..., :3]
    a = got[..., 3:4]
    rgb = (rgb * a + 255 * (255 - a) + 127) // 255
    tol = 1 if '16' in name else 0
    d = np.abs(rgb - expected)
    diff = (d[written] if written is not None else d).max()
    print(f'{name}.bmp: {len(data)} bytes, Pillow max diff {diff}')
    assert diff <= tol, name


def rows(img, bottom_up=True):
    return img[::-1] if bottom_up else img


# 24-bit, width 7 (row padding), bottom-up; and the same top-down.
img = rng.integers(0, 256, (5, 7, 3))
for name, up in (('rgb24', True), ('rgb24-topdown', False)):
    px = b''.join(pad_row(bytes(r[:, ::-1].astype(np.uint8).ravel())) for r in rows(img, up))
    write(name, info_header(7, 5 if up else -5, 24, 0), px, img)

# OS/2 core header, 24-bit.
px = b''.join(pad_row(bytes(r[:, ::-1].astype(np.uint8).ravel())) for r in rows(img))
write('core24', struct.pack('<IHHHH', 12, 7, 5, 1, 24), px, img)

# Palettes: 1, 4, 8 bits (fewer entries than 2^bpp for 8).
for bpp, n in ((1, 2), (4, 16), (8, 200)):
    pal = rng.integers(0, 256, (n, 3))
    idx = rng.integers(0, n, (6, 9))
    per = 8 // bpp
    def pack(r):
        out = bytearray()
        for i in range(0, len(r), per):
            v = 0
            for k in range(per):
                v = (v << bpp) | (int(r[i + k]) if i + k < len(r) else 0)
            out.append(v)
        return bytes(out)
    px = b''.join(pad_row(pack(r)) for r in rows(idx))
    palb = b''.join(bytes([b, g, r, 0]) for r, g, b in pal)
    write(f'pal{bpp}', info_header(9, 6, bpp, 0, n_colors=n) + palb, px, pal[idx])

# 16 bits: default 5-5-5, and BITFIELDS 5-6-5 (masks after a 40-byte header).
def scale(v, bits):
    m = (1 << bits) - 1
    return (v * 255 + m // 2) // m
c5 = rng.integers(0, 32, (4, 5, 3))
px = b''.join(pad_row(b''.join(struct.pack('<H', (r << 10) | (g << 5) | b) for r, g, b in row)) for row in rows(c5))
write('rgb16-555', info_header(5, 4, 16, 0), px, scale(c5, 5))
c565 = np.stack([rng.integers(0, 32, (4, 5)), rng.integers(0, 64, (4, 5)), rng.integers(0, 32, (4, 5))], -1)
px = b''.join(pad_row(b''.join(struct.pack('<H', (r << 11) | (g << 5) | b) for r, g, b in row)) for row in rows(c565))
exp = np.stack([scale(c565[..., 0], 5), scale(c565[..., 1], 6), scale(c565[..., 2], 5)], -1)
write('rgb16-565', info_header(5, 4, 16, 3) + struct.pack('<III', 0xF800, 0x07E0, 0x001F), px, exp)

# 32 bits: BI_RGB (4th byte unused, set to junk) and V5 BITFIELDS with alpha.
c = rng.integers(0, 256, (3, 4, 3))
junk = rng.integers(0, 256, (3, 4))
px = b''.join(bytes([int(b), int(g), int(r), int(j)]) for row, jr in zip(rows(c), rows(junk)) for (r, g, b), j in zip(row, jr))
write('rgbx32', info_header(4, 3, 32, 0), px, c)
alpha = rng.integers(0, 256, (3, 4))
alpha[0, 0], alpha[0, 1] = 0, 255
px = b''.join(struct.pack('<I', (int(a) << 24) | (int(r) << 16) | (int(g) << 8) | int(b))
              for row, ar in zip(rows(c), rows(alpha)) for (r, g, b), a in zip(row, ar))
exp = (c * alpha[..., None] + 255 * (255 - alpha[..., None]) + 127) // 255
write('rgba32-v5', info_header(4, 3, 32, 3, size=124, masks=[0xFF0000, 0xFF00, 0xFF, 0xFF000000]), px, exp)

# RLE8 and RLE4: runs, an odd-length literal (padded), a delta skip (those
# pixels are transparent = white), end of line, end of bitmap.
pal = rng.integers(0, 256, (16, 3))
palb = b''.join(bytes([b, g, r, 0]) for r, g, b in pal)
W, H = 10, 4
for name, bpp in (('rle8', 8), ('rle4', 4)):
    idx = np.full((H, W), -1)  # -1 = not written (white)
    stream = bytearray()
    # stored row 0 (bottom image row H-1): run of 4 x index 3, literal 3 indices, run 3 x index 5
    if bpp == 8:
        stream += bytes([4, 3, 0, 3, 7, 8, 9, 0, 3, 5, 0, 0])
        idx[H - 1] = [3, 3, 3, 3, 7, 8, 9, 5, 5, 5]
    else:
        # run of 4 alternating 1,2; literal 4 indices 7,8,9,10; run 2 of 5,6
        stream += bytes([4, 0x12, 0, 4, 0x78, 0x9A, 2, 0x56, 0, 0])
        idx[H - 1] = [1, 2, 1, 2, 7, 8, 9, 10, 5, 6]
    # stored row 1: 2 pixels then a delta of (3 right, 1 up), then 2 pixels on stored row 2
    stream += bytes([2, 0x44 if bpp == 4 else 4, 0, 2, 3, 1, 2, 0x11 if bpp == 4 else 1, 0, 0])
    idx[H - 2, 0:2] = 4
    idx[H - 3, 5:7] = 1
    # stored row 3: (RLE4) an odd literal of 5 indices in 3 bytes + 1 pad
    # byte, then a run to the end of the row; end of bitmap
    if bpp == 4:
        stream += bytes([0, 5, 0xBC, 0xDE, 0xF0, 0, W - 5, 0x22, 0, 1])
        idx[H - 4] = [11, 12, 13, 14, 15, 2, 2, 2, 2, 2]
    else:
        stream += bytes([W, 2, 0, 1])
        idx[H - 4] = 2
    exp = np.where(idx[..., None] >= 0, pal[np.maximum(idx, 0)], 255)
    before_delta = idx >= 0
    before_delta[:H - 2] = False
    write(name, info_header(W, H, bpp, 1 if bpp == 8 else 2, n_colors=16) + palb, bytes(stream), exp, before_delta)

# Files to refuse with a clear message.
def raw(name, data):
    open(f'{name}.bmp', 'wb').write(data)
    print(f'{name}.bmp: {len(data)} bytes (must be refused)')
good = open('rgb24.bmp', 'rb').read()
raw('bad-truncated', good[:len(good) - 20])
raw('bad-jpeg', file_header(54, 64) + info_header(2, 2, 24, 4) + bytes(10))
raw('bad-bpp2', file_header(54 + 16, 80) + info_header(2, 2, 2, 0) + bytes(26))
raw('bad-size', file_header(54, 70) + info_header(0, 2, 24, 0) + bytes(16))
