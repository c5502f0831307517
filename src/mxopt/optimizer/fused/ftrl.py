r"""Fused Ftrl: the rule of :func:`mxopt.ndarray.ops.ftrl.ftrl_update` in one pass over
w, g, z, n.

With :math:`G = \mathrm{clip}(r g)` (the fused operators' rule: only ``clip >= 0`` clips):

.. math::

    \sigma &= \big(\sqrt{n + G^2} - \sqrt{n}\big)\, w / \eta, \qquad
    z \leftarrow z + (G - \sigma), \qquad n \leftarrow n + G^2\\
    w &\leftarrow \frac{\mathrm{sign}(z)\,\lambda_1 - z}{(\sqrt{n} + \beta)/\eta + \lambda}
        \cdot [\,|z| > \lambda_1\,]

Every scalar is an operator parameter (``f32``); the body keeps the reference's order of
operations (true divisions by :math:`\eta`, the 0/1 mask multiplied last), so float32 and
float64 results agree with the reference to rounding. A row-sparse gradient is densified
(every row is recomputed, MXNet's dense-weight fallback) unless ``lazy_update=True``,
which updates only the gradient's rows.
"""

from __future__ import annotations

from functools import lru_cache

import torch

from ...ndarray.ops._common import f32
from ._ndclip import operator_clip_bound
from .codegen import Kernel
from .engine import FusedRule, Item, lazy_or_dense, register_rule, states_pair

__all__ = ["FTRL", "RULE"]

FTRL = Kernel(
    "ftrl",
    states=("z", "n"),
    scalars=("lr", "lamda1", "beta", "wd", "rescale", "clip"),
    body="""
        T G = g * rescale;
        G = CLAMP(G, clip);
        T G2 = G * G;
        T root = SQRT(n + G2);  /* the new n's root, used twice */
        T sigma = ((root - SQRT(n)) * w) / lr;
        z = z + (G - sigma);
        n = n + G2;
        T denom = (root + beta) / lr + wd;
        T active = FABS(z) > lamda1 ? (T)1 : (T)0;
        w = ((SIGN(z) * lamda1 - z) / denom) * active;
    """,
)


def _applies(opt) -> bool:
    from ..ftrl import Ftrl
    from ..optimizer import Optimizer

    cls = type(opt)
    return (
        isinstance(opt, Ftrl)
        and cls._step is Ftrl._step
        and cls._step_multi_precision is Optimizer._step_multi_precision
    )


@lru_cache(maxsize=256)
def _scalars(
    lr: float, wd: float, lamda1: float, beta: float, rescale: float, clip: float
) -> tuple[float, ...]:
    return f32(lr), f32(lamda1), f32(beta), f32(wd), f32(rescale), clip


def _plan(opt, item: Item, ctype: torch.dtype):
    clip = operator_clip_bound(opt.clip_gradient)
    return FTRL, _scalars(item.lr, item.wd, opt.lamda1, opt.beta, opt.rescale_grad, clip)


RULE = FusedRule(
    applies=_applies,
    states_of=states_pair,  # (z, n)
    kernels=(FTRL,),
    plan=_plan,
    sparse=lazy_or_dense,
)
register_rule("ftrl", RULE)
