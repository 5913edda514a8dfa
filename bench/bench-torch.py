#!/usr/bin/python3
"""Time torchvision's ResNet-18 in PyTorch, for bench-engine's comparison.

Usage: /usr/bin/python3 bench/bench-torch.py [--threads N] [--reps R]
Prints one line per case, "NAME SECONDS" (median of R runs after a warm-up):
forward_b1, forward_grad_b1, forward_b32, forward_grad_b32. The input gradient is taken with
the weights frozen (requires_grad False), the same work as Heatlens' engine,
which never computes weight gradients.
"""
import argparse
import statistics
import time

import torch
import torchvision


def timed(fn, reps):
    fn()
    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--only", default="",
                    help="comma-separated subset of the case names")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    model = torchvision.models.resnet18(weights=None).eval()
    for p in model.parameters():
        p.requires_grad_(False)
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


if __name__ == "__main__":
    main()
