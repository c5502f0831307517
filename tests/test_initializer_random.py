"""Random initializers: distributions against the analytic scales, seeding, generators.

Tolerances: means within 6 standard errors, standard deviations within 3 % (at least
~6 standard errors for the sample sizes used); all draws come from fixed seeds.
"""

from __future__ import annotations

import math

import pytest
import torch

import mxopt as mx


def gen(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def check_moments(x: torch.Tensor, std: float) -> None:
    x = x.double().flatten()
    n = x.numel()
    assert abs(x.mean().item()) < 6 * std / math.sqrt(n)
    assert x.std().item() == pytest.approx(std, rel=0.03)


def fill(init, shape, name="w_weight", dtype=torch.float32):
    arr = torch.full(shape, float("nan"), dtype=dtype)
    init(mx.init.InitDesc(name), arr)
    assert not torch.isnan(arr).any()
    return arr


@pytest.mark.parametrize("scale", [0.07, 0.5])
def test_uniform(scale):
    init = mx.init.Uniform() if scale == 0.07 else mx.init.Uniform(scale)
    x = fill(init.set_generator(gen(1)), (200, 500))
    assert x.abs().max().item() <= scale
    assert x.abs().max().item() > 0.99 * scale
    check_moments(x, scale / math.sqrt(3))


@pytest.mark.parametrize("sigma", [0.01, 0.5])
def test_normal(sigma):
    init = mx.init.Normal() if sigma == 0.01 else mx.init.Normal(sigma)
    x = fill(init.set_generator(gen(2)), (200, 500))
    check_moments(x, sigma)


# (shape, fan_in, fan_out) written out by hand: hw = prod(shape[2:])
FANS = [((300, 200), 200, 300), ((64, 32, 3, 3), 288, 576), ((16, 8, 5, 5, 2), 400, 800)]


@pytest.mark.parametrize(("shape", "fan_in", "fan_out"), FANS)
@pytest.mark.parametrize("factor_type", ["avg", "in", "out"])
@pytest.mark.parametrize("rnd_type", ["uniform", "gaussian"])
def test_xavier(shape, fan_in, fan_out, factor_type, rnd_type):
    assert mx.init.fans(shape) == (fan_in, fan_out)
    factor = {"avg": (fan_in + fan_out) / 2, "in": fan_in, "out": fan_out}[factor_type]
    magnitude = 2.34
    scale = math.sqrt(magnitude / factor)
    init = mx.init.Xavier(rnd_type, factor_type, magnitude, generator=gen(3))
    x = fill(init, shape)
    if rnd_type == "uniform":
        assert x.abs().max().item() <= scale * (1 + 1e-6)
        check_moments(x, scale / math.sqrt(3))
    else:
        check_moments(x, scale)


def test_xavier_default_conv_bound():
    # behaviour doc: conv (64,3,3,3): fan_in 27, fan_out 576, avg 301.5, bound 0.09975
    assert mx.init.Xavier().scale_for("w", (64, 3, 3, 3)) == pytest.approx(0.09975, abs=1e-5)


@pytest.mark.parametrize(("factor_type", "slope"), [("avg", 0.25), ("in", 0.0), ("out", 0.1)])
def test_msraprelu(factor_type, slope):
    shape, fan_in, fan_out = (128, 64, 3, 3), 576, 1152
    factor = {"avg": (fan_in + fan_out) / 2, "in": fan_in, "out": fan_out}[factor_type]
    std = math.sqrt(2 / (1 + slope**2) / factor)
    x = fill(mx.init.MSRAPrelu(factor_type, slope, generator=gen(4)), shape)
    check_moments(x, std)
    assert mx.init.MSRAPrelu().magnitude == pytest.approx(1.88235, abs=1e-5)


@pytest.mark.parametrize("rand_type", ["uniform", "normal"])
@pytest.mark.parametrize(
    ("shape", "rows"),
    [((3, 5), True), ((5, 3), False), ((4, 2, 3, 3), True), ((40, 2, 2), False), ((4, 4), None)],
)
def test_orthogonal(shape, rows, rand_type):
    scale = 1.414
    w = fill(mx.init.Orthogonal(rand_type=rand_type, generator=gen(5)), shape)
    m = w.double().reshape(shape[0], -1) / scale
    if rows in (True, None):
        assert torch.allclose(m @ m.T, torch.eye(m.shape[0], dtype=torch.float64), atol=1e-5)
    if rows in (False, None):
        assert torch.allclose(m.T @ m, torch.eye(m.shape[1], dtype=torch.float64), atol=1e-5)
    assert mx.init.Orthogonal().scale == 1.414


def test_orthogonal_scale_and_bad_type():
    w = fill(mx.init.Orthogonal(scale=3.0, generator=gen(6)), (4, 6))
    assert torch.allclose(w @ w.T, 9 * torch.eye(4), atol=1e-4)
    with pytest.raises(ValueError, match="rand_type"):
        mx.init.Orthogonal(rand_type="gaussian")


def test_seeded_run_is_reproducible():
    def draw():
        out = []
        for init in (mx.init.Uniform(), mx.init.Normal(), mx.init.Xavier(), mx.init.Orthogonal()):
            out.append(fill(init, (6, 5)))
        return torch.cat([t.flatten() for t in out])

    mx.random.seed(123)
    a = draw()
    mx.random.seed(123)
    b = draw()
    mx.random.seed(124)
    c = draw()
    assert torch.equal(a, b)
    assert not torch.equal(a, c)


def test_generator_keyword_and_use_generator():
    a = fill(mx.init.Xavier(generator=gen(9)), (10, 10))
    b = fill(mx.init.Xavier(generator=gen(9)), (10, 10))
    assert torch.equal(a, b)
    with mx.random.use_generator(gen(9)):
        c = fill(mx.init.Xavier(), (10, 10))
    assert torch.equal(a, c)
    # the global stream is not consumed by a generator-backed draw
    mx.random.seed(5)
    first = torch.rand(3)
    mx.random.seed(5)
    fill(mx.init.Uniform(generator=gen(1)), (4,))
    assert torch.equal(torch.rand(3), first)
    with pytest.raises(TypeError, match="generator must be"):
        mx.init.Uniform(generator=3)


def test_random_module_functions():
    mx.random.seed(11)
    u = mx.random.uniform(-2, 3, shape=(1000,))
    assert u.dtype == torch.float32 and u.min() >= -2 and u.max() < 3
    n = mx.random.normal(1.0, 2.0, shape=(4, 5), dtype="float64")
    assert n.shape == (4, 5) and n.dtype == torch.float64
    r = mx.random.randint(-3, 3, shape=(500,))
    assert r.dtype == torch.int32 and r.min() >= -3 and r.max() < 3
    out = torch.zeros(3)
    assert mx.random.uniform(out=out) is out
    mx.random.seed(3, ctx=mx.cpu())
    with pytest.raises(TypeError, match="seed_state"):
        mx.random.seed(1.5)
    with pytest.raises(ValueError, match="high must be greater"):
        mx.random.randint(3, 3)


@pytest.mark.parametrize("dtype", [torch.float16, torch.float64, torch.bfloat16])
def test_other_float_dtypes(dtype):
    x = fill(mx.init.Uniform(0.5, generator=gen(2)), (100, 100), dtype=dtype)
    assert x.dtype == dtype and x.abs().max().item() <= 0.5
    check_moments(x, 0.5 / math.sqrt(3))
