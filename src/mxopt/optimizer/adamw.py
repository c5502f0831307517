r"""AdamW (decoupled weight decay), following MXNet 2.0's ``AdamW``."""

from __future__ import annotations

from ..ndarray.ops.adamw import adamw_update
from ._common import fused_clip
from ._moments import CorrectedMomentOptimizer
from .optimizer import register

__all__ = ["AdamW"]


@register
class AdamW(CorrectedMomentOptimizer):
    r"""AdamW (Loshchilov & Hutter, 2019) with MXNet 2.0's conventions, built on
    ``mx.nd.contrib.adamw_update`` (MXNet 1.9.1's operator).

    With :math:`\hat g = \mathrm{clip}(r g)` and :math:`t` the parameter's update count:

    .. math::

        m &\leftarrow \beta_1 m + (1-\beta_1)\hat g, \qquad
        v \leftarrow \beta_2 v + (1-\beta_2)\hat g^2 \\
        \eta_t &= \eta\,\sqrt{1-\beta_2^t}/(1-\beta_1^t)
            \quad(\eta_t = \eta \text{ without correct\_bias}) \\
        w &\leftarrow w - \eta_t\,\big(m/(\sqrt{v}+\epsilon) + \lambda w\big)

    i.e. ``adamw_update(lr=1, eta=η_t, wd=λ)``. The weight decay is decoupled from the
    moments but, as in MXNet 2.0, scaled by the *bias-corrected* rate, and
    :math:`\epsilon` is added to :math:`\sqrt{v}` before the bias correction.
    ``torch.optim.AdamW(lr=η, weight_decay=λ, eps=ε')`` computes
    :math:`w(1-\eta\lambda) - \eta\,\hat m/(\sqrt{\hat v}+\epsilon')`: the two agree when
    :math:`\epsilon' = \epsilon/\sqrt{1-\beta_2^t}` is negligible and either
    :math:`\lambda = 0` or both betas are 0.

    Parameters
    ----------
    learning_rate : float, default 0.001
    beta1 : float, default 0.9
    beta2 : float, default 0.999
    epsilon : float, default 1e-6
    correct_bias : bool, default True

    {common_args}

    Multi-precision uses the generic float32 master copy: state ``(w32, (mean, var))``.

    Example
    -------
    >>> import torch, mxopt as mx
    >>> updater = mx.optimizer.get_updater(mx.optimizer.AdamW(learning_rate=0.1, wd=0.1))
    >>> w = torch.tensor([1.0, -2.0])
    >>> updater(0, torch.tensor([0.5, 0.5]), w)
    >>> w
    tensor([ 0.8968, -2.0937])
    """

    _fused_rule = "adamw"  # fast path: optimizer/fused/adamw.py

    def _step(self, indices, weights, grads, states, lrs, wds) -> None:
        for i, w, g, (mean, var), lr, wd in zip(indices, weights, grads, states, lrs, wds):
            if self.correct_bias:
                lr = self._bias_corrected(lr, i)
            adamw_update(
                w, g, mean, var, rescale_grad=self.rescale_grad, lr=1.0, eta=lr, wd=wd,
                beta1=self.beta1, beta2=self.beta2, epsilon=self.epsilon,
                clip_gradient=fused_clip(self.clip_gradient),
            )  # fmt: skip
