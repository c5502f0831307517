r"""Fused SGLD: the drift and the noise of :func:`mxopt.ndarray.ops.sgld.sgld_rule` in one
pass over w, g and the noise.

.. math::

    G = \mathrm{clip}(r g),\qquad
    w \leftarrow \Big(w - \tfrac{\eta}{2}(G + \lambda w)\Big) + \xi,\qquad
    \xi \sim \mathcal N(0, \eta)

The noise cannot be fused: both paths must draw the same numbers from the same generator.
:func:`_run` draws each item's noise in the batch's order, with the shape, dtype and
generator of the reference's ``_draw_noise`` (so the streams agree), into consecutive
slices of one buffer per optimizer, as large as its largest tensor and kept from step to
step (no allocation, no page faults). When the next item's noise would not fit, the items
drawn so far are updated by one kernel launch, which reads their noise. An optimizer whose
``_draw_noise`` is overridden gets it called instead, one item at a time. Scalars are
rounded to the weight's type (NDArray arithmetic); clipping is the NDArray rule
(:mod:`._ndclip`). Drawing the noise (torch's sequential generator, a few ns per element)
costs far more than the update itself.
"""

from __future__ import annotations

import math
import weakref
from functools import lru_cache

import torch

from ... import random as _random
from ...ndarray.ops._common import in_dtype
from ._ndclip import nd_clip, nd_clip_bound
from .codegen import Kernel
from .engine import FusedRule, Item, launch, register_rule

__all__ = ["SGLD", "RULE"]

SGLD = Kernel(
    "sgld",
    states=("noise",),
    scalars=("neg_half_lr", "wd", "rescale", "clip"),
    read_only=("noise",),
    body=f"""
        T G = g * rescale;
        {nd_clip("G")}
        w = w + (G + w * wd) * neg_half_lr;
        w = w + noise;
    """,
)

# Per optimizer: the noise buffer (one tensor's worth, reused).
_BUFFERS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _optimizer_class():
    from ..sgld import SGLD as SGLDOptimizer

    return SGLDOptimizer


def _applies(opt) -> bool:
    cls = _optimizer_class()
    return isinstance(opt, cls) and type(opt)._step is cls._step


def _states_of(state):
    return () if state is None else None


@lru_cache(maxsize=256)
def _scalars(
    lr: float, wd: float, rescale: float, clip: float | None, ctype: torch.dtype
) -> tuple[float, ...]:
    return (
        in_dtype(-lr / 2, ctype),
        in_dtype(wd, ctype),
        in_dtype(rescale, ctype),
        nd_clip_bound(clip),
    )


def _buffer(opt, numel: int, dtype: torch.dtype) -> torch.Tensor:
    """``opt``'s noise buffer with room for ``numel`` elements of ``dtype``."""
    buf = _BUFFERS.get(opt)
    if buf is None or buf.dtype != dtype or buf.numel() < numel:
        _BUFFERS.pop(opt, None)  # free the old one first
        buf = _BUFFERS[opt] = torch.empty(numel, dtype=dtype)
    return buf


def _default_draw(opt) -> bool:
    """Whether ``opt`` draws with SGLD's own ``_draw_noise`` (not overridden, not patched:
    compared by name, as a patched class attribute is what the class itself then holds)."""
    fn = getattr(type(opt), "_draw_noise", None)
    return (
        "_draw_noise" not in vars(opt)
        and getattr(fn, "__module__", None) == _optimizer_class().__module__
        and getattr(fn, "__qualname__", None) == "SGLD._draw_noise"
    )


def _drawn(opt, item: Item) -> torch.Tensor:
    """``opt._draw_noise(item.w, item.lr)`` as a contiguous tensor of the weight's dtype."""
    noise = opt._draw_noise(item.w, item.lr)
    if noise.dtype != item.w.dtype or noise.shape != item.w.shape:
        noise = noise.to(item.w.dtype).expand(item.w.shape)
    return noise.contiguous()


def _launch(opt, items: list[Item], noises: list[torch.Tensor], ctype, variant: str) -> None:
    scalars = [
        _scalars(item.lr, item.wd, opt.rescale_grad, opt.clip_gradient, ctype) for item in items
    ]
    with_noise = [item._replace(states=(noise,)) for item, noise in zip(items, noises)]
    launch(SGLD, variant, with_noise, scalars)


def _run(opt, items: list[Item], ctype: torch.dtype, variant: str) -> None:
    if not _default_draw(opt):
        for item in items:
            _launch(opt, [item], [_drawn(opt, item)], ctype, variant)
        return
    buf = _buffer(opt, max(item.w.numel() for item in items), ctype)
    group: list[Item] = []
    noises: list[torch.Tensor] = []
    used = 0
    for item in items:
        n = item.w.numel()
        if used + n > buf.numel():
            _launch(opt, group, noises, ctype, variant)
            group, noises, used = [], [], 0
        noise = buf[used : used + n].view(item.w.shape)
        _random.fill_normal(noise, 0.0, math.sqrt(item.lr), opt.generator)  # as _draw_noise
        group.append(item)
        noises.append(noise)
        used += n
    _launch(opt, group, noises, ctype, variant)


RULE = FusedRule(
    applies=_applies,
    states_of=_states_of,
    kernels=(SGLD,),
    run=_run,
    sparse="dense",  # the reference densifies a row-sparse gradient
    ordered=True,  # the noise is drawn item by item from one generator
)
register_rule("sgld", RULE)
