"""Applying MXNet initializers to torch.nn.Module parameters and buffers."""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn

import mxopt as mx


def small_net() -> nn.Sequential:
    torch.manual_seed(0)
    net = nn.Sequential(nn.Conv2d(3, 8, 3), nn.BatchNorm2d(8), nn.Flatten(), nn.Linear(20, 30))
    with torch.no_grad():
        for p in net.parameters():
            p.fill_(-5.0)
        net[1].running_mean.fill_(3.0)
        net[1].running_var.fill_(7.0)
        net[1].num_batches_tracked.fill_(5)
    return net


def test_names():
    assert mx.init.mxnet_names(small_net()) == {
        "0.weight": "0.weight",
        "0.bias": "0.bias",
        "1.weight": "1.gamma",
        "1.bias": "1.beta",
        "1.running_mean": "1.moving_mean",
        "1.running_var": "1.moving_var",
        "3.weight": "3.weight",
        "3.bias": "3.bias",
    }


def test_xavier_on_sequential():
    net = small_net()
    out = mx.init.initialize(net, mx.init.Xavier(), generator=torch.Generator().manual_seed(0))
    assert out is net
    # conv (8,3,3,3): fan_in 27, fan_out 72; linear (30,20): fan_in 20, fan_out 30
    conv_bound = math.sqrt(3 / ((27 + 72) / 2))
    lin_bound = math.sqrt(3 / ((20 + 30) / 2))
    assert net[0].weight.abs().max() <= conv_bound and net[0].weight.abs().max() > 0.5 * conv_bound
    assert net[3].weight.abs().max() <= lin_bound and net[3].weight.abs().max() > 0.5 * lin_bound
    assert torch.equal(net[0].bias, torch.zeros(8))
    assert torch.equal(net[3].bias, torch.zeros(30))
    assert torch.equal(net[1].weight, torch.ones(8))
    assert torch.equal(net[1].bias, torch.zeros(8))
    assert torch.equal(net[1].running_mean, torch.zeros(8))
    assert torch.equal(net[1].running_var, torch.ones(8))
    assert net[1].num_batches_tracked.item() == 5
    assert all(p.requires_grad for p in net.parameters())


def test_same_draws_as_direct_calls():
    net = small_net()
    mx.init.initialize(net, "msraprelu", generator=torch.Generator().manual_seed(7))
    g = torch.Generator().manual_seed(7)
    init = mx.init.MSRAPrelu()
    conv, lin = torch.empty(8, 3, 3, 3), torch.empty(30, 20)
    with mx.random.use_generator(g):
        init(mx.init.InitDesc("conv_weight"), conv)
        init(mx.init.InitDesc("fc_weight"), lin)
    assert torch.equal(net[0].weight, conv)
    assert torch.equal(net[3].weight, lin)


def test_apply_to_and_seed_reproducible():
    a, b = small_net(), small_net()
    mx.random.seed(3)
    mx.init.Orthogonal().apply_to(a)
    mx.random.seed(3)
    mx.init.Orthogonal().apply_to(b)
    for (name, pa), pb in zip(a.named_parameters(), b.parameters()):
        assert torch.equal(pa, pb), name
    w = a[3].weight.double() / 1.414  # (30, 20): orthonormal columns
    assert torch.allclose(w.T @ w, torch.eye(20, dtype=torch.float64), atol=1e-5)


def test_lstm_names_and_rules():
    lstm = nn.LSTM(4, 3, num_layers=2, bidirectional=True)
    names = mx.init.mxnet_names(lstm)
    assert names["weight_ih_l0"] == "l0_i2h_weight"
    assert names["weight_hh_l1_reverse"] == "r1_h2h_weight"
    assert names["bias_ih_l1"] == "l1_i2h_bias"
    mx.init.initialize(lstm, mx.init.Constant(0.5))
    for name, p in lstm.named_parameters():
        want = 0.0 if name.startswith("bias") else 0.5
        assert torch.equal(p, torch.full_like(p, want)), name


def test_lstm_forget_bias_through_mixed():
    lstm = nn.LSTM(2, 3)
    init = mx.init.Mixed([".*bias"], [mx.init.Load({"l0_i2h_bias": torch.arange(12.0)}, None)])
    init = mx.init.Mixed([".*i2h_bias", ".*"], [init, mx.init.Xavier()])
    mx.init.initialize(lstm, init)
    assert lstm.bias_ih_l0.tolist() == list(range(12))
    assert torch.equal(lstm.bias_hh_l0, torch.zeros(12))


def test_failure_leaves_module_untouched():
    net = small_net()
    net.register_parameter("scale", nn.Parameter(torch.full((2,), 9.0)))
    before = {k: v.clone() for k, v in net.state_dict().items()}
    with pytest.raises(ValueError, match="Unknown initialization pattern for scale"):
        mx.init.initialize(net, mx.init.Xavier())
    for k, v in net.state_dict().items():
        assert torch.equal(v, before[k]), k


def test_bad_arguments():
    with pytest.raises(TypeError, match="module must be"):
        mx.init.initialize({"w": torch.zeros(2)}, mx.init.Zero())
    with pytest.raises(TypeError, match="init must be"):
        mx.init.initialize(nn.Linear(2, 2), 3)
