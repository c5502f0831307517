"""ctypes helpers shared by the fused rule wrappers."""

from __future__ import annotations

import ctypes
from collections.abc import Sequence

import torch

__all__ = ["pointers", "int64s", "doubles", "suffix"]


def pointers(tensors: Sequence[torch.Tensor]) -> ctypes.Array:
    """A C array of the tensors' data addresses."""
    return (ctypes.c_void_p * len(tensors))(*[t.data_ptr() for t in tensors])


def int64s(values: Sequence[int]) -> ctypes.Array:
    return (ctypes.c_int64 * len(values))(*values)


def doubles(values: Sequence[float]) -> ctypes.Array:
    return (ctypes.c_double * len(values))(*values)


def suffix(dtype: torch.dtype) -> str:
    """The kernel name suffix for ``dtype``."""
    return {torch.float32: "f32", torch.float64: "f64"}[dtype]
