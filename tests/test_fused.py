"""The fused CPU fast path (optimizer/fused/) against the reference path and MXNet.

Driven by the catalog: every optimizer's configurations (``configs`` + ``fused_grid``)
run 8 steps on both paths through an ``Updater``, in float32 and float64, with
float16/bfloat16 multi-precision and with row-sparse gradients, and the golden MXNet
fixtures run on both paths.
"""

from __future__ import annotations

import re
import warnings

import pytest
import test_optimizer_golden as golden
import torch
from optimizer_catalog import BY_NAME, CATALOG, OptimizerInfo

import mxopt as mx
from mxopt.optimizer.fused import build, engine
from mxopt.optimizer.fused.codegen import Kernel, Pass, render

SHAPES = [(3, 4), (1000,), (7, 9, 11), (1,), (257, 3), (4097,), (300, 200)]
SHAPES_2D = [(3, 4), (1000, 1), (7, 99), (1, 1), (257, 3), (4097, 2), (300, 200)]
STEPS = 8
TOL = {torch.float32: (1e-5, 1e-6), torch.float64: (1e-12, 1e-13)}
LOW_TOL = {torch.float16: (2e-3, 2e-3), torch.bfloat16: (1.6e-2, 1.6e-2)}


class _Spy:
    """``spy["fused"]``: tensors the kernels updated since the fixture started."""

    def __init__(self) -> None:
        self.start = engine.stats["tensors"]

    def __getitem__(self, key: str) -> int:
        return engine.stats["tensors"] - self.start


@pytest.fixture
def spy():
    return _Spy()


def _shapes(info: OptimizerInfo) -> list[tuple[int, ...]]:
    return SHAPES_2D if info.min_ndim == 2 else SHAPES


def _create(info: OptimizerInfo, kwargs: dict, fused: bool | None) -> mx.optimizer.Optimizer:
    kwargs = dict(kwargs)
    if info.stochastic:  # the same noise on both paths
        kwargs["generator"] = torch.Generator().manual_seed(11)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # ccSGD
        return mx.optimizer.create(info.name, fused=fused, **kwargs)


def _row_sparse(g: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
    keep = torch.rand(g.shape[0], generator=gen) < 0.4
    rows = torch.nonzero(keep).flatten()
    return torch.sparse_coo_tensor(rows[None], g[rows], g.shape, check_invariants=True).coalesce()


def train(info, kwargs, dtype, fused, *, mp=False, sparse=False, calls="list", steps=STEPS):
    """``steps`` Updater steps on a fixed set of tensors; returns weights, states, opt."""
    opt = _create(info, dict(kwargs, multi_precision=mp) if mp else kwargs, fused)
    updater = mx.optimizer.get_updater(opt)
    gen = torch.Generator().manual_seed(7)
    shapes = _shapes(info)
    weights = [torch.randn(s, generator=gen).to(dtype) for s in shapes]
    for _ in range(steps):
        grads = [(torch.randn(s, generator=gen) * 3).to(dtype) for s in shapes]
        if sparse:
            grads = [_row_sparse(g, gen) for g in grads]
        if calls == "list":
            updater(list(range(len(shapes))), grads, weights)
        else:
            for i, (g, w) in enumerate(zip(grads, weights)):
                updater(i, g, w)
    states = [golden.flatten_state(updater.states[i]) for i in range(len(shapes))]
    return weights, states, opt


def _assert_close(fast, ref, rtol, atol) -> None:
    fast_w, fast_s, fast_opt = fast
    ref_w, ref_s, ref_opt = ref
    assert fast_opt.num_update == ref_opt.num_update
    for a, b in zip(fast_w, ref_w):
        torch.testing.assert_close(a, b, rtol=rtol, atol=atol)
    for sa, sb in zip(fast_s, ref_s):
        assert len(sa) == len(sb)
        for a, b in zip(sa, sb):
            torch.testing.assert_close(a.float(), b.float(), rtol=rtol, atol=atol)


GRID = [(info, cfg) for info in CATALOG for cfg in (*info.configs, *info.fused_grid)]
GRID_IDS = [
    f"{info.name}-{i}" for info in CATALOG for i in range(len(info.configs) + len(info.fused_grid))
]


def test_every_optimizer_has_a_fast_path() -> None:
    missing = [
        info.name
        for info in CATALOG
        if engine.rule_for(_create(info, info.configs[0], fused=True)) is None
    ]
    assert missing == []


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64], ids=str)
@pytest.mark.parametrize(("info", "kwargs"), GRID, ids=GRID_IDS)
def test_fast_path_matches_reference(spy, info, kwargs, dtype) -> None:
    fast = train(info, kwargs, dtype, fused=True)
    assert spy["fused"] == STEPS * len(_shapes(info))  # every tensor, every step
    ref = train(info, kwargs, dtype, fused=False)
    assert spy["fused"] == STEPS * len(_shapes(info))  # fused=False never reached it
    rtol, atol = info.fused_tol if info.fused_tol and dtype == torch.float32 else TOL[dtype]
    _assert_close(fast, ref, rtol, atol)


MP = [(info, low) for info in CATALOG for low in (torch.float16, torch.bfloat16)]


@pytest.mark.parametrize(("info", "low"), MP, ids=[f"{i.name}-{str(d)[6:]}" for i, d in MP])
def test_fast_path_multi_precision(spy, info, low) -> None:
    kwargs = info.configs[-1]
    fast = train(info, kwargs, low, fused=True, mp=True)
    assert spy["fused"] == STEPS * len(_shapes(info))
    ref = train(info, kwargs, low, fused=False, mp=True)
    # the float32 master copies and states agree to float32 rounding, the low-precision
    # weights to one rounding of their type
    rtol, atol = info.fused_tol or TOL[torch.float32]
    _assert_close(fast, ref, *LOW_TOL[low])
    for sa, sb in zip(fast[1], ref[1]):
        for a, b in zip(sa, sb):
            if a.dtype == torch.float32:
                torch.testing.assert_close(a, b, rtol=rtol, atol=atol)


SPARSE = [g for g in GRID if g[0].supports_sparse]


@pytest.mark.parametrize(("info", "kwargs"), SPARSE, ids=[f"{i.name}-{k}" for i, k in SPARSE])
def test_fast_path_row_sparse(spy, info, kwargs) -> None:
    try:
        ref = train(info, kwargs, torch.float32, fused=False, sparse=True)
    except ValueError as exc:  # refused (AdaGrad's sparse update with wd, as in MXNet)
        with pytest.raises(ValueError, match=re.escape(str(exc)[:40])):
            train(info, kwargs, torch.float32, fused=True, sparse=True)
        return
    fast = train(info, kwargs, torch.float32, fused=True, sparse=True)
    rule = engine.rule_for(fast[2])
    if rule is not None and rule.sparse_mode(fast[2]) != "reference":
        assert spy["fused"] == STEPS * len(_shapes(info))
    _assert_close(fast, ref, *(info.fused_tol or TOL[torch.float32]))


def test_single_calls_match_list_calls(spy) -> None:
    info = BY_NAME["adam"]
    one = train(info, dict(wd=0.01), torch.float32, fused=True, calls="single")
    many = train(info, dict(wd=0.01), torch.float32, fused=True, calls="list")
    for a, b in zip(one[0], many[0]):
        assert torch.equal(a, b)
    assert spy["fused"] == 2 * STEPS * len(SHAPES)


def test_sgd_is_bit_identical_to_reference() -> None:
    info = BY_NAME["sgd"]
    for kwargs in info.fused_grid:
        fast = train(info, kwargs, torch.float32, fused=True)
        ref = train(info, kwargs, torch.float32, fused=False)
        assert all(torch.equal(a, b) for a, b in zip(fast[0], ref[0]))


GOLDEN = list(golden.OK_CASES)


@pytest.mark.parametrize("mode", ["default", "0"])
@pytest.mark.parametrize(("name", "case"), GOLDEN, ids=[f"{n}-{c['id']}" for n, c in GOLDEN])
def test_golden_fixtures_on_both_paths(monkeypatch, spy, mode, name, case) -> None:
    if mode == "default":
        monkeypatch.delenv("MXOPT_FUSED", raising=False)
    else:
        monkeypatch.setenv("MXOPT_FUSED", mode)
    golden.test_matches_mxnet(name, case)
    if mode == "0":
        assert spy["fused"] == 0
    elif case["dtype"] in ("float32", "float64") and not case["sparse"]:
        assert spy["fused"] > 0  # the default path in the tests is the fast one


def test_switches(monkeypatch, spy) -> None:
    info = BY_NAME["sgd"]
    monkeypatch.setenv("MXOPT_FUSED", "0")
    train(info, dict(momentum=0.9), torch.float32, fused=None)
    assert spy["fused"] == 0
    train(info, dict(momentum=0.9), torch.float32, fused=True)  # the argument wins
    assert spy["fused"] > 0
    monkeypatch.setenv("MXOPT_FUSED", "1")
    before = spy["fused"]
    train(BY_NAME["adam"], {}, torch.float32, fused=False)
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
    half = [torch.ones(5, dtype=torch.float16)]  # no master copy: reference path
    with pytest.warns(UserWarning, match="multi_precision"):
        mx.optimizer.get_updater(mx.optimizer.SGD(momentum=0.9))(
            [0], [torch.ones(5, dtype=torch.float16)], half
        )
    assert spy["fused"] == 2 * 3


def test_repeated_weight_in_one_call_runs_in_order() -> None:
    results = []
    for fused in (True, False):
        w = torch.ones(10)
        opt = mx.optimizer.SGD(learning_rate=0.1, momentum=0.9, fused=fused)
        opt.update([0, 0], [w, w], [torch.ones(10), torch.ones(10)], [torch.zeros(10)] * 2)
        results.append(w)
    assert torch.equal(*results)


def test_missing_compiler_falls_back(monkeypatch, tmp_path, spy) -> None:
    monkeypatch.setenv("MXOPT_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("CC", str(tmp_path / "no-such-cc"))
    monkeypatch.setattr(build, "_loaded", {})
    info = BY_NAME["sgd"]
    with pytest.warns(RuntimeWarning, match="reference path"):
        fast = train(info, dict(momentum=0.9, wd=0.01), torch.float32, fused=True)
    assert spy["fused"] == 0
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # warned once only
        train(info, dict(momentum=0.9), torch.float32, fused=True)
    ref = train(info, dict(momentum=0.9, wd=0.01), torch.float32, fused=False)
    for a, b in zip(fast[0], ref[0]):
        assert torch.equal(a, b)


def test_cache_is_written_atomically_and_reused(monkeypatch, tmp_path) -> None:
    source = render(engine.kernels()[:1])
    monkeypatch.setenv("MXOPT_CACHE_DIR", str(tmp_path))
    monkeypatch.setattr(build, "_loaded", {})
    assert build.load(source) is not None
    files = sorted(p.name for p in tmp_path.iterdir())
    assert len(files) == 1 and files[0].startswith("kernels-") and files[0].endswith(".so")
    monkeypatch.setattr(build, "_loaded", {})
    monkeypatch.setattr(build, "_compile", lambda *a: pytest.fail("recompiled"))
    assert build.load(source) is not None


@pytest.mark.parametrize("offset", [0, 1, 3])
def test_write_only_state_streamed_at_any_alignment(spy, offset) -> None:
    """Test's state goes out with streaming stores where 32-byte aligned, else plain ones:
    the same values either way (states at 4-byte offsets take the plain stores)."""
    results = []
    for fused in (True, False):
        opt = mx.optimizer.Test(rescale_grad=0.5, fused=fused)
        gen = torch.Generator().manual_seed(3)
        w = torch.randn(70000, generator=gen)
        g = torch.randn(70000, generator=gen)
        state = torch.full((70000 + offset,), -1.0)[offset:]
        opt.update([0, 1], [w, w[:10].clone()], [g, g[:10].clone()], [state, torch.zeros(10)])
        results.append((w, state))
    assert spy["fused"] == 2
    assert torch.equal(results[0][0], results[1][0]) and torch.equal(results[0][1], results[1][1])


def test_a_step_compiles_one_library_per_rule_and_dtype(monkeypatch, tmp_path, spy) -> None:
    """SGD's two kernels build together, and only for the storage variants in use."""
    monkeypatch.setenv("MXOPT_CACHE_DIR", str(tmp_path))
    monkeypatch.setattr(build, "_loaded", {})
    compiled: list[str] = []
    real_compile = build._compile
    monkeypatch.setattr(build, "_compile", lambda cc, target, source: (
        compiled.append(source), real_compile(cc, target, source))[-1])  # fmt: skip
    opt = mx.optimizer.SGD(learning_rate=0.1, momentum=0.9, fused=True)
    updater = mx.optimizer.get_updater(opt)
    updater([0, 1], [torch.ones(5)] * 2, [torch.zeros(5), torch.zeros(5)])
    assert len(compiled) == 1 and spy["fused"] == 2
    assert "mxopt_sgd_f32" in compiled[0] and "mxopt_sgd_mom_f32" in compiled[0]
    assert "_f64(" not in compiled[0] and "_f16(" not in compiled[0]
    updater([2], [torch.ones(5, dtype=torch.float64)], [torch.zeros(5, dtype=torch.float64)])
    assert len(compiled) == 2 and "mxopt_sgd_mom_f64" in compiled[1] and "_f32(" not in compiled[1]
    assert len(list(tmp_path.glob("kernels-*.so"))) == 2


@pytest.mark.parametrize("name", ["nadam", "sgld"])
def test_order_dependent_rules_keep_the_order_in_mixed_calls(name) -> None:
    """Nadam's schedule and SGLD's noise follow the order of the items, also when a call
    mixes dtypes (several buckets) or ineligible tensors."""
    results = []
    for fused in (True, False):
        kwargs = {"generator": torch.Generator().manual_seed(5)} if name == "sgld" else {}
        opt = mx.optimizer.create(name, learning_rate=0.1, fused=fused, **kwargs)
        gen = torch.Generator().manual_seed(1)
        dtypes = [torch.float64, torch.float32, torch.float64]
        ws = [torch.randn(6, generator=gen).to(d) for d in dtypes]
        ws.append(torch.randn(4, 6, generator=gen).t())  # non-contiguous: reference path
        states = [opt.create_state(i, w) for i, w in enumerate(ws)]
        for _ in range(3):
            gs = [torch.randn(w.shape, generator=gen).to(w.dtype) for w in ws]
            opt.update(list(range(4)), ws, gs, states)
        results.append(ws)
    for a, b in zip(*results):
        assert torch.equal(a, b)


# A multi-pass kernel exercising every feature: two earlier passes with sums, a skipped
# pass (``when``), a scratch value handed from pass 2 to the last pass, a stored state.
_STANDARDIZE = Kernel(
    "standardize_test",
    states=("seen",),
    scalars=("count", "center"),
    exact=("count", "center"),
    scratch=("u",),
    before=(
        Pass(
            "acc_s += w;",
            sums=("s",),
            when="center != 0",
            then="const T mean_ = (T)(sum_s / count);",
        ),  # fmt: skip
        Pass(
            "u = w - mean_;\nacc_q += u * u;\nseen = g;",
            sums=("q",),
            stores=("u", "seen"),
            then="const T scale_ = (T)(1.0 / sqrt(sum_q / count));",
        ),
    ),
    body="w = u * scale_ + g;",
    read_only=("seen",),
)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_multi_pass_kernel_runs_its_passes_tensor_by_tensor(dtype) -> None:
    """Each tensor's passes see that tensor's totals (summed over the threads), whatever
    the sizes (parallel and single-thread calls, slices of any length); a skipped pass
    sums 0; the scratch value reaches the last pass; the sums come back per tensor."""
    variant = {torch.float32: "f32", torch.float64: "f64"}[dtype]
    gen = torch.Generator().manual_seed(5)
    for sizes in ([70001, 3, 40000, 1], [5, 17]):
        ws = [torch.randn(n, generator=gen, dtype=dtype) + 2 for n in sizes]
        gs = [torch.randn(n, generator=gen, dtype=dtype) for n in sizes]
        seen = [torch.zeros(n, dtype=dtype) for n in sizes]
        before = [w.clone() for w in ws]
        items = [
            engine.Item(i, w, g, (s,), 0.0, 0.0) for i, (w, g, s) in enumerate(zip(ws, gs, seen))
        ]
        centers = [1.0, 0.0] * (len(sizes) // 2)
        sums = engine.launch(
            _STANDARDIZE, variant, items, [(float(w.numel()), c) for w, c in zip(ws, centers)]
        )
        for k, (w0, g, c) in enumerate(zip(before, gs, centers)):
            x = w0.double()
            u = x - x.mean() if c else x
            expected = u / (u.square().mean().sqrt()) + g.double()
            tol = 1e-5 if dtype == torch.float32 else 1e-12
            torch.testing.assert_close(ws[k].double(), expected, rtol=tol, atol=tol)
            torch.testing.assert_close(seen[k], g)
            assert sums[k, 0].item() == pytest.approx(x.sum().item() if c else 0.0, rel=1e-9)
            assert sums[k, 1].item() == pytest.approx(u.square().sum().item(), rel=1e-6)


def test_multi_pass_kernel_rejects_what_it_cannot_run() -> None:
    bad = Kernel("bad", states=("u",), scalars=(), body="", scratch=("u",), before=(Pass(""),))
    with pytest.raises(ValueError, match="multi-pass kernel bad"):
        render([bad])
    one_pass = Kernel("one", states=(), scalars=(), body="", scratch=("u",))
    with pytest.raises(ValueError, match="scratch values need earlier passes"):
        render([one_pass])


_ROW_CENTER = Kernel(
    "test_row_center",
    states=(),
    row_states=("mean",),
    scalars=("cols",),
    pre="acc_s += (double)g;",
    pre_sums=("s",),
    mid="mean = (T)(acc_s / cols);",
    body="w = w + (g - mean);",
)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_row_kernel_runs_whole_rows_and_single_columns(dtype) -> None:
    """A row kernel sees each row whole (its sum, then its update) and runs tensors of one
    column in its element-wise branch with the same operations, in one launch over a
    mixed list (parallel and single-thread calls, row counts not a multiple of the
    vector width)."""
    variant = {torch.float32: "f32", torch.float64: "f64"}[dtype]
    gen = torch.Generator().manual_seed(7)
    for shapes in ([(1000, 1), (3, 7), (40001, 1), (257, 129)], [(5, 1), (2, 3)]):
        ws = [torch.randn(s, generator=gen, dtype=dtype) for s in shapes]
        gs = [torch.randn(s, generator=gen, dtype=dtype) for s in shapes]
        means = [torch.zeros(s[0], 1, dtype=dtype) for s in shapes]
        before = [w.clone() for w in ws]
        items = [
            engine.Item(i, w, g, (m,), 0.0, 0.0) for i, (w, g, m) in enumerate(zip(ws, gs, means))
        ]
        engine.launch(_ROW_CENTER, variant, items, [(float(s[1]),) for s in shapes])
        tol = 1e-6 if dtype == torch.float32 else 1e-12  # (the sum's order is the kernel's)
        for w0, w, g, m in zip(before, ws, gs, means):
            if g.shape[1] == 1:  # a row of one element: its mean is itself, exactly
                torch.testing.assert_close(m, g, rtol=0, atol=0)
                torch.testing.assert_close(w, w0, rtol=0, atol=0)
                continue
            row_mean = (g.double().sum(dim=1, keepdim=True) / g.shape[1]).to(dtype)
            torch.testing.assert_close(m, row_mean, rtol=tol, atol=tol)
            torch.testing.assert_close(w, w0 + (g - m), rtol=tol, atol=tol)


def test_group_adagrad_step_is_one_kernel_call(monkeypatch) -> None:
    """GroupAdaGrad updates 2-D and one-column weights in one kernel call per step."""
    from mxopt.optimizer.fused import launch as launch_module
    from mxopt.optimizer.fused import replay

    calls = []
    real_call = launch_module.call

    def counting_call(kernel, *args):
        calls.append(kernel.name)
        return real_call(kernel, *args)

    monkeypatch.setattr(launch_module, "call", counting_call)
    monkeypatch.setattr(replay, "call", counting_call)
    gen = torch.Generator().manual_seed(3)
    shapes = [(64, 9), (64, 1), (10, 300), (2048, 1)]
    weights = [torch.randn(s, generator=gen) for s in shapes]
    grads = [torch.randn(s, generator=gen) for s in shapes]
    updater = mx.optimizer.get_updater(mx.optimizer.create("groupadagrad", learning_rate=0.1))
    for step in range(3):
        calls.clear()
        updater(list(range(len(shapes))), grads, weights)
        assert calls == ["group_adagrad"], f"step {step}: {calls}"
