r"""Signum and signSGD (MXNet's ``signum``): steps by the sign of the momentum/gradient."""

from __future__ import annotations

import torch

from ..ndarray.ops.signum import signsgd_update, signum_update
from ._checks import check_range
from ._common import fused_clip, zeros_like
from .optimizer import Optimizer, register

__all__ = ["Signum"]


@register
class Signum(Optimizer):
    r"""Signum (Bernstein et al., 2018), or signSGD when ``momentum == 0``.

    With :math:`\eta` the per-parameter learning rate, :math:`\lambda` the per-parameter
    weight decay and :math:`\lambda_{lh}` = ``wd_lh`` (decoupled weight decay):

    .. math::

        \mu > 0:\quad m &\leftarrow \mu m - (1-\mu)\big(\lambda w + \mathrm{clip}(r g)\big),
            \qquad w \leftarrow (1 - \eta\lambda_{lh})\, w + \eta\, \mathrm{sign}(m)\\
        \mu = 0:\quad w &\leftarrow (1 - \eta\lambda)\, w - \eta\, \mathrm{sign}(g)

    As in MXNet 1.9.1: the state :math:`m` is the *negative* of the momentum MXNet's
    documentation describes (DOC≠CODE; the docstring also clips before rescaling, the
    kernel after); signSGD ignores ``rescale_grad`` and ``clip_gradient``; clipping follows
    the fused operators' rule (``None``, 0 and negatives disable it). A row-sparse
    gradient is used as a dense gradient with zero rows. MXNet raises an obscure error for
    a non-zero ``wd_lh`` with ``momentum == 0``; mxopt refuses it at construction.
    ``learning_rate`` defaults to 0.01 and, as in MXNet, overrides a scheduler's
    ``base_lr`` even when not given.

    Parameters
    ----------
    learning_rate : float, default 0.01
    momentum : float, default 0.9
        In ``[0, 1]``; 0 selects signSGD (no state).
    wd_lh : float, default 0.0
        Decoupled weight decay (Loshchilov & Hutter), ``>= 0``; needs ``momentum > 0``.

    {common_args}

    Example
    -------
    >>> import torch, mxopt as mx
    >>> updater = mx.optimizer.get_updater(mx.optimizer.Signum(learning_rate=0.1))
    >>> w = torch.tensor([1.0, -2.0])
    >>> updater(0, torch.tensor([0.5, -0.5]), w)
    >>> w
    tensor([ 0.9000, -1.9000])
    """

    _fused_rule = "signum"  # fast path: optimizer/fused/signum.py

    def __init__(
        self, learning_rate: float = 0.01, momentum: float = 0.9, wd_lh: float = 0.0, **kwargs
    ) -> None:
        super().__init__(learning_rate=learning_rate, **kwargs)
        check_range("momentum", momentum, 0.0, 1.0)
        check_range("wd_lh", wd_lh, 0.0)
        if momentum == 0 and wd_lh != 0:
            raise ValueError(
                f"wd_lh must be 0 when momentum is 0 (signSGD has no decoupled weight decay), "
                f"got wd_lh={wd_lh!r}"
            )
        self.momentum = momentum
        self.wd_lh = wd_lh

    def create_state(self, index, weight: torch.Tensor):
        return zeros_like(weight) if self.momentum != 0.0 else None

    def _step(self, indices, weights, grads, states, lrs, wds) -> None:
        clip = fused_clip(self.clip_gradient)
        for w, g, mom, lr, wd in zip(weights, grads, states, lrs, wds):
            if mom is not None:
                signum_update(
                    w, g, mom, lr=lr, wd=wd, momentum=self.momentum, wd_lh=self.wd_lh,
                    rescale_grad=self.rescale_grad, clip_gradient=clip,
                )  # fmt: skip
            else:
                signsgd_update(w, g, lr=lr, wd=wd)
