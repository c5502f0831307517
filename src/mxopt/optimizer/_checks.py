"""Argument validation shared by the optimizers: run once, before anything is modified."""

from __future__ import annotations

import math
from collections.abc import Sequence
from itertools import repeat
from operator import attrgetter

import torch

__all__ = [
    "check_number",
    "check_range",
    "check_pairs",
    "LOW_PRECISION",
]

LOW_PRECISION = (torch.float16, torch.bfloat16)


def check_number(name: str, value: object, *, allow_none: bool = False) -> None:
    """``value`` must be a real, finite number (or ``None`` when allowed)."""
    if value is None and allow_none:
        return
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        allowed = "a number or None" if allow_none else "a number"
        raise TypeError(f"{name} must be {allowed}, got {value!r}")
    if not math.isfinite(value):
        raise ValueError(f"{name} must be finite, got {value!r}")


def check_range(
    name: str,
    value: object,
    low: float | None = None,
    high: float | None = None,
    *,
    low_open: bool = False,
    high_open: bool = False,
    allow_none: bool = False,
) -> None:
    """``value`` must be a finite number in the given (closed unless told) interval."""
    check_number(name, value, allow_none=allow_none)
    if value is None:
        return
    bad_low = low is not None and (value <= low if low_open else value < low)
    bad_high = high is not None and (value >= high if high_open else value > high)
    if bad_low or bad_high:
        lo = "(-inf" if low is None else ("(" if low_open else "[") + f"{low:g}"
        hi = "inf)" if high is None else f"{high:g}" + (")" if high_open else "]")
        raise ValueError(f"{name} must be in {lo}, {hi}, got {value!r}")


def check_pairs(weights: Sequence[torch.Tensor], grads: Sequence[torch.Tensor]) -> None:
    """Each weight is a dense floating tensor and its grad matches it in shape, dtype and
    device (a row-sparse grad is a sparse COO tensor with ``sparse_dim=1``)."""
    if len(weights) != len(grads):
        raise ValueError(
            f"weight and grad lists must have the same length, got {len(weights)} and {len(grads)}"
        )
    if len(weights) > 1 and _dense_cpu_pairs(weights, grads):
        return
    for i, (w, g) in enumerate(zip(weights, grads)):
        if (
            isinstance(w, torch.Tensor)
            and isinstance(g, torch.Tensor)
            and w.layout is torch.strided
            and w.dtype.is_floating_point
            and g.dtype is w.dtype
            and g.shape == w.shape
            and (g.is_cpu and w.is_cpu or g.device == w.device)
            and not g.is_sparse
        ):
            continue  # the common case, checked cheaply (this runs for every tensor)
        where = f" (item {i})" if len(weights) > 1 else ""
        if not isinstance(w, torch.Tensor) or w.is_sparse or not w.is_floating_point():
            raise TypeError(f"weight{where} must be a dense floating-point torch.Tensor")
        if not isinstance(g, torch.Tensor):
            raise TypeError(f"grad{where} must be a torch.Tensor, got {type(g).__name__}")
        if g.shape != w.shape or g.dtype != w.dtype or g.device != w.device:
            raise ValueError(
                f"grad{where} must match its weight: weight is {tuple(w.shape)} {w.dtype} on "
                f"{w.device}, grad is {tuple(g.shape)} {g.dtype} on {g.device}"
            )
        if g.is_sparse and g.sparse_dim() != 1:
            raise ValueError(f"grad{where}: a sparse grad must be row-sparse (sparse_dim=1)")


_layout, _dtype, _shape, _is_cpu = (attrgetter(a) for a in ("layout", "dtype", "shape", "is_cpu"))
_DENSE = {torch.strided}


def _dense_cpu_pairs(weights: Sequence[torch.Tensor], grads: Sequence[torch.Tensor]) -> bool:
    """The common case of :func:`check_pairs` for a whole list at once (C-level ``map``s
    instead of a Python loop): dense floating CPU weights with dense grads that match them.
    ``False`` means "not shown", and the per-item checks run (and name the culprit)."""
    tensor = torch.Tensor
    if not (
        all(map(isinstance, weights, repeat(tensor)))
        and all(map(isinstance, grads, repeat(tensor)))
    ):
        return False
    dtypes = list(map(_dtype, weights))
    return (
        set(map(_layout, weights)) == _DENSE
        and set(map(_layout, grads)) == _DENSE
        and all(d.is_floating_point for d in set(dtypes))
        and dtypes == list(map(_dtype, grads))
        and list(map(_shape, weights)) == list(map(_shape, grads))
        and all(map(_is_cpu, weights))
        and all(map(_is_cpu, grads))
    )
