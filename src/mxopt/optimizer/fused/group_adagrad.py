r"""Fused GroupAdaGrad: the contrib optimizer's rule (and of
:func:`mxopt.ndarray.ops.group_adagrad.group_adagrad_update`) row by row, one pass from
memory per row.

For a 2-D weight with :math:`C` columns, :math:`G = \mathrm{clip}(r g)` and the history
:math:`h` of shape ``(rows, 1)``:

.. math::

    h_i \leftarrow h_i + \Big(\sum_j G_{ij}^2\Big) \Big/ C,\qquad
    w_{ij} \leftarrow w_{ij} - (\eta\, G_{ij}) \big/ \sqrt{h_i + \epsilon}

A row kernel: one thread takes a whole row, sums :math:`G^2` over it (``pre``, in
double, then rounded to the compute type and divided by :math:`C` as the reference's
``mean`` does; the reference sums in the compute type, so float32 results differ by the
rounding of that sum only), updates :math:`h_i` once (``mid``) and updates the row while
it is still in cache (``body``); while it sums, it also reads the row's weights, so that
both streams come from memory at once. Weights with one column (1-D parameters reshaped
to ``(n, 1)``) run the same operations element by element, vectorized across the rows
(:func:`.codegen._single_column`).

The reference has two paths, chosen by the gradient: a dense gradient follows the Python
optimizer (scalars rounded to the weight's type with ``in_dtype``, NDArray clipping
whenever ``clip_gradient is not None``), a row-sparse one the operator (``f32`` scalars,
the fused operators' clipping rule) and updates only its rows. Both are the same kernel
with a ``clip`` bound for the NDArray clipping expression (:mod:`._ndclip`).
"""

from __future__ import annotations

from operator import attrgetter, itemgetter

import numpy as np
import torch

from ...ndarray.ops._common import f32, in_dtype, in_dtype_all
from ._ndclip import nd_clip, nd_clip_bound, operator_clip_bound
from .codegen import Kernel
from .engine import FusedRule, Item, launch, register_rule, single_state

__all__ = ["GROUP_ADAGRAD", "RULE"]

_lr, _sparse, _shape = attrgetter("lr"), attrgetter("sparse"), attrgetter("w.shape")
_second = itemgetter(1)

_GRAD = f"T G = g * rescale;\n{nd_clip('G')}"

GROUP_ADAGRAD = Kernel(
    "group_adagrad",
    states=(),
    row_states=("history",),
    scalars=("lr", "epsilon", "rescale", "clip", "cols"),
    pre=_GRAD + "\nacc_gsq += (double)(G * G);",
    pre_sums=("gsq",),
    mid="history = history + (T)acc_gsq / cols;",
    body=_GRAD + "\nw = w - (G * lr) / SQRT(history + epsilon);",
)


def _applies(opt) -> bool:
    from ..group_adagrad import GroupAdaGrad
    from ..optimizer import Optimizer

    cls = type(opt)
    return (
        isinstance(opt, GroupAdaGrad)
        and cls._step is GroupAdaGrad._step
        and cls._step_multi_precision is Optimizer._step_multi_precision
    )


def _run(opt, items: list[Item], ctype: torch.dtype, variant: str) -> None:
    """The scalars of all items at once (NumPy, the same roundings as per-item Python
    floats), then one launch.

    Dense gradients follow the Python optimizer (``in_dtype`` scalars, NDArray clipping),
    row-sparse ones the operator (``f32`` scalars, ``clip`` from
    :func:`operator_clip_bound`)."""
    n = len(items)
    lrs = list(map(_lr, items))
    table = np.empty((n, len(GROUP_ADAGRAD.scalars)))
    table[:, 0] = in_dtype(lrs[0], ctype) if lrs.count(lrs[0]) == n else in_dtype_all(lrs, ctype)
    table[:, 1] = in_dtype(opt.float_stable_eps, ctype)
    table[:, 2] = in_dtype(opt.rescale_grad, ctype)
    table[:, 3] = nd_clip_bound(opt.clip_gradient)
    table[:, 4] = list(map(_second, map(_shape, items)))
    if any(map(_sparse, items)):  # the operator's rule
        sparse = np.flatnonzero(list(map(_sparse, items)))
        table[sparse, 0] = in_dtype_all([lrs[k] for k in sparse], torch.float32)
        table[sparse, 1:4] = (f32(opt.float_stable_eps), f32(opt.rescale_grad),
                              operator_clip_bound(opt.clip_gradient))  # fmt: skip
    launch(GROUP_ADAGRAD, variant, items, table)


RULE = FusedRule(
    applies=_applies,
    states_of=single_state,
    kernels=(GROUP_ADAGRAD,),
    run=_run,
    sparse="lazy",  # the operator updates only the gradient's rows
    rows=True,
)
register_rule("groupadagrad", RULE)
