"""Neural-network layer operators: FullyConnected, Convolution, Pooling, Activation,
LeakyReLU, Flatten, Dropout, BatchNorm, Embedding.

Each forward is written with torch ops so autograd differentiates it; parameter names,
defaults and shape rules are MXNet 1.9.1's.
"""

from __future__ import annotations

import math
from typing import Any

import torch
import torch.nn.functional as F

from .registry import OpDef, Param, Shape, register, required

P = dict[str, Any]


def _prod(shape: Shape) -> int:
    return math.prod(int(s) for s in shape)


# --------------------------------------------------------------------------- FullyConnected
def _fc_inputs(p: P) -> list[str]:
    return ["data", "weight"] if p["no_bias"] else ["data", "weight", "bias"]


def _fc_infer(p: P, shapes: list) -> tuple[list, list, list]:
    data = shapes[0]
    if data is None:
        return shapes, [None], []
    n = p["num_hidden"]
    if p["flatten"]:
        fan_in, out = _prod(data[1:]), (data[0], n)
    else:
        fan_in, out = data[-1], (*data[:-1], n)
    filled = [tuple(data), (n, fan_in)] + ([] if p["no_bias"] else [(n,)])
    return filled, [out], []


def _fc_forward(p: P, inputs: list[torch.Tensor], aux: list, is_train: bool) -> list:
    x = inputs[0]
    if p["flatten"]:
        x = x.reshape(x.shape[0], -1)
    bias = None if p["no_bias"] else inputs[2]
    return [F.linear(x, inputs[1], bias)]


register(
    OpDef(
        "FullyConnected",
        "fullyconnected",
        {
            "num_hidden": required("int"),
            "no_bias": Param("bool", False),
            "flatten": Param("bool", True),
        },
        _fc_inputs,
        _fc_infer,
        _fc_forward,
    )
)


# --------------------------------------------------------------------------- Convolution
def _spatial(p: P, key: str, k: int, fill: int) -> tuple[int, ...]:
    value = p.get(key) or ()
    return tuple(value) if len(value) else (fill,) * k


def _conv_infer(p: P, shapes: list) -> tuple[list, list, list]:
    data = shapes[0]
    if data is None:
        return shapes, [None], []
    kernel = p["kernel"]
    k = len(kernel)
    if len(data) != k + 2:
        raise ValueError(f"Convolution with a {k}-D kernel needs {k + 2}-D data, got {data}")
    stride, dilate, pad = _spatial(p, "stride", k, 1), _spatial(p, "dilate", k, 1), p["pad"]
    pad = tuple(pad) if len(pad) else (0,) * k
    groups, nf = p["num_group"], p["num_filter"]
    if data[1] % groups:
        raise ValueError(f"Convolution: channels {data[1]} not divisible by num_group {groups}")
    spatial = tuple(
        (x + 2 * pd - (dl * (kk - 1) + 1)) // s + 1
        for x, kk, s, dl, pd in zip(data[2:], kernel, stride, dilate, pad, strict=True)
    )
    filled = [tuple(data), (nf, data[1] // groups, *kernel)]
    if not p["no_bias"]:
        filled.append((nf,))
    return filled, [(data[0], nf, *spatial)], []


_CONV = {1: F.conv1d, 2: F.conv2d, 3: F.conv3d}


def _conv_forward(p: P, inputs: list[torch.Tensor], aux: list, is_train: bool) -> list:
    k = len(p["kernel"])
    pad = tuple(p["pad"]) if len(p["pad"]) else (0,) * k
    bias = None if p["no_bias"] else inputs[2]
    out = _CONV[k](
        inputs[0],
        inputs[1],
        bias,
        stride=_spatial(p, "stride", k, 1),
        padding=pad,
        dilation=_spatial(p, "dilate", k, 1),
        groups=p["num_group"],
    )
    return [out]


# accepted for compatibility; they only tune MXNet's kernels
_IGNORED = {
    "workspace": Param("int", 1024),
    "cudnn_tune": Param("str", "None"),
    "cudnn_off": Param("bool", False),
    "layout": Param("str", "None"),
}

register(
    OpDef(
        "Convolution",
        "convolution",
        {
            "kernel": required("shape"),
            "num_filter": required("int"),
            "stride": Param("shape", ()),
            "dilate": Param("shape", ()),
            "pad": Param("shape", ()),
            "num_group": Param("int", 1),
            "no_bias": Param("bool", False),
            **_IGNORED,
        },
        _fc_inputs,
        _conv_infer,
        _conv_forward,
    )
)


# --------------------------------------------------------------------------- Pooling
def _pool_geometry(p: P, data: Shape) -> tuple[tuple, tuple, tuple]:
    k = len(data) - 2
    if p["global_pool"]:
        return tuple(data[2:]), (1,) * k, (0,) * k
    kernel = tuple(p["kernel"])
    if len(kernel) != k:
        raise ValueError(f"Pooling kernel {kernel} does not match {len(data)}-D data {data}")
    pad = tuple(p["pad"]) if len(p["pad"]) else (0,) * k
    return kernel, _spatial(p, "stride", k, 1), pad


def _pool_infer(p: P, shapes: list) -> tuple[list, list, list]:
    data = shapes[0]
    if data is None:
        return shapes, [None], []
    kernel, stride, pad = _pool_geometry(p, data)
    if p["global_pool"]:
        spatial = (1,) * len(kernel)
    elif p["pooling_convention"] == "full":
        spatial = tuple(
            1 + math.ceil((x + 2 * pd - kk) / s)
            for x, kk, s, pd in zip(data[2:], kernel, stride, pad, strict=True)
        )
    else:
        spatial = tuple(
            1 + (x + 2 * pd - kk) // s
            for x, kk, s, pd in zip(data[2:], kernel, stride, pad, strict=True)
        )
    return [tuple(data)], [(data[0], data[1], *spatial)], []


_MAXPOOL = {1: F.max_pool1d, 2: F.max_pool2d, 3: F.max_pool3d}
_AVGPOOL = {1: F.avg_pool1d, 2: F.avg_pool2d, 3: F.avg_pool3d}


def _pool_forward(p: P, inputs: list[torch.Tensor], aux: list, is_train: bool) -> list:
    x = inputs[0]
    kernel, stride, pad = _pool_geometry(p, tuple(x.shape))
    k = len(kernel)
    ceil = p["pooling_convention"] == "full" and not p["global_pool"]
    if p["pool_type"] == "max":
        return [_MAXPOOL[k](x, kernel, stride, pad, ceil_mode=ceil)]
    include_pad = True if p["count_include_pad"] is None else p["count_include_pad"]
    if p["pool_type"] == "sum":
        out = _AVGPOOL[k](x, kernel, stride, pad, ceil_mode=ceil, count_include_pad=True)
        return [out * _prod(kernel)]
    return [_AVGPOOL[k](x, kernel, stride, pad, ceil_mode=ceil, count_include_pad=include_pad)]


register(
    OpDef(
        "Pooling",
        "pooling",
        {
            "kernel": Param("shape", ()),
            "pool_type": Param("str", "max", ("max", "avg", "sum")),
            "global_pool": Param("bool", False),
            "stride": Param("shape", ()),
            "pad": Param("shape", ()),
            "pooling_convention": Param("str", "valid", ("valid", "full")),
            "count_include_pad": Param("optbool", None),
            "cudnn_off": Param("bool", False),
            "layout": Param("str", "None"),
        },
        lambda p: ["data"],
        _pool_infer,
        _pool_forward,
        # MXNet 1.9.1's pip (MKLDNN) build gives max pooling a hidden workspace output
        num_outputs=lambda p: 2 if p["pool_type"] == "max" else 1,
    )
)


# --------------------------------------------------------------------------- Activation
_ACTS = {
    "relu": torch.relu,
    "sigmoid": torch.sigmoid,
    "tanh": torch.tanh,
    "softrelu": F.softplus,
    "softsign": F.softsign,
}


def _identity_infer(p: P, shapes: list) -> tuple[list, list, list]:
    return [shapes[0]], [shapes[0]], []


register(
    OpDef(
        "Activation",
        "activation",
        {"act_type": Param("str", None, tuple(_ACTS), True)},
        lambda p: ["data"],
        _identity_infer,
        lambda p, inputs, aux, is_train: [_ACTS[p["act_type"]](inputs[0])],
    )
)


# --------------------------------------------------------------------------- LeakyReLU
def _leaky_infer(p: P, shapes: list) -> tuple[list, list, list]:
    data = shapes[0]
    if p["act_type"] != "prelu":
        return [data], [data], []
    if data is None:
        return shapes, [None], []
    gamma = (data[1],) if len(data) > 1 else (1,)
    return [tuple(data), gamma], [tuple(data)], []


def _leaky_forward(p: P, inputs: list[torch.Tensor], aux: list, is_train: bool) -> list:
    x, act = inputs[0], p["act_type"]
    if act == "leaky":
        return [torch.where(x > 0, x, x * p["slope"])]
    if act == "elu":
        return [torch.where(x > 0, x, p["slope"] * torch.expm1(x))]
    if act == "selu":
        return [F.selu(x)]
    if act == "gelu":
        return [F.gelu(x)]
    if act == "rrelu":
        lo, hi = p["lower_bound"], p["upper_bound"]
        if is_train:
            slope = torch.empty_like(x).uniform_(lo, hi)
        else:
            slope = torch.full_like(x, (lo + hi) / 2)
        return [torch.where(x > 0, x, x * slope)]
    gamma = inputs[1]
    shape = [1] * x.dim()
    if x.dim() > 1:
        shape[1] = -1
    return [torch.where(x > 0, x, x * gamma.reshape(shape))]


register(
    OpDef(
        "LeakyReLU",
        "leakyrelu",
        {
            "act_type": Param("str", "leaky", ("leaky", "elu", "prelu", "rrelu", "selu", "gelu")),
            "slope": Param("float", 0.25),
            "lower_bound": Param("float", 0.125),
            "upper_bound": Param("float", 0.334),
        },
        lambda p: ["data", "gamma"] if p["act_type"] == "prelu" else ["data"],
        _leaky_infer,
        _leaky_forward,
        var_init={"gamma": '["Constant", {"value": 0.25}]'},
    )
)


# --------------------------------------------------------------------------- Flatten
def _flatten_infer(p: P, shapes: list) -> tuple[list, list, list]:
    data = shapes[0]
    if data is None:
        return shapes, [None], []
    return [tuple(data)], [(data[0], _prod(data[1:]))], []


register(
    OpDef(
        "Flatten",
        "flatten",
        {},
        lambda p: ["data"],
        _flatten_infer,
        lambda p, inputs, aux, is_train: [inputs[0].reshape(inputs[0].shape[0], -1)],
    )
)


# --------------------------------------------------------------------------- Dropout
def _dropout_forward(p: P, inputs: list[torch.Tensor], aux: list, is_train: bool) -> list:
    x, rate = inputs[0], p["p"]
    if rate <= 0 or not (is_train or p["mode"] == "always"):
        return [x]
    mask_shape = list(x.shape)
    for axis in p["axes"]:
        mask_shape[axis] = 1
    keep = torch.rand(mask_shape, device=x.device) >= rate
    return [x * keep.to(x.dtype) / (1.0 - rate)]


register(
    OpDef(
        "Dropout",
        "dropout",
        {
            "p": Param("float", 0.5),
            "mode": Param("str", "training", ("training", "always")),
            "axes": Param("shape", ()),
            "cudnn_off": Param("bool", False),
        },
        lambda p: ["data"],
        _identity_infer,
        _dropout_forward,
        num_outputs=lambda p: 2,
    )
)


# --------------------------------------------------------------------------- BatchNorm
def _bn_infer(p: P, shapes: list) -> tuple[list, list, list]:
    data = shapes[0]
    if data is None:
        return shapes, [None] * len(_bn_outputs(p)), [None, None]
    c = (data[p["axis"]],)
    outs = [tuple(data)] + ([c, c] if p["output_mean_var"] else [])
    return [tuple(data), c, c], outs, [c, c]


def _bn_outputs(p: P) -> list[str]:
    return ["output", "mean", "var"] if p["output_mean_var"] else ["output"]


def _bn_forward(p: P, inputs: list[torch.Tensor], aux: list, is_train: bool) -> list:
    x, gamma, beta = inputs
    moving_mean, moving_var = aux
    axis = p["axis"] % x.dim()
    shape = [1] * x.dim()
    shape[axis] = -1
    dims = [d for d in range(x.dim()) if d != axis]
    if p["fix_gamma"]:
        # MXNet writes ones into the gamma argument and uses them; gamma's gradient is 0.
        with torch.no_grad():
            gamma.fill_(1.0)
        gamma = torch.ones_like(gamma.detach())
    if is_train and not p["use_global_stats"]:
        mean = x.mean(dim=dims)
        var = ((x - mean.reshape(shape)) ** 2).mean(dim=dims)
        with torch.no_grad():
            m = p["momentum"]
            moving_mean.mul_(m).add_(mean.detach() * (1 - m))
            moving_var.mul_(m).add_(var.detach() * (1 - m))
    else:
        mean, var = moving_mean, moving_var
    inv = torch.rsqrt(var + p["eps"])
    out = (x - mean.reshape(shape)) * (inv * gamma).reshape(shape) + beta.reshape(shape)
    return [out, mean, var] if p["output_mean_var"] else [out]


register(
    OpDef(
        "BatchNorm",
        "batchnorm",
        {
            "eps": Param("float", 1e-3),
            "momentum": Param("float", 0.9),
            "fix_gamma": Param("bool", True),
            "use_global_stats": Param("bool", False),
            "output_mean_var": Param("bool", False),
            "axis": Param("int", 1),
            "cudnn_off": Param("bool", False),
        },
        lambda p: ["data", "gamma", "beta"],
        _bn_infer,
        _bn_forward,
        aux=lambda p: ["moving_mean", "moving_var"],
        outputs=_bn_outputs,
        num_outputs=lambda p: 3,
        var_init={"moving_mean": '["zero", {}]', "moving_var": '["one", {}]'},
    )
)


# --------------------------------------------------------------------------- Embedding
def _emb_infer(p: P, shapes: list) -> tuple[list, list, list]:
    weight = (p["input_dim"], p["output_dim"])
    data = shapes[0]
    if data is None:
        return [None, weight], [None], []
    return [tuple(data), weight], [(*data, p["output_dim"])], []


def _emb_forward(p: P, inputs: list[torch.Tensor], aux: list, is_train: bool) -> list:
    index = inputs[0].detach().to(torch.int64).clamp_(0, p["input_dim"] - 1)
    return [F.embedding(index, inputs[1], sparse=p["sparse_grad"])]


register(
    OpDef(
        "Embedding",
        "embedding",
        {
            "input_dim": required("int"),
            "output_dim": required("int"),
            "dtype": Param("str", "float32"),
            "sparse_grad": Param("bool", False),
        },
        lambda p: ["data", "weight"],
        _emb_infer,
        _emb_forward,
    )
)
