r"""``ftrl_update``: FTRL-Proximal (McMahan et al., 2013), MXNet 1.9.1's kernel.

With :math:`G = \mathrm{clip}(r g)` (clipped only when ``clip_gradient >= 0``):

.. math::

    z &\leftarrow z + G - \big(\sqrt{n + G^2} - \sqrt{n}\big)\, w / \eta\\
    n &\leftarrow n + G^2\\
    w &\leftarrow \frac{\mathrm{sign}(z)\,\lambda_1 - z}{(\beta + \sqrt{n})/\eta + \lambda}
        \cdot [\,|z| > \lambda_1\,]

The new weight depends only on :math:`z` and :math:`n`, so every row is *recomputed*:
with a dense weight and a row-sparse gradient MXNet falls back to the dense kernel, and
rows without gradient become :math:`(\mathrm{sign}(z)\lambda_1 - z)/(\ldots)` of their
old state (0 for rows never updated). mxopt reproduces this by default
(``lazy_update=False``); ``lazy_update=True`` gives MXNet's row-sparse-weight semantics
(only the gradient's rows change).
"""

from __future__ import annotations

import torch

from ._common import apply_update, clip_, f32, prepare

__all__ = ["ftrl_update", "ftrl_rule"]


def ftrl_rule(
    w: torch.Tensor,
    g: torch.Tensor,
    z: torch.Tensor,
    n: torch.Tensor,
    *,
    lr: float,
    lamda1: float,
    beta: float,
    wd: float,
    rescale_grad: float,
    clip_gradient: float,
) -> None:
    """Dense in-place FTRL step on ``w``, ``z`` and ``n``."""
    G = clip_(g * rescale_grad, clip_gradient)
    G2 = G * G
    sigma = ((n + G2).sqrt_() - n.sqrt()).mul_(w).div_(lr)
    z.add_(G.sub_(sigma))
    n.add_(G2)
    denom = n.sqrt().add_(beta).div_(lr).add_(wd)
    active = (z.abs() > lamda1).to(w.dtype)
    w.copy_((torch.sign(z).mul_(lamda1).sub_(z)).div_(denom).mul_(active))


def ftrl_update(
    weight: torch.Tensor,
    grad: torch.Tensor,
    z: torch.Tensor,
    n: torch.Tensor,
    lr: float,
    lamda1: float = 0.01,
    beta: float = 1.0,
    wd: float = 0.0,
    rescale_grad: float = 1.0,
    clip_gradient: float = -1.0,
    lazy_update: bool = False,
    out: torch.Tensor | None = None,
) -> torch.Tensor:
    """One FTRL step; ``z`` and ``n`` are updated in place.

    ``lazy_update`` (an mxopt extension, default False) only matters for a row-sparse
    ``grad``: False recomputes every row (MXNet with a dense weight), True updates only the
    gradient's rows (MXNet with a row-sparse weight).

    >>> import torch, mxopt as mx
    >>> w = torch.tensor([1.0, -2.0]); z, n = torch.zeros(2), torch.zeros(2)
    >>> mx.nd.ftrl_update(w, torch.tensor([0.5, 0.5]), z, n, lr=0.1).round(decimals=4)
    tensor([ 0.2993, -0.6993])
    """
    out = prepare("ftrl_update", weight, grad, out, {"z": z, "n": n})
    return apply_update(
        ftrl_rule,
        weight,
        grad,
        out,
        (z, n),
        bool(lazy_update),
        lr=f32(lr),
        lamda1=f32(lamda1),
        beta=f32(beta),
        wd=f32(wd),
        rescale_grad=f32(rescale_grad),
        clip_gradient=f32(clip_gradient),
    )
