r"""Fused LARS: the layer-wise rates of ``multi_sum_sq`` + ``multi_lars`` and the
``preloaded_multi_sgd*`` update of :class:`~mxopt.optimizer.LARS`, in two passes.

Pass 1 (read-only over :math:`w, g`, only for parameters LARS scales) gives the sums of
squares :math:`s^w = \sum w^2`, :math:`s^g = \sum g^2`; then, per tensor, in float32 as
``multi_lars`` computes it,

.. math::

    \eta' = \begin{cases}
        \eta\,\mathrm{eta}\,\sqrt{s^w} / (r\sqrt{s^g} + \lambda\sqrt{s^w} + \epsilon)
            & s^w > 0,\ s^g > 0 \\
        \eta & \text{else}\end{cases}

and pass 2 is MXNet's multi-SGD kernel rule with that rate:

.. math::

    \text{plain:}\quad w \leftarrow w + (-\eta'\lambda\,w - \eta'\,\mathrm{clip}(r g))
    \qquad
    \text{momentum:}\quad m \leftarrow (\mu m - \eta'\lambda w) - \eta'\,\mathrm{clip}(r g),
    \ w \leftarrow w + m

28 bytes per parameter with momentum (pass 1 reads 8, pass 2 moves 20).

Norms: float32 and float16/bfloat16 (float32 master copies) buckets take the sums from
pass 1, accumulated in double, so they are *more* accurate than the reference's
element-by-element float32 running sum (MXNet's CPU ``multi_sum_sq``) and differ from it
by float32 rounding. float64 weights keep the reference's emulation of that running sum
exactly (:func:`~mxopt.ndarray.ops.multi.sum_sq_f32`): in float64 the float32 rounding
of the norm is the dominant difference from exact arithmetic, which a parallel pass
cannot reproduce, and the float64 golden fixtures from MXNet check it to 1e-11.

Row-sparse gradients stay on the reference path: it takes LARS's per-parameter path for
them (norms of the whole tensors, ``sgd_update`` with ``lazy_update``).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

from ...ndarray.ops._common import f32, in_dtype
from ...ndarray.ops.multi import sum_sq_f32
from .codegen import Kernel
from .engine import FusedRule, Item, launch, optional_state, register_rule
from .sgd import SCALED_STEP

__all__ = ["LARS_NORMS", "LARS_SGD", "LARS_SGD_MOM", "RULE"]

LARS_NORMS = Kernel(
    "lars_norms",
    states=(),
    scalars=(),
    body="acc_w2 += w * w;\nacc_g2 += g * g;",
    sums=("w2", "g2"),
    writes_weight=False,
    variants=("f32", "f16", "bf16"),  # float64 keeps the reference's sums (see above)
)

# MXNet's multi-SGD kernel: lr * clip(r * g) when clipping, else (lr * r) * g; the
# weight-decay product is rounded on its own (no fused multiply-add).

LARS_SGD = Kernel(
    "lars_sgd",
    states=(),
    scalars=("lr", "lr_rescale", "lr_wd", "rescale", "clip"),
    body=SCALED_STEP + "\nw = w + (w * -lr_wd - step);",
)
LARS_SGD_MOM = Kernel(
    "lars_sgd_mom",
    states=("mom",),
    scalars=("lr", "lr_rescale", "lr_wd", "rescale", "clip", "momentum"),
    body=SCALED_STEP + "\nmom = (mom * momentum - w * lr_wd) - step;\nw = w + mom;",
)


def _applies(opt) -> bool:
    from ..lars import LARS

    cls = type(opt)
    return (
        isinstance(opt, LARS)
        and cls._step is LARS._step
        and cls._step_multi_precision is LARS._step_multi_precision
        and cls._layer_lrs is LARS._layer_lrs
        and cls._preloaded_step is LARS._preloaded_step
    )


def _sums_of_squares(items: Sequence[Item], variant: str) -> list[tuple[float, float]]:
    """``(sum w^2, sum g^2)`` per item, as the float32 values ``multi_lars`` receives."""
    if variant == "f64":  # the reference's exact float32 running sum (see the docstring)
        return [(sum_sq_f32(it.w), sum_sq_f32(it.g)) for it in items]
    sums = launch(LARS_NORMS, variant, items, [()] * len(items))
    assert sums is not None
    return [(f32(w2), f32(g2)) for w2, g2 in sums.tolist()]


def _layer_lrs(opt, items: Sequence[Item], variant: str) -> list[float]:
    """Every item's float32 learning rate after the LARS scaling (``multi_lars``)."""
    lrs = [f32(it.lr) for it in items]
    picked = [k for k, it in enumerate(items) if opt._uses_lars(it.index)]
    if not picked:
        return lrs
    sq = np.array(_sums_of_squares([items[k] for k in picked], variant), dtype=np.float32)
    lr = np.array([lrs[k] for k in picked], dtype=np.float32)
    wd = np.array([items[k].wd for k in picked], dtype=np.float32)
    eta, eps, r = (np.float32(f32(v)) for v in (opt.eta, opt.eps, opt.rescale_grad))
    w_norm, g_norm = np.sqrt(sq[:, 0]), np.sqrt(sq[:, 1])
    with np.errstate(all="ignore"):  # only the selected entries matter
        scaled = lr * eta * w_norm / (g_norm * r + wd * w_norm + eps)
    new = np.where((w_norm > 0) & (sq[:, 1] > 0), scaled, lr)
    for k, value in zip(picked, new.tolist()):
        lrs[k] = value
    return lrs


def _run(opt, items: list[Item], ctype: torch.dtype, variant: str) -> None:
    lrs = _layer_lrs(opt, items, variant)
    hyper = opt._hyper()
    r, clip = f32(hyper["rescale_grad"]), f32(hyper["clip_gradient"])
    momentum = f32(hyper.get("momentum", 0.0))
    plain: tuple[list[Item], list[tuple[float, ...]]] = ([], [])
    moms: tuple[list[Item], list[tuple[float, ...]]] = ([], [])
    for item, lr in zip(items, lrs):
        # ``preloaded_multi_sgd*``: float32 rate tensors, so lr * wd is a float32 product
        scalars = (lr, in_dtype(lr * r, ctype), f32(lr * f32(item.wd)), r, clip)
        group = moms if item.states else plain
        group[0].append(item)
        group[1].append(scalars + (momentum,) if item.states else scalars)
    for kernel, (group_items, scalars) in ((LARS_SGD, plain), (LARS_SGD_MOM, moms)):
        if group_items:
            launch(kernel, variant, group_items, scalars)


RULE = FusedRule(
    applies=_applies,
    states_of=optional_state,
    kernels=(LARS_NORMS, LARS_SGD, LARS_SGD_MOM),
    run=_run,
)
register_rule("lars", RULE)
