"""Adamax, Nadam, DCASGD, SGLD, Signum, FTML, Ftrl and GroupAdaGrad: the behaviour the
golden trajectories (test_optimizer_golden.py) cannot show on their own — SGLD's noise,
DCASGD's momentum (MXNet 1.9.1 crashes there), Nadam's shared schedule, the argument
checks, lazy row-sparse updates and the ``mx.nd`` operators."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from conftest import FIXTURES, load_golden

import mxopt as mx
from mxopt import _philox

# §2 "Reference vectors (verified)" of the MXNet 1.9.1 behaviour catalog: weight [1, -2],
# gradients 0.5, -1, 2 (both elements), learning_rate 0.1, wd 0.1, via get_updater.
REFERENCE = {
    "adamax": ({}, [[0.9, -2.1], [0.9214, -2.05911], [0.890373, -2.07861]]),
    "nadam": ({}, [[0.894355, -2.10565], [0.978157, -2.00573], [0.879152, -2.09536]]),
    "signum": ({"momentum": 0.9}, [[0.9, -2.1], [1.0, -2.0], [0.9, -2.1]]),
    "ftml": ({}, [[0.9, -2.1], [0.973785, -2.01423], [0.8954, -2.08683]]),
    "dcasgd": ({}, [[0.94, -2.03], [1.03084, -1.90958], [0.819078, -2.09241]]),
    "ftrl": ({}, [[0.297351, -0.694702], [0.344343, -0.64771], [0.28376, -0.708293]]),
}


@pytest.mark.parametrize("name", sorted(REFERENCE))
def test_reference_vectors(name: str) -> None:
    extra, expected = REFERENCE[name]
    opt = mx.optimizer.create(name, learning_rate=0.1, wd=0.1, **extra)
    updater = mx.optimizer.get_updater(opt)
    w = torch.tensor([1.0, -2.0])
    for g, want in zip([0.5, -1.0, 2.0], expected):
        updater(0, torch.full((2,), g), w)
        np.testing.assert_allclose(w.numpy(), want, atol=2e-6, rtol=1e-5)


# ---------------------------------------------------------------- SGLD
def _sgld_step(lr: float, n: int, generator=None, **kwargs) -> torch.Tensor:
    opt = mx.optimizer.SGLD(learning_rate=lr, generator=generator, **kwargs)
    w = torch.zeros(n)
    mx.optimizer.get_updater(opt)(0, torch.zeros(n), w)
    return w


@pytest.mark.parametrize("lr", [0.04, 0.5])
def test_sgld_noise_has_mean_zero_and_variance_lr(lr: float) -> None:
    n = 40000
    w = _sgld_step(lr, n, torch.Generator().manual_seed(11)).double()
    std = math.sqrt(lr)
    assert abs(w.mean().item()) < 5 * std / math.sqrt(n)
    # the sample variance of n normal draws has relative std sqrt(2/n) (0.7% here)
    assert w.var().item() == pytest.approx(lr, rel=5 * math.sqrt(2 / n))


def test_sgld_noise_matches_mxnets_noise_statistics() -> None:
    """The fixture recorded one real, noisy MXNet SGLD step from zero weights and zero
    gradients: its standard deviation is sqrt(lr), and so is ours."""
    meta, _ = load_golden(FIXTURES / "optimizers" / "sgld.npz")
    ref = meta["noise"]
    assert ref["std"] == pytest.approx(math.sqrt(ref["lr"]), rel=0.03)
    ours = _sgld_step(ref["lr"], ref["n"], torch.Generator().manual_seed(3)).double()
    assert ours.std().item() == pytest.approx(ref["std"], rel=0.03)
    assert abs(ours.mean().item() - ref["mean"]) < 6 * ref["std"] / math.sqrt(ref["n"])


def test_sgld_drift_is_the_step_minus_its_noise() -> None:
    """A noisy run minus the noise drawn from an identically seeded generator equals the
    noise-free drift -(lr/2)(clip(r g) + wd w)."""
    lr, wd, r, c = 0.1, 0.2, 0.5, 0.3
    w0 = torch.tensor([1.0, -2.0, 0.5, 3.0])
    g = torch.tensor([0.4, -2.0, 1.0, 0.0])
    w = w0.clone()
    opt = mx.optimizer.SGLD(
        learning_rate=lr, wd=wd, rescale_grad=r, clip_gradient=c,
        generator=torch.Generator().manual_seed(5),
    )  # fmt: skip
    mx.optimizer.get_updater(opt)(0, g, w)
    (key,) = _philox.draw_keys(1, torch.Generator().manual_seed(5))  # the same first key
    noise = _philox.gaussian(key, (4,), torch.float32, math.sqrt(lr))
    drift = -(lr / 2) * ((g * r).clamp(-c, c) + wd * w0)
    torch.testing.assert_close(w - noise, w0 + drift, rtol=1e-6, atol=1e-6)


def test_sgld_is_reproducible_with_a_generator_or_a_seed() -> None:
    a = _sgld_step(0.1, 50, torch.Generator().manual_seed(1))
    b = _sgld_step(0.1, 50, torch.Generator().manual_seed(1))
    c = _sgld_step(0.1, 50, torch.Generator().manual_seed(2))
    assert torch.equal(a, b) and not torch.equal(a, c)
    mx.random.seed(7)
    d = _sgld_step(0.1, 50)
    mx.random.seed(7)
    assert torch.equal(d, _sgld_step(0.1, 50))
    with mx.random.use_generator(torch.Generator().manual_seed(1)):
        assert torch.equal(_sgld_step(0.1, 50), a)


def test_sgld_noise_has_the_weight_dtype_and_generator_stays_out_of_dumps() -> None:
    opt = mx.optimizer.SGLD(learning_rate=0.1, generator=torch.Generator().manual_seed(0))
    updater = mx.optimizer.get_updater(opt)
    w = torch.zeros(8, dtype=torch.float64)
    updater(0, torch.zeros(8, dtype=torch.float64), w)
    assert w.dtype == torch.float64 and torch.count_nonzero(w) == 8
    fresh = mx.optimizer.get_updater(mx.optimizer.SGLD())
    fresh.set_states(updater.get_states(dump_optimizer=True))
    assert fresh.optimizer.generator is None and opt.generator is not None
    assert fresh.optimizer.num_update == 1


def test_sgld_rejects_a_non_generator() -> None:
    with pytest.raises(TypeError, match="generator"):
        mx.optimizer.SGLD(generator=42)


# ---------------------------------------------------------------- DCASGD
def _dcasgd_numpy(w, grads, lr, momentum, lamda, wd, r, c):
    """The delay-compensated update with momentum, in float64 NumPy."""
    w = w.astype(np.float64).copy()
    prev, mom, out = w.copy(), np.zeros_like(w), []
    for g in grads:
        G = np.clip(g * r, -c, c)
        delta = -lr * (G + wd * w + lamda * G * G * (w - prev))
        mom = momentum * mom + delta
        prev = w.copy()
        w = w + mom
        out.append(w.copy())
    return out


def test_dcasgd_momentum_follows_the_reference() -> None:
    rng = np.random.default_rng(0)
    w0 = rng.standard_normal((3, 4))
    grads = [rng.standard_normal((3, 4)) for _ in range(5)]
    # MXNet's clip operator parses its bounds as float32, so the reference clips at f32(0.3)
    hyper = dict(lr=0.1, momentum=0.9, lamda=0.2, wd=0.05, r=0.5, c=float(np.float32(0.3)))
    expected = _dcasgd_numpy(w0, grads, **hyper)
    opt = mx.optimizer.DCASGD(
        learning_rate=0.1, momentum=0.9, lamda=0.2, wd=0.05, rescale_grad=0.5, clip_gradient=0.3
    )
    updater = mx.optimizer.get_updater(opt)
    w = torch.tensor(w0)
    for g, want in zip(grads, expected):
        updater(0, torch.tensor(g), w)
        np.testing.assert_allclose(w.numpy(), want, rtol=1e-12, atol=1e-12)
    mom, prev = updater.states[0]
    assert mom.shape == w.shape and prev.shape == w.shape


def test_dcasgd_state_layout() -> None:
    w = torch.tensor([1.0, 2.0])
    mom, prev = mx.optimizer.DCASGD().create_state(0, w)
    assert mom is None and torch.equal(prev, w) and prev.data_ptr() != w.data_ptr()
    mom, _ = mx.optimizer.DCASGD(momentum=0.5).create_state(0, w)
    assert torch.equal(mom, torch.zeros(2))


# ---------------------------------------------------------------- Nadam
def test_nadam_momentum_schedule_is_shared_by_all_parameters() -> None:
    beta1, sd = 0.9, 0.004
    opt = mx.optimizer.Nadam(learning_rate=0.01)
    updater = mx.optimizer.get_updater(opt)
    weights = [torch.ones(3), torch.ones(2)]
    for _ in range(2):
        for i, w in enumerate(weights):
            updater(i, torch.full_like(w, 0.5), w)
    mu = [beta1 * (1 - 0.5 * 0.96 ** (t * sd)) for t in (1, 2)]
    assert opt.m_schedule == pytest.approx(mu[0] ** 2 * mu[1] ** 2, rel=1e-15)
    # the second parameter does not follow what a lone parameter would do
    alone = torch.ones(2)
    lone = mx.optimizer.get_updater(mx.optimizer.Nadam(learning_rate=0.01))
    for _ in range(2):
        lone(0, torch.full_like(alone, 0.5), alone)
    assert not torch.equal(alone, weights[1])


# ---------------------------------------------------------------- Signum
def test_signum_wd_lh_needs_momentum() -> None:
    with pytest.raises(ValueError, match="wd_lh"):
        mx.optimizer.Signum(momentum=0.0, wd_lh=0.1)
    assert mx.optimizer.Signum(momentum=0.9, wd_lh=0.1).wd_lh == 0.1


def test_signsgd_ignores_rescale_and_clip() -> None:
    g = torch.tensor([0.5, -3.0, 0.0])
    outs = []
    for kw in ({}, {"rescale_grad": 0.01, "clip_gradient": 0.001}):
        w = torch.tensor([1.0, -2.0, 3.0])
        opt = mx.optimizer.Signum(learning_rate=0.1, momentum=0.0, wd=0.1, **kw)
        updater = mx.optimizer.get_updater(opt)
        updater(0, g, w)
        assert updater.states[0] is None
        outs.append(w)
    expected = (1 - 0.1 * 0.1) * torch.tensor([1.0, -2.0, 3.0]) - 0.1 * torch.sign(g)
    torch.testing.assert_close(outs[0], expected)
    assert torch.equal(outs[0], outs[1])


def test_signum_state_holds_the_negative_momentum() -> None:
    updater = mx.optimizer.get_updater(mx.optimizer.Signum(learning_rate=0.1, momentum=0.9))
    w = torch.tensor([1.0, -2.0])
    updater(0, torch.tensor([0.5, -0.5]), w)
    torch.testing.assert_close(updater.states[0], torch.tensor([-0.05, 0.05]))
    torch.testing.assert_close(w, torch.tensor([0.9, -1.9]))


# ---------------------------------------------------------------- Ftrl
def _sparse(rows: list[int], values: list[list[float]], shape) -> torch.Tensor:
    return mx.nd.sparse.row_sparse_array(values, rows, shape=shape)


def test_ftrl_row_sparse_dense_weight_recomputes_every_row() -> None:
    """MXNet (dense weight): rows without gradient are recomputed from z = n = 0 -> 0."""
    w = torch.tensor([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])
    updater = mx.optimizer.get_updater(mx.optimizer.Ftrl())
    updater(0, _sparse([1], [[0.5, -0.5]], (3, 2)), w)
    assert torch.equal(w[0], torch.zeros(2)) and torch.equal(w[2], torch.zeros(2))
    assert torch.count_nonzero(w[1]) == 2


def test_ftrl_lazy_update_touches_only_present_rows() -> None:
    w = torch.tensor([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])
    dense_w = w.clone()
    updater = mx.optimizer.get_updater(mx.optimizer.Ftrl(lazy_update=True))
    updater(0, _sparse([1], [[0.5, -0.5]], (3, 2)), w)
    mx.optimizer.get_updater(mx.optimizer.Ftrl())(
        0, torch.tensor([[0, 0], [0.5, -0.5], [0, 0]]), dense_w
    )
    assert torch.equal(w[0], torch.tensor([1.0, 2.0])) and torch.equal(
        w[2], torch.tensor([5.0, 6.0])
    )
    assert torch.equal(w[1], dense_w[1])
    z, n = updater.states[0]
    assert torch.count_nonzero(z[[0, 2]]) == 0 and torch.count_nonzero(n[[0, 2]]) == 0


def test_ftrl_keeps_its_learning_rate_away_from_a_scheduler() -> None:
    sched = mx.lr_scheduler.FactorScheduler(step=10, factor=0.5, base_lr=0.3)
    opt = mx.optimizer.Ftrl(lr_scheduler=sched)
    assert sched.base_lr == 0.3 and opt.lr == 0.1 and opt.learning_rate == 0.3


# ---------------------------------------------------------------- GroupAdaGrad
def test_group_adagrad_is_exposed_in_contrib() -> None:
    assert mx.optimizer.contrib.GroupAdaGrad is mx.optimizer.GroupAdaGrad
    assert type(mx.optimizer.create("GroupAdaGrad")) is mx.optimizer.GroupAdaGrad
    assert mx.nd.contrib.group_adagrad_update is not None


def test_group_adagrad_refuses_weight_decay_and_non_2d_weights() -> None:
    with pytest.raises(ValueError, match="wd"):
        mx.optimizer.GroupAdaGrad(wd=0.1)
    opt = mx.optimizer.GroupAdaGrad(param_idx2name={0: "emb_weight"})
    updater = mx.optimizer.get_updater(opt)
    with pytest.raises(AssertionError, match="2-D"):  # MXNet asserts; ours is a ValueError too
        updater(0, torch.ones(4), torch.ones(4))
    opt.wd = 0.0
    opt.set_wd_mult({"emb_weight": 2.0})
    w = torch.ones(2, 3)
    updater(0, torch.ones(2, 3), w)  # effective wd 0 * 2 = 0: fine
    before, count = w.clone(), opt.num_update
    opt.wd = 0.5  # now wd x wd_mult = 1.0
    with pytest.raises(ValueError, match="wd"):
        updater(0, torch.ones(2, 3), w)
    assert torch.equal(w, before) and opt.num_update == count


# values from MXNet 1.9.1: mx.nd.contrib.group_adagrad_update on w = [[1, 2], [3, 4]],
# history zeros (2, 1), a row-sparse grad holding row 0 = [0.5, -1], lr 0.1
GROUP_ADAGRAD_MXNET = {
    None: ([[0.9367549419403076, 2.1264901161193848], [3.0, 4.0]], [[0.625], [0.0]]),
    0.6: ([[0.9094657301902771, 2.1086411476135254], [3.0, 4.0]], [[0.305], [0.0]]),
}


@pytest.mark.parametrize("clip", [None, 0.6])
def test_group_adagrad_update_operator_matches_mxnet(clip) -> None:
    w = torch.tensor([[1.0, 2.0], [3.0, 4.0]])
    h = torch.zeros(2, 1)
    g = _sparse([0], [[0.5, -1.0]], (2, 2))
    kwargs = {} if clip is None else {"clip_gradient": clip}
    out = mx.nd.contrib.group_adagrad_update(w, g, h, lr=0.1, **kwargs)
    assert out is w
    want_w, want_h = GROUP_ADAGRAD_MXNET[clip]
    np.testing.assert_allclose(w.numpy(), want_w, rtol=1e-7)
    np.testing.assert_allclose(h.numpy(), want_h, rtol=1e-7)


def test_group_adagrad_update_operator_checks_shapes() -> None:
    with pytest.raises(ValueError, match="weight must be 2-D"):
        mx.nd.contrib.group_adagrad_update(torch.ones(3), torch.ones(3), torch.zeros(3, 1), lr=0.1)
    with pytest.raises(ValueError, match="history"):
        mx.nd.contrib.group_adagrad_update(
            torch.ones(3, 2), torch.ones(3, 2), torch.zeros(3, 2), lr=0.1
        )


# ---------------------------------------------------------------- Adamax
def test_adamax_zero_gradient_without_wd_gives_nan_like_mxnet() -> None:
    w = torch.tensor([1.0, 2.0])
    mx.optimizer.get_updater(mx.optimizer.Adamax())(0, torch.tensor([0.0, 1.0]), w)
    assert math.isnan(w[0].item()) and math.isfinite(w[1].item())


# ---------------------------------------------------------------- operators
def test_ftml_update_needs_t() -> None:
    w, g = torch.ones(2), torch.ones(2)
    d, v, z = torch.zeros(2), torch.zeros(2), torch.zeros(2)
    with pytest.raises(TypeError, match="t"):
        mx.nd.ftml_update(w, g, d, v, z, lr=0.1)
    with pytest.raises(ValueError, match="t must be >= 1"):
        mx.nd.ftml_update(w, g, d, v, z, lr=0.1, t=0)
    assert torch.equal(w, torch.ones(2)) and torch.equal(d, torch.zeros(2))


def test_operators_write_out_and_leave_the_weight() -> None:
    w = torch.tensor([1.0, -2.0])
    g = torch.tensor([0.5, 0.5])
    out = torch.empty(2)
    r = mx.nd.signum_update(w, g, torch.zeros(2), lr=0.1, momentum=0.9, out=out)
    assert r is out and torch.equal(w, torch.tensor([1.0, -2.0]))
    torch.testing.assert_close(out, torch.tensor([0.9, -2.1]))
    out = torch.empty(2)
    mx.nd.signsgd_update(w, g, lr=0.1, wd=0.1, out=out)
    torch.testing.assert_close(out, torch.tensor([0.89, -2.08]))
    z, n = torch.zeros(2), torch.zeros(2)
    mx.nd.sparse.ftrl_update(w, g, z, n, lr=0.1, wd=0.1)
    np.testing.assert_allclose(w.numpy(), REFERENCE["ftrl"][1][0], atol=2e-6)


def test_operators_check_before_writing() -> None:
    w = torch.ones(3)
    with pytest.raises(ValueError, match="mom"):
        mx.nd.signum_update(w, torch.ones(3), torch.zeros(4), lr=0.1)
    with pytest.raises(ValueError, match="grad"):
        mx.nd.ftrl_update(w, torch.ones(4), torch.zeros(3), torch.zeros(3), lr=0.1)
    assert torch.equal(w, torch.ones(3))
