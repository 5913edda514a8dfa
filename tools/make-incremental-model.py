#!/usr/bin/python3
"""Makes tests/data/engine/incremental_resnet.onnx for
tests/engine/test-incremental.c: a small ResNet (torchvision's BasicBlock)
with every geometry the incremental forward follows: a 7x7 stride-2 stem
with padding 3, BatchNorm (folded into the convs at load), MaxPool 3x3
stride 2 with padding, a stride-1 residual block, a stride-2 block with a
1x1 stride-2 downsampling conv, a dilated 3x3 conv, a 1x3 / 3x1 pair with
asymmetric padding, a padded AveragePool (count_include_pad), then global
pooling and a Linear layer (computed in full). Random weights, seed 0.

Usage: /usr/bin/python3 tools/make-incremental-model.py  (python3-torch 1.13,
python3-torchvision)
"""
import os

import torch
import torch.nn as nn
from torchvision.models.resnet import BasicBlock

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


class IncrementalResNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, 8, 7, 2, 3, bias=False),
                                  nn.BatchNorm2d(8), nn.ReLU(),
                                  nn.MaxPool2d(3, 2, 1))
        down = nn.Sequential(nn.Conv2d(8, 16, 1, 2, bias=False), nn.BatchNorm2d(16))
        self.blocks = nn.Sequential(BasicBlock(8, 8), BasicBlock(8, 16, 2, down))
        self.dilated = nn.Sequential(nn.Conv2d(16, 16, 3, 1, 2, dilation=2), nn.ReLU())
        self.rows = nn.Conv2d(16, 16, (1, 3), 1, (0, 1))
        self.cols = nn.Conv2d(16, 16, (3, 1), 1, (1, 0))
        self.pool = nn.AvgPool2d(3, 2, 1, count_include_pad=True)
        self.fc = nn.Linear(16, 10)

    def forward(self, x):
        x = self.dilated(self.blocks(self.stem(x)))
        x = self.pool(torch.relu(self.cols(self.rows(x))) + x)
        return self.fc(x.mean([2, 3]))


def main():
    torch.manual_seed(0)
    model = IncrementalResNet().eval()
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, nn.BatchNorm2d):
                m.running_mean.uniform_(-0.5, 0.5)
                m.running_var.uniform_(0.5, 1.5)
                m.weight.uniform_(0.5, 1.5)
                m.bias.uniform_(-0.5, 0.5)
    x = torch.randn(1, 3, 72, 60)
    path = os.path.join(ROOT, "tests", "data", "engine", "incremental_resnet.onnx")
    torch.onnx.export(model, x, path, opset_version=13, input_names=["input"],
                      output_names=["logits"], do_constant_folding=True,
                      dynamic_axes={"input": {0: "batch"}, "logits": {0: "batch"}})
    print("wrote", path, os.path.getsize(path), "bytes")


if __name__ == "__main__":
    main()
