r"""Fused Adam over many tensors: the rule of :func:`mxopt.ndarray.ops.adam.adam_update`
with the optimizer's bias-corrected rate, in one pass over w, g, m, v.

.. math::

    G = \mathrm{clip}(r g + \lambda w),\quad m \leftarrow \beta_1 m + (1-\beta_1) G,\quad
    v \leftarrow \beta_2 v + (1-\beta_2) G^2,\quad
    w \leftarrow w - \eta_t\, m / (\sqrt{v} + \epsilon)

with :math:`\eta_t = \mathrm{f32}(\eta\sqrt{1-\beta_2^t}/(1-\beta_1^t))` per tensor.
"""

from __future__ import annotations

import math

import torch

from ...ndarray.ops._common import f32, in_dtype
from .._common import fused_clip
from ._ctypes_util import doubles, int64s, pointers, suffix
from .engine import FusedRule, register_rule

__all__ = ["RULE"]


def _applies(opt) -> bool:
    from ..adam import Adam

    return isinstance(opt, Adam) and type(opt)._step is Adam._step


def _states_of(state):
    if (
        isinstance(state, tuple)
        and len(state) == 2
        and all(isinstance(t, torch.Tensor) for t in state)
    ):
        return state
    return None


def _run(lib, opt, items: list, dtype: torch.dtype) -> None:
    counts = opt._index_update_count
    b1, b2 = f32(opt.beta1), f32(opt.beta2)
    common = [
        b1,
        in_dtype(1.0 - b1, dtype),
        b2,
        in_dtype(1.0 - b2, dtype),
        f32(opt.epsilon),
    ]
    r = f32(opt.rescale_grad)
    c = f32(fused_clip(opt.clip_gradient))
    scal: list[float] = []
    for i, _, _, _, lr, wd in items:
        t = counts[i]
        lr_t = lr * math.sqrt(1.0 - opt.beta2**t) / (1.0 - opt.beta1**t)
        scal += [f32(lr_t), *common, f32(wd), r, c]
    getattr(lib, f"mxopt_adam_{suffix(dtype)}")(
        len(items),
        pointers([it[1] for it in items]),
        pointers([it[2] for it in items]),
        pointers([it[3][0] for it in items]),
        pointers([it[3][1] for it in items]),
        int64s([it[1].numel() for it in items]),
        doubles(scal),
    )


RULE = FusedRule(applies=_applies, states_of=_states_of, run=_run)
register_rule("adam", RULE)
