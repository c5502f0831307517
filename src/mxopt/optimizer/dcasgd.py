r"""DCASGD (MXNet's ``dcasgd``): asynchronous SGD with delay compensation."""

from __future__ import annotations

import torch

from ..ndarray.ops.dcasgd import dcasgd_rule
from ._checks import check_range
from ._common import zeros_like
from ._densify import dense
from .optimizer import Optimizer, register

__all__ = ["DCASGD"]


@register
class DCASGD(Optimizer):
    r"""DCASGD (Zheng et al., 2017): SGD whose gradient is corrected for the change of the
    weight since the previous update.

    With :math:`G = \mathrm{clip}(r g)`, :math:`\tilde w` the weight the previous update
    started from (initially the weight itself) and :math:`\kappa` = ``lamda``:

    .. math::

        \Delta &= -\eta\big(G + \lambda w + \kappa\,G^2\,(w - \tilde w)\big), \qquad
        \tilde w \leftarrow w\\
        \mu = 0:&\quad w \leftarrow w + \Delta \qquad
        \mu > 0:\quad m \leftarrow \mu m + \Delta,\quad w \leftarrow w + m

    The state is ``(None or m, w̃)``. Clipping is MXNet's Python-side rule (whenever
    ``clip_gradient is not None``). A row-sparse gradient is used as a dense gradient with
    zero rows. **Difference:** MXNet 1.9.1 crashes for ``momentum > 0`` (it takes the truth
    value of an NDArray); mxopt runs the momentum branch MXNet's code spells out, as above.

    Parameters
    ----------
    momentum : float, default 0.0
        In ``[0, 1]``.
    lamda : float, default 0.04
        Delay-compensation strength, ``>= 0``.

    {common_args}

    Example
    -------
    >>> import torch, mxopt as mx
    >>> updater = mx.optimizer.get_updater(mx.optimizer.DCASGD(learning_rate=0.1, wd=0.1))
    >>> w = torch.tensor([1.0, -2.0])
    >>> updater(0, torch.tensor([0.5, 0.5]), w)
    >>> w
    tensor([ 0.9400, -2.0300])
    """

    _fused_rule = "dcasgd"  # fast path: optimizer/fused/dcasgd.py

    def __init__(self, momentum: float = 0.0, lamda: float = 0.04, **kwargs) -> None:
        super().__init__(**kwargs)
        check_range("momentum", momentum, 0.0, 1.0)
        check_range("lamda", lamda, 0.0)
        self.momentum = momentum
        self.lamda = lamda

    def create_state(self, index, weight: torch.Tensor):
        mom = zeros_like(weight) if self.momentum != 0.0 else None
        return (mom, weight.detach().clone())  # momentum, previous weight

    def _step(self, indices, weights, grads, states, lrs, wds) -> None:
        for w, g, (mom, previous), lr, wd in zip(weights, grads, states, lrs, wds):
            dcasgd_rule(
                w, dense(g), mom, previous, lr=lr, momentum=self.momentum, lamda=self.lamda,
                wd=wd, rescale_grad=self.rescale_grad, clip_gradient=self.clip_gradient,
            )  # fmt: skip
