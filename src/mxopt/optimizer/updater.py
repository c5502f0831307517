"""``Updater``: applies an optimizer to indexed parameters and owns their states."""

from __future__ import annotations

from itertools import repeat
from operator import attrgetter
from typing import Any

import torch

from . import fused, serialization
from ._checks import check_pairs
from .optimizer import Optimizer

__all__ = ["Updater", "get_updater"]


class Updater:
    """Calls ``optimizer`` for ``updater(index, grad, weight)`` — gradient first, as in
    MXNet — creating each index's state on its first update.

    Given lists, and when the optimizer aggregates (``aggregate_num > 0``), parameters are
    grouped by dtype and passed to the optimizer in chunks of ``aggregate_num``. On the
    fused fast path each dtype group goes in one call whenever that gives the same result
    (distinct indices with equal update counts), so one kernel call updates them all.

    >>> import torch, mxopt as mx
    >>> updater = mx.optimizer.get_updater(mx.optimizer.SGD(learning_rate=0.1))
    >>> w = torch.ones(3)
    >>> updater(0, torch.full((3,), 0.5), w)
    >>> w
    tensor([0.9500, 0.9500, 0.9500])
    >>> blob = updater.get_states(dump_optimizer=True)   # bytes, not a pickle
    """

    def __init__(self, optimizer: Optimizer) -> None:
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"optimizer must be an Optimizer, got {type(optimizer).__name__}")
        self.optimizer = optimizer
        self.states: dict[Any, Any] = {}
        self.states_synced: dict[Any, bool] = {}

    @property
    def aggregate_updates(self) -> bool:
        return self.optimizer.aggregate_num > 0

    def __call__(self, index, grad, weight) -> None:
        if isinstance(index, (list, tuple)):
            indices = (
                list(map(_as_key, index))
                if any(map(isinstance, index, repeat(bytes)))
                else list(index)
            )
            grads, weights = list(grad), list(weight)
            if not len(indices) == len(grads) == len(weights):
                raise ValueError(
                    "index, grad and weight lists must have the same length, got "
                    f"{len(indices)}, {len(grads)}, {len(weights)}"
                )
        else:
            indices, grads, weights = [_as_key(index)], [grad], [weight]
        if len(indices) > 1 and self._replayed(indices, weights, grads):
            return
        check_pairs(weights, grads)
        if weights:
            self.optimizer._set_current_context(weights[0].device.index or 0)
        states, synced = self.states, self.states_synced
        ready = all(map(states.__contains__, indices))  # (the common case, at once)
        if not (ready and all(map(synced.get, indices, repeat(True)))):
            for idx, w in zip(indices, weights):
                if idx not in states:
                    states[idx] = self.optimizer.create_state_multi_precision(idx, w)
                    synced[idx] = True
                elif not synced.get(idx, True):
                    states[idx] = self.sync_state_context(states[idx], w.device)
                    synced[idx] = True
        if self._batches_for_fast_path(indices, weights):
            self._update(indices, weights, grads, list(map(states.__getitem__, indices)))
        elif self.aggregate_updates:
            self._update_aggregated(indices, weights, grads)
        else:
            for idx, w, g in zip(indices, weights, grads):
                self._update(idx, w, g, states[idx])

    def _replayed(self, indices: list, weights: list, grads: list) -> bool:
        """A steady training step on the fast path's remembered layout (see
        ``optimizer/fused/replay.py``): the pair, state and device checks of the full path
        below are made by matching the layout, then the counts and rates are taken and the
        kernels run (after the optimizer's own ``_check_batch``, which may raise before
        anything changes). ``False``, with nothing changed, whenever the call is not
        exactly such a step; the full path then runs (and raises what it raises)."""
        opt = self.optimizer
        cls = type(opt)
        states = self.states
        if not (
            type(self) is Updater
            and _keeps_base_update(opt)
            and getattr(opt.update, "__func__", None) is Optimizer.update
            and cls._apply is Optimizer._apply
            and cls._validate_states is Optimizer._validate_states
            and self._one_fast_batch(indices)
            and isinstance(weights[0], torch.Tensor)
            and not opt._uses_master_copy(weights[0])
            and (weights[0].device.index or 0) == opt._current_device
            and all(map(states.__contains__, indices))
            and all(map(self.states_synced.get, indices, repeat(True)))
        ):
            return False

        def bookkeeping() -> tuple[list[float], list[float]]:
            opt._check_batch(indices, weights)  # (as ``_apply`` does first)
            if opt._counts_updates:
                opt._update_count(indices)
            return opt._get_lrs(indices), opt._get_wds(indices)

        current = list(map(states.__getitem__, indices))
        return fused.replay_step(opt, indices, weights, grads, current, bookkeeping)

    def _batches_for_fast_path(self, indices: list, weights: list) -> bool:
        """Whether to hand the fast path every parameter in one call.

        Only when that gives exactly what MXNet's one-at-a-time (or chunked) calls give:
        one dtype (so the order is unchanged), distinct indices that all have the same
        update count (so every parameter sees the same ``num_update`` and learning
        rate)."""
        return (
            self._one_fast_batch(indices)
            and len(set(map(_dtype, weights))) == 1
            and fused.rule_for(self.optimizer) is not None
        )

    def _one_fast_batch(self, indices: list) -> bool:
        """The index side of a whole call on the fast path: an optimizer that counts
        updates (or needs no count) with the fast path on, and at least two distinct
        indices with the same update count."""
        opt = self.optimizer
        counts = opt._index_update_count
        return (
            len(indices) > 1
            and (opt._counts_updates or opt._batch_safe)
            and opt._fused_enabled()
            and len(set(indices)) == len(indices)
            and len(set(map(counts.get, indices, repeat(opt.begin_num_update)))) == 1
        )

    def _update_aggregated(self, indices, weights, grads) -> None:
        by_dtype: dict[torch.dtype, list[tuple[Any, torch.Tensor, torch.Tensor]]] = {}
        for item in zip(indices, weights, grads):
            by_dtype.setdefault(item[1].dtype, []).append(item)
        size = self.optimizer.aggregate_num
        for items in by_dtype.values():
            for start in range(0, len(items), size):
                chunk = items[start : start + size]
                idx, ws, gs = (tuple(x) for x in zip(*chunk))
                states = [self.states[i] for i in idx]
                self._update(list(idx), list(ws), list(gs), states)

    def _update(self, indices, weights, grads, states) -> None:
        """``optimizer.update_multi_precision``, skipping the pair checks ``__call__`` ran
        when the optimizer does not override it."""
        opt = self.optimizer
        if _keeps_base_update(opt):
            opt._update_multi_precision(indices, weights, grads, states, checked=True)
        else:
            opt.update_multi_precision(indices, weights, grads, states)

    def sync_state_context(self, state: Any, device: torch.device) -> Any:
        """``state`` with every tensor moved to ``device`` (tuple/list types kept)."""
        if isinstance(state, torch.Tensor):
            return state.to(device)
        if isinstance(state, (tuple, list)):
            return type(state)(self.sync_state_context(s, device) for s in state)
        return state

    def get_states(self, dump_optimizer: bool = False) -> bytes:
        """The states (and, with ``dump_optimizer``, the optimizer with its counters and
        scheduler) as bytes in mxopt's safe format (not a pickle)."""
        return serialization.dumps((self.states, self.optimizer) if dump_optimizer else self.states)

    def set_states(self, states: bytes) -> None:
        """Load what :meth:`get_states` returned. A dumped optimizer replaces
        ``self.optimizer``; states move to each weight's device at its next update."""
        loaded = serialization.loads(states)
        if isinstance(loaded, tuple) and len(loaded) == 2:
            new_states, optimizer = loaded
            if not isinstance(optimizer, Optimizer):
                raise ValueError("the dumped optimizer is not an Optimizer")
        else:
            new_states, optimizer = loaded, self.optimizer
        if not isinstance(new_states, dict):
            raise ValueError("optimizer states must be a dict of index to state")
        self.states, self.optimizer = new_states, optimizer
        self.states_synced = dict.fromkeys(self.states, False)


_dtype = attrgetter("dtype")


def _keeps_base_update(opt: Optimizer) -> bool:
    """Whether ``opt`` keeps the base class's ``update_multi_precision`` (so the
    ``Updater`` may skip the pair checks it has already made)."""
    return getattr(opt.update_multi_precision, "__func__", None) is Optimizer.update_multi_precision


def _as_key(index: Any) -> Any:
    return index.decode() if isinstance(index, bytes) else index


def get_updater(optimizer: Optimizer) -> Updater:
    """An :class:`Updater` for ``optimizer`` (MXNet's ``get_updater``)."""
    return Updater(optimizer)
