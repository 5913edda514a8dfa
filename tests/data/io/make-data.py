#!/usr/bin/python3
"""Regenerates the small test files of tests/io (run from this folder with
Debian's python3 + numpy; the JPEG/PNG pairs need ImageMagick's convert).
The C tests recompute the expected values from the same formulas."""
import subprocess
import numpy as np
from numpy.lib import format as npf


def save(name, arr, version=None):
    with open(name, 'wb') as f:
        npf.write_array(f, arr, version=version)


a = (np.arange(6, dtype=np.float32).reshape(2, 3) * 0.5 - 1)
save('f4-2x3.npy', a)                                   # v1.0
save('f8-2x3x4.npy', np.arange(24, dtype=np.float64).reshape(2, 3, 4) / 7)
save('i4-5.npy', np.array([-3, -1, 0, 7, 100000], dtype='<i4'))
save('i8-2x2.npy', np.array([[1, -2], [3, 1 << 40]], dtype='<i8'))
save('u1-3x2.npy', np.array([[0, 1], [128, 200], [254, 255]], dtype=np.uint8))
save('b1-4.npy', np.array([True, False, False, True]))
save('scalar-f4.npy', np.array(2.5, dtype=np.float32))
save('empty-0x3.npy', np.zeros((0, 3), dtype=np.float32))
save('f4-v2.npy', a, version=(2, 0))
save('f4-v3.npy', a, version=(3, 0))
save('fortran-f4.npy', np.asfortranarray(np.arange(6, dtype=np.float32)
                                         .reshape(2, 3)))
save('be-f4.npy', np.arange(4, dtype='>f4'))
save('c8-2.npy', np.array([1 + 2j, 3], dtype=np.complex64))

# JPEG decoding references: a photo (colour, greyscale, progressive,
# Adobe CMYK) and ImageMagick's own decoding of each as PNG.
src = '../../../data/samples/owl.jpg'
jobs = [('owl-rgb.jpg', ['-resize', '128x96!', '-quality', '90']),
        ('owl-grey.jpg', ['-resize', '128x96!', '-colorspace', 'Gray',
                          '-quality', '90']),
        ('owl-progressive.jpg', ['-resize', '128x96!', '-interlace', 'JPEG',
                                 '-quality', '90']),
        ('owl-cmyk.jpg', ['-resize', '128x96!', '-colorspace', 'CMYK',
                          '-quality', '95'])]
for name, args in jobs:
    subprocess.run(['convert', src, '-strip'] + args + [name], check=True)
    subprocess.run(['convert', name, '-strip', '-define',
                    'png:exclude-chunks=date,time', '-colorspace', 'sRGB', '-type',
                    'TrueColor', 'PNG24:' + name[:-4] + '.ref.png'],
                   check=True)

# Reference logits of the bundled model for every sample photo, from the
# float numpy interpreter of tools/tflite2onnx.py (same preprocessing as
# its --predict).
import os
import sys
sys.path.insert(0, '../../../tools')
import onnx                     # noqa: E402
import tflite2onnx as t2o       # noqa: E402
model = onnx.load('../../../data/models/mobilenet_v2.onnx')
meta = {p.key: p.value for p in model.metadata_props}
scale = float(meta['heatlens.scale'])
mean = float(meta['heatlens.mean'].split(',')[0])
for path in t2o.sample_files([]):
    pix = t2o.preprocess_pixels(t2o.read_image(path))
    x = (pix * scale - mean).transpose(2, 0, 1)[None]
    logits = t2o.onnx_run(model, x).reshape(-1).astype(np.float32)
    stem = os.path.splitext(os.path.basename(path))[0]
    save('logits-%s.npy' % stem, logits)
    print(stem, int(logits.argmax()))

# Two tiny classifiers for the metadata tests (Conv 3->2 over the whole
# 32x24 input + Reshape): one without metadata (torchvision defaults), one
# with heatlens.* metadata.
from onnx import TensorProto, helper, numpy_helper  # noqa: E402


def tiny(name, meta, h=24, w=32):
    wgt = numpy_helper.from_array(
        (np.arange(2 * 3 * h * w, dtype=np.float32).reshape(2, 3, h, w)
         % 7 - 3) / 100, 'w')
    shape = numpy_helper.from_array(np.array([-1, 2], np.int64), 'shape')
    g = helper.make_graph(
        [helper.make_node('Conv', ['input', 'w'], ['conv'],
                          kernel_shape=[h, w]),
         helper.make_node('Reshape', ['conv', 'shape'], ['logits'])],
        'tiny', [helper.make_tensor_value_info('input', TensorProto.FLOAT,
                                               ['N', 3, h, w])],
        [helper.make_tensor_value_info('logits', TensorProto.FLOAT,
                                       ['N', 2])],
        initializer=[wgt, shape])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid('', 13)])
    m.ir_version = 7
    for k, v in meta.items():
        p = m.metadata_props.add()
        p.key, p.value = k, v
    onnx.checker.check_model(m)
    onnx.save(m, name)


tiny('tiny-plain.onnx', {})
tiny('tiny-meta.onnx', {'heatlens.resize': 'shorter:40',
                        'heatlens.mean': '0.5', 'heatlens.std': '0.25,0.5,1',
                        'heatlens.scale': '1/255',
                        'heatlens.channel_order': 'bgr',
                        'heatlens.labels': 'left\nright'})
tiny('tiny-badmeta.onnx', {'heatlens.std': '0.2,0'})
