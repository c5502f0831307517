"""``mx.nd.sparse``: the update operators MXNet registers for row-sparse gradients.

A row-sparse gradient is a torch sparse COO tensor with ``sparse_dim=1`` (what
``torch.nn.Embedding(sparse=True)`` produces). The functions are the same as the dense
ones in ``mx.nd``: they dispatch on the gradient's layout.
"""

from .ops.adagrad import adagrad_update
from .ops.adam import adam_update
from .ops.ftrl import ftrl_update
from .ops.sgd import sgd_mom_update, sgd_update

__all__ = [
    "adagrad_update",
    "adam_update",
    "ftrl_update",
    "sgd_mom_update",
    "sgd_update",
    "row_sparse_array",
]


def row_sparse_array(values, indices, shape, dtype=None):
    """A row-sparse tensor from ``values`` (rows) and their ``indices`` (MXNet's
    ``mx.nd.sparse.row_sparse_array((data, indices), shape)``), as torch sparse COO.

    >>> import mxopt as mx
    >>> g = mx.nd.sparse.row_sparse_array([[1.0, 2.0]], [3], shape=(5, 2))
    >>> g.to_dense()[3].tolist()
    [1.0, 2.0]
    """
    import torch

    from .creation import to_dtype

    values = torch.as_tensor(values, dtype=to_dtype(dtype))
    idx = torch.as_tensor(indices, dtype=torch.int64).reshape(1, -1)
    return torch.sparse_coo_tensor(idx, values, size=tuple(shape), check_invariants=True).coalesce()
