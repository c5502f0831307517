r"""Fused AdaGrad: the optimizer's rule (:func:`mxopt.ndarray.ops.adagrad.adagrad_update`
fed as :class:`~mxopt.optimizer.AdaGrad` feeds it) in one pass over w, g, h.

.. math::

    G = \mathrm{clip}(r g),\quad h \leftarrow h + G^2,\quad
    w \leftarrow w - \eta\big(G / \sqrt{h + \epsilon} + \lambda w\big)

The two gradient kinds differ only in how :math:`G` is formed, so one kernel serves both:

* dense: ``g * rescale_grad`` in the weight's type (:math:`r` rounded to it, not to
  float32 first) and the NDArray clipping rule (:mod:`._ndclip`: ``0`` zeroes the
  gradient, negatives map to :math:`\pm c`);
* row-sparse: only the rows present change (``"lazy"``), :math:`r` is an operator
  parameter (float32) and clipping is the fused-operator rule (``None``, ``0`` and
  negatives: none). The reference refuses a non-zero effective ``wd`` before anything is
  written, so row-sparse gradients go to it whenever ``wd != 0``.
"""

from __future__ import annotations

import torch

from ...ndarray.ops._common import f32, in_dtype
from ._ndclip import nd_clip, nd_clip_bound, operator_clip_bound
from .codegen import Kernel
from .engine import FusedRule, Item, register_rule, single_state

__all__ = ["ADAGRAD", "RULE"]

ADAGRAD = Kernel(
    "adagrad",
    states=("history",),
    scalars=("lr", "epsilon", "wd", "rescale", "clip"),
    body=f"""
        T G = g * rescale;
        {nd_clip("G")}
        history = history + G * G;
        T step = FMA(w, wd, G / SQRT(history + epsilon));
        w = w - step * lr;
    """,
)


def _applies(opt) -> bool:
    from ..adagrad import AdaGrad

    return isinstance(opt, AdaGrad) and type(opt)._step is AdaGrad._step


def _sparse_grad(opt, item: Item) -> tuple[float, float]:
    """``(rescale, clip)`` for a row-sparse gradient (fused-operator semantics)."""
    if item.wd != 0:  # only reachable through a non-finite wd_mult with wd == 0
        raise ValueError(
            "AdaGrad with a row-sparse gradient requires wd == 0 (the parameter's "
            f"effective weight decay is {item.wd})"
        )
    return f32(opt.rescale_grad), operator_clip_bound(opt.clip_gradient)


def _plan(opt, item: Item, ctype: torch.dtype):
    if item.rows is None:
        rescale = in_dtype(opt.rescale_grad, ctype)
        clip = nd_clip_bound(opt.clip_gradient)
    else:
        rescale, clip = _sparse_grad(opt, item)
    return ADAGRAD, (f32(item.lr), f32(opt.float_stable_eps), f32(item.wd), rescale, clip)


def _sparse(opt) -> str:
    # with wd == 0 every effective wd is 0; otherwise the reference raises (or, for a
    # wd_mult of 0, updates lazily itself)
    return "lazy" if opt.wd == 0 else "reference"


RULE = FusedRule(
    applies=_applies,
    states_of=single_state,
    kernels=(ADAGRAD,),
    plan=_plan,
    sparse=_sparse,
)
register_rule("adagrad", RULE)
