"""Row-sparse gradients for optimizers MXNet wrote with NDArray arithmetic."""

from __future__ import annotations

import torch

__all__ = ["dense"]


def dense(g: torch.Tensor) -> torch.Tensor:
    """``g`` as a dense tensor: MXNet's NDArray arithmetic (``grad * r + wd * w`` and the
    like) turns a row-sparse gradient into a dense one with zero rows."""
    return g.to_dense() if g.is_sparse else g
