"""Regression metrics: ``MAE``, ``MSE``, ``RMSE``, ``PearsonCorrelation``."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from .base import EvalMetric, check_label_shapes, to_numpy
from .registry import alias, register

__all__ = ["MAE", "MSE", "RMSE", "PearsonCorrelation"]

Names = Sequence[str] | None


def _as_columns(x: Any) -> np.ndarray:
    x = to_numpy(x)
    return x.reshape(x.shape[0], 1) if x.ndim == 1 else x


class _BatchMeanMetric(EvalMetric):
    """Adds one per-batch statistic per (label, pred) pair and counts 1 for it.

    The epoch value is therefore the mean of batch values, not weighted by batch size.
    """

    _stat: Callable[[np.ndarray], Any]

    def __init__(self, name: str, output_names: Names, label_names: Names) -> None:
        super().__init__(
            name, output_names=output_names, label_names=label_names, has_global_stats=True
        )

    def update(self, labels: Any, preds: Any) -> None:
        labels, preds = check_label_shapes(labels, preds, True)
        for label, pred in zip(labels, preds):
            # computed in the arrays' dtype (float32), as MXNet does with NumPy
            diff = _as_columns(label) - _as_columns(pred)
            self._add(float(type(self)._stat(diff)), 1)


@register
class MAE(_BatchMeanMetric):
    r"""Mean absolute error, averaged per batch: :math:`\frac1B\sum_b \text{mean}|y-\hat y|`.

    1-D labels/predictions are treated as ``(n, 1)``. Default name ``'mae'``.

    >>> import torch, mxopt as mx
    >>> m = mx.metric.MAE()
    >>> m.update([torch.tensor([1., 2.])], [torch.tensor([1.5, 2.5])])
    >>> m.get()
    ('mae', 0.5)
    """

    @staticmethod
    def _stat(diff: np.ndarray) -> Any:
        return np.abs(diff).mean()

    def __init__(
        self, name: str = "mae", output_names: Names = None, label_names: Names = None
    ) -> None:
        super().__init__(name, output_names, label_names)


@register
class MSE(_BatchMeanMetric):
    r"""Mean squared error, averaged per batch: :math:`\frac1B\sum_b \text{mean}(y-\hat y)^2`.

    Each update adds its batch mean and counts 1, so the epoch value is the mean of batch
    means (not weighted by batch size), as in MXNet. Default name ``'mse'``.

    >>> import torch, mxopt as mx
    >>> m = mx.metric.MSE()
    >>> m.update([torch.tensor([1.])], [torch.tensor([3.])])
    >>> m.update([torch.tensor([0., 0., 0.])], [torch.tensor([0., 0., 0.])])
    >>> m.get()
    ('mse', 2.0)
    """

    @staticmethod
    def _stat(diff: np.ndarray) -> Any:
        return (diff**2.0).mean()

    def __init__(
        self, name: str = "mse", output_names: Names = None, label_names: Names = None
    ) -> None:
        super().__init__(name, output_names, label_names)


@register
class RMSE(_BatchMeanMetric):
    r"""Root mean squared error, averaged per batch.

    :math:`\frac1B\sum_b\sqrt{\text{mean}(y-\hat y)^2}`; 1-D inputs are treated as ``(n, 1)``.

    >>> import torch, mxopt as mx
    >>> m = mx.metric.RMSE()
    >>> m.update([torch.tensor([0., 0.])], [torch.tensor([3., -3.])])
    >>> m.get()
    ('rmse', 3.0)
    """

    @staticmethod
    def _stat(diff: np.ndarray) -> Any:
        return np.sqrt((diff**2.0).mean())

    def __init__(
        self, name: str = "rmse", output_names: Names = None, label_names: Names = None
    ) -> None:
        super().__init__(name, output_names, label_names)


@register
@alias("pearsonr")
class PearsonCorrelation(EvalMetric):
    r"""Pearson correlation between flattened predictions and labels.

    ``average='macro'`` (default): the correlation of each (label, pred) pair, averaged.
    ``average='micro'``: the correlation of everything seen, from streaming sums.

    >>> import torch, mxopt as mx
    >>> m = mx.metric.create('pearsonr')
    >>> m.update([torch.tensor([1., 2., 3.])], [torch.tensor([2., 4., 6.])])
    >>> round(m.get()[1], 6)
    1.0
    """

    def __init__(
        self,
        name: str = "pearsonr",
        output_names: Names = None,
        label_names: Names = None,
        average: str = "macro",
    ) -> None:
        if average not in ("macro", "micro"):
            raise ValueError(f"average must be 'macro' or 'micro', got {average!r}")
        self.average = average
        super().__init__(
            name, output_names=output_names, label_names=label_names, has_global_stats=True
        )

    def reset(self) -> None:
        super().reset()
        # streaming statistics for 'micro': counts, means, sums of squared deviations, cov
        self._n = 0
        self._mean_l = self._mean_p = 0.0
        self._sse_l = self._sse_p = 0.0
        self._cov = 0.0

    @staticmethod
    def _welford(values: np.ndarray, count: int, mean: float, m2: float) -> tuple:
        count += len(values)
        delta = values - mean
        mean += float(np.sum(delta / count))
        m2 += float(np.sum(delta * (values - mean)))
        return count, mean, m2

    def update(self, labels: Any, preds: Any) -> None:
        labels, preds = check_label_shapes(labels, preds, True)
        for label, pred in zip(labels, preds):
            check_label_shapes(label, pred, False, True)
            label = to_numpy(label).ravel().astype(np.float64)
            pred = to_numpy(pred).ravel().astype(np.float64)
            if self.average == "macro":
                self._add(float(np.corrcoef(pred, label)[0, 1]), 1)
                continue
            self._add(0.0, 1)
            n, self._mean_l, self._sse_l = self._welford(label, self._n, self._mean_l, self._sse_l)
            self._cov += float(np.sum((label - self._mean_l) * (pred - self._mean_p)))
            _, self._mean_p, self._sse_p = self._welford(pred, self._n, self._mean_p, self._sse_p)
            self._n = n

    def get(self) -> tuple[str, float]:
        if self.num_inst == 0:
            return self.name, float("nan")
        if self.average == "macro":
            return self.name, self.sum_metric / self.num_inst
        n = self._n
        denom = (n - 1) * np.sqrt(self._sse_p / (n - 1)) * np.sqrt(self._sse_l / (n - 1))
        return self.name, float(self._cov / denom)
