r"""RMSProp operators: ``rmsprop_update`` (Tieleman & Hinton) and ``rmspropalex_update``
(the centered variant of Graves, 2013).

With :math:`G = \mathrm{clip}(r g + \lambda w)` and ``clip_weights`` applied to the new
weight only when it is ``>= 0``:

.. math::

    \text{rmsprop:}\quad n &\leftarrow (1-\gamma_1) G^2 + \gamma_1 n, \qquad
        w \leftarrow w - \eta\, G / \sqrt{n + \epsilon} \\
    \text{centered:}\quad n &\leftarrow (1-\gamma_1) G^2 + \gamma_1 n, \qquad
        \bar g \leftarrow (1-\gamma_1) G + \gamma_1 \bar g \\
    \delta &\leftarrow \gamma_2 \delta - \eta\, G / \sqrt{n - \bar g^2 + \epsilon}, \qquad
        w \leftarrow w + \delta

MXNet's operators default ``gamma1`` to 0.95; the :class:`~mxopt.optimizer.RMSProp`
optimizer always passes its own 0.9.
"""

from __future__ import annotations

import torch

from ._common import apply_update, clip_, f32, in_dtype, prepare

__all__ = ["rmsprop_update", "rmspropalex_update"]


def _clip_weights_(w: torch.Tensor, clip_weights: float) -> None:
    if clip_weights >= 0:
        w.clamp_(-clip_weights, clip_weights)


def rmsprop_rule(w, g, n, *, lr, gamma1, epsilon, wd, rescale_grad, clip_gradient, clip_weights):
    """Dense in-place RMSProp step on ``w`` and ``n``."""
    G = clip_(g * rescale_grad + w * wd, clip_gradient)
    n.mul_(gamma1).add_(G * G, alpha=in_dtype(1.0 - gamma1, w.dtype))
    w.sub_(G.div_((n + epsilon).sqrt_()).mul_(lr))
    _clip_weights_(w, clip_weights)


def rmspropalex_rule(
    w, g, n, g_avg, delta, *, lr, gamma1, gamma2, epsilon, wd, rescale_grad, clip_gradient,
    clip_weights,
):  # fmt: skip
    """Dense in-place centered RMSProp step on ``w``, ``n``, ``g_avg`` and ``delta``."""
    G = clip_(g * rescale_grad + w * wd, clip_gradient)
    n.mul_(gamma1).add_(G * G, alpha=in_dtype(1.0 - gamma1, w.dtype))
    g_avg.mul_(gamma1).add_(G, alpha=in_dtype(1.0 - gamma1, w.dtype))
    denom = (n - g_avg * g_avg).add_(epsilon).sqrt_()
    delta.mul_(gamma2).sub_(G.div_(denom).mul_(lr))
    w.add_(delta)
    _clip_weights_(w, clip_weights)


def rmsprop_update(
    weight: torch.Tensor,
    grad: torch.Tensor,
    n: torch.Tensor,
    lr: float,
    gamma1: float = 0.95,
    epsilon: float = 1e-8,
    wd: float = 0.0,
    rescale_grad: float = 1.0,
    clip_gradient: float = -1.0,
    clip_weights: float = -1.0,
    out: torch.Tensor | None = None,
) -> torch.Tensor:
    """One RMSProp step; ``n`` (the running mean square) is updated in place.

    >>> import torch, mxopt as mx
    >>> w = torch.tensor([1.0, -2.0]); n = torch.zeros(2)
    >>> mx.nd.rmsprop_update(w, torch.tensor([0.5, 0.5]), n, lr=0.1, gamma1=0.9)
    tensor([ 0.6838, -2.3162])
    """
    out = prepare("rmsprop_update", weight, grad, out, {"n": n})
    return apply_update(
        rmsprop_rule,
        weight,
        grad,
        out,
        (n,),
        True,
        lr=f32(lr),
        gamma1=f32(gamma1),
        epsilon=f32(epsilon),
        wd=f32(wd),
        rescale_grad=f32(rescale_grad),
        clip_gradient=f32(clip_gradient),
        clip_weights=f32(clip_weights),
    )


def rmspropalex_update(
    weight: torch.Tensor,
    grad: torch.Tensor,
    n: torch.Tensor,
    g: torch.Tensor,
    delta: torch.Tensor,
    lr: float,
    gamma1: float = 0.95,
    gamma2: float = 0.9,
    epsilon: float = 1e-8,
    wd: float = 0.0,
    rescale_grad: float = 1.0,
    clip_gradient: float = -1.0,
    clip_weights: float = -1.0,
    out: torch.Tensor | None = None,
) -> torch.Tensor:
    """One centered RMSProp step; ``n``, ``g`` (mean gradient) and ``delta`` in place."""
    out = prepare("rmspropalex_update", weight, grad, out, {"n": n, "g": g, "delta": delta})
    return apply_update(
        rmspropalex_rule,
        weight,
        grad,
        out,
        (n, g, delta),
        True,
        lr=f32(lr),
        gamma1=f32(gamma1),
        gamma2=f32(gamma2),
        epsilon=f32(epsilon),
        wd=f32(wd),
        rescale_grad=f32(rescale_grad),
        clip_gradient=f32(clip_gradient),
        clip_weights=f32(clip_weights),
    )
