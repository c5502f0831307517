r"""Nadam's update rule (Dozat, 2016). MXNet computes it with NDArray arithmetic and has no
operator for it; mxopt keeps the rule here with the other update math.

With :math:`t` the update count, :math:`G = \mathrm{clip}(r g + \lambda w)` (clipped
whenever ``clip_gradient is not None``) and :math:`s` the momentum schedule *before* this
update:

.. math::

    \mu_t &= \beta_1\big(1 - \tfrac12\, 0.96^{t\,\delta}\big), \qquad
    \mu_{t+1} = \beta_1\big(1 - \tfrac12\, 0.96^{(t+1)\,\delta}\big)\\
    s &\leftarrow s\,\mu_t, \qquad s' = s\,\mu_{t+1}\\
    m &\leftarrow \beta_1 m + (1-\beta_1) G, \qquad v \leftarrow \beta_2 v + (1-\beta_2) G^2\\
    \bar m &= (1-\mu_t)\,\frac{G}{1-s} + \mu_{t+1}\,\frac{m}{1-s'}\\
    w &\leftarrow w - \eta\,\bar m \,/\, \Big(\sqrt{v/(1-\beta_2^t)} + \epsilon\Big)

:math:`\delta` is ``schedule_decay``. The rule returns the new :math:`s`; in MXNet it is
one number shared by every parameter of the optimizer (see :class:`~mxopt.optimizer.Nadam`).
"""

from __future__ import annotations

import torch

from ._common import clip_like_ndarray, in_dtype

__all__ = ["nadam_rule", "nadam_momentum"]


def nadam_momentum(t: int, beta1: float, schedule_decay: float) -> float:
    """:math:`\\mu_t = \\beta_1 (1 - 0.5 \\cdot 0.96^{t \\cdot \\delta})` (in double)."""
    return beta1 * (1.0 - 0.5 * pow(0.96, t * schedule_decay))


def nadam_rule(
    w: torch.Tensor,
    g: torch.Tensor,
    m: torch.Tensor,
    v: torch.Tensor,
    *,
    lr: float,
    t: int,
    m_schedule: float,
    beta1: float,
    beta2: float,
    epsilon: float,
    schedule_decay: float,
    wd: float,
    rescale_grad: float,
    clip_gradient: float | None,
) -> float:
    """In-place Nadam step on ``w``, ``m`` and ``v``; returns the updated momentum schedule."""
    dt = w.dtype
    G = clip_like_ndarray(g * in_dtype(rescale_grad, dt) + w * in_dtype(wd, dt), clip_gradient)
    mu_t = nadam_momentum(t, beta1, schedule_decay)
    mu_next = nadam_momentum(t + 1, beta1, schedule_decay)
    m_schedule = m_schedule * mu_t
    schedule_next = m_schedule * mu_next
    m.mul_(in_dtype(beta1, dt)).add_(G * in_dtype(1.0 - beta1, dt))
    v.mul_(in_dtype(beta2, dt)).add_((G * in_dtype(1.0 - beta2, dt)).mul_(G))
    g_prime = G / in_dtype(1.0 - m_schedule, dt)
    m_prime = m / in_dtype(1.0 - schedule_next, dt)
    v_prime = v / in_dtype(1.0 - pow(beta2, t), dt)
    m_bar = g_prime.mul_(in_dtype(1.0 - mu_t, dt)).add_(m_prime.mul_(in_dtype(mu_next, dt)))
    w.sub_(m_bar.mul_(in_dtype(lr, dt)).div_(v_prime.sqrt_().add_(in_dtype(epsilon, dt))))
    return m_schedule
