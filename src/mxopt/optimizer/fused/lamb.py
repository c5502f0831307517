r"""Fused LAMB: MXNet's multi-tensor LAMB kernel (``multi_lamb_update``, the numerics of
:class:`~mxopt.optimizer.LAMB`) in two passes, without storing the direction.

With :math:`\hat g = \mathrm{clip}(r g)` and :math:`t` the parameter's update count,
pass 1 reads :math:`w, g, m, v`, writes :math:`m, v` and sums :math:`\lVert w\rVert^2`
and :math:`\lVert u\rVert^2`:

.. math::

    m \leftarrow \beta_1 m + (1-\beta_1)\hat g, \qquad
    v \leftarrow \beta_2 v + (1-\beta_2)\hat g^2, \qquad
    u = \mathrm{f32}\Big(\frac{m/c_1}{\sqrt{v/c_2} + \epsilon} + \lambda w\Big)

(:math:`c_i = 1-\beta_i^t`, or 1 without bias correction). Per tensor,
:math:`r_1 = \min(\max(\lVert w\rVert, \text{lower}), \text{upper})`,
:math:`r_2 = \lVert u\rVert` and :math:`\tau = r_1/r_2` (1 when either is 0); pass 2
reads :math:`w, m, v`, derives the same :math:`u` again and writes

.. math::

    w \leftarrow w - u\cdot\mathrm{f32}(\eta\tau)

(and the float16/bfloat16 copy under multi-precision, whose float32 master copy is
authoritative, as on the reference path).

float32 and multi-precision buckets run both passes in one kernel call, tensor by tensor
(:class:`.codegen.Pass`), with :math:`\tau` and :math:`\mathrm{f32}(\eta\tau)` computed
in C between them (the same float32 operations). Pass 1 also stores :math:`u` in the
kernel's scratch buffer (one value per element of the call's largest tensor), so pass 2
only reads :math:`w, u` and writes :math:`w`: no division left. 40 bytes per parameter
when every pass goes to memory, 28 when a thread's slice of the tensor stays in cache.

Norms: float32 and multi-precision buckets take them from pass 1's sums, accumulated in
double (more accurate than the reference's element-by-element float32 running sum, which
reproduces MXNet's CPU kernel; they differ by float32 rounding). float64 weights keep the
reference's exact emulation (:func:`~mxopt.ndarray.ops.multi.sum_sq_f32`), which the
float64 golden fixtures check to 1e-11: they run the two passes as two launches per
tensor, the first storing :math:`u` in one scratch tensor, reused from tensor to tensor.

The count and the rate are taken per parameter in order (count, then ``lr``/``wd``),
as ``LAMB`` does, so the rule is ``ordered``: a call that would split into several
buckets (mixed dtypes, ineligible tensors) runs on the reference path. Row-sparse
gradients are treated as dense ones, as on the reference path.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import repeat

import numpy as np
import torch

from ...ndarray.ops._common import f32, in_dtype, in_dtype_all
from ...ndarray.ops.multi import sum_sq_f32
from ._ndclip import operator_clip_bound
from .codegen import Kernel, Pass
from .engine import FusedRule, Item, launch, register_rule, states_pair

__all__ = ["LAMB", "LAMB_DIRECTION_F64", "LAMB_PHASE2", "RULE"]

# clip is +inf when the operator does not clip (CLAMP is then the identity, NaN included;
# a branch here would keep the loop from vectorizing well)
_MOMENTS = """
T gh = CLAMP(g * rescale, clip);
mean = mean * beta1 + gh * one_minus_beta1;
var = var * beta2 + gh * one_minus_beta2 * gh;
"""
# the direction, kept in float32 by MXNet's kernel (a no-op cast for float32)
_DIRECTION = "T d = (float)((mean / c1) / (SQRT(var / c2) + epsilon) + w * wd);"
_PHASE1_SCALARS = ("beta1", "one_minus_beta1", "beta2", "one_minus_beta2", "c1", "c2",
                   "epsilon", "wd", "rescale", "clip")  # fmt: skip

# Per tensor, between the passes (float32, as ``lamb_multi_rule``): the norms from the
# sums rounded to float32, the bounds (-1: off), the trust ratio and the adjusted rate.
_TRUST = """
const float w_norm_ = sqrtf((float)sum_w2), u_norm_ = sqrtf((float)sum_u2);
float r1_ = w_norm_;
if (lower >= 0 && r1_ < (float)lower) r1_ = (float)lower;
if (upper >= 0 && r1_ > (float)upper) r1_ = (float)upper;
const float ratio_ = (r1_ == 0.0f || u_norm_ == 0.0f) ? 1.0f : r1_ / u_norm_;
const T lr_adj = (T)((float)lr * ratio_);
"""

LAMB = Kernel(
    "lamb",
    states=("mean", "var"),
    scalars=(*_PHASE1_SCALARS, "lr", "lower", "upper"),
    exact=("lr", "lower", "upper"),
    scratch=("u",),
    before=(
        Pass(
            _MOMENTS + _DIRECTION + "\nu = d;\nacc_w2 += w * w;\nacc_u2 += d * d;",
            sums=("w2", "u2"),
            stores=("mean", "var", "u"),
            then=_TRUST,
        ),
    ),
    body="w = w - u * lr_adj;",
    read_only=("mean", "var"),
    variants=("f32", "f16", "bf16"),  # float64: LAMB_DIRECTION_F64, then LAMB_PHASE2
)
# float64 only: pass 1 storing u (for the reference's float32 running-sum norm)
LAMB_DIRECTION_F64 = Kernel(
    "lamb_direction",
    states=("mean", "var", "u"),
    scalars=_PHASE1_SCALARS,
    body=_MOMENTS + _DIRECTION + "\nu = d;",
    writes_weight=False,
    variants=("f64",),
)
LAMB_PHASE2 = Kernel(
    "lamb_phase2",
    states=("mean", "var"),
    scalars=("c1", "c2", "epsilon", "wd", "lr_adj"),
    body=_DIRECTION + "\nw = w - d * lr_adj;",
    reads_grad=False,
    read_only=("mean", "var"),
    variants=("f64",),
)


def _applies(opt) -> bool:
    from ..lamb import LAMB

    cls = type(opt)
    return (
        isinstance(opt, LAMB)
        and cls._step is LAMB._step
        and cls._step_multi_precision is LAMB._step_multi_precision
        and cls._one is LAMB._one
    )


def _bound(value) -> float:
    """A bound as the operator receives it: ``-1`` (off) unless truthy."""
    return f32(float(value)) if value else -1.0


def _corrections(opt, t: int, ctype: torch.dtype) -> tuple[float, float]:
    """``(1 - beta1^t, 1 - beta2^t)`` as the kernel computes them, or 1s."""
    if not opt.bias_correction:
        return 1.0, 1.0
    b1, b2 = f32(opt.beta1), f32(opt.beta2)
    return (in_dtype(1.0 - in_dtype(b1**t, ctype), ctype),
            in_dtype(1.0 - in_dtype(b2**t, ctype), ctype))  # fmt: skip


def _f64_sums(items: Sequence[Item], scalars) -> list[tuple[float, float]]:
    """float64: pass 1 per tensor into one scratch tensor, then the reference's norms."""
    scratch = torch.empty(max(it.w.numel() for it in items), dtype=torch.float64)
    sums = []
    for item, sc in zip(items, scalars):
        u = scratch[: item.w.numel()]
        launch(LAMB_DIRECTION_F64, "f64", [item], [sc], states=lambda it, u=u: (*it.states, u))
        sums.append((sum_sq_f32(item.w), sum_sq_f32(u.to(torch.float32))))
    return sums


def _count_and_rates(opt, items: list[Item]) -> tuple[list[float], list[float]]:
    """Count each parameter's update, then read its lr and wd, one parameter at a time
    as ``LAMB`` does. When the indices are distinct with equal counts (the ``Updater``'s
    batches), every parameter then reads the same ``num_update``: counted at once."""
    indices = [item.index for item in items]
    counts, begin = opt._index_update_count, opt.begin_num_update
    if len(set(indices)) == len(indices) and len(set(map(counts.get, indices, repeat(begin)))) == 1:
        opt._update_count(indices)
        return opt._get_lrs(indices), opt._get_wds(indices)
    lrs, wds = [], []
    for index in indices:
        opt._update_count(index)
        lrs.append(opt._get_lr(index))
        wds.append(opt._get_wd(index))
    return lrs, wds


def _run(opt, items: list[Item], ctype: torch.dtype, variant: str) -> None:
    """The per-tensor scalars are built for all items at once in float64 NumPy arrays, with
    the reference's operations and roundings (IEEE: the same values as with Python
    floats)."""
    n = len(items)
    b1, b2 = f32(opt.beta1), f32(opt.beta2)
    betas = (b1, in_dtype(1.0 - b1, ctype), b2, in_dtype(1.0 - b2, ctype))
    eps, rescale, clip = (
        f32(opt.epsilon),
        f32(opt.rescale_grad),
        operator_clip_bound(opt.clip_gradient),
    )
    lrs, wds = _count_and_rates(opt, items)
    counts = opt._index_update_count
    ts = [counts[it.index] for it in items]
    corrections = {t: _corrections(opt, t, ctype) for t in set(ts)}
    phase1 = np.empty((n, len(_PHASE1_SCALARS)))
    phase1[:, :4] = betas
    if len(corrections) == 1:  # (the usual case: one count for all)
        phase1[:, 4:6] = corrections[ts[0]]
    else:
        phase1[:, 4:6] = [corrections[t] for t in ts]
    phase1[:, 6] = eps
    phase1[:, 7] = in_dtype_all(wds, torch.float32)
    phase1[:, 8] = rescale
    phase1[:, 9] = clip
    lr32 = in_dtype_all(lrs, torch.float32)
    lower, upper = _bound(opt.lower_bound), _bound(opt.upper_bound)
    if variant != "f64":  # one kernel: the rates between the passes are computed in C
        bounds = np.broadcast_to((lower, upper), (n, 2))
        launch(LAMB, variant, items, np.concatenate([phase1, lr32[:, None], bounds], axis=1))
        return
    sums = np.array(_f64_sums(items, phase1.tolist()), dtype=np.float64)
    # float32 sums of squares -> float32 norms, as ``lamb_multi_rule`` takes them
    w_norm, u_norm = in_dtype_all(np.sqrt(in_dtype_all(sums, torch.float32)), torch.float32).T
    if lower >= 0:
        w_norm = np.maximum(w_norm, lower)
    if upper >= 0:
        w_norm = np.minimum(w_norm, upper)
    with np.errstate(divide="ignore", invalid="ignore"):  # (zeros are replaced below)
        ratio = in_dtype_all(w_norm / u_norm, torch.float32)
    ratio = np.where((w_norm == 0.0) | (u_norm == 0.0), 1.0, ratio)
    lr_adj = in_dtype_all(lr32 * ratio, ctype)
    phase2 = np.concatenate([phase1[:, 4:8], lr_adj[:, None]], axis=1)  # c1, c2, epsilon, wd
    launch(LAMB_PHASE2, variant, items, phase2)


RULE = FusedRule(
    applies=_applies,
    states_of=states_pair,
    kernels=(LAMB, LAMB_DIRECTION_F64, LAMB_PHASE2),
    run=_run,
    sparse="dense",  # the reference densifies row-sparse gradients
    ordered=True,  # the count and the rate are read item by item
)
register_rule("lamb", RULE)
