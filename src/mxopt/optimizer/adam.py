r"""Adam (MXNet's ``adam``): L2 weight decay inside the moments."""

from __future__ import annotations

from ..ndarray.ops.adam import adam_update
from ._common import fused_clip
from ._moments import MomentOptimizer
from .optimizer import register

__all__ = ["Adam"]


@register
class Adam(MomentOptimizer):
    r"""Adam (Kingma & Ba, 2014) with MXNet 1.9.1's conventions.

    With :math:`t` the parameter's update count:

    .. math::

        G &= \mathrm{clip}(r g + \lambda w)\\
        m &\leftarrow \beta_1 m + (1-\beta_1) G, \qquad
        v \leftarrow \beta_2 v + (1-\beta_2) G^2\\
        \eta_t &= \eta\,\sqrt{1-\beta_2^t}\,/\,(1-\beta_1^t)\\
        w &\leftarrow w - \eta_t\, m / (\sqrt{v} + \epsilon)

    Weight decay is L2 (added to the gradient, then clipped with it); :math:`\epsilon`
    is outside the root and not bias-corrected. :math:`\eta_t` is computed in double and
    rounded to float32, as MXNet passes it to its kernel. A row-sparse gradient with
    ``lazy_update=True`` updates only its rows; otherwise absent rows see :math:`G=\lambda w`.
    ``learning_rate`` defaults to 0.001 and, as in MXNet, overrides a scheduler's
    ``base_lr`` even when not given.

    Parameters
    ----------
    learning_rate : float, default 0.001
    beta1 : float, default 0.9
        In ``[0, 1)``.
    beta2 : float, default 0.999
        In ``[0, 1)``.
    epsilon : float, default 1e-8
    lazy_update : bool, default True

    {common_args}

    Example
    -------
    >>> import torch, mxopt as mx
    >>> updater = mx.optimizer.get_updater(mx.optimizer.Adam(learning_rate=0.1))
    >>> w = torch.tensor([1.0, -2.0])
    >>> updater(0, torch.tensor([0.5, 0.5]), w)
    >>> w
    tensor([ 0.9000, -2.1000])
    """

    def __init__(
        self,
        learning_rate: float = 0.001,
        beta1: float = 0.9,
        beta2: float = 0.999,
        epsilon: float = 1e-8,
        lazy_update: bool = True,
        **kwargs,
    ) -> None:
        super().__init__(learning_rate=learning_rate, **kwargs)
        self._set_moments(beta1, beta2, epsilon)
        self.lazy_update = bool(lazy_update)

    _fused_rule = "adam"  # fast path: optimizer/fused/adam.py

    def _step(self, indices, weights, grads, states, lrs, wds) -> None:
        for i, w, g, (mean, var), lr, wd in zip(indices, weights, grads, states, lrs, wds):
            lr_t = self._bias_corrected(lr, i)
            adam_update(
                w, g, mean, var,
                lr=lr_t, wd=wd, beta1=self.beta1, beta2=self.beta2, epsilon=self.epsilon,
                rescale_grad=self.rescale_grad, clip_gradient=fused_clip(self.clip_gradient),
                lazy_update=self.lazy_update,
            )  # fmt: skip
