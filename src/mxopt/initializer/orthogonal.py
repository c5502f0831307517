"""Orthogonal initializer (Saxe et al., 2013) with MXNet's choice of U or V."""

from __future__ import annotations

import math

import torch

from .. import random as _random
from .base import Initializer, _set, register

__all__ = ["Orthogonal"]


@register
class Orthogonal(Initializer):
    r"""Scaled orthogonal weights.

    With :math:`n_{out} = shape[0]`, :math:`n_{in} = \prod shape[1:]`, draw
    :math:`A \in \mathbb{R}^{n_{out}\times n_{in}}` from :math:`U(-1, 1)`
    (``rand_type='uniform'``) or :math:`N(0, 1)` (``'normal'``), take the thin SVD
    :math:`A = U S V^T`, and set the weight to ``scale`` times :math:`U` when
    :math:`n_{out} \ge n_{in}` (orthonormal columns) or :math:`V^T` otherwise (orthonormal
    rows), reshaped to the weight's shape. Defaults: ``scale=1.414``, ``rand_type='uniform'``.

    >>> import torch, mxopt as mx
    >>> w = torch.empty(3, 5)
    >>> mx.init.Orthogonal(scale=1.0)(mx.init.InitDesc("w_weight"), w)
    >>> torch.allclose(w @ w.T, torch.eye(3), atol=1e-5)
    True
    """

    def __init__(
        self,
        scale: float = 1.414,
        rand_type: str = "uniform",
        *,
        generator: torch.Generator | None = None,
    ) -> None:
        if rand_type not in ("uniform", "normal"):
            raise ValueError(f"rand_type must be 'uniform' or 'normal', got {rand_type!r}")
        super().__init__(scale=scale, rand_type=rand_type)
        self.scale = scale
        self.rand_type = rand_type
        self.set_generator(generator)

    def _init_weight(self, _name: str, arr: torch.Tensor) -> None:
        if arr.dim() < 1:
            raise ValueError("Orthogonal initializer needs a tensor with at least 1 dimension")
        nout = arr.shape[0]
        nin = math.prod(arr.shape[1:])
        tmp = torch.empty(nout, nin, dtype=torch.float32)
        if self.rand_type == "uniform":
            _random.fill_uniform(tmp, -1.0, 1.0, self._generator)
        else:
            _random.fill_normal(tmp, 0.0, 1.0, self._generator)
        u, _s, vh = torch.linalg.svd(tmp.double(), full_matrices=False)
        res = u if tuple(u.shape) == (nout, nin) else vh
        _set(arr, (self.scale * res).reshape(arr.shape).to(torch.float32))
