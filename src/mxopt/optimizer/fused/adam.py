r"""Fused Adam: the rule of :func:`mxopt.ndarray.ops.adam.adam_update` with the
optimizer's bias-corrected rate, in one pass over w, g, m, v.

.. math::

    G = \mathrm{clip}(r g + \lambda w),\quad m \leftarrow \beta_1 m + (1-\beta_1) G,\quad
    v \leftarrow \beta_2 v + (1-\beta_2) G^2,\quad
    w \leftarrow w - \eta_t\, m / (\sqrt{v} + \epsilon)

with :math:`\eta_t = \mathrm{f32}(\eta\sqrt{1-\beta_2^t}/(1-\beta_1^t))` per tensor.
"""

from __future__ import annotations

from functools import lru_cache

import torch

from ...ndarray.ops._common import f32, in_dtype
from ._ndclip import operator_clip_bound
from .codegen import Kernel
from .engine import FusedRule, Item, lazy_or_dense, register_rule, states_pair

__all__ = ["ADAM", "RULE"]

ADAM = Kernel(
    "adam",
    states=("mean", "var"),
    scalars=(
        *("lr", "beta1", "one_minus_beta1", "beta2", "one_minus_beta2"),
        *("epsilon", "wd", "rescale", "clip"),
    ),
    body="""
        T G = g * rescale + w * wd;
        G = CLAMP(G, clip);
        mean = FMA(G, one_minus_beta1, mean * beta1);
        var = FMA(G * G, one_minus_beta2, var * beta2);
        w = w - (mean * lr) / (SQRT(var) + epsilon);
    """,
)


def _applies(opt) -> bool:
    from ..adam import Adam

    return isinstance(opt, Adam) and type(opt)._step is Adam._step


@lru_cache(maxsize=256)
def _fixed(
    beta1: float, beta2: float, epsilon: float, rescale: float, clip: float | None,
    ctype: torch.dtype,
) -> tuple[tuple[float, ...], tuple[float, float]]:  # fmt: skip
    """The scalars that are the same for every tensor: (betas, epsilon), (rescale, clip)."""
    b1, b2 = f32(beta1), f32(beta2)
    moments = (b1, in_dtype(1.0 - b1, ctype), b2, in_dtype(1.0 - b2, ctype), f32(epsilon))
    return moments, (f32(rescale), operator_clip_bound(clip))


def _plan(opt, item: Item, ctype: torch.dtype):
    moments, grad = _fixed(
        opt.beta1, opt.beta2, opt.epsilon, opt.rescale_grad, opt.clip_gradient, ctype
    )
    lr_t = f32(opt._bias_corrected(item.lr, item.index))
    return ADAM, (lr_t, *moments, f32(item.wd), *grad)


RULE = FusedRule(
    applies=_applies,
    states_of=states_pair,
    kernels=(ADAM,),
    plan=_plan,
    sparse=lazy_or_dense,
)
register_rule("adam", RULE)
