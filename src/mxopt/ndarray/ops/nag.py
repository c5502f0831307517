r"""Nesterov momentum: ``nag_mom_update`` and ``mp_nag_mom_update``.

MXNet's kernel writes the new weight over the old one before it updates the momentum, so
the momentum's weight-decay term sees the *updated* weight. With
:math:`\hat g = \mathrm{clip}(r g)`:

.. math::

    m' &= \mu m \\
    w_{new} &= w - m' + (1 + \mu)\,\big(m' - \eta(\hat g + \lambda w)\big) \\
    m_{new} &= m' - \eta(\hat g + \lambda w_{new})

For :math:`\lambda = 0` this is :math:`m \leftarrow \mu m - \eta \hat g`,
:math:`w \leftarrow w + \mu m - \eta \hat g`.
"""

from __future__ import annotations

import torch

from ._common import apply_update, clip_, f32, in_dtype, prepare
from .sgd import _check_master, _mp_apply

__all__ = ["nag_mom_update", "mp_nag_mom_update"]


def nag_mom_rule(w, g, mom, *, lr, momentum, wd, rescale_grad, clip_gradient) -> None:
    """Dense in-place NAG step on ``w`` and ``mom``."""
    g_hat = clip_(g * rescale_grad, clip_gradient)
    mom.mul_(momentum)
    lookahead = (mom - (g_hat + wd * w) * lr) * in_dtype(momentum + 1.0, w.dtype)
    w.sub_(mom).add_(lookahead)
    mom.sub_((g_hat + wd * w) * lr)


def nag_mom_update(
    weight: torch.Tensor,
    grad: torch.Tensor,
    mom: torch.Tensor,
    lr: float,
    momentum: float = 0.0,
    wd: float = 0.0,
    rescale_grad: float = 1.0,
    clip_gradient: float = -1.0,
    out: torch.Tensor | None = None,
) -> torch.Tensor:
    """Nesterov momentum update of ``weight`` (or ``out``) and ``mom`` in place.

    >>> import torch, mxopt as mx
    >>> w = torch.tensor([1.0, -2.0]); m = torch.zeros(2)
    >>> mx.nd.nag_mom_update(w, torch.tensor([0.5, 0.5]), m, lr=0.1, momentum=0.9)
    tensor([ 0.9050, -2.0950])
    """
    out = prepare("nag_mom_update", weight, grad, out, {"mom": mom})
    return apply_update(
        nag_mom_rule,
        weight,
        grad,
        out,
        (mom,),
        True,
        lr=f32(lr),
        momentum=f32(momentum),
        wd=f32(wd),
        rescale_grad=f32(rescale_grad),
        clip_gradient=f32(clip_gradient),
    )


def mp_nag_mom_update(
    weight: torch.Tensor,
    grad: torch.Tensor,
    mom: torch.Tensor,
    weight32: torch.Tensor,
    lr: float,
    momentum: float = 0.0,
    wd: float = 0.0,
    rescale_grad: float = 1.0,
    clip_gradient: float = -1.0,
    out: torch.Tensor | None = None,
) -> torch.Tensor:
    """NAG on a float32 master copy ``weight32`` with float32 ``mom``."""
    _check_master("mp_nag_mom_update", weight32)
    hyper = dict(
        lr=f32(lr),
        momentum=f32(momentum),
        wd=f32(wd),
        rescale_grad=f32(rescale_grad),
        clip_gradient=f32(clip_gradient),
    )
    return _mp_apply(
        "mp_nag_mom_update", nag_mom_rule, weight, grad, weight32, (mom,), out, True, hyper
    )
