"""``mx.io``: data descriptions, batches and iterators (MXNet 1.9.1's ``mxnet.io``)."""

from .base import DataIter
from .desc import DataBatch, DataDesc
from .ndarray_iter import NDArrayIter
from .resize import ResizeIter

__all__ = ["DataDesc", "DataBatch", "DataIter", "NDArrayIter", "ResizeIter"]
