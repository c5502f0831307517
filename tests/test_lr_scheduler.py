"""mx.lr_scheduler: MXNet 1.9.1 parity from golden fixtures, closed forms, state round-trips."""

from __future__ import annotations

import json
import logging
import math
from pathlib import Path

import numpy as np
import pytest

import mxopt as mx
from mxopt.lr_scheduler import (
    ConstantScheduler,
    CosineRestartScheduler,
    CosineScheduler,
    FactorScheduler,
    LinearWarmupDecayScheduler,
    LRScheduler,
    MultiFactorScheduler,
    OneCycleScheduler,
    PolyScheduler,
    SequentialScheduler,
    from_state_dict,
)

FIX = Path(__file__).parent / "fixtures"
META = json.loads((FIX / "lr_scheduler_cases.json").read_text())
VALUES = dict(np.load(FIX / "lr_scheduler_values.npz"))


def make(cls_name: str, kwargs: dict) -> LRScheduler:
    return getattr(mx.lr_scheduler, cls_name)(**kwargs)


def built(case: dict) -> LRScheduler:
    s = make(case["class"], case["kwargs"])
    if case.get("set_base_lr") is not None:
        s.base_lr = case["set_base_lr"]
    return s


# ---------------------------------------------------------------------------------------------
# parity with MXNet 1.9.1 (exact, bit for bit)


@pytest.mark.parametrize("case", META["values"], ids=lambda c: c["id"])
def test_values_match_mxnet_in_order(case):
    s = built(case)
    ns, expected = VALUES[case["id"] + "__n"], VALUES[case["id"]]
    got = np.array([s(int(n)) for n in ns], dtype=np.float64)
    np.testing.assert_array_equal(got, expected)


@pytest.mark.parametrize("case", META["values"], ids=lambda c: c["id"])
def test_values_match_mxnet_in_any_order(case):
    """A pure function of num_update: reversed and shuffled calls give MXNet's in-order values."""
    s = built(case)
    ns, expected = VALUES[case["id"] + "__n"], VALUES[case["id"]]
    order = np.random.default_rng(0).permutation(len(ns))
    for i in [*range(len(ns) - 1, -1, -1), *order]:
        assert s(int(ns[i])) == expected[i], (case["id"], int(ns[i]))


@pytest.mark.parametrize("case", META["values"], ids=lambda c: c["id"])
def test_fresh_instance_per_value(case):
    ns, expected = VALUES[case["id"] + "__n"], VALUES[case["id"]]
    for i in range(0, len(ns), max(1, len(ns) // 15)):
        assert built(case)(int(ns[i])) == expected[i]


@pytest.mark.parametrize("case", META["order"], ids=lambda c: c["id"])
def test_out_of_order_calls_give_in_order_values(case):
    """MXNet's answer depends on call history (case["mxnet"]); ours is MXNet's in-order value."""
    s = make(case["class"], case["kwargs"])
    assert [s(n) for n in case["calls"]] == case["in_order"]
    assert case["mxnet"] != case["in_order"]  # the fixture shows a real MXNet difference


@pytest.mark.parametrize("case", META["logs"], ids=lambda c: c["id"])
def test_log_messages_match_mxnet(case, caplog):
    s = make(case["class"], case["kwargs"])
    with caplog.at_level(logging.INFO, logger="root"):
        got = [s(n) for n in case["calls"]]
    assert got == case["values"]
    assert [r.getMessage() for r in caplog.records if r.name == "root"] == case["messages"]


def test_logs_are_not_repeated_when_recomputing(caplog):
    s = FactorScheduler(step=2, factor=0.5, base_lr=1.0)
    with caplog.at_level(logging.INFO):
        [s(n) for n in range(8)]
        first = len(caplog.records)
        [s(n) for n in range(8)]  # replays from 0: values again, messages not
    assert first == 3 and len(caplog.records) == 3


@pytest.mark.parametrize("case", META["errors"], ids=lambda c: c["id"])
def test_constructor_errors_match_mxnet(case):
    kwargs = dict(case["kwargs"])
    for key in case["tuple_args"]:
        kwargs[key] = tuple(kwargs[key])
    cls = getattr(mx.lr_scheduler, case["class"])
    if case["id"] == "multi_tuple":  # deliberate difference: a tuple of steps is accepted
        assert cls(**kwargs).step == list(kwargs["step"])
        return
    mx_type = {"AssertionError": AssertionError, "ValueError": ValueError, "TypeError": TypeError}
    with pytest.raises(mx_type[case["exc_type"]]) as info:
        cls(**kwargs)
    err = info.value
    if case["exc_type"] == "AssertionError":
        # MXNet's bare assert: ours is also a TypeError/ValueError with a message naming the arg
        assert isinstance(err, (TypeError, ValueError))
        name = next(k for k in ("warmup_steps", "max_update", "step") if k in str(err))
        assert name in kwargs
    elif case["exc_type"] == "TypeError":
        assert "step" in str(err)  # MXNet's comparison error; ours names the argument
    else:
        assert str(err) == case["message"]


@pytest.mark.parametrize("case", META["crashes"], ids=lambda c: c["id"])
def test_max_update_equal_to_warmup_gives_final_lr(case):
    """MXNet divides by zero at n == warmup_steps == max_update; we return final_lr."""
    s = make(case["class"], case["kwargs"])
    assert case["exc_type"] == "ZeroDivisionError"
    final = case["kwargs"].get("final_lr", 0)
    assert [s(case["at"] + d) for d in range(3)] == [final] * 3


def test_fixture_coverage():
    classes = {c["class"] for c in META["values"]}
    assert classes == {
        "FactorScheduler",
        "MultiFactorScheduler",
        "PolyScheduler",
        "CosineScheduler",
    }
    assert sum(c["set_base_lr"] is not None for c in META["values"]) >= 5
    assert len(META["errors"]) >= 25


# ---------------------------------------------------------------------------------------------
# behaviour: exact float sequence, caching, optimizer overrides


def test_factor_uses_repeated_multiplication_not_pow():
    s = FactorScheduler(step=1, factor=0.9, base_lr=0.1)
    lr, diffs = 0.1, 0
    for n in range(2, 150):
        lr = lr * 0.9
        assert s(n) == lr
        diffs += lr != 0.1 * 0.9 ** (n - 1)
    assert diffs > 0  # the two formulas really differ in the last bits


def test_factor_incremental_calls_are_cheap():
    s = FactorScheduler(step=1, factor=0.999999, base_lr=1.0, stop_factor_lr=0.0)
    for n in range(200_000):  # O(1) per call: about 0.2 s
        s(n)
    assert s._decays == 199_998


def test_factor_rereads_changed_parameters():
    s = FactorScheduler(step=2, factor=0.5, base_lr=1.0)
    assert s(5) == 0.25
    s.base_lr = 4.0
    assert s(5) == 1.0
    s.factor = 0.25
    assert s(5) == 0.25


def test_base_lr_attribute_is_not_mutated_by_calls():
    for s in (
        FactorScheduler(step=1, factor=0.5, base_lr=1.0),
        MultiFactorScheduler(step=[1], factor=0.5, base_lr=1.0),
        PolyScheduler(max_update=5, base_lr=1.0),
        CosineScheduler(5, base_lr=1.0),
    ):
        s(10)
        assert s.base_lr == 1.0


def test_user_subclass_with_call():
    class Halving(LRScheduler):
        def __call__(self, num_update):
            if num_update < self.warmup_steps:
                return self.get_warmup_lr(num_update)
            return self.base_lr * 0.5 ** (num_update // 10)

    s = Halving(base_lr=1.0, warmup_steps=4, warmup_begin_lr=0.2)
    assert [s(n) for n in (0, 2, 4, 10, 25)] == [0.2, 0.2 + 0.8 * 2 / 4, 1.0, 0.5, 0.25]
    t = from_state_dict(json.loads(json.dumps(s.state_dict())))
    assert type(t) is Halving and [t(n) for n in range(40)] == [s(n) for n in range(40)]


def test_base_class_call_raises():
    with pytest.raises(NotImplementedError, match="__call__"):
        LRScheduler()(0)


def test_user_subclass_cannot_shadow_builtin():
    class FactorScheduler(LRScheduler):  # noqa: F811 - deliberately the same name
        def __call__(self, num_update):
            return 1.0

    assert mx.lr_scheduler.get_scheduler_class("FactorScheduler") is mx.lr_scheduler.FactorScheduler
    name = FactorScheduler().state_dict()["class"]
    assert name.endswith("test_user_subclass_cannot_shadow_builtin.<locals>.FactorScheduler")
    assert type(from_state_dict(FactorScheduler().state_dict())) is FactorScheduler


# ---------------------------------------------------------------------------------------------
# state_dict / from_state_dict

ROUND_TRIP = [
    FactorScheduler(
        step=3,
        factor=0.5,
        stop_factor_lr=0.01,
        base_lr=1.0,
        warmup_steps=4,
        warmup_begin_lr=0.1,
        warmup_mode="constant",
    ),
    MultiFactorScheduler(step=[3, 7], factor=0.3, base_lr=0.2, warmup_steps=2),
    PolyScheduler(max_update=20, base_lr=0.5, pwr=1.5, final_lr=0.01, warmup_steps=3),
    CosineScheduler(max_update=20, base_lr=0.5, final_lr=0.01, warmup_steps=3),
    ConstantScheduler(base_lr=0.3, warmup_steps=5),
    LinearWarmupDecayScheduler(max_update=20, base_lr=0.2, final_lr=0.02, warmup_steps=5),
    OneCycleScheduler(max_update=30, base_lr=0.4, pct_start=0.25, anneal_strategy="linear"),
    CosineRestartScheduler(cycle_length=5, cycle_mult=2, base_lr=0.3, final_lr=0.01),
    SequentialScheduler(
        [ConstantScheduler(base_lr=0.1, warmup_steps=5), CosineScheduler(15, base_lr=0.1)], [5]
    ),
]


@pytest.mark.parametrize("sched", ROUND_TRIP, ids=lambda s: type(s).__name__)
@pytest.mark.parametrize("override", [None, 0.05])
def test_state_dict_round_trip(sched, override):
    if override is not None:
        sched.base_lr = override
    state = json.loads(json.dumps(sched.state_dict()))
    assert state["class"] == type(sched).__name__
    again = from_state_dict(state)
    assert type(again) is type(sched)
    assert [again(n) for n in range(45)] == [sched(n) for n in range(45)]
    assert again.base_lr == sched.base_lr


def test_override_then_round_trip_keeps_warmup_target():
    s = FactorScheduler(step=2, factor=0.5, base_lr=1.0, warmup_steps=2)
    s.base_lr = 0.1
    t = from_state_dict(s.state_dict())
    assert t.warmup_final_lr == 1.0 and [t(n) for n in (1, 2, 3)] == [0.5, 0.1, 0.05]


@pytest.mark.parametrize(
    "state, exc, match",
    [
        ({"class": "NoSuchScheduler"}, ValueError, "unknown scheduler class 'NoSuchScheduler'"),
        ({}, ValueError, "'class'"),
        ([1], TypeError, "dict"),
        ({"class": "LRScheduler"}, ValueError, "abstract"),
        ({"class": "PolyScheduler", "init": []}, ValueError, "init"),
        ({"class": "PolyScheduler", "init": {"max_update": 0}}, ValueError, "strictly positive"),
    ],
)
def test_from_state_dict_errors(state, exc, match):
    with pytest.raises(exc, match=match):
        from_state_dict(state)


def test_state_dict_rejects_non_json_attribute():
    s = ConstantScheduler()
    s.extra = object()
    with pytest.raises(TypeError, match="extra"):
        s.state_dict()


def test_repr_is_a_spec():
    s = CosineScheduler(max_update=1000, base_lr=0.1, warmup_steps=100)
    assert repr(s) == "CosineScheduler(max_update=1000, base_lr=0.1, warmup_steps=100)"


# ---------------------------------------------------------------------------------------------
# schedules beyond MXNet: closed forms written out here


def test_constant_closed_form():
    s = ConstantScheduler(base_lr=0.3, warmup_steps=4, warmup_begin_lr=0.1)
    expected = [0.1 + (0.3 - 0.1) * n / 4 for n in range(4)] + [0.3] * 5
    assert [s(n) for n in range(9)] == pytest.approx(expected, rel=1e-15)
    s.base_lr = 0.6  # follows the override, warmup included
    assert s(2) == pytest.approx(0.1 + 0.5 * 2 / 4) and s(7) == 0.6


def test_linear_warmup_decay_closed_form():
    b, bw, f, w, T = 0.2, 0.02, 0.01, 5, 25
    s = LinearWarmupDecayScheduler(
        max_update=T, base_lr=b, final_lr=f, warmup_steps=w, warmup_begin_lr=bw
    )

    def closed(n):
        if n < w:
            return bw + (b - bw) * n / w
        if n <= T:
            return b + (f - b) * (n - w) / (T - w)
        return f

    assert [s(n) for n in range(40)] == pytest.approx([closed(n) for n in range(40)], rel=1e-14)


@pytest.mark.parametrize("kw", [dict(max_update=5, warmup_steps=5), dict(max_update=1.5)])
def test_linear_warmup_decay_validation(kw):
    with pytest.raises((ValueError, TypeError), match="max_update"):
        LinearWarmupDecayScheduler(**kw)


def _onecycle_closed(n, T, M, p=0.3, div=25.0, fdiv=1e4, cos_anneal=True):
    I = M / div
    m = I / fdiv
    n = min(n, T - 1)
    ramp_end = p * T - 1
    if n <= ramp_end:
        a, b, rho = I, M, n / ramp_end
    else:
        a, b, rho = M, m, (n - ramp_end) / (T - 1 - ramp_end)
    if cos_anneal:
        return b + (a - b) * (1 + math.cos(math.pi * rho)) / 2
    return a + (b - a) * rho


@pytest.mark.parametrize("anneal", ["cos", "linear"])
def test_onecycle_closed_form(anneal):
    T, M = 100, 0.1
    s = OneCycleScheduler(max_update=T, base_lr=M, anneal_strategy=anneal)
    got = [s(n) for n in range(T + 20)]
    want = [_onecycle_closed(n, T, M, cos_anneal=anneal == "cos") for n in range(T + 20)]
    assert got == pytest.approx(want, rel=1e-12, abs=1e-18)
    assert max(got) == pytest.approx(M) and got[-1] == pytest.approx(M / 25 / 1e4)


def _torch_lrs(make_sched, steps, lr):
    import torch

    opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=lr, momentum=0.9)
    sched = make_sched(opt)
    out = []
    for _ in range(steps):
        out.append(opt.param_groups[0]["lr"])
        opt.step()
        sched.step()
    return out


@pytest.mark.parametrize(
    "kw",
    [
        dict(max_update=100),
        dict(max_update=57, pct_start=0.4, div_factor=10.0, final_div_factor=100.0),
        dict(max_update=80, anneal_strategy="linear"),
        dict(max_update=90, three_phase=True),
        dict(max_update=64, three_phase=True, anneal_strategy="linear", pct_start=0.2),
    ],
)
def test_onecycle_matches_torch(kw):
    import torch

    M = 0.05
    s = OneCycleScheduler(base_lr=M, **kw)
    T = kw["max_update"]
    torch_kw = {k: v for k, v in kw.items() if k != "max_update"}
    want = _torch_lrs(
        lambda o: torch.optim.lr_scheduler.OneCycleLR(o, max_lr=M, total_steps=T, **torch_kw),
        T,
        M,
    )
    assert [s(n) for n in range(T)] == pytest.approx(want, rel=1e-13, abs=1e-19)


@pytest.mark.parametrize(
    "kw, match",
    [
        (dict(max_update=0), "max_update"),
        (dict(max_update=10, pct_start=1.5), "pct_start"),
        (dict(max_update=10, div_factor=0), "div_factor"),
        (dict(max_update=10, anneal_strategy="exp"), "anneal_strategy"),
        (dict(max_update=10, three_phase=1), "three_phase"),
    ],
)
def test_onecycle_validation(kw, match):
    with pytest.raises((ValueError, TypeError), match=match):
        OneCycleScheduler(**kw)


@pytest.mark.parametrize("length, mult", [(10, 1), (5, 2), (3, 3)])
def test_cosine_restart_matches_torch(length, mult):
    import torch

    lr, eta_min, steps = 0.2, 0.001, 120
    s = CosineRestartScheduler(cycle_length=length, cycle_mult=mult, base_lr=lr, final_lr=eta_min)
    want = _torch_lrs(
        lambda o: torch.optim.lr_scheduler.CosineAnnealingWarmRestarts(
            o, T_0=length, T_mult=mult, eta_min=eta_min
        ),
        steps,
        lr,
    )
    assert [s(n) for n in range(steps)] == want  # exact: same expression, same doubles


def test_cosine_restart_closed_form_with_warmup():
    w, L, b = 3, 4, 1.0
    s = CosineRestartScheduler(cycle_length=L, cycle_mult=2, base_lr=b, warmup_steps=w)

    # cycles after warmup: [0,4), [4,12), [12,28)
    def closed(n):
        if n < w:
            return b * n / w
        t = n - w
        start, length = (0, 4) if t < 4 else (4, 8) if t < 12 else (12, 16)
        return b * (1 + math.cos(math.pi * (t - start) / length)) / 2

    assert [s(n) for n in range(w + 28)] == pytest.approx([closed(n) for n in range(w + 28)])
    assert s.boundaries(100) == [7, 15, 31, 63]


@pytest.mark.parametrize(
    "kw", [dict(cycle_length=0), dict(cycle_length=3, cycle_mult=0), dict(cycle_length=2.5)]
)
def test_cosine_restart_validation(kw):
    with pytest.raises((ValueError, TypeError), match="cycle_"):
        CosineRestartScheduler(**kw)


def test_sequential_shifts_num_update():
    warm = ConstantScheduler(base_lr=0.1, warmup_steps=10)
    decay = PolyScheduler(max_update=20, base_lr=0.1, pwr=1)
    tail = FactorScheduler(step=5, factor=0.5, base_lr=0.01)
    s = SequentialScheduler([warm, decay, tail], milestones=[10, 30])
    for n in range(60):
        want = warm(n) if n < 10 else decay(n - 10) if n < 30 else tail(n - 30)
        assert s(n) == want
    assert s(5) == 0.05 and s(20) == pytest.approx(0.05) and s(36) == 0.005
    assert s.boundaries(60) == [10, 30, 35, 40, 45, 50, 55]


def test_sequential_base_lr_reaches_children():
    s = SequentialScheduler(
        [
            ConstantScheduler(base_lr=0.1, warmup_steps=2),
            FactorScheduler(step=2, factor=0.5, base_lr=0.1),
        ],
        [2],
    )
    s.base_lr = 1.0
    assert s.base_lr == 1.0 and [s(n) for n in range(6)] == [0.0, 0.5, 1.0, 1.0, 1.0, 0.5]


@pytest.mark.parametrize(
    "args, exc",
    [
        (([], []), TypeError),
        (([ConstantScheduler()], [3]), ValueError),
        (([ConstantScheduler(), ConstantScheduler()], [0]), ValueError),
        (([ConstantScheduler(), 0.1], [3]), TypeError),
        (([ConstantScheduler()] * 3, [5, 5]), ValueError),
        (([ConstantScheduler()] * 2, [2.5]), TypeError),
    ],
)
def test_sequential_validation(args, exc):
    with pytest.raises(exc):
        SequentialScheduler(*args)


# ---------------------------------------------------------------------------------------------
# argument checks beyond MXNet's


@pytest.mark.parametrize(
    "make_it, match",
    [
        (lambda: FactorScheduler(step=2, factor="0.5"), "factor"),
        (lambda: FactorScheduler(step=2, stop_factor_lr=None), "stop_factor_lr"),
        (lambda: PolyScheduler(max_update=10, pwr=-1), "pwr"),
        (lambda: CosineScheduler(max_update=10, final_lr="0"), "final_lr"),
        (lambda: LRScheduler(base_lr=None), "base_lr"),
        (lambda: LRScheduler(warmup_steps=True), "warmup_steps"),
        (lambda: MultiFactorScheduler(step=[1, "2"]), r"step\[1\]"),
    ],
)
def test_extra_argument_checks(make_it, match):
    with pytest.raises((TypeError, ValueError), match=match):
        make_it()


def test_mx_namespace():
    assert mx.lr_scheduler.FactorScheduler is FactorScheduler
    assert "CosineScheduler" in mx.lr_scheduler.list_schedulers()
    assert "LRScheduler" not in mx.lr_scheduler.list_schedulers()
