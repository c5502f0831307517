r"""Fused RMSProp: the rules of :func:`mxopt.ndarray.ops.rmsprop.rmsprop_update` and
``rmspropalex_update`` (centered), each in one pass over memory.

With :math:`G = \mathrm{clip}(r g + \lambda w)`:

.. math::

    \text{plain:}\quad n \leftarrow \gamma_1 n + (1-\gamma_1) G^2,\quad
        w \leftarrow w - \eta\, G / \sqrt{n + \epsilon}

    \text{centered:}\quad n \leftarrow \gamma_1 n + (1-\gamma_1) G^2,\quad
        \bar g \leftarrow \gamma_1 \bar g + (1-\gamma_1) G,\quad
        \delta \leftarrow \gamma_2 \delta - \eta\, G / \sqrt{n - \bar g^2 + \epsilon},\quad
        w \leftarrow w + \delta

then :math:`w \leftarrow \mathrm{clip}(w, c_w)` when ``clip_weights`` is set. The
moving averages use ``fma`` where the reference adds with ``alpha`` (as torch does).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

from ...ndarray.ops._common import f32, in_dtype
from ._ndclip import operator_clip_bound
from .codegen import Kernel
from .engine import FusedRule, Item, launch, register_rule

__all__ = ["RMSPROP", "RMSPROP_CENTERED", "RULE"]

_GRAD = "T G = g * rescale + w * wd;\nG = CLAMP(G, clip);"
# the scalars after the decay rates, in the order _scalars gives them
_TAIL = ("epsilon", "wd", "rescale", "clip", "clip_weights")
_CLIP_WEIGHTS = "w = CLAMP(w, clip_weights);"

RMSPROP = Kernel(
    "rmsprop",
    states=("n",),
    scalars=("lr", "gamma1", "one_minus_gamma1", *_TAIL),
    body=f"""
        {_GRAD}
        n = FMA(G * G, one_minus_gamma1, n * gamma1);
        w = w - (G / SQRT(n + epsilon)) * lr;
        {_CLIP_WEIGHTS}
    """,
)
RMSPROP_CENTERED = Kernel(
    "rmsprop_centered",
    states=("n", "g_avg", "delta"),
    scalars=("lr", "gamma1", "one_minus_gamma1", "gamma2", *_TAIL),
    body=f"""
        {_GRAD}
        n = FMA(G * G, one_minus_gamma1, n * gamma1);
        g_avg = FMA(G, one_minus_gamma1, g_avg * gamma1);
        T denom = SQRT((n - g_avg * g_avg) + epsilon);
        delta = delta * gamma2 - (G / denom) * lr;
        w = w + delta;
        {_CLIP_WEIGHTS}
    """,
)


def _applies(opt) -> bool:
    from ..rmsprop import RMSProp

    return isinstance(opt, RMSProp) and type(opt)._step is RMSProp._step


def _states_of(state) -> tuple[torch.Tensor, ...] | None:
    """``(n,)`` or ``(n, g_avg, delta)``."""
    ok = isinstance(state, tuple) and len(state) in (1, 3)
    return state if ok and all(isinstance(t, torch.Tensor) for t in state) else None


def _scalars(opt, item: Item, ctype: torch.dtype) -> list[float]:
    g1 = f32(opt.gamma1)
    head = [f32(item.lr), g1, in_dtype(1.0 - g1, ctype)]
    if opt.centered:
        head.append(f32(opt.gamma2))
    return head + [
        f32(opt.epsilon),
        f32(item.wd),
        f32(opt.rescale_grad),
        operator_clip_bound(opt.clip_gradient),
        operator_clip_bound(opt.clip_weights),
    ]


def _run(opt, items: list[Item], ctype: torch.dtype, variant: str) -> None:
    if opt.centered:
        for item in items:
            if len(item.states) != 3:  # the reference fails to unpack it too
                raise ValueError("centered RMSProp needs the state (n, g, delta)")
        kernel, pick = RMSPROP_CENTERED, None
    else:  # the reference reads n = state[0] only (of the usual (n,), or of a longer tuple)
        kernel, pick = RMSPROP, None
        if any(len(item.states) != 1 for item in items):
            pick = _first_state
    memo: dict[tuple[float, float], list[float]] = {}
    scalars = []
    for item in items:  # (one set per distinct lr and wd)
        key = (item.lr, item.wd)
        if key not in memo:
            memo[key] = _scalars(opt, item, ctype)
        scalars.append(memo[key])
    launch(kernel, variant, items, scalars, states=pick)


def _first_state(item: Item) -> Sequence[torch.Tensor]:
    return item.states[:1]


RULE = FusedRule(
    applies=_applies,
    states_of=_states_of,
    kernels=(RMSPROP, RMSPROP_CENTERED),
    run=_run,
    sparse="lazy",  # both reference operators update only the rows present
)
register_rule("rmsprop", RULE)
