"""List-form (multi-tensor) updates equal one-at-a-time updates, bit for bit.

Driven by tests/optimizer_catalog.py: every configuration of every optimizer is run twice
on the same parameters of mixed dtypes, once with the Updater given lists (grouped by
dtype and cut into chunks of ``aggregate_num``, set through
``MXNET_OPTIMIZER_AGGREGATION_SIZE``) and once one parameter at a time in the order the
Updater processes them; weights, every state tensor and the update counters must be equal.
A second test calls ``update_multi_precision`` with lists directly (optimizers whose
Updater does not aggregate still accept lists).
"""

from __future__ import annotations

import warnings

import pytest
import torch
from optimizer_catalog import OptimizerInfo, all_config_ids, all_configs

import mxopt as mx

SHAPES = [(4, 3), (6,), (2, 3, 2), (3, 2), (5,)]
STEPS = 4


def shapes_for(info: OptimizerInfo) -> list[tuple[int, ...]]:
    high = info.extra.get("max_ndim", 99)
    return [s for s in SHAPES if info.min_ndim <= len(s) <= high] or [(4, 3), (3, 2)]


def make(info: OptimizerInfo, cfg: dict, **extra) -> mx.optimizer.Optimizer:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        return mx.optimizer.create(info.name, **{**cfg, **extra})


def problem(info: OptimizerInfo, dtypes: list[torch.dtype], seed: int):
    """Weights (one per dtype in ``dtypes``, cycling shapes) and STEPS of gradients."""
    gen = torch.Generator().manual_seed(seed)
    shapes = shapes_for(info)
    shapes = [shapes[i % len(shapes)] for i in range(len(dtypes))]
    weights = [torch.randn(s, generator=gen).to(d) for s, d in zip(shapes, dtypes)]
    grads = [
        [torch.randn(s, generator=gen).to(d) for s, d in zip(shapes, dtypes)] for _ in range(STEPS)
    ]
    return weights, grads


def updater_order(weights: list[torch.Tensor], aggregates: bool) -> list[int]:
    """The order in which the Updater processes a list: grouped by dtype (stable) when the
    optimizer aggregates, else as given. (Order matters: Nadam shares one schedule.)"""
    if not aggregates:
        return list(range(len(weights)))
    seen: list[torch.dtype] = []
    for w in weights:
        if w.dtype not in seen:
            seen.append(w.dtype)
    return [i for d in seen for i, w in enumerate(weights) if w.dtype == d]


def flat(state) -> list[torch.Tensor]:
    if isinstance(state, torch.Tensor):
        return [state]
    if isinstance(state, (tuple, list)):
        return [t for s in state for t in flat(s)]
    return []


def assert_same(updater_a, updater_b, weights_a, weights_b) -> None:
    for i, (a, b) in enumerate(zip(weights_a, weights_b)):
        assert a.dtype == b.dtype
        assert torch.equal(a, b), f"weight {i} differs"
    assert updater_a.states.keys() == updater_b.states.keys()
    for key in updater_a.states:
        sa, sb = flat(updater_a.states[key]), flat(updater_b.states[key])
        assert len(sa) == len(sb)
        for k, (x, y) in enumerate(zip(sa, sb)):
            assert torch.equal(x, y), f"state {k} of parameter {key} differs"
    opt_a, opt_b = updater_a.optimizer, updater_b.optimizer
    assert opt_a.num_update == opt_b.num_update
    assert opt_a._all_index_update_counts == opt_b._all_index_update_counts


MIXED = [torch.float32, torch.float64, torch.float32, torch.float64, torch.float32]
MIXED_LOW = [torch.float16, torch.float32, torch.float16, torch.float16, torch.float32]


@pytest.mark.parametrize(("info", "cfg"), all_configs(), ids=all_config_ids())
@pytest.mark.parametrize(
    ("size", "low"),
    [("1", False), ("2", False), ("45", False), ("2", True)],
    ids=["agg1-f32-f64", "agg2-f32-f64", "agg45-f32-f64", "agg2-f16-mp"],
)
def test_updater_lists_equal_one_at_a_time(info, cfg, size, low, monkeypatch) -> None:
    monkeypatch.setenv("MXNET_OPTIMIZER_AGGREGATION_SIZE", size)
    extra = {"multi_precision": True} if low else {}
    dtypes = MIXED_LOW if low else MIXED
    weights, grads = problem(info, dtypes, seed=11)
    listed = [w.clone() for w in weights]
    single = [w.clone() for w in weights]
    torch.manual_seed(5)
    list_updater = mx.optimizer.get_updater(make(info, cfg, **extra))
    for step in grads:
        list_updater(list(range(len(listed))), [g.clone() for g in step], listed)
    torch.manual_seed(5)
    one_updater = mx.optimizer.get_updater(make(info, cfg, **extra))
    order = updater_order(weights, one_updater.aggregate_updates)
    for step in grads:
        for i in order:
            one_updater(i, step[i].clone(), single[i])
    assert_same(list_updater, one_updater, listed, single)


@pytest.mark.parametrize(("info", "cfg"), all_configs(), ids=all_config_ids())
def test_optimizer_accepts_lists(info, cfg) -> None:
    """``update_multi_precision(indices, weights, grads, states)`` with lists (one dtype per
    call, as the Updater makes them) equals per-parameter calls."""
    weights, grads = problem(info, MIXED, seed=12)
    opt_list, opt_one = make(info, cfg), make(info, cfg)
    listed = [w.clone() for w in weights]
    single = [w.clone() for w in weights]
    states_l = {i: opt_list.create_state_multi_precision(i, w) for i, w in enumerate(listed)}
    states_o = {i: opt_one.create_state_multi_precision(i, w) for i, w in enumerate(single)}
    groups = [[i for i, w in enumerate(weights) if w.dtype == d] for d in (MIXED[0], MIXED[1])]
    torch.manual_seed(3)
    for step in grads:
        for idx in groups:
            opt_list.update_multi_precision(
                idx, [listed[i] for i in idx], [step[i].clone() for i in idx],
                [states_l[i] for i in idx],
            )  # fmt: skip
    torch.manual_seed(3)
    for step in grads:
        for i in groups[0] + groups[1]:
            opt_one.update_multi_precision(i, single[i], step[i].clone(), states_o[i])
    for i in range(len(weights)):
        assert torch.equal(listed[i], single[i]), f"weight {i} differs"
        for x, y in zip(flat(states_l[i]), flat(states_o[i])):
            assert torch.equal(x, y), f"a state of parameter {i} differs"
    assert opt_list.num_update == opt_one.num_update


def test_aggregation_size_is_read_at_construction(monkeypatch) -> None:
    monkeypatch.setenv("MXNET_OPTIMIZER_AGGREGATION_SIZE", "7")
    assert mx.optimizer.SGD().aggregate_num == 7
    assert mx.optimizer.LARS().aggregate_num == 7
    assert mx.optimizer.LAMB().aggregate_num == 7
    monkeypatch.setenv("MXNET_OPTIMIZER_AGGREGATION_SIZE", "100")
    assert mx.optimizer.LAMB().aggregate_num == 45  # LAMB clamps to [1, 45]
    monkeypatch.delenv("MXNET_OPTIMIZER_AGGREGATION_SIZE")
    assert mx.optimizer.SGD().aggregate_num == 4
    assert mx.optimizer.LAMB().aggregate_num == 45
    assert mx.optimizer.LBSGD().aggregate_num == 0


def test_updater_passes_dtype_chunks(monkeypatch) -> None:
    """The Updater hands the optimizer chunks of one dtype, at most aggregate_num long."""
    monkeypatch.setenv("MXNET_OPTIMIZER_AGGREGATION_SIZE", "2")
    opt = mx.optimizer.SGD(learning_rate=0.1)
    calls: list[tuple[list, list]] = []
    original = opt.update_multi_precision

    def spy(index, weight, grad, state):
        calls.append((list(index), [w.dtype for w in weight]))
        original(index, weight, grad, state)

    opt.update_multi_precision = spy
    dtypes = [torch.float32, torch.float64, torch.float32, torch.float32, torch.float64]
    weights = [torch.ones(3, dtype=d) for d in dtypes]
    mx.optimizer.get_updater(opt)(list(range(5)), [torch.ones(3, dtype=d) for d in dtypes], weights)
    assert calls == [
        ([0, 2], [torch.float32] * 2),
        ([3], [torch.float32]),
        ([1, 4], [torch.float64] * 2),
    ]
