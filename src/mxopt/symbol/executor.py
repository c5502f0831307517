"""Binding a symbol to torch tensors and running it.

The forward pass evaluates the graph node by node with torch operators; the backward pass
is ``torch.autograd.backward`` from the outputs (loss heads supply MXNet's gradients through
their ``autograd.Function``). Gradients are then written (``grad_req='write'``) or added
(``'add'``) into :attr:`Executor.grad_dict`; a sparse gradient (``Embedding(sparse_grad=True)``)
replaces the entry with a coalesced sparse COO tensor.

>>> import mxopt as mx
>>> net = mx.sym.FullyConnected(mx.sym.Variable('data'), num_hidden=2, name='fc')
>>> ex = net.simple_bind(mx.cpu(), data=(4, 3))
>>> ex.forward(is_train=True)[0].shape
torch.Size([4, 2])
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import torch

from ..context import to_device
from .symbol import Symbol, _aux_ids

__all__ = ["Executor"]

_GRAD_REQS = ("write", "add", "null")


class Executor:
    """A symbol bound to argument, gradient and auxiliary tensors on one device."""

    def __init__(
        self,
        symbol: Symbol,
        device: torch.device,
        arg_dict: dict[str, torch.Tensor],
        grad_dict: dict[str, torch.Tensor | None],
        grad_req: dict[str, str],
        aux_dict: dict[str, torch.Tensor],
    ) -> None:
        self._symbol = symbol
        self._order = symbol._order()
        self._aux_ids = _aux_ids(self._order)
        self.device = device
        self.arg_dict = arg_dict
        self.grad_dict = grad_dict
        self.grad_req = grad_req
        self.aux_dict = aux_dict
        self.outputs: list[torch.Tensor] = []
        self._heads: list[torch.Tensor] = []
        self._leaves: dict[str, torch.Tensor] = {}

    # ------------------------------------------------------------------ construction
    @staticmethod
    def _grad_reqs(symbol: Symbol, grad_req: Any) -> dict[str, str]:
        names = symbol.list_arguments()
        if isinstance(grad_req, str):
            reqs = dict.fromkeys(names, grad_req)
        elif isinstance(grad_req, Mapping):
            unknown = set(grad_req) - set(names)
            if unknown:
                raise ValueError(f"grad_req names unknown arguments {sorted(unknown)}")
            reqs = {n: grad_req.get(n, "null") for n in names}
        elif isinstance(grad_req, Sequence):
            if len(grad_req) != len(names):
                raise ValueError(f"grad_req list needs {len(names)} entries, got {len(grad_req)}")
            reqs = dict(zip(names, grad_req, strict=True))
        else:
            raise TypeError("grad_req must be a str, a list or a dict")
        for name, req in reqs.items():
            if req not in _GRAD_REQS:
                raise ValueError(f"grad_req for {name!r} must be one of {_GRAD_REQS}, got {req!r}")
        return reqs

    @classmethod
    def simple(cls, symbol: Symbol, ctx: Any, grad_req: Any, shapes: dict) -> Executor:
        """Zero arrays shaped by ``symbol.infer_shape(**shapes)``."""
        device = to_device(ctx)
        arg_shapes, _, aux_shapes = symbol.infer_shape(**shapes)
        if arg_shapes is None:
            missing = [
                n
                for n, s in zip(symbol.list_arguments(), symbol.infer_shape_partial(**shapes)[0])
                if not s
            ]
            raise ValueError(f"simple_bind cannot infer the shapes of {missing}; give them")
        reqs = cls._grad_reqs(symbol, grad_req)
        names = symbol.list_arguments()
        args = {n: torch.zeros(s, device=device) for n, s in zip(names, arg_shapes, strict=True)}
        grads = {
            n: (None if reqs[n] == "null" else torch.zeros(s, device=device))
            for n, s in zip(names, arg_shapes, strict=True)
        }
        aux = {
            n: torch.zeros(s, device=device)
            for n, s in zip(symbol.list_auxiliary_states(), aux_shapes, strict=True)
        }
        return cls(symbol, device, args, grads, reqs, aux)

    @classmethod
    def from_arrays(
        cls, symbol: Symbol, ctx: Any, args: Any, args_grad: Any, grad_req: Any, aux: Any
    ) -> Executor:
        """Bind caller-owned tensors (lists in argument order or dicts by name)."""
        device = to_device(ctx)
        names, aux_names = symbol.list_arguments(), symbol.list_auxiliary_states()
        arg_dict = _as_dict(args, names, "args")
        missing = [n for n in names if n not in arg_dict]
        if missing:
            raise ValueError(f"bind: no array given for arguments {missing}")
        grad_dict = _as_dict(args_grad, names, "args_grad") if args_grad is not None else {}
        reqs = cls._grad_reqs(symbol, grad_req if args_grad is not None else "null")
        for n in names:
            if reqs[n] != "null" and n not in grad_dict:
                reqs[n] = "null"
        aux_dict = _as_dict(aux or {}, aux_names, "aux_states")
        missing = [n for n in aux_names if n not in aux_dict]
        if missing:
            raise ValueError(f"bind: no array given for auxiliary states {missing}")
        grads = {n: grad_dict.get(n) if reqs[n] != "null" else None for n in names}
        return cls(symbol, device, arg_dict, grads, reqs, aux_dict)

    # ------------------------------------------------------------------ views
    @property
    def arg_arrays(self) -> list[torch.Tensor]:
        return [self.arg_dict[n] for n in self._symbol.list_arguments()]

    @property
    def grad_arrays(self) -> list[torch.Tensor | None]:
        return [self.grad_dict.get(n) for n in self._symbol.list_arguments()]

    @property
    def aux_arrays(self) -> list[torch.Tensor]:
        return [self.aux_dict[n] for n in self._symbol.list_auxiliary_states()]

    @property
    def output_dict(self) -> dict[str, torch.Tensor]:
        return dict(zip(self._symbol.list_outputs(), self.outputs, strict=True))

    def copy_params_from(
        self,
        arg_params: Mapping[str, torch.Tensor],
        aux_params: Mapping[str, torch.Tensor] | None = None,
        allow_extra_params: bool = False,
    ) -> None:
        """Copy values into the bound arrays (shape-checked, dtype-cast)."""
        for source, target, kind in (
            (arg_params, self.arg_dict, "argument"),
            (aux_params or {}, self.aux_dict, "auxiliary state"),
        ):
            for name, value in source.items():
                if name not in target:
                    if allow_extra_params:
                        continue
                    raise ValueError(f"Found name {name!r} that is not in the {kind}s")
                _check_copy(name, target[name], value)
        for source, target in ((arg_params, self.arg_dict), (aux_params or {}, self.aux_dict)):
            for name, value in source.items():
                if name in target:
                    with torch.no_grad():
                        target[name].copy_(torch.as_tensor(value).to(target[name].device))

    # ------------------------------------------------------------------ running
    def forward(self, is_train: bool = False, **kwargs: Any) -> list[torch.Tensor]:
        """Run the graph; keyword arrays are first copied into the bound arguments."""
        for name, value in kwargs.items():
            if name not in self.arg_dict:
                raise ValueError(f"forward got {name!r}, which is not an argument")
            _check_copy(name, self.arg_dict[name], value)
            with torch.no_grad():
                self.arg_dict[name].copy_(torch.as_tensor(value).to(self.device))
        self._leaves = {}
        values: dict[int, list[torch.Tensor]] = {}
        with torch.set_grad_enabled(is_train):
            for node in self._order:
                if node.is_variable:
                    if id(node) in self._aux_ids:
                        values[id(node)] = [self.aux_dict[node.name]]
                        continue
                    tensor = self.arg_dict[node.name]
                    if is_train and self.grad_req.get(node.name, "null") != "null":
                        leaf = self._leaves.get(node.name)
                        if leaf is None:
                            leaf = tensor.detach().requires_grad_(True)
                            self._leaves[node.name] = leaf
                        tensor = leaf
                    values[id(node)] = [tensor]
                    continue
                inputs = [values[id(src)][i] for src, i in node.inputs]
                nd = node.num_data
                values[id(node)] = node.op.forward(node.params, inputs[:nd], inputs[nd:], is_train)
        self._heads = [values[id(node)][i] for node, i in self._symbol._outputs]
        self.outputs = [h.detach() for h in self._heads]
        return self.outputs

    def backward(
        self, out_grads: torch.Tensor | Sequence[torch.Tensor] | None = None, is_train: bool = True
    ) -> None:
        """Back-propagate from the outputs of the last ``forward(is_train=True)``.

        ``out_grads`` are the head gradients (ones where not given; loss heads ignore them).
        """
        if not self._heads:
            raise RuntimeError("backward called before forward")
        if isinstance(out_grads, torch.Tensor):
            out_grads = [out_grads]
        if out_grads is not None and len(out_grads) != len(self._heads):
            raise ValueError(
                f"out_grads needs {len(self._heads)} arrays (one per output), got {len(out_grads)}"
            )
        heads, grads = [], []
        for k, head in enumerate(self._heads):
            if not head.requires_grad:
                continue
            g = None if out_grads is None else out_grads[k]
            heads.append(head)
            grads.append(torch.ones_like(head) if g is None else torch.as_tensor(g).to(head))
        if heads:
            torch.autograd.backward(heads, grads)
        for name, leaf in self._leaves.items():
            self._store_grad(name, leaf.grad)
            leaf.grad = None
        self._heads = []

    def _store_grad(self, name: str, grad: torch.Tensor | None) -> None:
        req = self.grad_req[name]
        current = self.grad_dict.get(name)
        if grad is None:
            if req == "write" and current is not None:
                if current.is_sparse:
                    self.grad_dict[name] = torch.zeros_like(self.arg_dict[name])
                else:
                    current.zero_()
            return
        if grad.is_sparse:
            grad = grad.coalesce()
            if req == "add" and current is not None:
                grad = (current + grad).coalesce() if current.is_sparse else current + grad
            self.grad_dict[name] = grad
            return
        if current is None or current.is_sparse or current.shape != grad.shape:
            self.grad_dict[name] = grad.detach().clone() if req == "write" else grad.detach()
        elif req == "write":
            current.copy_(grad)
        else:
            current.add_(grad)


def _check_copy(name: str, target: torch.Tensor, value: Any) -> None:
    shape = tuple(value.shape) if hasattr(value, "shape") else None
    if shape is not None and shape != tuple(target.shape):
        raise ValueError(
            f"shape mismatch for {name!r}: bound array has shape {tuple(target.shape)}, got {shape}"
        )


def _as_dict(arrays: Any, names: list[str], what: str) -> dict[str, torch.Tensor]:
    if isinstance(arrays, Mapping):
        return dict(arrays)
    if isinstance(arrays, Sequence):
        if len(arrays) != len(names):
            raise ValueError(f"{what} needs {len(names)} arrays ({names}), got {len(arrays)}")
        return dict(zip(names, arrays, strict=True))
    raise TypeError(f"{what} must be a list or a dict of tensors")
