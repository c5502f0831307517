"""The symbolic graph: :class:`Symbol`, :func:`Variable`, :func:`Group`, JSON in/out.

A symbol is a list of outputs of graph nodes. A node is either a *variable* (``op ==
"null"`` in MXNet's JSON: data, labels, weights, auxiliary states) or an operator applied
to the outputs of other nodes. Arguments are listed in depth-first post-order, the order
MXNet uses, so ``list_arguments()`` and the JSON node list match MXNet 1.9.1 exactly.

>>> import mxopt as mx
>>> data = mx.sym.Variable('data')
>>> fc = mx.sym.FullyConnected(data, name='fc', num_hidden=10)
>>> net = mx.sym.SoftmaxOutput(fc, name='softmax')
>>> net.list_arguments()
['data', 'fc_weight', 'fc_bias', 'softmax_label']
>>> net.infer_shape(data=(128, 20))[0]
[(128, 20), (10, 20), (10,), (128,)]
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from collections.abc import Iterator, Sequence
from typing import Any

from .registry import OpDef, Shape, get_op

__all__ = ["Symbol", "Variable", "var", "Group", "load", "load_json", "NameManager"]

MXNET_VERSION = 10901

# numpy dtype name -> MXNet type flag, as stored in a Variable's ``__dtype__`` attribute
_DTYPE_FLAGS = {
    "float32": 0,
    "float64": 1,
    "float16": 2,
    "uint8": 3,
    "int32": 4,
    "int8": 5,
    "int64": 6,
    "bool": 7,
}
_STYPE_FLAGS = {"default": 0, "row_sparse": 1, "csr": 2}


class NameManager:
    """Automatic names ``<hint><count>`` (``fullyconnected0``, ``_plus1``, ...), counted per
    hint for the whole process, as MXNet's default name manager does."""

    counts: dict[str, int] = {}

    @classmethod
    def get(cls, name: str | None, hint: str) -> str:
        if name is not None:
            return name
        count = cls.counts.get(hint, 0)
        cls.counts[hint] = count + 1
        return f"{hint}{count}"


class _Node:
    """One graph node; ``inputs`` are ``(node, output_index)`` pairs, data slots first and
    auxiliary states last."""

    __slots__ = ("op", "name", "attrs", "inputs", "params", "num_data")

    def __init__(
        self,
        op: OpDef | None,
        name: str,
        attrs: dict[str, str],
        inputs: Sequence[tuple[_Node, int]] = (),
    ) -> None:
        self.op = op
        self.name = name
        self.attrs = dict(attrs)
        self.inputs = list(inputs)
        self.params = op.parse(self.attrs) if op is not None else {}
        self.num_data = len(op.inputs(self.params)) if op is not None else 0

    @property
    def is_variable(self) -> bool:
        return self.op is None

    def output_names(self) -> list[str]:
        if self.op is None:
            return [self.name]
        return [f"{self.name}_{out}" for out in self.op.outputs(self.params)]


def _topo_order(heads: Sequence[tuple[_Node, int]]) -> list[_Node]:
    """Depth-first post-order over the graph reachable from ``heads`` (MXNet's order)."""
    order: list[_Node] = []
    seen: set[int] = set()
    for head, _ in heads:
        stack: list[tuple[_Node, bool]] = [(head, False)]
        while stack:
            node, expanded = stack.pop()
            if expanded:
                order.append(node)
                continue
            if id(node) in seen:
                continue
            seen.add(id(node))
            stack.append((node, True))
            for child, _ in reversed(node.inputs):
                if id(child) not in seen:
                    stack.append((child, False))
    return order


def _aux_ids(order: Sequence[_Node]) -> set[int]:
    """Ids of variable nodes used as auxiliary states by some operator."""
    return {id(src) for node in order for src, _ in node.inputs[node.num_data :]}


class Symbol:
    """A list of graph outputs; build with :func:`Variable` and the operator functions.

    Arithmetic with symbols (``+ - * /``, same shapes) and with Python scalars
    (``+ - * / **``, both sides) creates MXNet's ``elemwise_*`` and ``_*_scalar`` nodes.
    """

    def __init__(self, outputs: Sequence[tuple[_Node, int]]) -> None:
        self._outputs = list(outputs)

    # ------------------------------------------------------------------ structure
    @property
    def name(self) -> str | None:
        """The node name of a single-output symbol (``None`` for a group)."""
        return self._outputs[0][0].name if len(self._outputs) == 1 else None

    def _order(self) -> list[_Node]:
        return _topo_order(self._outputs)

    def list_arguments(self) -> list[str]:
        """Names of the non-auxiliary variables, in MXNet's order."""
        order = self._order()
        aux = _aux_ids(order)
        return [n.name for n in order if n.is_variable and id(n) not in aux]

    def list_auxiliary_states(self) -> list[str]:
        """Names of the auxiliary states (BatchNorm's moving statistics ...)."""
        order = self._order()
        aux = _aux_ids(order)
        return [n.name for n in order if n.is_variable and id(n) in aux]

    def list_inputs(self) -> list[str]:
        """All variable names (arguments and auxiliary states) in graph order."""
        return [n.name for n in self._order() if n.is_variable]

    def list_outputs(self) -> list[str]:
        """Output names: ``<node>_output`` for operators, the name itself for variables."""
        return [node.output_names()[i] for node, i in self._outputs]

    def get_internals(self) -> Symbol:
        """A group of every output of every node (``fc_output``, ``fc_weight``, ...)."""
        outs = []
        for node in self._order():
            count = 1 if node.is_variable else len(node.op.outputs(node.params))
            outs.extend((node, i) for i in range(count))
        return Symbol(outs)

    def get_children(self) -> Symbol | None:
        """The inputs of a single-output symbol's node, as a group (``None`` for a variable)."""
        node = self._outputs[0][0]
        return Symbol(node.inputs) if node.inputs else None

    def __len__(self) -> int:
        return len(self._outputs)

    def __iter__(self) -> Iterator[Symbol]:
        return (Symbol([out]) for out in self._outputs)

    def __getitem__(self, index: int | str) -> Symbol:
        if isinstance(index, str):
            names = self.list_outputs()
            if index not in names:
                raise ValueError(f"no output named {index!r}; outputs are {names}")
            if names.count(index) > 1:
                raise ValueError(f"more than one output is named {index!r}")
            index = names.index(index)
        if not isinstance(index, int):
            raise TypeError(f"index must be an int or an output name, got {index!r}")
        if not -len(self._outputs) <= index < len(self._outputs):
            raise IndexError(f"output index {index} out of range for {len(self)} outputs")
        return Symbol([self._outputs[index]])

    def __repr__(self) -> str:
        if len(self._outputs) == 1:
            return f"<Symbol {self.name}>"
        return f"<Symbol group [{', '.join(self.list_outputs())}]>"

    def __copy__(self) -> Symbol:
        return Symbol(self._outputs)

    def __deepcopy__(self, memo: dict) -> Symbol:
        return load_json(self.tojson())

    # ------------------------------------------------------------------ attributes
    def attr(self, key: str) -> str | None:
        """Attribute ``key`` of a single-output symbol's node (``None`` if absent)."""
        return self._single_node("attr").attrs.get(key)

    def list_attr(self, recursive: bool = False) -> dict[str, str]:
        """The node's attributes (``recursive`` is not supported, as in MXNet 1.9)."""
        if recursive:
            raise ValueError("list_attr(recursive=True) is deprecated; use attr_dict()")
        return _with_aliases(self._single_node("list_attr").attrs)

    def attr_dict(self) -> dict[str, dict[str, str]]:
        """``{node name: attributes}`` for every node that has attributes. As in MXNet,
        ``__lr_mult__``/``__wd_mult__`` also appear as ``lr_mult``/``wd_mult``."""
        return {n.name: _with_aliases(n.attrs) for n in self._order() if n.attrs}

    def _set_attr(self, **kwargs: str) -> None:
        node = self._single_node("_set_attr")
        for key, value in kwargs.items():
            if not isinstance(value, str):
                raise TypeError(f"attribute {key!r} must be a string, got {type(value).__name__}")
            node.attrs[key] = value
        if node.op is not None:
            node.params = node.op.parse(node.attrs)

    def _single_node(self, what: str) -> _Node:
        if len(self._outputs) != 1:
            raise ValueError(f"{what} needs a single-output symbol, this one has {len(self)}")
        return self._outputs[0][0]

    # ------------------------------------------------------------------ shapes
    def infer_shape(self, *args: Shape | None, **kwargs: Shape) -> tuple:
        """Shapes of arguments, outputs and auxiliary states from some known shapes.

        Known shapes come positionally (in ``list_arguments()`` order, ``None`` = unknown)
        or by name, plus each variable's ``shape=`` attribute. Returns
        ``(arg_shapes, out_shapes, aux_shapes)`` or ``(None, None, None)`` when some shape
        cannot be inferred. Contradictory shapes raise ``ValueError`` naming the argument.
        """
        args_s, outs, aux = self._infer(args, kwargs)
        if any(s is None for s in [*args_s, *outs, *aux]):
            return None, None, None
        return args_s, outs, aux

    def infer_shape_partial(self, *args: Shape | None, **kwargs: Shape) -> tuple:
        """Like :meth:`infer_shape`, unknown shapes given as ``()``."""
        args_s, outs, aux = self._infer(args, kwargs)
        return tuple([() if s is None else s for s in group] for group in (args_s, outs, aux))

    def _infer(self, args: Sequence, kwargs: dict) -> tuple[list, list, list]:
        order = self._order()
        aux_ids = _aux_ids(order)
        arg_names = [n.name for n in order if n.is_variable and id(n) not in aux_ids]
        if len(args) > len(arg_names):
            raise ValueError(f"infer_shape got {len(args)} shapes for {len(arg_names)} arguments")
        known: dict[str, Shape] = {}
        for name, shape in zip(arg_names, args, strict=False):
            if shape is not None:
                known[name] = _as_shape(shape, name)
        input_names = {n.name for n in order if n.is_variable}
        for name, shape in kwargs.items():
            if name not in input_names:
                raise ValueError(
                    f"infer_shape got a shape for {name!r}, which is not an argument of the "
                    f"symbol; arguments are {arg_names}"
                )
            if shape is not None:
                known[name] = _as_shape(shape, name)
        shapes: dict[int, list[Shape | None]] = {}
        for node in order:
            if node.is_variable:
                shape = known.get(node.name)
                if shape is None and "__shape__" in node.attrs:
                    attr_shape = _as_shape(json_shape(node.attrs["__shape__"]), node.name)
                    shape = attr_shape if all(attr_shape) else None
                shapes[id(node)] = [shape]
                continue
            in_shapes = [shapes[id(src)][i] for src, i in node.inputs]
            nd = node.num_data
            try:
                filled, out_shapes, aux_shapes = node.op.infer(node.params, in_shapes[:nd])
            except (ValueError, IndexError, ZeroDivisionError) as err:
                raise ValueError(
                    f"{node.op.name} {node.name!r}: cannot infer shapes from inputs "
                    f"{in_shapes[:nd]}: {err}"
                ) from err
            for (src, i), old, new in zip(
                node.inputs, in_shapes, [*filled, *aux_shapes], strict=False
            ):
                if new is None:
                    continue
                new = tuple(int(d) for d in new)
                if old is None:
                    if src.is_variable:
                        shapes[id(src)][i] = new
                elif tuple(old) != new:
                    what = src.name if src.is_variable else src.output_names()[i]
                    raise ValueError(
                        f"shape mismatch for {what!r} (input of {node.op.name} {node.name!r}): "
                        f"got {tuple(old)}, expected {new}"
                    )
            shapes[id(node)] = [None if s is None else tuple(s) for s in out_shapes]
        arg_s = [shapes[id(n)][0] for n in order if n.is_variable and id(n) not in aux_ids]
        aux_s = [shapes[id(n)][0] for n in order if n.is_variable and id(n) in aux_ids]
        out_s = [shapes[id(node)][i] for node, i in self._outputs]
        return arg_s, out_s, aux_s

    # ------------------------------------------------------------------ serialization
    def tojson(self) -> str:
        """MXNet's JSON graph: ``nodes``, ``arg_nodes``, ``node_row_ptr``, ``heads``, ``attrs``."""
        order = self._order()
        index = {id(n): i for i, n in enumerate(order)}
        nodes, row_ptr = [], [0]
        for node in order:
            entry: dict[str, Any] = {"op": "null" if node.op is None else node.op.name}
            entry["name"] = node.name
            if node.attrs:
                entry["attrs"] = dict(sorted(node.attrs.items()))
            entry["inputs"] = [
                [index[id(src)], i, int(k >= node.num_data)]
                for k, (src, i) in enumerate(node.inputs)
            ]
            nodes.append(entry)
            row_ptr.append(
                row_ptr[-1] + (1 if node.op is None else node.op.total_outputs(node.params))
            )
        graph = {
            "nodes": nodes,
            "arg_nodes": [i for i, n in enumerate(order) if n.is_variable],
            "node_row_ptr": row_ptr,
            "heads": [[index[id(n)], i, 0] for n, i in self._outputs],
            "attrs": {"mxnet_version": ["int", MXNET_VERSION]},
        }
        return json.dumps(graph, indent=2)

    def save(self, fname: str, remove_amp_cast: bool = True) -> None:
        """Write :meth:`tojson` to ``fname`` atomically (``remove_amp_cast`` is accepted for
        compatibility; mxopt graphs hold no AMP casts)."""
        if not isinstance(fname, (str, os.PathLike)):
            raise TypeError(f"fname must be a path, got {type(fname).__name__}")
        atomic_write(os.fspath(fname), self.tojson().encode("utf-8"))

    # ------------------------------------------------------------------ binding
    def simple_bind(self, ctx: Any = None, grad_req: Any = "write", **kwargs: Any) -> Any:
        """Allocate zero arrays from the given input shapes and bind (see :class:`Executor`)."""
        from .executor import Executor

        return Executor.simple(self, ctx, grad_req, kwargs)

    def bind(
        self,
        ctx: Any,
        args: Any,
        args_grad: Any = None,
        grad_req: Any = "write",
        aux_states: Any = None,
    ) -> Any:
        """Bind given arrays (lists in ``list_arguments()`` order or dicts by name)."""
        from .executor import Executor

        return Executor.from_arrays(self, ctx, args, args_grad, grad_req, aux_states)

    # ------------------------------------------------------------------ arithmetic
    def _binary(self, other: Any, op: str, scalar_op: str) -> Symbol:
        from .ops import make_symbol

        if isinstance(other, Symbol):
            return make_symbol(op, [self, other], {})
        if isinstance(other, (int, float)) and not isinstance(other, bool):
            return make_symbol(scalar_op, [self], {"scalar": other})
        raise TypeError(f"cannot combine a Symbol with {type(other).__name__}")

    def _rscalar(self, other: Any, scalar_op: str) -> Symbol:
        from .ops import make_symbol

        if isinstance(other, (int, float)) and not isinstance(other, bool):
            return make_symbol(scalar_op, [self], {"scalar": other})
        raise TypeError(f"cannot combine {type(other).__name__} with a Symbol")

    def __add__(self, other: Any) -> Symbol:
        return self._binary(other, "elemwise_add", "_plus_scalar")

    def __radd__(self, other: Any) -> Symbol:
        return self._rscalar(other, "_plus_scalar")

    def __sub__(self, other: Any) -> Symbol:
        return self._binary(other, "elemwise_sub", "_minus_scalar")

    def __rsub__(self, other: Any) -> Symbol:
        return self._rscalar(other, "_rminus_scalar")

    def __mul__(self, other: Any) -> Symbol:
        return self._binary(other, "elemwise_mul", "_mul_scalar")

    def __rmul__(self, other: Any) -> Symbol:
        return self._rscalar(other, "_mul_scalar")

    def __truediv__(self, other: Any) -> Symbol:
        return self._binary(other, "elemwise_div", "_div_scalar")

    def __rtruediv__(self, other: Any) -> Symbol:
        return self._rscalar(other, "_rdiv_scalar")

    def __pow__(self, other: Any) -> Symbol:
        if isinstance(other, Symbol):
            raise TypeError("Symbol ** Symbol is not supported; use a scalar exponent")
        return self._rscalar(other, "_power_scalar")

    def __rpow__(self, other: Any) -> Symbol:
        return self._rscalar(other, "_rpower_scalar")

    def __neg__(self) -> Symbol:
        return self._rscalar(-1.0, "_mul_scalar")


def _with_aliases(attrs: dict[str, str]) -> dict[str, str]:
    out = dict(attrs)
    for key in ("__lr_mult__", "__wd_mult__"):
        if key in attrs:
            out[key.strip("_")] = attrs[key]
    return out


def _as_shape(shape: Any, name: str) -> Shape:
    if isinstance(shape, int):
        shape = (shape,)
    try:
        return tuple(int(d) for d in shape)
    except (TypeError, ValueError):
        raise TypeError(f"shape for {name!r} must be a tuple of ints, got {shape!r}") from None


def json_shape(text: str) -> Shape:
    """Parse a shape attribute such as ``"(3, 4)"`` or ``"[3,4]"``."""
    inner = text.strip().strip("()[]")
    return tuple(int(x) for x in inner.split(",") if x.strip())


def atomic_write(path: str, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file in the same folder + ``os.replace``."""
    folder = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=".tmp-", suffix=os.path.basename(path))
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def Variable(
    name: str,
    attr: dict[str, str] | None = None,
    shape: Shape | None = None,
    lr_mult: float | None = None,
    wd_mult: float | None = None,
    dtype: Any = None,
    init: Any = None,
    stype: str | None = None,
    **kwargs: Any,
) -> Symbol:
    """A graph input (data, label or parameter) called ``name``.

    Options are stored as MXNet's attributes: ``shape`` → ``__shape__``, ``lr_mult`` →
    ``__lr_mult__``, ``wd_mult`` → ``__wd_mult__``, ``dtype`` → ``__dtype__`` (MXNet's type
    flag), ``init`` → ``__init__`` (an initializer's ``dumps()`` or a JSON string), ``stype``
    → ``__storage_type__``; extra keyword attributes must look like ``__name__``.

    >>> import mxopt as mx
    >>> mx.sym.Variable('w', lr_mult=2.0).attr('__lr_mult__')
    '2.0'
    """
    if not isinstance(name, str):
        raise TypeError(f"Variable name must be a str, got {type(name).__name__}")
    attrs: dict[str, str] = {}
    if attr is not None:
        if not isinstance(attr, dict):
            raise TypeError(f"attr must be a dict of str, got {type(attr).__name__}")
        attrs.update({str(k): str(v) for k, v in attr.items()})
    if shape is not None:
        attrs["__shape__"] = str(tuple(shape) if not isinstance(shape, int) else (shape,))
    if lr_mult is not None:
        attrs["__lr_mult__"] = str(lr_mult)
    if wd_mult is not None:
        attrs["__wd_mult__"] = str(wd_mult)
    if dtype is not None:
        import numpy as np

        dname = str(dtype).replace("torch.", "") if not isinstance(dtype, str) else dtype
        with contextlib.suppress(TypeError):
            dname = np.dtype(dname).name
        if dname not in _DTYPE_FLAGS:
            raise TypeError(f"dtype must be one of {sorted(_DTYPE_FLAGS)}, got {dtype!r}")
        attrs["__dtype__"] = str(_DTYPE_FLAGS[dname])
    if init is not None:
        attrs["__init__"] = init if isinstance(init, str) else init.dumps()
    if stype is not None:
        if stype not in _STYPE_FLAGS:
            raise ValueError(f"stype must be one of {sorted(_STYPE_FLAGS)}, got {stype!r}")
        attrs["__storage_type__"] = str(_STYPE_FLAGS[stype])
    for key, value in kwargs.items():
        if not (key.startswith("__") and key.endswith("__")):
            raise ValueError(
                f"Variable attribute {key!r} is not supported; extra attributes must be "
                "named like __name__"
            )
        attrs[key] = str(value)
    return Symbol([(_Node(None, name, attrs), 0)])


var = Variable


def Group(symbols: Sequence[Symbol]) -> Symbol:
    """One symbol whose outputs are the outputs of ``symbols``, in order."""
    symbols = list(symbols)
    if not symbols or not all(isinstance(s, Symbol) for s in symbols):
        raise TypeError("Group expects a non-empty list of Symbols")
    return Symbol([out for s in symbols for out in s._outputs])


def load_json(json_str: str) -> Symbol:
    """Rebuild a symbol from MXNet's JSON graph text (also MXNet's older ``param``/``attr``
    node layout). Unsupported operators raise ``ValueError`` naming them."""
    try:
        graph = json.loads(json_str)
    except (TypeError, json.JSONDecodeError) as err:
        raise ValueError(f"load_json: not a JSON graph: {err}") from err
    if not isinstance(graph, dict) or "nodes" not in graph or "heads" not in graph:
        raise ValueError("load_json: JSON graph must have 'nodes' and 'heads'")
    built: list[_Node] = []
    for entry in graph["nodes"]:
        attrs: dict[str, str] = {}
        for key in ("param", "attr", "attrs"):
            attrs.update({str(k): str(v) for k, v in (entry.get(key) or {}).items()})
        inputs = [(built[int(inp[0])], int(inp[1])) for inp in entry.get("inputs", [])]
        op = None if entry["op"] == "null" else get_op(entry["op"])
        built.append(_Node(op, entry["name"], attrs, inputs))
    return Symbol([(built[int(h[0])], int(h[1])) for h in graph["heads"]])


def load(fname: str) -> Symbol:
    """Read a symbol saved by :meth:`Symbol.save` or by MXNet (``prefix-symbol.json``)."""
    if not isinstance(fname, (str, os.PathLike)):
        raise TypeError(f"fname must be a path, got {type(fname).__name__}")
    with open(fname, encoding="utf-8") as fh:
        return load_json(fh.read())
