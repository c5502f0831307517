r"""DCASGD's update rule: SGD with delay compensation (Zheng et al., 2017). MXNet computes it
with NDArray arithmetic and has no operator for it; mxopt keeps the rule here.

With :math:`G = \mathrm{clip}(r g)` (clipped whenever ``clip_gradient is not None``),
:math:`\tilde w` the weight before the previous update and :math:`\kappa` = ``lamda``:

.. math::

    \Delta &= -\eta\big(G + \lambda w + \kappa\, G^2 (w - \tilde w)\big)\\
    \text{momentum } \mu = 0:&\quad \tilde w \leftarrow w, \quad w \leftarrow w + \Delta\\
    \text{momentum } \mu > 0:&\quad m \leftarrow \mu m + \Delta, \quad \tilde w \leftarrow w,
        \quad w \leftarrow w + m

MXNet 1.9.1 crashes with momentum > 0 (it tests an NDArray's truth value); mxopt runs the
momentum branch its code spells out, as above.
"""

from __future__ import annotations

import torch

from ._common import clip_like_ndarray, in_dtype

__all__ = ["dcasgd_rule"]


def dcasgd_rule(
    w: torch.Tensor,
    g: torch.Tensor,
    mom: torch.Tensor | None,
    previous: torch.Tensor,
    *,
    lr: float,
    momentum: float,
    lamda: float,
    wd: float,
    rescale_grad: float,
    clip_gradient: float | None,
) -> None:
    """In-place DCASGD step on ``w``, ``previous`` and (when given) ``mom``."""
    dt = w.dtype
    G = clip_like_ndarray(g * in_dtype(rescale_grad, dt), clip_gradient)
    compensation = (G * in_dtype(lamda, dt)).mul_(G).mul_(w - previous)
    step = (G + w * in_dtype(wd, dt)).add_(compensation).mul_(in_dtype(-lr, dt))
    if mom is not None:
        step = mom.mul_(in_dtype(momentum, dt)).add_(step)
    previous.copy_(w)
    w.add_(step)
