"""The shared bookkeeping of the Adam family (Adam, AdamW, AdaBelief, LANS)."""

from __future__ import annotations

import math

import torch

from ._checks import check_range
from ._common import zeros_like
from .optimizer import Optimizer, aggregation_size

__all__ = ["MomentOptimizer", "CorrectedMomentOptimizer"]


def set_moments(opt: Optimizer, beta1: float, beta2: float, epsilon: float) -> None:
    """Check ``beta1``, ``beta2`` (in [0, 1)) and ``epsilon`` (>= 0), then set them on
    ``opt`` (for the optimizers with those three, whatever their state)."""
    check_range("beta1", beta1, 0.0, 1.0, high_open=True)
    check_range("beta2", beta2, 0.0, 1.0, high_open=True)
    check_range("epsilon", epsilon, 0.0)
    opt.beta1 = beta1
    opt.beta2 = beta2
    opt.epsilon = epsilon


class MomentOptimizer(Optimizer):
    r"""An optimizer with ``beta1``, ``beta2``, ``epsilon`` and a ``(mean, var)`` state.

    :meth:`_bias_corrected` gives :math:`\eta\sqrt{1-\beta_2^t}/(1-\beta_1^t)` for an
    index's update count :math:`t`, computed in double as MXNet's Python code does.
    """

    def _set_moments(self, beta1: float, beta2: float, epsilon: float) -> None:
        set_moments(self, beta1, beta2, epsilon)

    def create_state(self, index, weight: torch.Tensor):
        return (zeros_like(weight), zeros_like(weight))

    def _bias_corrected(self, lr: float, index) -> float:
        t = self._index_update_count[index]
        return lr * math.sqrt(1.0 - self.beta2**t) / (1.0 - self.beta1**t)


class CorrectedMomentOptimizer(MomentOptimizer):
    """The constructor shared by AdamW and AdaBelief: ``learning_rate`` 0.001, betas
    (0.9, 0.999), ``epsilon`` 1e-6, optional bias correction (``correct_bias``), and
    MXNet's multi-tensor aggregation size (default 4, at most 50)."""

    def __init__(
        self,
        learning_rate: float = 0.001,
        beta1: float = 0.9,
        beta2: float = 0.999,
        epsilon: float = 1e-6,
        correct_bias: bool = True,
        **kwargs,
    ) -> None:
        super().__init__(learning_rate=learning_rate, **kwargs)
        self._set_moments(beta1, beta2, epsilon)
        self.correct_bias = bool(correct_bias)
        self.aggregate_num = aggregation_size(4, upper=50)
