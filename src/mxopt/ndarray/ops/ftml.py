r"""``ftml_update``: Follow the Moving Leader (Zheng & Kwok, 2017), MXNet 1.9.1's kernel.

With :math:`t` the update count, :math:`G = \mathrm{clip}(r g + \lambda w)` (clipped only
when ``clip_grad >= 0``):

.. math::

    v &\leftarrow \beta_2 v + (1-\beta_2) G^2\\
    d_t &= \frac{1-\beta_1^t}{\eta}\Big(\sqrt{v / (1-\beta_2^t)} + \epsilon\Big)\\
    z &\leftarrow \beta_1 z + (1-\beta_1) G - (d_t - \beta_1 d)\, w\\
    d &\leftarrow d_t, \qquad w \leftarrow -z / d_t

DOC≠CODE: MXNet's operator documentation writes :math:`(1-\beta_1^t) G` in the update of
:math:`z`; the kernel uses :math:`(1-\beta_1) G`, as here. ``epsilon`` is a double
parameter in MXNet (the others are float32). A row-sparse gradient is treated as a dense
gradient with zero rows (MXNet's storage fallback).
"""

from __future__ import annotations

import torch

from ._common import apply_update, clip_, f32, in_dtype, prepare

__all__ = ["ftml_update", "ftml_rule"]


def ftml_rule(
    w: torch.Tensor,
    g: torch.Tensor,
    d: torch.Tensor,
    v: torch.Tensor,
    z: torch.Tensor,
    *,
    lr: float,
    beta1: float,
    beta2: float,
    epsilon: float,
    t: int,
    wd: float,
    rescale_grad: float,
    clip_grad: float,
) -> None:
    """Dense in-place FTML step on ``w``, ``d``, ``v`` and ``z``."""
    dt = w.dtype
    G = clip_(g * rescale_grad + w * wd, clip_grad)
    v.mul_(beta2).add_((G * G).mul_(in_dtype(1.0 - beta2, dt)))
    scale = in_dtype(in_dtype(1.0 - in_dtype(beta1**t, dt), dt) / lr, dt)
    unbias = in_dtype(1.0 - in_dtype(beta2**t, dt), dt)
    d_t = (v / unbias).sqrt_().add_(in_dtype(epsilon, dt)).mul_(scale)
    shift = (d_t - d * beta1).mul_(w)
    z.mul_(beta1).add_(G.mul_(in_dtype(1.0 - beta1, dt))).sub_(shift)
    d.copy_(d_t)
    w.copy_(-z / d_t)


def ftml_update(
    weight: torch.Tensor,
    grad: torch.Tensor,
    d: torch.Tensor,
    v: torch.Tensor,
    z: torch.Tensor,
    lr: float,
    beta1: float = 0.6,
    beta2: float = 0.999,
    epsilon: float = 1e-8,
    t: int | None = None,
    wd: float = 0.0,
    rescale_grad: float = 1.0,
    clip_grad: float = -1.0,
    out: torch.Tensor | None = None,
) -> torch.Tensor:
    """One FTML step at update count ``t`` (required, >= 1); ``d``, ``v``, ``z`` are updated
    in place.

    >>> import torch, mxopt as mx
    >>> w = torch.tensor([1.0, -2.0]); d, v, z = torch.zeros(2), torch.zeros(2), torch.zeros(2)
    >>> mx.nd.ftml_update(w, torch.tensor([0.5, 0.5]), d, v, z, lr=0.1, t=1)
    tensor([ 0.9000, -2.1000])
    """
    if isinstance(t, bool) or not isinstance(t, int):
        raise TypeError(f"ftml_update: t (the update count) is required as an int, got {t!r}")
    if t < 1:
        raise ValueError(f"ftml_update: t must be >= 1, got {t}")
    for name, beta in (("beta1", beta1), ("beta2", beta2)):
        if not 0.0 <= beta < 1.0:
            raise ValueError(f"ftml_update: {name} must be in [0, 1), got {beta!r}")
    out = prepare("ftml_update", weight, grad, out, {"d": d, "v": v, "z": z})
    return apply_update(
        ftml_rule,
        weight,
        grad,
        out,
        (d, v, z),
        False,
        lr=f32(lr),
        beta1=f32(beta1),
        beta2=f32(beta2),
        epsilon=float(epsilon),
        t=t,
        wd=f32(wd),
        rescale_grad=f32(rescale_grad),
        clip_grad=f32(clip_grad),
    )
