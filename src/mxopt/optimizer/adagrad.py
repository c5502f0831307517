r"""AdaGrad (MXNet's ``adagrad``)."""

from __future__ import annotations

import torch

from ..ndarray.ops._common import clip_like_ndarray
from ..ndarray.ops.adagrad import adagrad_update
from ._checks import check_range
from ._common import fused_clip, zeros_like
from .optimizer import Optimizer, register

__all__ = ["AdaGrad"]


@register
class AdaGrad(Optimizer):
    r"""AdaGrad (Duchi et al., 2011).

    With :math:`G = \mathrm{clip}(r g)`:

    .. math::

        h \leftarrow h + G^2, \qquad
        w \leftarrow w - \eta\big(G / \sqrt{h + \epsilon} + \lambda w\big)

    The history starts at 0 (``eps`` is only the stabilizer inside the root). Dense
    gradients clip whenever ``clip_gradient is not None`` (so 0 zeroes them, as in MXNet);
    a row-sparse gradient updates only its rows, follows the fused operators' clipping
    rule and requires an effective ``wd`` of 0.

    Parameters
    ----------
    eps : float, default 1e-7

    {common_args}

    Example
    -------
    >>> import torch, mxopt as mx
    >>> updater = mx.optimizer.get_updater(mx.optimizer.AdaGrad(learning_rate=0.1))
    >>> w = torch.tensor([1.0, -2.0])
    >>> updater(0, torch.tensor([0.5, 0.5]), w)
    >>> w
    tensor([ 0.9000, -2.1000])
    """

    def __init__(self, eps: float = 1e-7, **kwargs) -> None:
        super().__init__(**kwargs)
        check_range("eps", eps, 0.0)
        self.float_stable_eps = eps

    _fused_rule = "adagrad"  # fast path: optimizer/fused/adagrad.py

    def create_state(self, index, weight: torch.Tensor):
        return zeros_like(weight)

    def _step(self, indices, weights, grads, states, lrs, wds) -> None:
        for g, wd in zip(grads, wds):
            if g.is_sparse and wd != 0:
                raise ValueError(
                    "AdaGrad with a row-sparse gradient requires wd == 0 (the parameter's "
                    f"effective weight decay is {wd})"
                )
        for w, g, history, lr, wd in zip(weights, grads, states, lrs, wds):
            if g.is_sparse:
                adagrad_update(
                    w, g, history, lr=lr, wd=wd, epsilon=self.float_stable_eps,
                    rescale_grad=self.rescale_grad, clip_gradient=fused_clip(self.clip_gradient),
                )  # fmt: skip
            else:
                G = clip_like_ndarray(g * self.rescale_grad, self.clip_gradient)
                adagrad_update(w, G, history, lr=lr, wd=wd, epsilon=self.float_stable_eps)
