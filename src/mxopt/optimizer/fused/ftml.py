r"""Fused FTML: the rule of :func:`mxopt.ndarray.ops.ftml.ftml_update` in one pass over
w, g, d, v, z.

.. math::

    G &= \mathrm{clip}(r g + \lambda w),\qquad v \leftarrow \beta_2 v + (1-\beta_2) G^2\\
    d_t &= \frac{1-\beta_1^t}{\eta}\Big(\sqrt{v/(1-\beta_2^t)} + \epsilon\Big),\qquad
    z \leftarrow \beta_1 z + (1-\beta_1) G - (d_t - \beta_1 d)\, w\\
    d &\leftarrow d_t,\qquad w \leftarrow -z / d_t

Scalars are parsed as float32 (``epsilon`` as a double, like MXNet) and their products
rounded to the weight's type; the fused operators' clipping rule applies (only
``clip >= 0`` clips).
"""

from __future__ import annotations

from functools import lru_cache

import torch

from ...ndarray.ops._common import f32, in_dtype
from ._ndclip import operator_clip_bound
from .codegen import Kernel
from .engine import FusedRule, Item, register_rule

__all__ = ["FTML", "RULE"]

FTML = Kernel(
    "ftml",
    states=("d", "v", "z"),
    scalars=(
        "beta1",
        "one_minus_beta1",
        "beta2",
        "one_minus_beta2",
        "unbias",
        "epsilon",
        "scale",
        "wd",
        "rescale",
        "clip",
    ),
    body="""
        T G = g * rescale + w * wd;
        G = CLAMP(G, clip);
        v = v * beta2 + (G * G) * one_minus_beta2;
        T d_t = (SQRT(v / unbias) + epsilon) * scale;
        z = (z * beta1 + G * one_minus_beta1) - (d_t - d * beta1) * w;
        d = d_t;
        w = -z / d_t;
    """,
)


def _applies(opt) -> bool:
    from ..ftml import FTML as FTMLOptimizer

    return isinstance(opt, FTMLOptimizer) and type(opt)._step is FTMLOptimizer._step


def _states_of(state):
    """``(d, v, z)``, else ``None``."""
    ok = isinstance(state, tuple) and len(state) == 3
    return state if ok and all(isinstance(t, torch.Tensor) for t in state) else None


@lru_cache(maxsize=256)
def _scalars(
    lr: float, wd: float, t: int, beta1: float, beta2: float, epsilon: float, rescale: float,
    clip: float, ctype: torch.dtype,
) -> tuple[float, ...]:  # fmt: skip
    lr, beta1, beta2 = f32(lr), f32(beta1), f32(beta2)
    scale = in_dtype(in_dtype(1.0 - in_dtype(beta1**t, ctype), ctype) / lr, ctype)
    return (
        beta1,
        in_dtype(1.0 - beta1, ctype),
        beta2,
        in_dtype(1.0 - beta2, ctype),
        in_dtype(1.0 - in_dtype(beta2**t, ctype), ctype),
        in_dtype(float(epsilon), ctype),
        scale,
        f32(wd),
        f32(rescale),
        clip,
    )


def _plan(opt, item: Item, ctype: torch.dtype):
    t = opt._index_update_count[item.index]
    return FTML, _scalars(
        item.lr, item.wd, t, opt.beta1, opt.beta2, opt.epsilon, opt.rescale_grad,
        operator_clip_bound(opt.clip_gradient), ctype,
    )  # fmt: skip


RULE = FusedRule(
    applies=_applies,
    states_of=_states_of,
    kernels=(FTML,),
    plan=_plan,
    sparse="dense",  # MXNet's storage fallback: a dense gradient with zero rows
)
register_rule("ftml", RULE)
