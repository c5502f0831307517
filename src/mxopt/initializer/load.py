"""``Load``: initialize parameters from a ``.params`` file or a dict of tensors."""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Mapping

import torch

from ..errors import MXNetValueError
from .base import _set

__all__ = ["Load"]


class Load:
    """Copy values by name from ``param`` (a path to an MXNet ``.params`` file or a dict
    ``name -> tensor``), dropping ``arg:``/``aux:`` prefixes; names not found go to
    ``default_init`` (an error if there is none). ``verbose=True`` logs
    ``Initialized <name> by loading`` / ``by default``.

    >>> import torch, mxopt as mx
    >>> init = mx.init.Load({"arg:fc_weight": torch.ones(2)}, default_init=mx.init.Zero())
    >>> w = torch.empty(2); init(mx.init.InitDesc("fc_weight"), w); w
    tensor([1., 1.])
    """

    def __init__(
        self,
        param: str | os.PathLike[str] | Mapping[str, torch.Tensor],
        default_init: Callable | None = None,
        verbose: bool = False,
    ) -> None:
        if isinstance(param, (str, os.PathLike)):
            from ..ndarray.serialization import load

            param = load(param)
        if not isinstance(param, Mapping):
            raise MXNetValueError(
                "param must be a file name or a dict of name -> tensor "
                f"(a saved list has no names), got {type(param).__name__}"
            )
        self.param: dict[str, torch.Tensor] = {}
        for name, arr in param.items():
            key = name[4:] if name.startswith(("arg:", "aux:")) else name
            arr = torch.as_tensor(arr)
            self.param[key] = arr.to_dense() if arr.layout != torch.strided else arr
        self.default_init = default_init
        self.verbose = verbose

    def __call__(self, name: str, arr: torch.Tensor) -> None:
        if name in self.param:
            src = self.param[name]
            if tuple(arr.shape) != tuple(src.shape):
                raise MXNetValueError(
                    f"Parameter {name} cannot be initialized from loading. Shape mismatch, "
                    f"target {tuple(arr.shape)} vs loaded {tuple(src.shape)}"
                )
            _set(arr, src)
            if self.verbose:
                logging.info("Initialized %s by loading", name)
            return
        if self.default_init is None:
            raise MXNetValueError(
                f"Cannot Initialize {name}. Not found in loaded param and no default "
                "Initializer is provided."
            )
        self.default_init(name, arr)
        if self.verbose:
            logging.info("Initialized %s by default", name)
