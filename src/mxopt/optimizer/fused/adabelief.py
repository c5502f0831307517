r"""Fused AdaBelief: the rule of :func:`mxopt.ndarray.ops.adabelief.adabelief_rule` with
the optimizer's bias-corrected rate, in one pass over w, g, m, s.

With :math:`G = \mathrm{clip}(r g + \lambda w)` (only a positive ``clip_gradient`` clips)
and :math:`\eta_t = \eta\sqrt{1-\beta_2^t}/(1-\beta_1^t)` per tensor (:math:`\eta` without
``correct_bias``):

.. math::

    m \leftarrow \beta_1 m + (1-\beta_1) G,\qquad
    s \leftarrow \beta_2 s + (1-\beta_2)(G - m)^2 + \epsilon,\qquad
    w \leftarrow w - \eta_t\, m / (\sqrt{s} + \epsilon)

The reference is tensor arithmetic with Python scalars: scalars are rounded to the
weight's type (``in_dtype``), and its ``add_(x, alpha=a)`` are fused multiply-adds in
torch's kernels, hence the ``FMA`` in the body.
"""

from __future__ import annotations

from functools import lru_cache

import torch

from ...ndarray.ops._common import in_dtype
from ._ndclip import clip_bound
from .codegen import Kernel
from .engine import FusedRule, Item, register_rule, states_pair

__all__ = ["ADABELIEF", "RULE"]

ADABELIEF = Kernel(
    "adabelief",
    states=("mean", "var"),
    scalars=(
        "lr",
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
        T G = CLAMP(g * rescale + w * wd, clip);
        mean = FMA(G, one_minus_beta1, mean * beta1);
        T belief = G - mean;
        var = FMA(belief * belief, one_minus_beta2, var * beta2) + epsilon;
        w = w - (mean / (SQRT(var) + epsilon)) * lr;
    """,
)


def _applies(opt) -> bool:
    from ..adabelief import AdaBelief
    from ..optimizer import Optimizer

    cls = type(opt)
    return (
        isinstance(opt, AdaBelief)
        and cls._step is AdaBelief._step
        and cls._step_multi_precision is Optimizer._step_multi_precision
    )


@lru_cache(maxsize=256)
def _fixed(
    wd: float,
    beta1: float,
    beta2: float,
    epsilon: float,
    rescale: float,
    clip: float | None,
    ctype: torch.dtype,
) -> tuple[float, ...]:
    """The scalars after ``lr``, in kernel order."""
    return (
        in_dtype(wd, ctype),
        in_dtype(beta1, ctype),
        in_dtype(1.0 - beta1, ctype),
        in_dtype(beta2, ctype),
        in_dtype(1.0 - beta2, ctype),
        in_dtype(epsilon, ctype),
        in_dtype(rescale, ctype),
        clip_bound(clip),
    )


def _plan(opt, item: Item, ctype: torch.dtype):
    lr = opt._bias_corrected(item.lr, item.index) if opt.correct_bias else item.lr
    fixed = _fixed(
        item.wd, opt.beta1, opt.beta2, opt.epsilon, opt.rescale_grad, opt.clip_gradient, ctype
    )
    return ADABELIEF, (in_dtype(lr, ctype), *fixed)


RULE = FusedRule(
    applies=_applies,
    states_of=states_pair,
    kernels=(ADABELIEF,),
    plan=_plan,
    sparse="dense",  # the reference densifies a row-sparse gradient
)
register_rule("adabelief", RULE)
