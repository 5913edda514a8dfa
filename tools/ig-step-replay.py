#!/usr/bin/python3
"""Replay one Captum Integrated Gradients reference step by step.

Dev tool (needs Debian's python3-torch, python3-onnx, numpy; the build and
the tests never run it). For a Captum case directory (tests/data/captum/X:
model.onnx, input.npy, manifest.json, the IG output) it computes the
gradient at every quadrature point three ways:
  - PyTorch float32, batched as Captum does (one batch of all steps),
  - PyTorch float64 (the same graph in double: the "exact" side of a kink),
  - Heatlens, through `heatlens-cli explain --method saliency --abs false`
    on alpha * input (one CLI call per step),
and reports which steps differ, whether each side agrees with float64
there, and how much each step contributes to the final relative L2 error.
This is how the riemann_trapezoid parity limit in
tests/attr/test-parity-captum.c was measured.

usage: tools/ig-step-replay.py tests/data/captum/tinyres \
           [--output ig_riemann_trapezoid_200.npy] [--cli build/src/cli/heatlens-cli]
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile

import numpy as np
import onnx
import torch
import torch.nn.functional as F
from onnx import numpy_helper


def onnx_runner(model, dtype):
    """A torch function for the few ops of the Captum test CNNs."""
    weights = {i.name: torch.from_numpy(numpy_helper.to_array(i).copy()).to(dtype)
               for i in model.graph.initializer}

    def attrs(node):
        return {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}

    def run(x):
        v = dict(weights)
        v[model.graph.input[0].name] = x
        for n in model.graph.node:
            a, t = attrs(n), n.op_type
            i = [v[k] if k else None for k in n.input]
            if t == 'Conv':
                p = a.get('pads', [0, 0, 0, 0])
                if p[0] != p[2] or p[1] != p[3]:
                    sys.exit(f'{n.name}: asymmetric pads not supported here')
                y = F.conv2d(i[0], i[1], i[2] if len(i) > 2 else None, a.get('strides', [1, 1]),
                             p[:2], a.get('dilations', [1, 1]), a.get('group', 1))
            elif t == 'BatchNormalization':
                y = F.batch_norm(i[0], i[3], i[4], i[1], i[2], False, 0.0, a.get('epsilon', 1e-5))
            elif t == 'Relu':
                y = F.relu(i[0])
            elif t == 'Clip':
                y = torch.clamp(i[0], float(i[1]), float(i[2]))
            elif t == 'MaxPool':
                p = a.get('pads', [0, 0, 0, 0])
                y = F.max_pool2d(i[0], a['kernel_shape'], a.get('strides'), p[:2],
                                 ceil_mode=bool(a.get('ceil_mode', 0)))
            elif t == 'GlobalAveragePool':
                y = F.adaptive_avg_pool2d(i[0], 1)
            elif t == 'Flatten':
                y = torch.flatten(i[0], 1)
            elif t == 'Gemm':
                y = F.linear(i[0], i[1] if a.get('transB', 0) else i[1].t(), i[2])
            elif t == 'Add':
                y = i[0] + i[1]
            elif t == 'Constant':
                y = torch.from_numpy(numpy_helper.to_array(a['value']).copy())
            else:
                sys.exit(f'{n.name}: op {t} not in this replay tool')
            v[n.output[0]] = y
        return v[model.graph.output[0].name]
    return run


def torch_grads(run, xs, target, dtype):
    xs = xs.detach().clone().to(dtype).requires_grad_()
    g, = torch.autograd.grad(run(xs)[:, target].sum(), xs)
    return g.double().numpy()


def heatlens_grads(cli, case, xs, target):
    out = np.empty(xs.shape)
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(xs.shape[0]):
            np.save(f'{tmp}/x.npy', xs[i:i + 1].numpy())
            subprocess.run([cli, 'explain', '--model', f'{case}/model.onnx', '--input-npy', f'{tmp}/x.npy',
                            '--method', 'saliency', '--abs', 'false', '--target', str(target),
                            '--threads', '1', '--raw', f'{tmp}/g.npy'],
                           check=True, stdout=subprocess.DEVNULL)
            out[i] = np.load(f'{tmp}/g.npy')[0]
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('case')
    ap.add_argument('--output', default='ig_riemann_trapezoid_200.npy')
    ap.add_argument('--cli', default='build/src/cli/heatlens-cli')
    args = ap.parse_args()
    torch.set_num_threads(1)
    man = json.load(open(os.path.join(args.case, 'manifest.json')))
    meth = next(m for m in man['methods'] if m['output'] == args.output)
    q = meth['quadrature']
    alphas = torch.tensor(q['alphas'], dtype=torch.float32)
    steps = np.array(q['step_sizes'])
    x = torch.from_numpy(np.load(os.path.join(args.case, 'input.npy')))
    ref = np.load(os.path.join(args.case, args.output)).astype(np.float64)
    target = man['target']
    model = onnx.load(os.path.join(args.case, 'model.onnx'))
    xs = alphas.view(-1, 1, 1, 1) * x  # zero baseline, as in the references

    g32 = torch_grads(onnx_runner(model, torch.float32), xs, target, torch.float32)
    g64 = torch_grads(onnx_runner(model, torch.float64), xs, target, torch.float64)
    ours = heatlens_grads(args.cli, args.case, xs, target)

    def attribution(g):
        return (g * steps[:, None, None, None]).sum(0, keepdims=True) * x.double().numpy()

    def rel(a):
        return np.linalg.norm(a - ref) / np.linalg.norm(ref)

    print(f'{args.case} {args.output}: {len(steps)} steps, target {target}')
    print(f'  PyTorch float32 replay vs Captum: {rel(attribution(g32)):.3g}')
    print(f'  PyTorch float64           vs Captum: {rel(attribution(g64)):.3g}')
    print(f'  Heatlens                  vs Captum: {rel(attribution(ours)):.3g}')

    def step_diff(a, b, i):
        return np.linalg.norm(a[i] - b[i]) / max(np.linalg.norm(b[i]), 1e-30)
    kinks = [i for i in range(len(steps)) if step_diff(g64, g32, i) > 1e-5]
    print(f'  steps where PyTorch float32 and float64 disagree (> 1e-5): {kinks}')
    for i in range(len(steps)):
        d = step_diff(ours, g32, i)
        if d <= 1e-5:
            continue
        fixed = ours.copy()
        fixed[i] = g32[i]
        print(f'  step {i:3d} alpha {q["alphas"][i]:.6f}: Heatlens vs PyTorch32 {d:.3g}, '
              f'Heatlens vs float64 {step_diff(ours, g64, i):.3g}, '
              f'PyTorch32 vs float64 {step_diff(g32, g64, i):.3g}; '
              f'with PyTorch\'s gradient here Heatlens would be {rel(attribution(fixed)):.3g}')


if __name__ == '__main__':
    main()
