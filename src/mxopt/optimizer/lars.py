r"""LARS (MXNet's ``lars``): SGD with layer-wise adaptive learning rates."""

from __future__ import annotations

import torch

from ..ndarray.ops._common import f32
from ..ndarray.ops.multi import multi_lars, multi_sgd_rule, sum_sq_f32
from ..ndarray.ops.sgd import mp_sgd_mom_update, mp_sgd_update, sgd_mom_update, sgd_update
from ._checks import check_range
from ._common import fused_clip, zeros_like
from .optimizer import Optimizer, aggregation_size, register

__all__ = ["LARS"]

_NO_LARS_SUFFIXES = ("gamma", "beta", "bias")


@register
class LARS(Optimizer):
    r"""LARS (You et al., 2017, "Large Batch Training of Convolutional Networks").

    SGD (with momentum when ``momentum > 0``, exactly :class:`SGD`'s kernels) whose learning
    rate is scaled per parameter. For a parameter whose name (``param_idx2name``, else
    ``str(index)``) does not end in ``gamma``, ``beta`` or ``bias``:

    .. math::

        \eta \leftarrow \eta\cdot\frac{\mathrm{eta}\,\lVert w\rVert}
            {r\,\lVert g\rVert + \lambda\lVert w\rVert + \mathrm{eps}}
            \quad\text{if } \lVert w\rVert > 0 \text{ and } \lVert g\rVert > 0

    with float32 norms of the raw weight and gradient (clipping is not taken into account).
    With ``momentum_correction`` the momentum used is :math:`\mu\cdot lr_{cur}/lr_{last}`,
    where :math:`lr_{cur}` and :math:`lr_{last}` are the scheduler's rates at this and at
    the previous update call (ratio 1 at the first call, and whenever :math:`lr_{last}=0`).
    As in MXNet the ratio is per *call*: updating parameters one by one or as a list gives
    different momenta on the step where the rate changes.

    By default only names ending in ``_weight`` are decayed (MXNet's LARS rule; other
    optimizers also decay ``_gamma``). Dense gradients use MXNet's aggregated path
    (``multi_sum_sq`` + ``multi_lars`` + ``preloaded_multi_sgd*``); row-sparse ones the
    per-parameter path with ``lazy_update``.

    Parameters
    ----------
    momentum : float, default 0.0
    lazy_update : bool, default True
    eta : float, default 0.001
        The LARS coefficient.
    eps : float, default 0
    momentum_correction : bool, default True

    {common_args}

    Multi-precision keeps ``(momentum or None, float32 master weight)`` like :class:`SGD`;
    the norms use the master copy (MXNet uses the float16 weights).

    Example
    -------
    >>> import torch, mxopt as mx
    >>> opt = mx.optimizer.LARS(learning_rate=0.1, momentum=0.9, wd=0.1)
    >>> updater = mx.optimizer.get_updater(opt)
    >>> w = torch.tensor([1.0, -2.0])
    >>> updater(0, torch.tensor([0.5, 0.5]), w)
    >>> w
    tensor([ 0.9999, -2.0001])
    """

    def __init__(
        self,
        momentum: float = 0.0,
        lazy_update: bool = True,
        eta: float = 0.001,
        eps: float = 0,
        momentum_correction: bool = True,
        **kwargs,
    ) -> None:
        super().__init__(**kwargs)
        check_range("momentum", momentum, 0.0, 1.0)
        check_range("eta", eta, 0.0)
        check_range("eps", eps, 0.0)
        self.momentum = momentum
        self.lazy_update = bool(lazy_update)
        self.eta = eta
        self.eps = eps
        self.momentum_correction = bool(momentum_correction)
        self.aggregate_num = aggregation_size(4)
        self.last_lr: float | None = None
        self.cur_lr: float | None = None

    _fused_rule = "lars"  # fast path: optimizer/fused/lars.py
    _native_multi_precision = True
    _master_position = 1
    _low_precision_warning_name = "SGD optimizer"

    @staticmethod
    def _decays_by_name(name: str) -> bool:
        return name.endswith("_weight")

    def create_state(self, index, weight: torch.Tensor):
        return zeros_like(weight) if self.momentum != 0.0 else None

    def _get_lrs(self, indices):
        """As the base, also remembering this call's and the previous call's rate."""
        if self.cur_lr is not None:
            self.last_lr = self.cur_lr
        lr = self.lr_scheduler(self.num_update) if self.lr_scheduler is not None else self.lr
        if self.cur_lr is None:
            self.last_lr = lr
        self.cur_lr = lr
        return [lr * self._mult(i, self.lr_mult, "lr_mult") for i in indices]

    def _hyper(self) -> dict[str, float]:
        hyper = dict(rescale_grad=self.rescale_grad, clip_gradient=fused_clip(self.clip_gradient))
        if self.momentum > 0:
            corrected = self.momentum_correction and self.last_lr != 0
            hyper["momentum"] = (
                self.momentum * (self.cur_lr / self.last_lr) if corrected else self.momentum
            )
        return hyper

    def _uses_lars(self, index) -> bool:
        name = self.idx2name.get(index, str(index))
        return not name.endswith(_NO_LARS_SUFFIXES)

    def _layer_lrs(self, indices, norm_weights, grads, lrs, wds) -> list[float]:
        """Every parameter's learning rate after the LARS scaling."""
        if all(not g.is_sparse for g in grads):
            # MXNet's aggregated path: float32 sums of squares, then ``multi_lars``
            picked = [k for k, i in enumerate(indices) if self._uses_lars(i)]
            if not picked:
                return list(lrs)
            as32 = lambda vals: torch.tensor([vals[k] for k in picked], dtype=torch.float32)  # noqa: E731
            w_sq = torch.tensor([sum_sq_f32(norm_weights[k]) for k in picked])
            g_sq = torch.tensor([sum_sq_f32(grads[k]) for k in picked])
            scaled = multi_lars(as32(lrs), w_sq, g_sq, as32(wds), eta=self.eta, eps=self.eps,
                                rescale_grad=self.rescale_grad)  # fmt: skip
            out = list(lrs)
            for k, lr in zip(picked, scaled.tolist()):
                out[k] = lr
            return out
        # per-parameter path (row-sparse gradients): float32 norms, the ratio in double
        out = []
        for i, w, g, lr, wd in zip(indices, norm_weights, grads, lrs, wds):
            if not self._uses_lars(i):
                out.append(lr)
                continue
            w_norm = float(torch.linalg.vector_norm(w.float()))
            g32 = (g.to_dense() if g.is_sparse else g).float() * float(
                torch.tensor(self.rescale_grad, dtype=torch.float32)
            )
            g_norm = float(torch.linalg.vector_norm(g32))
            if w_norm > 0.0 and g_norm > 0.0:  # else the rate stays (no 0/0 with eps=0)
                lr = lr * (self.eta * w_norm / (g_norm + wd * w_norm + self.eps))
            out.append(lr)
        return out

    def _dense(self, grads) -> bool:
        return all(not g.is_sparse for g in grads)

    def _preloaded_step(self, w, g, mom, lr, wd, hyper) -> None:
        """MXNet's ``preloaded_multi_sgd*`` kernel for one tensor (float32 rate tensors)."""
        lr32 = f32(lr)
        multi_sgd_rule(w, g.to(w.dtype), mom, lr=lr32, lr_wd=f32(lr32 * f32(wd)),
                       momentum=f32(hyper.get("momentum", 0.0)),
                       rescale_grad=f32(hyper["rescale_grad"]),
                       clip_gradient=f32(hyper["clip_gradient"]))  # fmt: skip

    def _step(self, indices, weights, grads, states, lrs, wds) -> None:
        lrs = self._layer_lrs(indices, weights, grads, lrs, wds)
        hyper = self._hyper()
        plain = {k: v for k, v in hyper.items() if k != "momentum"}
        dense = self._dense(grads)
        for w, g, mom, lr, wd in zip(weights, grads, states, lrs, wds):
            if dense:
                self._preloaded_step(w, g, mom, lr, wd, hyper)
            elif mom is not None:
                sgd_mom_update(w, g, mom, lr=lr, wd=wd, lazy_update=self.lazy_update, **hyper)
            else:
                sgd_update(w, g, lr=lr, wd=wd, lazy_update=self.lazy_update, **plain)

    def _step_multi_precision(self, indices, weights, grads, states, lrs, wds) -> None:
        masters = [s[1] for s in states]
        # norms in float32 from the master copies and float32 gradients (MXNet takes them
        # from the float16 arrays)
        grads32 = [g.float() for g in grads]
        lrs = self._layer_lrs(indices, masters, grads32, lrs, wds)
        hyper = self._hyper()
        plain = {k: v for k, v in hyper.items() if k != "momentum"}
        dense = self._dense(grads)
        for w, g, (mom, master), lr, wd in zip(weights, grads, states, lrs, wds):
            if dense:
                self._preloaded_step(master, g, mom, lr, wd, hyper)
                w.copy_(master)
            elif mom is not None:
                mp_sgd_mom_update(w, g, mom, master, lr=lr, wd=wd, **hyper)
            else:
                mp_sgd_update(w, g, master, lr=lr, wd=wd, **plain)
