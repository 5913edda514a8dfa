#!/usr/bin/env python3
"""Captum 0.7.0 DeepLift references for MaxPool's DeepLift rule.

Run with PyTorch 1.13 and Captum 0.7.0 importable (e.g. PYTHONPATH pointing at
a checkout of github.com/pytorch/captum at tag v0.7.0):
    python3 make_cases.py
Writes <model>.onnx, input.npy, baseline_random.npy and
<model>_deeplift_{zeros,random}.npy (float32, Captum's output) here.

- fire: a SqueezeNet-Fire-like block. stem Conv -> nn.ReLU -> MaxPool (fed
  by a hooked ReLU: Captum's pool rule does not reach the input there) ->
  squeeze Conv/ReLU -> expand 1x1 and 3x3 Conv/ReLU -> Concat -> MaxPool
  3x3 stride 2 ceil_mode (overlapping windows; Captum's pool rule) ->
  Conv -> global average -> Linear.
- addpool: two Conv/ReLU branches -> Add -> MaxPool 3x3 stride 2 pad 1 ->
  Conv -> global average -> Linear.
- inception: GoogLeNet's Inception block fed by a Concat (its inception
  3b, 4b-4e, 5b), where a MaxPool's input has other consumers. Two
  Conv/ReLU branches -> Concat = x; on x: 1x1 Conv/ReLU, 3x3 Conv/ReLU and
  MaxPool 3x3 stride 1 pad 1 ceil_mode -> 1x1 Conv/ReLU, concatenated
  (Captum's hook on x replaces the gradient summed over all three branches
  by the pool's multipliers) -> Conv -> global average -> Linear.
"""
import numpy as np
import torch
import torch.nn as nn
from captum.attr import DeepLift


class Fire(nn.Module):
    def __init__(self):
        super().__init__()
        self.stem = nn.Conv2d(3, 6, 3, stride=1, padding=1)
        self.stem_relu = nn.ReLU()
        self.pool0 = nn.MaxPool2d(2, 2)
        self.squeeze = nn.Conv2d(6, 4, 1)
        self.squeeze_relu = nn.ReLU()
        self.e1 = nn.Conv2d(4, 5, 1)
        self.e1_relu = nn.ReLU()
        self.e3 = nn.Conv2d(4, 5, 3, padding=1)
        self.e3_relu = nn.ReLU()
        self.pool1 = nn.MaxPool2d(3, 2, ceil_mode=True)
        self.head = nn.Conv2d(10, 8, 1)
        self.fc = nn.Linear(8, 5)

    def forward(self, x):
        x = self.pool0(self.stem_relu(self.stem(x)))
        s = self.squeeze_relu(self.squeeze(x))
        x = torch.cat([self.e1_relu(self.e1(s)), self.e3_relu(self.e3(s))], 1)
        x = self.head(self.pool1(x)).mean((2, 3))
        return self.fc(x)


class AddPool(nn.Module):
    def __init__(self):
        super().__init__()
        self.a = nn.Conv2d(3, 6, 3, padding=1)
        self.a_relu = nn.ReLU()
        self.b = nn.Conv2d(3, 6, 1)
        self.b_relu = nn.ReLU()
        self.pool = nn.MaxPool2d(3, 2, padding=1)
        self.head = nn.Conv2d(6, 8, 1)
        self.fc = nn.Linear(8, 5)

    def forward(self, x):
        x = self.a_relu(self.a(x)) + self.b_relu(self.b(x))
        x = self.head(self.pool(x)).mean((2, 3))
        return self.fc(x)


class Block(nn.Module):
    def __init__(self, cin):
        super().__init__()
        self.b1 = nn.Conv2d(cin, 4, 1)
        self.b1_relu = nn.ReLU()
        self.b2 = nn.Conv2d(cin, 4, 3, padding=1)
        self.b2_relu = nn.ReLU()
        self.b4_pool = nn.MaxPool2d(3, 1, padding=1, ceil_mode=True)
        self.b4 = nn.Conv2d(cin, 4, 1)
        self.b4_relu = nn.ReLU()

    def forward(self, x):
        return torch.cat([self.b1_relu(self.b1(x)), self.b2_relu(self.b2(x)),
                          self.b4_relu(self.b4(self.b4_pool(x)))], 1)


class Inception(nn.Module):
    def __init__(self):
        super().__init__()
        self.s1 = nn.Conv2d(3, 4, 3, padding=1)
        self.s1_relu = nn.ReLU()
        self.s2 = nn.Conv2d(3, 4, 1)
        self.s2_relu = nn.ReLU()
        self.a = Block(8)
        self.head = nn.Conv2d(12, 8, 1)
        self.fc = nn.Linear(8, 5)

    def forward(self, x):
        x = torch.cat([self.s1_relu(self.s1(x)), self.s2_relu(self.s2(x))], 1)
        return self.fc(self.head(self.a(x)).mean((2, 3)))


def main():
    torch.manual_seed(7)
    rng = np.random.default_rng(7)
    x = rng.uniform(-1, 1, (1, 3, 15, 15)).astype(np.float32)
    base = rng.uniform(-1, 1, (1, 3, 15, 15)).astype(np.float32)
    np.save("input.npy", x)
    np.save("baseline_random.npy", base)
    for name, model in (("fire", Fire()), ("addpool", AddPool()),
                        ("inception", Inception())):
        model.eval()
        torch.onnx.export(model, torch.from_numpy(x), name + ".onnx",
                          opset_version=13, input_names=["input"],
                          output_names=["logits"])
        for bname, b in (("zeros", np.zeros_like(x)), ("random", base)):
            dl = DeepLift(model)
            a, delta = dl.attribute(torch.from_numpy(x), torch.from_numpy(b),
                                    target=2, return_convergence_delta=True)
            np.save("%s_deeplift_%s.npy" % (name, bname),
                    a.detach().numpy().astype(np.float32))
            print(name, bname, "delta", float(delta[0]))


if __name__ == "__main__":
    main()
