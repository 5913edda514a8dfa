#!/usr/bin/python3
"""The test models of the library's shared policy (tests/attr/test-policy.c,
tests/cli/test-cli-library.c), written to tests/data/policy/:

  tiny_resnet.onnx          ResNet-18's topology (torchvision BasicBlock,
                            [2,2,2,2] blocks, stem conv 7x7/2 + max pool,
                            skip-path downsample convs) at widths 4..8, input
                            [1,3,224,224], 10 classes: stage resolutions
                            56, 28, 14, 7 as in ResNet-18, so the default
                            layer must be /layer3/layer3.1/relu_1/Relu.
  tiny_resnet_softmax.onnx  the same weights with a final Softmax;
  tiny_resnet_logsoftmax.onnx  ... with a final LogSoftmax.

Usage: /usr/bin/python3 tools/make-policy-models.py (Debian python3-torch,
python3-torchvision, python3-onnx); random weights from seed 11.
"""
import os

import torch
import torch.nn as nn
from torchvision.models.resnet import BasicBlock

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..",
                   "tests", "data", "policy")


def layer(inplanes, planes, stride):
    down = None
    if stride != 1 or inplanes != planes:
        down = nn.Sequential(nn.Conv2d(inplanes, planes, 1, stride, bias=False),
                             nn.BatchNorm2d(planes))
    return nn.Sequential(BasicBlock(inplanes, planes, stride, down),
                         BasicBlock(planes, planes))


class TinyResNet(nn.Module):
    def __init__(self, head=None):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 4, 7, 2, 3, bias=False)
        self.bn1 = nn.BatchNorm2d(4)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(3, 2, 1)
        self.layer1 = layer(4, 4, 1)
        self.layer2 = layer(4, 6, 2)
        self.layer3 = layer(6, 8, 2)
        self.layer4 = layer(8, 8, 2)
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(8, 10)
        self.head = head

    def forward(self, x):
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        x = self.fc(torch.flatten(self.avgpool(x), 1))
        return self.head(x) if self.head is not None else x


def main():
    torch.manual_seed(11)
    net = TinyResNet().eval()
    for m in net.modules():   # non-trivial BatchNorm statistics
        if isinstance(m, nn.BatchNorm2d):
            m.running_mean.uniform_(-0.2, 0.2)
            m.running_var.uniform_(0.5, 1.5)
    x = torch.randn(1, 3, 224, 224)
    for name, head in [("tiny_resnet", None),
                       ("tiny_resnet_softmax", nn.Softmax(dim=1)),
                       ("tiny_resnet_logsoftmax", nn.LogSoftmax(dim=1))]:
        net.head = head
        torch.onnx.export(net, x, os.path.join(OUT, name + ".onnx"),
                          opset_version=13, input_names=["input"],
                          output_names=["output"])


if __name__ == "__main__":
    main()
