"""Path selection for the fused fast path: switches, per-tensor checks, bucketing.

:func:`try_step` is called by ``Optimizer._apply`` after the base class has validated the
batch, counted the updates and computed every lr/wd. It looks up the optimizer's fused rule
(the class attribute ``_fused_rule``), splits the batch into tensors the kernels can take
(dense, contiguous CPU float32/float64 tensors whose grad and states match the weight) and
the rest, runs the rest through the reference ``_step`` first (so any error it raises comes
before a fused write), then runs the fused kernels once per ``(device, dtype)`` bucket.
It returns ``False`` (nothing done) when the rule does not apply or the kernels are
unavailable; the caller then runs the reference path.

Switches: ``Optimizer(fused=False)``; ``fused=None`` (default) follows the environment
variable ``MXOPT_FUSED`` (``0``/``false``/``off``/``no`` turn it off).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import torch

from . import build

__all__ = ["enabled", "try_step", "FusedRule", "register_rule", "eligible_tensors"]

_OFF = {"0", "false", "off", "no"}
FUSED_DTYPES = (torch.float32, torch.float64)


def enabled(flag: bool | None) -> bool:
    """Whether the fast path is on: ``flag`` if given, else ``MXOPT_FUSED`` (default on)."""
    if flag is not None:
        return bool(flag)
    return os.environ.get("MXOPT_FUSED", "1").strip().lower() not in _OFF


@dataclass(frozen=True)
class FusedRule:
    """A fused update rule: ``applies(opt)`` says whether this optimizer instance can use
    it (same ``_step`` as the class the rule was written for, supported options);
    ``states_of(state)`` lists the state tensors (``None`` when the layout is not one the
    kernel takes); ``run(lib, opt, items, dtype)`` updates one bucket of
    ``(index, weight, grad, states, lr, wd)`` items."""

    applies: Callable[[Any], bool]
    states_of: Callable[[Any], tuple[torch.Tensor, ...] | None]
    run: Callable[[Any, Any, list, torch.dtype], None]


_RULES: dict[str, FusedRule] = {}
# How many tensors the kernels have updated in this process (for tests and benchmarks).
stats = {"tensors": 0}


def register_rule(name: str, rule: FusedRule) -> None:
    """Register the fused rule named by an optimizer's ``_fused_rule`` attribute."""
    _RULES[name] = rule


def _grad_mode_blocks(t: torch.Tensor) -> bool:
    return t.requires_grad and torch.is_grad_enabled()


def eligible_tensors(w: Any, g: Any, states: Sequence[Any]) -> bool:
    """Whether the kernels can update ``w`` (and ``states``) from ``g`` in place."""
    if not (isinstance(w, torch.Tensor) and isinstance(g, torch.Tensor)):
        return False
    if w.device.type != "cpu" or w.dtype not in FUSED_DTYPES or w.numel() == 0:
        return False
    for t in (w, g, *states):
        if not isinstance(t, torch.Tensor) or t.layout != torch.strided:
            return False
        if t.shape != w.shape or t.dtype != w.dtype or t.device != w.device:
            return False
        if not t.is_contiguous() or t.is_conj() or t.is_neg() or _grad_mode_blocks(t):
            return False
    ptrs = {t.data_ptr() for t in (w, g, *states)}
    return len(ptrs) == 2 + len(states)  # no aliasing between the operands


def try_step(opt: Any, indices, weights, grads, states, lrs, wds) -> bool:
    """Run ``opt``'s update on the fast path where possible; ``False`` if not at all."""
    rule = _RULES.get(getattr(opt, "_fused_rule", None) or "")
    if rule is None or not rule.applies(opt):
        return False
    fast: dict[tuple[torch.device, torch.dtype], list] = {}
    slow: list[int] = []
    for j, (i, w, g, s, lr, wd) in enumerate(zip(indices, weights, grads, states, lrs, wds)):
        tensors = rule.states_of(s)
        if tensors is not None and eligible_tensors(w, g, tensors):
            fast.setdefault((w.device, w.dtype), []).append((i, w, g, tensors, lr, wd))
        else:
            slow.append(j)
    if not fast:
        return False
    lib = build.load()
    if lib is None:
        return False
    if slow:
        pick = [indices, weights, grads, states, lrs, wds]
        opt._step(*([seq[j] for j in slow] for seq in pick))
    bump = getattr(torch.autograd.graph, "increment_version", None)
    for (_, dtype), items in fast.items():
        rule.run(lib, opt, items, dtype)
        stats["tensors"] += len(items)
        if bump is not None:
            for _, w, _, tensors, _, _ in items:
                for t in (w, *tensors):
                    if not t.is_inference():
                        bump(t)  # raw-pointer writes: keep autograd's version check honest
    return True
