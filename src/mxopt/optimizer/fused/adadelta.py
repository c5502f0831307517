r"""Fused AdaDelta: :func:`mxopt.ndarray.ops.adadelta.adadelta_rule` as
:class:`~mxopt.optimizer.AdaDelta` feeds it, in one pass over w, g and both accumulators.

.. math::

    G = \mathrm{clip}(r g),\quad a_g \leftarrow \rho a_g + (1-\rho) G^2,\quad
    \Delta = \frac{\sqrt{a_\Delta + \epsilon}}{\sqrt{a_g + \epsilon}}\, G,\quad
    a_\Delta \leftarrow \rho a_\Delta + (1-\rho) \Delta^2,\quad
    w \leftarrow w - (\Delta + \lambda w)

No learning rate. :math:`r`, :math:`\rho`, :math:`1-\rho`, :math:`\epsilon`, :math:`\lambda`
are float32-rounded (also for float64 weights, as the reference rounds them) and clipping
is the NDArray rule (:mod:`._ndclip`). A row-sparse gradient is densified, as in the
reference.
"""

from __future__ import annotations

import torch

from ...ndarray.ops._common import f32
from ._ndclip import nd_clip, nd_clip_bound
from .codegen import Kernel
from .engine import FusedRule, Item, register_rule, states_pair

__all__ = ["ADADELTA", "RULE"]

ADADELTA = Kernel(
    "adadelta",
    states=("acc_g", "acc_delta"),
    scalars=("rho", "one_minus_rho", "epsilon", "wd", "rescale", "clip"),
    body=f"""
        T G = g * rescale;
        {nd_clip("G")}
        acc_g = acc_g * rho + (G * G) * one_minus_rho;
        T delta = (SQRT(acc_delta + epsilon) / SQRT(acc_g + epsilon)) * G;
        acc_delta = acc_delta * rho + (delta * delta) * one_minus_rho;
        w = w - (delta + w * wd);
    """,
)


def _applies(opt) -> bool:
    from ..adadelta import AdaDelta

    return isinstance(opt, AdaDelta) and type(opt)._step is AdaDelta._step


def _plan(opt, item: Item, ctype: torch.dtype):
    rho = f32(opt.rho)
    return ADADELTA, (
        rho,
        f32(1.0 - rho),
        f32(opt.epsilon),
        f32(item.wd),
        f32(opt.rescale_grad),
        nd_clip_bound(opt.clip_gradient),
    )


RULE = FusedRule(
    applies=_applies,
    states_of=states_pair,
    kernels=(ADADELTA,),
    plan=_plan,
    sparse="dense",  # the reference densifies row-sparse gradients
)
register_rule("adadelta", RULE)
