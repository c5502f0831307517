r"""Fused SGD (plain and momentum) over many tensors: the rule of
:func:`mxopt.ndarray.ops.sgd.sgd_update` / ``sgd_mom_update`` in one pass.

.. math::

    \text{plain:}\quad w \leftarrow (1-\eta\lambda)\,w - \eta\,\mathrm{clip}(r g)\qquad
    \text{momentum:}\quad m \leftarrow \mu m - \eta\lambda w - \eta\,\mathrm{clip}(r g),
    \ w \leftarrow w + m

Scalars are rounded exactly as the reference operators round them (``f32`` for operator
parameters, ``in_dtype`` for products computed in the weight's type).
"""

from __future__ import annotations

import torch

from ...ndarray.ops._common import f32, in_dtype
from .._common import fused_clip
from ._ctypes_util import doubles, int64s, pointers, suffix
from .engine import FusedRule, register_rule

__all__ = ["RULE"]


def _applies(opt) -> bool:
    from ..sgd import SGD

    return isinstance(opt, SGD) and type(opt)._step is SGD._step


def _states_of(state):
    if state is None:
        return ()
    if isinstance(state, torch.Tensor):
        return (state,)
    return None


def _run(lib, opt, items: list, dtype: torch.dtype) -> None:
    r = f32(opt.rescale_grad)
    c = f32(fused_clip(opt.clip_gradient))
    mu = f32(opt.momentum) if opt.momentum > 0 else 0.0
    plain, mom = [], []
    for item in items:
        (mom if item[3] else plain).append(item)
    sfx = suffix(dtype)
    if plain:
        scal: list[float] = []
        for _, _, _, _, lr, wd in plain:
            lr, wd = f32(lr), f32(wd)
            decay = in_dtype(1.0 - in_dtype(lr * wd, dtype), dtype)
            scal += [lr, in_dtype(lr * r, dtype), decay, r, c]
        getattr(lib, f"mxopt_sgd_{sfx}")(
            len(plain),
            pointers([it[1] for it in plain]),
            pointers([it[2] for it in plain]),
            int64s([it[1].numel() for it in plain]),
            doubles(scal),
        )
    if mom:
        scal = []
        for _, _, _, _, lr, wd in mom:
            lr, wd = f32(lr), f32(wd)
            scal += [lr, in_dtype(lr * r, dtype), in_dtype(lr * wd, dtype), r, c, mu]
        getattr(lib, f"mxopt_sgd_mom_{sfx}")(
            len(mom),
            pointers([it[1] for it in mom]),
            pointers([it[2] for it in mom]),
            pointers([it[3][0] for it in mom]),
            int64s([it[1].numel() for it in mom]),
            doubles(scal),
        )


RULE = FusedRule(applies=_applies, states_of=_states_of, run=_run)
register_rule("sgd", RULE)
