r"""Fused AdaMax: the rule of :func:`mxopt.ndarray.ops.adamax.adamax_rule` in one pass over
w, g, m, u.

.. math::

    G = \mathrm{clip}(r g + \lambda w),\quad m \leftarrow \beta_1 m + (1-\beta_1) G,\quad
    u \leftarrow \max(\beta_2 u, |G|),\quad
    w \leftarrow w - \frac{\eta}{1-\beta_1^t}\, m / u

MXNet computes it with NDArray arithmetic, so every scalar is rounded to the weight's type
(``in_dtype``) and clipping is the NDArray rule (:mod:`._ndclip`). The maximum propagates
NaN like ``torch.maximum``.
"""

from __future__ import annotations

from functools import lru_cache

import torch

from ...ndarray.ops._common import in_dtype
from ._ndclip import nd_clip, nd_clip_bound
from .codegen import Kernel
from .engine import FusedRule, Item, register_rule, states_pair

__all__ = ["ADAMAX", "RULE"]

ADAMAX = Kernel(
    "adamax",
    states=("mean", "inf_norm"),
    scalars=("lr", "beta1", "one_minus_beta1", "beta2", "wd", "rescale", "clip"),
    body=f"""
        T G = g * rescale + w * wd;
        {nd_clip("G")}
        mean = mean * beta1 + G * one_minus_beta1;
        T decayed = inf_norm * beta2, size = FABS(G);
        inf_norm = (decayed > size || decayed != decayed) ? decayed : size;
        w = w - (mean * lr) / inf_norm;
    """,
)


def _applies(opt) -> bool:
    from ..adamax import Adamax

    return isinstance(opt, Adamax) and type(opt)._step is Adamax._step


@lru_cache(maxsize=256)
def _scalars(
    lr: float, wd: float, t: int, beta1: float, beta2: float, rescale: float,
    clip: float | None, ctype: torch.dtype,
) -> tuple[float, ...]:  # fmt: skip
    lr_t = lr / (1.0 - beta1**t)
    return (
        in_dtype(lr_t, ctype),
        in_dtype(beta1, ctype),
        in_dtype(1.0 - beta1, ctype),
        in_dtype(beta2, ctype),
        in_dtype(wd, ctype),
        in_dtype(rescale, ctype),
        nd_clip_bound(clip),
    )


def _plan(opt, item: Item, ctype: torch.dtype):
    t = opt._index_update_count[item.index]
    return ADAMAX, _scalars(
        item.lr, item.wd, t, opt.beta1, opt.beta2, opt.rescale_grad, opt.clip_gradient, ctype
    )


RULE = FusedRule(
    applies=_applies,
    states_of=states_pair,
    kernels=(ADAMAX,),
    plan=_plan,
    sparse="dense",  # the reference densifies a row-sparse gradient
)
register_rule("adamax", RULE)
