r"""Fused SGD (plain and momentum): the rule of :func:`mxopt.ndarray.ops.sgd.sgd_update` /
``sgd_mom_update`` (and their ``mp_`` forms) in one pass over memory.

.. math::

    \text{plain:}\quad w \leftarrow (1-\eta\lambda)\,w - \eta\,\mathrm{clip}(r g)\qquad
    \text{momentum:}\quad m \leftarrow \mu m - \eta\lambda w - \eta\,\mathrm{clip}(r g),
    \ w \leftarrow w + m

Scalars are rounded exactly as the reference operators round them (``f32`` for operator
parameters, ``in_dtype`` for products computed in the weight's type), so float32 and
float64 results are bit-identical to the reference path.
"""

from __future__ import annotations

import torch

from ...ndarray.ops._common import f32, in_dtype
from .._common import fused_clip
from .codegen import Kernel
from .engine import FusedRule, Item, lazy_or_dense, optional_state, register_rule

__all__ = ["SGD", "SGD_MOM", "RULE", "SCALED_STEP", "plan"]

# Where the reference clips, it computes lr * clip(r * g); otherwise (lr * r) * g.
SCALED_STEP = "T step = clip >= 0 ? CLAMP(g * rescale, clip) * lr : g * lr_rescale;"

SGD = Kernel(
    "sgd",
    states=(),
    scalars=("lr", "lr_rescale", "decay", "rescale", "clip"),
    body=SCALED_STEP + "\nw = w * decay - step;",
)
SGD_MOM = Kernel(
    "sgd_mom",
    states=("mom",),
    scalars=("lr", "lr_rescale", "lr_wd", "rescale", "clip", "momentum"),
    body=SCALED_STEP + "\nmom = FMA(w, -lr_wd, mom * momentum) - step;\nw = w + mom;",
)


def _applies(opt) -> bool:
    from ..sgd import SGD as SGDOptimizer

    return isinstance(opt, SGDOptimizer) and type(opt)._step is SGDOptimizer._step


def plan(opt, item: Item, ctype: torch.dtype):
    r, c = f32(opt.rescale_grad), f32(fused_clip(opt.clip_gradient))
    lr, wd = f32(item.lr), f32(item.wd)
    lr_r = in_dtype(lr * r, ctype)
    if not item.states:
        return SGD, (lr, lr_r, in_dtype(1.0 - in_dtype(lr * wd, ctype), ctype), r, c)
    return SGD_MOM, (lr, lr_r, in_dtype(lr * wd, ctype), r, c, f32(opt.momentum))


RULE = FusedRule(
    applies=_applies,
    states_of=optional_state,
    kernels=(SGD, SGD_MOM),
    plan=plan,
    sparse=lazy_or_dense,
)
register_rule("sgd", RULE)
