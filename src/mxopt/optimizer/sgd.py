r"""Stochastic gradient descent with optional momentum (MXNet's ``sgd``; ``ccsgd`` alias)."""

from __future__ import annotations

import warnings

import torch

from ..ndarray.ops.sgd import mp_sgd_mom_update, mp_sgd_update, sgd_mom_update, sgd_update
from ._checks import check_range
from ._common import fused_clip, zeros_like
from .optimizer import Optimizer, aggregation_size, register

__all__ = ["SGD", "ccSGD"]


@register
class SGD(Optimizer):
    r"""SGD, with momentum when ``momentum > 0``.

    With :math:`\eta` the per-parameter learning rate, :math:`\lambda` the per-parameter
    weight decay, :math:`r` = ``rescale_grad``:

    .. math::

        \text{momentum} = 0:\quad w &\leftarrow (1-\eta\lambda)\,w - \eta\,\mathrm{clip}(r g)\\
        \text{momentum} = \mu > 0:\quad m &\leftarrow \mu m - \eta\lambda w
            - \eta\,\mathrm{clip}(r g), \qquad w \leftarrow w + m

    The momentum state holds the signed step (:math:`\eta` is inside it), unlike
    ``torch.optim.SGD``. With a row-sparse gradient and ``lazy_update=True`` only the
    rows present in the gradient change (weight decay and momentum included).

    Parameters
    ----------
    momentum : float, default 0.0
        In ``[0, 1]``.
    lazy_update : bool, default True
        Update only the rows of a row-sparse gradient.

    {common_args}

    Multi-precision keeps the state ``(momentum or None, float32 master weight)``.

    Example
    -------
    >>> import torch, mxopt as mx
    >>> opt = mx.optimizer.SGD(learning_rate=0.1, momentum=0.9, wd=0.1)
    >>> updater = mx.optimizer.get_updater(opt)
    >>> w = torch.tensor([1.0, -2.0])
    >>> updater(0, torch.tensor([0.5, 0.5]), w)
    >>> w
    tensor([ 0.9400, -2.0300])
    """

    def __init__(self, momentum: float = 0.0, lazy_update: bool = True, **kwargs) -> None:
        super().__init__(**kwargs)
        check_range("momentum", momentum, 0.0, 1.0)
        self.momentum = momentum
        self.lazy_update = bool(lazy_update)
        self.aggregate_num = aggregation_size(4)

    def create_state(self, index, weight: torch.Tensor):
        return zeros_like(weight) if self.momentum != 0.0 else None

    _fused_rule = "sgd"  # fast path: optimizer/fused/sgd.py
    _native_multi_precision = True
    _master_position = 1  # state is (momentum or None, float32 master copy)
    _low_precision_warning_name = "SGD optimizer"

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
                sgd_mom_update(w, g, mom, lr=lr, wd=wd, lazy_update=self.lazy_update, **hyper)
            else:
                sgd_update(w, g, lr=lr, wd=wd, lazy_update=self.lazy_update, **plain)

    def _step_multi_precision(self, indices, weights, grads, states, lrs, wds) -> None:
        hyper = self._hyper()
        plain = {k: v for k, v in hyper.items() if k != "momentum"}
        for w, g, (mom, master), lr, wd in zip(weights, grads, states, lrs, wds):
            if mom is not None:
                mp_sgd_mom_update(w, g, mom, master, lr=lr, wd=wd, **hyper)
            else:
                mp_sgd_update(w, g, master, lr=lr, wd=wd, **plain)


@register
class ccSGD(SGD):  # noqa: N801 (MXNet's name)
    """Deprecated alias of :class:`SGD` (MXNet's ``ccsgd``)."""

    def __init__(self, *args, **kwargs) -> None:
        warnings.warn("ccSGD is deprecated. Use SGD instead.", DeprecationWarning, stacklevel=2)
        super().__init__(*args, **kwargs)
