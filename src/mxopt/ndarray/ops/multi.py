r"""Multi-tensor update operators with MXNet's calling convention.

MXNet 1.9.1 applies one update rule to many tensors in a single call. The tensors are
passed flat, one group per weight, and per-weight learning rates and weight decays come
as tuples (``multi_*``) or as trailing float32 tensors (``preloaded_multi_*``):

============================================  ===============================================
operator                                       ``*data`` per weight (then ``lrs, wds`` tensors)
============================================  ===============================================
``multi_sgd_update``                           ``w, g``
``multi_sgd_mom_update``                       ``w, g, mom``
``multi_mp_sgd_update``                        ``w, g, w32``
``multi_mp_sgd_mom_update``                    ``w, g, mom, w32``
``preloaded_multi_sgd_update``                 ``w, g``             + ``lrs, wds``
``preloaded_multi_sgd_mom_update``             ``w, g, mom``        + ``lrs, wds``
``preloaded_multi_mp_sgd_update``              ``w, g, w32``        + ``lrs, wds``
``preloaded_multi_mp_sgd_mom_update``          ``w, g, mom, w32``   + ``lrs, wds``
============================================  ===============================================

Each applies MXNet's multi-SGD kernel rule (:func:`multi_sgd_rule`) to every weight in
turn; it equals ``sgd_update``/``sgd_mom_update`` up to rounding (the kernels group the
weight decay differently). New weights
go to ``out`` (a list, usually the weights themselves) or to new tensors; momenta and
master copies are updated in place. Everything is checked before anything is written.

``multi_sum_sq`` and ``multi_lars`` compute LARS's layer-wise learning rates:

.. math::

    s_i = \sum_j x_{ij}^2, \qquad
    \eta_i' = \begin{cases}
        \eta_i\,\mathrm{eta}\,\sqrt{s^w_i} / (r\sqrt{s^g_i} + \lambda_i\sqrt{s^w_i} + \epsilon)
            & s^w_i > 0,\ s^g_i > 0\\
        \eta_i & \text{else}\end{cases}
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

from ._common import clip_, f32, in_dtype, prepare

__all__ = [
    "multi_sgd_update",
    "multi_sgd_mom_update",
    "multi_mp_sgd_update",
    "multi_mp_sgd_mom_update",
    "preloaded_multi_sgd_update",
    "preloaded_multi_sgd_mom_update",
    "preloaded_multi_mp_sgd_update",
    "preloaded_multi_mp_sgd_mom_update",
    "multi_sum_sq",
    "multi_lars",
    "sum_sq_f32",
    "multi_sgd_rule",
]

# Up to this many float64 elements, sums of squares follow MXNet's float32 running sum
# exactly (a Python loop); above it, a float64 sum rounded once (more accurate).
_EXACT_F64_LIMIT = 1 << 16


def sum_sq_f32(x: torch.Tensor) -> float:
    """:math:`\\sum x^2` as MXNet's CPU ``multi_sum_sq`` computes it: products in ``x``'s
    dtype, added one element at a time into a float32 accumulator."""
    flat = x.detach().reshape(-1)
    if flat.is_sparse:
        flat = flat.to_dense()
    if flat.dtype == torch.float64:
        prods = (flat * flat).cpu().numpy()
        if prods.size > _EXACT_F64_LIMIT:
            return float(np.float32(prods.sum()))
        acc = np.float32(0.0)
        for p in prods.tolist():
            acc = np.float32(float(acc) + p)
        return float(acc)
    prods = (flat * flat).to(torch.float32).cpu().numpy()  # product rounded to x's dtype
    if prods.size == 0:
        return 0.0
    return float(np.add.accumulate(prods, dtype=np.float32)[-1])


# ------------------------------------------------------------------ helpers
def _groups(op: str, data: Sequence[torch.Tensor], stride: int, num_weights: int, extra: int):
    if isinstance(num_weights, bool) or not isinstance(num_weights, int) or num_weights < 1:
        raise ValueError(f"{op}: num_weights must be an int >= 1, got {num_weights!r}")
    expected = stride * num_weights + extra
    if len(data) != expected:
        raise ValueError(
            f"{op}: expected {expected} input tensors ({stride} per weight x num_weights="
            f"{num_weights}" + (f" + {extra}" if extra else "") + f"), got {len(data)}"
        )
    return [tuple(data[i * stride : (i + 1) * stride]) for i in range(num_weights)]


def _per_weight(op: str, name: str, values, n: int) -> list[float]:
    if isinstance(values, torch.Tensor):
        values = values.detach().reshape(-1).tolist()
    if not isinstance(values, (list, tuple)) or len(values) != n:
        raise ValueError(f"{op}: {name} must hold one value per weight ({n}), got {values!r}")
    for v in values:
        if isinstance(v, bool) or not isinstance(v, (int, float)):
            raise TypeError(f"{op}: {name} must hold numbers, got {v!r}")
    return [float(v) for v in values]


def _outs(op: str, out, weights: list[torch.Tensor]) -> list[torch.Tensor] | None:
    if out is None:
        return None
    outs = list(out) if isinstance(out, (list, tuple)) else [out]
    if len(outs) != len(weights):
        raise ValueError(f"{op}: out must hold {len(weights)} tensors, got {len(outs)}")
    for o, w in zip(outs, weights):
        if not isinstance(o, torch.Tensor) or o.shape != w.shape or o.dtype != w.dtype:
            raise ValueError(f"{op}: each out tensor must match its weight's shape and dtype")
    return outs


def _check(op: str, groups, momentum: bool, master: bool) -> None:
    for grp in groups:
        w, g = grp[0], grp[1]
        states = {"mom": grp[2]} if momentum else {}
        if master:
            w32 = grp[-1]
            prepare(op, w, g, None)
            if not isinstance(w32, torch.Tensor) or w32.dtype != torch.float32:
                raise ValueError(f"{op}: weight32 must be a float32 tensor (the master copy)")
            prepare(op, w32, g.float(), None, states, torch.float32)
        else:
            prepare(op, w, g, None, states)


def multi_sgd_rule(w, g, mom, *, lr, lr_wd, momentum, rescale_grad, clip_gradient) -> None:
    """One tensor of MXNet's multi-SGD kernel, in place on ``w`` (and ``mom``).

    ``m = momentum*m - lr_wd*w - lr*clip(r*g)`` (``(lr*r)*g`` without clipping), then
    ``w += m``; without a momentum tensor ``m`` starts at 0 and is not kept. ``lr_wd`` is
    the product ``lr*wd`` as the kernel forms it (in the compute type for ``multi_*``, in
    float32 for ``preloaded_multi_*``, whose rates are float32 tensors)."""
    if clip_gradient >= 0:
        step = clip_(g * rescale_grad, clip_gradient).mul_(lr)
    else:
        step = g * in_dtype(lr * rescale_grad, w.dtype)
    if mom is None:
        w.add_((w * -lr_wd).sub_(step))
    else:
        mom.mul_(momentum).sub_(w * lr_wd).sub_(step)
        w.add_(mom)


def _run(
    op, data, lrs, wds, num_weights, out, *, stride, momentum, master, extra, hyper, preloaded=False
):
    groups = _groups(op, data, stride, num_weights, extra)
    lrs = _per_weight(op, "lrs", lrs, num_weights)
    wds = _per_weight(op, "wds", wds, num_weights)
    weights = [grp[0] for grp in groups]
    outs = _outs(op, out, weights)
    _check(op, groups, momentum, master)
    if outs is None:
        outs = [torch.empty_like(w) for w in weights]
    kw = dict(
        momentum=f32(hyper["momentum"]),
        rescale_grad=f32(hyper["rescale_grad"]),
        clip_gradient=f32(hyper["clip_gradient"]),
    )
    for grp, o, lr, wd in zip(groups, outs, lrs, wds):
        w, g = grp[0], grp[1]
        g = g.to_dense() if g.is_sparse else g
        target = grp[-1] if master else o
        lr, wd = f32(lr), f32(wd)
        lr_wd = f32(lr * wd) if preloaded else in_dtype(lr * wd, target.dtype)
        if not master and o is not w:
            o.copy_(w)
        multi_sgd_rule(
            target, g.to(target.dtype), grp[2] if momentum else None, lr=lr, lr_wd=lr_wd, **kw
        )
        if master:
            o.copy_(target)
    if out is not None:
        return out
    return outs if num_weights > 1 else outs[0]


def _hyper(momentum, rescale_grad, clip_gradient) -> dict[str, float]:
    return dict(momentum=momentum, rescale_grad=rescale_grad, clip_gradient=clip_gradient)


# ------------------------------------------------------------- tuple forms
def multi_sgd_update(
    *data: torch.Tensor,
    lrs: Sequence[float],
    wds: Sequence[float],
    rescale_grad: float = 1.0,
    clip_gradient: float = -1.0,
    num_weights: int = 1,
    out=None,
):
    """Plain SGD for ``num_weights`` weights: ``data = (w0, g0, w1, g1, ...)``.

    >>> import torch, mxopt as mx
    >>> w0, w1 = torch.ones(2), torch.ones(3)
    >>> _ = mx.nd.multi_sgd_update(w0, torch.ones(2), w1, torch.ones(3), lrs=(0.1, 0.2),
    ...                            wds=(0.0, 0.0), num_weights=2, out=[w0, w1])
    >>> w0, w1
    (tensor([0.9000, 0.9000]), tensor([0.8000, 0.8000, 0.8000]))
    """
    return _run(
        "multi_sgd_update",
        data,
        lrs,
        wds,
        num_weights,
        out,
        stride=2,
        momentum=False,
        master=False,
        extra=0,
        hyper=_hyper(0.0, rescale_grad, clip_gradient),
    )


def multi_sgd_mom_update(
    *data: torch.Tensor,
    lrs: Sequence[float],
    wds: Sequence[float],
    momentum: float = 0.0,
    rescale_grad: float = 1.0,
    clip_gradient: float = -1.0,
    num_weights: int = 1,
    out=None,
):
    """Momentum SGD for ``num_weights`` weights: ``data = (w0, g0, mom0, w1, ...)``."""
    return _run(
        "multi_sgd_mom_update",
        data,
        lrs,
        wds,
        num_weights,
        out,
        stride=3,
        momentum=True,
        master=False,
        extra=0,
        hyper=_hyper(momentum, rescale_grad, clip_gradient),
    )


def multi_mp_sgd_update(
    *data: torch.Tensor,
    lrs: Sequence[float],
    wds: Sequence[float],
    rescale_grad: float = 1.0,
    clip_gradient: float = -1.0,
    num_weights: int = 1,
    out=None,
):
    """Plain SGD on float32 master copies: ``data = (w0, g0, w32_0, w1, ...)``."""
    return _run(
        "multi_mp_sgd_update",
        data,
        lrs,
        wds,
        num_weights,
        out,
        stride=3,
        momentum=False,
        master=True,
        extra=0,
        hyper=_hyper(0.0, rescale_grad, clip_gradient),
    )


def multi_mp_sgd_mom_update(
    *data: torch.Tensor,
    lrs: Sequence[float],
    wds: Sequence[float],
    momentum: float = 0.0,
    rescale_grad: float = 1.0,
    clip_gradient: float = -1.0,
    num_weights: int = 1,
    out=None,
):
    """Momentum SGD on float32 master copies: ``data = (w0, g0, mom0, w32_0, w1, ...)``."""
    return _run(
        "multi_mp_sgd_mom_update",
        data,
        lrs,
        wds,
        num_weights,
        out,
        stride=4,
        momentum=True,
        master=True,
        extra=0,
        hyper=_hyper(momentum, rescale_grad, clip_gradient),
    )


# ---------------------------------------------------------- preloaded forms
def _split_preloaded(op: str, data):
    if len(data) < 2:
        raise ValueError(f"{op}: data must end with the lrs and wds tensors")
    lrs, wds = data[-2], data[-1]
    for name, t in (("lrs", lrs), ("wds", wds)):
        if not isinstance(t, torch.Tensor):
            raise TypeError(f"{op}: the last two inputs must be the {name} tensors")
    return data[:-2], lrs, wds


def preloaded_multi_sgd_update(
    *data: torch.Tensor,
    rescale_grad: float = 1.0,
    clip_gradient: float = -1.0,
    num_weights: int = 1,
    out=None,
):
    """Plain SGD with per-weight rates in tensors: ``data = (w0, g0, ..., lrs, wds)``.

    >>> import torch, mxopt as mx
    >>> w = torch.ones(2)
    >>> mx.nd.preloaded_multi_sgd_update(w, torch.ones(2), torch.tensor([0.5]),
    ...                                  torch.tensor([0.0]), out=[w])[0]
    tensor([0.5000, 0.5000])
    """
    op = "preloaded_multi_sgd_update"
    body, lrs, wds = _split_preloaded(op, data)
    return _run(
        op,
        body,
        lrs,
        wds,
        num_weights,
        out,
        stride=2,
        momentum=False,
        master=False,
        extra=0,
        preloaded=True,
        hyper=_hyper(0.0, rescale_grad, clip_gradient),
    )


def preloaded_multi_sgd_mom_update(
    *data: torch.Tensor,
    momentum: float = 0.0,
    rescale_grad: float = 1.0,
    clip_gradient: float = -1.0,
    num_weights: int = 1,
    out=None,
):
    """Momentum SGD, rates in tensors: ``data = (w0, g0, mom0, ..., lrs, wds)``."""
    op = "preloaded_multi_sgd_mom_update"
    body, lrs, wds = _split_preloaded(op, data)
    return _run(
        op,
        body,
        lrs,
        wds,
        num_weights,
        out,
        stride=3,
        momentum=True,
        master=False,
        extra=0,
        preloaded=True,
        hyper=_hyper(momentum, rescale_grad, clip_gradient),
    )


def preloaded_multi_mp_sgd_update(
    *data: torch.Tensor,
    rescale_grad: float = 1.0,
    clip_gradient: float = -1.0,
    num_weights: int = 1,
    out=None,
):
    """Plain SGD on master copies, rates in tensors: ``(w0, g0, w32_0, ..., lrs, wds)``."""
    op = "preloaded_multi_mp_sgd_update"
    body, lrs, wds = _split_preloaded(op, data)
    return _run(
        op,
        body,
        lrs,
        wds,
        num_weights,
        out,
        stride=3,
        momentum=False,
        master=True,
        extra=0,
        preloaded=True,
        hyper=_hyper(0.0, rescale_grad, clip_gradient),
    )


def preloaded_multi_mp_sgd_mom_update(
    *data: torch.Tensor,
    momentum: float = 0.0,
    rescale_grad: float = 1.0,
    clip_gradient: float = -1.0,
    num_weights: int = 1,
    out=None,
):
    """Momentum SGD on master copies: ``(w0, g0, mom0, w32_0, ..., lrs, wds)``."""
    op = "preloaded_multi_mp_sgd_mom_update"
    body, lrs, wds = _split_preloaded(op, data)
    return _run(
        op,
        body,
        lrs,
        wds,
        num_weights,
        out,
        stride=4,
        momentum=True,
        master=True,
        extra=0,
        preloaded=True,
        hyper=_hyper(momentum, rescale_grad, clip_gradient),
    )


# -------------------------------------------------------------- LARS helpers
def multi_sum_sq(*data: torch.Tensor, num_arrays: int = 1, out=None) -> torch.Tensor:
    """Sum of squares of each array, as a float32 tensor of shape ``(num_arrays,)``.

    >>> import torch, mxopt as mx
    >>> mx.nd.multi_sum_sq(torch.tensor([3.0, 4.0]), torch.ones(3), num_arrays=2)
    tensor([25.,  3.])
    """
    op = "multi_sum_sq"
    if isinstance(num_arrays, bool) or not isinstance(num_arrays, int) or num_arrays < 1:
        raise ValueError(f"{op}: num_arrays must be an int >= 1, got {num_arrays!r}")
    if len(data) != num_arrays:
        raise ValueError(f"{op}: expected num_arrays={num_arrays} arrays, got {len(data)}")
    for i, x in enumerate(data):
        if not isinstance(x, torch.Tensor) or not x.is_floating_point():
            raise TypeError(f"{op}: array {i} must be a floating-point torch.Tensor")
    device = data[0].device
    if out is not None and (not isinstance(out, torch.Tensor) or out.shape != (num_arrays,)):
        raise ValueError(f"{op}: out must be a tensor of shape ({num_arrays},)")
    result = torch.tensor([sum_sq_f32(x) for x in data], dtype=torch.float32, device=device)
    return result if out is None else out.copy_(result)


def multi_lars(
    lrs: torch.Tensor,
    weights_sum_sq: torch.Tensor,
    grads_sum_sq: torch.Tensor,
    wds: torch.Tensor,
    eta: float,
    eps: float,
    rescale_grad: float = 1.0,
    out: torch.Tensor | None = None,
) -> torch.Tensor:
    """Layer-wise LARS learning rates from sums of squares (all float32, shape ``(n,)``).

    >>> import torch, mxopt as mx
    >>> mx.nd.multi_lars(torch.tensor([0.1]), torch.tensor([4.0]), torch.tensor([1.0]),
    ...                  torch.tensor([0.0]), eta=0.5, eps=0.0)
    tensor([0.1000])
    """
    op = "multi_lars"
    named = {"lrs": lrs, "weights_sum_sq": weights_sum_sq, "grads_sum_sq": grads_sum_sq, "wds": wds}
    for name, t in named.items():
        if not isinstance(t, torch.Tensor) or t.dtype != torch.float32:
            raise TypeError(f"{op}: {name} must be a float32 tensor")
        if t.shape != lrs.shape:
            raise ValueError(f"{op}: {name} must have the shape of lrs {tuple(lrs.shape)}")
    if out is not None and (not isinstance(out, torch.Tensor) or out.shape != lrs.shape):
        raise ValueError(f"{op}: out must have the shape of lrs")
    eta32, eps32, r32 = (np.float32(f32(v)) for v in (eta, eps, rescale_grad))
    new = []
    for lr, ws, gs, wd in zip(
        *(t.detach().cpu().numpy().astype(np.float32) for t in named.values())
    ):
        w_norm = np.sqrt(ws)
        if w_norm > 0 and gs > 0:
            new.append(lr * eta32 * w_norm / (np.sqrt(gs) * r32 + wd * w_norm + eps32))
        else:
            new.append(lr)
    result = torch.tensor(np.array(new, dtype=np.float32), device=lrs.device).reshape(lrs.shape)
    return result if out is None else out.copy_(result)
