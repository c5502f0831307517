r"""Fused DCASGD: the rule of :func:`mxopt.ndarray.ops.dcasgd.dcasgd_rule` in one pass.

.. math::

    G &= \mathrm{clip}(r g),\qquad
    \Delta = -\eta\big((G + \lambda w) + \kappa G^2 (w - \tilde w)\big),\qquad
    \tilde w \leftarrow w\\
    \mu = 0:&\quad w \leftarrow w + \Delta\qquad
    \mu > 0:\quad m \leftarrow \mu m + \Delta,\quad w \leftarrow w + m

The state is ``(m or None, w̃)``; as in the reference, the momentum branch is chosen by
whether ``m`` exists. Scalars are rounded to the weight's type (NDArray arithmetic);
clipping is the NDArray rule (:mod:`._ndclip`).
"""

from __future__ import annotations

from functools import lru_cache

import torch

from ...ndarray.ops._common import in_dtype
from ._ndclip import nd_clip, nd_clip_bound
from .codegen import Kernel
from .engine import FusedRule, Item, register_rule

__all__ = ["DCASGD", "DCASGD_MOM", "RULE"]

_SCALARS = ("neg_lr", "wd", "lamda", "rescale", "clip")
# The delay-compensated step, from the old weight and the previous one.
_STEP = f"""
    T G = g * rescale;
    {nd_clip("G")}
    T step = ((G + w * wd) + ((G * lamda) * G) * (w - previous)) * neg_lr;
"""

DCASGD = Kernel(
    "dcasgd",
    states=("previous",),
    scalars=_SCALARS,
    body=_STEP + "previous = w;\nw = w + step;",
)
DCASGD_MOM = Kernel(
    "dcasgd_mom",
    states=("mom", "previous"),
    scalars=(*_SCALARS, "momentum"),
    body=_STEP + "mom = mom * momentum + step;\nprevious = w;\nw = w + mom;",
)


def _applies(opt) -> bool:
    from ..dcasgd import DCASGD as DCASGDOptimizer

    return isinstance(opt, DCASGDOptimizer) and type(opt)._step is DCASGDOptimizer._step


def _states_of(state):
    """``(previous,)`` or ``(mom, previous)``, else ``None``."""
    if not (isinstance(state, tuple) and len(state) == 2):
        return None
    mom, previous = state
    if not isinstance(previous, torch.Tensor):
        return None
    if mom is None:
        return (previous,)
    return (mom, previous) if isinstance(mom, torch.Tensor) else None


@lru_cache(maxsize=256)
def _scalars(
    lr: float, wd: float, lamda: float, rescale: float, clip: float | None,
    ctype: torch.dtype,
) -> tuple[float, ...]:  # fmt: skip
    return (
        in_dtype(-lr, ctype),
        in_dtype(wd, ctype),
        in_dtype(lamda, ctype),
        in_dtype(rescale, ctype),
        nd_clip_bound(clip),
    )


def _plan(opt, item: Item, ctype: torch.dtype):
    scalars = _scalars(item.lr, item.wd, opt.lamda, opt.rescale_grad, opt.clip_gradient, ctype)
    if len(item.states) == 1:
        return DCASGD, scalars
    return DCASGD_MOM, (*scalars, in_dtype(opt.momentum, ctype))


RULE = FusedRule(
    applies=_applies,
    states_of=_states_of,
    kernels=(DCASGD, DCASGD_MOM),
    plan=_plan,
    sparse="dense",  # the reference densifies a row-sparse gradient
)
register_rule("dcasgd", RULE)
