r"""Fused LANS (:func:`mxopt.ndarray.ops.lans.lans_rule`) in three passes over memory.

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
x\rVert` (1 when a norm is 0, :math:`\phi` the bounds); pass 3 reads :math:`w, g, m, v`,
derives :math:`\hat g, p, q` again and writes

.. math::

    w \leftarrow w - \big(\eta\beta_1\tau(p)\,p + \eta(1-\beta_1)\tau(q)\,q\big)

48 bytes per parameter. The reference uses torch ops with Python scalars (rounded to the
weight's type by torch, ``add_(x, alpha=a)`` as a fused multiply-add); the body follows
that order. Norms are accumulated in double (torch's float32 norms differ by rounding).
Row-sparse gradients are treated as dense ones, as on the reference path.
"""

from __future__ import annotations

import numpy as np
import torch

from ...ndarray.ops._common import in_dtype, in_dtype_all
from ._ndclip import clip_bound
from .codegen import Kernel
from .engine import FusedRule, Item, launch, register_rule, states_pair

__all__ = ["LANS_GRAD_NORM", "LANS_MOMENTS", "LANS_APPLY", "RULE"]

LANS_GRAD_NORM = Kernel(
    "lans_grad_norm",
    states=(),
    scalars=("rescale",),
    body="const T rg = g * rescale;\nacc_g2 += rg * rg;",
    sums=("g2",),
    writes_weight=False,
)

# the normalized, clipped gradient (gnorm is 1 when the norm is 0: no division; clip
# is +inf without clipping: CLAMP is then the identity, NaN included, and branch-free)
_G_HAT = """
T gh = g * rescale;
gh = CLAMP(gh / gnorm, clip);
"""
_P_Q = """
const T denom = SQRT(var / c2) + epsilon;
const T p = FMA(w, wd, (mean / c1) / denom);
const T q = FMA(w, wd, gh / denom);
"""
_SCALARS = ("rescale", "gnorm", "clip", "c1", "c2", "epsilon", "wd")

LANS_MOMENTS = Kernel(
    "lans_moments",
    states=("mean", "var"),
    scalars=(*_SCALARS, "beta1", "one_minus_beta1", "beta2", "one_minus_beta2"),
    body=_G_HAT
    + """
mean = FMA(gh, one_minus_beta1, mean * beta1);
var = var * beta2 + one_minus_beta2 * gh * gh;
"""
    + _P_Q
    + """
acc_w2 += w * w;
acc_p2 += p * p;
acc_q2 += q * q;
""",
    sums=("w2", "p2", "q2"),
    writes_weight=False,
)
LANS_APPLY = Kernel(
    "lans_apply",
    states=("mean", "var"),
    scalars=(*_SCALARS, "a", "b"),
    body=_G_HAT + _P_Q + "w = w - FMA(q, b, p * a);",
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


def _norm(sum_sq: np.ndarray, ctype: torch.dtype) -> np.ndarray:
    """Norms from double sums of squares, as torch returns them in ``ctype``."""
    return in_dtype_all(np.sqrt(sum_sq), ctype)


def _trust(r1: np.ndarray, r2: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):  # (zeros are replaced)
        return np.where((r1 == 0.0) | (r2 == 0.0), 1.0, r1 / r2)


def _run(opt, items: list[Item], ctype: torch.dtype, variant: str) -> None:
    """The per-tensor scalars are computed for all items at once, in float64 NumPy arrays
    with the reference's operations and roundings (IEEE: the same results as Python
    floats)."""
    n, b1, b2 = len(items), opt.beta1, opt.beta2
    rescale = in_dtype(opt.rescale_grad, ctype)
    betas = [in_dtype(x, ctype) for x in (b1, 1.0 - b1, b2, 1.0 - b2)]
    g2 = launch(LANS_GRAD_NORM, variant, items, np.full((n, 1), rescale))
    assert g2 is not None
    counts = opt._index_update_count
    ts = [counts[item.index] for item in items]
    corrections = {t: (in_dtype(1.0 - b1**t, ctype), in_dtype(1.0 - b2**t, ctype)) for t in set(ts)}
    gnorm = _norm(g2.numpy()[:, 0], ctype)
    wd = in_dtype_all([item.wd for item in items], ctype)
    common = np.empty((n, 7))
    common[:, 0] = rescale
    common[:, 1] = np.where(gnorm > 0.0, gnorm, 1.0)
    common[:, 2] = clip_bound(opt.clip_gradient)
    if len(corrections) == 1:  # (the usual case: one count for all)
        common[:, 3:5] = corrections[ts[0]]
    else:
        common[:, 3:5] = [corrections[t] for t in ts]
    common[:, 5] = in_dtype(opt.epsilon, ctype)
    common[:, 6] = wd
    moments = np.concatenate([common, np.broadcast_to(betas, (n, 4))], axis=1)
    acc = launch(LANS_MOMENTS, variant, items, moments)
    assert acc is not None
    sums = acc.numpy()
    r1 = _norm(sums[:, 0], ctype)
    if opt.lower_bound is not None:
        r1 = np.maximum(r1, opt.lower_bound)
    if opt.upper_bound is not None:
        r1 = np.minimum(r1, opt.upper_bound)
    lr = np.array([item.lr for item in items], dtype=np.float64)
    a = in_dtype_all(lr * b1 * _trust(r1, _norm(sums[:, 1], ctype)), ctype)
    b = in_dtype_all(lr * (1.0 - b1) * _trust(r1, _norm(sums[:, 2], ctype)), ctype)
    launch(LANS_APPLY, variant, items, np.concatenate([common, a[:, None], b[:, None]], axis=1))


RULE = FusedRule(
    applies=_applies,
    states_of=states_pair,
    kernels=(LANS_GRAD_NORM, LANS_MOMENTS, LANS_APPLY),
    run=_run,
    sparse="dense",  # the reference densifies row-sparse gradients
)
register_rule("lans", RULE)
