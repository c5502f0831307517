r"""Gradient clipping as MXNet's Python optimizers do it with NDArray arithmetic.

Adamax, Nadam, DCASGD and SGLD clip with ``mx.nd.clip(G, -c, c)`` whenever
``clip_gradient is not None`` (see :func:`mxopt.ndarray.ops._common.clip_like_ndarray`):

.. math::

    \mathrm{clip}_c(x) = \begin{cases} c & x > c \\ -c & x < -c \\ x & \text{else}\end{cases}

which is the usual clamp for :math:`c \ge 0`, zeroes the gradient for :math:`c = 0` and
maps everything to :math:`\pm c` for :math:`c < 0`. The fused bodies evaluate exactly this
expression with the scalar ``clip``; "no clipping" is :math:`c = +\infty`.
"""

from __future__ import annotations

import math

from ...ndarray.ops._common import f32
from .._beyond import clip_value
from .._common import fused_clip

__all__ = ["nd_clip", "nd_clip_bound", "clip_bound", "operator_clip_bound"]


def nd_clip(x: str) -> str:
    """The C statement clipping the local ``x`` by the kernel scalar ``clip``."""
    return f"{x} = {x} > clip ? clip : ({x} < -clip ? -clip : {x});"


def nd_clip_bound(clip_gradient: float | None) -> float:
    """The ``clip`` scalar for :func:`nd_clip` (``inf`` when there is no clipping)."""
    return math.inf if clip_gradient is None else f32(clip_gradient)


def operator_clip_bound(clip_gradient: float | None) -> float:
    """The ``clip`` scalar for ``CLAMP`` in the rules of MXNet's fused operators, which get
    ``clip_gradient`` only when it is truthy and clip only when it is ``>= 0`` (``inf``
    otherwise)."""
    clip = f32(fused_clip(clip_gradient))
    return clip if clip >= 0 else math.inf


def clip_bound(clip_gradient: float | None) -> float:
    """The ``clip`` scalar for ``CLAMP`` in the rules beyond MXNet (AdaBelief, LANS,
    Lion), which clip only with a positive ``clip_gradient`` (``inf`` otherwise)."""
    threshold = clip_value(clip_gradient)
    return math.inf if threshold is None else f32(threshold)
