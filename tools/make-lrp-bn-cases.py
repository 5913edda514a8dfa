#!/usr/bin/env python3
"""Captum 0.7.0 LRP references for a Conv followed by a BatchNorm2d, which
Heatlens folds into one Conv at load (src/engine/fold_bn.c) while Captum
applies one rule to the Conv and another to the BatchNorm.

Run with PyTorch 1.13 and Captum 0.7.0 importable (PYTHONPATH pointing at a
checkout of github.com/pytorch/captum at tag v0.7.0):
    python3 tools/make-lrp-bn-cases.py [OUT_DIR]
OUT_DIR defaults to tests/data/captum/lrp_bn. Writes model.onnx (exported
with the BatchNormalization nodes kept, TrainingMode.PRESERVE in eval
mode), input.npy and lrp_<case>.npy (float32, Captum's LRP, target 2):
  epsilon: Captum's defaults (epsilon 1e-9 everywhere);
  gamma:   GammaRule(0.25) on both Convs, the rest default;
  zplus:   Alpha1_Beta0_Rule on both Convs, the rest default;
  bn_gamma: GammaRule(0.25) on both Convs and on both BatchNorms.
The BatchNorms have random running statistics and some negative weights
(gamma), so the folded scale s = gamma / sqrt(var + eps) is negative on
some channels: the case where the gamma/z+ rule on folded weights differs
from Captum's.
"""
import os
import sys

import numpy as np
import torch
import torch.nn as nn
from captum.attr import LRP
from captum.attr._utils.lrp_rules import Alpha1_Beta0_Rule, GammaRule


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.c1 = nn.Conv2d(3, 6, 3, padding=1)
        self.bn1 = nn.BatchNorm2d(6)
        self.r1 = nn.ReLU()
        self.c2 = nn.Conv2d(6, 8, 3, stride=2, padding=1)
        self.bn2 = nn.BatchNorm2d(8)
        self.r2 = nn.ReLU()
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(8, 5)

    def forward(self, x):
        x = self.r1(self.bn1(self.c1(x)))
        x = self.r2(self.bn2(self.c2(x)))
        return self.fc(torch.flatten(self.pool(x), 1))


def make_model():
    torch.manual_seed(21)
    m = Net()
    with torch.no_grad():
        for bn in (m.bn1, m.bn2):
            c = bn.num_features
            bn.weight.copy_(torch.linspace(-0.8, 1.5, c))
            bn.bias.uniform_(-0.3, 0.3)
            bn.running_mean.uniform_(-0.2, 0.2)
            bn.running_var.uniform_(0.5, 2.0)
    return m.eval()


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else "tests/data/captum/lrp_bn"
    os.makedirs(out, exist_ok=True)
    rng = np.random.default_rng(5)
    x = rng.uniform(0, 1, (1, 3, 10, 10)).astype(np.float32)
    np.save(os.path.join(out, "input.npy"), x)
    model = make_model()
    torch.onnx.export(model, torch.from_numpy(x),
                      os.path.join(out, "model.onnx"), opset_version=13,
                      input_names=["input"], output_names=["logits"],
                      training=torch.onnx.TrainingMode.PRESERVE,
                      do_constant_folding=False)
    cases = {
        "epsilon": {},
        "gamma": {"c1": GammaRule, "c2": GammaRule},
        "zplus": {"c1": Alpha1_Beta0_Rule, "c2": Alpha1_Beta0_Rule},
        "bn_gamma": {"c1": GammaRule, "c2": GammaRule, "bn1": GammaRule,
                     "bn2": GammaRule},
    }
    for name, rules in cases.items():
        model = make_model()
        for layer, rule in rules.items():
            getattr(model, layer).rule = (rule(gamma=0.25) if rule is GammaRule
                                          else rule())
        a = LRP(model).attribute(torch.from_numpy(x), target=2)
        np.save(os.path.join(out, "lrp_%s.npy" % name),
                a.detach().numpy().astype(np.float32))
        print(name, float(a.sum()))


if __name__ == "__main__":
    main()
