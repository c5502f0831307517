r"""Fused Nadam: the rule of :func:`mxopt.ndarray.ops.nadam.nadam_rule` in one pass over
w, g, m, v.

.. math::

    G &= \mathrm{clip}(r g + \lambda w),\qquad s \leftarrow s\,\mu_t,\qquad s' = s\,\mu_{t+1}\\
    m &\leftarrow \beta_1 m + (1-\beta_1) G,\qquad v \leftarrow \beta_2 v + (1-\beta_2) G^2\\
    \bar m &= (1-\mu_t)\frac{G}{1-s} + \mu_{t+1}\frac{m}{1-s'},\qquad
    w \leftarrow w - \eta\,\bar m \Big/ \Big(\sqrt{v/(1-\beta_2^t)} + \epsilon\Big)

with :math:`\mu_t = \beta_1(1 - \tfrac12 0.96^{t\delta})`. The schedule :math:`s` is the
optimizer's single ``m_schedule``, advanced once per parameter update: :func:`_plan` is
called for the items in the order of the batch and advances it exactly as the reference
loop does, so every tensor sees the same :math:`s` on both paths. Scalars are rounded to
the weight's type (NDArray arithmetic); clipping is the NDArray rule (:mod:`._ndclip`).
"""

from __future__ import annotations

from functools import lru_cache

import torch

from ...ndarray.ops._common import in_dtype
from ...ndarray.ops.nadam import nadam_momentum
from ._ndclip import nd_clip, nd_clip_bound
from .codegen import Kernel
from .engine import FusedRule, Item, register_rule, states_pair

__all__ = ["NADAM", "RULE"]

NADAM = Kernel(
    "nadam",
    states=("mean", "var"),
    scalars=(
        "lr",
        "beta1",
        "one_minus_beta1",
        "beta2",
        "one_minus_beta2",
        "epsilon",
        "wd",
        "rescale",
        "clip",
        "one_minus_mu",
        "mu_next",
        "one_minus_schedule",
        "one_minus_schedule_next",
        "one_minus_beta2_t",
    ),
    body=f"""
        T G = g * rescale + w * wd;
        {nd_clip("G")}
        mean = mean * beta1 + G * one_minus_beta1;
        var = var * beta2 + (G * one_minus_beta2) * G;
        T m_bar = (G / one_minus_schedule) * one_minus_mu
                + (mean / one_minus_schedule_next) * mu_next;
        w = w - (m_bar * lr) / (SQRT(var / one_minus_beta2_t) + epsilon);
    """,
)


def _applies(opt) -> bool:
    from ..nadam import Nadam

    return isinstance(opt, Nadam) and type(opt)._step is Nadam._step


@lru_cache(maxsize=256)
def _fixed_scalars(
    lr: float, wd: float, beta1: float, beta2: float, epsilon: float, rescale: float,
    clip: float | None, ctype: torch.dtype,
) -> tuple[float, ...]:  # fmt: skip
    """The scalars that do not depend on the running schedule, in kernel order."""
    return (
        in_dtype(lr, ctype),
        in_dtype(beta1, ctype),
        in_dtype(1.0 - beta1, ctype),
        in_dtype(beta2, ctype),
        in_dtype(1.0 - beta2, ctype),
        in_dtype(epsilon, ctype),
        in_dtype(wd, ctype),
        in_dtype(rescale, ctype),
        nd_clip_bound(clip),
    )


def _plan(opt, item: Item, ctype: torch.dtype):
    t = opt._index_update_count[item.index]
    mu_t = nadam_momentum(t, opt.beta1, opt.schedule_decay)
    mu_next = nadam_momentum(t + 1, opt.beta1, opt.schedule_decay)
    opt.m_schedule = schedule = opt.m_schedule * mu_t  # this item's update, in batch order
    schedule_next = schedule * mu_next
    fixed = _fixed_scalars(
        item.lr, item.wd, opt.beta1, opt.beta2, opt.epsilon, opt.rescale_grad,
        opt.clip_gradient, ctype,
    )  # fmt: skip
    return NADAM, fixed + (
        in_dtype(1.0 - mu_t, ctype),
        in_dtype(mu_next, ctype),
        in_dtype(1.0 - schedule, ctype),
        in_dtype(1.0 - schedule_next, ctype),
        in_dtype(1.0 - pow(opt.beta2, t), ctype),
    )


RULE = FusedRule(
    applies=_applies,
    states_of=states_pair,
    kernels=(NADAM,),
    plan=_plan,
    sparse="dense",  # the reference densifies a row-sparse gradient
    ordered=True,  # the shared m_schedule advances item by item
    pure_plan=False,  # (so plan runs for every item, in order)
)
register_rule("nadam", RULE)
