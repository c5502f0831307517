"""Generic tests every optimizer in tests/optimizer_catalog.py gets for free."""

from __future__ import annotations

import copy
import pickle
import warnings

import pytest
import torch
from optimizer_catalog import CATALOG, OptimizerInfo, all_config_ids, all_configs

import mxopt as mx

SHAPES = [(4, 3), (6,), (2, 3, 2)]


def make(info: OptimizerInfo, cfg: dict, **extra) -> mx.optimizer.Optimizer:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        return mx.optimizer.create(info.name, **{**cfg, **extra})


def shapes_for(info: OptimizerInfo) -> list[tuple[int, ...]]:
    top = info.extra.get("max_ndim", 99)
    return [s for s in SHAPES if info.min_ndim <= len(s) <= top] or [(4, 3)]


def tensors(info: OptimizerInfo, seed: int, dtype=torch.float32, steps: int = 6):
    gen = torch.Generator().manual_seed(seed)
    shapes = shapes_for(info)
    weights = [torch.randn(s, generator=gen).to(dtype) for s in shapes]
    grads = [[torch.randn(s, generator=gen).to(dtype) for s in shapes] for _ in range(steps)]
    return weights, grads


def run_steps(updater, weights, grads_per_step, start: int = 0, stop: int | None = None):
    for grads in grads_per_step[start:stop]:
        for i, (g, w) in enumerate(zip(grads, weights)):
            updater(i, g, w)


def flat_state(state) -> list[torch.Tensor]:
    if isinstance(state, torch.Tensor):
        return [state]
    if isinstance(state, (tuple, list)):
        return [t for s in state for t in flat_state(s)]
    return []


@pytest.mark.parametrize(("info", "cfg"), all_configs(), ids=all_config_ids())
def test_state_round_trip_continues_bit_identically(info: OptimizerInfo, cfg: dict) -> None:
    """get_states(dump_optimizer=True) -> set_states on a fresh updater, then continuing,
    gives exactly the weights of a run that never stopped."""
    weights, grads = tensors(info, seed=1)
    straight = [w.clone() for w in weights]
    torch.manual_seed(0)
    run_steps(mx.optimizer.get_updater(make(info, cfg)), straight, grads)

    resumed = [w.clone() for w in weights]
    torch.manual_seed(0)
    first = mx.optimizer.get_updater(make(info, cfg))
    run_steps(first, resumed, grads, stop=3)
    blob = first.get_states(dump_optimizer=True)
    assert isinstance(blob, bytes) and blob.startswith(b"MXOPTST")  # our format, no pickle
    second = mx.optimizer.get_updater(make(info, {}))  # a different optimizer object
    second.set_states(blob)
    assert type(second.optimizer) is type(first.optimizer)
    assert second.optimizer.num_update == first.optimizer.num_update
    run_steps(second, resumed, grads, start=3)
    for a, b in zip(straight, resumed):
        assert torch.equal(a, b)


@pytest.mark.parametrize(("info", "cfg"), all_configs(), ids=all_config_ids())
def test_states_without_optimizer_dump_keep_the_current_optimizer(info, cfg) -> None:
    """As in MXNet: set_states of a states-only blob restores the states and leaves the
    updater's own optimizer (and its counters) in place."""
    weights, grads = tensors(info, seed=2)
    first = mx.optimizer.get_updater(make(info, cfg))
    run_steps(first, weights, grads, stop=2)
    blob = first.get_states()
    other = make(info, cfg)
    second = mx.optimizer.get_updater(other)
    second.set_states(blob)
    assert second.optimizer is other and other.num_update == other.begin_num_update
    assert set(second.states) == set(first.states)
    for key in first.states:
        for a, b in zip(flat_state(first.states[key]), flat_state(second.states[key])):
            assert torch.equal(a, b)


@pytest.mark.parametrize(("info", "cfg"), all_configs(), ids=all_config_ids())
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_dtype_and_device_are_preserved(info, cfg, dtype) -> None:
    weights, grads = tensors(info, seed=3, dtype=dtype, steps=2)
    updater = mx.optimizer.get_updater(make(info, cfg))
    ptrs = [w.data_ptr() for w in weights]
    run_steps(updater, weights, grads)
    for w, ptr in zip(weights, ptrs):
        assert w.dtype == dtype and w.device.type == "cpu"
        assert w.data_ptr() == ptr  # updated in place
        assert torch.isfinite(w).all()
    for state in updater.states.values():
        for t in flat_state(state):
            assert t.device == weights[0].device


@pytest.mark.parametrize(("info", "cfg"), all_configs(), ids=all_config_ids())
@pytest.mark.parametrize("low", [torch.float16, torch.bfloat16])
def test_multi_precision_tracks_a_float32_run(info, cfg, low) -> None:
    """multi_precision=True keeps a float32 master copy: the low-precision weights are that
    master rounded, and the master follows a float32 run fed the same (rounded) grads."""
    weights, grads = tensors(info, seed=4, steps=4)
    low_w = [w.to(low) for w in weights]
    low_g = [[g.to(low) for g in step] for step in grads]
    ref_w = [w.float() for w in low_w]
    ref_g = [[g.float() for g in step] for step in low_g]
    torch.manual_seed(0)
    mp_updater = mx.optimizer.get_updater(make(info, cfg, multi_precision=True))
    run_steps(mp_updater, low_w, low_g)
    torch.manual_seed(0)
    run_steps(mx.optimizer.get_updater(make(info, cfg)), ref_w, ref_g)
    for i, (w, ref) in enumerate(zip(low_w, ref_w)):
        assert w.dtype == low
        masters = [t for t in flat_state(mp_updater.states[i]) if t.dtype == torch.float32]
        assert masters, "no float32 state kept for a low-precision weight"
        torch.testing.assert_close(w, ref.to(low), rtol=0, atol=0)
        assert any(torch.allclose(m, ref, rtol=1e-5, atol=1e-6) for m in masters)


@pytest.mark.parametrize(
    ("info", "kwargs", "argname"),
    [(info, kw, arg) for info in CATALOG for kw, arg in info.bad_kwargs],
    ids=[f"{info.name}-{arg}" for info in CATALOG for _, arg in info.bad_kwargs],
)
def test_bad_hyper_parameters_name_the_argument(info, kwargs, argname) -> None:
    with pytest.raises((ValueError, TypeError), match=argname):
        make(info, kwargs)


def _bad_pairs(w: torch.Tensor):
    yield "shape", torch.zeros(w.numel() + 1, dtype=w.dtype)
    yield "dtype", torch.zeros(w.shape, dtype=torch.float64)
    yield "type", w.detach().numpy()
    if torch.cuda.is_available():
        yield "device", torch.zeros(w.shape, dtype=w.dtype, device="cuda")


@pytest.mark.parametrize(("info", "cfg"), all_configs(), ids=all_config_ids())
def test_bad_update_changes_nothing(info, cfg) -> None:
    """A mismatched grad anywhere in a list call raises before any weight, state or
    counter changes."""
    weights, grads = tensors(info, seed=5, steps=2)
    updater = mx.optimizer.get_updater(make(info, cfg))
    n = len(weights)
    updater(list(range(n)), grads[0], weights)  # states exist now
    before_w = [w.clone() for w in weights]
    before_s = copy.deepcopy(updater.states)
    before_counts = dict(updater.optimizer._index_update_count)
    before_num = updater.optimizer.num_update
    for what, bad in _bad_pairs(weights[-1]):
        bad_grads = [*grads[1][:-1], bad]
        with pytest.raises((ValueError, TypeError)):
            updater(list(range(n)), bad_grads, weights)
        for w, b in zip(weights, before_w):
            assert torch.equal(w, b), f"a weight changed on a bad {what}"
        for key, state in before_s.items():
            for a, b in zip(flat_state(updater.states[key]), flat_state(state)):
                assert torch.equal(a, b), f"a state changed on a bad {what}"
        assert dict(updater.optimizer._index_update_count) == before_counts
        assert updater.optimizer.num_update == before_num


SPARSE = [(i, c) for i, c in all_configs() if i.supports_sparse]


@pytest.mark.parametrize(
    ("info", "cfg"), SPARSE, ids=[f"{i.name}-{k}" for k, (i, _) in enumerate(SPARSE)]
)
def test_lazy_row_sparse_updates_touch_only_present_rows(info, cfg) -> None:
    """An nn.Embedding(sparse=True) gradient: rows that are absent stay exactly as they
    were (weights and states), present rows change."""
    cfg = {k: v for k, v in cfg.items() if k != "wd"} if info.name == "adagrad" else cfg
    emb = torch.nn.Embedding(10, 3, sparse=True)
    torch.nn.init.normal_(emb.weight)
    loss = emb(torch.tensor([1, 4, 4, 7])).pow(2).sum()
    loss.backward()
    grad = emb.weight.grad
    assert grad.is_sparse
    weight = emb.weight.detach().clone()
    before = weight.clone()
    updater = mx.optimizer.get_updater(make(info, cfg))
    updater(0, grad, weight)
    updater(0, grad, weight)
    changed = (weight != before).any(dim=1).nonzero().flatten().tolist()
    assert changed == [1, 4, 7]
    for t in flat_state(updater.states[0]):
        untouched = [r for r in range(10) if r not in (1, 4, 7)]
        assert torch.count_nonzero(t[untouched]) == 0


def test_states_blob_is_not_a_pickle_and_pickles_are_refused() -> None:
    updater = mx.optimizer.get_updater(mx.optimizer.SGD(momentum=0.9))
    w = torch.ones(3)
    updater(0, torch.ones(3), w)
    states_before = copy.deepcopy(updater.states)
    with pytest.raises(ValueError, match="pickle"):
        updater.set_states(pickle.dumps({0: None}))
    with pytest.raises(ValueError, match="not mxopt optimizer states"):
        updater.set_states(b"garbage bytes that are not a safetensors file")
    assert updater.states.keys() == states_before.keys()
    assert torch.equal(updater.states[0], states_before[0])


def test_catalog_covers_every_registered_optimizer() -> None:
    names = {info.name for info in CATALOG}
    missing = sorted(set(mx.optimizer.registered_names()) - names)
    assert not missing, f"registered optimizers without a catalog entry: {missing}"
