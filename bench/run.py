"""Optimizer step benchmarks: mxopt fast path vs reference path vs torch.optim vs the
memory-bandwidth bound (run by ``make bench``; about a minute on 2 cores).

For SGD (momentum 0.9) and Adam on (a) one 2**24-element float32 tensor and (b) a
ResNet-50-like list of ~25.6M float32 parameters in 161 tensors, it prints the best-of-N step
time of each path, the bound (bytes the rule must move / measured in-place streaming
bandwidth) and the ratios, then the first-step overhead in a fresh process with a cold and
a warm kernel cache. Timings are machine- and load-dependent; nothing here is asserted.

    .venv/bin/python bench/run.py [--quick]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import textwrap
import time

import torch

import mxopt as mx

# Bytes per parameter each rule reads + writes (float32): w, g, states in; w, states out.
BYTES = {"sgd": 4 * (3 + 2), "adam": 4 * (4 + 3)}


def best_time(fn, repeats: int, warmup: int = 1) -> float:
    """Fastest of ``repeats`` timed calls (robust to other load on a shared machine)."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def bandwidth(n: int = 1 << 27) -> float:
    """In-place streaming bandwidth in bytes/s: ``a += b`` reads a and b, writes a."""
    a, b = torch.ones(n), torch.ones(n)
    t = best_time(lambda: torch.add(a, b, out=a), repeats=7, warmup=2)
    return 3 * 4 * n / t


def resnet50_shapes() -> list[tuple[int, ...]]:
    """Parameter shapes of ResNet-50 (conv weights, batch-norm gamma/beta, fc)."""
    shapes: list[tuple[int, ...]] = [(64, 3, 7, 7), (64,), (64,)]
    cin = 64
    for width, blocks in ((64, 3), (128, 4), (256, 6), (512, 3)):
        for b in range(blocks):
            for co, ci, k in ((width, cin, 1), (width, width, 3), (4 * width, width, 1)):
                shapes += [(co, ci, k, k), (co,), (co,)]
            if b == 0:
                shapes += [(4 * width, cin, 1, 1), (4 * width,), (4 * width,)]
            cin = 4 * width
    return shapes + [(1000, 2048), (1000,)]


def make(shapes, seed=0):
    gen = torch.Generator().manual_seed(seed)
    return [torch.randn(s, generator=gen) * 0.1 for s in shapes]


def mx_step(rule: str, shapes, fused: bool):
    kwargs = dict(momentum=0.9) if rule == "sgd" else {}
    opt = mx.optimizer.create(rule, learning_rate=0.01, wd=1e-4, fused=fused, **kwargs)
    upd = mx.optimizer.get_updater(opt)
    weights, grads = make(shapes), make(shapes, 1)
    idx = list(range(len(shapes)))
    return lambda: upd(idx, grads, weights)


def torch_step(rule: str, shapes):
    params = [torch.nn.Parameter(w) for w in make(shapes)]
    for p, g in zip(params, make(shapes, 1)):
        p.grad = g
    if rule == "sgd":
        opt = torch.optim.SGD(params, lr=0.01, momentum=0.9, weight_decay=1e-4, foreach=True)
    else:
        opt = torch.optim.Adam(params, lr=0.01, weight_decay=1e-4, fused=True)
    return opt.step


FIRST_STEP = textwrap.dedent(
    """
    import time, torch, mxopt as mx
    w, g = [torch.ones(1 << 20)], [torch.ones(1 << 20)]
    upd = mx.optimizer.get_updater(mx.optimizer.Adam())
    t = []
    for _ in range(3):
        t0 = time.perf_counter(); upd([0], g, w); t.append(time.perf_counter() - t0)
    print(t[0] - t[2])
    """
)


def first_step_overhead(cache: str) -> float:
    env = dict(os.environ, MXOPT_CACHE_DIR=cache)
    out = subprocess.run(
        [sys.executable, "-c", FIRST_STEP], env=env, capture_output=True, text=True, check=True
    )
    return float(out.stdout.strip())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repeats")
    args = parser.parse_args()
    reps = 3 if args.quick else 15
    bw = bandwidth()
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads")
    print(f"in-place streaming bandwidth (a += b, 3 x 512 MiB per pass): {bw / 1e9:.1f} GB/s\n")
    cases = {"1 x 2^24": [(1 << 24,)], "ResNet-50 list": resnet50_shapes()}
    header = (
        "| rule | params | tensors | fast ms | reference ms | torch ms | bound ms "
        "| fast/bound | fast/torch | reference/fast |"
    )
    print(header)
    print("|---" * 10 + "|")
    for rule in ("sgd", "adam"):
        for label, shapes in cases.items():
            n = sum(torch.Size(s).numel() for s in shapes)
            fast = best_time(mx_step(rule, shapes, True), reps)
            ref = best_time(mx_step(rule, shapes, False), max(3, reps // 3))
            tch = best_time(torch_step(rule, shapes), reps)
            bound = BYTES[rule] * n / bw
            torch_name = "foreach" if rule == "sgd" else "fused"
            print(
                f"| {rule}{' (momentum)' if rule == 'sgd' else ''} | {label} ({n / 1e6:.1f}M) "
                f"| {len(shapes)} | {fast * 1e3:.1f} | {ref * 1e3:.1f} "
                f"| {tch * 1e3:.1f} ({torch_name}) | {bound * 1e3:.1f} | {fast / bound:.2f} "
                f"| {fast / tch:.2f} | {ref / fast:.1f} |"
            )
    with tempfile.TemporaryDirectory() as cache:
        cold = first_step_overhead(cache)
        warm = first_step_overhead(cache)
    print(
        f"\nfirst step minus a later step, fresh process (Adam, 2^20 params): "
        f"cold cache {cold * 1e3:.0f} ms (compiles the kernels), warm cache {warm * 1e3:.0f} ms"
    )


if __name__ == "__main__":
    main()
