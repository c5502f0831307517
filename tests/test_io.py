"""mx.io: DataDesc, DataBatch, NDArrayIter (golden batch sequences from MXNet 1.9.1)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

import mxopt as mx

FIXTURE = json.loads((Path(__file__).parent / "fixtures" / "io_metric_iter.json").read_text())
CASES = sorted(k for k in FIXTURE if not k.startswith("_"))


def _ids(n: int) -> np.ndarray:
    # the fixture script's data: row i = [i, 100 + i] (float64, so it must become float32)
    return np.stack([np.arange(n), 100 + np.arange(n)], axis=1).astype(np.float64)


def _run_epochs(it: mx.io.NDArrayIter, epochs: int, with_label: bool) -> list:
    out = []
    for epoch in range(epochs):
        if epoch:
            it.reset()
        batches = []
        for batch in it:
            assert batch.data[0].dtype == torch.float32
            entry = {"data": batch.data[0].tolist(), "pad": batch.pad}
            if with_label:
                entry["label"] = batch.label[0].tolist()
            batches.append(entry)
        out.append(batches)
    return out


@pytest.mark.parametrize("case", CASES)
def test_batch_sequences_match_mxnet(case: str) -> None:
    ref = FIXTURE[case]
    n = ref["n"]
    if ref["seed"] is not None:
        np.random.seed(ref["seed"])  # MXNet shuffles with NumPy's global stream
    label = (1000 + np.arange(n)).astype(np.int64) if ref["label"] else None
    it = mx.io.NDArrayIter(
        _ids(n),
        label,
        batch_size=ref["batch_size"],
        shuffle=ref["seed"] is not None,
        last_batch_handle=ref["last_batch_handle"],
    )
    descs = [[d.name, list(d.shape), np.dtype(d.dtype).name, d.layout] for d in it.provide_data]
    assert descs == ref["provide_data"]
    labels = [[d.name, list(d.shape), np.dtype(d.dtype).name, d.layout] for d in it.provide_label]
    assert labels == ref["provide_label"]
    assert _run_epochs(it, ref["epochs"], ref["label"]) == ref["epochs_out"]


def test_behaviour_doc_sequences() -> None:
    # the N=10, batch 3 sequences written out in the behaviour catalog
    def run(handle: str, epochs: int) -> list:
        it = mx.io.NDArrayIter(np.arange(10), batch_size=3, last_batch_handle=handle)
        return _run_epochs(it, epochs, False)

    def ids(seq: list) -> list:
        return [[([int(x) for x in b["data"]], b["pad"]) for b in ep] for ep in seq]

    pad_epoch = [([0, 1, 2], 0), ([3, 4, 5], 0), ([6, 7, 8], 0), ([9, 0, 1], 2)]
    assert ids(run("pad", 2)) == [pad_epoch, pad_epoch]
    assert ids(run("discard", 2)) == [pad_epoch[:3], pad_epoch[:3]]
    assert ids(run("roll_over", 3)) == [
        pad_epoch[:3],
        [([9, 0, 1], 1), ([2, 3, 4], 0), ([5, 6, 7], 0)],
        [([8, 9, 0], 2), ([1, 2, 3], 0), ([4, 5, 6], 0), ([7, 8, 9], 0)],
    ]


def test_hard_reset_drops_roll_over_cache() -> None:
    ref = FIXTURE["_hard_reset"]
    it = mx.io.NDArrayIter(_ids(10), batch_size=3, last_batch_handle="roll_over")
    assert [b.data[0][:, 0].tolist() for b in it] == ref["first"]
    it.hard_reset()
    assert [b.data[0][:, 0].tolist() for b in it] == ref["after_hard_reset"]
    it.reset()
    assert [[b.data[0][:, 0].tolist(), b.pad] for b in it] == ref["after_reset"]


def test_naming_and_sorting() -> None:
    ref = FIXTURE["_naming"]
    it = mx.io.NDArrayIter(
        {"b": np.zeros((6, 2)), "a": np.zeros((6, 3, 2))},
        [np.zeros(6), np.zeros((6, 1))],
        batch_size=4,
    )
    assert [[d.name, list(d.shape)] for d in it.provide_data] == ref["provide_data"]
    assert [[d.name, list(d.shape)] for d in it.provide_label] == ref["provide_label"]
    batch = it.next()
    assert [tuple(x.shape) for x in batch.data] == [(4, 3, 2), (4, 2)]


def test_numpy_global_seed_gives_mxnet_permutation() -> None:
    np.random.seed(5)
    it = mx.io.NDArrayIter(np.arange(10), batch_size=10, shuffle=True)
    assert [int(x) for x in it.next().data[0]] == FIXTURE["_np_shuffle_seed5"]


@pytest.mark.parametrize(
    "source, dtype",
    [
        (np.arange(6, dtype=np.float64), torch.float32),
        (np.arange(6, dtype=np.int64), torch.float32),
        (np.arange(6, dtype=np.float16), torch.float32),
        (torch.arange(6, dtype=torch.int32), torch.int32),
        (torch.arange(6, dtype=torch.float64), torch.float64),
    ],
)
def test_dtype_rules(source, dtype) -> None:
    it = mx.io.NDArrayIter(source, batch_size=2)
    assert it.next().data[0].dtype == dtype
    # shuffling rebuilds every array as float32 (MXNet goes through mx.nd.array(numpy))
    shuffled = mx.io.NDArrayIter(source, batch_size=2, shuffle=True)
    assert shuffled.next().data[0].dtype == torch.float32
    assert shuffled.provide_data[0].dtype is np.float32


def test_shuffle_keeps_rows_aligned_and_reshuffles_on_reset() -> None:
    gen = torch.Generator().manual_seed(0)
    x = np.arange(20)
    it = mx.io.NDArrayIter(x, x * 10, batch_size=5, shuffle=True, rng=gen)
    first = torch.cat([b.data[0] for b in it])
    it.reset()
    batches = list(it)
    second = torch.cat([b.data[0] for b in batches])
    labels = torch.cat([b.label[0] for b in batches])
    assert torch.equal(labels, second * 10)
    assert sorted(first.tolist()) == sorted(second.tolist()) == list(map(float, x))
    assert not torch.equal(first, second)
    # same generator seed -> same permutation
    again = mx.io.NDArrayIter(x, batch_size=20, shuffle=True, rng=torch.Generator().manual_seed(0))
    assert torch.equal(again.next().data[0], first)


def test_numpy_generator_rng() -> None:
    a = mx.io.NDArrayIter(np.arange(8), batch_size=8, shuffle=True, rng=np.random.default_rng(3))
    b = mx.io.NDArrayIter(np.arange(8), batch_size=8, shuffle=True, rng=np.random.default_rng(3))
    perm = np.arange(8)
    np.random.default_rng(3).shuffle(perm)
    assert a.next().data[0].tolist() == b.next().data[0].tolist() == perm.astype(float).tolist()


def test_layout_batch_axis() -> None:
    x = torch.arange(2 * 5 * 3, dtype=torch.float32).reshape(2, 5, 3)  # T, N, C
    it = mx.io.NDArrayIter(x, batch_size=2, layout="TNC", last_batch_handle="pad")
    assert it.provide_data[0].shape == (2, 2, 3)
    assert it.provide_data[0].layout == "TNC"
    batches = list(it)
    assert len(batches) == 3 and batches[-1].pad == 1
    assert torch.equal(batches[-1].data[0], x[:, [4, 0], :])


def test_getters_and_protocol() -> None:
    it = mx.io.NDArrayIter(np.arange(5), np.arange(5), batch_size=2)
    assert it.iter_next()
    assert it.getdata()[0].tolist() == [0.0, 1.0]
    assert it.getlabel()[0].tolist() == [0.0, 1.0]
    assert it.getpad() == 0 and it.getindex() is None
    assert iter(it) is it
    assert [b.pad for b in it] == [0, 1]  # continues from the cursor, like MXNet
    with pytest.raises(StopIteration):
        it.next()


def test_batch_is_a_copy() -> None:
    x = torch.zeros(4, 2)
    it = mx.io.NDArrayIter(x, batch_size=2)
    it.next().data[0].fill_(7.0)
    it.reset()
    assert it.next().data[0].sum().item() == 0.0


def test_data_desc() -> None:
    d = mx.io.DataDesc("data", (128, 20))
    assert d == ("data", (128, 20))
    name, shape = d
    assert (name, shape, d.dtype, d.layout) == ("data", (128, 20), np.float32, "NCHW")
    assert repr(d) == "DataDesc[data,(128, 20),<class 'numpy.float32'>,NCHW]"
    assert [mx.io.DataDesc.get_batch_axis(x) for x in (None, "NCHW", "TNC", "CHW")] == [0, 0, 1, -1]
    descs = mx.io.DataDesc.get_list([("a", (1, 2)), ("b", (3,))], [("a", np.int32), ("b", "f")])
    got = [(x.name, x.shape, x.dtype) for x in descs]
    assert got == [("a", (1, 2), np.int32), ("b", (3,), "f")]
    assert mx.io.DataDesc.get_list([("a", (1,))], None)[0].dtype is np.float32


def test_data_batch() -> None:
    b = mx.io.DataBatch([torch.zeros(2, 3)], [torch.zeros(2)], pad=1, index=np.array([4, 5]))
    assert (b.pad, b.index.tolist(), b.bucket_key) == (1, [4, 5], None)
    assert str(b) == "DataBatch: data shapes: [(2, 3)] label shapes: [(2,)]"
    with pytest.raises(TypeError, match="data must be a list"):
        mx.io.DataBatch(torch.zeros(2))
    with pytest.raises(TypeError, match="label must be a list"):
        mx.io.DataBatch([torch.zeros(2)], torch.zeros(2))


def test_resize_iter() -> None:
    inner = mx.io.NDArrayIter(np.arange(10), batch_size=4, last_batch_handle="discard")
    it = mx.io.ResizeIter(inner, 5)
    assert [b.data[0][0].item() for b in it] == [0.0, 4.0, 0.0, 4.0, 0.0]
    assert it.provide_data == inner.provide_data
    it.reset()
    assert len(list(it)) == 5


@pytest.mark.parametrize(
    "kwargs, exc, match",
    [
        ({"data": None}, ValueError, "data must be given"),
        ({"data": []}, ValueError, "data must not be an empty list"),
        ({"data": "abc"}, TypeError, "data must be a torch.Tensor"),
        ({"data": {"x": object()}}, TypeError, "input 'x'"),
        ({"data": np.zeros(4), "label": np.zeros(3)}, ValueError, "same number of samples"),
        ({"data": [np.zeros(4), np.zeros(5)]}, ValueError, "same number of samples"),
        ({"data": np.zeros(4), "last_batch_handle": "keep"}, ValueError, "last_batch_handle"),
        ({"data": np.zeros(4), "batch_size": 0}, ValueError, "batch_size"),
        ({"data": np.zeros(4), "batch_size": 2.0}, TypeError, "batch_size"),
        ({"data": np.zeros(4), "layout": "CHW"}, ValueError, "layout"),
        ({"data": np.zeros(4), "layout": "CN"}, ValueError, "batch axis 1"),
        ({"data": np.zeros(4), "rng": 3}, TypeError, "rng"),
    ],
)
def test_bad_input(kwargs, exc, match) -> None:
    with pytest.raises(exc, match=match):
        mx.io.NDArrayIter(**kwargs)


def test_base_iter_requires_methods() -> None:
    with pytest.raises(NotImplementedError, match="iter_next"):
        mx.io.DataIter().next()
