r"""AdaBelief (Zhuang et al., 2020), following MXNet 2.0's ``AdaBelief``."""

from __future__ import annotations

from ..ndarray.ops.adabelief import adabelief_rule
from ._beyond import clip_value, dense
from ._moments import CorrectedMomentOptimizer
from .optimizer import register

__all__ = ["AdaBelief"]


@register
class AdaBelief(CorrectedMomentOptimizer):
    r"""AdaBelief: Adam whose second moment tracks the "belief" :math:`(G - m)^2`.

    With :math:`G = \mathrm{clip}(r g + \lambda w)` (L2 weight decay, as MXNet 2.0) and
    :math:`t` the parameter's update count:

    .. math::

        m &\leftarrow \beta_1 m + (1-\beta_1) G, \qquad
        s \leftarrow \beta_2 s + (1-\beta_2)(G - m)^2 + \epsilon \\
        w &\leftarrow w - \eta\,\frac{\sqrt{1-\beta_2^t}}{1-\beta_1^t}\,
            \frac{m}{\sqrt{s} + \epsilon}

    (without ``correct_bias`` the rate is :math:`\eta`). This equals the paper's
    :math:`\hat m/(\sqrt{\hat s} + \epsilon')` with :math:`\epsilon' =
    \epsilon/\sqrt{1-\beta_2^t}` in the denominator. Clipping applies when
    ``clip_gradient > 0``.

    Parameters
    ----------
    learning_rate : float, default 0.001
    beta1 : float, default 0.9
    beta2 : float, default 0.999
    epsilon : float, default 1e-6
    correct_bias : bool, default True

    {common_args}

    Multi-precision uses the generic float32 master copy.

    Example
    -------
    >>> import torch, mxopt as mx
    >>> updater = mx.optimizer.get_updater(mx.optimizer.AdaBelief(learning_rate=0.1))
    >>> w = torch.tensor([1.0, -2.0])
    >>> updater(0, torch.tensor([0.5, 0.5]), w)
    >>> w.round(decimals=4)
    tensor([ 0.8892, -2.1108])
    """

    _fused_rule = "adabelief"  # fast path: optimizer/fused/adabelief.py

    def _step(self, indices, weights, grads, states, lrs, wds) -> None:
        for i, w, g, (mean, var), lr, wd in zip(indices, weights, grads, states, lrs, wds):
            if self.correct_bias:
                lr = self._bias_corrected(lr, i)
            adabelief_rule(
                w, dense(g), mean, var, lr_t=lr, wd=wd, beta1=self.beta1, beta2=self.beta2,
                epsilon=self.epsilon, rescale_grad=self.rescale_grad,
                clip_gradient=clip_value(self.clip_gradient),
            )  # fmt: skip
