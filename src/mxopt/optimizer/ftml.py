r"""FTML (MXNet's ``ftml``): Follow the Moving Leader."""

from __future__ import annotations

import torch

from ..ndarray.ops.ftml import ftml_update
from ._common import fused_clip, zeros_like
from ._moments import set_moments
from .optimizer import Optimizer, register

__all__ = ["FTML"]


@register
class FTML(Optimizer):
    r"""FTML (Zheng & Kwok, 2017) with MXNet 1.9.1's conventions.

    With :math:`t` the parameter's update count and
    :math:`G = \mathrm{clip}(r g + \lambda w)`:

    .. math::

        v &\leftarrow \beta_2 v + (1-\beta_2) G^2, \qquad
        d_t = \frac{1-\beta_1^t}{\eta}\Big(\sqrt{v/(1-\beta_2^t)} + \epsilon\Big)\\
        z &\leftarrow \beta_1 z + (1-\beta_1) G - (d_t - \beta_1 d)\, w, \qquad
        d \leftarrow d_t, \qquad w \leftarrow -z/d_t

    The state is ``(d, v, z)``. Weight decay is L2 and clipped with the gradient;
    clipping follows the fused operators' rule (``None``, 0 and negatives disable it).
    DOC≠CODE: MXNet's operator documentation writes :math:`(1-\beta_1^t) G` in :math:`z`;
    the kernel (and mxopt) use :math:`(1-\beta_1) G`. A row-sparse gradient is used as a
    dense gradient with zero rows.

    Parameters
    ----------
    beta1 : float, default 0.6
        In ``[0, 1)``.
    beta2 : float, default 0.999
        In ``[0, 1)``.
    epsilon : float, default 1e-8

    {common_args}

    Example
    -------
    >>> import torch, mxopt as mx
    >>> updater = mx.optimizer.get_updater(mx.optimizer.FTML(learning_rate=0.1))
    >>> w = torch.tensor([1.0, -2.0])
    >>> updater(0, torch.tensor([0.5, 0.5]), w)
    >>> w
    tensor([ 0.9000, -2.1000])
    """

    _fused_rule = "ftml"  # fast path: optimizer/fused/ftml.py

    def __init__(
        self, beta1: float = 0.6, beta2: float = 0.999, epsilon: float = 1e-8, **kwargs
    ) -> None:
        super().__init__(**kwargs)
        set_moments(self, beta1, beta2, epsilon)

    def create_state(self, index, weight: torch.Tensor):
        return (zeros_like(weight), zeros_like(weight), zeros_like(weight))  # d, v, z

    def _step(self, indices, weights, grads, states, lrs, wds) -> None:
        counts = self._index_update_count
        clip = fused_clip(self.clip_gradient)
        for i, w, g, (d, v, z), lr, wd in zip(indices, weights, grads, states, lrs, wds):
            ftml_update(
                w, g, d, v, z, lr=lr, wd=wd, t=counts[i], beta1=self.beta1, beta2=self.beta2,
                epsilon=self.epsilon, rescale_grad=self.rescale_grad, clip_grad=clip,
            )  # fmt: skip
