r"""AdaBelief update rule (Zhuang et al., 2020), with MXNet 2.0's conventions.

With :math:`G = \mathrm{clip}(r g + \lambda w)` and the bias-corrected rate
:math:`\eta_t = \eta\sqrt{1-\beta_2^t}/(1-\beta_1^t)`:

.. math::

    m &\leftarrow \beta_1 m + (1-\beta_1) G \\
    s &\leftarrow \beta_2 s + (1-\beta_2)(G - m)^2 + \epsilon \\
    w &\leftarrow w - \eta_t\, m / (\sqrt{s} + \epsilon)
"""

from __future__ import annotations

from ._common import clip_like_ndarray

__all__ = ["adabelief_rule"]


def adabelief_rule(w, g, mean, var, *, lr_t, wd, beta1, beta2, epsilon, rescale_grad,
                   clip_gradient) -> None:  # fmt: skip
    """Dense in-place AdaBelief step on ``w``, ``mean`` and ``var`` (``lr_t`` is the
    bias-corrected rate; ``clip_gradient=None`` disables clipping)."""
    G = clip_like_ndarray(g * rescale_grad + w * wd, clip_gradient)
    mean.mul_(beta1).add_(G, alpha=1.0 - beta1)
    var.mul_(beta2).add_((G - mean).square_(), alpha=1.0 - beta2).add_(epsilon)
    w.sub_(mean / var.sqrt().add_(epsilon) * lr_t)
