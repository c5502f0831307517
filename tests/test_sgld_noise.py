"""SGLD's counter-based noise (mxopt._philox and the fused kernel's copy of it in C):
Philox4x32-10 known answers, the accuracy of the float32 log/sin/cos, the kernel against
the torch code bit for bit, the statistics, and reproducibility."""

from __future__ import annotations

import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import mxopt as mx
from mxopt import _philox
from mxopt.optimizer.fused import engine

# Random123's tests/kat_vectors, the three "philox4x32 10" lines: counter (4 words), key (2
# words), expected output (4 words).
KAT = [
    ([0, 0, 0, 0], [0, 0], [0x6627E8D5, 0xE169C58D, 0xBC57AC4C, 0x9B00DBD8]),
    ([0xFFFFFFFF] * 4, [0xFFFFFFFF] * 2, [0x408F276D, 0x41C83B0E, 0xA20BC7C6, 0x6D5451FD]),
    (
        [0x243F6A88, 0x85A308D3, 0x13198A2E, 0x03707344],
        [0xA4093822, 0x299F31D0],
        [0xD16CFE09, 0x94FDCCEB, 0x5001E420, 0x24126EA1],
    ),
]


@pytest.mark.parametrize(("counter", "key", "expected"), KAT)
def test_philox_known_answers(counter, key, expected) -> None:
    out = _philox.philox4x32(torch.tensor([counter], dtype=torch.int64), tuple(key))
    assert out[0].tolist() == expected


def _philox_python(counter: list[int], key: list[int]) -> list[int]:
    """Philox4x32-10 on Python ints (the textbook round, no tensor tricks)."""
    x, (k0, k1) = list(counter), key
    for _ in range(10):
        p0, p1 = 0xD2511F53 * x[0], 0xCD9E8D57 * x[2]
        x = [(p1 >> 32) ^ x[1] ^ k0, p1 & 0xFFFFFFFF, (p0 >> 32) ^ x[3] ^ k1, p0 & 0xFFFFFFFF]
        k0, k1 = (k0 + 0x9E3779B9) & 0xFFFFFFFF, (k1 + 0xBB67AE85) & 0xFFFFFFFF
    return x


_u32 = st.integers(0, 2**32 - 1)


@settings(max_examples=50, deadline=None)
@given(st.lists(_u32, min_size=4, max_size=4), st.lists(_u32, min_size=2, max_size=2))
def test_philox_matches_python_ints(counter, key) -> None:
    """The int64 tensor arithmetic (16-bit split products) never overflows or loses bits."""
    out = _philox.philox4x32(torch.tensor([counter], dtype=torch.int64), tuple(key))
    assert out[0].tolist() == _philox_python(counter, key)


def _ulps(got: torch.Tensor, exact: torch.Tensor) -> torch.Tensor:
    """|got - exact| in units of the float32 spacing at ``exact``."""
    e32 = exact.float()
    spacing = (torch.nextafter(e32.abs(), torch.tensor(math.inf)) - e32.abs()).double()
    return (got.double() - exact).abs() / spacing


def test_float32_log_is_accurate_on_every_input() -> None:
    y = torch.arange(2**23, dtype=torch.int64)
    u = (y.float() + 0.5) * 2.0**-23  # every radius input
    exact = torch.log((y.double() + 0.5) * 2.0**-23)
    assert _ulps(_philox._log_open(u), exact).max() <= 1.5


def test_float32_sin_cos_are_accurate_on_every_input() -> None:
    y = torch.arange(2**24, dtype=torch.int64)  # every angle
    cos, sin = _philox._quarter_sincos(y)
    theta = 2 * math.pi * (y.double() + 0.5) / 2**24
    for got, exact in ((cos, torch.cos(theta)), (sin, torch.sin(theta))):
        assert _ulps(got, exact).max() <= 2.0


def test_normals_layout_follows_the_definition() -> None:
    """Element e takes block e // 4 of the key; lanes (0, 1) and (2, 3) are Box-Muller pairs;
    a prefix of a longer item is the shorter item."""
    key = 0x0123456789ABCDEF
    z = _philox.standard_normal(key, 11)
    x = _philox.philox4x32(
        torch.tensor([[b, 0, 0, 0] for b in range(3)], dtype=torch.int64),
        (key & 0xFFFFFFFF, key >> 32),
    )
    for b in range(3):
        for a in (0, 2):
            u = ((int(x[b, a]) >> 9) + 0.5) * 2.0**-23
            theta = 2 * math.pi * ((int(x[b, a + 1]) >> 8) + 0.5) / 2**24
            r = math.sqrt(-2 * math.log(u))
            for lane, want in ((a, r * math.cos(theta)), (a + 1, r * math.sin(theta))):
                if 4 * b + lane < 11:
                    assert z[4 * b + lane].item() == pytest.approx(want, rel=1e-6, abs=1e-6)
    assert torch.equal(_philox.standard_normal(key, 5), z[:5])


def test_chunks_do_not_change_the_normals(monkeypatch) -> None:
    whole = _philox.standard_normal(77, 4 * 40 + 3)
    monkeypatch.setitem(_philox.CHUNK, "cpu", 3)  # 3 blocks per step: 14 steps
    assert torch.equal(_philox.standard_normal(77, 4 * 40 + 3), whole)


def test_keys_are_the_same_in_one_draw_or_one_at_a_time() -> None:
    """The fast path draws all keys of a call at once, the reference one per item."""
    many = _philox.draw_keys(9, torch.Generator().manual_seed(4))
    gen = torch.Generator().manual_seed(4)
    assert many == [_philox.draw_keys(1, gen)[0] for _ in range(9)]
    assert all(0 <= k < 2**64 for k in many) and len(set(many)) == 9
    assert any(k >= 2**63 for k in _philox.draw_keys(64, torch.Generator().manual_seed(0)))


def _sgld_run(shapes, dtype, fused, *, mp=False, calls="list", steps=2, lr=0.3, **kwargs):
    opt = mx.optimizer.SGLD(
        learning_rate=lr, generator=torch.Generator().manual_seed(8), fused=fused,
        multi_precision=mp, **kwargs,
    )  # fmt: skip
    updater = mx.optimizer.get_updater(opt)
    gen = torch.Generator().manual_seed(1)
    ws = [torch.randn(s, generator=gen).to(dtype) for s in shapes]
    for _ in range(steps):
        gs = [torch.randn(s, generator=gen).to(dtype) for s in shapes]
        if calls == "list":
            updater(list(range(len(shapes))), gs, ws)
        else:
            for i, (g, w) in enumerate(zip(gs, ws)):
                updater(i, g, w)
    return ws, [updater.states[i] for i in range(len(shapes))]


SIZES = [[1], [2], [3], [5], [4097], [40001], [3, 70000, 6, 1023, 1025], [(300, 7), (33, 3, 5)]]


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64], ids=str)
@pytest.mark.parametrize("shapes", SIZES, ids=str)
def test_kernel_noise_is_the_reference_noise_bit_for_bit(spy_tensors, shapes, dtype) -> None:
    """Sizes not divisible by 4, block and thread-slice boundaries, several tensors per
    call: the kernel and the torch code compute the same float32 operations."""
    before = spy_tensors()
    fast, _ = _sgld_run(shapes, dtype, fused=True, wd=0.1, clip_gradient=0.5)
    assert spy_tensors() - before == 2 * len(shapes)
    ref, _ = _sgld_run(shapes, dtype, fused=False, wd=0.1, clip_gradient=0.5)
    assert all(torch.equal(a, b) for a, b in zip(fast, ref))


@pytest.mark.parametrize("low", [torch.float16, torch.bfloat16], ids=str)
def test_kernel_noise_is_the_reference_noise_with_master_copies(low) -> None:
    shapes = [(7, 9), (40001,)]
    fast, fast_states = _sgld_run(shapes, low, fused=True, mp=True)
    ref, ref_states = _sgld_run(shapes, low, fused=False, mp=True)
    for a, b in zip(fast, ref):
        assert torch.equal(a, b)
    for a, b in zip(fast_states, ref_states):
        assert torch.equal(a[0], b[0])  # the float32 master copies


def test_kernel_noise_is_exactly_the_standard_normals() -> None:
    """From zero weights and gradients with lr=1 one step leaves exactly z."""
    n = 2**17 + 3
    opt = mx.optimizer.SGLD(learning_rate=1.0, generator=torch.Generator().manual_seed(2))
    w = torch.zeros(n)
    mx.optimizer.get_updater(opt)(0, torch.zeros(n), w)
    (key,) = _philox.draw_keys(1, torch.Generator().manual_seed(2))
    assert torch.equal(w, _philox.standard_normal(key, n))


def test_kernel_noise_does_not_depend_on_the_thread_count() -> None:
    results = []
    threads = torch.get_num_threads()
    try:
        for t in (1, 2):
            torch.set_num_threads(t)
            results.append(_sgld_run([(3, 50001)], torch.float32, fused=True, steps=1)[0][0])
    finally:
        torch.set_num_threads(threads)
    assert torch.equal(*results)


@pytest.mark.parametrize("fused", [True, False])
def test_noise_statistics(fused) -> None:
    """2^20 draws: mean 0 and variance lr within 5 standard errors, the mass within 1 and 2
    standard deviations, no correlation between neighbours (Box-Muller partners, blocks)
    nor between two parameters of one call."""
    n, lr = 2**20, 0.25
    opt = mx.optimizer.SGLD(
        learning_rate=lr, generator=torch.Generator().manual_seed(6), fused=fused
    )
    ws = [torch.zeros(n), torch.zeros(n)]
    mx.optimizer.get_updater(opt)([0, 1], [torch.zeros(n)] * 2, ws)
    z = ws[0].double() / math.sqrt(lr)
    assert abs(z.mean().item()) < 5 / math.sqrt(n)
    assert z.var().item() == pytest.approx(1.0, abs=5 * math.sqrt(2 / n))
    for k, p in ((1, math.erf(1 / math.sqrt(2))), (2, math.erf(2 / math.sqrt(2)))):
        within = (z.abs() < k).double().mean().item()
        assert within == pytest.approx(p, abs=5 * math.sqrt(p * (1 - p) / n))
    other = ws[1].double() / math.sqrt(lr)
    for a, b in ((z[:-1], z[1:]), (z[:-4], z[4:]), (z, other)):
        assert abs(torch.corrcoef(torch.stack((a, b)))[0, 1].item()) < 5 / math.sqrt(n)
    assert z.abs().max().item() < 5.8  # sqrt(-2 ln 2^-24) bounds Box-Muller's radius


def test_noise_is_reproducible_and_independent_of_batching() -> None:
    shapes = [(5, 6), (1000,), (3,)]
    one, _ = _sgld_run(shapes, torch.float32, fused=True, calls="list")
    again, _ = _sgld_run(shapes, torch.float32, fused=True, calls="list")
    single, _ = _sgld_run(shapes, torch.float32, fused=True, calls="single")
    ref_single, _ = _sgld_run(shapes, torch.float32, fused=False, calls="single")
    for a, b, c, d in zip(one, again, single, ref_single):
        assert torch.equal(a, b) and torch.equal(a, c) and torch.equal(a, d)
    other = mx.optimizer.SGLD(learning_rate=0.3, generator=torch.Generator().manual_seed(9))
    w = torch.zeros(10)
    mx.optimizer.get_updater(other)(0, torch.zeros(10), w)
    assert not torch.equal(w, one[0].flatten()[:10])


def test_an_overridden_draw_noise_is_used_on_both_paths(spy_tensors) -> None:
    class Fixed(mx.optimizer.SGLD):
        def _draw_noise(self, weight, lr):
            return torch.full_like(weight, 0.5)

    results = []
    before = spy_tensors()
    for fused in (True, False):
        w = torch.ones(40000)
        opt = Fixed(learning_rate=0.1, wd=0.1, fused=fused)
        mx.optimizer.get_updater(opt)([0], [torch.full((40000,), 2.0)], [w])
        results.append(w)
    assert spy_tensors() - before == 1
    assert torch.equal(*results)
    assert torch.allclose(results[0], torch.tensor(1 - 0.05 * (2 + 0.1) + 0.5))


def test_every_configuration_is_bit_identical_to_the_reference() -> None:
    from optimizer_catalog import BY_NAME

    info = BY_NAME["sgld"]
    for kwargs in (*info.configs, *info.fused_grid):
        kwargs = {k: v for k, v in kwargs.items() if k != "learning_rate"}
        fast, _ = _sgld_run([(7, 9, 11), (4097,)], torch.float32, fused=True, **kwargs)
        ref, _ = _sgld_run([(7, 9, 11), (4097,)], torch.float32, fused=False, **kwargs)
        assert all(torch.equal(a, b) for a, b in zip(fast, ref)), kwargs


@pytest.fixture
def spy_tensors():
    return lambda: engine.stats["tensors"]
