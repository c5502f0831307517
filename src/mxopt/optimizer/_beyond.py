"""Shared pieces of the optimizers MXNet 1.9.1 does not have (AdaBelief, LANS, Lion)."""

from __future__ import annotations

import torch

from ._common import fused_clip

__all__ = ["clip_value", "dense"]


def clip_value(clip_gradient: float | None) -> float | None:
    """Clipping threshold for a rule, ``None`` for "no clipping": the fused operators' rule
    (:func:`~mxopt.optimizer._common.fused_clip`), where ``None``, 0 and negatives disable it."""
    threshold = fused_clip(clip_gradient)
    return threshold if threshold > 0 else None


def dense(g: torch.Tensor) -> torch.Tensor:
    """``g`` as a dense tensor (row-sparse gradients are treated as dense ones)."""
    return g.to_dense() if g.is_sparse else g
