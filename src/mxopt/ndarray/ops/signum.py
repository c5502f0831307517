r"""Sign-based update operators: ``signsgd_update`` and ``signum_update`` (Bernstein et al.,
2018), as MXNet 1.9.1's kernels compute them.

With :math:`\eta` = ``lr``, :math:`\lambda` = ``wd``, :math:`\mu` = ``momentum``,
:math:`r` = ``rescale_grad`` and ``clip`` applied only when ``clip_gradient >= 0``:

.. math::

    \text{signsgd:}\quad w &\leftarrow (1 - \eta\lambda)\,w - \eta\,\mathrm{sign}(g)\\
    \text{signum:}\quad m &\leftarrow \mu m - (1-\mu)\lambda w - (1-\mu)\,\mathrm{clip}(r g),
        \qquad w \leftarrow (1 - \eta\lambda_{lh})\,w + \eta\,\mathrm{sign}(m)

``signsgd_update`` accepts ``rescale_grad`` and ``clip_gradient`` but ignores them, as
MXNet's kernel does (neither changes the sign of a gradient unless the clip is 0). The
signum state :math:`m` is the *negative* of the momentum MXNet's documentation describes
(DOC≠CODE), hence the ``+`` in the weight step. A row-sparse gradient is treated as a
dense gradient with zero rows (MXNet's storage fallback).
"""

from __future__ import annotations

import torch

from ._common import apply_update, clip_, f32, in_dtype, prepare

__all__ = ["signsgd_update", "signum_update", "signsgd_rule", "signum_rule"]


def signsgd_rule(w: torch.Tensor, g: torch.Tensor, *, lr: float, wd: float) -> None:
    """Dense in-place signSGD step on ``w``."""
    decay = in_dtype(1.0 - in_dtype(lr * wd, w.dtype), w.dtype)
    w.mul_(decay).sub_(torch.sign(g).mul_(lr))


def signum_rule(
    w: torch.Tensor,
    g: torch.Tensor,
    mom: torch.Tensor,
    *,
    lr: float,
    momentum: float,
    wd: float,
    rescale_grad: float,
    clip_gradient: float,
    wd_lh: float,
) -> None:
    """Dense in-place Signum step on ``w`` and ``mom`` (``mom`` holds the signed step)."""
    dt = w.dtype
    keep = in_dtype(1.0 - momentum, dt)
    if clip_gradient >= 0:
        step = clip_(g * rescale_grad, clip_gradient).mul_(keep)
    else:
        step = g * in_dtype(keep * rescale_grad, dt)
    mom.mul_(momentum).sub_(w * in_dtype(keep * wd, dt)).sub_(step)
    decay = in_dtype(1.0 - in_dtype(lr * wd_lh, dt), dt)
    w.mul_(decay).add_(torch.sign(mom).mul_(lr))


def signsgd_update(
    weight: torch.Tensor,
    grad: torch.Tensor,
    lr: float,
    wd: float = 0.0,
    rescale_grad: float = 1.0,
    clip_gradient: float = -1.0,
    out: torch.Tensor | None = None,
) -> torch.Tensor:
    """signSGD: ``w = (1 - lr*wd) * w - lr * sign(grad)``; ``rescale_grad`` and
    ``clip_gradient`` are accepted and ignored, as in MXNet.

    >>> import torch, mxopt as mx
    >>> w = torch.tensor([1.0, -2.0])
    >>> mx.nd.signsgd_update(w, torch.tensor([0.5, -3.0]), lr=0.1)
    tensor([ 0.9000, -1.9000])
    """
    out = prepare("signsgd_update", weight, grad, out)
    f32(rescale_grad), f32(clip_gradient)  # parsed (and so type-checked) like MXNet, unused
    return apply_update(signsgd_rule, weight, grad, out, (), False, lr=f32(lr), wd=f32(wd))


def signum_update(
    weight: torch.Tensor,
    grad: torch.Tensor,
    mom: torch.Tensor,
    lr: float,
    momentum: float = 0.0,
    wd: float = 0.0,
    rescale_grad: float = 1.0,
    clip_gradient: float = -1.0,
    wd_lh: float = 0.0,
    out: torch.Tensor | None = None,
) -> torch.Tensor:
    """Signum: ``mom = momentum*mom - (1-momentum)*(wd*w + clip(r*g))``, then
    ``w = (1 - lr*wd_lh) * w + lr * sign(mom)``.

    >>> import torch, mxopt as mx
    >>> w = torch.tensor([1.0, -2.0]); m = torch.zeros(2)
    >>> mx.nd.signum_update(w, torch.tensor([0.5, -3.0]), m, lr=0.1, momentum=0.9)
    tensor([ 0.9000, -1.9000])
    """
    out = prepare("signum_update", weight, grad, out, {"mom": mom})
    return apply_update(
        signum_rule,
        weight,
        grad,
        out,
        (mom,),
        False,
        lr=f32(lr),
        momentum=f32(momentum),
        wd=f32(wd),
        rescale_grad=f32(rescale_grad),
        clip_gradient=f32(clip_gradient),
        wd_lh=f32(wd_lh),
    )
