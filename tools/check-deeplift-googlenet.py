#!/usr/bin/env python3
"""DeepLift on torchvision's GoogLeNet: Captum 0.7 against Heatlens.

Not a test (the model is ~27 MB and random): it writes, into OUT_DIR,
googlenet.onnx (torchvision.models.googlenet(weights=None,
init_weights=True, aux_logits=False), eval, seed 0; with --kaiming its
Conv and Linear weights drawn again with He's normal init), input.npy,
baseline_random.npy and Captum 0.7's DeepLift for target 7 with the zero
and the random baseline (captum_{zeros,random}.npy), then runs
heatlens-cli explain --raw on the ONNX export and prints the relative L2
of each. torchvision's BasicConv2d calls F.relu, which Captum's DeepLift
does not hook; the Captum side runs a copy whose BasicConv2d uses an
nn.ReLU module (same weights), as the ONNX graph's Relu nodes are treated.

    PYTHONPATH=/path/to/captum-0.7 /usr/bin/python3 \\
        tools/check-deeplift-googlenet.py build/src/cli/heatlens-cli OUT_DIR \\
        [--kaiming]
"""
import os
import subprocess
import sys

import numpy as np
import torch
import torch.nn as nn
import torchvision
from captum.attr import DeepLift


def relu_module_forward(self, x):
    return self.relu_m(self.bn(self.conv(x)))


def main():
    cli, out = sys.argv[1], sys.argv[2]
    kaiming = "--kaiming" in sys.argv[3:]
    os.makedirs(out, exist_ok=True)
    torch.manual_seed(0)
    model = torchvision.models.googlenet(weights=None, init_weights=True,
                                         aux_logits=False).eval()
    if kaiming:
        # init_weights' truncated normal (std 0.01) shrinks the signal
        # layer by layer to ~1e-16 at the logits, where DeepLift's
        # |x - x_ref| < 1e-10 test decides most positions; He's init keeps
        # the activations of order 1
        for mod in model.modules():
            if isinstance(mod, (nn.Conv2d, nn.Linear)):
                nn.init.kaiming_normal_(mod.weight, nonlinearity="relu")
    rng = np.random.default_rng(0)
    x = rng.normal(0, 1, (1, 3, 224, 224)).astype(np.float32)
    rnd = rng.normal(0, 1, (1, 3, 224, 224)).astype(np.float32)
    np.save(os.path.join(out, "input.npy"), x)
    np.save(os.path.join(out, "baseline_random.npy"), rnd)
    onnx_path = os.path.join(out, "googlenet.onnx")
    torch.onnx.export(model, torch.from_numpy(x), onnx_path,
                      opset_version=13, input_names=["input"],
                      output_names=["logits"])
    for mod in model.modules():
        if type(mod).__name__ == "BasicConv2d":
            mod.relu_m = nn.ReLU()
            mod.forward = relu_module_forward.__get__(mod)
    target = 7
    for name, b in (("zeros", np.zeros_like(x)), ("random", rnd)):
        a = DeepLift(model).attribute(torch.from_numpy(x),
                                      torch.from_numpy(b), target=target)
        want = a.detach().numpy().astype(np.float32)
        np.save(os.path.join(out, "captum_%s.npy" % name), want)
        got_path = os.path.join(out, "heatlens_%s.npy" % name)
        base = "zero" if name == "zeros" else os.path.join(
            out, "baseline_random.npy")
        subprocess.run([cli, "explain", "--model", onnx_path, "--input-npy",
                        os.path.join(out, "input.npy"), "--method",
                        "deep_lift", "--target", str(target), "--baseline",
                        base, "--raw", got_path], check=True,
                       stdout=subprocess.DEVNULL)
        got = np.load(got_path).reshape(want.shape)
        rel = np.linalg.norm(got - want) / np.linalg.norm(want)
        print("googlenet deep_lift %s baseline: relative L2 %.3g"
              % (name, rel))


if __name__ == "__main__":
    main()
