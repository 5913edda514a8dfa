#!/usr/bin/env python3
"""Captum 0.7.0 DeepLift references for MaxPool's DeepLift rule.

Run with PyTorch 1.13 and Captum 0.7.0 importable (e.g. PYTHONPATH pointing at
a checkout of github.com/pytorch/captum at tag v0.7.0):
    python3 make_cases.py
Writes <model>.onnx, input.npy, baseline_random.npy and
<model>_deeplift_{zeros,random}.npy (float32, Captum's output) here, and
the GoogLeNet-like cases gl3, gl2 (see googlenet_cases).

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


def fire_multipliers_case(model, x, base):
    """Captum's DeepLift multipliers (multiply_by_inputs=False: the
    gradients at the input) of fire for 4 rows, the input against each of
    fire_baselines4.npy: zero, the random baseline and two random ones
    equal to the input on a square (fire_multipliers_4.npy, [4, 3, 15,
    15]); the rows as DeepLiftShap batches them. Where the stem ReLU's
    |x - x_ref| < 1e-10 (inside the squares), Captum's hook on the ReLU
    reads grad_input, which the MaxPool it feeds replaced by its
    multipliers, there the complete gradient's first row: the rows after
    the first take the first row's gradient. An attribution multiplies them
    by x - x_ref = 0 there, a multiplier does not."""
    rng = np.random.default_rng(13)
    p1 = rng.uniform(-1, 1, x.shape).astype(np.float32)
    p1[:, :, 3:12, 2:11] = x[:, :, 3:12, 2:11]
    p2 = rng.uniform(-1, 1, x.shape).astype(np.float32)
    p2[:, :, 5:15, 5:15] = x[:, :, 5:15, 5:15]
    bl4 = np.concatenate([np.zeros_like(x), base, p1, p2])
    np.save("fire_baselines4.npy", bl4)
    x4 = torch.from_numpy(np.concatenate([x] * 4))
    a = DeepLift(model, multiply_by_inputs=False).attribute(
        x4, torch.from_numpy(bl4), target=2)
    np.save("fire_multipliers_4.npy", a.detach().numpy().astype(np.float32))


class GoogLeNetLike(nn.Module):
    """GoogLeNet's stem and inception 3a, 4a, 4b in small: Conv/ReLU ->
    MaxPool P (fed by a hooked ReLU: the ReLU's rule reads the plain
    gradient) -> Inception A (3a: fed by P; A's branch pool's multipliers
    replace the gradient P's plain backward reads, not the one P's own
    hook captured) -> MaxPool F (fed by A's Concat: Captum's rule) ->
    Inception B (4a: fed by F, likewise) -> Inception C (4b: fed by a
    Concat) -> Conv -> global average -> Linear. P's and F's plain
    backward route each half of Captum's doubled batch over its own
    argmax, so the halves' gradients differ, and the rules read the
    reference half's. `k` is the size of the stem pool and of F (stride
    2, ceil_mode): 3 (overlapping, GoogLeNet's) or 2."""

    def __init__(self, k):
        super().__init__()
        self.stem = nn.Conv2d(3, 6, 3, padding=1)
        self.stem_relu = nn.ReLU()
        self.pool0 = nn.MaxPool2d(k, 2, ceil_mode=True)
        self.a = Block(6)
        self.pool1 = nn.MaxPool2d(k, 2, ceil_mode=True)
        self.b = Block(12)
        self.c = Block(12)
        self.head = nn.Conv2d(12, 8, 1)
        self.fc = nn.Linear(8, 5)

    def forward(self, x):
        x = self.pool0(self.stem_relu(self.stem(x)))
        x = self.c(self.b(self.pool1(self.a(x))))
        return self.fc(self.head(x).mean((2, 3)))


def googlenet_cases():
    """gl3, gl2 (GoogLeNetLike(3), (2)) on a 24x24 input gl_input.npy:
    DeepLift with the zero, a random (gl_baseline_random.npy) and a
    "patch" baseline (gl_baseline_patch.npy: random, but equal to the input
    on a 10x10 square, so that activations there are equal in both halves,
    |x - x_ref| < 1e-10, at the ReLUs and the pools); DeepLiftShap over
    gl_baselines4.npy (zero, random, and two patch baselines: the rows
    after the first take Captum's grad_input[0], the first row's gradient,
    where |x - x_ref| < 1e-10); LayerDeepLift at a.b2 (below F) with the
    zero and the random baseline."""
    from captum.attr import DeepLiftShap, LayerDeepLift
    torch.manual_seed(11)
    rng = np.random.default_rng(11)
    shape = (1, 3, 24, 24)
    x = rng.uniform(-1, 1, shape).astype(np.float32)
    rnd = rng.uniform(-1, 1, shape).astype(np.float32)
    patch = rng.uniform(-1, 1, shape).astype(np.float32)
    patch[:, :, 6:16, 8:18] = x[:, :, 6:16, 8:18]
    patch2 = rng.uniform(-1, 1, shape).astype(np.float32)
    patch2[:, :, 2:14, 2:14] = x[:, :, 2:14, 2:14]
    bl4 = np.concatenate([np.zeros_like(x), rnd, patch, patch2])
    np.save("gl_input.npy", x)
    np.save("gl_baseline_random.npy", rnd)
    np.save("gl_baseline_patch.npy", patch)
    np.save("gl_baselines4.npy", bl4)
    xt = torch.from_numpy(x)
    for name, k in (("gl3", 3), ("gl2", 2)):
        model = GoogLeNetLike(k).eval()
        torch.onnx.export(model, xt, name + ".onnx", opset_version=13,
                          input_names=["input"], output_names=["logits"])
        for bname, b in (("zeros", np.zeros_like(x)), ("random", rnd),
                         ("patch", patch)):
            a = DeepLift(model).attribute(xt, torch.from_numpy(b), target=2)
            np.save("%s_deeplift_%s.npy" % (name, bname),
                    a.detach().numpy().astype(np.float32))
        a = DeepLiftShap(model).attribute(xt, torch.from_numpy(bl4), target=2)
        np.save("%s_deepliftshap_4.npy" % name,
                a.detach().numpy().astype(np.float32))
        for bname, b in (("zeros", np.zeros_like(x)), ("random", rnd)):
            a = LayerDeepLift(model, model.a.b2).attribute(
                xt, torch.from_numpy(b), target=2)
            np.save("%s_layerdeeplift_%s.npy" % (name, bname),
                    a.detach().numpy().astype(np.float32))
        print(name, "done")


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
        if name == "fire":
            fire_multipliers_case(model, x, base)
    googlenet_cases()


if __name__ == "__main__":
    main()
