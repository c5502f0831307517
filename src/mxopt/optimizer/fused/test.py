r"""Fused ``Test`` optimizer: :math:`w \leftarrow w + r g`, then the float32 state holds
:math:`w`; one pass over w, g and the state for float32 weights and master copies.

.. math::

    w \leftarrow w + r\,g \quad(\text{``fma``, as torch's ``add_(g, alpha=r)``}),\qquad
    s \leftarrow w

:math:`r` is float32-rounded, as in the reference. The state is float32 whatever the
weight's type, which the engine does not take as a float64 weight's state, so
:func:`_states_of` hands the engine an empty state tuple that carries it
(:class:`_Carried`) and :func:`_run` passes it to the kernel itself. For float64 weights
(no kernel variant stores a float32 state) the kernel updates ``w`` and the state is
copied afterwards (a second pass; float64 ``Test`` is not a performance case).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

from ...ndarray.ops._common import f32
from .codegen import Kernel
from .engine import FusedRule, Item, bump_versions, launch, register_rule

__all__ = ["TEST", "TEST_WEIGHT", "RULE"]

TEST = Kernel(
    "test",
    states=("copy",),
    scalars=("rescale",),
    body="w = FMA(g, rescale, w);\ncopy = w;",
)
TEST_WEIGHT = Kernel("test_weight", states=(), scalars=("rescale",), body="w = FMA(g, rescale, w);")


class _Carried(tuple):
    """An empty state tuple for the engine (nothing for it to check, pass or bump) that
    carries the optimizer's float32 state tensor to :func:`_run`."""

    state: torch.Tensor

    def __new__(cls, state: torch.Tensor) -> _Carried:
        self = super().__new__(cls)
        self.state = state
        return self


def _applies(opt) -> bool:
    from ..test import Test

    return isinstance(opt, Test) and type(opt)._step is Test._step


def _states_of(state) -> tuple[torch.Tensor, ...] | None:
    ok = (
        isinstance(state, torch.Tensor)
        and state.layout == torch.strided
        and state.dtype == torch.float32
        and state.is_contiguous()
        and not state.is_conj()
        and not state.is_neg()
        and not (state.requires_grad and torch.is_grad_enabled())
    )
    return _Carried(state) if ok else None


def _fits(item: Item) -> bool:
    """Whether the carried state can go to the kernel with ``item`` (the engine checked
    everything else)."""
    state = item.states.state
    if state.shape != item.w.shape or state.device != item.w.device:
        return False
    others = {t.data_ptr() for t in (item.w, item.g, item.low) if t is not None}
    return state.data_ptr() not in others


def _carried(item: Item) -> Sequence[torch.Tensor]:
    return (item.states.state,)


def _by_torch(item: Item, rescale: float) -> None:
    """The reference's arithmetic for an item whose state the kernel cannot take."""
    item.w.add_(item.g.to(item.w.dtype), alpha=rescale)
    item.states.state.copy_(item.w)
    if item.low is not None:
        item.low.copy_(item.w)


def _run(opt, items: list[Item], ctype: torch.dtype, variant: str) -> None:
    rescale = f32(opt.rescale_grad)
    fused, odd = [], []
    for item in items:
        (fused if _fits(item) else odd).append(item)
    scalars = [(rescale,)] * len(fused)
    if variant == "f64":
        launch(TEST_WEIGHT, variant, fused, scalars)
        for item in fused:
            item.states.state.copy_(item.w)
    else:
        launch(TEST, variant, fused, scalars, states=_carried)
        bump_versions([item.states.state for item in fused])  # (the engine bumps w, low)
    for item in odd:
        _by_torch(item, rescale)


RULE = FusedRule(
    applies=_applies,
    states_of=_states_of,
    kernels=(TEST, TEST_WEIGHT),
    run=_run,
    sparse="dense",  # the reference densifies row-sparse gradients
)
register_rule("test", RULE)
