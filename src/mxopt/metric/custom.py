"""``CustomMetric`` and ``np``: metrics from a user function ``feval(label, pred)``."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy

from .base import EvalMetric, check_label_shapes, to_numpy
from .registry import register

__all__ = ["CustomMetric", "np"]

Feval = Callable[[Any, Any], Any]


def _scalar(x: Any) -> Any:
    # NumPy scalars become Python numbers so the sums accumulate in float64 (as in MXNet,
    # where NumPy 1.x promoted ``0.0 + numpy.float32`` to float64)
    if isinstance(x, numpy.generic):
        return x.item()
    return x


@register
class CustomMetric(EvalMetric):
    """A metric computed by ``feval(label, pred)`` on NumPy arrays, one call per pair.

    ``feval`` returns either a value (added with count 1) or a ``(sum, count)`` tuple. The
    name defaults to ``feval.__name__`` (``'custom(<lambda>)'`` for lambdas). With
    ``allow_extra_outputs=True`` the numbers of labels and predictions may differ (pairs are
    zipped).

    >>> import torch, mxopt as mx
    >>> m = mx.metric.create(lambda label, pred: float((label == pred.argmax(1)).mean()))
    >>> m.update([torch.tensor([1.])], [torch.tensor([[0.2, 0.8]])])
    >>> m.get()
    ('custom(<lambda>)', 1.0)
    """

    def __init__(
        self,
        feval: Feval,
        name: str | None = None,
        allow_extra_outputs: bool = False,
        output_names: Sequence[str] | None = None,
        label_names: Sequence[str] | None = None,
    ) -> None:
        if not callable(feval):
            raise TypeError(f"feval must be callable, got {type(feval).__name__}")
        if name is None:
            name = getattr(feval, "__name__", type(feval).__name__)
            if "<" in name:
                name = f"custom({name})"
        super().__init__(
            name,
            feval=feval,
            allow_extra_outputs=allow_extra_outputs,
            output_names=output_names,
            label_names=label_names,
            has_global_stats=True,
        )
        self._feval = feval
        self._allow_extra_outputs = allow_extra_outputs

    def update(self, labels: Any, preds: Any) -> None:
        if not self._allow_extra_outputs:
            labels, preds = check_label_shapes(labels, preds, True)
        for pred, label in zip(preds, labels):
            result = self._feval(to_numpy(label), to_numpy(pred))
            if isinstance(result, tuple):
                total, count = result
                self._add(_scalar(total), _scalar(count))
            else:
                self._add(_scalar(result), 1)

    def get_config(self) -> dict[str, Any]:
        raise NotImplementedError("CustomMetric cannot be serialized")


def np(
    numpy_feval: Feval, name: str | None = None, allow_extra_outputs: bool = False
) -> CustomMetric:
    """A :class:`CustomMetric` from a function of NumPy arrays (MXNet's ``mx.metric.np``).

    >>> import torch, mxopt as mx
    >>> def mean_abs(label, pred):
    ...     return abs(label - pred).mean()
    >>> m = mx.metric.np(mean_abs)
    >>> m.update([torch.tensor([1.])], [torch.tensor([3.])])
    >>> m.get()
    ('mean_abs', 2.0)
    """

    def feval(label: Any, pred: Any) -> Any:
        return numpy_feval(label, pred)

    feval.__name__ = numpy_feval.__name__
    return CustomMetric(feval, name, allow_extra_outputs)
