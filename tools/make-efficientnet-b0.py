#!/usr/bin/python3
"""EfficientNet-B0 (torchvision, random seeded weights) and Captum 0.7.0's
DeepLift on its torch module, for the SiLU check of docs/trust.md.

Usage: PYTHONPATH=<captum v0.7.0 checkout> /usr/bin/python3 \\
           tools/make-efficientnet-b0.py [OUT_DIR]   (default bench/models)
Writes efficientnet_b0.onnx (~21 MB, opset 13, free batch; torch.onnx
writes each nn.SiLU as Sigmoid x Mul), efficientnet_b0.input.npy (a seeded
N(0,1) [1,3,224,224] input) and efficientnet_b0.deeplift.npy (Captum's
DeepLift, zero baseline, target = the top logit, which it prints with
F(x) - F(0) and Captum's convergence delta). Not committed (bench/models/
is git-ignored); the weights are random (He fan-in init, so that the
logits do not vanish), good for the check, not for predictions.
"""
import os
import sys

import numpy as np
import torch
import torchvision
from captum.attr import DeepLift


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "..", "bench", "models")
    out = os.path.normpath(out)
    os.makedirs(out, exist_ok=True)
    torch.manual_seed(0)
    model = torchvision.models.efficientnet_b0(weights=None).eval()
    # torchvision's init (kaiming fan_out) makes the random network's
    # logits vanish (F(x) - F(0) ~ 1e-14); fan_in keeps them O(1)
    with torch.no_grad():
        for mod in model.modules():
            if isinstance(mod, torch.nn.Conv2d):
                torch.nn.init.kaiming_normal_(mod.weight, mode="fan_in")
            elif isinstance(mod, torch.nn.Linear):
                torch.nn.init.normal_(mod.weight, std=mod.in_features ** -0.5)
    x = torch.randn(1, 3, 224, 224)
    path = os.path.join(out, "efficientnet_b0.onnx")
    torch.onnx.export(model, x, path + ".tmp", opset_version=13,
                      input_names=["input"], output_names=["logits"],
                      dynamic_axes={"input": {0: "batch"},
                                    "logits": {0: "batch"}})
    os.replace(path + ".tmp", path)
    np.save(os.path.join(out, "efficientnet_b0.input.npy"), x.numpy())
    with torch.no_grad():
        fx = model(x)[0]
        f0 = model(torch.zeros_like(x))[0]
    target = int(fx.argmax())
    a, delta = DeepLift(model).attribute(x, torch.zeros_like(x), target=target,
                                         return_convergence_delta=True)
    np.save(os.path.join(out, "efficientnet_b0.deeplift.npy"),
            a.detach().numpy().astype(np.float32))
    print("target", target, "F(x) - F(0) %.6g" % float(fx[target] - f0[target]),
          "Captum delta %.6g" % float(delta[0]))


if __name__ == "__main__":
    main()
