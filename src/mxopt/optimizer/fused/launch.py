"""Running a kernel: the compiled library of each kernel, the pointer table, the C call.

:func:`launch` is what rules call: one C call that updates many tensors (:class:`Item`)
in one pass over their memory. A row-sparse item contributes one pointer row per row its
gradient holds (addresses computed with torch, no copies).
"""

from __future__ import annotations

import ctypes
import os
from array import array
from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

import torch

from . import build
from .codegen import Kernel, pointer_count, render

__all__ = ["Item", "launch", "library", "forget"]


class Item(NamedTuple):
    """One parameter's share of a fused step.

    ``w`` is the tensor the kernel updates (the float32 master copy under multi-precision,
    then ``low`` is the float16/bfloat16 weight the kernel also writes); ``g`` the gradient
    (the values of a row-sparse gradient, then ``rows`` holds its row indices); ``states``
    the state tensors in the kernel's order; ``lr``/``wd`` the per-parameter rates."""

    index: Any
    w: torch.Tensor
    g: torch.Tensor
    states: tuple[torch.Tensor, ...]
    lr: float
    wd: float
    low: torch.Tensor | None = None
    rows: torch.Tensor | None = None
    sparse: bool = False  # the gradient came row-sparse (``g`` holds its rows' values)


_sources: dict[str, str] = {}  # kernel name -> its rendered C source (memo)
_libraries: dict[tuple, ctypes.CDLL] = {}  # (kernel name, CC, cache dir) -> library


def library(kernel: Kernel) -> ctypes.CDLL | None:
    """The compiled library holding ``kernel`` (one per kernel, built on first use)."""
    key = (kernel.name, os.environ.get("CC"), os.environ.get("MXOPT_CACHE_DIR"))
    lib = _libraries.get(key)
    if lib is not None:
        return lib
    source = _sources.get(kernel.name)
    if source is None:
        source = _sources[kernel.name] = render([kernel])
    lib = build.load(source)
    if lib is not None:
        _libraries[key] = lib
    return lib


def forget(kernel_names: Sequence[str]) -> None:
    """Drop the memoised source and libraries of these kernels (a rule was replaced)."""
    for name in kernel_names:
        _sources.pop(name, None)
        for key in [key for key in _libraries if key[0] == name]:
            del _libraries[key]


def _pointer_rows(kernel: Kernel, item: Item, states, with_low: bool) -> torch.Tensor:
    """The addresses a row-sparse ``item`` contributes to a launch: one row per row."""
    operands = [item.w]
    if kernel.reads_grad:
        operands.append(item.g)
    operands += list(states)
    if with_low:
        operands.append(item.low)
    rows = item.rows.to(torch.int64)
    cols = []
    for t in operands:
        row_bytes = t.numel() // max(t.shape[0], 1) * t.element_size()
        if t is item.g:  # the gradient's rows are in ``rows`` order (sparse values)
            base = torch.arange(rows.numel(), dtype=torch.int64) * row_bytes
        else:
            base = rows * row_bytes
        cols.append(base + t.data_ptr())
    return torch.stack(cols, dim=1)


def _item_states(item: Item) -> tuple[torch.Tensor, ...]:
    return item.states


def _no_states(item: Item) -> tuple[torch.Tensor, ...]:
    return ()


def launch(
    kernel: Kernel,
    variant: str,
    items: Sequence[Item],
    scalars: Sequence[Sequence[float]],
    states: Callable[[Item], Sequence[torch.Tensor]] | None = None,
) -> torch.Tensor | None:
    """Run ``kernel`` once over ``items`` (one C call, one pass over their memory).

    ``scalars[j]`` are item ``j``'s values for ``kernel.scalars``; ``states(item)`` picks
    the item's tensors for ``kernel.states`` (default: all of ``item.states``, or none for a
    kernel without states). Returns
    the per-item sums (``[len(items), len(kernel.sums)]`` float64) when the kernel has any.
    """
    lib = library(kernel)
    assert lib is not None  # try_step checked
    fn = getattr(lib, kernel.symbol(variant))
    if fn.argtypes is None:
        fn.argtypes = [ctypes.c_int64] + [ctypes.c_void_p] * 4
        fn.restype = None
    if states is not None:
        pick = states
    elif kernel.states or kernel.row_states:
        pick = _item_states
    else:  # a kernel over w/g only (a norm pass) takes none of the item's states
        pick = _no_states
    dense_ptrs: list[int] = []
    blocks: list[torch.Tensor] = []
    numels: list[int] = []
    flat_scalars: list[float] = []
    ns = max(len(kernel.scalars), 1)
    n_states = len(kernel.states) + len(kernel.row_states)
    with_low = pointer_count(kernel, variant) > 1 + kernel.reads_grad + n_states
    for item, sc in zip(items, scalars):
        if len(sc) != len(kernel.scalars):
            raise ValueError(f"{kernel.name}: expected {len(kernel.scalars)} scalars")
        chosen = pick(item)
        if len(chosen) != n_states:
            raise ValueError(f"{kernel.name}: expected {n_states} state tensors")
        if item.rows is None:  # the common case, inline: w, [g], states, [low]
            dense_ptrs.append(item.w.data_ptr())
            if kernel.reads_grad:
                dense_ptrs.append(item.g.data_ptr())
            dense_ptrs += [t.data_ptr() for t in chosen]
            if with_low:
                dense_ptrs.append(item.low.data_ptr())
            numels.append(item.w.numel())
            flat_scalars += sc or (0.0,)
            continue
        if kernel.sums:
            raise ValueError(f"{kernel.name}: sums over row-sparse items are not supported")
        blocks.append(_pointer_rows(kernel, item, chosen, with_low))
    if blocks:  # sparse rows go after the dense tensors, each row its own "tensor"
        npc = pointer_count(kernel, variant)
        parts = [torch.tensor(dense_ptrs, dtype=torch.int64).view(-1, npc), *blocks]
        ptr = torch.cat(parts).contiguous()
        counts = [torch.tensor(numels, dtype=torch.int64)]
        scal = [torch.tensor(flat_scalars, dtype=torch.float64)]
        for item, sc in zip(items, scalars):
            if item.rows is not None:
                r = item.rows.numel()
                counts.append(torch.full((r,), item.w.numel() // max(item.w.shape[0], 1)))
                one = torch.tensor(list(sc) or [0.0], dtype=torch.float64)
                scal.append(one.repeat(r))
        n_t, s_t = torch.cat(counts), torch.cat(scal)
        nt = n_t.numel()
        addresses = (ptr.data_ptr(), n_t.data_ptr(), s_t.data_ptr())
        keep = (ptr, n_t, s_t)  # alive until the call returns
    else:  # plain arrays: far cheaper to build than tensors for a handful of items
        keep = (array("q", dense_ptrs), array("q", numels), array("d", flat_scalars))
        nt = len(numels)
        addresses = tuple(a.buffer_info()[0] for a in keep)
    if nt == 0:
        return None
    assert len(keep[2]) == nt * ns
    acc = None
    if kernel.sums:
        threads = lib.mxopt_max_threads()
        acc = torch.zeros((nt, len(kernel.sums), threads), dtype=torch.float64)
    fn(nt, *addresses, acc.data_ptr() if acc is not None else None)
    return acc.sum(dim=2) if acc is not None else None
