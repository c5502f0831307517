r"""``adam_update``: MXNet's Adam kernel (L2 weight decay inside the moments).

.. math::

    G &= \mathrm{clip}(r g + \lambda w) \\
    m &\leftarrow \beta_1 m + (1 - \beta_1) G \\
    v &\leftarrow \beta_2 v + (1 - \beta_2) G^2 \\
    w &\leftarrow w - \eta\, m / (\sqrt{v} + \epsilon)

The kernel does no bias correction: the :class:`~mxopt.optimizer.Adam` optimizer passes
:math:`\eta_t = \eta\sqrt{1-\beta_2^t}/(1-\beta_1^t)` as ``lr``. The weight-decay term is
clipped together with the gradient; :math:`\epsilon` sits outside the square root.
"""

from __future__ import annotations

import torch

from ._common import apply_update, clip_, f32, in_dtype, prepare

__all__ = ["adam_update"]


def adam_rule(w, g, mean, var, *, lr, beta1, beta2, epsilon, wd, rescale_grad, clip_gradient):
    """Dense in-place Adam step on ``w``, ``mean`` and ``var``."""
    G = clip_(g * rescale_grad + w * wd, clip_gradient)
    mean.mul_(beta1).add_(G, alpha=in_dtype(1.0 - beta1, w.dtype))
    var.mul_(beta2).add_(G.mul_(G), alpha=in_dtype(1.0 - beta2, w.dtype))
    w.sub_(mean * lr / var.sqrt().add_(epsilon))


def adam_update(
    weight: torch.Tensor,
    grad: torch.Tensor,
    mean: torch.Tensor,
    var: torch.Tensor,
    lr: float,
    beta1: float = 0.9,
    beta2: float = 0.999,
    epsilon: float = 1e-8,
    wd: float = 0.0,
    rescale_grad: float = 1.0,
    clip_gradient: float = -1.0,
    lazy_update: bool = True,
    out: torch.Tensor | None = None,
) -> torch.Tensor:
    """One Adam step without bias correction (pass the corrected rate as ``lr``).

    >>> import torch, mxopt as mx
    >>> w = torch.tensor([1.0, -2.0]); m, v = torch.zeros(2), torch.zeros(2)
    >>> mx.nd.adam_update(w, torch.tensor([0.5, 0.5]), m, v, lr=0.1).round(decimals=4)
    tensor([ 0.6838, -2.3162])
    """
    out = prepare("adam_update", weight, grad, out, {"mean": mean, "var": var})
    return apply_update(
        adam_rule,
        weight,
        grad,
        out,
        (mean, var),
        lazy_update,
        lr=f32(lr),
        beta1=f32(beta1),
        beta2=f32(beta2),
        epsilon=f32(epsilon),
        wd=f32(wd),
        rescale_grad=f32(rescale_grad),
        clip_gradient=f32(clip_gradient),
    )
