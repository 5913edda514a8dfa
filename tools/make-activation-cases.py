#!/usr/bin/env python3
"""Captum 0.7.0 references for activations exported as small graphs.

torch.onnx.export writes nn.SiLU as Sigmoid x Mul, nn.GELU as an Erf (or
Tanh) composition, nn.Hardswish (before opset 14) as HardSigmoid x Mul and
nn.Mish as Softplus/Tanh/Mul; Heatlens fuses each back into one activation
at load (src/engine/fuse_activations.c). This writes, for one tiny CNN per
activation, the exported model and Captum's DeepLift and GuidedBackprop on
the torch module (Captum hooks none of these modules: plain gradient
through them), for tests/attr/test-activation-patterns.c.

Run with PyTorch 1.13 and Captum 0.7.0 importable (PYTHONPATH pointing at a
checkout of github.com/pytorch/captum at tag v0.7.0; its llm_attr module
imports matplotlib):
    python3 tools/make-activation-cases.py [OUT_DIR]
OUT_DIR defaults to tests/data/captum/activations. Writes <name>.onnx,
input.npy, baseline_random.npy and <name>_{deeplift_zeros,deeplift_random,
guided_backprop}.npy (float32, Captum's outputs, target 2).
"""
import os
import sys

import numpy as np
import onnx
import torch
import torch.nn as nn
import torch.nn.functional as F
from captum.attr import DeepLift, GuidedBackprop


class HardswishByHand(nn.Module):
    """x * relu6(x + 3) / 6, the form Keras and hand-written code export."""

    def forward(self, x):
        return x * F.relu6(x + 3) / 6


class Net(nn.Module):
    def __init__(self, make_act):
        super().__init__()
        self.c1 = nn.Conv2d(3, 6, 3, padding=1)
        self.a1 = make_act()
        self.c2 = nn.Conv2d(6, 8, 3, stride=2, padding=1)
        self.a2 = make_act()
        self.fc = nn.Linear(8, 5)

    def forward(self, x):
        x = self.a2(self.c2(self.a1(self.c1(x))))
        return self.fc(x.mean((2, 3)))


CASES = [
    ("silu", nn.SiLU, 13, "Swish"),
    ("gelu", nn.GELU, 13, "Gelu"),
    ("gelu_tanh", lambda: nn.GELU(approximate="tanh"), 13, "Gelu"),
    ("hardswish", nn.Hardswish, 13, "HardSwish"),
    ("hardswish_hand", HardswishByHand, 13, "HardSwish"),
    ("mish", nn.Mish, 13, "Mish"),
]


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else "tests/data/captum/activations"
    os.makedirs(out, exist_ok=True)
    rng = np.random.default_rng(11)
    x = rng.uniform(-1, 1, (1, 3, 10, 10)).astype(np.float32)
    base = rng.uniform(-1, 1, (1, 3, 10, 10)).astype(np.float32)
    np.save(os.path.join(out, "input.npy"), x)
    np.save(os.path.join(out, "baseline_random.npy"), base)
    for i, (name, make_act, opset, fused) in enumerate(CASES):
        torch.manual_seed(100 + i)
        model = Net(make_act).eval()
        # larger first-layer weights put the activations' inputs over
        # their curved range (about -4..4), not only near 0
        with torch.no_grad():
            model.c1.weight.mul_(4.0)
            model.c2.weight.mul_(3.0)
        path = os.path.join(out, name + ".onnx")
        torch.onnx.export(model, torch.from_numpy(x), path,
                          opset_version=opset, input_names=["input"],
                          output_names=["logits"],
                          dynamic_axes={"input": {0: "batch"},
                                        "logits": {0: "batch"}})
        ops = [n.op_type for n in onnx.load(path).graph.node]
        assert fused not in ops, (name, ops)  # exported as a small graph
        xt = torch.from_numpy(x)
        for bname, b in (("zeros", np.zeros_like(x)), ("random", base)):
            a, delta = DeepLift(model).attribute(
                xt, torch.from_numpy(b), target=2,
                return_convergence_delta=True)
            np.save(os.path.join(out, "%s_deeplift_%s.npy" % (name, bname)),
                    a.detach().numpy().astype(np.float32))
            print(name, bname, "Captum delta %.3g" % float(delta[0]))
        g = GuidedBackprop(model).attribute(xt, target=2)
        np.save(os.path.join(out, name + "_guided_backprop.npy"),
                g.detach().numpy().astype(np.float32))
        print(name, ops)


if __name__ == "__main__":
    main()
