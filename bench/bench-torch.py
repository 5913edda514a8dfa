#!/usr/bin/python3
"""Time the same CNNs in PyTorch (and Captum 0.7 when importable), for
Heatlens' speed comparisons.

Usage:
  /usr/bin/python3 bench/bench-torch.py [--model resnet18|mobilenet_v2]
        [--threads N] [--reps R] [--only CASES]
  /usr/bin/python3 bench/bench-torch.py --methods [--model ...] [--cli PATH]
        [--onnx FILE] [--only METHODS]

--cpu times process CPU seconds instead of wall seconds on both sides: on a
machine other processes keep busy, with --threads 1, it compares the work
each side does (with 2 threads PyTorch's OpenMP threads spin while they
wait, which CPU time would count against it).

Engine cases (default) print one line per case, "NAME SECONDS" (median of R
runs after a warm-up): forward_b1, forward_grad_b1, forward_b32,
forward_grad_b32. The input gradient is taken with the weights frozen
(requires_grad False), the same work as Heatlens' engine, which never
computes weight gradients.

--methods times Captum's methods on the torchvision module and, beside each,
Heatlens on the ONNX export for the same call (same input, same target):
"METHOD HEATLENS_S CLI_S CAPTUM_S RATIO". Captum is timed as
`timed()` says: one warm-up call, then the median of R calls, the model
loaded and warm. HEATLENS_S is the same for Heatlens: bench/bench-method
(the model loaded once, one warm-up call, the median of R calls in one
process); RATIO = HEATLENS_S / CAPTUM_S. CLI_S is what one
`heatlens-cli explain --json` process reports for the call, a cold first
call (its run planned, its oneDNN primitives made, its memory touched for
the first time), for reference. Captum is imported from PYTHONPATH (e.g. a
checkout of its v0.7.0 tag); without it only the Heatlens columns are
printed, and the script says so.

Models: ResNet-18 is torchvision's with seed-0 random weights, the model
tools/make-resnet18.py exports (bench/models/resnet18.onnx); the bundled
model is TensorFlow's MobileNet V2, timed against torchvision's
mobilenet_v2 (the same layer shapes).

The fair set-up: PyTorch runs with glibc's allocator keeping its memory
(the MALLOC_* variables below, set by re-executing this script), because
with the default thresholds every large tensor is returned to the OS and
faulted back in, which on these VMs alone makes PyTorch 3-5x slower than a
performance-minded user would see; the model is warm (one untimed call
first) and torch.set_num_threads gets the same thread count as Heatlens.
"""
import argparse
import importlib.abc
import importlib.machinery
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import types

FAIR_MALLOC = {
    "MALLOC_MMAP_THRESHOLD_": "17179869184",
    "MALLOC_TRIM_THRESHOLD_": "17179869184",
    "MALLOC_TOP_PAD_": "1073741824",
}
ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

if any(os.environ.get(k) != v for k, v in FAIR_MALLOC.items()):
    env = dict(os.environ, **FAIR_MALLOC)
    os.execve(sys.executable, [sys.executable] + sys.argv, env)

import torch  # noqa: E402  (after the allocator set-up above)
import torchvision  # noqa: E402


class _PlotStub(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Captum 0.7's package __init__ imports matplotlib for its plotting
    helpers, which no timed method uses: empty modules stand in when
    matplotlib is not installed."""

    def find_spec(self, name, path, target=None):
        if name.split(".")[0] in ("matplotlib", "mpl_toolkits"):
            return importlib.machinery.ModuleSpec(name, self, is_package=True)
        return None

    def create_module(self, spec):
        m = types.ModuleType(spec.name)
        m.__path__ = []
        m.__getattr__ = lambda attr: type(attr, (), {})
        return m

    def exec_module(self, module):
        pass


def import_captum():
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        sys.meta_path.append(_PlotStub())
    try:
        import captum.attr as ca
        import captum
        return ca, captum.__version__
    except ImportError as e:
        return None, str(e)


CLOCK = time.perf_counter   # --cpu: time.process_time


def timed(fn, reps):
    fn()   # warm: first-call allocations and oneDNN primitive creation
    times = []
    for _ in range(reps):
        t0 = CLOCK()
        fn()
        times.append(CLOCK() - t0)
    return statistics.median(times)


def make_model(name):
    torch.manual_seed(0)
    if name == "resnet18":
        model = torchvision.models.resnet18(weights=None)
        layer = model.layer4
    else:
        model = torchvision.models.mobilenet_v2(weights=None)
        layer = model.features[18]
    model.eval()
    for p in model.parameters():
        p.requires_grad_(False)
    return model, layer


def engine_cases(args, model):
    x1 = torch.randn(1, 3, 224, 224)
    x32 = torch.randn(32, 3, 224, 224)

    def fwd(x):
        with torch.no_grad():
            model(x)

    def fwd_grad(xin):
        x = xin.clone().requires_grad_(True)
        out = model(x)
        out[:, 0].sum().backward()
        return x.grad

    cases = [
        ("forward_b1", lambda: fwd(x1), args.reps * 3),
        ("forward_grad_b1", lambda: fwd_grad(x1), args.reps * 3),
        ("forward_b32", lambda: fwd(x32), args.reps),
        ("forward_grad_b32", lambda: fwd_grad(x32), args.reps),
    ]
    only = [c for c in args.only.split(",") if c]
    for name, fn, reps in cases:
        if not only or name in only:
            print("%s %.6f" % (name, timed(fn, reps)), flush=True)


# Heatlens CLI flags and the matching Captum call of each timed method,
# the quick ones first.
# IG's internal batch is 50 on both sides (Captum's default None would put
# all 200 steps in one batch, several GB on ResNet-18); occlusion evaluates
# 16 perturbed copies per batch on both sides (Heatlens' default).
METHODS = [
    ("saliency", [], lambda ca, m, l, x, t:
        ca.Saliency(m).attribute(x, target=t, abs=True)),
    ("guided_backprop", [], lambda ca, m, l, x, t:
        ca.GuidedBackprop(m).attribute(x, target=t)),
    ("layer_grad_cam", ["--interpolate", "nearest"], lambda ca, m, l, x, t:
        ca.LayerAttribution.interpolate(
            ca.LayerGradCam(m, l).attribute(x, target=t), x.shape[2:])),
    ("layer_gradient_x_activation", [], lambda ca, m, l, x, t:
        ca.LayerGradientXActivation(m, l).attribute(x, target=t)),
    ("integrated_gradients", ["--n-steps", "200", "--internal-batch-size", "50"],
     lambda ca, m, l, x, t: ca.IntegratedGradients(m).attribute(
         x, baselines=torch.zeros_like(x), target=t, n_steps=200,
         internal_batch_size=50)),
    ("gradient_shap", ["--n-samples", "50"], lambda ca, m, l, x, t:
        ca.GradientShap(m).attribute(x, baselines=torch.zeros_like(x),
                                     target=t, n_samples=50, stdevs=0.0)),
    ("occlusion", ["--strides", "3,8,8", "--window", "3,15,15"],
     lambda ca, m, l, x, t: ca.Occlusion(m).attribute(
         x, strides=(3, 8, 8), sliding_window_shapes=(3, 15, 15),
         baselines=0, target=t, perturbations_per_eval=16)),
    # the methods of issue 15 that Captum has (same parameters both sides)
    ("internal_influence", ["--n-steps", "50", "--internal-batch-size", "50"],
     lambda ca, m, l, x, t: ca.InternalInfluence(m, l).attribute(
         x, baselines=torch.zeros_like(x), target=t, n_steps=50,
         internal_batch_size=50)),
    ("layer_gradient_shap", ["--n-samples", "50"], lambda ca, m, l, x, t:
        ca.LayerGradientShap(m, l).attribute(
            x, baselines=torch.zeros_like(x), target=t, n_samples=50,
            stdevs=0.0)),
    ("layer_feature_ablation", [], lambda ca, m, l, x, t:
        ca.LayerFeatureAblation(m, l).attribute(
            x, target=t, perturbations_per_eval=16)),
    ("shapley_values", ["--feature-mask", "cells:2"], lambda ca, m, l, x, t:
        ca.ShapleyValues(m).attribute(
            x, baselines=0, target=t, feature_mask=cells_mask(2),
            perturbations_per_eval=16)),
    # beyond Captum: Heatlens' column only
    ("grad_cam_plus_plus", [], None),
    ("xgrad_cam", [], None),
    ("score_cam", [], None),
    ("rise", ["--n-masks", "500"], None),
    ("blur_ig", [], None),
    ("guided_ig", [], None),
]


def cells_mask(n, side=224):
    """Heatlens' cells:N mask as Captum's feature_mask tensor."""
    i = torch.arange(side) * n // side
    return (i[:, None] * n + i[None, :]).expand(1, 3, side, side)

HEATLENS_LAYER = {
    "resnet18": "/layer4/layer4.1/relu_1/Relu_output_0",
    "mobilenet_v2": "MobilenetV2/Conv_1/Relu6",
}


def heatlens_seconds(args, flags, npy, reps):
    cmd = [args.cli, "explain", "--input-npy", npy, "--json",
           "--threads", str(args.threads)] + flags
    if args.onnx:
        cmd += ["--model", args.onnx]
    times = []
    for _ in range(reps):
        out = subprocess.run(cmd, capture_output=True, text=True)
        if out.returncode != 0:
            return None
        times.append(json.loads(out.stdout)["seconds"])
    return statistics.median(times)


def heatlens_warm_seconds(args, flags, npy, reps):
    cmd = [args.bench_method, "--input-npy", npy, "--threads",
           str(args.threads), "--calls", str(reps + 1)] + flags
    if args.onnx:
        cmd += ["--model", args.onnx]
    out = subprocess.run(cmd, capture_output=True, text=True)
    if out.returncode != 0:
        return None
    # "...; warm median W s wall C s CPU ..."
    words = out.stdout.split("warm median ")[1].split()
    return float(words[3] if args.cpu else words[0])


def methods(args, model, layer):
    ca, version = import_captum()
    if ca is None:
        print("# Captum not importable (%s): Heatlens column only; put a "
              "checkout of captum v0.7.0 on PYTHONPATH" % version, flush=True)
    else:
        print("# Captum %s, PyTorch %s, %d threads" %
              (version, torch.__version__, args.threads), flush=True)
    torch.manual_seed(1)
    x = torch.randn(1, 3, 224, 224)
    with torch.no_grad():
        target = int(model(x).argmax())
    if args.model == "mobilenet_v2":
        target_flags = []   # a different network: each side its own top-1
    else:
        target_flags = ["--target", str(target)]
    only = [c for c in args.only.split(",") if c]
    with tempfile.TemporaryDirectory() as tmp:
        npy = os.path.join(tmp, "x.npy")
        import numpy
        numpy.save(npy, x.numpy())
        for name, flags, call in METHODS:
            if only and name not in only:
                continue
            flags = ["--method", name] + flags + target_flags
            if name.startswith("layer_") or name in (
                    "internal_influence", "grad_cam_plus_plus", "xgrad_cam",
                    "score_cam"):
                flags += ["--layer", HEATLENS_LAYER[args.model]]
            hs = heatlens_warm_seconds(args, flags, npy, args.reps)
            cli = heatlens_seconds(args, flags, npy, 1)
            cs = None
            if ca is not None and call is not None:
                cs = timed(lambda: call(ca, model, layer, x, target), args.reps)
            print("%s %s %s %s %s" % (
                name, "%.4f" % hs if hs is not None else "failed",
                "%.4f" % cli if cli is not None else "failed",
                "%.4f" % cs if cs is not None else "-",
                "%.2f" % (hs / cs) if hs and cs else "-"), flush=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", default="resnet18",
                    choices=["resnet18", "mobilenet_v2"])
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--only", default="",
                    help="comma-separated subset of the case or method names")
    ap.add_argument("--methods", action="store_true",
                    help="time Captum methods beside heatlens-cli explain")
    ap.add_argument("--cli", default=os.path.join(ROOT, "build", "src", "cli",
                                                  "heatlens-cli"))
    ap.add_argument("--bench-method", default=os.path.join(
        ROOT, "build", "bench", "bench-method"))
    ap.add_argument("--onnx", default=None,
                    help="the model for heatlens-cli (default: "
                         "bench/models/resnet18.onnx or the bundled model)")
    ap.add_argument("--cpu", action="store_true",
                    help="process CPU seconds instead of wall seconds (on a "
                         "busy machine, with --threads 1: the work each "
                         "side does, without waiting for a core)")
    args = ap.parse_args()
    if args.cpu:
        global CLOCK
        CLOCK = time.process_time
    if args.onnx is None and args.model == "resnet18":
        args.onnx = os.path.join(ROOT, "bench", "models", "resnet18.onnx")
    torch.set_num_threads(args.threads)
    model, layer = make_model(args.model)
    if args.methods:
        methods(args, model, layer)
    else:
        engine_cases(args, model)


if __name__ == "__main__":
    main()
