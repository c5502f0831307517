"""Shared plumbing for the update operators: argument checks, float32 scalars, row-sparse.

Every operator here follows MXNet 1.9.1's kernels:

* Scalar hyper-parameters are parsed as float32 by MXNet (``dmlc::Parameter<float>``), so
  they are rounded through :func:`f32` before use, also for float64 weights.
* ``clip_gradient < 0`` means "no clipping" (the kernels clip only when it is ``>= 0``).
* The result goes to ``out`` (default: ``weight``, i.e. in place); state tensors are
  always updated in place. A row-sparse gradient (a torch sparse COO tensor with
  ``sparse_dim=1``) updates only the rows it holds when ``lazy_update`` is true, and is
  treated as a dense gradient with zero rows otherwise.
"""

from __future__ import annotations

import functools
import struct
from collections.abc import Callable, Sequence

import numpy as np
import torch

__all__ = ["f32", "in_dtype", "in_dtype_all", "prepare", "clip_", "apply_update", "sparse_rows"]


_PACK_F32 = struct.Struct("f")


def f32(x: float) -> float:
    """``x`` rounded to the nearest float32, as MXNet parses operator parameters."""
    try:  # a C cast to float (round to nearest even), ~5x cheaper than NumPy
        return _PACK_F32.unpack(_PACK_F32.pack(x))[0]
    except (OverflowError, struct.error):  # beyond float32's range (-> inf), non-floats
        return float(np.float32(x))


_NUMPY_ROUNDING = {torch.float32: np.float32, torch.float16: np.float16}


def in_dtype(x: float, dtype: torch.dtype) -> float:
    """``x`` rounded to ``dtype``: the value a product or sum of scalar parameters has when
    MXNet's kernel computes it in the weight's type (float64 keeps it exact)."""
    if dtype == torch.float64 or x == 0:  # exact (and a zero keeps its sign)
        return x
    return _rounded(x, dtype)


def in_dtype_all(x, dtype: torch.dtype) -> np.ndarray:
    """:func:`in_dtype` element-wise: float64 values (any array-like) rounded to ``dtype``,
    as a float64 NumPy array (float64 is exact; zeros keep their sign)."""
    x = np.asarray(x, dtype=np.float64)
    if dtype == torch.float64:
        return x
    if dtype == torch.bfloat16:  # (NumPy has no bfloat16)
        return torch.from_numpy(x).to(dtype).to(torch.float64).numpy()
    with np.errstate(over="ignore"):  # (beyond the type's range: inf, as IEEE rounds)
        return x.astype(_NUMPY_ROUNDING.get(dtype, np.float32)).astype(np.float64)


@functools.lru_cache(maxsize=8192)
def _rounded(x: float, dtype: torch.dtype) -> float:
    """The rounding of :func:`in_dtype` (memoised: optimizers ask for the same few values
    every step; the keys are nonzero, so equal keys are the same number)."""
    if dtype == torch.bfloat16:
        return torch.tensor(x, dtype=torch.bfloat16).item()
    with np.errstate(over="ignore"):  # (beyond the type's range: inf, as IEEE rounds)
        return float(_NUMPY_ROUNDING.get(dtype, np.float32)(x))


def _describe(t: torch.Tensor) -> str:
    return f"shape {tuple(t.shape)}, dtype {t.dtype}, device {t.device}"


def prepare(
    op: str,
    weight: torch.Tensor,
    grad: torch.Tensor,
    out: torch.Tensor | None,
    states: dict[str, torch.Tensor] | None = None,
    state_dtype: torch.dtype | None = None,
    grad_dtype: torch.dtype | None = None,
) -> torch.Tensor:
    """Check an operator's tensors before anything is written; return the output tensor.

    ``grad`` must match ``weight`` in shape, device and dtype (``grad_dtype`` overrides the
    dtype, e.g. never needed for MXNet's ops but kept for clarity); each state must match
    ``weight``'s shape and device and, when ``state_dtype`` is given, have that dtype
    (default: the weight's dtype).
    """
    if not isinstance(weight, torch.Tensor) or weight.is_sparse:
        raise TypeError(f"{op}: weight must be a dense torch.Tensor, got {type(weight).__name__}")
    if not isinstance(grad, torch.Tensor):
        raise TypeError(f"{op}: grad must be a torch.Tensor, got {type(grad).__name__}")
    if not weight.is_floating_point():
        raise TypeError(f"{op}: weight must be a floating-point tensor, got {weight.dtype}")
    if grad.shape != weight.shape or grad.device != weight.device:
        raise ValueError(
            f"{op}: grad must have the weight's shape and device "
            f"(weight: {_describe(weight)}; grad: {_describe(grad)})"
        )
    if grad.dtype != (grad_dtype or weight.dtype):
        raise ValueError(
            f"{op}: grad must have dtype {grad_dtype or weight.dtype} "
            f"(weight: {_describe(weight)}; grad: {_describe(grad)})"
        )
    if grad.is_sparse and grad.sparse_dim() != 1:
        raise ValueError(f"{op}: a sparse grad must be row-sparse (sparse_dim=1)")
    for name, state in (states or {}).items():
        expected = state_dtype or weight.dtype
        if not isinstance(state, torch.Tensor) or state.is_sparse:
            raise TypeError(f"{op}: {name} must be a dense torch.Tensor")
        if state.shape != weight.shape or state.device != weight.device:
            raise ValueError(
                f"{op}: {name} must have the weight's shape and device "
                f"(weight: {_describe(weight)}; {name}: {_describe(state)})"
            )
        if state.dtype != expected:
            raise ValueError(f"{op}: {name} must have dtype {expected}, got {state.dtype}")
    if out is None:
        return weight
    if not isinstance(out, torch.Tensor) or out.shape != weight.shape:
        raise ValueError(f"{op}: out must be a tensor shaped like weight {tuple(weight.shape)}")
    if out.dtype != weight.dtype or out.device != weight.device:
        raise ValueError(f"{op}: out must have the weight's dtype and device")
    return out


def clip_(g: torch.Tensor, clip_gradient: float) -> torch.Tensor:
    """Clip ``g`` in place to ``[-c, c]`` when ``c >= 0`` (MXNet's kernel rule)."""
    if clip_gradient >= 0:
        g.clamp_(-clip_gradient, clip_gradient)
    return g


def sparse_rows(grad: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Row indices and row values of a row-sparse (COO, ``sparse_dim=1``) gradient.

    Duplicate indices (as ``nn.Embedding(sparse=True)`` produces) are summed first.
    """
    grad = grad.coalesce()
    return grad.indices()[0], grad.values()


Rule = Callable[..., None]


def apply_update(
    rule: Rule,
    weight: torch.Tensor,
    grad: torch.Tensor,
    out: torch.Tensor,
    states: Sequence[torch.Tensor],
    lazy_update: bool,
    **hyper: float,
) -> torch.Tensor:
    """Run a dense in-place ``rule(weight, grad, *states, **hyper)`` the way MXNet would.

    ``out`` receives the new weight (``weight`` itself is left as it was when ``out`` is
    another tensor). A row-sparse ``grad`` with ``lazy_update`` gathers the rows it holds
    from the weight and the states, applies ``rule`` to them and scatters them back, so
    the rule is written once for dense and lazy updates alike.
    """
    if out is not weight:
        out.copy_(weight)
    if not grad.is_sparse:
        rule(out, grad, *states, **hyper)
        return out
    if not lazy_update:
        rule(out, grad.to_dense(), *states, **hyper)
        return out
    rows, values = sparse_rows(grad)
    if rows.numel() == 0:
        return out
    w_rows = out.index_select(0, rows)
    s_rows = [s.index_select(0, rows) for s in states]
    rule(w_rows, values, *s_rows, **hyper)
    out.index_copy_(0, rows, w_rows)
    for s, s_row in zip(states, s_rows):
        s.index_copy_(0, rows, s_row)
    return out


def clip_like_ndarray(g: torch.Tensor, clip_gradient: float | None) -> torch.Tensor:
    """MXNet's Python-side clipping (``mx.nd.clip(g, -c, c)`` whenever ``c is not None``).

    Optimizers written with NDArray arithmetic in MXNet (AdaGrad's dense path, AdaDelta,
    Adamax, Nadam, DCASGD, SGLD) clip this way: ``c = 0`` zeroes the gradient, and a
    negative ``c`` (so ``a_min > a_max``) maps ``x > c`` to ``c`` and the rest to ``-c``,
    exactly as MXNet's ``clip`` kernel does. Returns a new tensor.
    """
    if clip_gradient is None:
        return g.clone()
    c = f32(clip_gradient)
    if c >= 0:
        return g.clamp(-c, c)
    low, high = -c, c
    return torch.where(g > high, high, torch.where(g < low, low, g))
