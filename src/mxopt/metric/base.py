"""``EvalMetric``: the local / global running sums every metric keeps."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import torch

__all__ = ["EvalMetric", "check_label_shapes", "to_numpy"]


def to_numpy(x: Any) -> np.ndarray:
    """A NumPy view/copy of a tensor or array (what MXNet's ``asnumpy()`` gives)."""
    if isinstance(x, torch.Tensor):
        x = x.detach()
        if x.dtype == torch.bfloat16:
            x = x.float()
        return x.cpu().numpy()
    return np.asarray(x)


def _is_single(x: Any) -> bool:
    return isinstance(x, (torch.Tensor, np.ndarray))


def check_label_shapes(
    labels: Any, preds: Any, wrap: bool = False, shape: bool = False
) -> tuple[Any, Any]:
    """Check that labels and predictions match in length (or in shape, with ``shape=True``).

    Raises ``ValueError("Shape of labels ... does not match shape of predictions ...")``.
    With ``wrap=True`` a single tensor is wrapped into a one-element list.
    """
    if shape:
        label_shape, pred_shape = tuple(labels.shape), tuple(preds.shape)
    else:
        label_shape, pred_shape = len(labels), len(preds)
    if label_shape != pred_shape:
        raise ValueError(
            f"Shape of labels {label_shape} does not match shape of predictions {pred_shape}"
        )
    if wrap:
        if _is_single(labels):
            labels = [labels]
        if _is_single(preds):
            preds = [preds]
    return labels, preds


class EvalMetric:
    r"""Base class of evaluation metrics.

    A metric keeps two running pairs, *local* (``sum_metric``, ``num_inst``; cleared by
    ``reset_local``, e.g. by ``Speedometer`` every ``frequent`` batches) and *global*
    (``global_sum_metric``, ``global_num_inst``; cleared only by ``reset``). The value is
    ``sum / num`` (NaN when ``num == 0``). ``update(labels, preds)`` takes lists of tensors
    (or single tensors); ``update_dict`` takes ``name -> tensor`` dicts and selects by
    ``output_names`` / ``label_names``.

    >>> import torch, mxopt as mx
    >>> m = mx.metric.create('acc')
    >>> m.update([torch.tensor([0., 1.])], [torch.tensor([[0.9, 0.1], [0.8, 0.2]])])
    >>> m.get()
    ('accuracy', 0.5)
    """

    def __init__(
        self,
        name: str,
        output_names: Sequence[str] | None = None,
        label_names: Sequence[str] | None = None,
        **kwargs: Any,
    ) -> None:
        self.name = str(name)
        self.output_names = output_names
        self.label_names = label_names
        self._has_global_stats = kwargs.pop("has_global_stats", False)
        self._kwargs = kwargs
        self.reset()

    def __str__(self) -> str:
        return f"EvalMetric: {dict(self.get_name_value())}"

    def get_config(self) -> dict[str, Any]:
        """The constructor arguments (``mx.metric.create(**config)`` rebuilds the metric)."""
        config = dict(self._kwargs)
        config.update(
            metric=type(self).__name__,
            name=self.name,
            output_names=self.output_names,
            label_names=self.label_names,
        )
        return config

    def update_dict(self, label: Mapping[str, Any], pred: Mapping[str, Any]) -> None:
        """Update from ``name -> tensor`` dicts (all values, or the configured names)."""
        if self.output_names is not None:
            preds = [pred[name] for name in self.output_names]
        else:
            preds = list(pred.values())
        if self.label_names is not None:
            labels = [label[name] for name in self.label_names]
        else:
            labels = list(label.values())
        self.update(labels, preds)

    def update(self, labels: Any, preds: Any) -> None:
        """Add one batch: ``labels`` and ``preds`` are lists of tensors (or single tensors)."""
        raise NotImplementedError(f"{type(self).__name__} must implement update")

    def _add(self, value: float, count: float) -> None:
        # the same amount goes into the local and the global sums
        self.sum_metric += value
        self.global_sum_metric += value
        self.num_inst += count
        self.global_num_inst += count

    def reset(self) -> None:
        """Clear the local and the global sums."""
        self.num_inst = 0
        self.sum_metric = 0.0
        self.global_num_inst = 0
        self.global_sum_metric = 0.0

    def reset_local(self) -> None:
        """Clear the local sums only."""
        self.num_inst = 0
        self.sum_metric = 0.0

    def get(self) -> tuple[Any, Any]:
        """``(name, local value)``; the value is NaN before any update."""
        if self.num_inst == 0:
            return self.name, float("nan")
        return self.name, self.sum_metric / self.num_inst

    def get_global(self) -> tuple[Any, Any]:
        """``(name, global value)`` (the local value for metrics without global stats)."""
        if not self._has_global_stats:
            return self.get()
        if self.global_num_inst == 0:
            return self.name, float("nan")
        return self.name, self.global_sum_metric / self.global_num_inst

    @staticmethod
    def _pairs(name: Any, value: Any) -> list[tuple[str, float]]:
        names = name if isinstance(name, list) else [name]
        values = value if isinstance(value, list) else [value]
        return list(zip(names, values))

    def get_name_value(self) -> list[tuple[str, float]]:
        """Local values as ``[(name, value), ...]``."""
        return self._pairs(*self.get())

    def get_global_name_value(self) -> list[tuple[str, float]]:
        """Global values as ``[(name, value), ...]``."""
        if not self._has_global_stats:
            return self.get_name_value()
        return self._pairs(*self.get_global())
