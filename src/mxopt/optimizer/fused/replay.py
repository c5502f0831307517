"""Replaying a fused call whose layout was validated by an earlier call.

A training loop hands the optimizer the same parameters every step. The first call goes
through the engine's per-tensor checks; when the kernels took every parameter (dense
gradients, one bucket, no multi-precision), the call's *layout* is remembered: the
addresses, shapes and dtype of the weights and of their states. A later call is matched
against it with whole-list ``map``\\ s over tensor attributes (C loops, well under a
microsecond per tensor) instead of a Python function per tensor. For one-pass rules whose
``plan`` is pure, the pointer table is then rebuilt from the remembered addresses and the
new gradients' addresses, with one ``plan`` call per distinct ``(lr, wd, count)``.

Everything a kernel relies on is checked again on every call: each weight's and state's
address, shape, dtype, contiguity and device; each gradient's contiguity and address
(which must not be a weight's or a state's; its shape, dtype and device are its weight's,
which the optimizer's ``check_pairs`` has just checked); autograd.
What is not redone is what follows from those equalities: aliasing among weights and
states, and the mapping from a state to its kernel operands, which is remembered by kind
(all ``None``, all tensors, or all tuples of one length whose tensors at the same
positions are the kernel's states and whose other entries are ``None``, exactly as
``states_of`` gave them; for other layouts ``states_of`` is called again). A layout
holds addresses, never tensors, so it keeps no memory alive.
"""

from __future__ import annotations

import weakref
from array import array
from collections.abc import Sequence
from itertools import chain, repeat
from operator import attrgetter, itemgetter
from typing import Any, NamedTuple

import torch

from .codegen import Kernel, pointer_count
from .launch import Item, Tables, bump_versions, call, library, run_with_tables

__all__ = ["Layout", "remember", "forget_layout", "replay", "stats"]

_ptr = torch.Tensor.data_ptr
_contiguous = torch.Tensor.is_contiguous
_shape, _dtype, _cpu, _needs_grad = (
    attrgetter(a) for a in ("shape", "dtype", "is_cpu", "requires_grad")
)

# How many calls were replayed in this process (for tests and benchmarks).
stats = {"replays": 0}
# Per optimizer: the layout of its last fully fused call.
# Keyed by identity (an optimizer subclass may define ``__eq__`` without ``__hash__``);
# an entry goes when its optimizer is garbage-collected.
_LAYOUTS: dict[int, Layout] = {}


def _drop(key: int) -> None:
    _LAYOUTS.pop(key, None)
    _WATCHED.discard(key)


_WATCHED: set[int] = set()  # optimizers with a finalizer that drops their entry


class Layout:
    """The validated layout of one fully fused call (addresses and shapes, no tensors)."""

    __slots__ = (
        "rule", "variant", "ctype", "sdtypes", "n", "kind", "k", "picks", "wptrs", "shapes",
        "sptrs", "sshapes", "static", "numels", "_templates",
    )  # fmt: skip

    def __init__(self, rule: Any, variant: str, weights, states, kind: _Kind) -> None:
        self.rule, self.variant, self.kind = rule, variant, kind
        self.k = len(kind.picks)
        self.ctype = weights[0].dtype
        self.n = len(weights)
        self.wptrs = list(map(_ptr, weights))
        self.shapes = list(map(_shape, weights))
        flat = _flatten(kind, states)
        assert flat is not None
        self.sptrs = list(map(_ptr, flat))
        self.sdtypes = set(map(_dtype, flat))  # (the weights' dtype, or the rule's state_dtype)
        self.sshapes = list(map(_shape, flat))
        self.static = frozenset(self.wptrs + self.sptrs)
        self.numels = array("q", map(torch.Tensor.numel, weights))
        self._templates: dict[str, array] = {}

    def match(
        self, weights, grads, states, checked: bool = True
    ) -> tuple[list[int], list[torch.Tensor]] | None:
        """The gradients' addresses and the flat state tensors when this call has the
        remembered layout, else ``None``. ``checked``: the caller has run ``check_pairs``
        (each gradient has its weight's shape, dtype and device; a sparse one fails
        ``data_ptr`` here) and the optimizer's state-device check; otherwise those are
        checked here too."""
        if len(weights) != self.n or len(grads) != self.n or len(states) != self.n:
            return None
        try:
            if list(map(_ptr, weights)) != self.wptrs or list(map(_shape, weights)) != self.shapes:
                return None
            flat = _flatten(self.kind, states)
            if flat is None or list(map(_ptr, flat)) != self.sptrs:
                return None
            tensors = list(weights) + flat
            if not (
                set(map(_dtype, weights)) == {self.ctype}
                and set(map(_dtype, flat)) == self.sdtypes
                and list(map(_shape, flat)) == self.sshapes
                and all(map(_contiguous, tensors))
                and all(map(_cpu, weights))
                and all(map(_contiguous, grads))
            ):
                return None
            if not checked and not (
                list(map(_shape, grads)) == self.shapes
                and set(map(_dtype, grads)) == {self.ctype}
                and all(map(_cpu, grads))
                and all(map(_cpu, flat))
            ):
                return None
            gptrs = list(map(_ptr, grads))
            if not self.static.isdisjoint(gptrs):
                return None  # a gradient aliases a weight or a state
            if torch.is_grad_enabled() and (
                any(map(_needs_grad, tensors)) or any(map(_needs_grad, grads))
            ):
                return None
        except (TypeError, RuntimeError, AttributeError):
            return None  # not tensors, or tensors without storage (sparse)
        return gptrs, flat

    def template(self, kernel: Kernel) -> array:
        """The pointer table of ``kernel`` with the weights' and states' addresses filled
        in and zeros where the gradients' go."""
        table = self._templates.get(kernel.name)
        if table is None:
            npc = pointer_count(kernel, self.variant)
            table = array("q", bytes(8 * npc * self.n))
            table[0::npc] = array("q", self.wptrs)
            first = 1 + int(kernel.reads_grad)
            if kernel.states or kernel.row_states:
                for j in range(self.k):
                    table[first + j :: npc] = array("q", self.sptrs[j :: self.k])
            self._templates[kernel.name] = table
        return table

    def table(self, kernel: Kernel, gptrs: list[int], stateless: bool = False) -> array | None:
        """A fresh pointer table of ``kernel`` over this layout with these gradients; for a
        kernel taking every state of each item (or, ``stateless``, none), else ``None``."""
        if len(kernel.states) + len(kernel.row_states) != (0 if stateless else self.k):
            return None
        table = array("q", self.template(kernel))
        if kernel.reads_grad:
            table[1 :: pointer_count(kernel, self.variant)] = array("q", gptrs)
        return table

    def one_item_states(self, states, flat, j: int) -> tuple[torch.Tensor, ...]:
        """Item ``j``'s state tensors, as ``states_of`` gave them."""
        return self.item_states(states[j : j + 1], flat[j * self.k : (j + 1) * self.k])[0]

    def item_states(self, states, flat) -> list[tuple[torch.Tensor, ...]]:
        """Each item's state tensors, as ``states_of`` gave them."""
        form, length, picks, states_of = self.kind
        if form == "none":
            return [()] * self.n
        if form == "call":
            return list(map(states_of, states))
        if form == "tensor":
            return [(t,) for t in flat]
        if len(picks) == length:
            return list(states)
        k = len(picks)
        return [tuple(flat[j : j + k]) for j in range(0, len(flat), k)]


class _Kind(NamedTuple):
    """How each state gives the kernel's state tensors: ``form`` ``"none"`` (``None``:
    no tensors), ``"tensor"`` (the state itself), ``"tuple"`` (a tuple of ``length``
    whose entries at ``picks`` are the tensors, in that order, and the others ``None``)
    or ``"call"`` (whatever the rule's ``states_of`` gives, ``length`` tensors)."""

    form: str
    length: int = 0
    picks: tuple[int, ...] = ()
    states_of: Any = None


def _flatten(kind: _Kind, states: Sequence[Any]) -> list[torch.Tensor] | None:
    """The state tensors of a call in order, if every state has the remembered kind."""
    form, length, picks, states_of = kind
    if form == "none":
        return [] if states.count(None) == len(states) else None
    if form == "tensor":
        ok = all(map(isinstance, states, repeat(torch.Tensor)))
        return list(states) if ok else None
    if form == "call":
        per = list(map(states_of, states))
        if None in per or set(map(len, per)) != {length}:
            return None
        flat = [t for ts in per for t in ts]
    elif not all(map(isinstance, states, repeat(tuple))) or set(map(len, states)) != {length}:
        return None
    elif len(picks) == length:
        flat = [t for s in states for t in s]
    else:
        n = len(states)
        for p in range(length):
            if p not in picks and list(map(itemgetter(p), states)).count(None) != n:
                return None
        flat = [s[p] for s in states for p in picks]
    return flat if all(map(isinstance, flat, repeat(torch.Tensor))) else None


def _kind_of(state: Any, tensors: tuple[torch.Tensor, ...]) -> _Kind | None:
    if state is None:
        return _Kind("none") if not tensors else None
    if isinstance(state, torch.Tensor):
        return _Kind("tensor", 1, (0,)) if len(tensors) == 1 and tensors[0] is state else None
    if type(state) is not tuple:
        return None
    picks = []
    for t in tensors:
        at = [p for p, s in enumerate(state) if s is t]
        if len(at) != 1:
            return None
        picks.append(at[0])
    rest = [s for p, s in enumerate(state) if p not in picks]
    if len(picks) == len(state) and picks != sorted(picks):
        return None  # every entry, reordered: left to the "call" form
    return _Kind("tuple", len(state), tuple(picks)) if rest.count(None) == len(rest) else None


def _kind(rule: Any, states: Sequence[Any], items: Sequence[Item]) -> _Kind | None:
    """How the items' state tensors come from the states: one simple way for all, else
    by calling ``states_of`` (which gave them), when it gives each item as many."""
    first = _kind_of(states[0], items[0].states)
    if first is not None and all(_kind_of(s, it.states) == first for s, it in zip(states, items)):
        return first
    length = len(items[0].states)
    if any(len(it.states) != length for it in items):
        return None
    return _Kind("call", length, tuple(range(length)), rule.states_of)


def remember(opt: Any, rule: Any, variant: str, weights, states, items: Sequence[Item]) -> None:
    """Remember the layout of a call whose items (one per parameter, in call order, all
    dense, one bucket) the kernels have just updated."""
    kind = _kind(rule, states, items)
    if kind is None or any(it.w is not w for it, w in zip(items, weights)):
        _LAYOUTS.pop(id(opt), None)
        return
    key = id(opt)
    if key not in _WATCHED:
        try:
            weakref.finalize(opt, _drop, key)
        except TypeError:
            return  # not weak-referenceable: no replay for it
        _WATCHED.add(key)
    _LAYOUTS[key] = Layout(rule, variant, weights, states, kind)


def forget_layout(opt: Any) -> None:
    """Drop ``opt``'s remembered layout."""
    _LAYOUTS.pop(id(opt), None)


def replay(opt: Any, rule: Any, indices, weights, grads, states, lrs, wds, run_items) -> bool:
    """Run the call on the remembered layout if it matches; ``False`` if not (nothing done).

    ``run_items(items, variant, ctype)`` runs a bucket of items the engine's way (for rules
    with several passes or an impure plan)."""
    layout = _LAYOUTS.get(id(opt))
    if layout is None or layout.rule is not rule:
        return False
    hit = layout.match(weights, grads, states)
    if hit is None or library(rule.kernels, layout.variant) is None:
        return False
    _run(opt, rule, layout, hit, indices, weights, grads, states, lrs, wds, run_items)
    return True


def replay_unchecked(opt: Any, rule: Any, indices, weights, grads, states, bookkeeping,
                     run_items) -> bool:  # fmt: skip
    """:func:`replay` for a call nothing has checked yet (the ``Updater``'s steady steps):
    the match also checks what ``check_pairs`` and the state-device check would (so an
    unmatched call, which then takes the full path, raises the same errors). Only for
    layouts whose every state entry is a kernel operand (never the ``call`` form, whose
    other entries are not looked at). ``bookkeeping()`` (counts, then rates) runs once
    the layout matched and gives ``(lrs, wds)``."""
    layout = _LAYOUTS.get(id(opt))
    if layout is None or layout.rule is not rule or layout.kind.form == "call":
        return False
    hit = layout.match(weights, grads, states, checked=False)
    if hit is None or library(rule.kernels, layout.variant) is None:
        return False
    lrs, wds = bookkeeping()
    _run(opt, rule, layout, hit, indices, weights, grads, states, lrs, wds, run_items)
    return True


def _run(opt, rule, layout: Layout, hit, indices, weights, grads, states, lrs, wds,
         run_items) -> None:  # fmt: skip
    """Run a matched call: a one-pass rule from the pointer table alone, any other through
    ``run_items`` with the items' known tables (see :class:`.launch.Tables`)."""
    stats["replays"] += 1
    gptrs, flat = hit
    ctype = layout.ctype
    if rule.plan is not None:
        args = (indices, weights, grads, states, lrs, wds, gptrs, flat, ctype)
        if _run_table(opt, rule, layout, *args):
            bump_versions(list(weights) + flat)
            return
    item_states = layout.item_states(states, flat)
    items = list(map(Item, indices, weights, grads, item_states, lrs, wds))

    def table_for(kernel: Kernel, variant: str, stateless: bool) -> array | None:
        return layout.table(kernel, gptrs, stateless) if variant == layout.variant else None

    run_with_tables(
        Tables(items, table_for, layout.numels),
        lambda: run_items(items, layout.variant, ctype),
    )


def _run_table(opt, rule, layout: Layout, indices, weights, grads, states, lrs, wds,
               gptrs, flat, ctype) -> bool:  # fmt: skip
    """A one-pass rule: one ``plan`` per distinct ``(lr, wd, count)``, one C call.
    ``False`` (nothing done) when the plans pick several kernels."""
    n = layout.n
    counts = list(map(opt._index_update_count.get, indices))
    keys = None
    if lrs.count(lrs[0]) == n and wds.count(wds[0]) == n and counts.count(counts[0]) == n:
        firsts = {(lrs[0], wds[0], counts[0]): 0}  # (the usual case: one key for all)
    else:
        keys = list(zip(lrs, wds, counts))
        firsts = {}
        for j, key in enumerate(keys):
            firsts.setdefault(key, j)
    plans = {}
    for key, j in firsts.items():
        item_states = layout.one_item_states(states, flat, j)
        item = Item(indices[j], weights[j], grads[j], item_states, lrs[j], wds[j])
        plans[key] = rule.plan(opt, item, ctype)
    kernels = {kernel.name: kernel for kernel, _ in plans.values()}
    if len(kernels) != 1:
        return False
    (kernel,) = kernels.values()
    table = layout.table(kernel, gptrs, stateless=not (kernel.states or kernel.row_states))
    if table is None:
        return False
    if any(len(s) != len(kernel.scalars) for _, s in plans.values()):
        raise ValueError(f"{kernel.name}: expected {len(kernel.scalars)} scalars")
    if len(plans) == 1:
        (scalars,) = (tuple(s) or (0.0,) for _, s in plans.values())
        flat_scalars = array("d", scalars) * n
    else:
        assert keys is not None
        per_key = {key: tuple(s) or (0.0,) for key, (_, s) in plans.items()}
        flat_scalars = array("d", chain.from_iterable(map(per_key.__getitem__, keys)))
    call(kernel, layout.variant, layout.n, table, layout.numels, flat_scalars)
    return True
