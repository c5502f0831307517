r"""Fused Lion: the rule of :func:`mxopt.ndarray.ops.lion.lion_rule` in one pass over
w, g, m.

With :math:`G = \mathrm{clip}(r g)` (only a positive ``clip_gradient`` clips):

.. math::

    c = \beta_1 m + (1-\beta_1) G,\qquad
    w \leftarrow w - \eta\,\big(\mathrm{sign}(c) + \lambda w\big),\qquad
    m \leftarrow \beta_2 m + (1-\beta_2) G

with :math:`\mathrm{sign}(0) = 0` (and 0 for NaN, as ``torch.sign``). The reference is
tensor arithmetic with Python scalars, so scalars are rounded to the weight's type
(``in_dtype``, not ``f32``), and each ``add_(x, alpha=a)`` / ``sub_(x, alpha=a)`` is a
fused multiply-add in torch's kernels: the body uses ``FMA`` at exactly those places.
"""

from __future__ import annotations

from functools import lru_cache

import torch

from ...ndarray.ops._common import in_dtype
from ._ndclip import clip_bound
from .codegen import Kernel
from .engine import FusedRule, Item, register_rule, single_state

__all__ = ["LION", "RULE"]

LION = Kernel(
    "lion",
    states=("mom",),
    scalars=(
        "neg_lr",
        "wd",
        "beta1",
        "one_minus_beta1",
        "beta2",
        "one_minus_beta2",
        "rescale",
        "clip",
    ),
    body="""
        T G = CLAMP(g * rescale, clip);
        T c = FMA(G, one_minus_beta1, mom * beta1);
        T direction = FMA(w, wd, SIGN(c));
        w = FMA(direction, neg_lr, w);
        mom = FMA(G, one_minus_beta2, mom * beta2);
    """,
)


def _applies(opt) -> bool:
    from ..lion import Lion
    from ..optimizer import Optimizer

    cls = type(opt)
    return (
        isinstance(opt, Lion)
        and cls._step is Lion._step
        and cls._step_multi_precision is Optimizer._step_multi_precision
    )


@lru_cache(maxsize=256)
def _scalars(
    lr: float,
    wd: float,
    beta1: float,
    beta2: float,
    rescale: float,
    clip: float | None,
    ctype: torch.dtype,
) -> tuple[float, ...]:
    return (
        -in_dtype(lr, ctype),
        in_dtype(wd, ctype),
        in_dtype(beta1, ctype),
        in_dtype(1.0 - beta1, ctype),
        in_dtype(beta2, ctype),
        in_dtype(1.0 - beta2, ctype),
        in_dtype(rescale, ctype),
        clip_bound(clip),
    )


def _plan(opt, item: Item, ctype: torch.dtype):
    return LION, _scalars(
        item.lr, item.wd, opt.beta1, opt.beta2, opt.rescale_grad, opt.clip_gradient, ctype
    )


RULE = FusedRule(
    applies=_applies,
    states_of=single_state,
    kernels=(LION,),
    plan=_plan,
    sparse="dense",  # the reference densifies a row-sparse gradient
)
register_rule("lion", RULE)
