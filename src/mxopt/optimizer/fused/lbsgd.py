r"""Fused LBSGD: :class:`~mxopt.optimizer.LBSGD`'s gradient accumulation and its
``sgd_update``/``sgd_mom_update`` step on the averaged gradient, one pass per call.

Each call counts the parameter's calls :math:`n` and either accumulates the gradient
into the parameter's running sum :math:`S` (when :math:`M` = ``batch_scale`` does not
divide :math:`n`: :math:`S \leftarrow g`, or :math:`S \leftarrow S + g`) or applies
:class:`SGD`'s rule (:mod:`.sgd`'s kernels) to the average

.. math::

    \tilde g = (S + g)/M \quad(\text{or } g/M \text{ without a running sum}), \qquad
    \eta' = \eta\cdot\mathrm{mult}

and drops :math:`S`. With the warmup strategies (``'linear'``, ``'power2'``,
``'sqrt'``, others) :math:`\mathrm{mult}` depends on :math:`n` only: one pass, 20 bytes
per parameter with momentum and :math:`M = 1`. With ``'lars'``, a read-only pass over
:math:`w, \tilde g` first gives :math:`\sum w^2` and :math:`\sum\tilde g^2` (double
accumulators, rounded to the weight's type like the reference's sums) for

.. math::

    \mathrm{mult} = \mathrm{clamp}\Big(\sqrt{\tfrac{\sum w^2}
        {\sum\tilde g^2 + \lambda\sum w^2 + 10^{-18}}},\ 0.01,\ 100\Big).

Rates and counts are read per parameter in order (rate, then count), as ``LBSGD``
does, so the rule is ``ordered``: a call that would split into several buckets (mixed
dtypes, ineligible tensors) runs on the reference path. Row-sparse gradients are
treated as dense ones, as on the reference path. The running sums are the optimizer's
``cum_grads`` tensors (float32 under multi-precision), updated in place.
"""

from __future__ import annotations

from itertools import repeat
from operator import attrgetter, mul
from typing import NamedTuple

import torch

from ...ndarray.ops._common import f32, in_dtype
from .._common import fused_clip
from .codegen import Kernel
from .engine import FusedRule, Item, launch, optional_state, register_rule
from .launch import _NONE_ID
from .sgd import SGD, SGD_MOM

__all__ = ["LBSGD_FIRST", "LBSGD_ADD", "NORMS", "UPDATES", "RULE"]

LBSGD_FIRST = Kernel(
    "lbsgd_first", states=("cum",), scalars=(), body="cum = g;", writes_weight=False
)
LBSGD_ADD = Kernel(
    "lbsgd_add", states=("cum",), scalars=(), body="cum = cum + g;", writes_weight=False
)


def _average(with_sum: bool) -> str:
    return "g = (cum + g) / M;" if with_sum else "g = g / M;"


def _norms(with_sum: bool) -> Kernel:
    """Read-only: the sums of squares of the weight and of the averaged gradient."""
    return Kernel(
        "lbsgd_norms_sum" if with_sum else "lbsgd_norms",
        states=("cum",) if with_sum else (),
        scalars=("M",),
        body=_average(with_sum) + "\nacc_w2 += w * w;\nacc_a2 += g * g;",
        sums=("w2", "a2"),
        writes_weight=False,
        read_only=("cum",) if with_sum else (),
    )


def _update(sgd: Kernel, with_sum: bool) -> Kernel:
    """SGD's kernel on the averaged gradient."""
    return Kernel(
        f"lbsgd_{sgd.name}" + ("_sum" if with_sum else ""),
        states=sgd.states + (("cum",) if with_sum else ()),
        scalars=(*sgd.scalars, "M"),
        body=_average(with_sum) + "\n" + sgd.body,
        read_only=("cum",) if with_sum else (),
    )


NORMS = {s: _norms(s) for s in (False, True)}
UPDATES = {(m, s): _update(SGD_MOM if m else SGD, s) for m in (False, True) for s in (False, True)}


class _Update(NamedTuple):
    item: Item
    running: torch.Tensor | None  # the running sum S, None when there is none
    lr: float
    wd: float
    count: int


Pairs = list[tuple[Item, torch.Tensor]]


def _applies(opt) -> bool:
    from ..lbsgd import LBSGD

    cls = type(opt)
    return (
        isinstance(opt, LBSGD)
        and cls._step is LBSGD._step
        and cls._step_multi_precision is LBSGD._step_multi_precision
        and cls._get_lars is LBSGD._get_lars
    )


def _plain_sum(running: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
    """``running`` as a contiguous tensor of ``like``'s dtype (the kernels' layout)."""
    if running.dtype == like.dtype and running.device == like.device and running.is_contiguous():
        return running
    return running.to(like.device, like.dtype, memory_format=torch.contiguous_format)


def _count(opt, items: list[Item]) -> tuple[Pairs, Pairs, list[_Update]]:
    """Count every item's call in order: the new running sums, the sums to add to, the
    updates."""
    first: Pairs = []
    add: Pairs = []
    updates: list[_Update] = []
    batch = _count_batch(opt, items)
    if batch is not None:
        return first, add, batch
    for item in items:
        i = item.index
        lr, wd = opt._get_lr(i), opt._get_wd(i)  # the rate first, then the count
        opt._update_count(i)
        running = opt.cum_grads.get(i)
        if running is not None:
            running = _plain_sum(running, item.w)
        count = opt.num_cums.get(i, opt.init_updates) + 1
        opt.num_cums[i] = count
        if count % opt.batch_scale == 0:
            updates.append(_Update(item, running, lr, wd, count))
            opt.cum_grads[i] = None
            continue
        if running is None:
            running = torch.empty_like(item.w, memory_format=torch.contiguous_format)
            first.append((item, running))
        else:
            add.append((item, running))
        opt.cum_grads[i] = running
    return first, add, updates


def _count_batch(opt, items: list[Item]) -> list[_Update] | None:
    """:func:`_count` at once for the ``Updater``'s batches without accumulation (distinct
    indices, equal counts, ``batch_scale == 1``, no running sums): every call is an update.
    The first item reads the rate before any count moves; the others after the first
    count, which is when each of them reads it in the one-at-a-time loop (the later
    counts no longer change ``num_update``). ``None`` when the loop must run."""
    indices = [item.index for item in items]
    counts, cums = opt._index_update_count, opt.cum_grads
    if (
        len(items) < 2
        or opt.batch_scale != 1
        or len(set(indices)) != len(indices)
        or len(set(map(counts.get, indices, repeat(opt.begin_num_update)))) != 1
        or set(map(id, map(cums.get, indices))) != _NONE_ID  # (a running sum)
    ):
        return None
    lr0, wd0 = opt._get_lr(indices[0]), opt._get_wd(indices[0])
    opt._update_count(indices)
    lrs = [lr0, *opt._get_lrs(indices[1:])]
    wds = [wd0, *opt._get_wds(indices[1:])]
    new = [opt.num_cums.get(i, opt.init_updates) + 1 for i in indices]
    opt.num_cums.update(zip(indices, new))
    cums.update(dict.fromkeys(indices))
    return list(map(_Update, items, repeat(None), lrs, wds, new))


class _Pick:
    """A launch's state picker: ``item.states`` (when ``with_mom``) then its running sum."""

    def __init__(self, sums: dict[int, torch.Tensor | None], with_mom: bool) -> None:
        self.sums, self.with_mom = sums, with_mom

    def __call__(self, item: Item) -> tuple[torch.Tensor, ...]:
        own = tuple(item.states) if self.with_mom else ()
        running = self.sums[id(item)]
        return own if running is None else (*own, running)


def _accumulate(kernel: Kernel, variant: str, pairs: Pairs) -> None:
    if pairs:
        pick = _Pick({id(item): running for item, running in pairs}, with_mom=False)
        launch(kernel, variant, [item for item, _ in pairs], [()] * len(pairs), states=pick)


def _lars_mults(opt, updates: list[_Update], variant: str, ctype: torch.dtype) -> list[float]:
    """The 'lars' multiplier of every update, from one read-only pass."""
    sums: dict[int, tuple[float, float]] = {}
    m = float(opt.batch_scale)
    for with_sum in (False, True):
        group = [u for u in updates if (u.running is not None) == with_sum]
        if not group:
            continue
        pick = _Pick({id(u.item): u.running for u in group}, with_mom=False)
        acc = launch(NORMS[with_sum], variant, [u.item for u in group], [(m,)] * len(group),
                     states=pick)  # fmt: skip
        assert acc is not None
        for u, (w2, a2) in zip(group, acc.tolist()):
            sums[id(u.item)] = (in_dtype(w2, ctype), in_dtype(a2, ctype))
    mults = []
    for u in updates:
        w2, a2 = sums[id(u.item)]
        lars = (w2 / (a2 + u.wd * w2 + 1e-18)) ** 0.5
        mults.append(min(max(lars, 0.01), 100.0))
    return mults


def _sgd_scalars(opt, lr: float, wd: float, momentum: bool, ctype: torch.dtype):
    """``sgd_update``/``sgd_mom_update``'s scalars (as :mod:`.sgd` rounds them), then M."""
    r, c = f32(opt.rescale_grad), f32(fused_clip(opt.clip_gradient))
    lr, wd = f32(lr), f32(wd)
    lr_r = in_dtype(lr * r, ctype)
    lr_wd = in_dtype(lr * wd, ctype)
    if momentum:
        return (lr, lr_r, lr_wd, r, c, f32(opt.momentum), float(opt.batch_scale))
    return (lr, lr_r, in_dtype(1.0 - lr_wd, ctype), r, c, float(opt.batch_scale))


_states, _running, _item_of = attrgetter("states"), attrgetter("running"), attrgetter("item")
_count_of, _lr_of, _wd_of = attrgetter("count"), attrgetter("lr"), attrgetter("wd")


def _warmup_mults(opt, counts: list[int]) -> list[float]:
    """The warm-up multiplier of each count: computed once per distinct count when the
    optimizer keeps LBSGD's own (pure) ``_get_lbmult``, else once per count in order."""
    from ..lbsgd import LBSGD

    if type(opt)._get_lbmult is not LBSGD._get_lbmult:
        return list(map(opt._get_lbmult, counts))
    per_count = {c: opt._get_lbmult(c) for c in set(counts)}
    return list(map(per_count.__getitem__, counts))


def _run(opt, items: list[Item], ctype: torch.dtype, variant: str) -> None:
    first, add, updates = _count(opt, items)
    _accumulate(LBSGD_FIRST, variant, first)
    _accumulate(LBSGD_ADD, variant, add)
    if not updates:
        return
    if opt.warmup_strategy == "lars":
        mults = _lars_mults(opt, updates, variant, ctype)
    else:
        mults = _warmup_mults(opt, list(map(_count_of, updates)))
    moms = list(map(bool, map(_states, map(_item_of, updates))))  # (with momentum)
    rates = list(zip(map(mul, map(_lr_of, updates), mults), map(_wd_of, updates), moms))
    memo = {r: _sgd_scalars(opt, *r, ctype) for r in set(rates)}  # (one per distinct set)
    scalars = list(map(memo.__getitem__, rates))
    no_sums = set(map(id, map(_running, updates))) == _NONE_ID
    if len(updates) == len(items) and len(set(moms)) == 1 and no_sums:
        # every item updated, none with a running sum (the Updater's batches): one launch
        # over the call's own items, whose states are the kernel's
        launch(UPDATES[(moms[0], False)], variant, items, scalars)
        return
    groups: dict[tuple[bool, bool], tuple[list[Item], list, dict]] = {}
    for u, item_scalars in zip(updates, scalars):
        key = (bool(u.item.states), u.running is not None)  # (momentum, running sum)
        group_items, group_scalars, sums = groups.setdefault(key, ([], [], {}))
        group_items.append(u.item)
        group_scalars.append(item_scalars)
        sums[id(u.item)] = u.running
    for key, (group_items, group_scalars, sums) in groups.items():
        launch(UPDATES[key], variant, group_items, group_scalars, states=_Pick(sums, with_mom=True))


RULE = FusedRule(
    applies=_applies,
    states_of=optional_state,
    kernels=(LBSGD_FIRST, LBSGD_ADD, *NORMS.values(), *UPDATES.values()),
    run=_run,
    sparse="dense",  # the reference densifies row-sparse gradients
    ordered=True,  # the rate and the count are read item by item
)
register_rule("lbsgd", RULE)
