r"""Fused Signum and signSGD: the rules of :func:`mxopt.ndarray.ops.signum.signum_update`
and ``signsgd_update`` in one pass over memory.

.. math::

    \mu > 0:\quad m &\leftarrow \mu m - (1-\mu)\lambda w - (1-\mu)\,\mathrm{clip}(r g),
        \qquad w \leftarrow (1 - \eta\lambda_{lh})\,w + \eta\,\mathrm{sign}(m)\\
    \mu = 0:\quad w &\leftarrow (1 - \eta\lambda)\,w - \eta\,\mathrm{sign}(g)

As in the reference, the branch follows the state (a momentum tensor or ``None``), scalars
are parsed as float32 (``f32``) and their products rounded to the weight's type, and the
fused operators' clipping rule applies (only ``clip >= 0`` clips). signSGD ignores
``rescale_grad`` and ``clip_gradient``.
"""

from __future__ import annotations

from functools import lru_cache

import torch

from ...ndarray.ops._common import f32, in_dtype
from .._common import fused_clip
from .codegen import Kernel
from .engine import FusedRule, Item, optional_state, register_rule

__all__ = ["SIGNSGD", "SIGNUM", "RULE"]

SIGNSGD = Kernel(
    "signsgd",
    states=(),
    scalars=("lr", "decay"),
    body="w = w * decay - SIGN(g) * lr;",
)
SIGNUM = Kernel(
    "signum",
    states=("mom",),
    scalars=("lr", "momentum", "keep", "keep_rescale", "keep_wd", "rescale", "clip", "decay"),
    body="""
        T step = clip >= 0 ? CLAMP(g * rescale, clip) * keep : g * keep_rescale;
        mom = (mom * momentum - w * keep_wd) - step;
        w = w * decay + SIGN(mom) * lr;
    """,
)


def _applies(opt) -> bool:
    from ..signum import Signum

    return isinstance(opt, Signum) and type(opt)._step is Signum._step


def _decay(lr: float, wd: float, ctype: torch.dtype) -> float:
    return in_dtype(1.0 - in_dtype(lr * wd, ctype), ctype)


@lru_cache(maxsize=256)
def _signum_scalars(
    lr: float, wd: float, momentum: float, rescale: float, clip: float, wd_lh: float,
    ctype: torch.dtype,
) -> tuple[float, ...]:  # fmt: skip
    lr, wd, momentum, rescale, clip, wd_lh = map(f32, (lr, wd, momentum, rescale, clip, wd_lh))
    keep = in_dtype(1.0 - momentum, ctype)
    return (
        lr,
        momentum,
        keep,
        in_dtype(keep * rescale, ctype),
        in_dtype(keep * wd, ctype),
        rescale,
        clip,
        _decay(lr, wd_lh, ctype),
    )


@lru_cache(maxsize=256)
def _signsgd_scalars(lr: float, wd: float, ctype: torch.dtype) -> tuple[float, ...]:
    lr, wd = f32(lr), f32(wd)
    return lr, _decay(lr, wd, ctype)


def _plan(opt, item: Item, ctype: torch.dtype):
    if not item.states:
        return SIGNSGD, _signsgd_scalars(item.lr, item.wd, ctype)
    clip = fused_clip(opt.clip_gradient)
    return SIGNUM, _signum_scalars(
        item.lr, item.wd, opt.momentum, opt.rescale_grad, clip, opt.wd_lh, ctype
    )


RULE = FusedRule(
    applies=_applies,
    states_of=optional_state,
    kernels=(SIGNSGD, SIGNUM),
    plan=_plan,
    sparse="dense",  # MXNet's storage fallback: a dense gradient with zero rows
)
register_rule("signum", RULE)
