"""Running a kernel: the compiled library of each kernel, the pointer table, the C call.

:func:`launch` is what rules call: one C call that updates many tensors (:class:`Item`)
in one pass over their memory. A row-sparse item contributes one pointer row per row its
gradient holds (addresses computed with torch, no copies).
"""

from __future__ import annotations

import ctypes
import os
import threading
from array import array
from collections.abc import Callable, Sequence
from dataclasses import replace
from itertools import chain
from operator import attrgetter, itemgetter
from typing import Any, NamedTuple

import numpy as np
import torch

from . import build
from .codegen import Kernel, pointer_count, render

__all__ = [
    "Item", "Tables", "launch", "library", "forget", "function", "call", "bump_versions",
    "run_with_tables",
]  # fmt: skip


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


# Memos, keyed with the compiler and cache settings (``_settings()``) they were built under.
_libraries: dict[tuple, ctypes.CDLL] = {}  # (kernel names, variant, *settings) -> library
_functions: dict[tuple, Any] = {}  # (kernel name, variant, *settings) -> C function
# Per Python thread (kernels release the GIL): the buffer of the kernels' partial sums
# and multi-pass scratch, kept and grown to the largest call (see ``_work_buffer``).
_work = threading.local()


def _settings() -> tuple[str | None, str | None]:
    return os.environ.get("CC"), os.environ.get("MXOPT_CACHE_DIR")


def library(kernels: Sequence[Kernel], variant: str) -> ctypes.CDLL | None:
    """The compiled library of ``kernels`` (a rule's) for one storage variant, built on
    first use: one compiler run for them all, and only for the variant a call needs (a
    float32 model compiles no float64 or float16 code). ``None`` if it cannot be built."""
    key = (tuple(k.name for k in kernels), variant, *_settings())
    lib = _libraries.get(key)
    if lib is not None:
        return lib
    chosen = [replace(k, variants=(variant,)) for k in kernels if variant in k.variants]
    lib = build.load(render(chosen)) if chosen else None
    if lib is not None:
        _libraries[key] = lib
        for k in chosen:  # (a kernel shared by two rules keeps its first library)
            _functions.setdefault((k.name, variant, *_settings()), _bind(lib, k, variant))
    return lib


def _bind(lib: ctypes.CDLL, kernel: Kernel, variant: str) -> Any:
    fn = getattr(lib, kernel.symbol(variant))
    fn.argtypes = [ctypes.c_int64] + [ctypes.c_void_p] * 4
    fn.restype = None
    fn.max_threads = lib.mxopt_max_threads
    return fn


def forget(kernel_names: Sequence[str]) -> None:
    """Drop the memoised libraries and functions of these kernels (a rule was replaced)."""
    names = set(kernel_names)
    for key in [key for key in _libraries if names.intersection(key[0])]:
        del _libraries[key]
    for key in [key for key in _functions if key[0] in names]:
        del _functions[key]


def function(kernel: Kernel, variant: str) -> Any:
    """The C function of ``kernel`` for ``variant`` (from its rule's library, which the
    engine loaded before the call; else built for this kernel alone)."""
    fn = _functions.get((kernel.name, variant, *_settings()))
    if fn is None:
        lib = library([kernel], variant)
        assert lib is not None  # try_step checked
        fn = _functions[(kernel.name, variant, *_settings())]
    return fn


def call(kernel: Kernel, variant: str, nt: int, ptrs, numels, scalars) -> torch.Tensor | None:
    """One C call over ``nt`` tensors from flat tables (``array``s or int64/float64 tensors):
    ``ptrs`` (:func:`~.codegen.pointer_count` addresses per tensor), ``numels`` and
    ``scalars`` (``len(kernel.scalars)`` per tensor, at least one). Returns the per-tensor
    sums (``[nt, len(kernel.accumulators)]`` float64) when the kernel has any."""
    fn = function(kernel, variant)
    acc = buffer = None
    if kernel.accumulators or kernel.scratch:
        threads = fn.max_threads()
        sums = nt * len(kernel.accumulators) * threads
        buffer = _work_buffer(sums + _scratch_doubles(kernel, variant, numels, threads))
        acc = buffer[:sums].view(nt, len(kernel.accumulators), threads)
        acc.zero_()
    fn(
        nt,
        _address(ptrs),
        _address(numels),
        _address(scalars),
        buffer.data_ptr() if buffer is not None else None,
    )
    return acc.sum(dim=2) if kernel.accumulators else None


def _work_buffer(doubles: int) -> torch.Tensor:
    """``doubles`` float64 elements of this thread's work buffer, reallocated only when a
    call needs more: a fresh buffer of a large tensor's size would cost its page faults on
    every step (it is one tensor's worth of scratch, kept between steps)."""
    buffer = getattr(_work, "buffer", None)
    if buffer is None or buffer.numel() < doubles:
        _work.buffer = None  # (freed before the larger one is allocated)
        buffer = _work.buffer = torch.empty(doubles, dtype=torch.float64)
    return buffer[:doubles]


def _scratch_doubles(kernel: Kernel, variant: str, numels, threads: int) -> int:
    """The size, in doubles, of a multi-pass kernel's scratch buffers (see
    :attr:`~.codegen.Kernel.scratch`): per name, the call's largest tensor plus 32
    elements per thread (each thread's share, rounded up), in the compute type."""
    if not kernel.scratch:
        return 0
    top = int(numels.max()) if isinstance(numels, torch.Tensor) else max(numels, default=0)
    elements = len(kernel.scratch) * (top + 32 * threads)
    return elements if variant == "f64" else (elements + 1) // 2


def _address(table) -> int:
    if isinstance(table, torch.Tensor):
        return table.data_ptr()
    if isinstance(table, np.ndarray):
        assert table.flags.c_contiguous
        return table.ctypes.data
    return table.buffer_info()[0]


_bump = getattr(torch.autograd.graph, "increment_version", None)


def bump_versions(tensors: Sequence[torch.Tensor]) -> None:
    """Raw-pointer writes: keep autograd's version counters honest."""
    if _bump is None:
        return
    try:
        _bump(list(tensors))  # torch >= 2.5 takes a list (and skips inference tensors)
    except (TypeError, RuntimeError):
        for t in tensors:
            if not t.is_inference():
                _bump(t)


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


_w, _g, _low, _rows, _states = map(attrgetter, ("w", "g", "low", "rows", "states"))
_NONE_ID = {id(None)}


def _no_states(item: Item) -> tuple[torch.Tensor, ...]:
    return ()


_ptr = torch.Tensor.data_ptr


class Tables:
    """The pointer tables of one list of items whose addresses are already known (a
    replayed call, see :mod:`.replay`): ``table_for(kernel, variant, stateless)`` gives the
    table of a kernel that takes all of each item's states (or, ``stateless``, none), else
    ``None``; ``numels`` the element counts. A launch over these items, or over some of
    them (the same ``Item`` objects), takes its rows of those tables."""

    __slots__ = ("items", "table_for", "numels", "_position")

    def __init__(self, items: list[Item], table_for: Callable, numels: array) -> None:
        self.items, self.table_for, self.numels = items, table_for, numels
        self._position: dict[int, int] | None = None

    def rows_of(self, items: Sequence[Item]) -> list[int] | None:
        """Where each of ``items`` is in :attr:`items` (``None`` if one is not there)."""
        if self._position is None:
            self._position = dict(zip(map(id, self.items), range(len(self.items))))
        rows = list(map(self._position.get, map(id, items)))
        return None if None in rows else rows


_known: list[Tables] = []  # the tables of the items being run (a replayed call), if any


def run_with_tables(tables: Tables, run: Callable[[], None]) -> None:
    """Run ``run()``; launches over exactly ``tables.items`` use the known tables."""
    _known.append(tables)
    try:
        run()
    finally:
        _known.pop()


def _known_table(kernel: Kernel, variant: str, items, pick) -> tuple[Any, Any] | None:
    """The pointer table and element counts of a launch over (some of) a replayed call's
    items, from the addresses the replay knows; ``None`` if they do not cover it."""
    if not _known or pick not in (_states, _no_states):
        return None
    known = _known[-1]
    if items is known.items:
        rows = None
    else:
        rows = known.rows_of(items)
        if rows is None:
            return None
    table = known.table_for(kernel, variant, pick is _no_states)
    if table is None:
        return None
    if rows is None:
        return table, known.numels
    npc = pointer_count(kernel, variant)
    picked = np.frombuffer(table, dtype=np.int64).reshape(-1, npc)[rows]
    return picked, np.frombuffer(known.numels, dtype=np.int64)[rows]


def _launch_dense(kernel: Kernel, variant: str, items, scalars, pick) -> torch.Tensor | None:
    """:func:`launch` for dense items: the tables built column by column (C-level maps),
    or taken from a replayed call's known addresses."""
    n_states = len(kernel.states) + len(kernel.row_states)
    if isinstance(scalars, (torch.Tensor, np.ndarray)):  # [len(items), len(kernel.scalars)]
        if tuple(scalars.shape) != (len(items), len(kernel.scalars)) or not kernel.scalars:
            raise ValueError(f"{kernel.name}: expected {len(kernel.scalars)} scalars")
        if isinstance(scalars, np.ndarray):
            flat = np.ascontiguousarray(scalars, dtype=np.float64)
        else:
            flat = scalars.to(torch.float64).contiguous()
    elif set(map(len, scalars)) != {len(kernel.scalars)}:
        raise ValueError(f"{kernel.name}: expected {len(kernel.scalars)} scalars")
    elif kernel.scalars:
        flat = array("d", chain.from_iterable(scalars))
    else:
        flat = array("d", [0.0]) * len(items)
    nt = len(items)
    known = _known_table(kernel, variant, items, pick)
    if known is not None:
        return call(kernel, variant, nt, known[0], known[1], flat)
    chosen = [] if pick is _no_states else list(map(pick, items))
    if chosen and set(map(len, chosen)) != {n_states}:
        raise ValueError(f"{kernel.name}: expected {n_states} state tensors")
    weights = list(map(_w, items))
    columns = [weights]
    if kernel.reads_grad:
        columns.append(list(map(_g, items)))
    columns += [list(map(itemgetter(j), chosen)) for j in range(n_states)]
    npc = pointer_count(kernel, variant)
    if npc > len(columns):  # the low-precision weight copies
        columns.append(list(map(_low, items)))
    table = array("q", bytes(8 * npc * nt))
    for j, column in enumerate(columns):
        table[j::npc] = array("q", map(_ptr, column))
    numels = array("q", map(torch.Tensor.numel, weights))
    return call(kernel, variant, nt, table, numels, flat)


def launch(
    kernel: Kernel,
    variant: str,
    items: Sequence[Item],
    scalars: Sequence[Sequence[float]] | torch.Tensor | np.ndarray,
    states: Callable[[Item], Sequence[torch.Tensor]] | None = None,
) -> torch.Tensor | None:
    """Run ``kernel`` once over ``items`` (one C call, one pass over their memory).

    ``scalars[j]`` are item ``j``'s values for ``kernel.scalars`` (a sequence per item, or
    for dense items a float64 tensor or NumPy array ``[len(items), len(kernel.scalars)]``);
    ``states(item)`` picks the item's tensors for ``kernel.states`` (default: all of
    ``item.states``, or none for a kernel without states). Returns the per-item sums
    (``[len(items), len(kernel.accumulators)]`` float64) when the kernel has any.
    """
    if states is not None:
        pick = states
    elif kernel.states or kernel.row_states:
        pick = _states
    else:  # a kernel over w/g only (a norm pass) takes none of the item's states
        pick = _no_states
    if items and set(map(id, map(_rows, items))) == _NONE_ID:
        return _launch_dense(kernel, variant, items, scalars, pick)
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
            flat_scalars += sc if len(sc) else (0.0,)  # (a sequence or a NumPy row)
            continue
        if kernel.accumulators:
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
        tables = (ptr, torch.cat(counts), torch.cat(scal))
        nt = tables[1].numel()
    else:  # plain arrays: far cheaper to build than tensors for a handful of items
        tables = (array("q", dense_ptrs), array("q", numels), array("d", flat_scalars))
        nt = len(numels)
    if nt == 0:
        return None
    assert len(tables[2]) == nt * ns
    return call(kernel, variant, nt, *tables)
