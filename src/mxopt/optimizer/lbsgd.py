r"""Large-batch SGD (MXNet's ``lbsgd``): gradient accumulation plus a warmup multiplier."""

from __future__ import annotations

import logging
import math

import torch

from ..ndarray.ops.sgd import sgd_mom_update, sgd_update
from ._checks import check_range
from ._common import fused_clip, zeros_like
from .optimizer import Optimizer, register

__all__ = ["LBSGD"]

_STRATEGIES = ("linear", "power2", "sqrt", "lars")


@register
class LBSGD(Optimizer):
    r"""Large-batch SGD: emulates a batch ``batch_scale`` times larger by averaging that
    many gradients per parameter, and warms the learning rate up towards ``batch_scale``.

    Each parameter counts its calls :math:`n`, starting at
    ``begin_epoch * updates_per_epoch + 1``. Every call adds the gradient to the
    parameter's running sum; when :math:`n` is a multiple of :math:`M` = ``batch_scale``
    the average :math:`\tilde g` is applied with :class:`SGD`'s kernels (plain, or momentum
    when ``momentum > 0``) at the rate :math:`\eta\cdot\mathrm{mult}(n)` and the sum is
    reset; other calls leave the weight unchanged. With :math:`N` =
    ``warmup_epochs * updates_per_epoch``:

    .. math::

        \mathrm{mult}(n) = \begin{cases}
            M & n \ge N \\ 1 & N \le 1 \\
            1 + (M-1)\,n/N & \text{linear} \\
            1 + (M-1)\,n^2/N^2 & \text{power2} \\
            1 + (M-1)\sqrt{n/N} & \text{sqrt} \\
            1 & \text{any other strategy}
        \end{cases}
        \qquad
        \mathrm{mult}_{\mathrm{lars}} = \mathrm{clamp}\Big(\sqrt{\tfrac{\sum w^2}
            {\sum\tilde g^2 + \lambda\sum w^2 + 10^{-18}}},\ 0.01,\ 100\Big)

    (``'lars'`` uses the second form at every update, regardless of :math:`n`.) As in
    MXNet the learning rate is read *before* the update is counted, so a scheduler sees
    ``num_update`` of the previous call.

    Differences from MXNet: MXNet keeps the first gradient of a parameter by reference, so
    a gradient buffer reused before the accumulation completes corrupts the average;
    mxopt copies it. Lists of parameters are updated as if one at a time.

    Parameters
    ----------
    momentum : float, default 0.0
    warmup_strategy : str, default 'linear'
        ``'linear'``, ``'power2'``, ``'sqrt'`` or ``'lars'``; any other string gives a
        multiplier of 1, as in MXNet.
    warmup_epochs : int, default 5
    batch_scale : int, default 1
    updates_per_epoch : int, default 32
    begin_epoch : int, default 0
    num_epochs : int, default 60
        Stored, unused (as in MXNet).

    {common_args}

    Multi-precision uses the generic float32 master copy: state ``(w32, momentum or None)``.

    Example
    -------
    >>> import torch, mxopt as mx
    >>> opt = mx.optimizer.LBSGD(learning_rate=0.1, batch_scale=2, warmup_epochs=1,
    ...                          updates_per_epoch=2)
    >>> updater = mx.optimizer.get_updater(opt)
    >>> w = torch.tensor([1.0, -2.0])
    >>> updater(0, torch.tensor([0.5, 0.5]), w)   # accumulates only
    >>> updater(0, torch.tensor([1.5, 1.5]), w)   # mean grad 1.0, lr 0.1 * 2
    >>> w
    tensor([ 0.8000, -2.2000])
    """

    # LBSGD reads the learning rate before counting the update: it counts in ``_step``.
    _counts_updates = False
    _batch_safe = True  # _step takes a list one parameter at a time (rate, then count)
    _fused_rule = "lbsgd"  # fast path: optimizer/fused/lbsgd.py

    def __init__(
        self,
        momentum: float = 0.0,
        multi_precision: bool = False,
        warmup_strategy: str = "linear",
        warmup_epochs: int = 5,
        batch_scale: int = 1,
        updates_per_epoch: int = 32,
        begin_epoch: int = 0,
        num_epochs: int = 60,
        **kwargs,
    ) -> None:
        super().__init__(multi_precision=multi_precision, **kwargs)
        check_range("momentum", momentum, 0.0, 1.0)
        if not isinstance(warmup_strategy, str):
            raise TypeError(f"warmup_strategy must be a str, got {warmup_strategy!r}")
        for name, value, low in (
            ("warmup_epochs", warmup_epochs, 0),
            ("batch_scale", batch_scale, 1),
            ("updates_per_epoch", updates_per_epoch, 0),
            ("begin_epoch", begin_epoch, 0),
            ("num_epochs", num_epochs, 0),
        ):
            if isinstance(value, bool) or not isinstance(value, int) or value < low:
                raise ValueError(f"{name} must be an int >= {low}, got {value!r}")
        logging.info("Running Large-Batch SGD Algorithm")
        logging.info(
            "(Batch_scale=%f, warmup_epochs=%d, warmup_strategy=%s, updates_per_epoch=%d)",
            batch_scale, warmup_epochs, warmup_strategy, updates_per_epoch,
        )  # fmt: skip
        self.momentum = momentum
        self.warmup_strategy = warmup_strategy
        self.warmup_epochs = warmup_epochs
        self.batch_scale = batch_scale
        self.updates_per_epoch = updates_per_epoch
        self.init_updates = begin_epoch * updates_per_epoch
        self.num_epochs = num_epochs
        # per index: the running gradient sum (None right after an update) and the count
        self.cum_grads: dict = {}
        self.num_cums: dict = {}

    _low_precision_warning_name = "SGD optimizer"

    def create_state(self, index, weight: torch.Tensor):
        return zeros_like(weight) if self.momentum != 0.0 else None

    def _get_lbmult(self, nup: int) -> float:
        """The warmup multiplier for call count ``nup`` (strategies other than 'lars')."""
        nwup = self.warmup_epochs * self.updates_per_epoch
        maxmult = float(self.batch_scale)
        if nup >= nwup:
            return maxmult
        if nwup <= 1:
            return 1.0
        if self.warmup_strategy == "linear":
            return 1.0 + (maxmult - 1) * nup / nwup
        if self.warmup_strategy == "power2":
            return 1.0 + (maxmult - 1) * (nup * nup) / (nwup * nwup)
        if self.warmup_strategy == "sqrt":
            return 1.0 + (maxmult - 1) * math.sqrt(float(nup) / nwup)
        return 1.0

    @staticmethod
    def _get_lars(weight: torch.Tensor, grad: torch.Tensor, wd: float) -> float:
        """``sqrt(Σw² / (Σg² + wd·Σw² + 1e-18))`` clamped to [0.01, 100] (float32 sums)."""
        acc = torch.float64 if weight.dtype == torch.float64 else torch.float32
        w2 = float((weight * weight).sum(dtype=acc))
        g2 = float((grad * grad).sum(dtype=acc))
        lars = math.sqrt(w2 / (g2 + wd * w2 + 1e-18))
        return min(max(lars, 0.01), 100.0)

    def _step(self, indices, weights, grads, states, lrs, wds) -> None:
        for i, w, g, mom in zip(indices, weights, grads, states):
            # one parameter at a time, as MXNet: rate first, then the count
            lr, wd = self._get_lr(i), self._get_wd(i)
            self._update_count(i)
            dense = g.to_dense() if g.is_sparse else g
            previous = self.cum_grads.get(i)
            # a copy: MXNet keeps the first gradient of a parameter by reference
            total = dense.clone() if previous is None else previous + dense
            count = self.num_cums.get(i, self.init_updates) + 1
            self.num_cums[i] = count
            if count % self.batch_scale != 0:
                self.cum_grads[i] = total
                continue
            avg = total / self.batch_scale
            if self.warmup_strategy == "lars":
                mult = self._get_lars(w, avg, wd)
            else:
                mult = self._get_lbmult(count)
            hyper = dict(
                rescale_grad=self.rescale_grad, clip_gradient=fused_clip(self.clip_gradient)
            )
            if mom is not None:
                sgd_mom_update(w, avg, mom, lr=lr * mult, wd=wd, momentum=self.momentum, **hyper)
            else:
                sgd_update(w, avg, lr=lr * mult, wd=wd, **hyper)
            self.cum_grads[i] = None
