"""Tensor-shaping and arithmetic operators: Reshape, Concat, BlockGrad, element-wise
arithmetic between symbols (``elemwise_add`` ...) and with scalars (``_plus_scalar`` ...),
and a few unary/reduction operators useful inside ``MakeLoss``."""

from __future__ import annotations

import math
from typing import Any

import torch

from .registry import OpDef, Param, Shape, register, required, same_shapes

P = dict[str, Any]


# --------------------------------------------------------------------------- Reshape
def reshape_target(src: Shape, spec: tuple[int, ...], reverse: bool = False) -> Shape:
    """MXNet's Reshape rule. Codes in ``spec``: ``k>0`` keeps k; ``0`` copies the input
    dimension; ``-1`` is inferred from the remaining size; ``-2`` copies all remaining
    input dimensions; ``-3`` merges two input dimensions; ``-4, a, b`` splits one input
    dimension into ``a*b`` (one of them may be -1). ``reverse`` applies the rule right to
    left.

    >>> reshape_target((2, 3, 4), (0, -1))
    (2, 12)
    >>> reshape_target((2, 3, 4), (-4, 1, 2, -3))
    (1, 2, 12)
    """
    src, spec = tuple(src), tuple(spec)
    if reverse:
        src, spec = src[::-1], spec[::-1]
        # a split "-4 a b" reads backwards as "b a -4"; restore the order of each triple
        fixed: list[int] = []
        i = 0
        while i < len(spec):
            if i + 2 < len(spec) and spec[i + 2] == -4:
                fixed += [-4, spec[i], spec[i + 1]]
                i += 3
            else:
                fixed.append(spec[i])
                i += 1
        spec = tuple(fixed)
    out: list[int] = []
    infer_at = -1
    i = j = 0
    while i < len(spec):
        code = spec[i]
        if code > 0:
            out.append(code)
            j += 1
        elif code == 0:
            out.append(src[j])
            j += 1
        elif code == -1:
            if infer_at >= 0:
                raise ValueError(f"Reshape shape {spec} has more than one -1")
            infer_at = len(out)
            out.append(1)
            j += 1
        elif code == -2:
            out.extend(src[j:])
            j = len(src)
        elif code == -3:
            out.append(src[j] * src[j + 1])
            j += 2
        elif code == -4:
            a, b = spec[i + 1], spec[i + 2]
            if a == -1:
                a = src[j] // b
            if b == -1:
                b = src[j] // a
            if a * b != src[j]:
                raise ValueError(f"Reshape cannot split dimension {src[j]} into ({a}, {b})")
            out += [a, b]
            j += 1
            i += 2
        else:
            raise ValueError(f"Reshape shape code {code} is not one of k>0, 0, -1, -2, -3, -4")
        i += 1
    total = math.prod(src)
    if infer_at >= 0:
        rest = math.prod(out) // out[infer_at] if out[infer_at] else 1
        out[infer_at] = total // rest if rest else 0
    if math.prod(out) != total:
        raise ValueError(f"Reshape cannot turn shape {src} into {tuple(out)} (from {spec})")
    return tuple(out[::-1]) if reverse else tuple(out)


def _reshape_infer(p: P, shapes: list) -> tuple[list, list, list]:
    data = shapes[0]
    if data is None:
        return shapes, [None], []
    return [tuple(data)], [reshape_target(data, p["shape"], p["reverse"])], []


register(
    OpDef(
        "Reshape",
        "reshape",
        {
            "shape": Param("shape", ()),
            "reverse": Param("bool", False),
            "target_shape": Param("shape", ()),
            "keep_highest": Param("bool", False),
        },
        lambda p: ["data"],
        _reshape_infer,
        lambda p, inputs, aux, is_train: [
            inputs[0].reshape(reshape_target(tuple(inputs[0].shape), p["shape"], p["reverse"]))
        ],
    )
)


# --------------------------------------------------------------------------- Concat
def _concat_infer(p: P, shapes: list) -> tuple[list, list, list]:
    if any(s is None for s in shapes):
        return shapes, [None], []
    dim = p["dim"] % len(shapes[0])
    out = list(shapes[0])
    out[dim] = sum(s[dim] for s in shapes)
    return [tuple(s) for s in shapes], [tuple(out)], []


register(
    OpDef(
        "Concat",
        "concat",
        {"num_args": required("int"), "dim": Param("int", 1)},
        lambda p: [f"arg{i}" for i in range(p["num_args"])],
        _concat_infer,
        lambda p, inputs, aux, is_train: [torch.cat(inputs, dim=p["dim"])],
        variadic=True,
    )
)


# --------------------------------------------------------------------------- arithmetic
def _binary(name: str, hint: str, fn: Any) -> None:
    register(
        OpDef(
            name,
            hint,
            {},
            lambda p: ["lhs", "rhs"],
            same_shapes(2),
            lambda p, inputs, aux, is_train: [fn(inputs[0], inputs[1])],
        )
    )


_binary("elemwise_add", "_plus", torch.add)
_binary("elemwise_sub", "_minus", torch.sub)
_binary("elemwise_mul", "_mul", torch.mul)
_binary("elemwise_div", "_div", torch.div)

_SCALAR_FNS = {
    "_plus_scalar": ("_plusscalar", lambda x, s: x + s),
    "_minus_scalar": ("_minusscalar", lambda x, s: x - s),
    "_rminus_scalar": ("_rminusscalar", lambda x, s: s - x),
    "_mul_scalar": ("_mulscalar", lambda x, s: x * s),
    "_div_scalar": ("_divscalar", lambda x, s: x / s),
    "_rdiv_scalar": ("_rdivscalar", lambda x, s: s / x),
    "_power_scalar": ("_powerscalar", lambda x, s: x**s),
    "_rpower_scalar": ("_rpower_scalar", lambda x, s: torch.pow(s, x)),
}


def _scalar(name: str, hint: str, fn: Any) -> None:
    register(
        OpDef(
            name,
            hint,
            {"scalar": Param("float", 1.0), "is_int": Param("bool", True)},
            lambda p: ["data"],
            same_shapes(1),
            lambda p, inputs, aux, is_train: [fn(inputs[0], p["scalar"])],
        )
    )


for _name, (_hint, _fn) in _SCALAR_FNS.items():
    _scalar(_name, _hint, _fn)


# --------------------------------------------------------------------------- unary
_UNARY = {
    "square": torch.square,
    "sqrt": torch.sqrt,
    "exp": torch.exp,
    "log": torch.log,
    "abs": torch.abs,
    "negative": torch.neg,
    "relu": torch.relu,
    "sigmoid": torch.sigmoid,
    "tanh": torch.tanh,
    "BlockGrad": torch.Tensor.detach,
}

for _name, _fn in _UNARY.items():
    register(
        OpDef(
            _name,
            _name.lower(),
            {},
            lambda p: ["data"],
            same_shapes(1),
            (lambda f: lambda p, inputs, aux, is_train: [f(inputs[0])])(_fn),
        )
    )


# --------------------------------------------------------------------------- reductions
def _reduce_axes(p: P, ndim: int) -> list[int]:
    axes = range(ndim) if p["axis"] is None else [a % ndim for a in p["axis"]]
    if p["exclude"]:
        axes = [a for a in range(ndim) if a not in set(axes)]
    return sorted(set(axes))


def _reduce_infer(p: P, shapes: list) -> tuple[list, list, list]:
    data = shapes[0]
    if data is None:
        return shapes, [None], []
    axes = _reduce_axes(p, len(data))
    if p["keepdims"]:
        out = tuple(1 if i in axes else d for i, d in enumerate(data))
    else:
        out = tuple(d for i, d in enumerate(data) if i not in axes) or (1,)
    return [tuple(data)], [out], []


def _reducer(name: str, fn: Any) -> None:
    def forward(p: P, inputs: list[torch.Tensor], aux: list, is_train: bool) -> list:
        x = inputs[0]
        axes = _reduce_axes(p, x.dim())
        out = fn(x, dim=axes, keepdim=p["keepdims"]) if axes else x
        return [out.reshape(1) if out.dim() == 0 else out]

    register(
        OpDef(
            name,
            name,
            {
                "axis": Param("optshape", None),
                "keepdims": Param("bool", False),
                "exclude": Param("bool", False),
            },
            lambda p: ["data"],
            _reduce_infer,
            forward,
        )
    )


_reducer("sum", torch.sum)
_reducer("mean", torch.mean)
