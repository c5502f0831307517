r"""SGLD's update rule: stochastic gradient Langevin dynamics (Welling & Teh, 2011). MXNet
computes it with NDArray arithmetic and has no operator for it; mxopt keeps the rule here.

With :math:`G = \mathrm{clip}(r g)` (clipped whenever ``clip_gradient is not None``) and
:math:`\xi \sim \mathcal N(0, \eta)` drawn elementwise (standard deviation
:math:`\sqrt\eta`):

.. math::

    w \leftarrow w - \tfrac{\eta}{2}\,(G + \lambda w) + \xi

The rule takes the noise :math:`\xi` as a tensor, so the deterministic drift can be
checked on its own; :class:`~mxopt.optimizer.SGLD` draws it.
"""

from __future__ import annotations

import torch

from ._common import clip_like_ndarray, in_dtype

__all__ = ["sgld_rule"]


def sgld_rule(
    w: torch.Tensor,
    g: torch.Tensor,
    noise: torch.Tensor,
    *,
    lr: float,
    wd: float,
    rescale_grad: float,
    clip_gradient: float | None,
) -> None:
    """In-place SGLD step on ``w``: the drift, then ``noise`` (same shape as ``w``)."""
    dt = w.dtype
    G = clip_like_ndarray(g * in_dtype(rescale_grad, dt), clip_gradient)
    w.add_((G + w * in_dtype(wd, dt)).mul_(in_dtype(-lr / 2, dt)))
    w.add_(noise)
