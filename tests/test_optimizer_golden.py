"""Parity with MXNet 1.9.1: every optimizer's golden trajectories (weights after every step
and final states), across the option grid of tools/fixtures/make_optimizer_fixtures.py."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch
from conftest import FIXTURES, load_golden

import mxopt as mx

GOLDEN_DIR = FIXTURES / "optimizers"
TOLERANCE = {  # (rtol, atol) per weight dtype
    "float32": (2e-5, 2e-6),
    "float64": (1e-11, 1e-12),
    "float16": (1e-2, 2e-3),  # fp32 master copy, rounded to fp16 after each step
}
# Pure float16 arithmetic: MXNet rounds to half after every operation, torch computes each
# operation in float32 and rounds once, so a few half-precision ulps (1e-3 near 1) of drift
# accumulate over the steps.
PURE_FLOAT16 = (2e-2, 6e-3)


def _cases() -> list[tuple[str, dict]]:
    out = []
    for path in sorted(GOLDEN_DIR.glob("*.npz")):
        meta, _ = load_golden(path)
        out += [(path.stem, case) for case in meta["cases"]]
    return out


CASES = _cases()
_ARRAYS: dict[str, dict[str, np.ndarray]] = {}


def arrays_of(name: str) -> dict[str, np.ndarray]:
    if name not in _ARRAYS:
        _ARRAYS[name] = load_golden(GOLDEN_DIR / f"{name}.npz")[1]
    return _ARRAYS[name]


def build_optimizer(case: dict) -> mx.optimizer.Optimizer:
    kwargs = dict(case["kwargs"])
    if case.get("scheduler"):
        kwargs["lr_scheduler"] = mx.lr_scheduler.FactorScheduler(**case["scheduler"])
    if case.get("idx2name"):
        kwargs["param_idx2name"] = {int(k): v for k, v in case["idx2name"].items()}
    if case.get("weight_stype") == "row_sparse":
        # mxopt weights are dense; lazy_update=True gives MXNet's row-sparse-weight semantics
        kwargs["lazy_update"] = True
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # ccSGD
        opt = mx.optimizer.create(case["optimizer"], **kwargs)
    if case.get("lr_mult"):
        opt.set_lr_mult(dict(case["lr_mult"]))
    if case.get("wd_mult"):
        opt.set_wd_mult(dict(case["wd_mult"]))
    return opt


def as_grad(g: np.ndarray, sparse: bool) -> torch.Tensor:
    t = torch.from_numpy(g.copy())
    if not sparse:
        return t
    rows = torch.nonzero(t.reshape(t.shape[0], -1).abs().sum(1)).flatten()
    return torch.sparse_coo_tensor(rows[None], t[rows], t.shape, check_invariants=True).coalesce()


def run(case: dict, arrays: dict, dtype: str | None = None):
    """Drive an mxopt Updater like the fixture script drove MXNet's; return the weights
    after every step and the updater."""
    cid, n = case["id"], len(case_shapes(arrays, case))
    torch_dtype = getattr(torch, dtype or case["dtype"])
    weights = [torch.tensor(arrays[f"{cid}__w0__{p}"], dtype=torch_dtype) for p in range(n)]
    updater = mx.optimizer.get_updater(build_optimizer(case))
    history = []
    steps = sum(1 for k in arrays if k.startswith(f"{cid}__g") and k.endswith("__0"))
    for t in range(steps):
        grads = [
            as_grad(arrays[f"{cid}__g{t}__{p}"], case["sparse"]).to(torch_dtype) for p in range(n)
        ]
        if case["calls"] == "list":
            updater(list(range(n)), grads, weights)
        else:
            for p in range(n):
                updater(p, grads[p], weights[p])
        history.append([w.clone() for w in weights])
    return history, updater


def case_shapes(arrays: dict, case: dict) -> list[tuple[int, ...]]:
    cid = case["id"]
    return [arrays[k].shape for k in sorted(arrays) if k.startswith(f"{cid}__w0__")]


def flatten_state(state) -> list[torch.Tensor]:
    if state is None:
        return []
    if isinstance(state, (tuple, list)):
        return [t for s in state for t in flatten_state(s)]
    return [state]


OK_CASES = [(n, c) for n, c in CASES if c["status"] == "ok"]


@pytest.mark.parametrize(("name", "case"), OK_CASES, ids=[f"{n}-{c['id']}" for n, c in OK_CASES])
def test_matches_mxnet(name: str, case: dict) -> None:
    arrays = arrays_of(name)
    history, updater = run(case, arrays)
    rtol, atol = TOLERANCE[case["dtype"]]
    if case["dtype"] == "float16" and not case["kwargs"].get("multi_precision"):
        rtol, atol = PURE_FLOAT16
    for t, weights in enumerate(history):
        for p, w in enumerate(weights):
            expected = arrays[f"{case['id']}__w{t + 1}__{p}"]
            assert w.dtype == getattr(torch, case["dtype"])
            np.testing.assert_allclose(
                w.double().numpy(), expected.astype(np.float64), rtol=rtol, atol=atol,
                err_msg=f"weight {p} after step {t + 1}",
            )  # fmt: skip
    for p, count in enumerate(case["num_states"]):
        ours = flatten_state(updater.states[p])
        assert len(ours) == count
        for k, tensor in enumerate(ours):
            expected = arrays[f"{case['id']}__state{p}__{k}"]
            assert tensor.shape == expected.shape
            np.testing.assert_allclose(
                tensor.double().numpy(), expected.astype(np.float64), rtol=rtol, atol=atol,
                err_msg=f"state {k} of parameter {p}",
            )  # fmt: skip
    assert updater.optimizer.num_update == case["num_update"]


STOCHASTIC_CASES = [(n, c) for n, c in CASES if c["status"] == "stochastic"]


@pytest.mark.parametrize(
    ("name", "case"), STOCHASTIC_CASES, ids=[f"{n}-{c['id']}" for n, c in STOCHASTIC_CASES]
)
def test_stochastic_drift_matches_mxnet(name: str, case: dict, monkeypatch) -> None:
    """Random optimizers (SGLD): the fixtures hold MXNet's trajectories with its noise draw
    replaced by zeros, so mxopt's deterministic drift must match them exactly when its own
    draw is replaced by zeros too. The noise distribution is tested separately."""
    klass = type(build_optimizer(case))
    assert hasattr(klass, "_draw_noise"), f"{klass.__name__} must draw its noise in _draw_noise"
    monkeypatch.setattr(klass, "_draw_noise", lambda self, weight, lr: torch.zeros_like(weight))
    test_matches_mxnet(name, case)


ERROR_CASES = [(n, c) for n, c in CASES if c["status"] == "error"]


@pytest.mark.parametrize(
    ("name", "case"), ERROR_CASES, ids=[f"{n}-{c['id']}" for n, c in ERROR_CASES]
)
def test_where_mxnet_fails(name: str, case: dict) -> None:
    """Where MXNet raises, mxopt either refuses with a clear error before touching
    anything (row-sparse AdaGrad with wd, GroupAdaGrad with wd: at construction or at the
    update) or does the sane thing (float64 weights with float32-state optimizers:
    computes in float64, agreeing with the float32 run)."""
    arrays = arrays_of(name)
    if case["id"] in ("row-sparse-wd-error", "wd-error"):
        w = torch.from_numpy(arrays[f"{case['id']}__w0__0"].copy())
        before = w.clone()
        with pytest.raises(ValueError, match="wd"):
            updater = mx.optimizer.get_updater(build_optimizer(case))
            updater(0, as_grad(arrays[f"{case['id']}__g0__0"], case["sparse"]), w)
        assert torch.equal(w, before)
        return
    assert case["id"] == "float64-unsupported"
    in64, _ = run(case, arrays, dtype="float64")
    in32, _ = run(case, arrays, dtype="float32")
    for w64, w32 in zip(in64[-1], in32[-1]):
        assert w64.dtype == torch.float64
        np.testing.assert_allclose(w64.numpy(), w32.double().numpy(), rtol=1e-4, atol=1e-5)


def test_fixtures_cover_the_catalog() -> None:
    from optimizer_catalog import CATALOG

    have = {p.stem for p in GOLDEN_DIR.glob("*.npz")}
    # optimizers MXNet 1.9.1 lacks (extra["beyond_mxnet"]) are tested against other references
    missing = [
        info.name
        for info in CATALOG
        if info.name not in have and not info.extra.get("beyond_mxnet")
    ]
    assert not missing, f"no golden fixtures for {missing}"
