"""MXNet's binary NDArray list format (``mx.nd.save`` / ``mx.nd.load``, ``.params`` files).

Layout (all integers little-endian)::

    u64 0x112 | u64 0 | u64 n | n x array blob | u64 m | m x (u64 len, utf-8 bytes)

``m`` is 0 for a saved list and ``n`` for a saved dict. A V2 array blob is::

    u32 0xF993FAC9 | i32 stype | [storage shape] | shape | i32 dev_type | i32 dev_id
    | i32 dtype | [per aux array: i32 aux dtype, aux shape] | data | [aux data]

where a shape is ``i32 ndim`` followed by ``ndim`` x ``i64``. ``save`` writes V2 blobs (V3,
magic 0xF993FACA, with ``np_shape=True``); ``load`` also reads V1 (0xF993FAC8) and the
pre-V1 layout (first u32 is ``ndim``, then u32 dims). See ``docs/file-formats.md``.

>>> import torch, mxopt as mx
>>> blob = mx.nd.serialization.save_tobuffer({"w": torch.ones(2)})
>>> mx.nd.load_frombuffer(blob)
{'w': tensor([1., 1.])}
"""

from __future__ import annotations

import os
import struct
import tempfile
import warnings
from collections.abc import Mapping, Sequence
from typing import BinaryIO

import numpy as np
import torch

__all__ = ["save", "load", "load_frombuffer", "save_tobuffer"]

LIST_MAGIC = 0x112
V1_MAGIC = 0xF993FAC8
V2_MAGIC = 0xF993FAC9
V3_MAGIC = 0xF993FACA

STYPE_DEFAULT, STYPE_ROW_SPARSE, STYPE_CSR = 0, 1, 2
_NUM_AUX = {STYPE_DEFAULT: 0, STYPE_ROW_SPARSE: 1, STYPE_CSR: 2}

# MXNet (mshadow) type flag <-> torch dtype
_CODE_TO_DTYPE: dict[int, torch.dtype] = {
    0: torch.float32,
    1: torch.float64,
    2: torch.float16,
    3: torch.uint8,
    4: torch.int32,
    5: torch.int8,
    6: torch.int64,
    7: torch.bool,
    12: torch.bfloat16,
}
_DTYPE_TO_CODE = {dt: code for code, dt in _CODE_TO_DTYPE.items()}
# numpy spelling of the raw bytes of each dtype (bfloat16 travels as its 16-bit pattern)
_NP_RAW = {
    torch.float32: "<f4",
    torch.float64: "<f8",
    torch.float16: "<f2",
    torch.uint8: "u1",
    torch.int32: "<i4",
    torch.int8: "i1",
    torch.int64: "<i8",
    torch.bool: "?",
    torch.bfloat16: "<i2",
}
_DEV_TYPES = {1: "cpu", 2: "gpu", 3: "cpu_pinned", 5: "cpu_shared"}
_MAX_LEGACY_NDIM = 32

Data = torch.Tensor | Sequence[torch.Tensor] | Mapping[str, torch.Tensor]
Loaded = list[torch.Tensor | None] | dict[str, torch.Tensor | None]


# ----------------------------------------------------------------------------- writing
def _shape_bytes(shape: Sequence[int]) -> bytes:
    return struct.pack(f"<i{len(shape)}q", len(shape), *shape)


def _raw(t: torch.Tensor) -> bytes:
    t = t.detach().to("cpu").contiguous()
    raw_dtype = _NP_RAW[t.dtype]
    if t.dtype == torch.bfloat16:
        t = t.view(torch.int16)
    return np.ascontiguousarray(t.numpy(), dtype=raw_dtype).tobytes()


def _dtype_or_raise(t: torch.Tensor, what: str) -> torch.dtype:
    if t.dtype not in _DTYPE_TO_CODE:
        allowed = ", ".join(str(d).replace("torch.", "") for d in _DTYPE_TO_CODE)
        raise TypeError(f"{what} has dtype {t.dtype}, which MXNet cannot store; allowed: {allowed}")
    return t.dtype


def _context_bytes(t: torch.Tensor) -> bytes:
    if t.device.type == "cpu":
        return struct.pack("<ii", 1, 0)
    return struct.pack("<ii", 2, t.device.index or 0)


def _blob(t: torch.Tensor, what: str, np_shape: bool) -> bytes:
    code = _DTYPE_TO_CODE[_dtype_or_raise(t, what)]
    if t.layout == torch.strided:
        if t.dim() == 0 and not np_shape:
            raise ValueError(
                f"{what} is 0-dimensional; MXNet's legacy format cannot store a scalar "
                "(reshape it to (1,) or save with np_shape=True)"
            )
        magic = V3_MAGIC if np_shape else V2_MAGIC
        head = struct.pack("<Ii", magic, STYPE_DEFAULT) + _shape_bytes(t.shape)
        return head + _context_bytes(t) + struct.pack("<i", code) + _raw(t)
    if np_shape:
        raise ValueError(f"{what} is sparse; the numpy-shape (V3) format stores dense arrays only")
    if t.layout == torch.sparse_coo:
        if t.sparse_dim() != 1:
            raise ValueError(
                f"{what} is a sparse COO tensor with sparse_dim={t.sparse_dim()}; only "
                "sparse_dim=1 (MXNet row_sparse) can be saved"
            )
        t = t.detach().coalesce()
        values, idx = t.values(), t.indices()[0].to(torch.int64)
        head = struct.pack("<Ii", V2_MAGIC, STYPE_ROW_SPARSE) + _shape_bytes(values.shape)
        head += _shape_bytes(t.shape) + _context_bytes(t) + struct.pack("<i", code)
        head += struct.pack("<i", 6) + _shape_bytes(idx.shape)
        return head + _raw(values) + _raw(idx)
    if t.layout == torch.sparse_csr:
        values = t.values().detach()
        indptr = t.crow_indices().to(torch.int64)
        indices = t.col_indices().to(torch.int64)
        head = struct.pack("<Ii", V2_MAGIC, STYPE_CSR) + _shape_bytes(values.shape)
        head += _shape_bytes(t.shape) + _context_bytes(t) + struct.pack("<i", code)
        head += struct.pack("<i", 6) + _shape_bytes(indptr.shape)
        head += struct.pack("<i", 6) + _shape_bytes(indices.shape)
        return head + _raw(values) + _raw(indptr) + _raw(indices)
    raise ValueError(f"{what} has layout {t.layout}; allowed: strided, sparse_coo, sparse_csr")


def _normalize(data: Data) -> tuple[list[torch.Tensor], list[str]]:
    if isinstance(data, torch.Tensor):
        return [data], []
    if isinstance(data, Mapping):
        names, arrays = [], []
        for key, value in data.items():
            if not isinstance(key, str):
                raise TypeError(f"data keys must be str, got {type(key).__name__} key {key!r}")
            if not isinstance(value, torch.Tensor):
                raise TypeError(f"data[{key!r}] must be a torch.Tensor, got {type(value).__name__}")
            names.append(key)
            arrays.append(value)
        return arrays, names
    if isinstance(data, (list, tuple)):
        for i, value in enumerate(data):
            if not isinstance(value, torch.Tensor):
                raise TypeError(f"data[{i}] must be a torch.Tensor, got {type(value).__name__}")
        return list(data), []
    raise TypeError(
        "data must be a torch.Tensor, a list of tensors or a dict of str -> tensor, "
        f"got {type(data).__name__}"
    )


def save_tobuffer(data: Data, *, np_shape: bool = False) -> bytes:
    """The bytes ``save`` would write for ``data`` (see :func:`save`)."""
    arrays, names = _normalize(data)
    labels = (
        [f"data[{n!r}]" for n in names] if names else [f"data[{i}]" for i in range(len(arrays))]
    )
    blobs = [_blob(t, label, np_shape) for t, label in zip(arrays, labels)]  # validates all first
    out = [struct.pack("<QQQ", LIST_MAGIC, 0, len(arrays)), *blobs, struct.pack("<Q", len(names))]
    for name in names:
        raw = name.encode("utf-8")
        out.append(struct.pack("<Q", len(raw)) + raw)
    return b"".join(out)


def save(fname: str | os.PathLike[str], data: Data, *, np_shape: bool = False) -> None:
    """Save a tensor, a list of tensors or a dict ``str -> tensor`` in MXNet's format.

    The bytes are identical to MXNet 1.9.1's ``mx.nd.save`` for the same content: dense
    tensors of dtype float32/64/16, bfloat16, uint8, int8, int32, int64 or bool become V2
    blobs; a sparse COO tensor with ``sparse_dim=1`` is written as ``row_sparse`` and a
    sparse CSR tensor as ``csr``. CUDA tensors record ``gpu(i)`` as their context.
    ``np_shape=True`` writes V3 blobs (MXNet's numpy-shape mode, needed for 0-d tensors).
    The file is written atomically (temporary file in the same folder, then ``os.replace``).

    >>> import torch, tempfile, os, mxopt as mx
    >>> path = os.path.join(tempfile.mkdtemp(), "net.params")
    >>> mx.nd.save(path, {"arg:fc_weight": torch.zeros(2, 3)})
    >>> mx.nd.load(path)["arg:fc_weight"].shape
    torch.Size([2, 3])
    """
    payload = save_tobuffer(data, np_shape=np_shape)
    path = os.fspath(fname)
    folder = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=".params", dir=folder)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(payload)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


# ----------------------------------------------------------------------------- reading
class _Reader:
    def __init__(self, buf: bytes | bytearray | memoryview, source: str) -> None:
        self.buf = memoryview(buf)
        self.pos = 0
        self.source = source

    def fail(self, message: str) -> ValueError:
        return ValueError(f"{self.source}: {message}")

    def take(self, n: int, what: str) -> memoryview:
        if n < 0 or self.pos + n > len(self.buf):
            left = len(self.buf) - self.pos
            raise self.fail(
                f"truncated or corrupt MXNet NDArray file: needed {n} bytes for {what} "
                f"at offset {self.pos}, {left} left"
            )
        out = self.buf[self.pos : self.pos + n]
        self.pos += n
        return out

    def unpack(self, fmt: str, what: str) -> tuple:
        return struct.unpack("<" + fmt, self.take(struct.calcsize("<" + fmt), what))

    def shape(self, what: str, legacy_ndim: int | None = None) -> tuple[int, ...] | None:
        if legacy_ndim is not None:
            return tuple(self.unpack(f"{legacy_ndim}I", what))
        (ndim,) = self.unpack("i", f"{what} ndim")
        if ndim == -1:
            return None  # unknown shape (numpy-shape "none" array)
        if ndim < 0 or ndim > _MAX_LEGACY_NDIM:
            raise self.fail(f"corrupt {what}: ndim {ndim} at offset {self.pos - 4}")
        dims = self.unpack(f"{ndim}q", what)
        if any(d < -1 for d in dims):
            raise self.fail(f"corrupt {what}: negative dimension in {dims}")
        return tuple(dims)

    def array(self, shape: Sequence[int], code: int, what: str) -> torch.Tensor:
        dtype = _CODE_TO_DTYPE.get(code)
        if dtype is None:
            raise self.fail(f"{what} has unknown dtype code {code}")
        count = int(np.prod(shape, dtype=np.int64))
        raw = self.take(count * np.dtype(_NP_RAW[dtype]).itemsize, f"{what} data")
        arr = np.frombuffer(raw, dtype=_NP_RAW[dtype]).reshape(shape)
        t = torch.from_numpy(arr.astype(arr.dtype.newbyteorder("="), copy=True))
        return t.view(torch.bfloat16) if dtype == torch.bfloat16 else t


def _read_blob(r: _Reader, what: str) -> torch.Tensor | None:
    start = r.pos
    (magic,) = r.unpack("I", f"{what} magic")
    if magic in (V2_MAGIC, V3_MAGIC):
        (stype,) = r.unpack("i", f"{what} storage type")
        if stype not in _NUM_AUX:
            raise r.fail(f"{what} has unknown storage type {stype} (offset {start + 4})")
        nad = _NUM_AUX[stype]
        if nad and magic == V3_MAGIC:
            raise r.fail(f"{what} is a sparse array in a numpy-shape (V3) blob")
        sshape = r.shape(f"{what} storage shape") if nad else None
        shape = r.shape(f"{what} shape")
        if shape is None or (magic == V3_MAGIC and any(d < 0 for d in shape)):
            return None
        if magic == V2_MAGIC and len(shape) == 0:
            return None  # MXNet's "none" array: nothing follows
        if nad and sshape is None:
            raise r.fail(f"{what} has an unknown storage shape")
    elif magic == V1_MAGIC:
        stype, nad, sshape = STYPE_DEFAULT, 0, None
        shape = r.shape(f"{what} shape")
        if not shape:
            return None
    else:
        if magic > _MAX_LEGACY_NDIM:
            raise r.fail(
                f"{what} at offset {start} has unknown magic 0x{magic:08X} "
                "(expected 0xF993FAC9 V2, 0xF993FACA V3, 0xF993FAC8 V1 or a legacy ndim)"
            )
        stype, nad, sshape = STYPE_DEFAULT, 0, None
        shape = r.shape(f"{what} shape", legacy_ndim=magic)
        if not shape:
            return None
    if any(d < 0 for d in shape):
        raise r.fail(f"corrupt {what}: negative dimension in shape {shape}")
    dev_type, _dev_id = r.unpack("ii", f"{what} context")
    if dev_type not in _DEV_TYPES:
        raise r.fail(f"{what} has unknown device type {dev_type}")
    (code,) = r.unpack("i", f"{what} dtype")
    aux_meta = []
    for k in range(nad):
        (aux_code,) = r.unpack("i", f"{what} aux {k} dtype")
        aux_shape = r.shape(f"{what} aux {k} shape")
        if aux_shape is None:
            raise r.fail(f"{what} aux {k} has an unknown shape")
        aux_meta.append((aux_shape, aux_code))
    data = r.array(sshape if nad else shape, code, what)
    aux = [r.array(s, c, f"{what} aux {k}") for k, (s, c) in enumerate(aux_meta)]
    if stype == STYPE_DEFAULT:
        return data
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # torch's "CSR support is in beta"
            if stype == STYPE_ROW_SPARSE:
                idx = aux[0].to(torch.int64).reshape(1, -1)
                coo = torch.sparse_coo_tensor(idx, data, size=shape, check_invariants=True)
                return coo.coalesce()
            if len(shape) != 2:
                raise r.fail(f"{what} is csr with non-2-D shape {shape}")
            indptr, indices = aux[0].to(torch.int64), aux[1].to(torch.int64)
            return torch.sparse_csr_tensor(indptr, indices, data, shape, check_invariants=True)
    except RuntimeError as err:
        raise r.fail(f"corrupt sparse {what}: {err}") from None


def _parse(buf: bytes | bytearray | memoryview, source: str) -> Loaded:
    r = _Reader(buf, source)
    header, _reserved = r.unpack("QQ", "file header")
    if header != LIST_MAGIC:
        raise r.fail(f"not an MXNet NDArray file: header 0x{header:X}, expected 0x{LIST_MAGIC:X}")
    (n,) = r.unpack("Q", "array count")
    if n > (len(r.buf) - r.pos) // 4:
        raise r.fail(f"truncated or corrupt file: {n} arrays cannot fit in {len(r.buf)} bytes")
    arrays = [_read_blob(r, f"array {i}") for i in range(n)]
    (m,) = r.unpack("Q", "name count")
    if m not in (0, n):
        raise r.fail(f"corrupt file: {m} names for {n} arrays")
    names = []
    for i in range(m):
        (length,) = r.unpack("Q", f"name {i} length")
        raw = r.take(length, f"name {i}")
        try:
            names.append(bytes(raw).decode("utf-8"))
        except UnicodeDecodeError:
            raise r.fail(f"name {i} is not valid UTF-8") from None
    if not names:
        return arrays
    return dict(zip(names, arrays))


def load_frombuffer(buf: bytes | bytearray | memoryview) -> Loaded:
    """Parse the bytes of an MXNet NDArray file (see :func:`load`)."""
    if not isinstance(buf, (bytes, bytearray, memoryview)):
        raise TypeError(f"buf must be bytes, bytearray or memoryview, got {type(buf).__name__}")
    return _parse(buf, "<buffer>")


def load(fname: str | os.PathLike[str] | BinaryIO) -> Loaded:
    """Load an MXNet NDArray file (``.params``) written by ``mx.nd.save`` or by :func:`save`.

    Returns a list of tensors (file saved from a list) or a dict ``name -> tensor`` (saved
    from a dict; an empty dict comes back as ``[]``, as in MXNet). Tensors are on the CPU.
    Dense arrays become strided tensors; ``row_sparse`` arrays become sparse COO tensors
    with ``sparse_dim=1`` and ``csr`` arrays become sparse CSR tensors. An MXNet "none"
    array (shape unknown) loads as ``None``. V3 (numpy-shape) blobs load as well, with no
    need for a numpy-shape mode. ``fname`` may also be an open binary file.

    Raises ``ValueError`` naming the file and what is wrong for a truncated or corrupt file.

    >>> import torch, tempfile, os, mxopt as mx
    >>> path = os.path.join(tempfile.mkdtemp(), "x.params")
    >>> mx.nd.save(path, [torch.arange(3, dtype=torch.int32)])
    >>> mx.nd.load(path)
    [tensor([0, 1, 2], dtype=torch.int32)]
    """
    if hasattr(fname, "read"):
        buf = fname.read()
        if not isinstance(buf, (bytes, bytearray)):
            raise TypeError("fname is a file object that is not opened in binary mode")
        return _parse(buf, getattr(fname, "name", "<file>"))
    if not isinstance(fname, (str, os.PathLike)):
        raise TypeError(f"fname must be a path or a binary file, got {type(fname).__name__}")
    path = os.fspath(fname)
    with open(path, "rb") as f:
        buf = f.read()
    return _parse(buf, path)
