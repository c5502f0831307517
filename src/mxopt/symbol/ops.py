"""Operator functions of ``mx.sym`` (``FullyConnected``, ``SoftmaxOutput``, ...).

``make_symbol`` creates an operator node: inputs come positionally (in slot order) or by
slot name (``data=``, ``weight=``, ``label=``...); anything else is an operator argument,
stored as the string ``str(value)`` and validated against the operator's spec. A missing
input slot becomes a new variable ``<name>_<slot>`` (``fc_weight``, ``bn_moving_mean``,
``softmax_label``) carrying a copy of the operator's attributes, as MXNet does.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from . import ops_loss, ops_math, ops_nn  # noqa: F401  (register the operators)
from .registry import OPS, get_op
from .symbol import NameManager, Symbol, _Node

__all__ = ["make_symbol", "op_function"]


def _attr_text(value: Any) -> str:
    if isinstance(value, list):
        value = tuple(value)
    return str(value)


def make_symbol(
    op_name: str,
    args: Sequence[Any],
    kwargs: dict[str, Any],
    name: str | None = None,
    attr: dict[str, str] | None = None,
) -> Symbol:
    """Build an ``op_name`` node from positional symbols and keyword inputs/arguments."""
    op = get_op(op_name)
    for i, arg in enumerate(args):
        if not isinstance(arg, Symbol):
            raise TypeError(
                f"{op.name}: positional argument {i} must be a Symbol, got {type(arg).__name__};"
                " pass operator arguments by keyword"
            )
    kwargs = dict(kwargs)
    symbol_kwargs = {k: v for k, v in kwargs.items() if isinstance(v, Symbol)}
    attrs = {
        k: _attr_text(v) for k, v in kwargs.items() if k not in symbol_kwargs and v is not None
    }
    if op.variadic:
        if symbol_kwargs:
            raise TypeError(f"{op.name} takes its inputs positionally, got {sorted(symbol_kwargs)}")
        attrs.setdefault("num_args", str(len(args)))
    if attr is not None:
        if not isinstance(attr, dict):
            raise TypeError(f"attr must be a dict of str, got {type(attr).__name__}")
        attrs.update({str(k): str(v) for k, v in attr.items()})
    params = op.parse(attrs)  # validates names and values before anything is created
    slots = op.inputs(params)
    aux_slots = op.aux(params)
    if op.variadic and len(args) != len(slots):
        raise ValueError(f"{op.name}: num_args={len(slots)} but {len(args)} inputs were given")
    if len(args) > len(slots):
        raise TypeError(f"{op.name} takes {len(slots)} inputs ({slots}), got {len(args)}")
    unknown = set(symbol_kwargs) - set(slots) - set(aux_slots)
    if unknown:
        raise TypeError(
            f"{op.name} got unknown inputs {sorted(unknown)}; inputs are {slots + aux_slots}"
        )
    given: dict[str, Symbol] = dict(zip(slots, args, strict=False))
    for key, sym in symbol_kwargs.items():
        if key in given:
            raise TypeError(f"{op.name} got input {key!r} both positionally and by keyword")
        given[key] = sym
    node_name = NameManager.get(name, op.hint)
    var_attrs = {k: v for k, v in attrs.items()}
    inputs: list[tuple[_Node, int]] = []
    for slot in [*slots, *aux_slots]:
        sym = given.get(slot)
        if sym is None:
            extra = {"__init__": op.var_init[slot]} if slot in op.var_init else {}
            inputs.append((_Node(None, f"{node_name}_{slot}", {**var_attrs, **extra}), 0))
        else:
            if len(sym) != 1:
                raise ValueError(
                    f"{op.name} input {slot!r} must be a single-output symbol, got {len(sym)} "
                    "outputs"
                )
            inputs.append(sym._outputs[0])
    return Symbol([(_Node(op, node_name, attrs, inputs), 0)])


def op_function(op_name: str) -> Callable[..., Symbol]:
    """The public ``mx.sym.<op_name>`` function."""

    def function(*args: Any, name: str | None = None, attr: dict | None = None, **kw: Any):
        return make_symbol(op_name, args, kw, name=name, attr=attr)

    function.__name__ = op_name
    function.__qualname__ = op_name
    function.__doc__ = (
        f"Create a ``{op_name}`` node. Arguments: "
        + (", ".join(f"{k}={v.default!r}" for k, v in OPS[op_name].params.items()) or "none")
        + "."
    )
    return function
