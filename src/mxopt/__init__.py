"""mxopt: Apache MXNet 1.9.1's optimization system on PyTorch tensors.

``import mxopt as mx`` gives MXNet's names: ``mx.nd``, ``mx.optimizer`` (``mx.opt``),
``mx.lr_scheduler``, ``mx.initializer`` (``mx.init``), ``mx.sym``, ``mx.mod``, ``mx.io``,
``mx.metric``, ``mx.callback``, ``mx.cpu()`` / ``mx.gpu(i)``. Submodules load on first use.
"""

from __future__ import annotations

import importlib
from types import ModuleType

from .context import Context, cpu, current_context, gpu, num_gpus

__version__ = "0.1.0"

# public name -> module path (aliases point at the same module object)
_SUBMODULES: dict[str, str] = {
    "nd": "mxopt.ndarray",
    "ndarray": "mxopt.ndarray",
    "optimizer": "mxopt.optimizer",
    "opt": "mxopt.optimizer",
    "lr_scheduler": "mxopt.lr_scheduler",
    "initializer": "mxopt.initializer",
    "init": "mxopt.initializer",
    "symbol": "mxopt.symbol",
    "sym": "mxopt.symbol",
    "module": "mxopt.module",
    "mod": "mxopt.module",
    "model": "mxopt.model",
    "io": "mxopt.io",
    "metric": "mxopt.metric",
    "callback": "mxopt.callback",
    "random": "mxopt.random",
}

__all__ = ["Context", "cpu", "gpu", "current_context", "num_gpus", "__version__", *_SUBMODULES]


def __getattr__(name: str) -> ModuleType:
    try:
        path = _SUBMODULES[name]
    except KeyError:
        raise AttributeError(f"module 'mxopt' has no attribute {name!r}") from None
    module = importlib.import_module(path)
    globals()[name] = module
    return module


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_SUBMODULES))
