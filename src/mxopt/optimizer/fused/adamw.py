r"""Fused AdamW: the rule of :func:`mxopt.ndarray.ops.adamw.adamw_update` as the AdamW
optimizer calls it (``lr=1``, ``eta`` = the bias-corrected rate), in one pass over
w, g, m, v.

With :math:`\hat g = \mathrm{clip}(r g)` (the fused operators' rule: only ``clip >= 0``
clips) and :math:`\eta_t = \mathrm{f32}(\eta\sqrt{1-\beta_2^t}/(1-\beta_1^t))` per tensor
(:math:`\eta` without ``correct_bias``):

.. math::

    m \leftarrow \beta_1 m + (1-\beta_1)\hat g,\qquad
    v \leftarrow \beta_2 v + (1-\beta_2)\hat g^2,\qquad
    w \leftarrow w - \eta_t\,\big(m/(\sqrt{v} + \epsilon) + \lambda w\big)

Every scalar is an operator parameter (``f32``; :math:`1-\beta` rounded to the compute
type). A ``rescale_grad`` of 0 or not finite makes the operator skip the update: such
optimizers stay on the reference path.
"""

from __future__ import annotations

import math
from functools import lru_cache

import torch

from ...ndarray.ops._common import f32, in_dtype
from ._ndclip import operator_clip_bound
from .codegen import Kernel
from .engine import FusedRule, Item, register_rule, states_pair

__all__ = ["ADAMW", "RULE"]

ADAMW = Kernel(
    "adamw",
    states=("mean", "var"),
    scalars=(
        "eta",
        "wd",
        "beta1",
        "one_minus_beta1",
        "beta2",
        "one_minus_beta2",
        "epsilon",
        "rescale",
        "clip",
    ),
    body="""
        T G = g * rescale;
        G = CLAMP(G, clip);
        mean = mean * beta1 + G * one_minus_beta1;
        var = var * beta2 + (G * G) * one_minus_beta2;
        T step = mean / (SQRT(var) + epsilon) + w * wd; /* lr = 1: mean * lr is mean */
        w = w - step * eta;
    """,
)


def _rescale_applies(rescale) -> bool:
    """A plain number the operator does not skip on (finite, non-zero)."""
    if isinstance(rescale, bool) or not isinstance(rescale, (int, float)):
        return False
    return math.isfinite(rescale) and rescale != 0


def _applies(opt) -> bool:
    from ..adamw import AdamW
    from ..optimizer import Optimizer

    cls = type(opt)
    return (
        isinstance(opt, AdamW)
        and cls._step is AdamW._step
        and cls._step_multi_precision is Optimizer._step_multi_precision
        and _rescale_applies(opt.rescale_grad)
    )


@lru_cache(maxsize=256)
def _fixed(
    wd: float,
    beta1: float,
    beta2: float,
    epsilon: float,
    rescale: float,
    clip: float,
    ctype: torch.dtype,
) -> tuple[float, ...]:
    """The scalars after ``eta``, in kernel order."""
    b1, b2 = f32(beta1), f32(beta2)
    return (
        f32(wd),
        b1,
        in_dtype(1.0 - b1, ctype),
        b2,
        in_dtype(1.0 - b2, ctype),
        f32(epsilon),
        f32(rescale),
        clip,
    )


def _plan(opt, item: Item, ctype: torch.dtype):
    lr = opt._bias_corrected(item.lr, item.index) if opt.correct_bias else item.lr
    fixed = _fixed(
        item.wd,
        opt.beta1,
        opt.beta2,
        opt.epsilon,
        opt.rescale_grad,
        operator_clip_bound(opt.clip_gradient),
        ctype,
    )
    return ADAMW, (f32(lr), *fixed)


RULE = FusedRule(
    applies=_applies,
    states_of=states_pair,
    kernels=(ADAMW,),
    plan=_plan,
    sparse="dense",  # the reference densifies a row-sparse gradient
)
register_rule("adamw", RULE)
