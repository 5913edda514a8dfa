#!/usr/bin/env python3
"""Captum 0.7.0 LayerFeatureAblation references with a layer_mask.

Run with PyTorch and Captum 0.7.0 importable (PYTHONPATH pointing at a
checkout of github.com/pytorch/captum at tag v0.7.0), from this folder:
    PYTHONPATH=/tmp/captum07 /usr/bin/python3 make_cases.py
Rebuilds the round-2 'tinycnn' case (../tinycnn/model.onnx, its input,
target 1, layer conv2's output) as a torch module with the ONNX weights,
checks it against Captum's own round-2 output for the default layer_mask
(../round2/tinycnn/layer_feature_ablation.npy), then writes (float32):

- tinycnn_channels.npy: layer_mask = arange(32).reshape(1, 32, 1, 1)
  (each channel's units ablated together; Heatlens --layer-mask channels);
- layer_mask_blocks.npy (int64 [1, 1, 16, 16]): 4x4 blocks of the plane,
  ids 0..15, the same for every channel; tinycnn_blocks.npy its output
  (Heatlens --layer-mask layer_mask_blocks.npy).
No Captum code is copied; Captum is only called.
"""
import os

import numpy as np
import onnx
import torch
import torch.nn as nn
from onnx import numpy_helper
from captum.attr import LayerFeatureAblation

HERE = os.path.dirname(os.path.abspath(__file__))
CASE = os.path.join(HERE, "..", "tinycnn")
ROUND2 = os.path.join(HERE, "..", "round2", "tinycnn")


class TinyCnn(nn.Module):
    """Conv 3->16 -> ReLU -> MaxPool 2 -> Conv 16->32 -> ReLU -> mean -> Linear."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 16, 3, padding=1)
        self.relu1 = nn.ReLU()
        self.pool = nn.MaxPool2d(2, 2)
        self.conv2 = nn.Conv2d(16, 32, 3, padding=1)
        self.relu2 = nn.ReLU()
        self.fc = nn.Linear(32, 10)

    def forward(self, x):
        x = self.conv2(self.pool(self.relu1(self.conv1(x))))
        x = self.relu2(x).mean((2, 3))
        return self.fc(x)


def load():
    m = TinyCnn().eval()
    weights = {i.name: numpy_helper.to_array(i)
               for i in onnx.load(os.path.join(CASE, "model.onnx")).graph.initializer}
    m.load_state_dict({k: torch.from_numpy(v.copy()) for k, v in weights.items()})
    return m


def rel_l2(a, b):
    return float(np.linalg.norm(a - b) / np.linalg.norm(b))


def main():
    torch.manual_seed(0)
    model = load()
    x = torch.from_numpy(np.load(os.path.join(CASE, "input.npy")))
    target = 1
    lfa = LayerFeatureAblation(model, model.conv2)
    with torch.no_grad():
        units = lfa.attribute(x, target=target).numpy()
    ref = np.load(os.path.join(ROUND2, "layer_feature_ablation.npy"))
    err = rel_l2(units, ref)
    print("rebuilt model vs round-2 Captum output (units): rel L2 %.3g" % err)
    assert err < 1e-4, "the torch rebuild does not match the ONNX model"

    channels = torch.arange(32).reshape(1, 32, 1, 1)
    with torch.no_grad():
        a = lfa.attribute(x, target=target, layer_mask=channels).numpy()
    np.save(os.path.join(HERE, "tinycnn_channels.npy"), a.astype(np.float32))

    yy, xx = np.meshgrid(np.arange(16), np.arange(16), indexing="ij")
    blocks = ((yy // 4) * 4 + xx // 4).astype(np.int64).reshape(1, 1, 16, 16)
    np.save(os.path.join(HERE, "layer_mask_blocks.npy"), blocks)
    with torch.no_grad():
        b = lfa.attribute(x, target=target,
                          layer_mask=torch.from_numpy(blocks)).numpy()
    np.save(os.path.join(HERE, "tinycnn_blocks.npy"), b.astype(np.float32))
    print("channels: shape %s sum %.6g; blocks: sum %.6g" % (a.shape, a.sum(), b.sum()))


if __name__ == "__main__":
    main()
