"""``mx.model``: checkpoint files and the batch-end callback record.

A checkpoint is ``prefix-symbol.json`` (the graph, MXNet's JSON) plus
``prefix-%04d.params`` (an MXNet NDArray file with keys ``arg:<name>`` and ``aux:<name>``);
both are written atomically, so an interrupted save leaves the previous files intact.

>>> import os, tempfile, torch, mxopt as mx
>>> net = mx.sym.FullyConnected(mx.sym.Variable('data'), num_hidden=2, name='fc')
>>> prefix = os.path.join(tempfile.mkdtemp(), 'net')
>>> mx.model.save_checkpoint(prefix, 1, net, {'fc_weight': torch.ones(2, 3),
...                                          'fc_bias': torch.zeros(2)}, {})
>>> sym, args, aux = mx.model.load_checkpoint(prefix, 1)
>>> sorted(args)
['fc_bias', 'fc_weight']
"""

from __future__ import annotations

import logging
import os
import warnings
from collections.abc import Mapping
from typing import Any, NamedTuple

import torch

from .symbol import Symbol
from .symbol import load as _load_symbol

__all__ = ["BatchEndParam", "save_checkpoint", "load_checkpoint", "load_params"]


class BatchEndParam(NamedTuple):
    """What batch-end callbacks receive: ``epoch``, ``nbatch``, ``eval_metric``, ``locals``."""

    epoch: int
    nbatch: int
    eval_metric: Any
    locals: Any


def _check_prefix(prefix: Any, epoch: Any) -> None:
    if not isinstance(prefix, (str, os.PathLike)):
        raise TypeError(f"prefix must be a str path, got {type(prefix).__name__}")
    if isinstance(epoch, bool) or not isinstance(epoch, int) or epoch < 0:
        raise ValueError(f"epoch must be a non-negative int, got {epoch!r}")


def save_checkpoint(
    prefix: str,
    epoch: int,
    symbol: Symbol | None,
    arg_params: Mapping[str, torch.Tensor],
    aux_params: Mapping[str, torch.Tensor],
    remove_amp_cast: bool = True,
) -> None:
    """Write ``prefix-symbol.json`` (if ``symbol``) and ``prefix-%04d.params``; logs
    ``Saved checkpoint to "<params file>"``."""
    from . import ndarray as nd

    _check_prefix(prefix, epoch)
    for what, params in (("arg_params", arg_params), ("aux_params", aux_params)):
        if not isinstance(params, Mapping):
            raise TypeError(f"{what} must be a dict of name -> tensor")
    if symbol is not None:
        symbol.save(f"{prefix}-symbol.json", remove_amp_cast=remove_amp_cast)
    save_dict = {f"arg:{k}": v.detach().to("cpu") for k, v in arg_params.items()}
    save_dict.update({f"aux:{k}": v.detach().to("cpu") for k, v in aux_params.items()})
    param_name = f"{prefix}-{epoch:04d}.params"
    nd.save(param_name, save_dict)
    logging.info('Saved checkpoint to "%s"', param_name)


def load_params(prefix: str, epoch: int) -> tuple[dict, dict]:
    """``(arg_params, aux_params)`` from ``prefix-%04d.params`` (keys split on the first
    ``:``; an empty file gives two empty dicts and a warning)."""
    _check_prefix(prefix, epoch)
    return split_params(f"{prefix}-{epoch:04d}.params")


def split_params(fname: str) -> tuple[dict[str, torch.Tensor], dict[str, torch.Tensor]]:
    """Read an MXNet params file into ``arg``/``aux`` dicts."""
    from . import ndarray as nd

    loaded = nd.load(fname)
    if not loaded:
        warnings.warn(f"Params file {fname!r} is empty", stacklevel=3)
        return {}, {}
    if not isinstance(loaded, dict):
        raise ValueError(f"params file {fname!r} holds an unnamed list, not arg:/aux: entries")
    arg_params: dict[str, torch.Tensor] = {}
    aux_params: dict[str, torch.Tensor] = {}
    for key, value in loaded.items():
        kind, sep, name = key.partition(":")
        if not sep or kind not in ("arg", "aux"):
            raise ValueError(f"params file {fname!r}: key {key!r} is not 'arg:<name>'/'aux:<name>'")
        (arg_params if kind == "arg" else aux_params)[name] = value
    return arg_params, aux_params


def load_checkpoint(prefix: str, epoch: int) -> tuple[Symbol, dict, dict]:
    """``(symbol, arg_params, aux_params)`` from ``prefix-symbol.json`` and
    ``prefix-%04d.params`` (files written by mxopt or by MXNet)."""
    _check_prefix(prefix, epoch)
    symbol = _load_symbol(f"{prefix}-symbol.json")
    arg_params, aux_params = load_params(prefix, epoch)
    return symbol, arg_params, aux_params
