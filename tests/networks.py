"""The networks of the module fixtures, written once for both frameworks: each builder takes
the framework module (``mxopt`` in the tests, ``mxnet`` in
tools/fixtures/make_module_fixtures.py) and builds the same graph with it."""

from __future__ import annotations


def seed_net(m):
    data = m.sym.Variable("data")
    label = m.sym.Variable("softmax_label")
    fc = m.sym.FullyConnected(data, name="fc", num_hidden=10)
    return m.sym.SoftmaxOutput(fc, label, name="softmax")


def mlp_net(m):
    data = m.sym.Variable("data")
    h = m.sym.FullyConnected(data, name="fc1", num_hidden=16)
    h = m.sym.Activation(h, name="relu1", act_type="relu")
    h = m.sym.FullyConnected(h, name="fc2", num_hidden=8)
    h = m.sym.Activation(h, name="tanh2", act_type="tanh")
    h = m.sym.FullyConnected(h, name="fc3", num_hidden=4)
    return m.sym.SoftmaxOutput(h, name="softmax")


def conv_net(m):
    data = m.sym.Variable("data")
    h = m.sym.Convolution(data, name="conv1", kernel=(3, 3), num_filter=4, pad=(1, 1))
    h = m.sym.BatchNorm(h, name="bn1")
    h = m.sym.Activation(h, name="relu1", act_type="relu")
    h = m.sym.Pooling(h, name="pool1", kernel=(2, 2), stride=(2, 2), pool_type="max")
    h = m.sym.Flatten(h, name="flat")
    h = m.sym.FullyConnected(h, name="fc", num_hidden=3)
    return m.sym.SoftmaxOutput(h, name="softmax")


def zoo_net(m):
    """Many operators and attributes, for the graph/JSON comparison only."""
    data = m.sym.Variable("data", shape=(4, 3, 8, 8), lr_mult=2.0, wd_mult=0.5)
    w = m.sym.Variable("cw", init='["constant", {"value": 0.5}]')
    c = m.sym.Convolution(
        data,
        weight=w,
        name="c",
        kernel=(3, 3),
        num_filter=6,
        stride=(1, 1),
        pad=(1, 1),
        no_bias=True,
        num_group=3,
        dilate=(1, 1),
    )
    b = m.sym.BatchNorm(c, name="bn", fix_gamma=False, eps=1e-5, momentum=0.8)
    lr = m.sym.LeakyReLU(b, name="pr", act_type="prelu")
    el = m.sym.LeakyReLU(lr, name="elu", act_type="elu", slope=0.3)
    p = m.sym.Pooling(
        el, name="pa", kernel=(3, 3), stride=(2, 2), pool_type="avg", pooling_convention="full"
    )
    g = m.sym.Pooling(el, name="gp", kernel=(1, 1), pool_type="max", global_pool=True)
    f = m.sym.Flatten(p, name="f")
    gf = m.sym.Reshape(g, name="r", shape=(0, -1))
    cat = m.sym.Concat(f, gf, name="cat", dim=1)
    d = m.sym.Dropout(cat, name="drop", p=0.25)
    fc = m.sym.FullyConnected(d, name="fc", num_hidden=5, flatten=True)
    act = m.sym.Activation(fc, name="sr", act_type="softrelu")
    x = (act * 2.0 + 1) - act / 3
    x = -x
    x = 1 - x
    out1 = m.sym.SoftmaxOutput(x, name="sm", grad_scale=2.0, normalization="batch")
    emb = m.sym.Embedding(
        m.sym.Variable("tok"), name="emb", input_dim=7, output_dim=3, sparse_grad=True
    )
    out2 = m.sym.LinearRegressionOutput(m.sym.Flatten(emb, name="ef"), name="lin")
    out3 = m.sym.MakeLoss(m.sym.sum(m.sym.square(fc, name="sq"), name="s"), name="ml")
    return m.sym.Group([out1, out2, out3])
