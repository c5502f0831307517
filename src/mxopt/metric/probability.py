"""Probability metrics: ``CrossEntropy``, ``NegativeLogLikelihood``, ``Perplexity``."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from .base import EvalMetric, check_label_shapes, to_numpy
from .registry import alias, register

__all__ = ["CrossEntropy", "NegativeLogLikelihood", "Perplexity"]

Names = Sequence[str] | None


class _PickedLogMetric(EvalMetric):
    """``sum_i -log(p[i, int64(label_i)] + eps)`` per sample (computed in the preds' dtype)."""

    def __init__(self, eps: float, name: str, output_names: Names, label_names: Names) -> None:
        super().__init__(
            name,
            eps=eps,
            output_names=output_names,
            label_names=label_names,
            has_global_stats=True,
        )
        self.eps = eps

    def update(self, labels: Any, preds: Any) -> None:
        labels, preds = check_label_shapes(labels, preds, True)
        for label, pred in zip(labels, preds):
            label = to_numpy(label).ravel()
            pred = to_numpy(pred)
            n = pred.shape[0]
            if label.shape[0] != n:
                raise ValueError(f"labels hold {label.shape[0]} samples but preds hold {n}")
            prob = pred[np.arange(n), label.astype(np.int64)]
            # float32 arithmetic like MXNet's NumPy code (eps is added in float32)
            value = (-np.log(prob + prob.dtype.type(self.eps))).sum()
            self._add(float(value), n)


@register
@alias("ce", "cross-entropy")
class CrossEntropy(_PickedLogMetric):
    r"""Cross-entropy of class probabilities: :math:`\frac1n\sum_i -\log(p_{i,y_i} + \epsilon)`.

    ``preds`` are ``(n, classes)`` probabilities, labels class indices (cast to int64 with
    truncation). ``eps`` defaults to 1e-12; default name ``'cross-entropy'``.

    >>> import torch, mxopt as mx
    >>> m = mx.metric.create('ce')
    >>> m.update([torch.tensor([1.])], [torch.tensor([[0.5, 0.5]])])
    >>> round(m.get()[1], 6)
    0.693147
    """

    def __init__(
        self,
        eps: float = 1e-12,
        name: str = "cross-entropy",
        output_names: Names = None,
        label_names: Names = None,
    ) -> None:
        super().__init__(eps, name, output_names, label_names)


@register
@alias("nll_loss", "nll-loss")
class NegativeLogLikelihood(_PickedLogMetric):
    r"""Negative log-likelihood, :math:`\frac1n\sum_i -\log(p_{i,y_i} + \epsilon)`.

    The same rule as :class:`CrossEntropy`; default name ``'nll-loss'``.

    >>> import torch, mxopt as mx
    >>> m = mx.metric.create('nll_loss')
    >>> m.update([torch.tensor([0.])], [torch.tensor([[0.25, 0.75]])])
    >>> round(m.get()[1], 6)
    1.386294
    """

    def __init__(
        self,
        eps: float = 1e-12,
        name: str = "nll-loss",
        output_names: Names = None,
        label_names: Names = None,
    ) -> None:
        super().__init__(eps, name, output_names, label_names)


@register
class Perplexity(EvalMetric):
    r"""Perplexity :math:`\exp\big(\sum -\log\max(10^{-10}, p_{i,y_i}) / n\big)`.

    The probability of each label is picked along ``axis`` (default -1; label indices are
    cast to int32 and clipped into range). Samples whose label equals ``ignore_label`` are
    left out (``None`` keeps all). Computed in the preds' dtype (float32), as MXNet does.
    ``ignore_label`` is required, as in MXNet.

    >>> import torch, mxopt as mx
    >>> m = mx.metric.Perplexity(ignore_label=None)
    >>> m.update([torch.tensor([0., 1.])], [torch.tensor([[0.5, 0.5], [0.5, 0.5]])])
    >>> round(m.get()[1], 6)
    2.0
    """

    def __init__(
        self,
        ignore_label: float | None,
        axis: int = -1,
        name: str = "perplexity",
        output_names: Names = None,
        label_names: Names = None,
    ) -> None:
        super().__init__(
            name,
            ignore_label=ignore_label,
            output_names=output_names,
            label_names=label_names,
            has_global_stats=True,
        )
        self.ignore_label = ignore_label
        self.axis = axis

    def update(self, labels: Any, preds: Any) -> None:
        if len(labels) != len(preds):
            raise ValueError(f"got {len(labels)} labels but {len(preds)} predictions")
        loss = 0.0
        num = 0.0
        for label, pred in zip(labels, preds):
            label = to_numpy(label)
            pred = to_numpy(pred)
            axis = self.axis % pred.ndim
            if label.size * pred.shape[axis] != pred.size:
                raise ValueError(f"shape mismatch: labels {label.shape} vs. preds {pred.shape}")
            out_shape = pred.shape[:axis] + pred.shape[axis + 1 :]
            label = label.reshape(out_shape)
            index = np.clip(label.astype(np.int32), 0, pred.shape[axis] - 1)
            picked = np.take_along_axis(pred, np.expand_dims(index, axis), axis).squeeze(axis)
            if self.ignore_label is not None:
                ignore = (label == self.ignore_label).astype(picked.dtype)
                num -= float(ignore.sum())
                picked = picked * (1 - ignore) + ignore
            floor = picked.dtype.type(1e-10)
            loss -= float(np.log(np.maximum(floor, picked)).sum())
            num += picked.size
        self._add(loss, num)

    def get(self) -> tuple[str, float]:
        if self.num_inst == 0:
            return self.name, float("nan")
        return self.name, math.exp(self.sum_metric / self.num_inst)

    def get_global(self) -> tuple[str, float]:
        if self.global_num_inst == 0:
            return self.name, float("nan")
        return self.name, math.exp(self.global_sum_metric / self.global_num_inst)
