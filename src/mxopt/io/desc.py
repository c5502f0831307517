"""``DataDesc`` (name, shape, dtype, layout of one input) and ``DataBatch`` (one batch)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, NamedTuple

import numpy as np

__all__ = ["DataDesc", "DataBatch"]


class _NameShape(NamedTuple):
    name: str
    shape: tuple[int, ...]


class DataDesc(_NameShape):
    """Describes one data or label input: ``name``, ``shape``, ``dtype`` and ``layout``.

    As in MXNet, ``DataDesc`` *is* the 2-tuple ``(name, shape)`` (so it compares equal to
    ``('data', (128, 20))`` and unpacks as ``name, shape = desc``), with ``dtype`` (default
    ``numpy.float32``) and ``layout`` (default ``'NCHW'``) carried as attributes. The batch
    axis is the position of ``'N'`` in ``layout``.

    >>> import mxopt as mx
    >>> d = mx.io.DataDesc('data', (128, 20), layout='NC')
    >>> d == ('data', (128, 20)), d.layout, mx.io.DataDesc.get_batch_axis('TNC')
    (True, 'NC', 1)
    """

    # class-level defaults, for copies made without __new__ (tuple._make)
    dtype: Any = np.float32
    layout: str = "NCHW"

    def __new__(
        cls, name: str, shape: Sequence[int], dtype: Any = np.float32, layout: str = "NCHW"
    ) -> DataDesc:
        desc = super().__new__(cls, name, tuple(shape))
        desc.dtype = dtype
        desc.layout = layout
        return desc

    def _replace(self, **changes: Any) -> DataDesc:
        fields = {"name": self.name, "shape": self.shape, "dtype": self.dtype}
        fields["layout"] = self.layout
        fields.update(changes)
        return DataDesc(**fields)

    def __repr__(self) -> str:
        return f"DataDesc[{self.name},{self.shape},{self.dtype},{self.layout}]"

    @staticmethod
    def get_batch_axis(layout: str | None) -> int:
        """The axis holding the batch: ``layout.find('N')``; 0 when ``layout`` is None.

        -1 means the layout has no batch axis (the whole array is copied to every device).
        """
        if layout is None:
            return 0
        return layout.find("N")

    @staticmethod
    def get_list(
        shapes: Iterable[tuple[str, Sequence[int]]],
        types: Iterable[tuple[str, Any]] | None,
    ) -> list[DataDesc]:
        """``DataDesc`` objects from ``[(name, shape)]`` and optionally ``[(name, dtype)]``."""
        if types is None:
            return [DataDesc(name, shape) for name, shape in shapes]
        type_of = dict(types)
        return [DataDesc(name, shape, type_of[name]) for name, shape in shapes]


class DataBatch:
    """One batch from a data iterator.

    ``data`` and ``label`` are lists of tensors (one per input, each holding ``batch_size``
    samples along the batch axis); ``pad`` is how many samples at the end of the batch are
    filler (wrap-around copies) rather than new data; ``index`` the sample indices, when the
    iterator knows them; ``provide_data``/``provide_label`` optional ``DataDesc`` lists.

    >>> import torch, mxopt as mx
    >>> b = mx.io.DataBatch([torch.zeros(4, 3)], [torch.zeros(4)], pad=1)
    >>> print(b)
    DataBatch: data shapes: [(4, 3)] label shapes: [(4,)]
    """

    def __init__(
        self,
        data: Sequence[Any] | None,
        label: Sequence[Any] | None = None,
        pad: int | None = None,
        index: Any = None,
        bucket_key: Any = None,
        provide_data: list[DataDesc] | None = None,
        provide_label: list[DataDesc] | None = None,
    ) -> None:
        if data is not None and not isinstance(data, (list, tuple)):
            raise TypeError(f"data must be a list of tensors, got {type(data).__name__}")
        if label is not None and not isinstance(label, (list, tuple)):
            raise TypeError(f"label must be a list of tensors, got {type(label).__name__}")
        self.data = data
        self.label = label
        self.pad = pad
        self.index = index
        self.bucket_key = bucket_key
        self.provide_data = provide_data
        self.provide_label = provide_label

    def __str__(self) -> str:
        data_shapes = [tuple(d.shape) for d in self.data] if self.data is not None else None
        label_shapes = [tuple(lab.shape) for lab in self.label] if self.label else None
        return f"{type(self).__name__}: data shapes: {data_shapes} label shapes: {label_shapes}"
