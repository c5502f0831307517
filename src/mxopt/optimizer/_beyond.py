"""Shared pieces of the optimizers MXNet 1.9.1 does not have (AdaBelief, LANS, Lion)."""

from __future__ import annotations

import torch

__all__ = ["clip_value", "dense"]


def clip_value(clip_gradient: float | None) -> float | None:
    """Clipping threshold for a rule: ``None`` unless ``clip_gradient > 0`` (the rule MXNet's
    fused operators follow: ``None``, 0 and negatives mean "no clipping")."""
    return float(clip_gradient) if clip_gradient and clip_gradient > 0 else None


def dense(g: torch.Tensor) -> torch.Tensor:
    """``g`` as a dense tensor (row-sparse gradients are treated as dense ones)."""
    return g.to_dense() if g.is_sparse else g
