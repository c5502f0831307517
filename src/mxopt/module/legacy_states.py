"""Reading MXNet 1.x ``.states`` files (pickles), only when the caller asks for it.

MXNet's ``Module.save_optimizer_states`` writes ``pickle.dumps({index: state})`` where each
``NDArray`` is pickled as the global ``mxnet.ndarray.ndarray.NDArray`` with the state
``{'handle': bytearray(<V2 array blob>)}``. :func:`load_legacy_states` unpickles with a
restricted :class:`pickle.Unpickler` that resolves *only* that global (to a decoder that
turns the blob into a ``torch.Tensor``) and the harmless builtins a states dict needs;
anything else in the file raises ``pickle.UnpicklingError``. Pickle can still be expensive to
parse, so call this only on files you trust.

V2 blob: ``u32 0xF993FAC9 | i32 stype | i32 ndim | ndim × i64 dims | i32 dev_type |
i32 dev_id | i32 dtype flag | raw data`` (dense arrays only).
"""

from __future__ import annotations

import io
import pickle
import struct
from typing import Any

import numpy as np
import torch

__all__ = ["decode_array_blob", "load_legacy_states", "is_pickle"]

_V2_MAGIC = 0xF993FAC9
_V1_MAGIC = 0xF993FAC8
_DTYPES = {
    0: np.float32,
    1: np.float64,
    2: np.float16,
    3: np.uint8,
    4: np.int32,
    5: np.int8,
    6: np.int64,
    7: np.bool_,
}


def decode_array_blob(blob: bytes | bytearray) -> torch.Tensor | None:
    """Decode one dense MXNet array blob (V2 or V1) into a CPU tensor (``None`` for MXNet's
    empty "none" array).

    >>> import struct
    >>> blob = struct.pack('<IiiqiiI', 0xF993FAC9, 0, 1, 2, 1, 0, 0) + struct.pack('<2f', 1, 2)
    >>> decode_array_blob(blob)
    tensor([1., 2.])
    """
    view = memoryview(bytes(blob))
    pos = 0

    def take(fmt: str) -> tuple:
        nonlocal pos
        size = struct.calcsize(fmt)
        if pos + size > len(view):
            raise ValueError("MXNet array blob is truncated")
        out = struct.unpack_from(fmt, view, pos)
        pos += size
        return out

    (magic,) = take("<I")
    if magic == _V2_MAGIC:
        (stype,) = take("<i")
        if stype != 0:
            raise ValueError(f"sparse arrays (stype {stype}) are not supported in .states files")
    elif magic != _V1_MAGIC:
        raise ValueError(f"not an MXNet array blob (magic {magic:#x})")
    (ndim,) = take("<i")
    if ndim == 0:
        return None
    shape = take(f"<{ndim}q")
    take("<ii")  # context: dev_type, dev_id (loaded onto the CPU)
    (flag,) = take("<i")
    if flag not in _DTYPES:
        raise ValueError(f"unknown MXNet dtype flag {flag}")
    dtype = np.dtype(_DTYPES[flag])
    count = int(np.prod(shape))
    if pos + count * dtype.itemsize > len(view):
        raise ValueError("MXNet array blob is truncated")
    data = np.frombuffer(view, dtype=dtype, count=count, offset=pos).reshape(shape)
    return torch.from_numpy(data.copy())


class _LegacyNDArray:
    """Stands in for ``mxnet.ndarray.ndarray.NDArray`` while unpickling."""

    def __init__(self, *args: Any) -> None:
        self.tensor: torch.Tensor | None = None

    def __setstate__(self, state: dict) -> None:
        if not isinstance(state, dict) or "handle" not in state:
            raise pickle.UnpicklingError("NDArray state without a 'handle'")
        self.tensor = decode_array_blob(state["handle"])


_ALLOWED = {
    ("mxnet.ndarray.ndarray", "NDArray"): _LegacyNDArray,
    ("builtins", "bytearray"): bytearray,
}


class _RestrictedUnpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str) -> Any:
        try:
            return _ALLOWED[(module, name)]
        except KeyError:
            raise pickle.UnpicklingError(
                f"legacy .states file refers to {module}.{name}, which is not allowed"
            ) from None


def _convert(obj: Any) -> Any:
    if isinstance(obj, _LegacyNDArray):
        return obj.tensor
    if isinstance(obj, dict):
        return {key: _convert(value) for key, value in obj.items()}
    if isinstance(obj, tuple):
        return tuple(_convert(v) for v in obj)
    if isinstance(obj, list):
        return [_convert(v) for v in obj]
    return obj


def is_pickle(data: bytes) -> bool:
    """Whether ``data`` looks like a pickle (protocol 2 or later) rather than mxopt's format."""
    from ..optimizer.serialization import MAGIC

    if data.startswith(MAGIC):
        return False
    return len(data) >= 2 and data[0] == 0x80 and 2 <= data[1] <= 5


def load_legacy_states(data: bytes) -> dict[Any, Any]:
    """The ``{index: state}`` dict of an MXNet ``.states`` pickle, tensors on the CPU.

    A file written with ``dump_optimizer=True`` (a ``(states, optimizer)`` pair) is refused:
    it would need MXNet's optimizer classes.
    """
    if not is_pickle(data):
        raise ValueError("not an MXNet .states pickle")
    loaded = _convert(_RestrictedUnpickler(io.BytesIO(data)).load())
    if not isinstance(loaded, dict):
        raise ValueError(f"expected a dict of optimizer states, got {type(loaded).__name__}")
    return loaded
