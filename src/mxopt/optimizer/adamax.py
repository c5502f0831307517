r"""AdaMax (MXNet's ``adamax``): Adam with the infinity norm."""

from __future__ import annotations

import torch

from ..ndarray.ops.adamax import adamax_rule
from ._checks import check_range
from ._common import zeros_like
from ._densify import dense
from .optimizer import Optimizer, register

__all__ = ["Adamax"]


@register
class Adamax(Optimizer):
    r"""AdaMax (Kingma & Ba, 2014, §7).

    With :math:`t` the parameter's update count and
    :math:`G = \mathrm{clip}(r g + \lambda w)`:

    .. math::

        m \leftarrow \beta_1 m + (1-\beta_1) G, \qquad
        u \leftarrow \max(\beta_2 u, |G|), \qquad
        w \leftarrow w - \frac{\eta}{1-\beta_1^t}\; m / u

    The state is ``(m, u)``. There is no :math:`\epsilon`: an element with :math:`u = 0`
    (zero gradient and no weight decay so far) becomes NaN, as in MXNet. Clipping is
    MXNet's Python-side rule: it applies whenever ``clip_gradient is not None`` (0
    zeroes the gradient, negatives reproduce MXNet's ``clip``). A row-sparse gradient is
    used as a dense gradient with zero rows. ``learning_rate`` defaults to 0.002 and, as in
    MXNet, overrides a scheduler's ``base_lr`` even when not given.

    Parameters
    ----------
    learning_rate : float, default 0.002
    beta1 : float, default 0.9
        In ``[0, 1)``.
    beta2 : float, default 0.999
        In ``[0, 1]``.

    {common_args}

    Example
    -------
    >>> import torch, mxopt as mx
    >>> updater = mx.optimizer.get_updater(mx.optimizer.Adamax(learning_rate=0.1))
    >>> w = torch.tensor([1.0, -2.0])
    >>> updater(0, torch.tensor([0.5, 0.5]), w)
    >>> w
    tensor([ 0.9000, -2.1000])
    """

    _fused_rule = "adamax"  # fast path: optimizer/fused/adamax.py

    def __init__(
        self, learning_rate: float = 0.002, beta1: float = 0.9, beta2: float = 0.999, **kwargs
    ) -> None:
        super().__init__(learning_rate=learning_rate, **kwargs)
        check_range("beta1", beta1, 0.0, 1.0, high_open=True)
        check_range("beta2", beta2, 0.0, 1.0)
        self.beta1 = beta1
        self.beta2 = beta2

    def create_state(self, index, weight: torch.Tensor):
        return (zeros_like(weight), zeros_like(weight))  # m, u

    def _step(self, indices, weights, grads, states, lrs, wds) -> None:
        counts = self._index_update_count
        for i, w, g, (m, u), lr, wd in zip(indices, weights, grads, states, lrs, wds):
            adamax_rule(
                w, dense(g), m, u, lr=lr, t=counts[i], beta1=self.beta1, beta2=self.beta2,
                wd=wd, rescale_grad=self.rescale_grad, clip_gradient=self.clip_gradient,
            )  # fmt: skip
