r"""Fused Nadam: the rule of :func:`mxopt.ndarray.ops.nadam.nadam_rule` in one pass over
w, g, m, v.

.. math::

    G &= \mathrm{clip}(r g + \lambda w),\qquad s \leftarrow s\,\mu_t,\qquad s' = s\,\mu_{t+1}\\
    m &\leftarrow \beta_1 m + (1-\beta_1) G,\qquad v \leftarrow \beta_2 v + (1-\beta_2) G^2\\
    \bar m &= (1-\mu_t)\frac{G}{1-s} + \mu_{t+1}\frac{m}{1-s'},\qquad
    w \leftarrow w - \eta\,\bar m \Big/ \Big(\sqrt{v/(1-\beta_2^t)} + \epsilon\Big)

with :math:`\mu_t = \beta_1(1 - \tfrac12 0.96^{t\delta})`. The schedule :math:`s` is the
optimizer's single ``m_schedule``, advanced once per parameter update: :func:`_run`
advances it over the items in the order of the batch with the same double
multiplications as the reference loop, so every tensor sees the same :math:`s` on both
paths; the per-tensor scalars are then rounded for all items at once. Scalars are rounded to
the weight's type (NDArray arithmetic); clipping is the NDArray rule (:mod:`._ndclip`).
"""

from __future__ import annotations

from functools import lru_cache
from operator import attrgetter

import numpy as np
import torch

from ...ndarray.ops._common import in_dtype, in_dtype_all
from ...ndarray.ops.nadam import nadam_momentum
from ._ndclip import nd_clip, nd_clip_bound
from .codegen import Kernel
from .engine import FusedRule, Item, launch, register_rule, states_pair

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


def _run(opt, items: list[Item], ctype: torch.dtype, variant: str) -> None:
    counts = opt._index_update_count
    ts = [counts[item.index] for item in items]
    b1, b2, decay = opt.beta1, opt.beta2, opt.schedule_decay
    mus = {t: (nadam_momentum(t, b1, decay), nadam_momentum(t + 1, b1, decay)) for t in set(ts)}
    schedules, schedule = [], opt.m_schedule
    for t in ts:  # this item's update, in batch order, as the reference advances it
        schedule = schedule * mus[t][0]
        schedules.append(schedule)
    opt.m_schedule = schedule
    now = np.array(schedules)
    after = now * np.array([mus[t][1] for t in ts])  # s' = s mu_{t+1}
    per_t = {
        t: (in_dtype(1.0 - mu, ctype), in_dtype(mu_next, ctype), in_dtype(1.0 - pow(b2, t), ctype))
        for t, (mu, mu_next) in mus.items()
    }
    rates = list(zip(map(attrgetter("lr"), items), map(attrgetter("wd"), items)))
    fixed = {
        (lr, wd): _fixed_scalars(
            lr, wd, b1, b2, opt.epsilon, opt.rescale_grad, opt.clip_gradient, ctype
        )
        for lr, wd in dict.fromkeys(rates)
    }
    scalars = np.empty((len(items), len(NADAM.scalars)))
    # (usually one lr, wd and count for all items: one row, broadcast)
    scalars[:, :9] = next(iter(fixed.values())) if len(fixed) == 1 else [fixed[k] for k in rates]
    scalars[:, 9:11] = [per_t[t][:2] for t in ts] if len(per_t) > 1 else per_t[ts[0]][:2]
    scalars[:, 11] = in_dtype_all(1.0 - now, ctype)
    scalars[:, 12] = in_dtype_all(1.0 - after, ctype)
    scalars[:, 13] = [per_t[t][2] for t in ts] if len(per_t) > 1 else per_t[ts[0]][2]
    launch(NADAM, variant, items, scalars)


RULE = FusedRule(
    applies=_applies,
    states_of=states_pair,
    kernels=(NADAM,),
    run=_run,
    sparse="dense",  # the reference densifies a row-sparse gradient
    ordered=True,  # the shared m_schedule advances item by item
)
register_rule("nadam", RULE)
