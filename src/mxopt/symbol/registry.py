"""Operator definitions for the symbol graph: parameter parsing and the op registry.

Every operator node stores its parameters the way MXNet's JSON does, as strings
(``str(value)`` of what the caller passed, e.g. ``kernel="(3, 3)"``, ``no_bias="True"``).
An :class:`OpDef` parses those strings with a typed :class:`Param` spec, so a graph built
in Python and one loaded from JSON run the same code.
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import torch

__all__ = ["Param", "OpDef", "register", "get_op", "OPS", "Shape"]

Shape = tuple[int, ...]

# attributes any node may carry (placement and multiplier hints), never operator arguments
GENERIC_ATTRS = frozenset({"ctx_group", "lr_mult", "wd_mult", "force_mirroring", "mirror_stage"})


def _parse_bool(text: str) -> bool:
    low = text.strip().lower()
    if low in ("true", "1"):
        return True
    if low in ("false", "0"):
        return False
    raise ValueError(f"expected a boolean, got {text!r}")


def _parse_shape(text: str) -> Shape:
    value = ast.literal_eval(text.strip()) if text.strip() else ()
    if isinstance(value, (int, float)):
        return (int(value),)
    return tuple(int(v) for v in value)


def _parse_opt(inner: Callable[[str], Any]) -> Callable[[str], Any]:
    def parse(text: str) -> Any:
        return None if text.strip() in ("None", "") else inner(text)

    return parse


_PARSERS: dict[str, Callable[[str], Any]] = {
    "int": lambda t: int(float(t)),
    "float": float,
    "bool": _parse_bool,
    "shape": _parse_shape,
    "str": str,
    "optint": _parse_opt(lambda t: int(float(t))),
    "optfloat": _parse_opt(float),
    "optshape": _parse_opt(_parse_shape),
    "optbool": _parse_opt(_parse_bool),
}


@dataclass(frozen=True)
class Param:
    """One operator argument: its kind (``int``, ``float``, ``bool``, ``shape``, ``str``,
    ``optint``, ``optfloat``, ``optshape``, ``optbool``), default (``REQUIRED`` if none) and, for
    strings, the allowed values."""

    kind: str
    default: Any = None
    choices: tuple[str, ...] | None = None
    required: bool = False


def required(kind: str) -> Param:
    """A parameter the caller must give."""
    return Param(kind, None, None, True)


@dataclass
class OpDef:
    """An operator: MXNet name, automatic-name hint, parameters and behaviour.

    ``inputs(p)`` lists the input slots (e.g. ``['data', 'weight', 'bias']``), ``aux(p)``
    the auxiliary-state slots, ``var_init`` the ``__init__`` attribute given to
    automatically created variables of some slots, ``outputs(p)`` the visible output names and
    ``num_outputs(p)`` all outputs (MXNet's ``node_row_ptr`` counts hidden ones too).
    ``infer(p, in_shapes)`` fills unknown input shapes and returns
    ``(in_shapes, out_shapes, aux_shapes)``; ``forward(p, inputs, aux, is_train)`` returns the
    output tensors and may update ``aux`` in place.
    """

    name: str
    hint: str
    params: dict[str, Param]
    inputs: Callable[[dict[str, Any]], list[str]]
    infer: Callable[[dict[str, Any], list[Shape | None]], tuple[list, list, list]]
    forward: Callable[..., list[torch.Tensor]]
    aux: Callable[[dict[str, Any]], list[str]] = lambda p: []
    outputs: Callable[[dict[str, Any]], list[str]] = lambda p: ["output"]
    num_outputs: Callable[[dict[str, Any]], int] | None = None
    var_init: dict[str, str] = field(default_factory=dict)
    variadic: bool = False
    is_loss: bool = False

    def parse(self, attrs: dict[str, str]) -> dict[str, Any]:
        """Parse a node's string attributes into typed parameters (defaults filled in)."""
        out: dict[str, Any] = {}
        for key, text in attrs.items():
            if (key.startswith("__") and key.endswith("__")) or key in GENERIC_ATTRS:
                continue
            if key not in self.params:
                allowed = ", ".join(sorted(self.params)) or "none"
                raise TypeError(
                    f"{self.name} got an unknown argument {key!r}; allowed arguments: {allowed}"
                )
            spec = self.params[key]
            try:
                value = _PARSERS[spec.kind](str(text))
            except (ValueError, SyntaxError, TypeError) as err:
                raise ValueError(
                    f"{self.name} argument {key!r} must be a {spec.kind}, got {text!r}"
                ) from err
            if spec.choices is not None and value not in spec.choices:
                raise ValueError(
                    f"{self.name} argument {key!r} must be one of {list(spec.choices)}, "
                    f"got {value!r}"
                )
            out[key] = value
        for key, spec in self.params.items():
            if key not in out:
                if spec.required:
                    raise ValueError(f"{self.name} requires the argument {key!r}")
                out[key] = spec.default
        return out

    def total_outputs(self, p: dict[str, Any]) -> int:
        return self.num_outputs(p) if self.num_outputs else len(self.outputs(p))


OPS: dict[str, OpDef] = {}


def register(op: OpDef) -> OpDef:
    """Add ``op`` to the registry under its MXNet name."""
    OPS[op.name] = op
    return op


def get_op(name: str) -> OpDef:
    """The operator called ``name``; ``ValueError`` naming the supported ones otherwise."""
    try:
        return OPS[name]
    except KeyError:
        raise ValueError(
            f"operator {name!r} is not supported by mxopt.symbol; supported: {sorted(OPS)}"
        ) from None


def same_shapes(n: int) -> Callable[[dict[str, Any], list[Shape | None]], tuple]:
    """Shape rule for ops whose ``n`` inputs and single output share one shape."""

    def infer(p: dict[str, Any], shapes: Sequence[Shape | None]) -> tuple[list, list, list]:
        known = next((s for s in shapes if s is not None), None)
        if known is None:
            return list(shapes), [None], []
        for s in shapes:
            if s is not None and tuple(s) != tuple(known):
                raise ValueError(f"input shapes differ: {list(shapes)}")
        return [known] * n, [known], []

    return infer
