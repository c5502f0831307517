"""MXNet's NDArray file format: golden files from MXNet 1.9.1 (tests/fixtures/params)."""

from __future__ import annotations

import io
import json
import os
import struct
from pathlib import Path

import pytest
import torch

import mxopt as mx
from mxopt.ndarray.serialization import save_tobuffer

FIX = Path(__file__).parent / "fixtures" / "params"
MANIFEST = json.loads((FIX / "manifest.json").read_text())
DTYPES = {
    "float32": torch.float32,
    "float64": torch.float64,
    "float16": torch.float16,
    "bfloat16": torch.bfloat16,
    "uint8": torch.uint8,
    "int8": torch.int8,
    "int32": torch.int32,
    "int64": torch.int64,
    "bool": torch.bool,
}


def build(spec: dict) -> torch.Tensor:
    """The tensor a manifest entry describes, built with torch alone."""
    values = torch.tensor(spec["values"], dtype=torch.float64).reshape(spec["shape"])
    dense = values.to(DTYPES[spec["dtype"]])
    if spec["stype"] == "row_sparse":
        return dense.to_sparse(sparse_dim=1)
    if spec["stype"] == "csr":
        return dense.to_sparse_csr()
    return dense


def build_data(entry: dict):
    if entry["kind"] == "dict":
        return {spec["name"]: build(spec) for spec in entry["entries"]}
    if not entry["entries"] and entry["kind"] == "list":
        return {}
    return [build(spec) for spec in entry["entries"]]


def check_same(got: torch.Tensor, spec: dict) -> None:
    want = build(spec)
    assert got.dtype == want.dtype
    assert tuple(got.shape) == tuple(spec["shape"])
    assert got.layout == want.layout
    if got.layout == torch.sparse_coo:
        assert got.sparse_dim() == 1
    dense_got = got.to_dense() if got.layout != torch.strided else got
    assert torch.equal(dense_got.double(), build(dict(spec, stype="default")).double())


@pytest.mark.parametrize("fname", sorted(MANIFEST))
def test_load_mxnet_file(fname):
    entry = MANIFEST[fname]
    loaded = mx.nd.load(FIX / fname)
    if entry["kind"] == "dict":
        assert isinstance(loaded, dict)
        assert list(loaded) == [s["name"] for s in entry["entries"]]
        for spec in entry["entries"]:
            check_same(loaded[spec["name"]], spec)
    else:
        assert isinstance(loaded, list) and len(loaded) == len(entry["entries"])
        for got, spec in zip(loaded, entry["entries"]):
            check_same(got, spec)


@pytest.mark.parametrize("fname", sorted(f for f, e in MANIFEST.items() if e["roundtrip"]))
def test_writer_bytes_identical_to_mxnet(fname, tmp_path):
    entry = MANIFEST[fname]
    expected = (FIX / fname).read_bytes()
    data = build_data(entry)
    np_shape = entry.get("np_shape", False)
    assert save_tobuffer(data, np_shape=np_shape) == expected
    out = tmp_path / fname
    mx.nd.save(out, data, np_shape=np_shape)
    assert out.read_bytes() == expected


def test_doc_example_bytes():
    # the behaviour doc's verified layout, written out field by field
    w = struct.pack("<6f", -2.0, -0.5, 1.0, 2.5, 4.0, 5.5)
    expected = (
        struct.pack("<QQQ", 0x112, 0, 2)
        + struct.pack("<Ii", 0xF993FAC9, 0)
        + struct.pack("<iqq", 2, 2, 3)
        + struct.pack("<iii", 1, 0, 0)
        + w
        + struct.pack("<Ii", 0xF993FAC9, 0)
        + struct.pack("<iq", 1, 1)
        + struct.pack("<iii", 1, 0, 2)
        + bytes.fromhex("0047")
        + struct.pack("<Q", 2)
        + struct.pack("<Q", 5)
        + b"arg:w"
        + struct.pack("<Q", 5)
        + b"aux:b"
    )
    assert (FIX / "doc_example.params").read_bytes() == expected


def test_single_tensor_and_tuple_save_as_list(tmp_path):
    t = torch.arange(6, dtype=torch.float32).reshape(2, 3)
    assert save_tobuffer(t) == save_tobuffer([t]) == save_tobuffer((t,))
    path = tmp_path / "one.params"
    mx.nd.save(str(path), t)
    (back,) = mx.nd.load(str(path))
    assert torch.equal(back, t)


def test_noncontiguous_and_grad_tensors():
    base = torch.arange(12, dtype=torch.float64).reshape(3, 4)
    view = base.t()
    assert not view.is_contiguous()
    (back,) = mx.nd.load_frombuffer(save_tobuffer([view]))
    assert torch.equal(back, view)
    p = torch.nn.Parameter(torch.ones(2))
    (back,) = mx.nd.load_frombuffer(save_tobuffer([p]))
    assert torch.equal(back, torch.ones(2)) and not back.requires_grad


def test_load_accepts_file_object_and_bytes():
    raw = (FIX / "doc_example.params").read_bytes()
    a = mx.nd.load(io.BytesIO(raw))
    b = mx.nd.load_frombuffer(raw)
    c = mx.nd.load_frombuffer(bytearray(raw))
    assert list(a) == list(b) == list(c) == ["arg:w", "aux:b"]
    with pytest.raises(TypeError, match="buf must be bytes"):
        mx.nd.load_frombuffer("not bytes")
    with pytest.raises(TypeError, match="binary mode"):
        mx.nd.load(io.StringIO("x"))


def test_sparse_roundtrip():
    dense = torch.tensor([[0.0, 0.0], [1.0, 2.0], [0.0, 0.0], [3.0, 0.0]])
    rs = dense.to_sparse(sparse_dim=1)
    csr = dense.to_sparse_csr()
    back = mx.nd.load_frombuffer(save_tobuffer({"rs": rs, "csr": csr}))
    assert back["rs"].layout == torch.sparse_coo and back["rs"].sparse_dim() == 1
    assert back["csr"].layout == torch.sparse_csr
    assert torch.equal(back["rs"].to_dense(), dense)
    assert torch.equal(back["csr"].to_dense(), dense)
    with pytest.raises(ValueError, match="sparse_dim=2"):
        save_tobuffer([dense.to_sparse()])


@pytest.mark.parametrize(
    ("data", "exc", "match"),
    [
        ({1: torch.ones(1)}, TypeError, "keys must be str"),
        ({"a": [1.0]}, TypeError, r"data\['a'\] must be a torch.Tensor"),
        ([torch.ones(1), 3], TypeError, r"data\[1\] must be a torch.Tensor"),
        (3.0, TypeError, "data must be a torch.Tensor"),
        ([torch.ones(2, dtype=torch.complex64)], TypeError, "complex64.*allowed"),
        ([torch.tensor(1.0)], ValueError, "0-dimensional"),
    ],
)
def test_save_bad_input(data, exc, match, tmp_path):
    path = tmp_path / "bad.params"
    path.write_bytes(b"keep")
    with pytest.raises(exc, match=match):
        mx.nd.save(path, data)
    assert path.read_bytes() == b"keep"  # nothing written on error


def test_save_is_atomic_and_leaves_no_temp(tmp_path):
    path = tmp_path / "x.params"
    mx.nd.save(path, [torch.ones(3)])
    mx.nd.save(path, [torch.zeros(3)])
    assert os.listdir(tmp_path) == ["x.params"]
    assert torch.equal(mx.nd.load(path)[0], torch.zeros(3))


GOOD = (FIX / "dict_dtypes.params").read_bytes()


@pytest.mark.parametrize(
    "cut", [0, 1, 8, 20, 24, 27, 30, 40, 60, 100, len(GOOD) - 40, len(GOOD) - 1]
)
def test_truncated_file_raises_value_error(cut, tmp_path):
    path = tmp_path / "cut.params"
    path.write_bytes(GOOD[:cut])
    with pytest.raises(ValueError, match=r"cut\.params: truncated or corrupt"):
        mx.nd.load(path)


@pytest.mark.parametrize(
    ("offset", "value", "match"),
    [
        (0, 0x113, "not an MXNet NDArray file: header 0x113"),
        (24, 0xDEADBEEF, "unknown magic 0xDEADBEEF"),
        (28, 7, "unknown storage type 7"),
        (16, 10**9, "1000000000 arrays cannot fit"),
    ],
)
def test_corrupt_fields_raise_value_error(offset, value, match, tmp_path):
    raw = bytearray(GOOD)
    width = 8 if offset in (0, 16) else 4
    raw[offset : offset + width] = value.to_bytes(width, "little")
    path = tmp_path / "bad.params"
    path.write_bytes(bytes(raw))
    with pytest.raises(ValueError, match=match):
        mx.nd.load(path)


def test_corrupt_dtype_and_name_count():
    raw = bytearray((FIX / "doc_example.params").read_bytes())
    bad = bytearray(raw)
    bad[24 + 8 + 20 + 8 : 24 + 8 + 20 + 12] = (99).to_bytes(4, "little")  # dtype of array 0
    with pytest.raises(ValueError, match="unknown dtype code 99"):
        mx.nd.load_frombuffer(bytes(bad))
    names_at = raw.index(b"\x02" + b"\x00" * 7 + b"\x05", 100)
    bad = bytearray(raw)
    bad[names_at] = 1
    with pytest.raises(ValueError, match="1 names for 2 arrays"):
        mx.nd.load_frombuffer(bytes(bad))


def test_none_array_loads_as_none():
    # a V2 blob with ndim 0 is MXNet's "none" array: nothing follows the shape
    raw = struct.pack("<QQQ", 0x112, 0, 1) + struct.pack("<Iii", 0xF993FAC9, 0, 0)
    raw += struct.pack("<Q", 0)
    assert mx.nd.load_frombuffer(raw) == [None]
