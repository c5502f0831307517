"""The fused CPU fast path for optimizer updates (SGD, momentum SGD, Adam).

``Optimizer._apply`` calls :func:`try_step` when the fast path is enabled
(``Optimizer(fused=...)``, default on unless ``MXOPT_FUSED=0``). Kernels are C with OpenMP,
compiled lazily on first use into ``$MXOPT_CACHE_DIR`` (default ``~/.cache/mxopt``); see
docs/fast-path.md. Anything the kernels do not take (CUDA tensors, float16/bfloat16,
row-sparse gradients, non-contiguous tensors, multi-precision states) goes through the
reference path unchanged.

>>> import torch, mxopt as mx
>>> opt = mx.optimizer.SGD(learning_rate=0.1, momentum=0.9)  # fused automatically
>>> ref = mx.optimizer.SGD(learning_rate=0.1, momentum=0.9, fused=False)
"""

from __future__ import annotations

from . import adam as _adam  # noqa: F401  (registers the rule)
from . import sgd as _sgd  # noqa: F401  (registers the rule)
from .engine import enabled, try_step

__all__ = ["enabled", "try_step"]
