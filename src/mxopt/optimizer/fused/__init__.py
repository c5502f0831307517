"""The fused CPU fast path for optimizer updates.

``Optimizer._apply`` calls :func:`try_step` when the fast path is enabled
(``Optimizer(fused=...)``, default on unless ``MXOPT_FUSED=0``). Each optimizer's rule
lives in its own module here: its element-wise C body (:class:`~.codegen.Kernel`) and the
bookkeeping that rounds its scalars. The C source is generated for float32, float64 and
float16/bfloat16-with-float32-master storage and compiled lazily on first use into
``$MXOPT_CACHE_DIR`` (default ``~/.cache/mxopt``); see docs/fast-path.md. Anything the
kernels do not take (CUDA tensors, non-contiguous tensors, unusual state layouts) goes
through the reference path unchanged.

>>> import torch, mxopt as mx
>>> opt = mx.optimizer.SGD(learning_rate=0.1, momentum=0.9)  # fused automatically
>>> ref = mx.optimizer.SGD(learning_rate=0.1, momentum=0.9, fused=False)
"""

from __future__ import annotations

import importlib
import pkgutil

from .engine import enabled, replay_step, rule_for, try_step

__all__ = ["enabled", "replay_step", "rule_for", "try_step"]

_INFRA = {"build", "codegen", "engine", "launch"}
# Every other module in this package is one optimizer's rule and registers itself.
for _mod in pkgutil.iter_modules(__path__):
    if _mod.name not in _INFRA and not _mod.name.startswith("_"):
        importlib.import_module(f"{__name__}.{_mod.name}")
