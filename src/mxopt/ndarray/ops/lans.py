r"""LANS update rule (Zheng et al., 2020, "Accelerated Large Batch Optimization of BERT
Pretraining in 54 minutes", Algorithm 2).

With :math:`\hat g = \mathrm{clip}(r g / \lVert r g\rVert)` (the gradient normalized per
tensor, then clipped), :math:`\phi(z) = \min(\max(z, \text{lower}), \text{upper})` and
:math:`\tau(x) = \phi(\lVert w\rVert)/\lVert x\rVert` (1 when either norm is 0):

.. math::

    m &\leftarrow \beta_1 m + (1-\beta_1)\hat g, \qquad
    v \leftarrow \beta_2 v + (1-\beta_2)\hat g^2 \\
    \hat m &= m/(1-\beta_1^t), \qquad \hat v = v/(1-\beta_2^t) \\
    p &= \hat m/(\sqrt{\hat v}+\epsilon) + \lambda w, \qquad
    q = \hat g/(\sqrt{\hat v}+\epsilon) + \lambda w \\
    w &\leftarrow w - \eta\beta_1\,\tau(p)\,p - \eta(1-\beta_1)\,\tau(q)\,q

Both terms use the weight from before the step (as in the paper).
"""

from __future__ import annotations

import torch

from ._common import clip_like_ndarray

__all__ = ["lans_rule"]


def _trust(r1: float, x: torch.Tensor) -> float:
    r2 = float(torch.linalg.vector_norm(x))
    return 1.0 if r1 == 0.0 or r2 == 0.0 else r1 / r2


def lans_rule(w, g, mean, var, *, t, lr, wd, beta1, beta2, epsilon, rescale_grad,
              clip_gradient, lower_bound, upper_bound) -> None:  # fmt: skip
    """Dense in-place LANS step on ``w``, ``mean`` and ``var`` (bounds: ``None`` = off)."""
    g = g * rescale_grad
    g_norm = float(torch.linalg.vector_norm(g))
    if g_norm > 0.0:
        g = g / g_norm
    g = clip_like_ndarray(g, clip_gradient)
    mean.mul_(beta1).add_(g, alpha=1.0 - beta1)
    var.mul_(beta2).addcmul_(g, g, value=1.0 - beta2)
    denom = (var / (1.0 - beta2**t)).sqrt_().add_(epsilon)
    p = (mean / (1.0 - beta1**t)).div_(denom).add_(w, alpha=wd)
    q = (g / denom).add_(w, alpha=wd)
    r1 = float(torch.linalg.vector_norm(w))
    if lower_bound is not None:
        r1 = max(r1, lower_bound)
    if upper_bound is not None:
        r1 = min(r1, upper_bound)
    step = p.mul_(lr * beta1 * _trust(r1, p)).add_(q, alpha=lr * (1.0 - beta1) * _trust(r1, q))
    w.sub_(step)
