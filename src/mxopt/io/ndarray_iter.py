"""``NDArrayIter``: batches over in-memory tensors / NumPy arrays, as MXNet 1.9.1 yields them."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import torch

from ..ndarray.creation import array
from .base import DataIter
from .desc import DataBatch, DataDesc

__all__ = ["NDArrayIter"]

_HANDLES = ("pad", "discard", "roll_over")
Named = list[tuple[str, torch.Tensor]]
Rng = np.random.Generator | np.random.RandomState | torch.Generator | None


def _to_tensor(value: Any, name: str) -> torch.Tensor:
    # a tensor keeps its dtype (it is MXNet's NDArray); anything else goes through mx.nd.array,
    # which gives float32 like MXNet (float64 / int64 NumPy arrays included)
    if isinstance(value, torch.Tensor):
        return value.detach()
    try:
        return array(value)
    except (TypeError, ValueError, RuntimeError) as err:
        raise TypeError(
            f"input {name!r} must be a torch.Tensor or numpy.ndarray (or array-like), "
            f"got {type(value).__name__}"
        ) from err


def _named_inputs(value: Any, default_name: str, arg: str, allow_empty: bool) -> Named:
    """Canonical form: a name-sorted list of (name, tensor)."""
    if value is None:
        if not allow_empty:
            raise ValueError(f"{arg} must be given (a tensor, a list of tensors or a dict)")
        return []
    if isinstance(value, (torch.Tensor, np.ndarray)):
        value = [value]
    if isinstance(value, (list, tuple)):
        if not value and not allow_empty:
            raise ValueError(f"{arg} must not be an empty list")
        if len(value) == 1:
            value = {default_name: value[0]}
        else:
            value = {f"_{i}_{default_name}": v for i, v in enumerate(value)}
    if not isinstance(value, Mapping):
        raise TypeError(
            f"{arg} must be a torch.Tensor, numpy.ndarray, a list of them or a dict of them, "
            f"got {type(value).__name__}"
        )
    named = []
    for key, item in value.items():
        if not isinstance(key, str):
            raise TypeError(f"{arg} dict keys must be str, got {key!r}")
        named.append((key, _to_tensor(item, key)))
    return sorted(named, key=lambda kv: kv[0])


class NDArrayIter(DataIter):
    r"""Iterate over tensors / NumPy arrays in batches, exactly as MXNet 1.9.1's ``NDArrayIter``.

    **Inputs.** ``data`` and ``label`` are a tensor/array, a list of them or a dict
    ``name -> array``. A NumPy array (or list) becomes a float32 tensor (float64 and int64
    included, as ``mx.nd.array`` does); a ``torch.Tensor`` keeps its dtype. One array is
    named ``data_name`` / ``label_name``; a list of k > 1 arrays is named ``_0_<name>``,
    ``_1_<name>``, ...; inputs are ordered by name. All arrays must hold the same number of
    samples N along the batch axis (the position of ``'N'`` in ``layout``).

    **Batches** of ``batch_size`` = B samples; the end of an epoch depends on
    ``last_batch_handle``:

    * ``'pad'`` (default): the last batch is completed with samples from the start of the
      data (tiled when it needs more than N); ``pad`` = number of filler samples. For N=10,
      B=3: [0,1,2] [3,4,5] [6,7,8] [9,0,1] (pad 2), every epoch.
    * ``'discard'``: the incomplete last batch is dropped.
    * ``'roll_over'``: the incomplete last batch is kept and completed with the first samples
      of the next epoch (after ``reset()``); ``pad`` of that first batch = number of samples
      carried over. N=10, B=3: epoch 0 [0,1,2] [3,4,5] [6,7,8]; epoch 1 [9,0,1] (pad 1)
      [2,3,4] [5,6,7]; epoch 2 [8,9,0] (pad 2) [1,2,3] [4,5,6] [7,8,9].

    **Shuffling** (``shuffle=True``) happens at construction and on every ``reset()`` /
    ``hard_reset()``: an index vector is shuffled in place and the (already shuffled) arrays
    are re-indexed with it. With the default ``rng=None`` the shuffle uses NumPy's global
    stream (``np.random.shuffle``) like MXNet, so ``np.random.seed(s)`` before constructing
    gives the same permutations as MXNet 1.9.1. ``rng`` may be a ``numpy.random.Generator``,
    ``RandomState`` or ``torch.Generator`` instead (different, but reproducible, streams).
    As in MXNet, shuffled arrays become float32.

    >>> import numpy as np, mxopt as mx
    >>> it = mx.io.NDArrayIter(np.arange(10), np.arange(10), batch_size=3)
    >>> [(b.data[0].tolist(), b.pad) for b in it][-1]
    ([9.0, 0.0, 1.0], 2)
    >>> it.provide_data
    [DataDesc[data,(3,),<class 'numpy.float32'>,NCHW]]
    """

    def __init__(
        self,
        data: Any,
        label: Any = None,
        batch_size: int = 1,
        shuffle: bool = False,
        last_batch_handle: str = "pad",
        data_name: str = "data",
        label_name: str = "softmax_label",
        layout: str = "NCHW",
        *,
        rng: Rng = None,
    ) -> None:
        if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)):
            raise TypeError(f"batch_size must be a positive int, got {batch_size!r}")
        if batch_size < 1:
            raise ValueError(f"batch_size must be a positive int, got {batch_size}")
        if last_batch_handle not in _HANDLES:
            raise ValueError(
                f"last_batch_handle must be one of {list(_HANDLES)}, got {last_batch_handle!r}"
            )
        if not isinstance(layout, str) or "N" not in layout:
            raise ValueError(f"layout must be a string containing 'N', got {layout!r}")
        if rng is not None and not isinstance(
            rng, (np.random.Generator, np.random.RandomState, torch.Generator)
        ):
            raise TypeError(
                "rng must be None, a numpy.random.Generator/RandomState or a torch.Generator, "
                f"got {type(rng).__name__}"
            )
        named_data = _named_inputs(data, data_name, "data", allow_empty=False)
        named_label = _named_inputs(label, label_name, "label", allow_empty=True)
        axis = layout.find("N")
        num = None
        for key, tensor in named_data + named_label:
            if tensor.dim() <= axis:
                raise ValueError(
                    f"input {key!r} has shape {tuple(tensor.shape)}: it needs a batch axis "
                    f"{axis} (layout {layout!r})"
                )
            if num is None:
                num = tensor.shape[axis]
            elif tensor.shape[axis] != num:
                raise ValueError(
                    f"all data and label arrays must hold the same number of samples: "
                    f"{named_data[0][0]!r} has {num}, {key!r} has {tensor.shape[axis]}"
                )
        super().__init__(int(batch_size))
        self.data: Named = named_data
        self.label: Named = named_label
        self.layout = layout
        self.shuffle = bool(shuffle)
        self.last_batch_handle = last_batch_handle
        self._axis = axis
        self._rng = rng
        self.idx = np.arange(num)
        self.num_data = int(num)
        self.cursor = -self.batch_size
        # roll_over keeps the incomplete last batch here until the next epoch
        self._cache_data: list[torch.Tensor] | None = None
        self._cache_label: list[torch.Tensor] | None = None
        self.reset()
        self.data_list = [t for _, t in self.data] + [t for _, t in self.label]
        self.num_source = len(self.data_list)

    # -- description -------------------------------------------------------------------------
    def _describe(self, named: Named) -> list[DataDesc]:
        descs = []
        for key, tensor in named:
            shape = list(tensor.shape)
            shape[self._axis] = self.batch_size
            descs.append(DataDesc(key, tuple(shape), _np_dtype(tensor.dtype), layout=self.layout))
        return descs

    @property
    def provide_data(self) -> list[DataDesc]:
        """One ``DataDesc`` per data input; the batch axis holds ``batch_size``."""
        return self._describe(self.data)

    @property
    def provide_label(self) -> list[DataDesc]:
        """One ``DataDesc`` per label input; the batch axis holds ``batch_size``."""
        return self._describe(self.label)

    # -- epoch control -----------------------------------------------------------------------
    def hard_reset(self) -> None:
        """Start over, dropping any roll-over samples (reshuffles when ``shuffle``)."""
        if self.shuffle:
            self._shuffle_data()
        self.cursor = -self.batch_size
        self._cache_data = None
        self._cache_label = None

    def reset(self) -> None:
        """Start the next epoch (reshuffles when ``shuffle``; keeps roll-over samples)."""
        if self.shuffle:
            self._shuffle_data()
        n, b = self.num_data, self.batch_size
        if self.last_batch_handle == "roll_over" and n - b < self.cursor < n:
            # the incomplete last batch held cursor - n... samples; start that far back
            self.cursor = self.cursor - n - b
        else:
            self.cursor = -b

    def iter_next(self) -> bool:
        self.cursor += self.batch_size
        return self.cursor < self.num_data

    def next(self) -> DataBatch:
        if not self.iter_next():
            raise StopIteration
        data = self.getdata()
        label = self.getlabel()
        if data[0].shape[self._axis] != self.batch_size:
            # incomplete last batch (discard / roll_over): keep it for the next epoch
            self._cache_data = data
            self._cache_label = label
            raise StopIteration
        return DataBatch(data=data, label=label, pad=self.getpad(), index=None)

    # -- batch assembly ----------------------------------------------------------------------
    def _slice(self, source: Named, start: int | None = None, end: int | None = None) -> list:
        start = 0 if start is None else start
        end = self.num_data if end is None else end
        return [t.narrow(self._axis, start, end - start).clone() for _, t in source]

    def _concat(self, first: list, second: list) -> list:
        if not first or not second:
            return first if first else second
        return [torch.cat((a, b), dim=self._axis) for a, b in zip(first, second, strict=True)]

    def _tile(self, parts: list, repeats: int) -> list:
        return [torch.cat([p] * repeats, dim=self._axis) for p in parts]

    def _batchify(self, source: Named) -> list[torch.Tensor]:
        if self.cursor >= self.num_data:
            raise RuntimeError("the iterator is at the end of the epoch: call reset() first")
        n, b, cur = self.num_data, self.batch_size, self.cursor
        if self.last_batch_handle == "roll_over" and -b < cur < 0:
            # first batch of an epoch after a roll-over: cached samples + the first new ones.
            # getdata() consumes the data cache, then getlabel() the label cache.
            if self._cache_data is None and self._cache_label is None:
                raise RuntimeError("roll_over: no samples were carried over from last epoch")
            if self._cache_data is not None:
                cached, self._cache_data = self._cache_data, None
            else:
                cached, self._cache_label = self._cache_label, None
            return self._concat(cached, self._slice(source, end=cur + b))
        if self.last_batch_handle == "pad" and cur + b > n:
            pad = b - n + cur
            first = self._slice(source, start=cur)
            if pad > n:
                second = self._tile(self._slice(source, end=n), pad // n)
                if pad % n:
                    second = self._concat(second, self._slice(source, end=pad % n))
            else:
                second = self._slice(source, end=pad)
            return self._concat(first, second)
        return self._slice(source, cur, min(cur + b, n))

    def getdata(self) -> list[torch.Tensor]:
        """The data tensors of the current batch."""
        return self._batchify(self.data)

    def getlabel(self) -> list[torch.Tensor]:
        """The label tensors of the current batch."""
        return self._batchify(self.label)

    def getpad(self) -> int:
        """Filler samples in the current batch ('pad'), or carried-over ones ('roll_over')."""
        n, b, cur = self.num_data, self.batch_size, self.cursor
        if self.last_batch_handle == "pad" and cur + b > n:
            return cur + b - n
        if self.last_batch_handle == "roll_over" and -b < cur < 0:
            return -cur
        return 0

    def _shuffle_data(self) -> None:
        rng = self._rng
        if isinstance(rng, torch.Generator):
            self.idx = self.idx[torch.randperm(self.num_data, generator=rng).numpy()]
        elif rng is not None:
            rng.shuffle(self.idx)
        else:
            np.random.shuffle(self.idx)
        index = torch.from_numpy(self.idx.astype(np.int64))
        # MXNet rebuilds each shuffled array with mx.nd.array(numpy): the result is float32
        self.data = [(k, _reindex(t, index, self._axis)) for k, t in self.data]
        self.label = [(k, _reindex(t, index, self._axis)) for k, t in self.label]


def _reindex(tensor: torch.Tensor, index: torch.Tensor, axis: int) -> torch.Tensor:
    picked = tensor.index_select(axis, index.to(tensor.device))
    return picked.to(torch.float32)


def _np_dtype(dtype: torch.dtype) -> Any:
    """The NumPy scalar type MXNet would report (``numpy.float32``...); torch dtype otherwise."""
    try:
        return torch.empty((), dtype=dtype).numpy().dtype.type
    except TypeError:
        return dtype
