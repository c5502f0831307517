"""The fast path's layout replay (optimizer/fused/replay.py): a call with the layout of the
previous fully fused call skips the per-tensor checks, and anything that changes the
layout sends the call back through them (or to the reference path)."""

from __future__ import annotations

import gc
import weakref

import pytest
import torch

import mxopt as mx
from mxopt.optimizer.fused import replay

SHAPES = [(3, 4), (1000, 1), (7, 9), (1, 1), (257, 3)]  # (2-D for GroupAdaGrad)


class _Count:
    def __init__(self) -> None:
        self.start = replay.stats["replays"]

    @property
    def n(self) -> int:
        return replay.stats["replays"] - self.start


def _setup(name: str, dtype=torch.float32, fused: bool = True, **kwargs):
    updater = mx.optimizer.get_updater(mx.optimizer.create(name, fused=fused, **kwargs))
    gen = torch.Generator().manual_seed(3)
    weights = [torch.randn(s, generator=gen, dtype=dtype) for s in SHAPES]
    return updater, weights, gen


def _grads(gen, dtype=torch.float32):
    return [torch.randn(s, generator=gen, dtype=dtype) for s in SHAPES]


def _run(name, steps, mutate=None, **kwargs):
    """Weights and states after ``steps`` list calls on both paths (``mutate(step,
    updater, weights, grads)`` may change things before a call); the replay count."""
    out = []
    for fused in (True, False):
        count = _Count()
        updater, weights, gen = _setup(name, fused=fused, **kwargs)
        idx = list(range(len(weights)))
        for step in range(steps):
            grads = _grads(gen)
            if mutate is not None:
                weights, grads = mutate(step, updater, weights, grads)
            updater(idx, grads, weights)
        states = [updater.states[i] for i in idx]
        out.append((weights, states, count.n))
    return out


def _assert_same(a, b) -> None:
    (wa, sa, _), (wb, sb, _) = a, b
    for x, y in zip(wa, wb):
        torch.testing.assert_close(x, y, rtol=1e-5, atol=1e-6)
    flat = mx.optimizer.optimizer._tensors_in
    for x, y in zip(flat(sa), flat(sb)):
        torch.testing.assert_close(x, y, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize(
    "name, kwargs",
    [
        ("sgd", {}),  # no states
        ("sgd", {"momentum": 0.9, "wd": 1e-3}),  # one tensor per parameter
        ("adam", {"wd": 1e-3}),  # tuples of two
        ("rmsprop", {"centered": True}),  # a rule with its own run()
        ("lamb", {}),  # norms, counts of its own
        ("nadam", {}),  # an impure plan: one call per item, in order
        ("dcasgd", {}),  # tuples (None, previous weight)
        ("groupadagrad", {}),  # a row rule (2-D weights, one history per row)
    ],
)
def test_steady_calls_replay_and_match_the_reference(name, kwargs) -> None:
    fast, ref = _run(name, 6, **kwargs)
    assert fast[2] == 5  # every call after the first
    assert ref[2] == 0
    _assert_same(fast, ref)


def test_multipliers_and_schedules_change_the_scalars_not_the_layout() -> None:
    def mutate(step, updater, weights, grads):
        if step == 2:
            updater.optimizer.set_lr_mult({1: 0.5, 3: 2.0})
            updater.optimizer.set_wd_mult({0: 0.0})
        return weights, grads

    sched = mx.lr_scheduler.FactorScheduler(step=2, factor=0.5)
    fast, ref = _run("adam", 6, mutate, wd=1e-2, lr_scheduler=sched, learning_rate=0.1)
    assert fast[2] == 5
    _assert_same(fast, ref)


def test_a_weight_given_new_storage_is_seen() -> None:
    """``w.data = ...`` moves the weight: that call is checked again, then replayed."""

    def mutate(step, updater, weights, grads):
        if step == 2:
            weights[1].data = weights[1].data.clone()
        return weights, grads

    fast, ref = _run("sgd", 6, mutate, momentum=0.9)
    assert fast[2] == 4
    _assert_same(fast, ref)


def test_a_layout_sees_resized_and_retyped_tensors() -> None:
    updater, weights, gen = _setup("adam")
    idx = list(range(len(weights)))
    updater(idx, _grads(gen), weights)
    layout = replay._LAYOUTS[id(updater.optimizer)]
    states = [updater.states[i] for i in idx]
    assert layout.match(weights, _grads(gen), states) is not None
    weights[1].resize_(500)  # same storage, fewer elements
    assert layout.match(weights, _grads(gen), states) is None
    weights[1].resize_(1000, 1)
    assert layout.match(weights, _grads(gen), states) is not None
    grads = _grads(gen)
    grads[2] = grads[2].double()  # a mismatched gradient is check_pairs' to refuse
    before = [w.clone() for w in weights]
    with pytest.raises(ValueError, match="grad"):
        updater(idx, grads, weights)
    assert all(torch.equal(a, b) for a, b in zip(before, weights))
    states[0] = (states[0][0], states[0][1].t())  # a transposed state
    assert layout.match(weights, _grads(gen), states) is None


def test_new_states_are_seen() -> None:
    """``set_states`` gives new state tensors: the next call is checked again."""
    updater, weights, gen = _setup("adam")
    idx = list(range(len(weights)))
    for _ in range(2):
        updater(idx, _grads(gen), weights)
    blob = updater.get_states()
    count = _Count()
    updater.set_states(blob)
    updater(idx, _grads(gen), weights)
    assert count.n == 0
    updater(idx, _grads(gen), weights)
    assert count.n == 1


def test_aliased_or_odd_grads_leave_the_replay() -> None:
    updater, weights, gen = _setup("sgd", momentum=0.9)
    idx = list(range(len(weights)))
    updater(idx, _grads(gen), weights)
    count = _Count()
    # a gradient that is a weight itself: the kernels must not take it
    grads = _grads(gen)
    grads[0] = weights[0]
    mom = updater.states[0].clone()
    expected = weights[0] + (0.9 * mom - 0.01 * weights[0])  # the reference's rule
    updater(idx, grads, weights)
    assert count.n == 0
    torch.testing.assert_close(weights[0], expected)
    # a non-contiguous gradient
    grads = _grads(gen)
    grads[2] = torch.randn(9, 7).t()
    updater(idx, grads, weights)
    assert count.n == 0
    # the same layout again: replayed
    updater(idx, _grads(gen), weights)
    updater(idx, _grads(gen), weights)
    assert count.n == 1


def test_autograd_leaves_are_not_replayed_under_grad_mode() -> None:
    updater, weights, gen = _setup("sgd")
    idx = list(range(len(weights)))
    updater(idx, _grads(gen), weights)
    count = _Count()
    weights[0].requires_grad_(True)
    with torch.no_grad():
        updater(idx, _grads(gen), weights)
    assert count.n == 1
    with pytest.raises(RuntimeError):  # the reference path's in-place update on a leaf
        updater(idx, _grads(gen), weights)
    assert count.n == 1


def test_bad_input_after_replays_raises_before_anything_changes() -> None:
    updater, weights, gen = _setup("adam")
    idx = list(range(len(weights)))
    for _ in range(3):
        updater(idx, _grads(gen), weights)
    snapshot = [w.clone() for w in weights]
    states = [tuple(t.clone() for t in updater.states[i]) for i in idx]
    grads = _grads(gen)
    grads[4] = torch.ones(5)
    with pytest.raises(ValueError, match="grad"):
        updater(idx, grads, weights)
    for w, s in zip(weights, snapshot):
        assert torch.equal(w, s)
    for i in idx:
        for a, b in zip(updater.states[i], states[i]):
            assert torch.equal(a, b)


def test_a_layout_keeps_no_tensor_alive() -> None:
    updater, weights, gen = _setup("adam")
    idx = list(range(len(weights)))
    for _ in range(2):
        updater(idx, _grads(gen), weights)
    refs = [weakref.ref(w) for w in weights] + [weakref.ref(updater.states[0][0])]
    del weights
    updater.states.clear()
    gc.collect()
    assert all(r() is None for r in refs)


def test_optimizers_with_eq_replay_and_layouts_go_with_their_optimizer() -> None:
    class Compared(mx.optimizer.SGD):
        def __eq__(self, other):  # no __hash__: unhashable, as such subclasses are
            return isinstance(other, Compared) and self.lr == other.lr

    count = _Count()
    opt = Compared(learning_rate=0.1, momentum=0.9)
    updater = mx.optimizer.get_updater(opt)
    gen = torch.Generator().manual_seed(3)
    weights = [torch.randn(s, generator=gen) for s in SHAPES]
    for _ in range(3):
        updater(list(range(len(weights))), _grads(gen), weights)
    assert count.n == 2
    key = id(opt)
    assert key in replay._LAYOUTS
    del opt, updater
    gc.collect()
    assert key not in replay._LAYOUTS


def test_a_float64_call_after_float32_is_checked_again() -> None:
    fast = _Count()
    updater, weights, gen = _setup("adam")
    idx = list(range(len(weights)))
    updater(idx, _grads(gen), weights)
    updater(idx, _grads(gen), weights)
    assert fast.n == 1
    weights64 = [w.double() for w in weights]
    updater2 = mx.optimizer.get_updater(updater.optimizer)
    updater2(idx, _grads(gen, torch.float64), weights64)
    assert fast.n == 1


def _bad_grads(case: str, gen) -> list:
    grads = _grads(gen)
    if case == "shape":
        grads[2] = torch.randn(9, 7, generator=gen)
    elif case == "dtype":
        grads[0] = grads[0].double()
    elif case == "sparse":
        grads[1] = torch.randn(1000, 2, generator=gen).to_sparse()
    elif case == "not a tensor":
        grads[3] = [[0.5]]
    return grads


@pytest.mark.parametrize("case", ["shape", "dtype", "sparse", "not a tensor"])
def test_the_updaters_steady_step_still_refuses_bad_input(case) -> None:
    """The Updater's steady steps check by matching the layout; a call that does not match
    takes the full path, which raises before anything changes (weights, states, counts)."""
    updater, weights, gen = _setup("adam")
    idx = list(range(len(weights)))
    count = _Count()
    for _ in range(3):
        updater(idx, _grads(gen), weights)
    assert count.n == 2  # the second and third calls replayed
    before = [w.clone() for w in weights]
    states = [tuple(t.clone() for t in updater.states[i]) for i in idx]
    counts = dict(updater.optimizer._index_update_count)
    with pytest.raises((ValueError, TypeError), match="grad"):
        updater(idx, _bad_grads(case, gen), weights)
    assert all(torch.equal(a, b) for a, b in zip(before, weights))
    for i, saved in zip(idx, states):
        assert all(torch.equal(a, b) for a, b in zip(saved, updater.states[i]))
    assert updater.optimizer._index_update_count == counts
    updater(idx, _grads(gen), weights)  # and the next good call replays again
    assert count.n == 3


def test_a_subclassed_updater_takes_the_full_path() -> None:
    class Logged(mx.optimizer.Updater):
        calls = 0

        def _update(self, *args) -> None:
            Logged.calls += 1
            super()._update(*args)

    updater = Logged(mx.optimizer.create("sgd", momentum=0.9))
    gen = torch.Generator().manual_seed(3)
    weights = [torch.randn(s, generator=gen) for s in SHAPES]
    for _ in range(3):
        updater(list(range(len(weights))), _grads(gen), weights)
    assert Logged.calls == 3


def test_group_adagrad_replays_and_still_refuses_weight_decay() -> None:
    """GroupAdaGrad's own check (no weight decay) runs on the Updater's steady steps too,
    before anything is counted or changed."""
    updater, weights, gen = _setup("groupadagrad", learning_rate=0.1)
    idx = list(range(len(weights)))
    count = _Count()
    for _ in range(3):
        updater(idx, _grads(gen), weights)
    assert count.n == 2
    before = [w.clone() for w in weights]
    states = [updater.states[i].clone() for i in idx]
    counts = dict(updater.optimizer._index_update_count)
    updater.optimizer.wd = 0.01  # (an effective wd of 0.01 for every parameter)
    with pytest.raises(ValueError, match="wd must be 0"):
        updater(idx, _grads(gen), weights)
    assert all(torch.equal(a, b) for a, b in zip(before, weights))
    assert all(torch.equal(a, updater.states[i]) for i, a in zip(idx, states))
    assert updater.optimizer._index_update_count == counts
