"""Deterministic initializer rules against golden results from MXNet 1.9.1.

Fixtures: tests/fixtures/initializer.{json,npz}, made by
tools/fixtures/make_initializer_fixtures.py with the real library.
"""

from __future__ import annotations

import json
import logging
import warnings
from pathlib import Path

import numpy as np
import pytest
import torch

import mxopt as mx

FIX = Path(__file__).parent / "fixtures"
DOC = json.loads((FIX / "initializer.json").read_text())
ARR = dict(np.load(FIX / "initializer.npz"))
TORCH_DTYPES = {"float32": torch.float32, "float16": torch.float16, "float64": torch.float64}


class NameCode(mx.init.Initializer):
    """Same rule as the fixture script's: arange(size)*0.01 + (sum of name chars) % 97."""

    def __init__(self) -> None:
        super().__init__()

    def _init_weight(self, name, arr):
        code = sum(ord(ch) for ch in str(name)) % 97
        values = torch.arange(arr.numel(), dtype=torch.float64).reshape(arr.shape) * 0.01 + code
        arr.copy_(values)


def test_init_is_initializer():
    assert mx.init is mx.initializer


@pytest.mark.parametrize("case", DOC["dispatch"], ids=lambda c: f"{c['key']}-{c['name']}")
def test_dispatch_matches_mxnet(case):
    init = mx.init.create(case["init"])
    arr = torch.full(case["shape"], -7.0, dtype=TORCH_DTYPES[case["dtype"]])
    desc = case["name"] if case["legacy"] else mx.init.InitDesc(case["name"], attrs=case["attrs"])
    with warnings.catch_warnings(record=True) as rec:
        warnings.simplefilter("always")
        if case["error"] is not None:
            etype, message = case["error"]
            with pytest.raises(Exception) as info:
                init(desc, arr)
            assert etype in [c.__name__ for c in type(info.value).__mro__]
            assert str(info.value) == message
            return
        init(desc, arr)
    want = ARR[case["key"]]
    assert arr.dtype == TORCH_DTYPES[case["dtype"]]
    np.testing.assert_array_equal(arr.numpy(), want)
    got_warning = rec[0].category.__name__ if rec else None
    assert got_warning == case["warning"]


@pytest.mark.parametrize("key", sorted(DOC["dumps"]))
def test_dumps_matches_mxnet(key):
    inits = {
        "zero": mx.init.Zero(),
        "one": mx.init.One(),
        "constant5": mx.init.Constant(5),
        "constant_arr": mx.init.Constant(np.array([[1.0, 2.0], [3.0, 4.0]])),
        "constant_f": mx.init.Constant(0.25),
        "uniform": mx.init.Uniform(),
        "uniform01": mx.init.Uniform(0.1),
        "normal": mx.init.Normal(),
        "normal05": mx.init.Normal(0.5),
        "orthogonal": mx.init.Orthogonal(),
        "orthogonal2": mx.init.Orthogonal(2.0, "normal"),
        "xavier": mx.init.Xavier(),
        "xavier_g": mx.init.Xavier("gaussian", "in", 2.34),
        "msra": mx.init.MSRAPrelu(),
        "msra_in": mx.init.MSRAPrelu("in", 0.1),
        "bilinear": mx.init.Bilinear(),
        "lstmbias": mx.init.LSTMBias(),
        "lstmbias2": mx.init.LSTMBias(2.0),
        "fused": mx.init.FusedRNN(mx.init.Constant(0.5), 4, 2, "lstm", True, 2.0),
        "fused_none": mx.init.FusedRNN(None, 3, 1, "gru"),
    }
    assert inits[key].dumps() == DOC["dumps"][key]
    # and create() rebuilds an equal initializer from the string (FusedRNN included)
    assert mx.init.create(DOC["dumps"][key]) == inits[key]


def test_constant_tensor_value_dumps_as_list():
    assert (
        mx.init.Constant(torch.tensor([[1.0, 2.0], [3.0, 4.0]])).dumps()
        == (DOC["dumps"]["constant_arr"])
    )


@pytest.mark.parametrize("spec", sorted(DOC["create"]))
def test_create_matches_mxnet(spec):
    cls_name, dumped = DOC["create"][spec]
    got = mx.init.create(spec)
    assert type(got).__name__ == cls_name
    assert got.dumps() == dumped


def test_create_other_forms():
    cls_name, dumped = DOC["create_dict"]
    got = mx.init.create({"initializer": "constant", "value": 3})
    assert (type(got).__name__, got.dumps()) == (cls_name, dumped)
    inst = mx.init.Xavier()
    assert mx.init.create(inst) is inst
    with pytest.raises(AssertionError, match="already an instance"):
        mx.init.create(inst, 3)
    with pytest.raises(AssertionError) as info:
        mx.init.create("nope")
    assert str(info.value) == DOC["errors"]["create_unknown"]
    with pytest.raises(ValueError, match="not registered"):
        mx.init.create("nope")
    with pytest.raises(TypeError, match="initializer must be"):
        mx.init.create(3)
    assert set(mx.init.registered()) >= {
        "bilinear", "constant", "fusedrnn", "lstmbias", "msraprelu", "normal", "one",
        "ones", "orthogonal", "uniform", "xavier", "zero", "zeros",
    }  # fmt: skip


def test_register_custom_and_duplicate_warning():
    class Halves(mx.init.Initializer):
        def _init_weight(self, _, arr):
            arr.fill_(0.5)

    mx.init.register(Halves)
    arr = torch.zeros(2)
    mx.init.create("HALVES")(mx.init.InitDesc("h_weight"), arr)
    assert arr.tolist() == [0.5, 0.5]
    with pytest.warns(UserWarning, match="is overriding existing initializer"):
        mx.init.register(Halves)
    with pytest.raises(TypeError, match="Can only register subclass of Initializer"):
        mx.init.register(dict)


def test_equality():
    assert mx.init.Xavier() == mx.init.Xavier()
    assert mx.init.Xavier() != mx.init.Xavier(magnitude=2)
    assert mx.init.Zero() != mx.init.One()
    assert mx.init.Constant(np.array([1.0, 2.0])) == mx.init.Constant(torch.tensor([1.0, 2.0]))


@pytest.mark.parametrize("case", DOC["fused"], ids=lambda c: c["key"])
def test_fused_rnn_packing_matches_mxnet(case):
    arr = torch.full((case["total"],), -7.0)
    args = (case["num_hidden"], case["num_layers"], case["mode"], case["bidirectional"])
    if case["via"] == "direct":
        init = mx.init.FusedRNN(NameCode(), *args, forget_bias=case["forget_bias"])
        init._init_weight(mx.init.InitDesc("parameters"), arr)
    else:
        fused = mx.init.FusedRNN(None, *args, forget_bias=case["forget_bias"])
        desc = mx.init.InitDesc("rnn_parameters", attrs={"__init__": fused.dumps()})
        NameCode()(desc, arr)
    np.testing.assert_array_equal(arr.numpy(), ARR[case["key"]])


def test_fused_rnn_string_init_works_where_mxnet_raises():
    assert DOC["errors"]["fused_string_init"][0] == "KeyError"  # MXNet 1.9.1's bug
    fused = mx.init.FusedRNN(mx.init.One(), 2, 1, "lstm")
    desc = mx.init.InitDesc("rnn_parameters", attrs={"__init__": fused.dumps()})
    arr = torch.zeros(48)  # input 2: (2+2+2)*2*4
    mx.init.Uniform()(desc, arr)
    pieces = mx.init.fused_rnn_slices(arr, 2, 1, "lstm")
    assert torch.equal(pieces["l0_i2h_c_weight"], torch.ones(2, 2))
    assert pieces["l0_h2h_f_bias"].tolist() == [1.0, 1.0]
    assert pieces["l0_i2h_o_bias"].tolist() == [0.0, 0.0]


def test_fused_rnn_errors():
    with pytest.raises(ValueError, match="mode must be one of"):
        mx.init.FusedRNN(None, 2, 1, "LSTM")
    with pytest.raises(ValueError, match="Invalid parameters size"):
        mx.init.FusedRNN(mx.init.One(), 2, 1, "lstm")._init_weight(
            mx.init.InitDesc("p"), torch.zeros(47)
        )
    with pytest.raises(ValueError, match="needs a global initializer"):
        mx.init.FusedRNN(None, 2, 1, "lstm")._init_weight("p", torch.zeros(48))


@pytest.mark.parametrize(
    ("key", "init", "shape"),
    [
        ("xavier_vector", mx.init.Xavier(), (3,)),
        ("xavier_factor", mx.init.Xavier(factor_type="bad"), (3, 3)),
        ("xavier_rnd", mx.init.Xavier(rnd_type="bad"), (3, 3)),
    ],
)
def test_xavier_errors(key, init, shape):
    with pytest.raises(ValueError) as info:
        init(mx.init.InitDesc("x_weight"), torch.zeros(shape))
    assert str(info.value) == DOC["errors"][key]


def test_load_matches_mxnet():
    src = {
        "arg:fc_weight": torch.tensor([[1.0, 2], [3, 4]]),
        "aux:bn_moving_mean": torch.tensor([5.0, 6]),
        "plain_bias": torch.tensor([7.0, 8]),
    }
    load = mx.init.Load(src, default_init=mx.init.Constant(9))
    for name, shape in [
        ("fc_weight", (2, 2)),
        ("bn_moving_mean", (2,)),
        ("plain_bias", (2,)),
        ("other_weight", (2,)),
        ("other_bias", (2,)),
    ]:
        arr = torch.zeros(shape)
        load(mx.init.InitDesc(name), arr)
        np.testing.assert_array_equal(arr.numpy(), ARR[f"load_{name}"])
    before = torch.zeros(3)
    with pytest.raises(AssertionError) as info:
        load(mx.init.InitDesc("fc_weight"), before)
    assert str(info.value) == DOC["errors"]["load_shape"]
    assert before.tolist() == [0.0, 0.0, 0.0]
    with pytest.raises(ValueError) as info:
        mx.init.Load(src)(mx.init.InitDesc("zzz_weight"), torch.zeros(3))
    assert str(info.value) == DOC["errors"]["load_default"]


def test_load_from_params_file_and_verbose(tmp_path, caplog):
    path = tmp_path / "net.params"
    mx.nd.save(path, {"arg:fc_weight": torch.ones(2, 2), "aux:bn_moving_var": torch.ones(2)})
    load = mx.init.Load(str(path), default_init=mx.init.Zero(), verbose=True)
    assert sorted(load.param) == ["bn_moving_var", "fc_weight"]
    w, b = torch.zeros(2, 2), torch.ones(2)
    with caplog.at_level(logging.INFO):
        load(mx.init.InitDesc("fc_weight"), w)
        load(mx.init.InitDesc("fc_bias"), b)
    assert torch.equal(w, torch.ones(2, 2)) and b.tolist() == [0.0, 0.0]
    assert caplog.messages == ["Initialized fc_weight by loading", "Initialized fc_bias by default"]
    mx.nd.save(path, [torch.ones(1)])
    with pytest.raises(ValueError, match="saved list has no names"):
        mx.init.Load(str(path))


def test_mixed_matches_mxnet():
    mixed = mx.init.Mixed(
        ["fc.*", "bn", ".*"], [mx.init.Constant(3), mx.init.Zero(), mx.init.One()]
    )
    for name in ["fc_weight", "fc_bias", "bn_gamma", "xbn_weight", "bn_weight", "z_beta"]:
        arr = torch.full((2,), -7.0)
        mixed(mx.init.InitDesc(name), arr)
        np.testing.assert_array_equal(arr.numpy(), ARR[f"mixed_{name}"])
    with pytest.raises(ValueError) as info:
        mx.init.Mixed(["fc"], [mx.init.One()])(mx.init.InitDesc("conv_weight"), torch.zeros(2))
    assert str(info.value) == DOC["errors"]["mixed_nomatch"]
    with pytest.raises(AssertionError, match="same length"):
        mx.init.Mixed(["a", "b"], [mx.init.One()])


def test_verbose_log_lines_match_mxnet(caplog):
    with caplog.at_level(logging.INFO):
        for init_json, name, shape, attrs in DOC["log_cases"]:
            init = mx.init.create(init_json).set_verbosity(True)
            init(mx.init.InitDesc(name, attrs=attrs), torch.zeros(shape))
    assert caplog.messages == DOC["logs"]


def test_set_verbosity_custom_print_func(caplog):
    init = mx.init.One().set_verbosity(True, print_func=lambda t: f"sum={t.sum().item():g}")
    with caplog.at_level(logging.INFO):
        init(mx.init.InitDesc("a_weight"), torch.zeros(3))
    assert caplog.messages == ["Initialized a_weight as weight: sum=3"]


def test_weight_quantize_broadcasts_one_integer():
    for dtype in (torch.int8, torch.float32):
        arr = torch.zeros(3, 4, dtype=dtype)
        mx.init.Uniform()(mx.init.InitDesc("q_weight_quantize"), arr)
        assert (arr == arr.flatten()[0]).all()
        assert -127 <= arr.flatten()[0].item() < 127


def test_legacy_type_errors():
    with pytest.warns(DeprecationWarning), pytest.raises(TypeError, match="name must be string"):
        mx.init.One()(3, torch.zeros(2))
    with pytest.warns(DeprecationWarning), pytest.raises(TypeError, match="arr must be"):
        mx.init.One()("fc_weight", [0.0])


def test_init_desc():
    d = mx.init.InitDesc("w", attrs={"a": "1"})
    assert isinstance(d, str) and d == "w" and d.attrs == {"a": "1"} and d.global_init is None
    assert mx.init.InitDesc("w").attrs == {}
    init = mx.init.One()
    init(d2 := mx.init.InitDesc("x_weight"), torch.zeros(1))
    assert d2.global_init is init


def test_bilinear_non4d_is_rejected():
    with pytest.raises(ValueError, match="4-D"):
        mx.init.Bilinear()(mx.init.InitDesc("up_weight"), torch.zeros(3, 3))
