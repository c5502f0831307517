"""``ResizeIter``: run another iterator for a fixed number of batches per epoch."""

from __future__ import annotations

from typing import Any

from .base import DataIter
from .desc import DataBatch

__all__ = ["ResizeIter"]


class ResizeIter(DataIter):
    """Yield exactly ``size`` batches of ``data_iter`` per epoch.

    When ``data_iter`` runs out early it is reset and continues; ``reset()`` resets the inner
    iterator too unless ``reset_internal=False`` (then the next epoch continues where this
    one stopped).

    >>> import mxopt as mx
    >>> inner = mx.io.NDArrayIter(mx.nd.ones((100, 10)), batch_size=25)
    >>> len(list(mx.io.ResizeIter(inner, 6)))
    6
    """

    def __init__(self, data_iter: DataIter, size: int, reset_internal: bool = True) -> None:
        if isinstance(size, bool) or not isinstance(size, int) or size < 0:
            raise ValueError(f"size must be a non-negative int, got {size!r}")
        super().__init__(data_iter.batch_size)
        self.data_iter = data_iter
        self.size = size
        self.reset_internal = reset_internal
        self.cur = 0
        self.current_batch: DataBatch | None = None
        self.provide_data = data_iter.provide_data
        self.provide_label = data_iter.provide_label
        if hasattr(data_iter, "default_bucket_key"):
            self.default_bucket_key = data_iter.default_bucket_key

    def reset(self) -> None:
        self.cur = 0
        if self.reset_internal:
            self.data_iter.reset()

    def iter_next(self) -> bool:
        if self.cur == self.size:
            return False
        try:
            self.current_batch = self.data_iter.next()
        except StopIteration:
            self.data_iter.reset()
            self.current_batch = self.data_iter.next()
        self.cur += 1
        return True

    def getdata(self) -> list[Any]:
        return self.current_batch.data

    def getlabel(self) -> list[Any]:
        return self.current_batch.label

    def getindex(self) -> Any:
        return self.current_batch.index

    def getpad(self) -> int:
        return self.current_batch.pad
