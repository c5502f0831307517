"""``Loss``: the mean of a network's loss outputs (also registered as 'torch' and 'caffe')."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .base import EvalMetric, to_numpy
from .registry import register

__all__ = ["Loss", "Torch", "Caffe"]

Names = Sequence[str] | None


@register
class Loss(EvalMetric):
    r"""Mean of all loss values: :math:`\sum \text{pred} / \#\text{elements}`; labels ignored.

    >>> import torch, mxopt as mx
    >>> m = mx.metric.Loss()
    >>> m.update(None, [torch.tensor([1., 2., 3.])])
    >>> m.get()
    ('loss', 2.0)
    """

    def __init__(
        self, name: str = "loss", output_names: Names = None, label_names: Names = None
    ) -> None:
        super().__init__(
            name, output_names=output_names, label_names=label_names, has_global_stats=True
        )

    def update(self, _: Any, preds: Any) -> None:
        if not isinstance(preds, (list, tuple)):
            preds = [preds]
        for pred in preds:
            pred = to_numpy(pred)
            # summed in the output's dtype (float32), as MXNet's ndarray.sum
            self._add(float(pred.sum()), pred.size)


@register
class Torch(Loss):
    """:class:`Loss` named ``'torch'`` (kept for MXNet compatibility)."""

    def __init__(
        self, name: str = "torch", output_names: Names = None, label_names: Names = None
    ) -> None:
        super().__init__(name, output_names, label_names)


@register
class Caffe(Loss):
    """:class:`Loss` named ``'caffe'`` (kept for MXNet compatibility)."""

    def __init__(
        self, name: str = "caffe", output_names: Names = None, label_names: Names = None
    ) -> None:
        super().__init__(name, output_names, label_names)
