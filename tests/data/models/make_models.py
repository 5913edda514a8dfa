#!/usr/bin/python3
"""Small CNNs built from torchvision's own blocks (random, seeded weights)
and PyTorch's float64 reference outputs for them, for tests/engine/test-models.c.

Usage: /usr/bin/python3 tests/data/models/make_models.py   (Debian python3-torch 1.13,
python3-torchvision; writes next to this script). Each model NAME gets:
  NAME.onnx         torch.onnx.export, eval mode, free batch axis
  NAME.input.npy    float32 [2,C,H,W], a fixed random input
  NAME.seed.npy     float32 [2,K], a fixed random output gradient
  NAME.logits.npy   float64 [2,K], the model's outputs in float64 PyTorch
  NAME.grad.npy     float64 [2,C,H,W], d(sum(seed * logits)) / d(input), float64
tiny_shufflenet_fixed.onnx is tiny_shufflenet exported without dynamic_axes
(batch 1 baked into its Reshape targets), checked with tiny_shufflenet's files;
tiny_misc_dynhw.onnx is tiny_misc with free height and width.
The ONNX files hold the float32 weights; the references run the same weights
converted exactly to float64, so they are independent of any float32 kernel.
"""
import os
import sys
from functools import partial

import numpy as np
import torch
import torch.nn as nn
from torchvision.models import convnext, densenet, efficientnet, mobilenetv3, shufflenetv2
from torchvision.ops.misc import Conv2dNormActivation

HERE = os.path.dirname(os.path.abspath(__file__))


class TinyShuffleNet(nn.Module):
    """ShuffleNet V2: stride-2 and stride-1 units (channel split via chunk,
    Concat, channel shuffle as Reshape/Transpose/Reshape), ceil-free MaxPool."""
    def __init__(self):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, 8, 3, 2, 1, bias=False), nn.BatchNorm2d(8), nn.ReLU())
        self.pool = nn.MaxPool2d(3, 2, 1)
        self.units = nn.Sequential(shufflenetv2.InvertedResidual(8, 16, 2),
                                   shufflenetv2.InvertedResidual(16, 16, 1),
                                   shufflenetv2.InvertedResidual(16, 16, 1))
        self.fc = nn.Linear(16, 10)

    def forward(self, x):
        x = self.units(self.pool(self.stem(x)))
        return self.fc(x.mean([2, 3]))


class TinyEfficientNet(nn.Module):
    """EfficientNet MBConv blocks: SiLU (Sigmoid * Mul), squeeze-excitation."""
    def __init__(self):
        super().__init__()
        cnf = efficientnet.MBConvConfig
        norm = partial(nn.BatchNorm2d, eps=1e-3)
        self.stem = Conv2dNormActivation(3, 8, 3, 2, norm_layer=norm, activation_layer=nn.SiLU)
        self.blocks = nn.Sequential(
            efficientnet.MBConv(cnf(1, 3, 1, 8, 8, 1), 0.0, norm),
            efficientnet.MBConv(cnf(4, 3, 2, 8, 16, 1), 0.0, norm),
            efficientnet.MBConv(cnf(4, 5, 1, 16, 16, 1), 0.0, norm))
        self.head = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(16, 10))

    def forward(self, x):
        return self.head(self.blocks(self.stem(x)))


class TinyConvNeXt(nn.Module):
    """ConvNeXt: patchify stem, LayerNorm2d (Permute + LayerNorm), CNBlocks
    (depthwise 7x7, LayerNorm, Linear, GELU = Erf, layer scale)."""
    def __init__(self):
        super().__init__()
        ln2d = partial(convnext.LayerNorm2d, eps=1e-6)
        self.stem = nn.Sequential(nn.Conv2d(3, 16, 4, 4), ln2d(16))
        self.blocks = nn.Sequential(convnext.CNBlock(16, 0.5, 0.0), convnext.CNBlock(16, 0.5, 0.0))
        self.down = nn.Sequential(ln2d(16), nn.Conv2d(16, 24, 2, 2))
        self.block2 = convnext.CNBlock(24, 0.5, 0.0)
        self.head = nn.Sequential(nn.AdaptiveAvgPool2d(1), ln2d(24), nn.Flatten(1), nn.Linear(24, 10))

    def forward(self, x):
        return self.head(self.block2(self.down(self.blocks(self.stem(x)))))


class TinyDenseNet(nn.Module):
    """A DenseNet block of 12 layers: its last Concat joins 13 tensors."""
    def __init__(self):
        super().__init__()
        self.stem = nn.Conv2d(3, 8, 3, 2, 1, bias=False)
        self.block = densenet._DenseBlock(12, 8, 2, 2, 0.0)
        self.trans = densenet._Transition(8 + 12 * 2, 16)
        self.norm = nn.BatchNorm2d(16)
        self.fc = nn.Linear(16, 10)

    def forward(self, x):
        x = torch.relu(self.norm(self.trans(self.block(self.stem(x)))))
        return self.fc(torch.flatten(nn.functional.adaptive_avg_pool2d(x, 1), 1))


class TinyMobileNetV3(nn.Module):
    """MobileNet V3 blocks: HardSwish, SE with HardSigmoid, ending in Softmax
    probabilities."""
    def __init__(self):
        super().__init__()
        cnf = mobilenetv3.InvertedResidualConfig
        norm = partial(nn.BatchNorm2d, eps=0.001, momentum=0.01)
        self.stem = Conv2dNormActivation(3, 8, 3, 2, norm_layer=norm, activation_layer=nn.Hardswish)
        self.blocks = nn.Sequential(
            mobilenetv3.InvertedResidual(cnf(8, 3, 16, 8, True, "RE", 2, 1, 1.0), norm),
            mobilenetv3.InvertedResidual(cnf(8, 5, 24, 16, True, "HS", 1, 1, 1.0), norm))
        self.head = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(16, 10), nn.Softmax(dim=1))

    def forward(self, x):
        return self.head(self.blocks(self.stem(x)))


class LRNExport(torch.autograd.Function):
    """torch.onnx writes LocalResponseNorm as a Pad/AveragePool/If
    decomposition; the model zoo's AlexNet/GoogLeNet have one LRN node."""
    @staticmethod
    def forward(ctx, x):
        return nn.functional.local_response_norm(x, 5, alpha=0.5, beta=0.75, k=2.0)

    @staticmethod
    def symbolic(g, x):
        return g.op("LRN", x, size_i=5, alpha_f=0.5, beta_f=0.75, bias_f=2.0)


class TinyMisc(nn.Module):
    """An LRN node (AlexNet/GoogLeNet style), Mish (Softplus/Tanh/Mul), an
    uneven channel split (Split), CBAM spatial attention (channel mean and
    max: ReduceMean, ReduceMax; the map expand_as'ed: Expand), a sum over
    the spatial dims (ReduceSum)."""
    def __init__(self):
        super().__init__()
        self.c1 = nn.Conv2d(3, 8, 3, 2, 1)
        self.lrn = nn.LocalResponseNorm(5, alpha=0.5, beta=0.75, k=2.0)
        self.a = nn.Conv2d(3, 6, 3, 1, 1)
        self.b = nn.Conv2d(5, 6, 1)
        self.sa = nn.Conv2d(2, 1, 3, 1, 1)
        self.fc = nn.Linear(12, 10)

    def forward(self, x):
        x = torch.relu(self.c1(x))
        x = LRNExport.apply(x) if torch.onnx.is_in_onnx_export() else self.lrn(x)
        x = nn.functional.mish(x)
        a, b = torch.split(x, [3, 5], dim=1)
        x = torch.cat([self.a(a), torch.relu(self.b(b))], 1)
        pooled = torch.cat([x.mean(1, keepdim=True), x.amax(1, keepdim=True)], 1)
        x = x * torch.sigmoid(self.sa(pooled)).expand_as(x)
        return self.fc(x.sum(dim=(2, 3)) / 64.0)


class StdConv2d(nn.Conv2d):
    """BiT's weight-standardised convolution (folded at export)."""
    def forward(self, x):
        w = self.weight
        w = (w - w.mean(dim=(1, 2, 3), keepdim=True)) / torch.sqrt(
            w.var(dim=(1, 2, 3), keepdim=True, unbiased=False) + 1e-6)
        return nn.functional.conv2d(x, w, self.bias, self.stride, self.padding)


class TinyGroupNorm(nn.Module):
    """BiT / ResNet-V2 style: weight-standardised convs, GroupNorm (written
    by torch.onnx as Reshape + InstanceNormalization + Reshape + Mul + Add),
    pre-activation residual block."""
    def __init__(self):
        super().__init__()
        self.stem = StdConv2d(3, 16, 3, 2, 1, bias=False)
        self.gn1 = nn.GroupNorm(4, 16)
        self.conv1 = StdConv2d(16, 16, 3, 1, 1, bias=False)
        self.gn2 = nn.GroupNorm(8, 16)
        self.conv2 = StdConv2d(16, 16, 3, 1, 1, bias=False)
        self.gn3 = nn.GroupNorm(4, 16)
        self.fc = nn.Linear(16, 10)

    def forward(self, x):
        x = self.stem(x)
        y = self.conv1(torch.relu(self.gn1(x)))
        y = self.conv2(torch.relu(self.gn2(y)))
        x = torch.relu(self.gn3(x + y))
        return self.fc(x.mean((2, 3)))


class TinyNHWC(nn.Module):
    """A channels-last (Keras/tf2onnx style) input [N,H,W,3]; the engine
    presents it as [N,3,H,W]. Stored input and gradient are NCHW."""
    def __init__(self):
        super().__init__()
        self.body = TinyEfficientNet()

    def forward(self, x):
        return self.body(x.permute(0, 3, 1, 2))


class TinyUpsample(nn.Module):
    """Resize in its torch.onnx forms: the input resized to a fixed size
    (sizes from Shape/Concat), an HRNet-style fuse (low-resolution branch
    upsampled x2 nearest, added), a bilinear x2 (half_pixel) and an
    align_corners bilinear downsample."""
    def __init__(self):
        super().__init__()
        self.hi = nn.Conv2d(3, 8, 3, 1, 1)
        self.lo = nn.Conv2d(8, 8, 3, 2, 1)
        self.mix = nn.Conv2d(8, 8, 3, 2, 1)
        self.fc = nn.Linear(8, 10)

    def forward(self, x):
        x = nn.functional.interpolate(x, size=(16, 16), mode="bilinear",
                                      align_corners=False)
        h = torch.relu(self.hi(x))
        lo = torch.relu(self.lo(h))
        h = h + nn.functional.interpolate(lo, scale_factor=2, mode="nearest")
        m = self.mix(h)
        m = nn.functional.interpolate(m, scale_factor=2, mode="bilinear",
                                      align_corners=False)
        m = nn.functional.interpolate(m, size=(6, 6), mode="bilinear",
                                      align_corners=True)
        return self.fc(m.mean((2, 3)))


class TinyGrey(nn.Module):
    """MNIST-style: a 1-channel 28x28 input (grey preprocessing path)."""

    def __init__(self):
        super().__init__()
        self.c1 = nn.Conv2d(1, 8, 3, padding=1)
        self.c2 = nn.Conv2d(8, 16, 3)
        self.fc = nn.Linear(16, 10)

    def forward(self, x):
        x = nn.functional.max_pool2d(torch.relu(self.c1(x)), 2)
        return self.fc(torch.relu(self.c2(x)).mean((2, 3)))


# name -> (builder, input shape, opset)
MODELS = {
    "tiny_shufflenet": (TinyShuffleNet, (3, 32, 32), 13),
    "tiny_efficientnet": (TinyEfficientNet, (3, 32, 32), 13),
    "tiny_convnext_op13": (TinyConvNeXt, (3, 32, 32), 13),
    "tiny_convnext_op17": (TinyConvNeXt, (3, 32, 32), 17),
    "tiny_densenet": (TinyDenseNet, (3, 24, 20), 13),
    "tiny_mobilenet_v3": (TinyMobileNetV3, (3, 32, 32), 13),
    "tiny_misc": (TinyMisc, (3, 16, 16), 13),
    "tiny_groupnorm": (TinyGroupNorm, (3, 16, 16), 13),
    "tiny_nhwc": (TinyNHWC, (3, 24, 20), 13),
    "tiny_upsample": (TinyUpsample, (3, 20, 24), 13),
    "tiny_grey": (TinyGrey, (1, 28, 28), 13),
}


def randomize_bn(model, gen):
    """Non-trivial BatchNorm/LayerNorm statistics and affine terms."""
    for m in model.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.running_mean.copy_(torch.randn(m.num_features, generator=gen) * 0.2)
            m.running_var.copy_(torch.rand(m.num_features, generator=gen) + 0.5)
        if isinstance(m, (nn.BatchNorm2d, nn.LayerNorm, convnext.LayerNorm2d, nn.GroupNorm)):
            m.weight.data.copy_(torch.rand(m.weight.shape, generator=gen) + 0.5)
            m.bias.data.copy_(torch.randn(m.bias.shape, generator=gen) * 0.2)
        if isinstance(m, convnext.CNBlock):
            m.layer_scale.data.copy_(torch.rand(m.layer_scale.shape, generator=gen) + 0.5)


def main():
    torch.set_num_threads(1)
    only = sys.argv[1:]  # model names to (re)make; all by default
    for i, (name, (builder, shape, opset)) in enumerate(MODELS.items()):
        if only and name not in only:
            continue
        torch.manual_seed(100)
        model = builder().eval()
        gen = torch.Generator().manual_seed(200)
        with torch.no_grad():
            randomize_bn(model, gen)
        x = torch.randn((2,) + shape, generator=gen)
        nhwc = name == "tiny_nhwc"
        xe = x.permute(0, 2, 3, 1).contiguous() if nhwc else x
        path = os.path.join(HERE, name + ".onnx")
        torch.onnx.export(model, xe, path, opset_version=opset, input_names=["input"],
                          output_names=["logits"], do_constant_folding=True,
                          dynamic_axes={"input": {0: "batch"}, "logits": {0: "batch"}})
        if name == "tiny_shufflenet":
            # the same weights exported the default way, with a fixed batch
            # of 1 baked into the channel-shuffle Reshapes; checked against
            # the same batch-2 references
            torch.onnx.export(model, x[:1], os.path.join(HERE, name + "_fixed.onnx"),
                              opset_version=opset, input_names=["input"],
                              output_names=["logits"])
        if name == "tiny_misc":
            # free height and width: the loader plans it at 224 x 224
            torch.onnx.export(model, x, os.path.join(HERE, name + "_dynhw.onnx"),
                              opset_version=opset, input_names=["input"],
                              output_names=["logits"], do_constant_folding=True,
                              dynamic_axes={"input": {0: "batch", 2: "h", 3: "w"},
                                            "logits": {0: "batch"}})
        m64 = model.double()
        x64 = x.double().requires_grad_(True)
        y = m64(x64.permute(0, 2, 3, 1) if nhwc else x64)
        seed = torch.randn(y.shape, generator=gen)
        (y * seed.double()).sum().backward()
        np.save(os.path.join(HERE, name + ".input.npy"), x.numpy())
        np.save(os.path.join(HERE, name + ".seed.npy"), seed.numpy())
        np.save(os.path.join(HERE, name + ".logits.npy"), y.detach().numpy())
        np.save(os.path.join(HERE, name + ".grad.npy"), x64.grad.numpy())
        print(name, os.path.getsize(path), "bytes")


if __name__ == "__main__":
    main()
