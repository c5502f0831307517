"""Small helpers the built-in optimizers share."""

from __future__ import annotations

import torch

__all__ = ["fused_clip", "zeros_like"]


def fused_clip(clip_gradient: float | None) -> float:
    """The ``clip_gradient`` a fused operator receives: MXNet forwards it only when it is
    truthy, and the kernel clips only when it is ``>= 0``; ``-1`` means "no clipping"."""
    return float(clip_gradient) if clip_gradient else -1.0


def zeros_like(weight: torch.Tensor, dtype: torch.dtype | None = None) -> torch.Tensor:
    """A dense zero state shaped like ``weight`` on its device."""
    return torch.zeros(weight.shape, dtype=dtype or weight.dtype, device=weight.device)
