"""Behaviour of LBSGD, LARS and LAMB beyond the golden trajectories: LBSGD's accumulation,
warmup multipliers and rate-before-count order; LARS's name rule and per-call momentum
correction; LAMB's bounds."""

from __future__ import annotations

import math

import pytest
import torch

import mxopt as mx


def test_lbsgd_reused_gradient_buffer_is_averaged_correctly() -> None:
    """MXNet keeps the first gradient by reference (a reused buffer corrupts the average);
    mxopt copies it, so reusing one buffer equals passing fresh tensors."""
    fresh_w, reused_w = torch.tensor([1.0, -2.0]), torch.tensor([1.0, -2.0])
    kw = dict(learning_rate=0.1, batch_scale=2, warmup_epochs=0)
    fresh = mx.optimizer.get_updater(mx.optimizer.LBSGD(**kw))
    reused = mx.optimizer.get_updater(mx.optimizer.LBSGD(**kw))
    buf = torch.empty(2)
    for g in ([0.5, 0.5], [1.5, -0.5]):
        fresh(0, torch.tensor(g), fresh_w)
        buf.copy_(torch.tensor(g))
        reused(0, buf, reused_w)
    # mean gradient [1.0, 0.0], lr 0.1 * batch_scale 2
    torch.testing.assert_close(reused_w, torch.tensor([0.8, -2.0]))
    torch.testing.assert_close(fresh_w, reused_w)


def test_lbsgd_reads_the_rate_before_counting() -> None:
    """The first update uses the scheduler's rate at num_update 0 (SGD would use 1)."""
    sched = lambda n: 1.0 if n == 0 else 0.5  # noqa: E731
    w_lb, w_sgd = torch.tensor([1.0]), torch.tensor([1.0])
    mx.optimizer.get_updater(mx.optimizer.LBSGD(lr_scheduler=sched))(0, torch.ones(1), w_lb)
    mx.optimizer.get_updater(mx.optimizer.SGD(lr_scheduler=sched))(0, torch.ones(1), w_sgd)
    assert w_lb.item() == pytest.approx(0.0) and w_sgd.item() == pytest.approx(0.5)


@pytest.mark.parametrize(
    ("strategy", "formula"),
    [
        ("linear", lambda n, N, M: 1 + (M - 1) * n / N),
        ("power2", lambda n, N, M: 1 + (M - 1) * n * n / (N * N)),
        ("sqrt", lambda n, N, M: 1 + (M - 1) * math.sqrt(n / N)),
        ("anything-else", lambda n, N, M: 1.0),
    ],
)
def test_lbsgd_warmup_multipliers(strategy, formula) -> None:
    opt = mx.optimizer.LBSGD(warmup_strategy=strategy, batch_scale=4, warmup_epochs=2,
                             updates_per_epoch=5)  # fmt: skip
    for n in range(1, 10):
        assert opt._get_lbmult(n) == pytest.approx(formula(n, 10, 4))
    assert opt._get_lbmult(10) == opt._get_lbmult(25) == 4.0  # warmup over: batch_scale
    short = mx.optimizer.LBSGD(warmup_strategy=strategy, batch_scale=4, warmup_epochs=1,
                               updates_per_epoch=1)  # fmt: skip
    assert short._get_lbmult(0) == 1.0  # N <= 1


def test_lbsgd_lars_multiplier_is_clamped() -> None:
    lars = mx.optimizer.LBSGD._get_lars
    assert lars(torch.full((4,), 3.0), torch.full((4,), 1.0), 0.0) == pytest.approx(3.0)
    assert lars(torch.full((4,), 1e4), torch.full((4,), 1e-3), 0.0) == 100.0
    assert lars(torch.full((4,), 1e-5), torch.full((4,), 1.0), 0.0) == 0.01


def test_lars_skips_gamma_beta_bias_and_decays_only_weights() -> None:
    names = {0: "fc_weight", 1: "fc_bias", 2: "bn_gamma", 3: "bn_beta", 4: "custom"}
    opt = mx.optimizer.LARS(param_idx2name=names, wd=0.1)
    assert [opt._uses_lars(i) for i in range(5)] == [True, False, False, False, True]
    assert opt._get_wds(list(range(5))) == [0.1, 0.0, 0.0, 0.0, 0.0]
    assert mx.optimizer.SGD(param_idx2name=names, wd=0.1)._get_wds([2]) == [0.1]


def test_lars_momentum_correction_is_per_call() -> None:
    """The ratio compares this call's scheduler rate with the previous call's."""
    rates = iter([1.0, 0.5, 0.5])
    opt = mx.optimizer.LARS(momentum=0.9, lr_scheduler=lambda n: next(rates))
    opt._get_lrs([0])
    assert opt._hyper()["momentum"] == pytest.approx(0.9)
    opt._get_lrs([0])
    assert opt._hyper()["momentum"] == pytest.approx(0.45)
    opt._get_lrs([1])
    assert opt._hyper()["momentum"] == pytest.approx(0.9)


def test_lamb_upper_bound_caps_the_trust_ratio() -> None:
    """r1 = min(||w||, upper); with one step from zero moments u = sign(g) (+ wd w)."""
    w = torch.tensor([3.0, 4.0])
    opt = mx.optimizer.LAMB(learning_rate=0.1, upper_bound=1.0, epsilon=0.0)
    mx.optimizer.get_updater(opt)(0, torch.tensor([2.0, 2.0]), w)
    # u = [1, 1], r2 = sqrt(2), trust = 1/sqrt(2)
    torch.testing.assert_close(w, torch.tensor([3.0, 4.0]) - 0.1 / math.sqrt(2))
