r"""AdaDelta's update rule (Zeiler, 2012). MXNet computes it with NDArray arithmetic and has
no operator for it; mxopt keeps the rule here with the other update math.

With :math:`G` the rescaled (and clipped) gradient and no learning rate:

.. math::

    a_g &\leftarrow \rho\, a_g + (1-\rho) G^2\\
    \Delta &= \sqrt{a_\Delta + \epsilon} / \sqrt{a_g + \epsilon} \cdot G\\
    a_\Delta &\leftarrow \rho\, a_\Delta + (1-\rho) \Delta^2\\
    w &\leftarrow w - \Delta - \lambda w
"""

from __future__ import annotations

import torch

from ._common import f32

__all__ = ["adadelta_rule"]


def adadelta_rule(
    w: torch.Tensor,
    G: torch.Tensor,
    acc_g: torch.Tensor,
    acc_delta: torch.Tensor,
    *,
    rho: float,
    epsilon: float,
    wd: float,
) -> None:
    """In-place AdaDelta step; ``G`` is the already rescaled and clipped gradient."""
    acc_g.mul_(rho).add_(G * G * f32(1.0 - rho))
    delta = (acc_delta + epsilon).sqrt_().div_((acc_g + epsilon).sqrt_()).mul_(G)
    acc_delta.mul_(rho).add_(delta * delta * f32(1.0 - rho))
    w.sub_(delta.add_(w * wd))
