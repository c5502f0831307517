"""The fused CPU fast path (optimizer/fused/) against the reference path and MXNet."""

from __future__ import annotations

import warnings

import pytest
import test_optimizer_golden as golden
import torch

import mxopt as mx
from mxopt.optimizer.fused import build, engine

SHAPES = [(3, 4), (1000,), (7, 9, 11), (1,), (257, 3), (4097,)]
STEPS = 8


class _Spy:
    """``spy["fused"]``: tensors the kernels updated since the fixture started."""

    def __init__(self) -> None:
        self.start = engine.stats["tensors"]

    def __getitem__(self, key: str) -> int:
        return engine.stats["tensors"] - self.start


@pytest.fixture
def spy():
    return _Spy()


def _train(name: str, kwargs: dict, dtype: torch.dtype, fused: bool | None, calls="list"):
    opt = mx.optimizer.create(name, learning_rate=0.05, fused=fused, **kwargs)
    updater = mx.optimizer.get_updater(opt)
    gen = torch.Generator().manual_seed(7)
    weights = [torch.randn(s, generator=gen, dtype=dtype) for s in SHAPES]
    for _ in range(STEPS):
        grads = [torch.randn(s, generator=gen, dtype=dtype) * 3 for s in SHAPES]
        if calls == "list":
            updater(list(range(len(SHAPES))), grads, weights)
        else:
            for i, (g, w) in enumerate(zip(grads, weights)):
                updater(i, g, w)
    states = [golden.flatten_state(updater.states[i]) for i in range(len(SHAPES))]
    return weights, states, opt


SGD_CASES = [
    dict(),
    dict(wd=0.01),
    dict(momentum=0.9),
    dict(momentum=0.9, wd=0.1, rescale_grad=0.25),
    dict(momentum=0.5, clip_gradient=0.7),
    dict(clip_gradient=0.3, wd=0.02, rescale_grad=2.0),
    dict(momentum=0.9, clip_gradient=0.0),  # MXNet: 0 means "no clipping" (falsy)
    dict(momentum=0.9, clip_gradient=-1.5),
]
ADAM_CASES = [
    dict(),
    dict(wd=0.01),
    dict(clip_gradient=0.5, wd=0.1),
    dict(beta1=0.5, beta2=0.9, epsilon=1e-3, rescale_grad=0.5),
    dict(beta1=0.0, beta2=0.0, epsilon=1e-6),
    dict(clip_gradient=-2.0),
]
CASES = [("sgd", kw) for kw in SGD_CASES] + [("adam", kw) for kw in ADAM_CASES]
# Float32 Adam differs from the reference by rounding only: torch's vectorised sqrt is
# not correctly rounded, the kernel's (like MXNet's) is. SGD is bit-identical.
TOL = {torch.float32: dict(rtol=1e-5, atol=1e-6), torch.float64: dict(rtol=1e-12, atol=1e-13)}


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64], ids=str)
@pytest.mark.parametrize(("name", "kwargs"), CASES, ids=[f"{n}-{kw}" for n, kw in CASES])
def test_fast_path_matches_reference(spy, name, kwargs, dtype) -> None:
    fast_w, fast_s, fast_opt = _train(name, kwargs, dtype, fused=True)
    assert spy["fused"] == STEPS * len(SHAPES)
    ref_w, ref_s, ref_opt = _train(name, kwargs, dtype, fused=False)
    assert spy["fused"] == STEPS * len(SHAPES)  # fused=False never reached the fast path
    assert fast_opt.num_update == ref_opt.num_update == STEPS
    for a, b in zip(fast_w, ref_w):
        torch.testing.assert_close(a, b, **TOL[dtype])
        if name == "sgd":
            assert torch.equal(a, b)
    for sa, sb in zip(fast_s, ref_s):
        assert len(sa) == len(sb)
        for a, b in zip(sa, sb):
            torch.testing.assert_close(a, b, **TOL[dtype])


def test_single_calls_match_list_calls(spy) -> None:
    one = _train("adam", dict(wd=0.01), torch.float32, fused=True, calls="single")
    many = _train("adam", dict(wd=0.01), torch.float32, fused=True, calls="list")
    for a, b in zip(one[0], many[0]):
        assert torch.equal(a, b)
    assert spy["fused"] == 2 * STEPS * len(SHAPES)


GOLDEN = [(n, c) for n, c in golden.OK_CASES if n in ("sgd", "ccsgd", "adam")]


@pytest.mark.parametrize("mode", ["default", "0"])
@pytest.mark.parametrize(("name", "case"), GOLDEN, ids=[f"{n}-{c['id']}" for n, c in GOLDEN])
def test_golden_fixtures_on_both_paths(monkeypatch, spy, mode, name, case) -> None:
    if mode == "default":
        monkeypatch.delenv("MXOPT_FUSED", raising=False)
    else:
        monkeypatch.setenv("MXOPT_FUSED", mode)
    golden.test_matches_mxnet(name, case)
    dense_cpu = (
        not case["sparse"]
        and case["dtype"] in ("float32", "float64")
        and not case["kwargs"].get("multi_precision")
    )
    if mode == "0":
        assert spy["fused"] == 0
    elif dense_cpu:
        assert spy["fused"] > 0  # the default path in the tests is the fast one


def test_switches(monkeypatch, spy) -> None:
    monkeypatch.setenv("MXOPT_FUSED", "0")
    _train("sgd", dict(momentum=0.9), torch.float32, fused=None)
    assert spy["fused"] == 0
    _train("sgd", dict(momentum=0.9), torch.float32, fused=True)  # the argument wins
    assert spy["fused"] > 0
    monkeypatch.setenv("MXOPT_FUSED", "1")
    before = spy["fused"]
    _train("adam", {}, torch.float32, fused=False)
    assert spy["fused"] == before
    with pytest.raises(TypeError, match="fused"):
        mx.optimizer.SGD(fused="yes")


def test_ineligible_tensors_use_reference_path(spy) -> None:
    gen = torch.Generator().manual_seed(3)
    w = [torch.randn(4, 6, generator=gen) for _ in range(3)]
    w[1] = w[1].t()  # non-contiguous: reference path for this one only
    g = [torch.randn(t.shape, generator=gen) for t in w]
    results = []
    for fused in (True, False):
        ws = [t.clone() if t.is_contiguous() else t.clone().t().contiguous().t() for t in w]
        opt = mx.optimizer.Adam(learning_rate=0.1, fused=fused)
        upd = mx.optimizer.get_updater(opt)
        for _ in range(3):
            upd([0, 1, 2], g, ws)
        results.append(ws)
    for a, b in zip(*results):
        torch.testing.assert_close(a, b, rtol=1e-6, atol=1e-7)
    half = [torch.ones(5, dtype=torch.float16)]
    mx.optimizer.get_updater(mx.optimizer.SGD(momentum=0.9))(
        [0], [torch.ones(5, dtype=torch.float16)], half
    )
    assert spy["fused"] == 2 * 3  # the transposed weight and float16 took the reference path


def test_missing_compiler_falls_back(monkeypatch, tmp_path, spy) -> None:
    monkeypatch.setenv("MXOPT_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("CC", str(tmp_path / "no-such-cc"))
    monkeypatch.setattr(build, "_loaded", {})
    with pytest.warns(RuntimeWarning, match="reference path"):
        fast = _train("sgd", dict(momentum=0.9, wd=0.01), torch.float32, fused=True)
    assert spy["fused"] == 0
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # warned once only
        _train("sgd", dict(momentum=0.9), torch.float32, fused=True)
    ref = _train("sgd", dict(momentum=0.9, wd=0.01), torch.float32, fused=False)
    for a, b in zip(fast[0], ref[0]):
        assert torch.equal(a, b)


def test_cache_is_written_atomically_and_reused(monkeypatch, tmp_path) -> None:
    monkeypatch.setenv("MXOPT_CACHE_DIR", str(tmp_path))
    monkeypatch.setattr(build, "_loaded", {})
    assert build.load() is not None
    files = sorted(p.name for p in tmp_path.iterdir())
    assert len(files) == 1 and files[0].startswith("kernels-") and files[0].endswith(".so")
    monkeypatch.setattr(build, "_loaded", {})
    monkeypatch.setattr(build, "_compile", lambda *a: pytest.fail("recompiled"))
    assert build.load() is not None
