#!/usr/bin/python3
"""Writes the small synthetic photos of corpus/image/ (Debian's python3-pil,
ImageMagick's convert for the interlaced PNG).

Every PNG colour type and bit depth libpng hands us (grey, grey+alpha,
palette with tRNS, RGB, RGBA, 16-bit, Adam7 interlaced) and the JPEG
variants libjpeg-turbo decodes (baseline 4:2:0 and 4:4:4, progressive,
greyscale, CMYK, restart intervals, EXIF orientation), all 24x16 or so,
from a formula so the files need no credit."""
import os
import subprocess

import numpy

from PIL import Image

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus", "image")
W, H = 24, 16


def rgb():
    img = Image.new("RGB", (W, H))
    img.putdata([((x * 11) % 256, (y * 16) % 256, ((x + y) * 7) % 256)
                 for y in range(H) for x in range(W)])
    return img


def save(img, name, **kw):
    img.save(os.path.join(OUT, name), **kw)


def exif_orientation(value):
    exif = Image.Exif()
    exif[0x0112] = value
    return exif.tobytes()


def main():
    os.makedirs(OUT, exist_ok=True)
    base = rgb()
    save(base, "rgb.png")
    # PIL cannot write Adam7: ImageMagick can
    subprocess.run(["convert", os.path.join(OUT, "rgb.png"), "-interlace", "PNG",
                    os.path.join(OUT, "rgb-interlaced.png")], check=True)
    save(base.convert("L"), "grey.png")
    save(base.convert("1"), "grey-1bit.png")
    save(base.convert("LA"), "grey-alpha.png")
    rgba = base.copy()
    rgba.putalpha(Image.linear_gradient("L").resize((W, H)))
    save(rgba, "rgba.png")
    pal = base.convert("P", palette=Image.ADAPTIVE, colors=16)
    save(pal, "palette-trns.png", transparency=3)
    ramp = numpy.arange(W * H, dtype=numpy.uint16).reshape(H, W) * 170
    save(Image.fromarray(ramp), "grey-16bit.png")
    save(base, "baseline-420.jpg", quality=80)
    save(base, "baseline-444.jpg", quality=90, subsampling=0)
    save(base, "progressive.jpg", quality=75, progressive=True)
    save(base.convert("L"), "grey.jpg", quality=75)
    save(base.convert("CMYK"), "cmyk.jpg", quality=75)
    save(base, "restart.jpg", quality=75, restart_marker_blocks=1)
    for o in (3, 6, 8):
        save(base, "exif-orientation-%d.jpg" % o, quality=60,
             exif=exif_orientation(o))


if __name__ == "__main__":
    main()
