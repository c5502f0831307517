r"""Lion (Chen et al., 2023): sign of an interpolated momentum."""

from __future__ import annotations

import torch

from ..ndarray.ops.lion import lion_rule
from ._beyond import clip_value, dense
from ._checks import check_range
from ._common import zeros_like
from .optimizer import Optimizer, aggregation_size, register

__all__ = ["Lion"]


@register
class Lion(Optimizer):
    r"""Lion ("EvoLved Sign Momentum", Chen et al., 2023, "Symbolic Discovery of
    Optimization Algorithms").

    With :math:`G = \mathrm{clip}(r g)` and decoupled weight decay :math:`\lambda`:

    .. math::

        c &= \beta_1 m + (1-\beta_1) G, \qquad
        w \leftarrow w - \eta\,(\mathrm{sign}(c) + \lambda w), \qquad
        m \leftarrow \beta_2 m + (1-\beta_2) G

    Every coordinate moves by exactly :math:`\eta` (plus decay), so Lion wants a smaller
    learning rate and a larger weight decay than AdamW (the paper suggests 3-10x each).
    Clipping applies when ``clip_gradient > 0``.

    Parameters
    ----------
    learning_rate : float, default 1e-4
    beta1 : float, default 0.9
    beta2 : float, default 0.99

    {common_args}

    Multi-precision uses the generic float32 master copy.

    Example
    -------
    >>> import torch, mxopt as mx
    >>> updater = mx.optimizer.get_updater(mx.optimizer.Lion(learning_rate=0.1))
    >>> w = torch.tensor([1.0, -2.0])
    >>> updater(0, torch.tensor([0.5, -0.5]), w)
    >>> w
    tensor([ 0.9000, -1.9000])
    """

    def __init__(
        self, learning_rate: float = 1e-4, beta1: float = 0.9, beta2: float = 0.99, **kwargs
    ) -> None:
        super().__init__(learning_rate=learning_rate, **kwargs)
        check_range("beta1", beta1, 0.0, 1.0)
        check_range("beta2", beta2, 0.0, 1.0)
        self.beta1 = beta1
        self.beta2 = beta2
        self.aggregate_num = aggregation_size(4, upper=50)

    def create_state(self, index, weight: torch.Tensor):
        return zeros_like(weight)

    _fused_rule = "lion"  # fast path: optimizer/fused/lion.py

    def _step(self, indices, weights, grads, states, lrs, wds) -> None:
        for w, g, mom, lr, wd in zip(weights, grads, states, lrs, wds):
            lion_rule(
                w, dense(g), mom, lr=lr, wd=wd, beta1=self.beta1, beta2=self.beta2,
                rescale_grad=self.rescale_grad, clip_gradient=clip_value(self.clip_gradient),
            )  # fmt: skip
