"""Output (loss-head) operators with MXNet's hand-written gradients.

``SoftmaxOutput``, ``LinearRegressionOutput``, ``LogisticRegressionOutput``,
``MAERegressionOutput`` and ``MakeLoss`` output a prediction in the forward pass and, in the
backward pass, *ignore the incoming head gradient* and return MXNet's gradient formula
(each is a :class:`torch.autograd.Function`). The label input gets no gradient.

SoftmaxOutput gradient, with ``p`` the softmax output, ``y`` the label, ``k = int(y)``
(truncated toward zero), ``s`` = ``grad_scale``:

* probability labels (``y`` has the output's shape): ``s·(p − y)``;
* otherwise ``p − onehot(k)`` (an out-of-range ``k`` subtracts nothing); rows with
  ``k == int(ignore_label)`` are zeroed when ``use_ignore``; ``smooth_alpha = a`` uses
  target ``1 − a`` and ``a/(K−1)`` elsewhere;
* scaled by ``s`` (``null``), ``s/label.size`` (``batch``) or ``s/max(1, #labels with
  int(y) != int(ignore_label))`` (``valid``); with ``multi_output`` ``null`` and ``batch``
  are further divided by the spatial size;
* ``out_grad=True`` multiplies the result by ``p`` (MXNet 1.9.1's behaviour).
"""

from __future__ import annotations

import math
from typing import Any

import torch

from .registry import OpDef, Param, register

P = dict[str, Any]


# --------------------------------------------------------------------------- SoftmaxOutput
def _softmax_forward_prob(p: P, x: torch.Tensor) -> torch.Tensor:
    if p["multi_output"]:
        return torch.softmax(x, dim=1)
    if p["preserve_shape"]:
        return torch.softmax(x, dim=-1)
    return torch.softmax(x.reshape(x.shape[0], -1), dim=1).reshape(x.shape)


def _onehot_grad(prob2: torch.Tensor, label: torch.Tensor, p: P) -> torch.Tensor:
    """``prob2`` is (rows, K), ``label`` (rows,): ``p − target`` per row, ignore applied."""
    rows, classes = prob2.shape
    k = label.to(torch.int64)
    inside = (k >= 0) & (k < classes)
    hit = torch.zeros_like(prob2)
    hit[torch.arange(rows, device=prob2.device)[inside], k[inside]] = 1.0
    alpha = p["smooth_alpha"]
    if alpha and not p["multi_output"]:
        grad = prob2 - hit * (1.0 - alpha) - (1 - hit) * (alpha / (classes - 1))
    else:
        grad = prob2 - hit
    if p["use_ignore"]:
        grad[k == int(p["ignore_label"])] = 0.0
    return grad


def _softmax_backward(p: P, prob: torch.Tensor, label: torch.Tensor) -> torch.Tensor:
    scale = p["grad_scale"]
    ignore = int(p["ignore_label"])
    if label.shape == prob.shape:
        grad = scale * (prob - label.to(prob.dtype))
    elif p["multi_output"]:
        n, c = prob.shape[:2]
        spatial = prob[0, 0].numel()
        prob3 = prob.reshape(n, c, spatial)
        lab = label.reshape(n, spatial)
        # rows = (sample, position) pairs, classes along axis 1
        grad2 = _onehot_grad(prob3.permute(0, 2, 1).reshape(-1, c), lab.reshape(-1), p)
        grad = grad2.reshape(n, spatial, c).permute(0, 2, 1).reshape(prob.shape)
        norm = p["normalization"]
        if norm == "null":
            grad = grad * (scale / spatial)
        elif norm == "batch":
            grad = grad * (scale / (n * spatial))
        else:
            valid = int((lab.to(torch.int64) != ignore).sum())
            grad = grad * (scale / max(1, valid))
    else:
        classes = prob.shape[-1] if p["preserve_shape"] else prob[0].numel()
        prob2 = prob.reshape(-1, classes)
        lab = label.reshape(-1)
        grad = _onehot_grad(prob2, lab[: prob2.shape[0]], p).reshape(prob.shape)
        norm = p["normalization"]
        if norm == "batch":
            grad = grad * (scale / lab.numel())
        elif norm == "valid":
            valid = int((lab.to(torch.int64) != ignore).sum())
            grad = grad * (scale / max(1, valid))
        else:
            grad = grad * scale
    if p["out_grad"]:
        grad = grad * prob
    return grad


class _SoftmaxOutputFn(torch.autograd.Function):
    @staticmethod
    def forward(ctx: Any, data: torch.Tensor, label: torch.Tensor, p: P) -> torch.Tensor:
        prob = _softmax_forward_prob(p, data)
        ctx.save_for_backward(prob, label)
        ctx.p = p
        return prob

    @staticmethod
    def backward(ctx: Any, head: torch.Tensor) -> tuple:
        prob, label = ctx.saved_tensors
        return _softmax_backward(ctx.p, prob, label), None, None


def _softmax_infer(p: P, shapes: list) -> tuple[list, list, list]:
    data, label = shapes
    if data is None:
        return shapes, [None], []
    if label is None:
        label = (data[0], math.prod(data[2:])) if p["multi_output"] else tuple(data[:-1])
    return [tuple(data), tuple(label)], [tuple(data)], []


_SOFTMAX_PARAMS = {
    "grad_scale": Param("float", 1.0),
    "ignore_label": Param("float", -1.0),
    "multi_output": Param("bool", False),
    "use_ignore": Param("bool", False),
    "preserve_shape": Param("bool", False),
    "normalization": Param("str", "null", ("null", "batch", "valid")),
    "out_grad": Param("bool", False),
    "smooth_alpha": Param("float", 0.0),
}

for _name in ("SoftmaxOutput", "Softmax"):
    register(
        OpDef(
            _name,
            _name.lower(),
            dict(_SOFTMAX_PARAMS),
            lambda p: ["data", "label"],
            _softmax_infer,
            lambda p, inputs, aux, is_train: [_SoftmaxOutputFn.apply(inputs[0], inputs[1], p)],
            is_loss=True,
        )
    )


# --------------------------------------------------------------------------- regression
def _per_sample(label: torch.Tensor) -> int:
    return max(1, label.numel() // label.shape[0]) if label.dim() else 1


_REGRESSION = {
    "LinearRegressionOutput": (lambda x: x, lambda out, y: out - y),
    "LogisticRegressionOutput": (torch.sigmoid, lambda out, y: out - y),
    "MAERegressionOutput": (lambda x: x, lambda out, y: torch.sign(out - y)),
}


class _RegressionFn(torch.autograd.Function):
    @staticmethod
    def forward(ctx: Any, data: torch.Tensor, label: torch.Tensor, op: str, scale: float) -> Any:
        out = _REGRESSION[op][0](data)
        ctx.save_for_backward(out, label)
        ctx.op, ctx.scale = op, scale
        return out

    @staticmethod
    def backward(ctx: Any, head: torch.Tensor) -> tuple:
        out, label = ctx.saved_tensors
        diff = _REGRESSION[ctx.op][1](out, label.reshape(out.shape).to(out.dtype))
        return diff * (ctx.scale / _per_sample(label)), None, None, None


def _regression_infer(p: P, shapes: list) -> tuple[list, list, list]:
    data, label = shapes
    if data is None:
        return shapes, [None], []
    if label is None:
        label = (data[0],) if len(data) == 2 and data[1] == 1 else tuple(data)
    return [tuple(data), tuple(label)], [tuple(data)], []


for _name in _REGRESSION:
    register(
        OpDef(
            _name,
            _name.lower(),
            {"grad_scale": Param("float", 1.0)},
            lambda p: ["data", "label"],
            _regression_infer,
            (
                lambda op: (
                    lambda p, inputs, aux, is_train: [
                        _RegressionFn.apply(inputs[0], inputs[1], op, p["grad_scale"])
                    ]
                )
            )(_name),
            is_loss=True,
        )
    )


# --------------------------------------------------------------------------- MakeLoss
class _MakeLossFn(torch.autograd.Function):
    @staticmethod
    def forward(ctx: Any, data: torch.Tensor, p: P) -> torch.Tensor:
        ctx.save_for_backward(data)
        ctx.p = p
        return data.clone()

    @staticmethod
    def backward(ctx: Any, head: torch.Tensor) -> tuple:
        (data,) = ctx.saved_tensors
        p = ctx.p
        scale = p["grad_scale"]
        if p["normalization"] == "batch":
            scale = scale / data.shape[0]
        elif p["normalization"] == "valid":
            scale = scale / max(1, int((data > p["valid_thresh"]).sum()))
        return torch.full_like(data, scale), None


for _name in ("MakeLoss", "make_loss"):
    register(
        OpDef(
            _name,
            _name.lower(),
            {
                "grad_scale": Param("float", 1.0),
                "valid_thresh": Param("float", 0.0),
                "normalization": Param("str", "null", ("null", "batch", "valid")),
            },
            lambda p: ["data"],
            lambda p, shapes: ([shapes[0]], [shapes[0]], []),
            lambda p, inputs, aux, is_train: [_MakeLossFn.apply(inputs[0], p)],
            is_loss=True,
        )
    )
