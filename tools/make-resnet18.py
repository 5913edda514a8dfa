#!/usr/bin/python3
"""Write a ResNet-18 ONNX with random (seeded) weights for the engine benchmark.

Usage: /usr/bin/python3 tools/make-resnet18.py [OUT.onnx]   (default bench/models/resnet18.onnx)

Needs Debian's python3-torch and python3-torchvision. The weights are random,
so the file is only good for timing, never for predictions; it is ~45 MB and
is not committed (bench/models/ is git-ignored).
The model is exported in eval mode with a free batch dimension, opset 13.
"""
import os
import sys

import torch
import torchvision


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "..", "bench", "models", "resnet18.onnx")
    out = os.path.normpath(out)
    os.makedirs(os.path.dirname(out) or ".", exist_ok=True)
    torch.manual_seed(0)
    model = torchvision.models.resnet18(weights=None).eval()
    x = torch.randn(1, 3, 224, 224)
    tmp = out + ".tmp"
    torch.onnx.export(model, x, tmp, opset_version=13,
                      input_names=["input"], output_names=["logits"],
                      dynamic_axes={"input": {0: "batch"}, "logits": {0: "batch"}})
    os.replace(tmp, out)
    print(out)


if __name__ == "__main__":
    main()
