r"""Nesterov accelerated gradient (MXNet's ``nag``)."""

from __future__ import annotations

import torch

from ..ndarray.ops.nag import mp_nag_mom_update, nag_mom_update
from ..ndarray.ops.sgd import mp_sgd_update, sgd_update
from ._checks import check_range
from ._common import fused_clip, zeros_like
from .optimizer import Optimizer, register

__all__ = ["NAG"]


@register
class NAG(Optimizer):
    r"""Nesterov momentum SGD, as MXNet's ``nag_mom_update`` computes it.

    With :math:`\hat g = \mathrm{clip}(r g)`:

    .. math::

        m' &= \mu m\\
        w_{new} &= w - m' + (1+\mu)\big(m' - \eta(\hat g + \lambda w)\big)\\
        m_{new} &= m' - \eta(\hat g + \lambda w_{new})

    The momentum's weight-decay term uses the *updated* weight (MXNet's kernel writes the
    weight first). ``momentum=0`` runs plain SGD.

    Parameters
    ----------
    momentum : float, default 0.0
        In ``[0, 1]``.

    {common_args}

    Multi-precision keeps the state ``(momentum or None, float32 master weight)``.

    Example
    -------
    >>> import torch, mxopt as mx
    >>> updater = mx.optimizer.get_updater(mx.optimizer.NAG(learning_rate=0.1, momentum=0.9))
    >>> w = torch.tensor([1.0, -2.0])
    >>> updater(0, torch.tensor([0.5, 0.5]), w)
    >>> w
    tensor([ 0.9050, -2.0950])
    """

    _fused_rule = "nag"  # fast path: optimizer/fused/nag.py
    _native_multi_precision = True
    _master_position = 1
    _low_precision_warning_name = "NAG optimizer"

    def __init__(self, momentum: float = 0.0, **kwargs) -> None:
        super().__init__(**kwargs)
        check_range("momentum", momentum, 0.0, 1.0)
        self.momentum = momentum

    def create_state(self, index, weight: torch.Tensor):
        return zeros_like(weight) if self.momentum != 0.0 else None

    def _hyper(self) -> dict[str, float]:
        hyper = dict(rescale_grad=self.rescale_grad, clip_gradient=fused_clip(self.clip_gradient))
        if self.momentum > 0:
            hyper["momentum"] = self.momentum
        return hyper

    def _step(self, indices, weights, grads, states, lrs, wds) -> None:
        hyper = self._hyper()
        plain = {k: v for k, v in hyper.items() if k != "momentum"}
        for w, g, mom, lr, wd in zip(weights, grads, states, lrs, wds):
            if mom is not None:
                nag_mom_update(w, g, mom, lr=lr, wd=wd, **hyper)
            else:
                sgd_update(w, g, lr=lr, wd=wd, **plain)

    def _step_multi_precision(self, indices, weights, grads, states, lrs, wds) -> None:
        hyper = self._hyper()
        plain = {k: v for k, v in hyper.items() if k != "momentum"}
        for w, g, (mom, master), lr, wd in zip(weights, grads, states, lrs, wds):
            if mom is not None:
                mp_nag_mom_update(w, g, mom, master, lr=lr, wd=wd, **hyper)
            else:
                mp_sgd_update(w, g, master, lr=lr, wd=wd, **plain)
