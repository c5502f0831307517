"""Optimizer states and optimizer dumps as bytes, without pickle.

The bytes are an 8-byte magic (``MXOPTST\\x01``) followed by a safetensors file: every
tensor is stored as raw data, and the structure around them (dicts with int or str keys,
tuples, lists, numbers, strings, ``None``, the optimizer's attributes and its learning-rate
scheduler) is a JSON document in the file's metadata. Loading never runs code from the
file: it only rebuilds plain containers, tensors, optimizers *registered* with
``mx.optimizer.register`` and schedulers known to ``mx.lr_scheduler``.
"""

from __future__ import annotations

import json
from typing import Any

import torch
from safetensors.torch import load as _st_load
from safetensors.torch import save as _st_save

__all__ = ["dumps", "loads", "FORMAT"]

FORMAT = "mxopt.optimizer-states"
VERSION = 1
MAGIC = b"MXOPTST\x01"  # precedes the safetensors bytes
_SKIPPED_ATTRS = {"param_dict"}  # as in MXNet, never serialized; restored as {}


class _Encoder:
    def __init__(self) -> None:
        self.tensors: dict[str, torch.Tensor] = {}
        self._ids: dict[int, str] = {}
        self._storages: set[tuple[int, int]] = set()

    def tensor(self, t: torch.Tensor) -> dict[str, str]:
        if t.is_sparse:
            raise TypeError("sparse tensors cannot be stored in optimizer states")
        key = self._ids.get(id(t))
        if key is None:
            key = f"t{len(self.tensors)}"
            data = t.detach().to("cpu").contiguous()
            storage = (data.untyped_storage().data_ptr(), data.untyped_storage().nbytes())
            if storage in self._storages or data.data_ptr() == t.data_ptr():
                data = data.clone()  # safetensors refuses shared storage; keep ours apart
            self._storages.add(storage)
            self.tensors[key] = data
            self._ids[id(t)] = key
        return {"__tensor__": key}

    def encode(self, obj: Any, where: str) -> Any:
        from .optimizer import Optimizer

        if obj is None or isinstance(obj, (bool, int, float, str)):
            return obj
        if isinstance(obj, torch.Tensor):
            return self.tensor(obj)
        if isinstance(obj, tuple):
            return {"__tuple__": [self.encode(v, where) for v in obj]}
        if isinstance(obj, list):
            return [self.encode(v, where) for v in obj]
        if isinstance(obj, dict):
            return {
                "__dict__": [
                    [self.encode(k, where), self.encode(v, f"{where}[{k!r}]")]
                    for k, v in obj.items()
                ]
            }
        if isinstance(obj, torch.dtype):
            return {"__dtype__": str(obj).removeprefix("torch.")}
        if isinstance(obj, Optimizer):
            attrs = {k: v for k, v in vars(obj).items() if k not in _SKIPPED_ATTRS}
            return {
                "__optimizer__": type(obj).__name__.lower(),
                "attrs": self.encode(attrs, f"{type(obj).__name__}"),
            }
        state_dict = getattr(obj, "state_dict", None)
        if callable(state_dict) and _is_scheduler(obj):
            return {"__scheduler__": state_dict()}
        raise TypeError(
            f"cannot serialize {where} of type {type(obj).__name__}: optimizer states may hold "
            "tensors, numbers, strings, None, tuples, lists, dicts and LRSchedulers"
        )


def _is_scheduler(obj: Any) -> bool:
    from ..lr_scheduler import LRScheduler

    return isinstance(obj, LRScheduler)


def _decode(obj: Any, tensors: dict[str, torch.Tensor]) -> Any:
    if isinstance(obj, list):
        return [_decode(v, tensors) for v in obj]
    if not isinstance(obj, dict):
        return obj
    if "__tensor__" in obj:
        return tensors[obj["__tensor__"]]
    if "__tuple__" in obj:
        return tuple(_decode(v, tensors) for v in obj["__tuple__"])
    if "__dict__" in obj:
        return {_decode(k, tensors): _decode(v, tensors) for k, v in obj["__dict__"]}
    if "__dtype__" in obj:
        return getattr(torch, obj["__dtype__"])
    if "__scheduler__" in obj:
        from ..lr_scheduler import from_state_dict

        return from_state_dict(obj["__scheduler__"])
    if "__optimizer__" in obj:
        from .optimizer import Optimizer

        name = obj["__optimizer__"]
        klass = Optimizer.opt_registry.get(name)
        if klass is None:
            raise ValueError(
                f"the states hold an optimizer {name!r} that is not registered here; "
                "register its class with mx.optimizer.register before loading"
            )
        optimizer = klass.__new__(klass)
        vars(optimizer).update(_decode(obj["attrs"], tensors))
        optimizer.param_dict = {}
        return optimizer
    raise ValueError(f"unknown entry in optimizer states: {sorted(obj)}")


def dumps(obj: Any) -> bytes:
    """Serialize states (and optionally an optimizer) to bytes."""
    encoder = _Encoder()
    tree = encoder.encode(obj, "state")
    metadata = {"format": FORMAT, "version": str(VERSION), "tree": json.dumps(tree)}
    return MAGIC + _st_save(encoder.tensors, metadata=metadata)


def loads(data: bytes) -> Any:
    """Rebuild what :func:`dumps` wrote. Raises ``ValueError`` for anything else."""
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise TypeError(f"states must be bytes, got {type(data).__name__}")
    data = bytes(data)
    if not data.startswith(MAGIC):
        if data[:1] == b"\x80" and data[1:2] in (b"\x02", b"\x03", b"\x04", b"\x05"):
            raise ValueError(
                "these states are a pickle (MXNet's .states format); mxopt never unpickles "
                "implicitly: load legacy MXNet states with allow_pickle=True on a trusted file"
            )
        raise ValueError("not mxopt optimizer states (the format marker is missing)")
    body = data[len(MAGIC) :]
    try:
        tensors = _st_load(body)
        header_len = int.from_bytes(body[:8], "little")
        metadata = json.loads(body[8 : 8 + header_len]).get("__metadata__", {})
    except Exception as exc:  # safetensors raises its own error types
        raise ValueError(f"not mxopt optimizer states (unreadable: {exc})") from None
    if metadata.get("format") != FORMAT:
        raise ValueError("not mxopt optimizer states (missing format marker)")
    if int(metadata.get("version", 0)) > VERSION:
        raise ValueError(
            f"optimizer states version {metadata['version']} is newer than this mxopt "
            f"supports ({VERSION})"
        )
    return _decode(json.loads(metadata["tree"]), tensors)
