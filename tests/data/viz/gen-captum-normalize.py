#!/usr/bin/python3
"""Reference outputs of Captum's image-attribution normalisation, computed
with NumPy in float32 as captum/attr/_utils/visualization.py does
(_normalize_attr / _cumulative_sum_threshold / _normalize_scale as in
Captum's main branch, BSD-3-Clause), on a fixed pseudo-random attribution.

Run: /usr/bin/python3 tests/data/viz/gen-captum-normalize.py
Writes captum-normalize.bin (see README.md for the layout), with the
heat_map colours matplotlib gives each normalised value.
"""
import os
import struct

import numpy as np

C, H, W = 3, 32, 32
rng = np.random.default_rng(20240607)
attr = rng.standard_t(df=2, size=(C, H, W)).astype(np.float32) * 0.01
# ties: quantise one block, zero another
attr[:, :8, :8] = np.round(attr[:, :8, :8] * 200) / 200
attr[:, 8:12, :] = 0
hwc = np.transpose(attr, (1, 2, 0))  # Captum takes channel-last


def csum_threshold(values, percentile):
    s = np.sort(values.flatten())
    c = np.cumsum(s)
    i = np.where(c >= c[-1] * 0.01 * percentile)[0][0]
    return s[i]


def normalise(a, sign, outlier):
    comb = np.sum(a, axis=2)
    if sign == "all":
        t = csum_threshold(np.abs(comb), 100.0 - outlier)
    elif sign == "positive":
        comb = (comb > 0) * comb
        t = csum_threshold(comb, 100.0 - outlier)
    elif sign == "negative":
        comb = (comb < 0) * comb
        t = -1 * csum_threshold(np.abs(comb), 100.0 - outlier)
    else:
        comb = np.abs(comb)
        t = csum_threshold(comb, 100.0 - outlier)
    return np.clip(comb / t, -1, 1).astype(np.float32), float(t)


import matplotlib
from matplotlib import colors

cmaps = {  # Captum's _initialize_cmap_and_vmin_vmax
    "all": (colors.LinearSegmentedColormap.from_list(
        "RdWhGn", ["red", "white", "green"]), -1, 1),
    "positive": (matplotlib.colormaps["Greens"], 0, 1),
    "negative": (matplotlib.colormaps["Reds"], 0, 1),
    "absolute_value": (matplotlib.colormaps["Blues"], 0, 1),
}


def heat_map_rgb(norm, sign):
    """What imshow(norm, cmap, vmin, vmax) colours each cell with."""
    cmap, vmin, vmax = cmaps[sign]
    scaled = colors.Normalize(vmin=vmin, vmax=vmax)(norm)
    return cmap(scaled, bytes=True)[..., :3].astype(np.uint8)


signs = ["absolute_value", "positive", "negative", "all"]
outliers = [0, 2, 10, 50]
out = bytearray()
out += struct.pack("<4i", C, H, W, len(signs) * len(outliers))
out += attr.astype("<f4").tobytes()
for si, sign in enumerate(signs):
    for o in outliers:
        norm, t = normalise(hwc, sign, o)
        out += struct.pack("<iff", si, float(o), t)
        out += norm.astype("<f4").tobytes()
        out += heat_map_rgb(norm, sign).tobytes()
path = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                    "captum-normalize.bin")
with open(path, "wb") as f:
    f.write(out)
print("wrote", path, len(out), "bytes, numpy", np.__version__)
