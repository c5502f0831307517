r"""LAMB (MXNet's ``lamb``): Adam directions scaled by a layer-wise trust ratio."""

from __future__ import annotations

import torch

from ..ndarray.ops._common import f32
from ..ndarray.ops.lamb import lamb_multi_rule
from ._checks import check_range
from ._common import fused_clip, zeros_like
from ._moments import set_moments
from .optimizer import Optimizer, aggregation_size, register

__all__ = ["LAMB"]


@register
class LAMB(Optimizer):
    r"""LAMB (You et al., 2019, "Large Batch Optimization for Deep Learning").

    With :math:`\hat g = \mathrm{clip}(r g)` and :math:`t` the parameter's update count:

    .. math::

        m &\leftarrow \beta_1 m + (1-\beta_1)\hat g, \qquad
        v \leftarrow \beta_2 v + (1-\beta_2)\hat g^2 \\
        u &= \frac{m/(1-\beta_1^t)}{\sqrt{v/(1-\beta_2^t)} + \epsilon} + \lambda w
            \qquad\text{(no } 1-\beta^t \text{ factors without bias\_correction)}\\
        r_1 &= \min(\max(\lVert w\rVert, \text{lower}), \text{upper}), \quad
        r_2 = \lVert u\rVert, \quad
        w \leftarrow w - \eta\,\frac{r_1}{r_2}\,u

    (trust ratio 1 when :math:`r_1 = 0` or :math:`r_2 = 0`; a bound is used only when
    truthy). Weight decay is not clipped. The numerics are those of MXNet's
    ``multi_lamb_update``, which MXNet's Updater always uses (``u`` kept in float32, norms
    as float32 sums of squares). ``learning_rate`` defaults to 0.001 and, as in MXNet,
    overrides a scheduler's ``base_lr``.

    Parameters
    ----------
    learning_rate : float, default 0.001
    beta1 : float, default 0.9
    beta2 : float, default 0.999
    epsilon : float, default 1e-6
    lower_bound, upper_bound : float or None, default None
        Bounds on :math:`r_1`.
    bias_correction : bool, default True

    {common_args}

    Multi-precision keeps ``(float32 master weight, (mean, var))``; the master copy is
    authoritative (the weight norm is taken from it and it is always written back).

    Example
    -------
    >>> import torch, mxopt as mx
    >>> updater = mx.optimizer.get_updater(mx.optimizer.LAMB(learning_rate=0.1, wd=0.1))
    >>> w = torch.tensor([1.0, -2.0])
    >>> updater(0, torch.tensor([0.5, 0.5]), w)
    >>> w
    tensor([ 0.8192, -2.1315])
    """

    # one parameter at a time: count, then read the rate (MXNet's aggregated order)
    _counts_updates = False
    _batch_safe = True  # _step takes a list one parameter at a time (count, then rate)
    _fused_rule = "lamb"  # fast path: optimizer/fused/lamb.py
    _native_multi_precision = True
    _master_position = 0

    def __init__(
        self,
        learning_rate: float = 0.001,
        beta1: float = 0.9,
        beta2: float = 0.999,
        epsilon: float = 1e-6,
        lower_bound: float | None = None,
        upper_bound: float | None = None,
        bias_correction: bool = True,
        **kwargs,
    ) -> None:
        super().__init__(learning_rate=learning_rate, **kwargs)
        set_moments(self, beta1, beta2, epsilon)
        check_range("lower_bound", lower_bound, 0.0, allow_none=True)
        check_range("upper_bound", upper_bound, 0.0, allow_none=True)
        self.lower_bound = lower_bound
        self.upper_bound = upper_bound
        self.bias_correction = bool(bias_correction)
        self.aggregate_num = aggregation_size(45, upper=45)

    def create_state(self, index, weight: torch.Tensor):
        return (zeros_like(weight), zeros_like(weight))

    def _rule_kwargs(self) -> dict:
        return dict(
            beta1=self.beta1, beta2=self.beta2, epsilon=self.epsilon,
            rescale_grad=self.rescale_grad, clip_gradient=fused_clip(self.clip_gradient),
            lower_bound=float(self.lower_bound) if self.lower_bound else -1.0,
            upper_bound=float(self.upper_bound) if self.upper_bound else -1.0,
            bias_correction=self.bias_correction,
        )  # fmt: skip

    def _one(self, index, target, grad, mean, var) -> torch.Tensor:
        self._update_count(index)
        lr, wd = self._get_lr(index), self._get_wd(index)
        t = self._index_update_count[index]
        kw = {k: (f32(v) if isinstance(v, float) else v) for k, v in self._rule_kwargs().items()}
        g = grad.to_dense() if grad.is_sparse else grad
        return lamb_multi_rule(target, g, mean, var, t=t, lr=f32(lr), wd=f32(wd), **kw)

    def _step(self, indices, weights, grads, states, lrs, wds) -> None:
        for i, w, g, (mean, var) in zip(indices, weights, grads, states):
            w.copy_(self._one(i, w, g, mean, var))

    def _step_multi_precision(self, indices, weights, grads, states, lrs, wds) -> None:
        for i, w, g, (master, (mean, var)) in zip(indices, weights, grads, states):
            master.copy_(self._one(i, master, g, mean, var))
            w.copy_(master)
