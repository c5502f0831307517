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

from ...ndarray.ops._common import f32, in_dtype_all
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


def _sums_of_squares(items: Sequence[Item], variant: str) -> np.ndarray:
    """``(sum w^2, sum g^2)`` per item, as the float32 values ``multi_lars`` receives."""
    if variant == "f64":  # the reference's exact float32 running sum (see the docstring)
        return np.array([(sum_sq_f32(it.w), sum_sq_f32(it.g)) for it in items], np.float32)
    sums = launch(LARS_NORMS, variant, items, [()] * len(items))
    assert sums is not None
    return sums.numpy().astype(np.float32)  # (round to nearest, as f32())


def _layer_lrs(opt, items: Sequence[Item], variant: str) -> np.ndarray:
    """Every item's float32 learning rate after the LARS scaling (``multi_lars``)."""
    lrs = np.array([it.lr for it in items], dtype=np.float32)
    picked = np.flatnonzero([opt._uses_lars(it.index) for it in items])
    if not picked.size:
        return lrs
    chosen = [items[k] for k in picked]
    sq = _sums_of_squares(chosen, variant)
    lr = lrs[picked]
    wd = np.array([it.wd for it in chosen], dtype=np.float32)
    eta, eps, r = (np.float32(f32(v)) for v in (opt.eta, opt.eps, opt.rescale_grad))
    w_norm, g_norm = np.sqrt(sq[:, 0]), np.sqrt(sq[:, 1])
    with np.errstate(all="ignore"):  # only the selected entries matter
        scaled = lr * eta * w_norm / (g_norm * r + wd * w_norm + eps)
    lrs[picked] = np.where((w_norm > 0) & (sq[:, 1] > 0), scaled, lr)
    return lrs


def _run(opt, items: list[Item], ctype: torch.dtype, variant: str) -> None:
    """The scalars of all items at once, with ``preloaded_multi_sgd*``'s roundings: float32
    rate tensors, so ``lr * wd`` is a float32 product and ``lr * rescale`` is rounded to
    the weight's type (the same IEEE operations as per-item Python floats)."""
    hyper = opt._hyper()
    r, clip = f32(hyper["rescale_grad"]), f32(hyper["clip_gradient"])
    lr = _layer_lrs(opt, items, variant).astype(np.float64)
    wd = in_dtype_all([it.wd for it in items], torch.float32)
    table = np.empty((len(items), len(LARS_SGD_MOM.scalars)))
    table[:, 0] = lr
    table[:, 1] = in_dtype_all(lr * r, ctype)
    table[:, 2] = in_dtype_all(lr * wd, torch.float32)
    table[:, 3:] = (r, clip, f32(hyper.get("momentum", 0.0)))
    with_mom = np.array([bool(it.states) for it in items])
    for kernel, mask in ((LARS_SGD, ~with_mom), (LARS_SGD_MOM, with_mom)):
        if mask.any():
            rows = np.flatnonzero(mask)
            launch(kernel, variant, [items[k] for k in rows], table[rows, : len(kernel.scalars)])


RULE = FusedRule(
    applies=_applies,
    states_of=optional_state,
    kernels=(LARS_NORMS, LARS_SGD, LARS_SGD_MOM),
    run=_run,
)
register_rule("lars", RULE)
