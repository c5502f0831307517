"""Optimizer step benchmarks over mxopt's whole optimizer catalog (run by ``make bench``).

For every optimizer in :data:`RULES` and two float32 workloads -- (a) the parameter list of
ResNet-50 (~25.6M parameters in 161 tensors) and (b) one 2**24-element tensor -- it times one
``Updater`` step over the whole index list, as ``Module`` calls it, on:

* **fast**: mxopt with ``fused=True`` (the fused CPU kernels where the rule has them; the
  ``fused?`` column says whether the kernels ran);
* **reference**: mxopt with ``fused=False`` (eager torch ops);
* **torch**: ``torch.optim``'s fastest CPU mode (fused / foreach / for-loop) for the same
  rule, where torch has one;
* **MXNet**: real MXNet 1.9.1 through bench/mxnet_side.py, when ``.mxref/bin/python``
  exists (optional);
* **bound**: the bytes the rule must move divided by the streaming bandwidth measured
  while the row is timed: a bandwidth probe runs before every fast step and every torch
  step (round robin), and each is the best of its repeats, so a row's three numbers see
  the same conditions on a shared machine whose bandwidth drifts;
* **compute floor**, for the rows over the per-rule goal on (a): the fused kernels' time per
  parameter on cache-resident data times the parameter count (:func:`compute_floor`).

Then the first-step overhead in a fresh process (cold and warm kernel cache) and
end-to-end ``Module.fit`` throughput with the fast path on and off. Times are best-of-N and
machine/load dependent; nothing is asserted, the goals are only reported.

    .venv/bin/python bench/run.py [--quick] [--only sgd,adam] [--no-mxnet] [--json out.json]
"""

from __future__ import annotations

import argparse
import functools
import importlib.util
import json
import math
import os
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from timing import best_time  # bench/timing.py (this script's folder is on sys.path)

import mxopt as mx
from mxopt.optimizer.fused import engine

ROOT = Path(__file__).resolve().parent.parent
MXNET_PYTHON = ROOT / ".mxref" / "bin" / "python"
MXNET_SIDE = Path(__file__).resolve().parent / "mxnet_side.py"

Shape = tuple[int, ...]
TorchPeer = Callable[..., torch.optim.Optimizer]  # peer(params, **mode_flags)

# ---------------------------------------------------------------------------------------------
# The catalog
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Rule:
    """How one optimizer is benchmarked.

    ``bytes_per_param`` is the least memory traffic of one float32 step: 4 bytes x (tensors
    read + tensors written) per parameter; ``moves`` says which. ``bytes_per_row`` adds a
    per-row term (GroupAdaGrad's history). ``two_d`` reshapes every workload tensor to 2-D
    (rows = first dim, the rest flattened; 1-D tensors become (n, 1))."""

    kwargs: dict[str, Any]
    bytes_per_param: int
    moves: str
    torch_peer: TorchPeer | None = None
    two_d: bool = False
    bytes_per_row: int = 0


_LR = {"learning_rate": 0.01, "wd": 1e-4}
_MOM = {**_LR, "momentum": 0.9}


def _peer(cls: type[torch.optim.Optimizer], **kwargs: Any) -> TorchPeer:
    """A torch.optim peer with the same learning rate and weight decay (unless overridden)."""
    return functools.partial(cls, **{"lr": 0.01, "weight_decay": 1e-4, **kwargs})


_T = torch.optim
# name: Rule(kwargs, bytes per float32 param, what is read (r) and written (w), torch peer)
RULES: dict[str, Rule] = {
    "sgd": Rule(_MOM, 20, "r w,g,mom; w w,mom", _peer(_T.SGD, momentum=0.9)),
    "nag": Rule(_MOM, 20, "r w,g,mom; w w,mom", _peer(_T.SGD, momentum=0.9, nesterov=True)),
    "adam": Rule(_LR, 28, "r w,g,m,v; w w,m,v", _peer(_T.Adam)),
    # non-centered: one state; alpha/eps as MXNet's gamma1/epsilon defaults
    "rmsprop": Rule(_LR, 20, "r w,g,n; w w,n", _peer(_T.RMSprop, alpha=0.9, eps=1e-8)),
    "adagrad": Rule(_LR, 20, "r w,g,history; w w,history", _peer(_T.Adagrad, eps=1e-7)),
    # MXNet's AdaDelta has no learning rate: torch's lr=1 is the same rule
    "adadelta": Rule(
        _LR,
        28,
        "r w,g,acc_g,acc_dx; w w,acc_g,acc_dx",
        _peer(_T.Adadelta, lr=1.0, eps=1e-5, rho=0.9),
    ),
    "test": Rule(_LR, 16, "r w,g; w w,state"),
    "ccsgd": Rule(_MOM, 20, "r w,g,mom; w w,mom", _peer(_T.SGD, momentum=0.9)),
    "adamax": Rule(_LR, 28, "r w,g,m,u; w w,m,u", _peer(_T.Adamax)),
    "nadam": Rule(_LR, 28, "r w,g,m,v; w w,m,v", _peer(_T.NAdam, momentum_decay=0.004)),
    # (MXNet 1.9.1's DCASGD crashes with momentum > 0, so its MXNet column shows "-")
    "dcasgd": Rule(_MOM, 28, "r w,g,mom,previous w; w w,mom,previous w"),
    "sgld": Rule(_LR, 12, "r w,g; w w (the noise is generated, not read)"),
    "signum": Rule(_MOM, 20, "r w,g,mom; w w,mom"),
    "ftml": Rule(_LR, 36, "r w,g,d,v,z; w w,d,v,z"),
    "ftrl": Rule(_LR, 28, "r w,g,z,n; w w,z,n"),
    # refuses wd, takes 2-D weights only; its history is one float per row
    "groupadagrad": Rule(
        {"learning_rate": 0.01, "wd": 0.0},
        12,
        "r w,g; w w (+ history r/w: 8 B per row)",
        two_d=True,
        bytes_per_row=8,
    ),
    "lars": Rule({**_MOM, "eta": 0.001}, 28, "norm pass r w,g (8) + momentum SGD (20)"),
    "lbsgd": Rule(_MOM, 20, "momentum SGD (the default linear warmup only scales lr)"),
    "lamb": Rule(_LR, 40, "r w,g,m,v; w m,v (24) + r w,m,v; w w (16)"),
    "adamw": Rule(_LR, 28, "r w,g,m,v; w w,m,v", _peer(_T.AdamW)),
    "adabelief": Rule(_LR, 28, "r w,g,m,s; w w,m,s"),
    "lans": Rule(_LR, 48, "norm pass r g (4) + LAMB-like passes, the last re-reading g (24+20)"),
    "lion": Rule({"learning_rate": 1e-4, "wd": 1e-4}, 20, "r w,g,m; w w,m"),
}

TORCH_MODES: tuple[tuple[str, dict[str, bool]], ...] = (
    ("fused", {"fused": True}),
    ("foreach", {"foreach": True}),
    ("for-loop", {"foreach": False}),
)

# Goals (reported, never asserted).
GOAL_BOUND_EACH = 1.3  # fast/bound for every optimizer on workload (a)
GOAL_BOUND_GEOMEAN = 1.2  # geometric mean of fast/bound on workload (a)
GOAL_MXNET_SPEEDUP = 5.0  # MXNet time / fast time


@dataclass(frozen=True)
class Settings:
    """Repeats per path (best of N after one warm-up) and a per-measurement time budget:
    a measurement stops early once it has run ``budget_s`` (keeping slow rows and an
    overloaded machine from stretching the run; fast steps still get all N)."""

    fast: int  # rounds of (probe, fast step, each torch mode's step)
    reference: int
    mxnet: int
    budget_s: float
    fit_epochs: int


DEFAULT = Settings(fast=10, reference=3, mxnet=3, budget_s=2.0, fit_epochs=3)
QUICK = Settings(fast=3, reference=1, mxnet=2, budget_s=1.0, fit_epochs=2)

# ---------------------------------------------------------------------------------------------
# Timing helpers and workloads
# ---------------------------------------------------------------------------------------------


_START = time.perf_counter()


def log(msg: str) -> None:
    """Progress on stderr, with the seconds since the start."""
    print(f"[{time.perf_counter() - _START:5.0f}s] {msg}", file=sys.stderr, flush=True)


class Probe:
    """The streaming-bandwidth probe, ``torch.add(a, b, out=a)`` over two ``n``-float
    tensors (3 x 4n bytes moved), timed one pass at a time between other steps."""

    def __init__(self, n: int = 1 << 26) -> None:
        self.a, self.b = torch.ones(n), torch.ones(n)
        self.bytes = 3 * 4 * n
        self.times: list[float] = []
        torch.add(self.a, self.b, out=self.a)  # warm-up: pages touched

    def once(self) -> None:
        t0 = time.perf_counter()
        torch.add(self.a, self.b, out=self.a)
        self.times.append(time.perf_counter() - t0)


def resnet50_shapes() -> list[Shape]:
    """Parameter shapes of ResNet-50 (conv weights, batch-norm gamma/beta, fc)."""
    shapes: list[Shape] = [(64, 3, 7, 7), (64,), (64,)]
    cin = 64
    for width, blocks in ((64, 3), (128, 4), (256, 6), (512, 3)):
        for b in range(blocks):
            for co, ci, k in ((width, cin, 1), (width, width, 3), (4 * width, width, 1)):
                shapes += [(co, ci, k, k), (co,), (co,)]
            if b == 0:
                shapes += [(4 * width, cin, 1, 1), (4 * width,), (4 * width,)]
            cin = 4 * width
    return shapes + [(1000, 2048), (1000,)]


WORKLOADS: dict[str, list[Shape]] = {
    "ResNet-50 list": resnet50_shapes(),  # workload (a): the catalog's goals are on this one
    "1 x 2^24": [(1 << 24,)],
}
WORKLOAD_A = "ResNet-50 list"


def as_2d(shape: Shape) -> Shape:
    """Rows = first dim, the rest flattened; a 1-D tensor becomes (n, 1), except the
    2^24 workload, which becomes a (4096, 4096) table (a (2^24, 1) "table" of one-element
    rows is not a shape GroupAdaGrad is used on)."""
    if shape == (1 << 24,):
        return (4096, 4096)
    return (shape[0], math.prod(shape[1:]))


def shapes_for(rule: Rule, shapes: list[Shape]) -> list[Shape]:
    return [as_2d(s) for s in shapes] if rule.two_d else list(shapes)


@dataclass
class Workload:
    """Weights and gradients made once; each measurement gets fresh copies."""

    label: str
    weights: list[torch.Tensor]
    grads: list[torch.Tensor]

    @classmethod
    def make(cls, label: str, shapes: list[Shape]) -> Workload:
        gen = torch.Generator().manual_seed(0)
        weights = [torch.randn(s, generator=gen) * 0.1 for s in shapes]
        grads = [torch.randn(s, generator=gen) * 0.1 for s in shapes]
        return cls(label, weights, grads)

    def copies(self, two_d: bool = False) -> tuple[list[torch.Tensor], list[torch.Tensor]]:
        def prep(t: torch.Tensor) -> torch.Tensor:
            t = t.clone()
            return t.reshape(as_2d(tuple(t.shape))) if two_d else t

        return [prep(w) for w in self.weights], [prep(g) for g in self.grads]

    @property
    def params(self) -> int:
        return sum(w.numel() for w in self.weights)

    @property
    def rows(self) -> int:
        """Rows of the tensors as 2-D (see :func:`as_2d`)."""
        return sum(as_2d(tuple(w.shape))[0] for w in self.weights)


# ---------------------------------------------------------------------------------------------
# One row: fast, reference, torch
# ---------------------------------------------------------------------------------------------


@dataclass
class Row:
    """Times in seconds (``None``: not measured or failed)."""

    name: str
    workload: str
    params: int
    tensors: int
    bytes_per_param: float
    bytes_moved: float
    bound: float = 0.0  # bytes_moved / bandwidth
    bandwidth: float = 0.0  # bytes/s: the best probe taken in turns with the row's steps
    fast: float | None = None
    fused: str = "-"  # yes / partial / no: whether the kernels updated the tensors
    reference: float | None = None
    torch: float | None = None
    torch_mode: str | None = None
    torch_modes: dict[str, float] = field(default_factory=dict)
    mxnet: float | None = None
    floor: float | None = None  # compute floor (see compute_floor), rows over the goal on (a)
    errors: list[str] = field(default_factory=list)


def mxopt_updater(name: str, fused: bool) -> mx.optimizer.Updater:
    return mx.optimizer.get_updater(mx.optimizer.create(name, fused=fused, **RULES[name].kwargs))


def mxopt_step(
    name: str, wl: Workload, fused: bool
) -> tuple[Callable[[], None], Callable[[], str]]:
    """One step of mxopt's Updater over the whole index list, and a function telling
    whether the fused kernels updated every tensor of every step so far ("yes"), some
    ("partial") or none ("no")."""
    weights, grads = wl.copies(RULES[name].two_d)
    upd = mxopt_updater(name, fused)
    idx = list(range(len(weights)))
    before = engine.stats["tensors"]

    def fused_state() -> str:
        moved = engine.stats["tensors"] - before
        steps = upd.optimizer.num_update
        return "no" if moved == 0 else "yes" if moved >= steps * len(weights) else "partial"

    return (lambda: upd(idx, grads, weights)), fused_state


def time_mxopt(
    name: str, wl: Workload, fused: bool, repeats: int, s: Settings
) -> tuple[float, str]:
    """Best step time of mxopt's Updater (see :func:`mxopt_step`) and its fused state."""
    step, fused_state = mxopt_step(name, wl, fused)
    return best_time(step, repeats, 1, s.budget_s), fused_state()


# The compute floor's data (by ``two_d``): one tensor whose w, g and states, split between
# the threads, stay in their L2 caches, updated FLOOR_REPEATS times in one kernel call.
FLOOR_SHAPE = {False: (1 << 16,), True: (128, 512)}
FLOOR_REPEATS = 64


def compute_floor(name: str, params: int, s: Settings) -> float:
    """The fused rule's time per parameter when its data is in cache, times ``params``:
    what its arithmetic costs when memory is not the limit (SGLD's Gaussian noise,
    GroupAdaGrad's row sums). Its kernels run in one call over the same cache-resident
    tensor ``FLOOR_REPEATS`` times (the engine's runner given that item repeated: this
    reaches into ``mxopt.optimizer.fused.engine``, so no Python cost is counted)."""
    opt = mx.optimizer.create(name, **RULES[name].kwargs)
    rule = engine.rule_for(opt)
    if rule is None:
        raise ValueError(f"{name} has no fused rule")
    shape = FLOOR_SHAPE[RULES[name].two_d]
    gen = torch.Generator().manual_seed(0)
    w = torch.randn(shape, generator=gen) * 0.1
    g = torch.randn(shape, generator=gen) * 0.1
    states = rule.states_of(opt.create_state(0, w))
    opt._update_count([0])
    item = engine.Item(0, w, g, states, opt._get_lrs([0])[0], opt._get_wds([0])[0])
    run = engine._runner(rule, opt)
    items = [item] * FLOOR_REPEATS
    t = best_time(lambda: run(items, "f32", torch.float32), 3 * s.fast, 2, s.budget_s)
    return t / (FLOOR_REPEATS * w.numel()) * params


def add_floors(rows: list[Row], s: Settings) -> None:
    """The compute floor (:func:`compute_floor`) of each row over the per-rule goal on
    workload (a): whether its arithmetic alone already exceeds the goal."""
    for row in rows:
        if row.workload == WORKLOAD_A and row.fast and row.fast / row.bound > GOAL_BOUND_EACH:
            log(f"compute floor: {row.name}")
            try:
                row.floor = compute_floor(row.name, row.params, s)
            except Exception as e:
                row.errors.append(f"floor: {type(e).__name__}: {e}")


def torch_steps(peer: TorchPeer, wl: Workload) -> dict[str, Callable[[], Any]]:
    """A step of each torch.optim CPU mode the peer accepts (mode -> step), each on its
    own copy of the workload, warmed up (states created)."""
    out: dict[str, Callable[[], Any]] = {}
    for mode, flags in TORCH_MODES:
        weights, grads = wl.copies()
        params = [torch.nn.Parameter(w) for w in weights]
        for p, g in zip(params, grads):
            p.grad = g
        try:
            opt = peer(params, **flags)
            opt.step()
        except (RuntimeError, TypeError, ValueError):
            continue  # this mode is not supported on CPU for this optimizer
        out[mode] = opt.step
    return out


def round_robin(
    steps: dict[str, Callable[[], Any]], repeats: int, budget_s: float
) -> dict[str, float]:
    """Best time of each step, timed in turns (one of each per round), so that all see the
    same conditions; stops early once the rounds have taken ``budget_s`` x the count."""
    times: dict[str, list[float]] = {key: [] for key in steps}
    start = time.perf_counter()
    for _ in range(repeats):
        for key, step in steps.items():
            t0 = time.perf_counter()
            step()
            times[key].append(time.perf_counter() - t0)
        if time.perf_counter() - start > budget_s * len(steps):
            break
    return {key: min(ts) for key, ts in times.items()}


def measure(name: str, wl: Workload, s: Settings) -> Row:
    """Times one optimizer on one workload: the fast path, the torch modes and the
    bandwidth probe in turns (see :func:`round_robin`), then the reference path."""
    rule = RULES[name]
    n = wl.params
    moved = rule.bytes_per_param * n + rule.bytes_per_row * (wl.rows if rule.two_d else 0)
    row = Row(name, wl.label, n, len(wl.weights), moved / n, moved)
    probe = Probe()
    steps: dict[str, Callable[[], Any]] = {}
    fused_state = None
    try:
        steps["fast"], fused_state = mxopt_step(name, wl, True)
        steps["fast"]()  # warm-up: states, kernels
    except Exception as e:
        row.errors.append(f"fast: {type(e).__name__}: {e}")
        steps.pop("fast", None)
    if rule.torch_peer is not None:
        try:
            steps.update(torch_steps(rule.torch_peer, wl))
        except Exception as e:
            row.errors.append(f"torch: {type(e).__name__}: {e}")
    timed = {"probe": probe.once, **steps}
    best = round_robin(timed, s.fast, s.budget_s)
    row.bandwidth = probe.bytes / best.pop("probe")
    row.bound = moved / row.bandwidth
    if "fast" in best:
        row.fast = best.pop("fast")
        row.fused = fused_state() if fused_state is not None else "-"
    row.torch_modes = best
    if row.torch_modes:
        row.torch_mode = min(row.torch_modes, key=row.torch_modes.__getitem__)
        row.torch = row.torch_modes[row.torch_mode]
    del timed, steps, probe  # free the fast and torch states before the reference path
    try:
        row.reference, _ = time_mxopt(name, wl, False, s.reference, s)
    except Exception as e:
        row.errors.append(f"reference: {type(e).__name__}: {e}")
    return row


# ---------------------------------------------------------------------------------------------
# Real MXNet 1.9.1 (optional side process)
# ---------------------------------------------------------------------------------------------


def run_mxnet(names: list[str], s: Settings) -> dict[str, Any] | None:
    """Times MXNet's Updater in ``.mxref/bin/python bench/mxnet_side.py`` (``None`` when
    there is no such environment or it failed)."""
    if not MXNET_PYTHON.exists():
        log("no .mxref/bin/python: skipping real MXNet")
        return None
    spec = {
        "rules": {
            name: {
                "kwargs": RULES[name].kwargs,
                "workloads": {
                    label: shapes_for(RULES[name], shapes) for label, shapes in WORKLOADS.items()
                },
            }
            for name in names
        },
        "repeats": s.mxnet,
        "budget_s": s.budget_s,
    }
    log("real MXNet 1.9.1 (side process) ...")
    try:
        out = subprocess.run(
            [str(MXNET_PYTHON), str(MXNET_SIDE)],
            input=json.dumps(spec),
            stdout=subprocess.PIPE,
            text=True,
            timeout=900,
            check=True,
        )
        return json.loads(out.stdout)
    except (subprocess.SubprocessError, json.JSONDecodeError) as e:
        log(f"MXNet side process failed: {e}")
        return None


# ---------------------------------------------------------------------------------------------
# First-step overhead and Module.fit throughput
# ---------------------------------------------------------------------------------------------

FIRST_STEP = textwrap.dedent(
    """
    import json, sys, time, torch, mxopt as mx
    w, g = [torch.ones(1 << 20)], [torch.ones(1 << 20)]
    upd = mx.optimizer.get_updater(mx.optimizer.create(sys.argv[1], **json.loads(sys.argv[2])))
    t = []
    for _ in range(3):
        t0 = time.perf_counter(); upd([0], g, w); t.append(time.perf_counter() - t0)
    print(t[0] - t[2])
    """
)


def first_step_overhead(name: str, cache: str) -> float:
    """First step minus the third, in a fresh process whose kernel cache is ``cache``."""
    env = dict(os.environ, MXOPT_CACHE_DIR=cache)
    cmd = [sys.executable, "-c", FIRST_STEP, name, json.dumps(RULES[name].kwargs)]
    out = subprocess.run(cmd, env=env, capture_output=True, text=True, check=True)
    return float(out.stdout.strip())


def first_steps() -> dict[str, dict[str, float]]:
    out: dict[str, dict[str, float]] = {}
    for name in ("sgd", "adam"):
        log(f"first-step overhead: {name}")
        try:
            with tempfile.TemporaryDirectory() as cache:
                cold = first_step_overhead(name, cache)
                warm = first_step_overhead(name, cache)
        except (subprocess.CalledProcessError, ValueError) as e:
            log(f"first-step overhead of {name} failed: {e}")
            continue
        out[name] = {"cold": cold, "warm": warm}
    return out


def _networks() -> Any:
    """tests/networks.py: the fixture networks, written for either framework."""
    spec = importlib.util.spec_from_file_location("networks", ROOT / "tests" / "networks.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@dataclass(frozen=True)
class FitCase:
    """A ``Module.fit`` workload: a builder from tests/networks.py and synthetic data."""

    builder: str
    sample: Shape
    classes: int
    samples: int
    batch: int


FIT_CASES: dict[str, FitCase] = {
    "seed (fc 20->10, softmax)": FitCase("seed_net", (20,), 10, 256000, 128),  # as the seed
    "conv (conv3x3x4+bn+relu+pool+fc)": FitCase("conv_net", (1, 16, 16), 3, 51200, 100),
}


def fit_samples_per_s(case: FitCase, fused: bool, epochs: int) -> tuple[float, bool]:
    """Samples/s of the best epoch of ``Module.fit`` (SGD, momentum 0.9, random data), and
    whether the fused kernels ran."""
    rng = np.random.RandomState(0)
    x = rng.uniform(-1, 1, size=(case.samples, *case.sample)).astype(np.float32)
    y = rng.randint(0, case.classes, size=case.samples).astype(np.float32)
    it = mx.io.NDArrayIter(x, y, batch_size=case.batch, shuffle=False)
    mod = mx.mod.Module(getattr(_networks(), case.builder)(mx), context=mx.cpu())
    marks = [time.perf_counter()]
    before = engine.stats["tensors"]
    mod.fit(
        it,
        num_epoch=epochs,
        optimizer="sgd",
        optimizer_params={"learning_rate": 0.1, "momentum": 0.9, "wd": 1e-4, "fused": fused},
        initializer=mx.initializer.Uniform(0.1),
        epoch_end_callback=lambda *_: marks.append(time.perf_counter()),
    )
    best = min(b - a for a, b in zip(marks, marks[1:]))
    return case.samples / best, engine.stats["tensors"] > before


def fit_throughput(s: Settings) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for label, case in FIT_CASES.items():
        log(f"Module.fit: {label}")
        try:
            on, ran = fit_samples_per_s(case, True, s.fit_epochs)
            off, _ = fit_samples_per_s(case, False, s.fit_epochs)
        except Exception as e:  # report and go on
            log(f"Module.fit on {label} failed: {type(e).__name__}: {e}")
            continue
        out[label] = {"batch": case.batch, "on": on, "off": off, "kernels_ran": ran}
    return out


# ---------------------------------------------------------------------------------------------
# Report
# ---------------------------------------------------------------------------------------------


def peer_name(peer: TorchPeer | None) -> str | None:
    return None if peer is None else getattr(peer, "func", peer).__name__


def ms(t: float | None) -> str:
    return "-" if t is None else f"{t * 1e3:.1f}"


def ratio(a: float | None, b: float | None, digits: int = 2) -> str:
    return "-" if a is None or b is None else f"{a / b:.{digits}f}"


def print_table(rows: list[Row]) -> None:
    print(
        "| optimizer | B/param | fused? | fast ms | reference ms | torch ms (mode) | MXNet ms "
        "| bound ms | fast/bound | fast/torch | reference/fast | MXNet/fast |"
    )
    print("|---" * 12 + "|")
    for r in rows:
        torch_cell = "-" if r.torch is None else f"{ms(r.torch)} ({r.torch_mode})"
        fast = "err" if r.fast is None and r.errors else ms(r.fast)
        print(
            f"| {r.name} | {r.bytes_per_param:.4g} | {r.fused} | {fast} | {ms(r.reference)} "
            f"| {torch_cell} | {ms(r.mxnet)} | {ms(r.bound)} | {ratio(r.fast, r.bound)} "
            f"| {ratio(r.fast, r.torch)} | {ratio(r.reference, r.fast, 1)} "
            f"| {ratio(r.mxnet, r.fast, 1)} |"
        )


def geomean(xs: list[float]) -> float | None:
    return math.exp(sum(map(math.log, xs)) / len(xs)) if xs else None


def goals(rows: list[Row]) -> list[dict[str, Any]]:
    """Each goal: description, held (True/False/None when nothing to judge), offenders
    (with the ratio the goal is about)."""
    a = [r for r in rows if r.workload == WORKLOAD_A and r.fast is not None]
    gm = geomean([r.fast / r.bound for r in a])

    def check(
        text: str, rows_: list[Row], value: Callable[[Row], float], ok: Callable[[float], bool]
    ) -> dict[str, Any]:
        bad = [f"{r.name} ({r.workload}: {value(r):.2f})" for r in rows_ if not ok(value(r))]
        return {"goal": text, "held": None if not rows_ else not bad, "offenders": bad}

    with_torch = [r for r in rows if r.fast is not None and r.torch is not None]
    with_mxnet = [r for r in rows if r.fast is not None and r.mxnet is not None]
    return [
        check(
            f"fast/bound <= {GOAL_BOUND_EACH} for every optimizer on {WORKLOAD_A}",
            a,
            lambda r: r.fast / r.bound,
            lambda x: x <= GOAL_BOUND_EACH,
        ),
        {
            "goal": f"geomean fast/bound <= {GOAL_BOUND_GEOMEAN} on {WORKLOAD_A} over "
            f"{len(a)} optimizers" + ("" if gm is None else f" (is {gm:.2f})"),
            "held": None if gm is None else gm <= GOAL_BOUND_GEOMEAN,
            "offenders": [],
        },
        check(
            "fast <= torch where a torch peer exists (both workloads; fast/torch shown)",
            with_torch,
            lambda r: r.fast / r.torch,
            lambda x: x <= 1.0,
        ),
        check(
            f"MXNet/fast >= {GOAL_MXNET_SPEEDUP} (both workloads)",
            with_mxnet,
            lambda r: r.mxnet / r.fast,
            lambda x: x >= GOAL_MXNET_SPEEDUP,
        ),
    ]


def print_goals(gs: list[dict[str, Any]]) -> None:
    print("\nGoals (reported, not asserted):")
    for g in gs:
        mark = {True: "yes", False: "NO", None: "n/a"}[g["held"]]
        tail = f" -- not met by: {', '.join(g['offenders'])}" if g["offenders"] else ""
        print(f"* [{mark}] {g['goal']}{tail}")


# ---------------------------------------------------------------------------------------------
# Main
# ---------------------------------------------------------------------------------------------


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repeats")
    parser.add_argument("--only", metavar="NAME[,NAME]", help="optimizers to run (default: all)")
    parser.add_argument("--no-mxnet", action="store_true", help="skip real MXNet 1.9.1")
    parser.add_argument("--json", metavar="PATH", type=Path, help="also write all numbers here")
    args = parser.parse_args(argv)
    names = list(RULES)
    if args.only:
        names = [n.strip().lower() for n in args.only.split(",") if n.strip()]
        unknown = [n for n in names if n not in RULES]
        if unknown:
            parser.error(f"unknown optimizer(s) {unknown}; known: {', '.join(RULES)}")
    args.names = names
    return args


@dataclass
class Report:
    """Everything one run measured (``--json`` writes it as is, plus the rules)."""

    torch: str
    threads: int
    load_average: list[float]  # 1-minute load average at the start and at the end
    settings: Settings
    names: list[str]
    rows: list[Row] = field(default_factory=list)
    mxnet: dict[str, Any] | None = None
    first_step: dict[str, dict[str, float]] = field(default_factory=dict)
    fit: dict[str, dict[str, Any]] = field(default_factory=dict)
    elapsed_s: float = 0.0

    @property
    def bandwidths(self) -> list[float]:
        """Each row's probed bandwidth (bytes/s), sorted: on this shared VM it drifts by up
        to 2x over a run (neighbours' load), hence one probe per row."""
        return sorted(r.bandwidth for r in self.rows if r.bandwidth)

    def geomean_a(self) -> tuple[float | None, int]:
        """Geometric mean of fast/bound over the optimizers on workload (a), and their count."""
        xs = [r.fast / r.bound for r in self.rows if r.workload == WORKLOAD_A and r.fast]
        return geomean(xs), len(xs)

    def to_json(self) -> dict[str, Any]:
        rules = {
            k: {
                "kwargs": v.kwargs,
                "bytes_per_param": v.bytes_per_param,
                "bytes_per_row": v.bytes_per_row,
                "moves": v.moves,
                "two_d": v.two_d,
                "torch_peer": peer_name(v.torch_peer),
            }
            for k, v in RULES.items()
            if k in self.names
        }
        gm, _ = self.geomean_a()
        return {
            **asdict(self),
            "bandwidth_bytes_per_s_by_row": self.bandwidths,
            "rules": rules,
            "geomean_fast_over_bound": gm,
            "goals": goals(self.rows),
        }


def collect(names: list[str], s: Settings, with_mxnet: bool) -> Report:
    start = time.perf_counter()
    report = Report(torch.__version__, torch.get_num_threads(), [os.getloadavg()[0]], s, names)
    if report.load_average[0] > (os.cpu_count() or 1) / 2:
        log("warning: the machine is busy; OpenMP steps can stall badly under load")
    for label, shapes in WORKLOADS.items():
        wl = Workload.make(label, shapes)
        for name in names:
            log(f"{label}: {name}")
            report.rows.append(measure(name, wl, s))
        del wl
    add_floors(report.rows, s)
    if with_mxnet:
        report.mxnet = run_mxnet(names, s)
    if report.mxnet is not None:
        for r in report.rows:
            r.mxnet = report.mxnet["results"].get(r.name, {}).get(r.workload)
    report.first_step = first_steps()
    report.fit = fit_throughput(s)
    report.load_average.append(os.getloadavg()[0])
    report.elapsed_s = time.perf_counter() - start
    return report


def print_report(rep: Report) -> None:
    print(f"torch {rep.torch}, {rep.threads} threads, {os.cpu_count()} CPUs")
    bw = rep.bandwidths
    bw_text = (
        "-"
        if not bw
        else (
            f"{statistics.median(bw) / 1e9:.1f} GB/s median over the rows "
            f"(min {bw[0] / 1e9:.1f}, max {bw[-1] / 1e9:.1f})"
        )
    )
    print(
        f"in-place streaming bandwidth (a += b, 3 x 256 MiB per pass, probed in turns with "
        f"each row's steps): {bw_text}; 1-min load average {rep.load_average[0]:.1f} at the "
        f"start, {rep.load_average[-1]:.1f} at the end"
    )
    for tag, (label, shapes) in zip("ab", WORKLOADS.items()):
        n = sum(math.prod(sh) for sh in shapes)
        print(
            f"\n### ({tag}) {label}: {n / 1e6:.1f}M float32 parameters in {len(shapes)} tensors\n"
        )
        print_table([r for r in rep.rows if r.workload == label])
    gm, count = rep.geomean_a()
    gm_text = "-" if gm is None else f"{gm:.2f}"
    print(f"\ngeomean fast/bound on {WORKLOAD_A} over {count} optimizers: {gm_text}")
    if rep.mxnet is not None:
        errors = sorted(rep.mxnet["errors"].items())
        print(f"MXNet {rep.mxnet['version']}: " + ("not measured:" if errors else "all measured"))
        for name, why in errors:
            print(f"* {name}: {why}")
    print_goals(goals(rep.rows))
    over = [r for r in rep.rows if r.floor]  # (measured for the rows over the goal only)
    if over:
        print(
            f"* compute floor of those over {GOAL_BOUND_EACH}x on {WORKLOAD_A} (their kernels' "
            "time per parameter on cache-resident data, times the workload's parameters): "
            + ", ".join(
                f"{r.name} {ms(r.floor)} ms (floor/bound {r.floor / r.bound:.2f}, "
                f"fast/floor {r.fast / r.floor:.2f})"
                for r in over
            )
        )

    print("\nFirst step minus a later step, fresh process (2^20 params):")
    for name, t in rep.first_step.items():
        print(
            f"* {name}: cold cache {t['cold'] * 1e3:.0f} ms (compiles the kernels), "
            f"warm cache {t['warm'] * 1e3:.0f} ms"
        )
    print("\nModule.fit throughput (samples/s, best epoch; SGD momentum 0.9):\n")
    print("| network | batch | fast path on | fast path off | on/off | kernels ran |")
    print("|---|---|---|---|---|---|")
    for label, f in rep.fit.items():
        print(
            f"| {label} | {f['batch']} | {f['on']:.0f} | {f['off']:.0f} "
            f"| {f['on'] / f['off']:.2f} | {'yes' if f['kernels_ran'] else 'no'} |"
        )
    failed = [r for r in rep.rows if r.errors]
    if failed:
        print("\nErrors:")
        for r in failed:
            for e in r.errors:
                print(f"* {r.name} ({r.workload}): {e}")
    print(f"\n(total {rep.elapsed_s:.0f} s)")


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    missing = sorted(set(mx.optimizer.registered_names()) - set(RULES))
    if missing:
        log(f"note: registered optimizers without a RULES row (not benchmarked): {missing}")
    report = collect(args.names, QUICK if args.quick else DEFAULT, not args.no_mxnet)
    print_report(report)
    if args.json:
        args.json.write_text(json.dumps(report.to_json(), indent=1))
        log(f"wrote {args.json}")


if __name__ == "__main__":
    main()
