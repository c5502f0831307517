"""Loss heads: forward outputs and data gradients against MXNet 1.9.1 (module_heads.npz).

Each case feeds a head gradient of 3s, which MXNet's loss heads ignore.
"""

from __future__ import annotations

import json
import os

import numpy as np
import pytest
import torch

import mxopt as mx

FIXTURE = np.load(os.path.join(os.path.dirname(__file__), "fixtures", "module_heads.npz"))
META = json.loads(str(FIXTURE["meta"]))


@pytest.mark.parametrize("case", sorted(META))
def test_head_matches_mxnet(case: str) -> None:
    op, kwargs = META[case]
    data = torch.from_numpy(FIXTURE[f"{case}/data"])
    args = {"data": data}
    d = mx.sym.Variable("data")
    if f"{case}/label" in FIXTURE:
        sym = getattr(mx.sym, op)(d, mx.sym.Variable("label"), name="head", **kwargs)
        args["label"] = torch.from_numpy(FIXTURE[f"{case}/label"])
    else:
        sym = getattr(mx.sym, op)(d, name="head", **kwargs)
    grads = {"data": torch.zeros_like(data)}
    ex = sym.bind(mx.cpu(), args=args, args_grad=grads, grad_req={"data": "write"})
    out = ex.forward(is_train=True)[0]
    ex.backward([torch.full_like(out, 3.0)])
    np.testing.assert_allclose(out.numpy(), FIXTURE[f"{case}/out"], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(
        ex.grad_dict["data"].numpy(), FIXTURE[f"{case}/grad"], rtol=1e-5, atol=1e-6
    )


def test_softmax_default_label_name_and_shape() -> None:
    net = mx.sym.SoftmaxOutput(mx.sym.Variable("data"), name="softmax")
    assert net.list_arguments() == ["data", "softmax_label"]
    assert net.infer_shape(data=(8, 5))[0] == [(8, 5), (8,)]


def test_softmax_gradient_closed_form() -> None:
    # grad = grad_scale * (softmax(x) - onehot(y)) / N with normalization='batch'
    x = torch.tensor([[1.0, 2.0, 3.0], [0.5, 0.5, -1.0]])
    y = torch.tensor([2.0, 0.0])
    net = mx.sym.SoftmaxOutput(
        mx.sym.Variable("data"), mx.sym.Variable("y"), grad_scale=4.0, normalization="batch"
    )
    ex = net.bind(mx.cpu(), {"data": x, "y": y}, {"data": torch.zeros(2, 3)}, {"data": "write"})
    ex.forward(is_train=True)
    ex.backward()
    expected = 4.0 * (torch.softmax(x, 1) - torch.nn.functional.one_hot(y.long(), 3)) / 2
    torch.testing.assert_close(ex.grad_dict["data"], expected)
