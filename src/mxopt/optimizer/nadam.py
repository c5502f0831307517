r"""Nadam (MXNet's ``nadam``): Adam with Nesterov momentum and a warming momentum schedule."""

from __future__ import annotations

import torch

from ..ndarray.ops.nadam import nadam_rule
from ._checks import check_range
from ._common import zeros_like
from ._densify import dense
from ._moments import set_moments
from .optimizer import Optimizer, register

__all__ = ["Nadam"]


@register
class Nadam(Optimizer):
    r"""Nadam (Dozat, 2016) as MXNet 1.9.1 runs it.

    With :math:`t` the parameter's update count, :math:`G = \mathrm{clip}(r g + \lambda w)`,
    :math:`\delta` = ``schedule_decay`` and :math:`s` the attribute ``m_schedule``:

    .. math::

        \mu_t &= \beta_1\big(1 - \tfrac12 0.96^{t\delta}\big), \qquad
        s \leftarrow s\,\mu_t, \qquad s' = s\,\mu_{t+1}\\
        m &\leftarrow \beta_1 m + (1-\beta_1) G, \qquad
        v \leftarrow \beta_2 v + (1-\beta_2) G^2\\
        \bar m &= (1-\mu_t)\frac{G}{1-s} + \mu_{t+1}\frac{m}{1-s'}, \qquad
        w \leftarrow w - \eta\,\bar m / \Big(\sqrt{v/(1-\beta_2^t)} + \epsilon\Big)

    **Quirk kept from MXNet:** ``m_schedule`` (starting at 1.0) is *one* number for the
    whole optimizer, multiplied by :math:`\mu_t` at every parameter update, so with
    several parameters it decays once per parameter per step. The state is ``(m, v)``.
    Clipping is MXNet's Python-side rule (whenever ``clip_gradient is not None``). A
    row-sparse gradient is used as a dense gradient with zero rows. ``learning_rate``
    defaults to 0.001 and, as in MXNet, overrides a scheduler's ``base_lr``.

    Parameters
    ----------
    learning_rate : float, default 0.001
    beta1 : float, default 0.9
        In ``[0, 1)``.
    beta2 : float, default 0.999
        In ``[0, 1)``.
    epsilon : float, default 1e-8
    schedule_decay : float, default 0.004
        ``>= 0``.

    {common_args}

    Example
    -------
    >>> import torch, mxopt as mx
    >>> updater = mx.optimizer.get_updater(mx.optimizer.Nadam(learning_rate=0.1))
    >>> w = torch.tensor([1.0, -2.0])
    >>> updater(0, torch.tensor([0.5, 0.5]), w)
    >>> w.round(decimals=4)
    tensor([ 0.8944, -2.1056])
    """

    _fused_rule = "nadam"  # fast path: optimizer/fused/nadam.py

    def __init__(
        self,
        learning_rate: float = 0.001,
        beta1: float = 0.9,
        beta2: float = 0.999,
        epsilon: float = 1e-8,
        schedule_decay: float = 0.004,
        **kwargs,
    ) -> None:
        super().__init__(learning_rate=learning_rate, **kwargs)
        set_moments(self, beta1, beta2, epsilon)
        check_range("schedule_decay", schedule_decay, 0.0)
        self.schedule_decay = schedule_decay
        self.m_schedule = 1.0

    def create_state(self, index, weight: torch.Tensor):
        return (zeros_like(weight), zeros_like(weight))  # m, v

    def _step(self, indices, weights, grads, states, lrs, wds) -> None:
        counts = self._index_update_count
        for i, w, g, (m, v), lr, wd in zip(indices, weights, grads, states, lrs, wds):
            self.m_schedule = nadam_rule(
                w, dense(g), m, v, lr=lr, t=counts[i], m_schedule=self.m_schedule,
                beta1=self.beta1, beta2=self.beta2, epsilon=self.epsilon,
                schedule_decay=self.schedule_decay, wd=wd, rescale_grad=self.rescale_grad,
                clip_gradient=self.clip_gradient,
            )  # fmt: skip
