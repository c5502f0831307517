"""Constant and simple random initializers: Zero, One, Constant, Uniform, Normal.

All of them only decide the *weight* rule; names ending in ``bias``/``gamma``/``beta`` keep
MXNet's fixed values (0/1/0) whatever the initializer (see :mod:`.base`).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from .base import Initializer, _set, alias, register

__all__ = ["Zero", "One", "Constant", "Uniform", "Normal"]


@register
@alias("zeros")
class Zero(Initializer):
    """Weights := 0. Registered as ``zero`` and ``zeros``.

    >>> import torch, mxopt as mx
    >>> w = torch.ones(2); mx.init.Zero()(mx.init.InitDesc("w_weight"), w); w
    tensor([0., 0.])
    """

    def __init__(self) -> None:
        super().__init__()

    def _init_weight(self, _name: str, arr: torch.Tensor) -> None:
        _set(arr, 0)


@register
@alias("ones")
class One(Initializer):
    """Weights := 1. Registered as ``one`` and ``ones``.

    >>> import torch, mxopt as mx
    >>> w = torch.zeros(2); mx.init.One()(mx.init.InitDesc("w_weight"), w); w
    tensor([1., 1.])
    """

    def __init__(self) -> None:
        super().__init__()

    def _init_weight(self, _name: str, arr: torch.Tensor) -> None:
        _set(arr, 1)


@register
class Constant(Initializer):
    """Weights := ``value`` (a scalar, or an array broadcastable to the weight's shape).

    ``dumps`` writes an array value as a nested list.

    >>> import torch, mxopt as mx
    >>> w = torch.empty(2, 2); mx.init.Constant([1.0, 2.0])(mx.init.InitDesc("w_weight"), w); w
    tensor([[1., 2.],
            [1., 2.]])
    """

    def __init__(self, value: Any) -> None:
        if isinstance(value, torch.Tensor):
            value = value.detach().cpu()
        super().__init__(value=value)
        self.value = value

    def _json_kwargs(self) -> dict[str, Any]:
        value = self._kwargs["value"]
        if isinstance(value, (torch.Tensor, np.ndarray)):
            value = value.tolist()
        elif isinstance(value, np.generic):
            value = value.item()
        return {"value": value}

    def _init_weight(self, _name: str, arr: torch.Tensor) -> None:
        _set(arr, self.value)


@register
class Uniform(Initializer):
    r"""Weights drawn from :math:`U(-\text{scale}, \text{scale})`; ``scale`` defaults to 0.07.

    >>> import torch, mxopt as mx
    >>> w = torch.empty(1000)
    >>> mx.init.Uniform(0.1)(mx.init.InitDesc("w_weight"), w)
    >>> bool(w.abs().max() <= 0.1)
    True
    """

    def __init__(self, scale: float = 0.07, *, generator: torch.Generator | None = None) -> None:
        super().__init__(scale=scale)
        self.scale = scale
        self.set_generator(generator)

    def _init_weight(self, _name: str, arr: torch.Tensor) -> None:
        self._uniform(arr, -self.scale, self.scale)


@register
class Normal(Initializer):
    r"""Weights drawn from :math:`N(0, \sigma^2)`; ``sigma`` (the std) defaults to 0.01.

    >>> import torch, mxopt as mx
    >>> w = torch.empty(10000)
    >>> init = mx.init.Normal(0.5, generator=torch.Generator().manual_seed(0))
    >>> init(mx.init.InitDesc("w_weight"), w)
    >>> round(w.std().item(), 1)
    0.5
    """

    def __init__(self, sigma: float = 0.01, *, generator: torch.Generator | None = None) -> None:
        super().__init__(sigma=sigma)
        self.sigma = sigma
        self.set_generator(generator)

    def _init_weight(self, _name: str, arr: torch.Tensor) -> None:
        self._normal(arr, 0.0, self.sigma)
