r"""LANS (Zheng et al., 2020): LAMB with normalized gradients and Nesterov momentum."""

from __future__ import annotations

from ..ndarray.ops.lans import lans_rule
from ._beyond import clip_value, dense
from ._checks import check_range
from ._moments import MomentOptimizer
from .optimizer import aggregation_size, register

__all__ = ["LANS"]


@register
class LANS(MomentOptimizer):
    r"""LANS (Zheng et al., 2020, "Accelerated Large Batch Optimization of BERT Pretraining
    in 54 minutes", Algorithm 2), with MXNet 2.0's defaults.

    With :math:`\hat g = \mathrm{clip}(r g/\lVert r g\rVert)`, :math:`t` the update count,
    :math:`\phi(z)=\min(\max(z, \text{lower}), \text{upper})` and
    :math:`\tau(x) = \phi(\lVert w\rVert)/\lVert x\rVert` (1 when a norm is 0):

    .. math::

        m &\leftarrow \beta_1 m + (1-\beta_1)\hat g, \qquad
        v \leftarrow \beta_2 v + (1-\beta_2)\hat g^2 \\
        p &= \frac{m/(1-\beta_1^t)}{\sqrt{v/(1-\beta_2^t)}+\epsilon} + \lambda w, \qquad
        q = \frac{\hat g}{\sqrt{v/(1-\beta_2^t)}+\epsilon} + \lambda w \\
        w &\leftarrow w - \eta\beta_1\,\tau(p)\,p - \eta(1-\beta_1)\,\tau(q)\,q

    Both terms use the weight from before the step. Clipping (of the normalized gradient)
    applies when ``clip_gradient > 0``; bounds when not ``None``.

    Parameters
    ----------
    learning_rate : float, default 0.001
    beta1 : float, default 0.9
    beta2 : float, default 0.999
    epsilon : float, default 1e-6
    lower_bound, upper_bound : float or None, default None

    {common_args}

    Multi-precision uses the generic float32 master copy.

    Example
    -------
    >>> import torch, mxopt as mx
    >>> updater = mx.optimizer.get_updater(mx.optimizer.LANS(learning_rate=0.1))
    >>> w = torch.tensor([3.0, 4.0])
    >>> updater(0, torch.tensor([1.0, 1.0]), w)
    >>> w.round(decimals=4)
    tensor([2.6464, 3.6464])
    """

    _fused_rule = "lans"  # fast path: optimizer/fused/lans.py

    def __init__(
        self,
        learning_rate: float = 0.001,
        beta1: float = 0.9,
        beta2: float = 0.999,
        epsilon: float = 1e-6,
        lower_bound: float | None = None,
        upper_bound: float | None = None,
        **kwargs,
    ) -> None:
        super().__init__(learning_rate=learning_rate, **kwargs)
        self._set_moments(beta1, beta2, epsilon)
        check_range("lower_bound", lower_bound, 0.0, allow_none=True)
        check_range("upper_bound", upper_bound, 0.0, allow_none=True)
        self.lower_bound = lower_bound
        self.upper_bound = upper_bound
        self.aggregate_num = aggregation_size(4, upper=45)

    def _step(self, indices, weights, grads, states, lrs, wds) -> None:
        counts = self._index_update_count
        for i, w, g, (mean, var), lr, wd in zip(indices, weights, grads, states, lrs, wds):
            lans_rule(
                w, dense(g), mean, var, t=counts[i], lr=lr, wd=wd, beta1=self.beta1,
                beta2=self.beta2, epsilon=self.epsilon, rescale_grad=self.rescale_grad,
                clip_gradient=clip_value(self.clip_gradient), lower_bound=self.lower_bound,
                upper_bound=self.upper_bound,
            )  # fmt: skip
