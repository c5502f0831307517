"""Symbol graphs against MXNet 1.9.1 (module_graphs.json): JSON, argument/output/aux names,
attr_dict and infer_shape; JSON round trips; errors."""

from __future__ import annotations

import json
import os

import pytest
import torch
from networks import conv_net, mlp_net, seed_net, zoo_net

import mxopt as mx
from mxopt.symbol import NameManager

FIXDIR = os.path.join(os.path.dirname(__file__), "fixtures")
with open(os.path.join(FIXDIR, "module_graphs.json")) as _fh:
    GRAPHS = json.load(_fh)


def auto_net(m):
    data = m.sym.Variable("data")
    h = m.sym.FullyConnected(data, num_hidden=4)
    h = m.sym.Activation(h, act_type="sigmoid")
    h = m.sym.FullyConnected(h, num_hidden=2)
    h = h + h
    return m.sym.LogisticRegressionOutput(h)


BUILDERS = {"auto": auto_net, "seed": seed_net, "mlp": mlp_net, "conv": conv_net, "zoo": zoo_net}


def _build(name: str):
    saved = dict(NameManager.counts)
    NameManager.counts.clear()  # MXNet built these in a fresh process
    try:
        return BUILDERS[name](mx)
    finally:
        NameManager.counts.clear()
        NameManager.counts.update(saved)


def _without_row_ptr(graph: dict) -> dict:
    # node_row_ptr (hidden-output counts) is recomputed by MXNet's loader; loaders ignore it
    return {k: v for k, v in graph.items() if k != "node_row_ptr"}


@pytest.mark.parametrize("name", sorted(GRAPHS))
def test_graph_json_matches_mxnet(name: str) -> None:
    ours = json.loads(_build(name).tojson())
    assert ours == GRAPHS[name]["json"]  # the whole graph, node_row_ptr included


@pytest.mark.parametrize("name", sorted(GRAPHS))
def test_graph_metadata_matches_mxnet(name: str) -> None:
    ref = GRAPHS[name]
    sym = _build(name)
    assert sym.list_arguments() == ref["arguments"]
    assert sym.list_outputs() == ref["outputs"]
    assert sym.list_auxiliary_states() == ref["aux"]
    assert sym.attr_dict() == ref["attr_dict"]
    arg_s, out_s, aux_s = sym.infer_shape(**{k: tuple(v) for k, v in ref["shapes"].items()})
    assert [list(s) for s in arg_s] == ref["arg_shapes"]
    assert [list(s) for s in out_s] == ref["out_shapes"]
    assert [list(s) for s in aux_s] == ref["aux_shapes"]


@pytest.mark.parametrize("name", sorted(GRAPHS))
def test_mxnet_json_loads_and_round_trips(name: str) -> None:
    text = json.dumps(GRAPHS[name]["json"])
    sym = mx.sym.load_json(text)
    assert sym.list_arguments() == GRAPHS[name]["arguments"]
    assert sym.list_outputs() == GRAPHS[name]["outputs"]
    assert _without_row_ptr(json.loads(sym.tojson())) == _without_row_ptr(GRAPHS[name]["json"])


def test_save_and_load_file(tmp_path) -> None:
    sym = _build("conv")
    path = tmp_path / "net-symbol.json"
    sym.save(str(path))
    again = mx.sym.load(str(path))
    assert again.tojson() == sym.tojson()
    # MXNet's own checkpoint symbol file
    seed = mx.sym.load(os.path.join(FIXDIR, "module_seed-symbol.json"))
    assert seed.list_arguments() == ["data", "fc_weight", "fc_bias", "softmax_label"]


def test_variable_attributes() -> None:
    v = mx.sym.Variable("w", shape=(2, 3), lr_mult=2, wd_mult=0.5, init=mx.init.Constant(5))
    assert v.attr("__shape__") == "(2, 3)"
    assert v.attr("__lr_mult__") == "2"
    assert v.attr("__wd_mult__") == "0.5"
    assert json.loads(v.attr("__init__")) == ["constant", {"value": 5}]
    assert v.infer_shape()[0] == [(2, 3)]
    with pytest.raises(ValueError, match="not supported"):
        mx.sym.Variable("w", foo=1)


@pytest.mark.parametrize(
    ("src", "spec", "expected"),
    [
        ((2, 3, 4), (0, -1), (2, 12)),
        ((2, 3, 4), (-1,), (24,)),
        ((2, 3, 4), (4, 0, -1), (4, 3, 2)),
        ((2, 3, 4), (-2,), (2, 3, 4)),
        ((2, 3, 4), (-3, 4), (6, 4)),
        ((2, 3, 4), (-4, 1, 2, -2), (1, 2, 3, 4)),
        ((2, 3, 4), (0, -4, -1, 1, 0), (2, 3, 1, 4)),
    ],
)
def test_reshape_codes(src, spec, expected) -> None:
    net = mx.sym.Reshape(mx.sym.Variable("x"), shape=spec)
    assert net.infer_shape(x=src)[1] == [expected]
    ex = net.simple_bind(mx.cpu(), x=src)
    assert tuple(ex.forward()[0].shape) == expected


def test_unknown_operator_argument_is_named() -> None:
    with pytest.raises(TypeError, match="num_hiden"):
        mx.sym.FullyConnected(mx.sym.Variable("data"), num_hiden=3)
    with pytest.raises(ValueError, match="act_type"):
        mx.sym.Activation(mx.sym.Variable("data"), act_type="swish")
    with pytest.raises(ValueError, match="num_hidden"):
        mx.sym.FullyConnected(mx.sym.Variable("data"))


def test_shape_mismatch_is_named() -> None:
    w = mx.sym.Variable("w", shape=(3, 7))
    net = mx.sym.FullyConnected(mx.sym.Variable("data"), weight=w, num_hidden=3, name="fc")
    with pytest.raises(ValueError, match="'w'"):
        net.infer_shape(data=(2, 5))
    with pytest.raises(ValueError, match="nope"):
        net.infer_shape(nope=(2, 5))


def test_incomplete_shapes_give_none() -> None:
    net = mx.sym.FullyConnected(mx.sym.Variable("data"), num_hidden=3, name="fc")
    assert net.infer_shape() == (None, None, None)
    assert net.infer_shape_partial()[0] == [(), (), ()]


def test_batchnorm_train_and_predict() -> None:
    # fix_gamma=True: gamma used (and stored) as 1; moving stats m <- 0.9 m + 0.1 batch stat
    net = mx.sym.BatchNorm(mx.sym.Variable("data"), name="bn")
    ex = net.simple_bind(mx.cpu(), data=(4, 3))
    x = torch.arange(12.0).reshape(4, 3)
    ex.arg_dict["data"][:] = x
    ex.arg_dict["bn_gamma"][:] = 2.0
    ex.arg_dict["bn_beta"][:] = 0.5
    ex.aux_dict["bn_moving_var"][:] = 1.0
    out = ex.forward(is_train=True)[0]
    mean, var = x.mean(0), x.var(0, unbiased=False)
    torch.testing.assert_close(out, (x - mean) / torch.sqrt(var + 1e-3) + 0.5)
    torch.testing.assert_close(ex.arg_dict["bn_gamma"], torch.ones(3))
    torch.testing.assert_close(ex.aux_dict["bn_moving_mean"], 0.1 * mean)
    torch.testing.assert_close(ex.aux_dict["bn_moving_var"], 0.9 + 0.1 * var)
    ex.backward(torch.ones(4, 3))
    torch.testing.assert_close(ex.grad_dict["bn_gamma"], torch.zeros(3))
    torch.testing.assert_close(ex.grad_dict["bn_beta"], torch.full((3,), 4.0))
    pred = ex.forward(is_train=False)[0]
    mm, mv = ex.aux_dict["bn_moving_mean"], ex.aux_dict["bn_moving_var"]
    torch.testing.assert_close(pred, (x - mm) / torch.sqrt(mv + 1e-3) + 0.5)


def test_dropout_train_vs_predict() -> None:
    net = mx.sym.Dropout(mx.sym.Variable("data"), p=0.5)
    ex = net.simple_bind(mx.cpu(), data=(1000,))
    ex.arg_dict["data"][:] = 1.0
    torch.manual_seed(0)
    train = ex.forward(is_train=True)[0]
    assert set(train.unique().tolist()) <= {0.0, 2.0}  # kept values scaled by 1/(1-p)
    assert 400 < int((train == 0).sum()) < 600
    torch.testing.assert_close(ex.forward(is_train=False)[0], torch.ones(1000))


def test_embedding_sparse_grad() -> None:
    net = mx.sym.Embedding(
        mx.sym.Variable("data"), input_dim=6, output_dim=2, sparse_grad=True, name="emb"
    )
    ex = net.simple_bind(mx.cpu(), data=(4,))
    ex.arg_dict["data"][:] = torch.tensor([1.0, 3.0, 1.0, 5.0])
    ex.arg_dict["emb_weight"][:] = torch.arange(12.0).reshape(6, 2)
    out = ex.forward(is_train=True)[0]
    torch.testing.assert_close(out, torch.tensor([[2.0, 3], [6, 7], [2, 3], [10, 11]]))
    ex.backward(torch.ones(4, 2))
    grad = ex.grad_dict["emb_weight"]
    assert grad.is_sparse and grad.sparse_dim() == 1
    assert grad.indices().tolist() == [[1, 3, 5]]
    torch.testing.assert_close(grad.values(), torch.tensor([[2.0, 2], [1, 1], [1, 1]]))


def test_layers_forward_closed_form() -> None:
    x = torch.randn(2, 3, 5, 5)
    conv = mx.sym.Convolution(
        mx.sym.Variable("data"), kernel=(3, 3), num_filter=4, stride=(2, 2), pad=(1, 1), name="c"
    )
    ex = conv.simple_bind(mx.cpu(), data=(2, 3, 5, 5))
    ex.arg_dict["data"][:] = x
    ex.arg_dict["c_weight"][:] = torch.randn(4, 3, 3, 3)
    ex.arg_dict["c_bias"][:] = torch.randn(4)
    want = torch.nn.functional.conv2d(
        x, ex.arg_dict["c_weight"], ex.arg_dict["c_bias"], stride=2, padding=1
    )
    torch.testing.assert_close(ex.forward()[0], want)
    pool = mx.sym.Pooling(mx.sym.Variable("data"), kernel=(2, 2), pool_type="sum", stride=(2, 2))
    got = pool.simple_bind(mx.cpu(), data=(2, 3, 5, 5)).forward(data=x)[0]
    torch.testing.assert_close(got, torch.nn.functional.avg_pool2d(x, 2, 2) * 4)
    full = mx.sym.Pooling(
        mx.sym.Variable("data"), kernel=(2, 2), stride=(2, 2), pooling_convention="full"
    )
    assert full.infer_shape(data=(2, 3, 5, 5))[1] == [(2, 3, 3, 3)]
    for act, fn in [
        ("relu", torch.relu),
        ("sigmoid", torch.sigmoid),
        ("tanh", torch.tanh),
        ("softrelu", lambda t: torch.log1p(torch.exp(t))),
        ("softsign", lambda t: t / (1 + t.abs())),
    ]:
        net = mx.sym.Activation(mx.sym.Variable("data"), act_type=act)
        got = net.simple_bind(mx.cpu(), data=(2, 3, 5, 5)).forward(data=x)[0]
        torch.testing.assert_close(got, fn(x))
    leaky = mx.sym.LeakyReLU(mx.sym.Variable("data"), act_type="leaky", slope=0.1)
    got = leaky.simple_bind(mx.cpu(), data=(2, 3, 5, 5)).forward(data=x)[0]
    torch.testing.assert_close(got, torch.where(x > 0, x, 0.1 * x))
    prelu = mx.sym.LeakyReLU(mx.sym.Variable("data"), act_type="prelu", name="p")
    ex = prelu.simple_bind(mx.cpu(), data=(2, 3, 5, 5))
    ex.arg_dict["p_gamma"][:] = torch.tensor([0.1, 0.2, 0.3])
    got = ex.forward(data=x)[0]
    torch.testing.assert_close(
        got, torch.where(x > 0, x, x * torch.tensor([0.1, 0.2, 0.3])[:, None, None])
    )


def test_arithmetic_and_group() -> None:
    a, b = mx.sym.Variable("a"), mx.sym.Variable("b")
    net = mx.sym.Group([a + b, a - b, a * b, a / b, 2 - a, 2 / a, a**2, 2**a, -a, a + 1])
    ex = net.simple_bind(mx.cpu(), a=(3,), b=(3,))
    x, y = torch.tensor([1.0, 2, 3]), torch.tensor([4.0, 5, 6])
    outs = ex.forward(a=x, b=y)
    wants = [x + y, x - y, x * y, x / y, 2 - x, 2 / x, x**2, 2**x, -x, x + 1]
    for got, want in zip(outs, wants, strict=True):
        torch.testing.assert_close(got, want)
    assert len(net) == 10
    assert net.list_outputs()[0].startswith("_plus")
