"""MXNet's ``test`` optimizer: ``w += rescale_grad * g``, state = copy of the weight."""

from __future__ import annotations

import torch

from ..ndarray.ops._common import f32
from ._common import zeros_like
from .optimizer import Optimizer, register

__all__ = ["Test"]


@register
class Test(Optimizer):
    r"""A test optimizer: :math:`w \leftarrow w + r g`, then the float32 state holds
    :math:`w`. It ignores the learning rate and weight decay and never counts updates.

    >>> import torch, mxopt as mx
    >>> updater = mx.optimizer.get_updater(mx.optimizer.Test())
    >>> w = torch.tensor([1.0, -2.0])
    >>> updater(0, torch.tensor([0.5, 0.5]), w)
    >>> w
    tensor([ 1.5000, -1.5000])
    """

    __test__ = False  # not a pytest test class
    _counts_updates = False
    _batch_safe = True  # no counts, no lr: a list call equals one call per parameter
    _fused_rule = "test"  # fast path: optimizer/fused/test.py

    def create_state(self, index, weight: torch.Tensor):
        return zeros_like(weight, dtype=torch.float32)

    def _step(self, indices, weights, grads, states, lrs, wds) -> None:
        for w, g, state in zip(weights, grads, states):
            w.add_(g.to_dense() if g.is_sparse else g, alpha=f32(self.rescale_grad))
            state.copy_(w)
