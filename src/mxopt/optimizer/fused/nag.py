r"""Fused NAG: the rule of :func:`mxopt.ndarray.ops.nag.nag_mom_update` (and its ``mp_``
form) in one pass over w, g, m; without a momentum state, plain SGD (the ``sgd`` kernel).

With :math:`\hat g = \mathrm{clip}(r g)`:

.. math::

    m' = \mu m,\quad
    w \leftarrow (w - m') + (1+\mu)\big(m' - \eta(\hat g + \lambda w)\big),\quad
    m \leftarrow m' - \eta(\hat g + \lambda w_{new})

(the momentum's weight-decay term sees the updated weight, as in MXNet's kernel).
Without a momentum state (``momentum=0``):
:math:`w \leftarrow (1-\eta\lambda)\,w - \eta\,\mathrm{clip}(r g)`.

Scalars are rounded as the reference operators round them (``f32`` for operator
parameters, ``in_dtype`` for :math:`1+\mu`, :math:`\eta r` and :math:`1-\eta\lambda`).
"""

from __future__ import annotations

import torch

from ...ndarray.ops._common import f32, in_dtype
from ._ndclip import operator_clip_bound
from .codegen import Kernel
from .engine import FusedRule, Item, optional_state, register_rule
from .sgd import SGD
from .sgd import plan as sgd_plan

__all__ = ["NAG_MOM", "RULE"]

NAG_MOM = Kernel(
    "nag_mom",
    states=("mom",),
    scalars=("lr", "wd", "rescale", "clip", "momentum", "momentum_plus_one"),
    body="""
        T gh = g * rescale;
        gh = CLAMP(gh, clip);
        mom = mom * momentum;
        T lookahead = (mom - (gh + wd * w) * lr) * momentum_plus_one;
        w = (w - mom) + lookahead;
        mom = mom - (gh + wd * w) * lr;
    """,
)


def _applies(opt) -> bool:
    from ..nag import NAG

    cls = type(opt)
    return (
        isinstance(opt, NAG)
        and cls._step is NAG._step
        and cls._step_multi_precision is NAG._step_multi_precision
    )


def _plan(opt, item: Item, ctype: torch.dtype):
    if not item.states:  # the reference runs sgd_update
        return sgd_plan(opt, item, ctype)
    r, c = f32(opt.rescale_grad), operator_clip_bound(opt.clip_gradient)
    lr, wd = f32(item.lr), f32(item.wd)
    mu = f32(opt.momentum)
    return NAG_MOM, (lr, wd, r, c, mu, in_dtype(mu + 1.0, ctype))


RULE = FusedRule(
    applies=_applies,
    states_of=optional_state,
    kernels=(SGD, NAG_MOM),
    plan=_plan,
    sparse="lazy",  # both reference operators update only the rows present
)
register_rule("nag", RULE)
