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

float32 and float16/bfloat16 buckets run both passes in one kernel call, tensor by
tensor (:class:`.codegen.Pass`): pass 2 of a tensor finds in cache what pass 1 read of
it, and :math:`\eta'` is computed in C between the passes, with the same float32
operations. With momentum, 28 bytes per parameter when every pass goes to memory (pass 1
reads 8, pass 2 moves 20), 20 when a thread's slice of the tensor stays in cache.

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
from .codegen import Kernel, Pass
from .engine import FusedRule, Item, launch, optional_state, register_rule
from .sgd import SCALED_STEP

__all__ = ["LARS", "LARS_MOM", "LARS_SGD", "LARS_SGD_MOM", "RULE"]

# MXNet's multi-SGD kernel: lr * clip(r * g) when clipping, else (lr * r) * g; the
# weight-decay product is rounded on its own (no fused multiply-add).
_PLAIN = SCALED_STEP + "\nw = w + (w * -lr_wd - step);"
_MOMENTUM = SCALED_STEP + "\nmom = (mom * momentum - w * lr_wd) - step;\nw = w + mom;"

# Per tensor, between the passes, in float32 as ``multi_lars`` and ``_run`` compute it.
_RATES = """
float lr_f_ = (float)lr_in;
if (use_norm != 0) {
    const float w2_ = (float)sum_w2, g2_ = (float)sum_g2;
    const float w_norm_ = sqrtf(w2_), g_norm_ = sqrtf(g2_);
    if (w_norm_ > 0 && g2_ > 0)
        lr_f_ = (float)lr_in * (float)eta * w_norm_
                / (g_norm_ * (float)rescale + (float)wd * w_norm_ + (float)eps);
}
const T lr = (T)lr_f_;
const T lr_rescale = (T)(lr_f_ * (float)rescale);
const T lr_wd = (T)(lr_f_ * (float)wd);
"""
_NORMS = Pass(
    "acc_w2 += w * w;\nacc_g2 += g * g;", sums=("w2", "g2"), then=_RATES, when="use_norm != 0"
)
_TWO_PASS_SCALARS = ("use_norm", "lr_in", "eta", "eps", "wd", "rescale", "clip", "momentum")
_EXACT = ("use_norm", "lr_in", "eta", "eps", "wd")


def _with_norms(name: str, states: tuple[str, ...], body: str) -> Kernel:
    """float32 and float16/bfloat16 (float32 master copies): the norms and the step in one
    kernel, tensor by tensor (the rates are computed in C between the passes)."""
    return Kernel(name, states=states, scalars=_TWO_PASS_SCALARS, exact=_EXACT,
                  before=(_NORMS,), body=body, variants=("f32", "f16", "bf16"))  # fmt: skip


LARS = _with_norms("lars", (), _PLAIN)
LARS_MOM = _with_norms("lars_mom", ("mom",), _MOMENTUM)

# float64: the step alone, after the reference's norms (see the docstring)
LARS_SGD = Kernel(
    "lars_sgd",
    states=(),
    scalars=("lr", "lr_rescale", "lr_wd", "rescale", "clip"),
    body=_PLAIN,
    variants=("f64",),
)
LARS_SGD_MOM = Kernel(
    "lars_sgd_mom",
    states=("mom",),
    scalars=("lr", "lr_rescale", "lr_wd", "rescale", "clip", "momentum"),
    body=_MOMENTUM,
    variants=("f64",),
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


def _layer_lrs(opt, items: Sequence[Item]) -> np.ndarray:
    """float64 weights: every item's float32 learning rate after the LARS scaling
    (``multi_lars``), from the reference's float32 running sums."""
    lrs = np.array([it.lr for it in items], dtype=np.float32)
    picked = np.flatnonzero([opt._uses_lars(it.index) for it in items])
    if not picked.size:
        return lrs
    chosen = [items[k] for k in picked]
    sq = np.array([(sum_sq_f32(it.w), sum_sq_f32(it.g)) for it in chosen], np.float32)
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
    the weight's type (the same IEEE operations as per-item Python floats). float32 and
    multi-precision buckets compute the rates in the kernel, from the same float32
    inputs; float64 ones here."""
    hyper = opt._hyper()
    r, clip = (f32(hyper[k]) for k in ("rescale_grad", "clip_gradient"))
    momentum = f32(hyper.get("momentum", 0.0))
    wd = in_dtype_all([it.wd for it in items], torch.float32)
    with_mom = np.array([bool(it.states) for it in items])
    if variant == "f64":
        lr = _layer_lrs(opt, items).astype(np.float64)
        table = np.empty((len(items), len(LARS_SGD_MOM.scalars)))
        table[:, 0] = lr
        table[:, 1] = in_dtype_all(lr * r, ctype)
        table[:, 2] = in_dtype_all(lr * wd, torch.float32)
        table[:, 3:] = (r, clip, momentum)
        kernels = (LARS_SGD, LARS_SGD_MOM)
    else:
        table = np.empty((len(items), len(_TWO_PASS_SCALARS)))
        table[:, 0] = [opt._uses_lars(it.index) for it in items]
        table[:, 1] = in_dtype_all([it.lr for it in items], torch.float32)
        table[:, 2:4] = (f32(opt.eta), f32(opt.eps))
        table[:, 4] = wd
        table[:, 5:] = (r, clip, momentum)
        kernels = (LARS, LARS_MOM)
    for kernel, mask in zip(kernels, (~with_mom, with_mom)):
        if mask.any():
            rows = np.flatnonzero(mask)
            launch(kernel, variant, [items[k] for k in rows], table[rows, : len(kernel.scalars)])


RULE = FusedRule(
    applies=_applies,
    states_of=optional_state,
    kernels=(LARS, LARS_MOM, LARS_SGD, LARS_SGD_MOM),
    run=_run,
)
register_rule("lars", RULE)
