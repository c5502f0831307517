r"""RMSProp, plain and centered (MXNet's ``rmsprop``)."""

from __future__ import annotations

import torch

from ..ndarray.ops.rmsprop import rmsprop_update, rmspropalex_update
from ._checks import check_range
from ._common import fused_clip, zeros_like
from .optimizer import Optimizer, register

__all__ = ["RMSProp"]


@register
class RMSProp(Optimizer):
    r"""RMSProp (Tieleman & Hinton, 2012) or, with ``centered=True``, Graves' (2013).

    With :math:`G = \mathrm{clip}(r g + \lambda w)`:

    .. math::

        \text{plain:}\quad n &\leftarrow (1-\gamma_1) G^2 + \gamma_1 n, \qquad
            w \leftarrow w - \eta\, G / \sqrt{n + \epsilon}\\
        \text{centered:}\quad \bar g &\leftarrow (1-\gamma_1) G + \gamma_1 \bar g, \qquad
            \delta \leftarrow \gamma_2 \delta - \eta\, G / \sqrt{n - \bar g^2 + \epsilon},
            \qquad w \leftarrow w + \delta

    then ``w`` is clipped to ``[-clip_weights, clip_weights]`` when ``clip_weights`` is
    set. :math:`\epsilon` is inside the root. States: ``(n,)`` or ``(n, g, delta)``.

    Parameters
    ----------
    learning_rate : float, default 0.001
    gamma1 : float, default 0.9
        Decay of the moving averages, in ``[0, 1)``.
    gamma2 : float, default 0.9
        Momentum of the centered variant, in ``[0, 1)``.
    epsilon : float, default 1e-8
    centered : bool, default False
    clip_weights : float, optional
        Clip the updated weights (disabled when None or 0, as in MXNet).

    {common_args}

    Example
    -------
    >>> import torch, mxopt as mx
    >>> updater = mx.optimizer.get_updater(mx.optimizer.RMSProp(learning_rate=0.1))
    >>> w = torch.tensor([1.0, -2.0])
    >>> updater(0, torch.tensor([0.5, 0.5]), w)
    >>> w
    tensor([ 0.6838, -2.3162])
    """

    def __init__(
        self,
        learning_rate: float = 0.001,
        gamma1: float = 0.9,
        gamma2: float = 0.9,
        epsilon: float = 1e-8,
        centered: bool = False,
        clip_weights: float | None = None,
        **kwargs,
    ) -> None:
        super().__init__(learning_rate=learning_rate, **kwargs)
        check_range("gamma1", gamma1, 0.0, 1.0, high_open=True)
        check_range("gamma2", gamma2, 0.0, 1.0, high_open=True)
        check_range("epsilon", epsilon, 0.0)
        check_range("clip_weights", clip_weights, allow_none=True)
        self.gamma1 = gamma1
        self.gamma2 = gamma2
        self.epsilon = epsilon
        self.centered = bool(centered)
        self.clip_weights = clip_weights

    _fused_rule = "rmsprop"  # fast path: optimizer/fused/rmsprop.py

    def create_state(self, index, weight: torch.Tensor):
        # MXNet creates float32 states and then fails for other weight dtypes; mxopt
        # keeps the states in the weight's dtype (see docs/differences.md).
        if self.centered:
            return (zeros_like(weight), zeros_like(weight), zeros_like(weight))
        return (zeros_like(weight),)

    def _step(self, indices, weights, grads, states, lrs, wds) -> None:
        hyper = dict(
            gamma1=self.gamma1,
            epsilon=self.epsilon,
            rescale_grad=self.rescale_grad,
            clip_gradient=fused_clip(self.clip_gradient),
            clip_weights=fused_clip(self.clip_weights),
        )
        for w, g, state, lr, wd in zip(weights, grads, states, lrs, wds):
            if self.centered:
                n, g_avg, delta = state
                rmspropalex_update(w, g, n, g_avg, delta, lr=lr, wd=wd, gamma2=self.gamma2, **hyper)
            else:
                rmsprop_update(w, g, state[0], lr=lr, wd=wd, **hyper)
