r"""AdaMax's update rule (Kingma & Ba, 2014, §7). MXNet computes it with NDArray arithmetic
and has no operator for it; mxopt keeps the rule here with the other update math.

With :math:`t` the update count and :math:`G = \mathrm{clip}(r g + \lambda w)` (clipped
whenever ``clip_gradient is not None``, MXNet's Python-side rule):

.. math::

    m &\leftarrow \beta_1 m + (1-\beta_1) G, \qquad
    u \leftarrow \max(\beta_2 u, |G|)\\
    w &\leftarrow w - \frac{\eta}{1-\beta_1^t}\, m / u

There is no :math:`\epsilon`: an element whose :math:`u` is 0 (no gradient yet, no weight
decay) becomes NaN, as in MXNet.
"""

from __future__ import annotations

import torch

from ._common import clip_like_ndarray, in_dtype

__all__ = ["adamax_rule"]


def adamax_rule(
    w: torch.Tensor,
    g: torch.Tensor,
    m: torch.Tensor,
    u: torch.Tensor,
    *,
    lr: float,
    t: int,
    beta1: float,
    beta2: float,
    wd: float,
    rescale_grad: float,
    clip_gradient: float | None,
) -> None:
    """In-place AdaMax step on ``w``, ``m`` and ``u`` (scalars as MXNet's Python passes
    them: computed in double, rounded to the weight's dtype by each operation)."""
    dt = w.dtype
    lr_t = lr / (1.0 - beta1**t)
    G = clip_like_ndarray(g * in_dtype(rescale_grad, dt) + w * in_dtype(wd, dt), clip_gradient)
    m.mul_(in_dtype(beta1, dt)).add_(G * in_dtype(1.0 - beta1, dt))
    torch.maximum(u.mul_(in_dtype(beta2, dt)), G.abs(), out=u)
    w.sub_((m * in_dtype(lr_t, dt)).div_(u))
