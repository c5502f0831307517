"""Tensor creation with MXNet's names and keywords; every result is a ``torch.Tensor``."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch

from ..context import Context, to_device

__all__ = ["array", "zeros", "ones", "empty", "full", "to_dtype", "context_of"]

_DTYPES: dict[str, torch.dtype] = {
    "float32": torch.float32,
    "float64": torch.float64,
    "float16": torch.float16,
    "bfloat16": torch.bfloat16,
    "uint8": torch.uint8,
    "int8": torch.int8,
    "int32": torch.int32,
    "int64": torch.int64,
    "bool": torch.bool,
}

Shape = int | Sequence[int]
DTypeLike = str | torch.dtype | np.dtype | type | None
CtxLike = Context | torch.device | str | None


def to_dtype(dtype: DTypeLike, default: torch.dtype = torch.float32) -> torch.dtype:
    """Resolve an MXNet/NumPy/torch dtype spelling (``'float16'``, ``np.float32``, ...)."""
    if dtype is None:
        return default
    if isinstance(dtype, torch.dtype):
        return dtype
    name = dtype if isinstance(dtype, str) else np.dtype(dtype).name
    try:
        return _DTYPES[name]
    except KeyError:
        raise TypeError(f"dtype must be one of {sorted(_DTYPES)}, got {dtype!r}") from None


def _shape(shape: Shape) -> tuple[int, ...]:
    return (int(shape),) if isinstance(shape, (int, np.integer)) else tuple(int(s) for s in shape)


def array(source: Any, ctx: CtxLike = None, dtype: DTypeLike = None) -> torch.Tensor:
    """A new tensor holding a copy of ``source`` (list, NumPy array or tensor).

    As in MXNet, the default dtype is float32 for anything that is not already a tensor,
    including float64 NumPy arrays; a tensor keeps its dtype unless ``dtype`` is given.

    >>> import mxopt as mx
    >>> mx.nd.array([[1, 2], [3, 4]]).dtype
    torch.float32
    """
    device = to_device(ctx)
    if isinstance(source, torch.Tensor):
        return source.detach().to(device=device, dtype=to_dtype(dtype, source.dtype), copy=True)
    return torch.tensor(np.asarray(source), dtype=to_dtype(dtype), device=device)


def zeros(shape: Shape, ctx: CtxLike = None, dtype: DTypeLike = None) -> torch.Tensor:
    """A tensor of zeros (float32 by default)."""
    return torch.zeros(_shape(shape), dtype=to_dtype(dtype), device=to_device(ctx))


def ones(shape: Shape, ctx: CtxLike = None, dtype: DTypeLike = None) -> torch.Tensor:
    """A tensor of ones (float32 by default)."""
    return torch.ones(_shape(shape), dtype=to_dtype(dtype), device=to_device(ctx))


def full(shape: Shape, val: float, ctx: CtxLike = None, dtype: DTypeLike = None) -> torch.Tensor:
    """A tensor filled with ``val`` (float32 by default)."""
    return torch.full(_shape(shape), val, dtype=to_dtype(dtype), device=to_device(ctx))


def empty(shape: Shape, ctx: CtxLike = None, dtype: DTypeLike = None) -> torch.Tensor:
    """An uninitialized tensor (float32 by default)."""
    return torch.empty(_shape(shape), dtype=to_dtype(dtype), device=to_device(ctx))


def context_of(tensor: torch.Tensor) -> Context:
    """The MXNet ``Context`` a tensor lives on (``tensor.context`` in MXNet)."""
    return Context.from_torch(tensor.device)
