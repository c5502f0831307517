"""Classification metrics: ``Accuracy``, ``TopKAccuracy``, ``F1``, ``MCC``."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from .base import EvalMetric, check_label_shapes, to_numpy
from .registry import alias, register

__all__ = ["Accuracy", "TopKAccuracy", "F1", "MCC"]

Names = Sequence[str] | None


@register
@alias("acc")
class Accuracy(EvalMetric):
    r"""Fraction of samples whose predicted class equals the label.

    When a prediction's shape differs from its label's, the predicted class is
    ``argmax(pred, axis)``; otherwise the prediction is used as is. Both are then cast to
    int32 (truncation toward zero: label 1.7 is class 1) and compared element-wise:
    :math:`\text{acc} = \sum [\hat y_i = y_i] / n`. Default name ``'accuracy'``, axis 1.

    >>> import torch, mxopt as mx
    >>> m = mx.metric.Accuracy()
    >>> m.update([torch.tensor([1., 0.])], [torch.tensor([[0.3, 0.7], [0.6, 0.4]])])
    >>> m.get()
    ('accuracy', 1.0)
    """

    def __init__(
        self,
        axis: int = 1,
        name: str = "accuracy",
        output_names: Names = None,
        label_names: Names = None,
    ) -> None:
        super().__init__(
            name,
            axis=axis,
            output_names=output_names,
            label_names=label_names,
            has_global_stats=True,
        )
        self.axis = axis

    def update(self, labels: Any, preds: Any) -> None:
        labels, preds = check_label_shapes(labels, preds, True)
        for label, pred in zip(labels, preds):
            pred = to_numpy(pred)
            label = to_numpy(label)
            if pred.shape != label.shape:
                pred = np.argmax(pred, axis=self.axis)
            pred = pred.astype(np.int32).ravel()
            label = label.astype(np.int32).ravel()
            check_label_shapes(label, pred)
            self._add(int((pred == label).sum()), len(pred))


@register
@alias("top_k_accuracy", "top_k_acc")
class TopKAccuracy(EvalMetric):
    r"""Fraction of samples whose label is among the ``top_k`` highest-scored classes.

    Predictions are ``(n, classes)`` (or 1-D) scores; labels are cast to int32. The name is
    ``'top_k_accuracy_<k>'``; ``top_k`` must be > 1 (use :class:`Accuracy` for 1) and at most
    the number of classes. Quirk kept from MXNet: for 1-D predictions the hits are added to
    the local sum only, so the global value counts them as misses.

    >>> import torch, mxopt as mx
    >>> m = mx.metric.create('top_k_accuracy', top_k=2)
    >>> m.update([torch.tensor([2.])], [torch.tensor([[0.1, 0.5, 0.4]])])
    >>> m.get()
    ('top_k_accuracy_2', 1.0)
    """

    def __init__(
        self,
        top_k: int = 1,
        name: str = "top_k_accuracy",
        output_names: Names = None,
        label_names: Names = None,
    ) -> None:
        if isinstance(top_k, bool) or not isinstance(top_k, int) or top_k <= 1:
            raise ValueError(f"top_k must be an int > 1 (use Accuracy for top_k=1), got {top_k!r}")
        super().__init__(
            name,
            top_k=top_k,
            output_names=output_names,
            label_names=label_names,
            has_global_stats=True,
        )
        self.top_k = top_k
        self.name += f"_{top_k}"

    def update(self, labels: Any, preds: Any) -> None:
        labels, preds = check_label_shapes(labels, preds, True)
        for label, pred in zip(labels, preds):
            pred = to_numpy(pred).astype(np.float32)
            if pred.ndim > 2:
                raise ValueError(f"preds must have at most 2 dims, got shape {pred.shape}")
            if pred.shape[-1] < self.top_k:
                raise ValueError(
                    f"top_k={self.top_k} exceeds the number of classes {pred.shape[-1]}"
                )
            ranked = np.argpartition(pred, -self.top_k)
            label = to_numpy(label).astype(np.int32)
            check_label_shapes(label, ranked)
            if ranked.ndim == 1:
                # MXNet adds 1-D hits to the local sum only
                self.sum_metric += int((ranked.ravel() == label.ravel()).sum())
            else:
                classes = ranked.shape[1]
                hits = sum(
                    int((ranked[:, classes - 1 - j] == label.ravel()).sum())
                    for j in range(self.top_k)
                )
                self.sum_metric += hits
                self.global_sum_metric += hits
            self.num_inst += ranked.shape[0]
            self.global_num_inst += ranked.shape[0]


class _BinaryCounts:
    """Confusion counts (local and global) of a binary classifier."""

    _FIELDS = ("tp", "fp", "fn", "tn")

    def __init__(self) -> None:
        self.local = dict.fromkeys(self._FIELDS, 0)
        self.total = dict.fromkeys(self._FIELDS, 0)

    def update(self, label: Any, pred: Any, owner: str) -> None:
        pred = to_numpy(pred)
        label = to_numpy(label).astype(np.int32)
        if pred.ndim != 2:
            raise ValueError(f"{owner} preds must be (n, 2) class scores, got shape {pred.shape}")
        check_label_shapes(label, pred)
        if len(np.unique(label)) > 2:
            raise ValueError(f"{owner} currently only supports binary classification.")
        pred_pos = np.argmax(pred, axis=1) == 1
        label_pos = label.ravel() == 1
        counts = {
            "tp": int((pred_pos & label_pos).sum()),
            "fp": int((pred_pos & ~label_pos).sum()),
            "fn": int((~pred_pos & label_pos).sum()),
            "tn": int((~pred_pos & ~label_pos).sum()),
        }
        for key, value in counts.items():
            self.local[key] += value
            self.total[key] += value

    def reset_local(self) -> None:
        self.local = dict.fromkeys(self._FIELDS, 0)

    def reset(self) -> None:
        self.reset_local()
        self.total = dict.fromkeys(self._FIELDS, 0)

    @staticmethod
    def examples(c: dict[str, int]) -> int:
        return c["tp"] + c["fp"] + c["fn"] + c["tn"]

    @staticmethod
    def fscore(c: dict[str, int]) -> float:
        precision = c["tp"] / (c["tp"] + c["fp"]) if c["tp"] + c["fp"] > 0 else 0.0
        recall = c["tp"] / (c["tp"] + c["fn"]) if c["tp"] + c["fn"] > 0 else 0.0
        if precision + recall > 0:
            return 2 * precision * recall / (precision + recall)
        return 0.0

    @classmethod
    def mcc(cls, c: dict[str, int]) -> float:
        if not cls.examples(c):
            return 0.0
        tp, fp, fn, tn = (float(c[k]) for k in cls._FIELDS)
        denom = 1.0
        for term in (tp + fp, tp + fn, tn + fp, tn + fn):
            if term != 0.0:  # zero factors are left out, as MXNet does
                denom *= term
        return (tp * tn - fp * fn) / math.sqrt(denom)


class _BinaryMetric(EvalMetric):
    """Shared bookkeeping of F1 and MCC: macro (mean over updates) or micro (pooled counts)."""

    def __init__(self, name: str, output_names: Names, label_names: Names, average: str) -> None:
        if average not in ("macro", "micro"):
            raise ValueError(f"average must be 'macro' or 'micro', got {average!r}")
        self.average = average
        self._counts = _BinaryCounts()
        super().__init__(
            name, output_names=output_names, label_names=label_names, has_global_stats=True
        )

    def _score(self, counts: dict[str, int]) -> float:
        raise NotImplementedError

    def update(self, labels: Any, preds: Any) -> None:
        labels, preds = check_label_shapes(labels, preds, True)
        for label, pred in zip(labels, preds):
            self._counts.update(label, pred, type(self).__name__)
        c = self._counts
        if self.average == "macro":
            # one score per update call, then the counts start over (global ones too)
            self._add(self._score(c.local), 1)
            self._counts.reset()
        else:
            self.sum_metric = self._score(c.local) * c.examples(c.local)
            self.global_sum_metric = self._score(c.total) * c.examples(c.total)
            self.num_inst = c.examples(c.local)
            self.global_num_inst = c.examples(c.total)

    def reset(self) -> None:
        super().reset()
        self._counts.reset()

    def reset_local(self) -> None:
        super().reset_local()
        self._counts.reset_local()


@register
class F1(_BinaryMetric):
    r"""Binary F1 score :math:`2PR/(P+R)` with class 1 (``argmax(pred, 1) == 1``) positive.

    ``average='macro'`` (default): the F1 of each ``update`` call, averaged over calls.
    ``average='micro'``: the F1 of the counts pooled over all updates. Precision or recall
    with an empty denominator is 0; labels with more than two distinct values raise
    ``ValueError``.

    >>> import torch, mxopt as mx
    >>> m = mx.metric.F1()
    >>> m.update([torch.tensor([1., 0., 1.])], [torch.tensor([[0.2, 0.8], [0.3, 0.7], [0.9, 0.1]])])
    >>> m.get()
    ('f1', 0.5)
    """

    def __init__(
        self,
        name: str = "f1",
        output_names: Names = None,
        label_names: Names = None,
        average: str = "macro",
    ) -> None:
        super().__init__(name, output_names, label_names, average)

    def _score(self, counts: dict[str, int]) -> float:
        return _BinaryCounts.fscore(counts)


@register
class MCC(_BinaryMetric):
    r"""Matthews correlation coefficient of a binary classifier.

    :math:`(TP\,TN - FP\,FN) / \sqrt{\prod \text{nonzero of } (TP+FP)(TP+FN)(TN+FP)(TN+FN)}`
    (MXNet leaves zero factors out of the product). ``average`` as in :class:`F1`.

    >>> import torch, mxopt as mx
    >>> m = mx.metric.MCC()
    >>> m.update([torch.tensor([1., 0.])], [torch.tensor([[0.2, 0.8], [0.7, 0.3]])])
    >>> m.get()
    ('mcc', 1.0)
    """

    def __init__(
        self,
        name: str = "mcc",
        output_names: Names = None,
        label_names: Names = None,
        average: str = "macro",
    ) -> None:
        super().__init__(name, output_names, label_names, average)

    def _score(self, counts: dict[str, int]) -> float:
        return _BinaryCounts.mcc(counts)
