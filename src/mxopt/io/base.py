"""``DataIter``: the iteration protocol every mxopt data iterator follows."""

from __future__ import annotations

from typing import Any

from .desc import DataBatch

__all__ = ["DataIter"]


class DataIter:
    """Base class of data iterators (MXNet's protocol).

    ``next()`` returns a :class:`DataBatch` or raises ``StopIteration`` at the end of an epoch;
    ``reset()`` starts the next epoch. Subclasses implement ``iter_next`` (advance; return
    whether a batch is available), ``getdata``, ``getlabel``, ``getpad`` and optionally
    ``getindex``; or override ``next`` directly. Iterating with ``for`` runs one epoch.

    >>> import mxopt as mx
    >>> it = mx.io.NDArrayIter(mx.nd.ones((4, 2)), batch_size=2)
    >>> [b.data[0].shape[0] for b in it]
    [2, 2]
    """

    def __init__(self, batch_size: int = 0) -> None:
        self.batch_size = batch_size

    def __iter__(self) -> DataIter:
        return self

    def reset(self) -> None:
        """Go back to the start of the data (the next epoch)."""

    def next(self) -> DataBatch:
        """The next batch; raises ``StopIteration`` at the end of the epoch."""
        if self.iter_next():
            return DataBatch(
                data=self.getdata(),
                label=self.getlabel(),
                pad=self.getpad(),
                index=self.getindex(),
            )
        raise StopIteration

    def __next__(self) -> DataBatch:
        return self.next()

    def iter_next(self) -> bool:
        """Advance to the next batch; whether there is one."""
        raise NotImplementedError(f"{type(self).__name__} must implement iter_next or next")

    def getdata(self) -> list[Any]:
        """The data tensors of the current batch."""
        raise NotImplementedError(f"{type(self).__name__} must implement getdata")

    def getlabel(self) -> list[Any]:
        """The label tensors of the current batch."""
        raise NotImplementedError(f"{type(self).__name__} must implement getlabel")

    def getindex(self) -> Any:
        """The sample indices of the current batch (None when unknown)."""
        return None

    def getpad(self) -> int:
        """How many samples at the end of the current batch are padding."""
        raise NotImplementedError(f"{type(self).__name__} must implement getpad")
