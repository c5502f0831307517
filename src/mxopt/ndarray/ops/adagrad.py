r"""``adagrad_update``: MXNet's AdaGrad operator (``mx.nd.sparse.adagrad_update``).

With :math:`G = \mathrm{clip}(r g)`:

.. math::

    h \leftarrow h + G^2, \qquad w \leftarrow w - \eta\,\big(G / \sqrt{h + \epsilon}
    + \lambda w\big)

MXNet only registers the operator for row-sparse gradients, and there it refuses a
non-zero ``wd``; the dense optimizer path computes the same rule with NDArray arithmetic
(including ``wd``). mxopt accepts both here: a row-sparse gradient updates only its rows
(and still requires ``wd == 0``), a dense one updates everything.
"""

from __future__ import annotations

import torch

from ._common import apply_update, clip_, f32, prepare

__all__ = ["adagrad_update"]


def adagrad_rule(w, g, history, *, lr, epsilon, wd, rescale_grad, clip_gradient) -> None:
    """Dense in-place AdaGrad step on ``w`` and ``history``."""
    G = clip_(g * rescale_grad, clip_gradient)
    history.add_(G * G)
    step = G.div_((history + epsilon).sqrt_()).add_(w, alpha=wd)
    w.sub_(step.mul_(lr))


def adagrad_update(
    weight: torch.Tensor,
    grad: torch.Tensor,
    history: torch.Tensor,
    lr: float,
    epsilon: float = 1e-7,
    wd: float = 0.0,
    rescale_grad: float = 1.0,
    clip_gradient: float = -1.0,
    out: torch.Tensor | None = None,
) -> torch.Tensor:
    """One AdaGrad step; ``history`` (sum of squared gradients) is updated in place.

    >>> import torch, mxopt as mx
    >>> w = torch.tensor([1.0, -2.0]); h = torch.zeros(2)
    >>> mx.nd.adagrad_update(w, torch.tensor([0.5, 0.5]), h, lr=0.1)
    tensor([ 0.9000, -2.1000])
    """
    if grad.is_sparse and wd != 0:
        raise ValueError("adagrad_update: wd must be 0 with a row-sparse grad (as in MXNet)")
    out = prepare("adagrad_update", weight, grad, out, {"history": history})
    return apply_update(
        adagrad_rule,
        weight,
        grad,
        out,
        (history,),
        True,
        lr=f32(lr),
        epsilon=f32(epsilon),
        wd=f32(wd),
        rescale_grad=f32(rescale_grad),
        clip_gradient=f32(clip_gradient),
    )
