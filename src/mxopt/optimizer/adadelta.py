r"""AdaDelta (MXNet's ``adadelta``)."""

from __future__ import annotations

import torch

from ..ndarray.ops._common import clip_like_ndarray, f32
from ..ndarray.ops.adadelta import adadelta_rule
from ._checks import check_range
from ._common import zeros_like
from .optimizer import Optimizer, register

__all__ = ["AdaDelta"]


@register
class AdaDelta(Optimizer):
    r"""AdaDelta (Zeiler, 2012): no learning rate.

    With :math:`G = \mathrm{clip}(r g)` (clipped whenever ``clip_gradient is not None``):

    .. math::

        a_g &\leftarrow \rho\, a_g + (1-\rho) G^2, \qquad
        \Delta = \frac{\sqrt{a_\Delta + \epsilon}}{\sqrt{a_g + \epsilon}}\, G\\
        a_\Delta &\leftarrow \rho\, a_\Delta + (1-\rho) \Delta^2, \qquad
        w \leftarrow w - \Delta - \lambda w

    Weight decay is applied unscaled (no learning rate) after the step.

    Parameters
    ----------
    rho : float, default 0.9
        In ``[0, 1]``.
    epsilon : float, default 1e-5

    {common_args}

    Example
    -------
    >>> import torch, mxopt as mx
    >>> updater = mx.optimizer.get_updater(mx.optimizer.AdaDelta())
    >>> w = torch.tensor([1.0, -2.0])
    >>> updater(0, torch.tensor([0.5, 0.5]), w)
    >>> w.round(decimals=4)
    tensor([ 0.9900, -2.0100])
    """

    def __init__(self, rho: float = 0.90, epsilon: float = 1e-5, **kwargs) -> None:
        super().__init__(**kwargs)
        check_range("rho", rho, 0.0, 1.0)
        check_range("epsilon", epsilon, 0.0)
        self.rho = rho
        self.epsilon = epsilon

    _fused_rule = "adadelta"  # fast path: optimizer/fused/adadelta.py

    def create_state(self, index, weight: torch.Tensor):
        return (zeros_like(weight), zeros_like(weight))

    def _step(self, indices, weights, grads, states, lrs, wds) -> None:
        for w, g, (acc_g, acc_delta), wd in zip(weights, grads, states, wds):
            if g.is_sparse:
                g = g.to_dense()
            G = clip_like_ndarray(g * f32(self.rescale_grad), self.clip_gradient)
            adadelta_rule(
                w, G, acc_g, acc_delta, rho=f32(self.rho), epsilon=f32(self.epsilon), wd=f32(wd)
            )
