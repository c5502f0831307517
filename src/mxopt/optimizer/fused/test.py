r"""Fused ``Test`` optimizer: :math:`w \leftarrow w + r g`, then the float32 state holds
:math:`w`; one pass over w, g and the state.

.. math::

    w \leftarrow w + r\,g \quad(\text{``fma``, as torch's ``add_(g, alpha=r)``}),\qquad
    s \leftarrow w

:math:`r` is float32-rounded, as in the reference. The state is only written, never read
(:attr:`~.codegen.Kernel.write_only`: 16 bytes per float32 parameter, not 20). It is
float32 whatever the weight's type (``state_dtype``): the float64 kernel rounds
:math:`w` to float32 as it stores it, as ``copy_`` does.
"""

from __future__ import annotations

import torch

from ...ndarray.ops._common import f32
from .codegen import Kernel
from .engine import FusedRule, Item, register_rule

__all__ = ["TEST", "RULE"]

TEST = Kernel(
    "test",
    states=("copy",),
    scalars=("rescale",),
    body="w = FMA(g, rescale, w);\ncopy = w;",
    write_only=("copy",),
    state_storage="float",
)


def _applies(opt) -> bool:
    from ..test import Test

    return isinstance(opt, Test) and type(opt)._step is Test._step


def _states_of(state) -> tuple[torch.Tensor, ...] | None:
    """The state tensor itself (the engine checks it has the weight's dtype and shape)."""
    return (state,) if isinstance(state, torch.Tensor) else None


def _plan(opt, item: Item, ctype: torch.dtype):
    return TEST, (f32(opt.rescale_grad),)


RULE = FusedRule(
    applies=_applies,
    states_of=_states_of,
    kernels=(TEST,),
    plan=_plan,
    state_dtype=torch.float32,
    sparse="dense",  # the reference densifies row-sparse gradients
)
register_rule("test", RULE)
