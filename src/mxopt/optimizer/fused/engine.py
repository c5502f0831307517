"""Path selection for the fused fast path: switches, per-tensor checks, bucketing, launch.

:func:`try_step` is called by ``Optimizer._apply`` after the base class has validated the
batch, counted the updates and computed every lr/wd. It looks up the optimizer's fused rule
(the class attribute ``_fused_rule``), splits the batch into tensors the kernels can take
(dense, contiguous CPU tensors whose gradient and states match the weight; float16 and
bfloat16 weights through their float32 master copies; row-sparse gradients row by row
where the rule updates lazily) and the rest, runs the rest through the reference path
first (so any error it raises comes before a fused write), then runs the kernels once per
``(device, variant)`` bucket. It returns ``False`` (nothing done) when the rule does not
apply or the kernels are unavailable; the caller then runs the reference path.

Switches: ``Optimizer(fused=False)``; ``fused=None`` (default) follows the environment
variable ``MXOPT_FUSED`` (``0``/``false``/``off``/``no`` turn it off).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from itertools import chain
from operator import attrgetter
from typing import Any

import torch

from . import replay as _replay
from .codegen import Kernel
from .launch import _NONE_ID, Item, bump_versions, forget, launch, library

__all__ = [
    "enabled",
    "try_step",
    "FusedRule",
    "Item",
    "register_rule",
    "rule_for",
    "launch",
    "kernels",
    "library",
    "optional_state",
    "single_state",
    "states_pair",
    "lazy_or_dense",
    "bump_versions",
]

_OFF = {"0", "false", "off", "no"}
_VARIANT = {torch.float32: "f32", torch.float64: "f64"}
_LOW_VARIANT = {torch.float16: "f16", torch.bfloat16: "bf16"}


def enabled(flag: bool | None) -> bool:
    """Whether the fast path is on: ``flag`` if given, else ``MXOPT_FUSED`` (default on)."""
    if flag is not None:
        return bool(flag)
    return os.environ.get("MXOPT_FUSED", "1").strip().lower() not in _OFF


Plan = Callable[[Any, Item, torch.dtype], tuple[Kernel, Sequence[float]]]


def single_state(state: Any) -> tuple[torch.Tensor, ...] | None:
    """``states_of`` for rules whose state is one tensor."""
    return (state,) if isinstance(state, torch.Tensor) else None


def states_pair(state: Any) -> tuple[torch.Tensor, ...] | None:
    """``states_of`` for rules whose state is a pair of tensors (Adam's ``(mean, var)``)."""
    pair = isinstance(state, tuple) and len(state) == 2
    return state if pair and all(isinstance(t, torch.Tensor) for t in state) else None


def lazy_or_dense(opt: Any) -> str:
    """``sparse`` for rules with MXNet's ``lazy_update`` option."""
    return "lazy" if opt.lazy_update else "dense"


def optional_state(state: Any) -> tuple[torch.Tensor, ...] | None:
    """``states_of`` for rules whose state is ``None`` or one tensor (SGD-like)."""
    if state is None:
        return ()
    if isinstance(state, torch.Tensor):
        return (state,)
    return None


@dataclass(frozen=True)
class FusedRule:
    """A fused update rule.

    * ``applies(opt)``: whether this optimizer instance can use it (the same ``_step``
      as the class it was written for, supported options).
    * ``states_of(state)``: the state tensors in kernel order (``None``: a layout the
      kernels do not take). ``master_of(opt, state)`` splits a multi-precision state
      into ``(float32 master, inner state)`` (default: by ``opt._master_position``).
    * ``kernels``: every kernel the rule launches.
    * ``plan(opt, item, ctype)``: for one-pass rules, the kernel and its scalars for one
      item, rounded for the compute type ``ctype``. It must depend only on the item's lr,
      wd, update count, number of states, and whether its gradient came row-sparse, and
      change nothing: the engine calls it once per distinct combination. Rules with
      several passes (norms), or whose scalars depend on more of the item (GroupAdaGrad's
      column count), give ``run(opt, items, ctype, variant)`` instead and call
      :func:`launch`.
    * ``sparse`` (a mode, or ``sparse(opt)`` giving one): what a row-sparse gradient means:
      ``"lazy"`` (update only its rows), ``"dense"`` (a dense gradient with zero rows) or
      ``"reference"`` (leave it to the reference path).
    """

    applies: Callable[[Any], bool]
    states_of: Callable[[Any], tuple[torch.Tensor, ...] | None]
    kernels: tuple[Kernel, ...]
    plan: Plan | None = None
    run: Callable[[Any, list[Item], torch.dtype, str], None] | None = None
    sparse: str | Callable[[Any], str] = "reference"
    master_of: Callable[[Any, Any], tuple[Any, Any] | None] | None = None
    # Row rules (GroupAdaGrad): 2-D weights updated row by row (the kernel loops over the
    # rows); states may have other column counts (e.g. a ``(rows, 1)`` history).
    rows: bool = False
    # Rules whose result depends on the order of the items (Nadam's shared schedule,
    # SGLD's noise stream) run fused only when the whole call is one bucket.
    ordered: bool = False
    # The dtype of every state tensor when it is not the weight's (``Test``'s float32
    # copy); its kernels store the states as that type (``Kernel.state_storage``).
    state_dtype: torch.dtype | None = None

    def sparse_mode(self, opt: Any) -> str:
        """What a row-sparse gradient means for ``opt`` (see ``sparse``)."""
        return self.sparse if isinstance(self.sparse, str) else self.sparse(opt)


_RULES: dict[str, FusedRule] = {}
# How many tensors the kernels have updated in this process (for tests and benchmarks).
stats = {"tensors": 0}


def register_rule(name: str, rule: FusedRule) -> None:
    """Register the fused rule named by an optimizer's ``_fused_rule`` attribute."""
    _RULES[name] = rule
    forget([k.name for k in rule.kernels])


def rule_for(opt: Any) -> FusedRule | None:
    """``opt``'s fused rule when it applies to this instance, else ``None``."""
    rule = _RULES.get(getattr(opt, "_fused_rule", None) or "")
    return rule if rule is not None and rule.applies(opt) else None


def kernels() -> list[Kernel]:
    """Every registered kernel, in a stable order."""
    seen: dict[str, Kernel] = {}
    for name in sorted(_RULES):
        for k in _RULES[name].kernels:
            seen.setdefault(k.name, k)
    return list(seen.values())


# ------------------------------------------------------------------------ eligibility
def _blocks_autograd(t: torch.Tensor) -> bool:
    return t.requires_grad and torch.is_grad_enabled()


def _plain(t: Any, like: torch.Tensor, dtype: torch.dtype) -> bool:
    """A dense, contiguous CPU tensor of ``dtype`` shaped like ``like`` that the kernels
    may write through its pointer. (Hot: checked for every operand of every step, so the
    cheapest tests come first; the real float dtypes taken here carry no conj/neg bits.)"""
    return (
        isinstance(t, torch.Tensor)
        and t.dtype is dtype
        and t.is_cpu
        and t.layout is torch.strided
        and t.is_contiguous()
        and t.shape == like.shape
        and not (t.requires_grad and torch.is_grad_enabled())
    )


def _plain_rows(t: Any, w: torch.Tensor) -> bool:
    """A per-row state: contiguous, ``w``'s dtype and device, one row per weight row."""
    return (
        isinstance(t, torch.Tensor)
        and t.layout == torch.strided
        and t.dtype == w.dtype
        and t.device == w.device
        and t.dim() == 2
        and t.shape[0] == w.shape[0]
        and t.is_contiguous()
        and not _blocks_autograd(t)
    )


def _default_master_of(opt: Any, state: Any) -> tuple[Any, Any] | None:
    if not (isinstance(state, tuple) and len(state) == 2):
        return None
    pos = opt._master_position
    return state[pos], state[1 - pos]


def _item(opt, rule: FusedRule, mode: str, mp: bool, i, w, g, s, lr, wd) -> Item | None:
    """The kernel's view of one parameter, or ``None`` when the reference path must run."""
    dense_grad = isinstance(g, torch.Tensor) and g.layout is torch.strided
    if dense_grad and not mp and not rule.rows and _plain(w, w, w.dtype) and w.dtype in _VARIANT:
        # The common case first: dense float32/float64 weight, gradient and states. The
        # base class has checked that the gradient and the states sit on w's device.
        dtype, shape = w.dtype, w.shape
        states = rule.states_of(s)
        if states is None or w.numel() == 0:
            return None
        sdtype = rule.state_dtype or dtype
        for t in (g, *states):
            if not (
                isinstance(t, torch.Tensor)
                and t.dtype is (dtype if t is g else sdtype)
                and t.layout is torch.strided
                and t.is_contiguous()
                and t.shape == shape
                and not (t.requires_grad and torch.is_grad_enabled())
            ):
                return None
        ptrs = {w.data_ptr(), g.data_ptr()}
        for t in states:
            ptrs.add(t.data_ptr())
        if len(ptrs) != 2 + len(states):
            return None  # aliased operands
        return Item(i, w, g, states, lr, wd)
    if not isinstance(w, torch.Tensor) or not w.is_cpu or w.numel() == 0:
        return None
    low = None
    if mp:
        split = (rule.master_of or _default_master_of)(opt, s)
        if split is None or w.dtype not in _LOW_VARIANT:
            return None
        master, inner = split
        if not _plain(master, w, torch.float32) or not _plain(w, w, w.dtype):
            return None
        low, w, s = w, master, inner
    elif w.dtype not in _VARIANT or not _plain(w, w, w.dtype):
        return None
    states = rule.states_of(s)
    if states is None:
        return None
    if rule.rows:
        if w.dim() != 2 or not all(_plain_rows(t, w) for t in states):
            return None
    elif not all(_plain(t, w, rule.state_dtype or w.dtype) for t in states):
        return None
    gdtype = low.dtype if low is not None else w.dtype
    rows = None
    came_sparse = isinstance(g, torch.Tensor) and g.is_sparse
    if came_sparse:
        if mode == "dense" and g.shape == w.shape and g.dtype == gdtype:
            pass  # densified just before its own launch (one tensor of scratch at a time)
        elif mode == "lazy" and not mp and g.sparse_dim() == 1 and g.shape == w.shape:
            g = g.coalesce()
            rows, g = g.indices()[0], g.values()
            if g.dtype != gdtype or not g.is_contiguous() or _blocks_autograd(g):
                return None
            if rows.numel() == 0:
                return Item(i, w, g, states, lr, wd, low, rows, True)
        else:
            return None
    if rows is None and not g.is_sparse and not _plain(g, w, gdtype):
        return None
    tensors = (w, *states) if low is None else (w, low, *states)
    if rows is None and not g.is_sparse:
        tensors += (g,)
    if len({t.data_ptr() for t in tensors}) != len(tensors):
        return None  # aliased operands
    return Item(i, w, g, states, lr, wd, low, rows, came_sparse)


# ----------------------------------------------------------------------------- step
@dataclass
class _Bucket:
    variant: str
    ctype: torch.dtype
    items: list[Item] = field(default_factory=list)


def try_step(
    opt: Any, indices, weights, grads, states, lrs, wds, multi_precision: bool = False
) -> bool:
    """Run ``opt``'s update on the fast path where possible; ``False`` if not at all."""
    rule = rule_for(opt)
    if rule is None:
        return False
    if not multi_precision and _replay.replay(
        opt, rule, indices, weights, grads, states, lrs, wds, _runner(rule, opt)
    ):
        stats["tensors"] += len(weights)
        return True
    mode = rule.sparse_mode(opt)
    buckets: dict[tuple[torch.device, str], _Bucket] = {}
    slow: list[int] = []
    seen: set[int] = set()
    deferred: list[_Bucket] = []
    for j, args in enumerate(zip(indices, weights, grads, states, lrs, wds)):
        item = _item(opt, rule, mode, multi_precision, *args)
        if item is not None and item.w.data_ptr() in seen:
            item = None  # the same weight twice in one call: keep the sequential order
        if item is None:
            slow.append(j)
            continue
        seen.add(item.w.data_ptr())
        variant = _LOW_VARIANT[item.low.dtype] if item.low is not None else _VARIANT[item.w.dtype]
        if item.g.is_sparse:  # "dense" mode: its own launch after the buckets
            deferred.append(_Bucket(variant, item.w.dtype, [item]))
            continue
        key = (item.w.device, variant)
        if key not in buckets:
            buckets[key] = _Bucket(variant, item.w.dtype)
        buckets[key].items.append(item)
    variants = {bucket.variant for bucket in (*buckets.values(), *deferred)}
    if not variants or any(library(rule.kernels, v) is None for v in variants):
        return False  # (nothing written yet: no compiler, or it failed)
    if rule.ordered and (slow or len(buckets) + len(deferred) > 1):
        return False  # the reference path keeps the items' order
    if slow:
        pick = [indices, weights, grads, states, lrs, wds]
        sub = [[seq[j] for j in slow] for seq in pick]
        if multi_precision:
            opt._step_multi_precision(*sub)
        else:
            opt._step(*sub)
    run = _runner(rule, opt)
    for bucket in (*buckets.values(), *deferred):
        if bucket.items[0].g.is_sparse:
            bucket.items[0] = bucket.items[0]._replace(g=bucket.items[0].g.to_dense())
        run(bucket.items, bucket.variant, bucket.ctype)
        stats["tensors"] += len(bucket.items)
    if multi_precision or slow or deferred or len(buckets) != 1:
        _replay.forget_layout(opt)
    else:
        (bucket,) = buckets.values()
        dense = all(it.rows is None and not it.sparse for it in bucket.items)
        if dense:
            _replay.remember(opt, rule, bucket.variant, weights, states, bucket.items)
        else:
            _replay.forget_layout(opt)
    return True


def replay_step(opt: Any, indices, weights, grads, states, bookkeeping) -> bool:
    """A whole ``Updater`` call on the layout of the previous one, before any check ran
    (see :func:`.replay.replay_unchecked`); ``False`` (nothing done) if it does not match."""
    rule = rule_for(opt)
    if rule is None or not _replay.replay_unchecked(
        opt, rule, indices, weights, grads, states, bookkeeping, _runner(rule, opt)
    ):
        return False
    stats["tensors"] += len(weights)
    return True


def _runner(rule: FusedRule, opt: Any) -> Callable[[list[Item], str, torch.dtype], None]:
    """Runs one bucket's items (rule.run or the planned launches), then bumps versions."""

    def run(items: list[Item], variant: str, ctype: torch.dtype) -> None:
        if rule.run is not None:
            rule.run(opt, items, ctype, variant)
        else:
            _run_planned(rule, opt, items, variant, ctype)
        _bump_versions(items)

    return run


def _run_planned(
    rule: FusedRule, opt: Any, items: list[Item], variant: str, ctype: torch.dtype
) -> None:
    assert rule.plan is not None
    groups: dict[str, tuple[Kernel, list[Item], list[Sequence[float]]]] = {}
    memo: dict[tuple, tuple[Kernel, Sequence[float]]] = {}
    counts = opt._index_update_count
    for item in items:
        key = (
            item.lr, item.wd, counts.get(item.index), len(item.states),
            item.rows is None, item.sparse, item.low is None,
        )  # fmt: skip
        planned = memo.get(key)
        if planned is None:
            planned = memo[key] = rule.plan(opt, item, ctype)
        kernel, scalars = planned
        group = groups.setdefault(kernel.name, (kernel, [], []))
        group[1].append(item)
        group[2].append(scalars)
    for kernel, group_items, scalars in groups.values():
        launch(kernel, variant, group_items, scalars)


def _bump_versions(items: Sequence[Item]) -> None:
    """Bump the version counters of every tensor the kernels wrote (whole-list maps)."""
    tensors = list(map(_item_w, items))
    tensors += chain.from_iterable(map(_item_states, items))
    lows = list(map(_item_low, items))
    if set(map(id, lows)) != _NONE_ID:  # (multi-precision: the float16/bfloat16 weights)
        tensors += [t for t in lows if t is not None]
    bump_versions(tensors)


_item_w, _item_low, _item_states = (attrgetter(a) for a in ("w", "low", "states"))
