r"""Lion update rule (Chen et al., 2023, "Symbolic Discovery of Optimization Algorithms").

With :math:`G = \mathrm{clip}(r g)` and decoupled weight decay :math:`\lambda`:

.. math::

    c &= \beta_1 m + (1-\beta_1) G \\
    w &\leftarrow w - \eta\,(\mathrm{sign}(c) + \lambda w) \\
    m &\leftarrow \beta_2 m + (1-\beta_2) G

(:math:`\mathrm{sign}(0) = 0`.)
"""

from __future__ import annotations

from ._common import clip_like_ndarray

__all__ = ["lion_rule"]


def lion_rule(w, g, mom, *, lr, wd, beta1, beta2, rescale_grad, clip_gradient) -> None:
    """Dense in-place Lion step on ``w`` and ``mom`` (``clip_gradient=None``: no clip)."""
    G = clip_like_ndarray(g * rescale_grad, clip_gradient)
    direction = (mom * beta1).add_(G, alpha=1.0 - beta1).sign_()
    w.sub_(direction.add_(w, alpha=wd), alpha=lr)
    mom.mul_(beta2).add_(G, alpha=1.0 - beta2)
