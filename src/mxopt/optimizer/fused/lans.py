r"""Fused LANS (:func:`mxopt.ndarray.ops.lans.lans_rule`): three passes in one kernel call.

Pass 1 reads :math:`g` for :math:`\lVert r g\rVert`. Pass 2 reads :math:`w, g, m, v`,
writes :math:`m, v` and sums :math:`\lVert w\rVert^2`, :math:`\lVert p\rVert^2`,
:math:`\lVert q\rVert^2`:

.. math::

    \hat g &= \mathrm{clip}(r g / \lVert r g\rVert), \qquad
    m \leftarrow \beta_1 m + (1-\beta_1)\hat g, \qquad
    v \leftarrow \beta_2 v + (1-\beta_2)\hat g^2 \\
    p &= \frac{m/c_1}{\sqrt{v/c_2}+\epsilon} + \lambda w, \qquad
    q = \frac{\hat g}{\sqrt{v/c_2}+\epsilon} + \lambda w

(:math:`c_i = 1-\beta_i^t`). Per tensor, :math:`\tau(x) = \phi(\lVert w\rVert)/\lVert
x\rVert` (1 when a norm is 0, :math:`\phi` the bounds); pass 3 reads :math:`w, g, v` and
:math:`p` (kept from pass 2), derives :math:`\hat g, q` again and writes

.. math::

    w \leftarrow w - \big(\eta\beta_1\tau(p)\,p + \eta(1-\beta_1)\tau(q)\,q\big)

The three passes run tensor by tensor (:class:`.codegen.Pass`): a later pass finds in
cache what an earlier one read of the tensor. :math:`\lVert r g\rVert` and the trust
ratios are computed in C between them: norms rounded to the weight's type, ratios and
rates in double, then rounded, as the reference computes them with Python floats. Pass 2
stores :math:`p` in the kernel's scratch buffer (one value per element of the call's
largest tensor) for pass 3, sparing it two divisions per element. 52 bytes per parameter
when every pass goes to memory (48 without the scratch), 28 when a thread's slice of the
tensor stays in cache. The reference uses torch ops with Python scalars (rounded to the
weight's type by torch, ``add_(x, alpha=a)`` as a fused multiply-add); the body follows
that order. Norms are accumulated in double (torch's float32 norms differ by rounding).
Row-sparse gradients are treated as dense ones, as on the reference path.
"""

from __future__ import annotations

import math

import numpy as np
import torch

from ...ndarray.ops._common import in_dtype, in_dtype_all
from ._ndclip import clip_bound
from .codegen import Kernel, Pass
from .engine import FusedRule, Item, launch, register_rule, states_pair

__all__ = ["LANS", "RULE"]

# the normalized, clipped gradient (gnorm is 1 when the norm is 0: no division; clip
# is +inf without clipping: CLAMP is then the identity, NaN included, and branch-free)
_G_HAT = """
T gh = g * rescale;
gh = CLAMP(gh / gnorm, clip);
"""
_DENOM = "const T denom = SQRT(var / c2) + epsilon;"
_P = "p = FMA(w, wd, (mean / c1) / denom);"
_Q = "const T q = FMA(w, wd, gh / denom);"

# Per tensor, after pass 1: the gradient's norm as torch returns it in ``T`` (1 if 0).
_GRAD_NORM = """
const T grad_norm_ = (T)sqrt(sum_g2);
const T gnorm = grad_norm_ > 0 ? grad_norm_ : (T)1;
"""
# After pass 2: the trust ratios, in double from the ``T`` norms as ``_run`` computed
# them in NumPy (the bounds are -inf/+inf when off), and the two rates in ``T``.
_RATES = """
double r1_ = (T)sqrt(sum_w2);
if (r1_ < lower) r1_ = lower;
if (r1_ > upper) r1_ = upper;
const double p_norm_ = (T)sqrt(sum_p2), q_norm_ = (T)sqrt(sum_q2);
const double p_trust_ = (r1_ == 0 || p_norm_ == 0) ? 1.0 : r1_ / p_norm_;
const double q_trust_ = (r1_ == 0 || q_norm_ == 0) ? 1.0 : r1_ / q_norm_;
const T a = (T)(lr * beta1_in * p_trust_);
const T b = (T)(lr * (1.0 - beta1_in) * q_trust_);
"""

LANS = Kernel(
    "lans",
    states=("mean", "var"),
    scalars=(
        "rescale",
        "clip",
        "c1",
        "c2",
        "epsilon",
        "wd",
        "beta1",
        "one_minus_beta1",
        "beta2",
        "one_minus_beta2",
        "lr",
        "beta1_in",
        "lower",
        "upper",
    ),  # fmt: skip
    exact=("lr", "beta1_in", "lower", "upper"),
    scratch=("p",),
    before=(
        Pass("const T rg = g * rescale;\nacc_g2 += rg * rg;", sums=("g2",), then=_GRAD_NORM),
        Pass(
            _G_HAT
            + """
mean = FMA(gh, one_minus_beta1, mean * beta1);
var = var * beta2 + one_minus_beta2 * gh * gh;
"""
            + "\n".join((_DENOM, _P, _Q))
            + """
acc_w2 += w * w;
acc_p2 += p * p;
acc_q2 += q * q;
""",
            sums=("w2", "p2", "q2"),
            stores=("mean", "var", "p"),
            then=_RATES,
        ),
    ),
    body="\n".join((_G_HAT, _DENOM, _Q, "w = w - FMA(q, b, p * a);")),
    read_only=("mean", "var"),
)


def _applies(opt) -> bool:
    from ..lans import LANS

    cls = type(opt)
    return (
        isinstance(opt, LANS)
        and cls._step is LANS._step
        and cls._step_multi_precision is LANS._step_multi_precision
    )


def _run(opt, items: list[Item], ctype: torch.dtype, variant: str) -> None:
    """One kernel call: the per-tensor scalars the passes start from, for all items at
    once in float64 NumPy arrays rounded as the reference rounds them; the norms and the
    trust ratios are computed between the passes, in C, with the same operations."""
    n, b1, b2 = len(items), opt.beta1, opt.beta2
    counts = opt._index_update_count
    ts = [counts[item.index] for item in items]
    corrections = {t: (in_dtype(1.0 - b1**t, ctype), in_dtype(1.0 - b2**t, ctype)) for t in set(ts)}
    table = np.empty((n, len(LANS.scalars)))
    table[:, 0] = in_dtype(opt.rescale_grad, ctype)
    table[:, 1] = clip_bound(opt.clip_gradient)
    if len(corrections) == 1:  # (the usual case: one count for all)
        table[:, 2:4] = corrections[ts[0]]
    else:
        table[:, 2:4] = [corrections[t] for t in ts]
    table[:, 4] = in_dtype(opt.epsilon, ctype)
    table[:, 5] = in_dtype_all([item.wd for item in items], ctype)
    table[:, 6:10] = [in_dtype(x, ctype) for x in (b1, 1.0 - b1, b2, 1.0 - b2)]
    table[:, 10] = [item.lr for item in items]
    table[:, 11] = b1
    table[:, 12] = -math.inf if opt.lower_bound is None else opt.lower_bound
    table[:, 13] = math.inf if opt.upper_bound is None else opt.upper_bound
    launch(LANS, variant, items, table)


RULE = FusedRule(
    applies=_applies,
    states_of=states_pair,
    kernels=(LANS,),
    run=_run,
    sparse="dense",  # the reference densifies row-sparse gradients
)
register_rule("lans", RULE)
