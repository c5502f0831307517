"""``CompositeEvalMetric``: several metrics updated and reported together."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Mapping, Sequence
from typing import Any

from .base import EvalMetric
from .registry import alias, create, register

__all__ = ["CompositeEvalMetric"]


@register
@alias("composite")
class CompositeEvalMetric(EvalMetric):
    """A list of metrics: ``update`` feeds all of them, ``get`` returns lists of names/values.

    ``mx.metric.create(['acc', 'ce'])`` builds one.

    >>> import torch, mxopt as mx
    >>> m = mx.metric.create(['acc', 'mse'])
    >>> m.update([torch.tensor([1.])], [torch.tensor([[0.0, 1.0]])])
    >>> m.get_name_value()[0]
    ('accuracy', 1.0)
    """

    def __init__(
        self,
        metrics: Sequence[Any] | None = None,
        name: str = "composite",
        output_names: Sequence[str] | None = None,
        label_names: Sequence[str] | None = None,
    ) -> None:
        self.metrics: list[EvalMetric] = [create(m) for m in (metrics or [])]
        super().__init__(
            name, output_names=output_names, label_names=label_names, has_global_stats=True
        )

    def add(self, metric: Any) -> None:
        """Append a metric (anything ``create`` accepts)."""
        self.metrics.append(create(metric))

    def get_metric(self, index: int) -> EvalMetric:
        """The child metric at ``index``."""
        try:
            return self.metrics[index]
        except IndexError:
            raise ValueError(
                f"Metric index {index} is out of range 0 and {len(self.metrics)}"
            ) from None

    def update_dict(self, labels: Mapping[str, Any], preds: Mapping[str, Any]) -> None:
        if self.label_names is not None:
            labels = OrderedDict((k, v) for k, v in labels.items() if k in self.label_names)
        if self.output_names is not None:
            preds = OrderedDict((k, v) for k, v in preds.items() if k in self.output_names)
        for metric in self.metrics:
            metric.update_dict(labels, preds)

    def update(self, labels: Any, preds: Any) -> None:
        for metric in self.metrics:
            metric.update(labels, preds)

    def reset(self) -> None:
        for metric in getattr(self, "metrics", []):
            metric.reset()

    def reset_local(self) -> None:
        for metric in self.metrics:
            metric.reset_local()

    @staticmethod
    def _collect(results: list[tuple[Any, Any]]) -> tuple[list[str], list[float]]:
        names: list[str] = []
        values: list[float] = []
        for name, value in results:
            names.extend(name if isinstance(name, list) else [name])
            values.extend(value if isinstance(value, list) else [value])
        return names, values

    def get(self) -> tuple[list[str], list[float]]:
        return self._collect([m.get() for m in self.metrics])

    def get_global(self) -> tuple[list[str], list[float]]:
        return self._collect([m.get_global() for m in self.metrics])

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config["metrics"] = [m.get_config() for m in self.metrics]
        return config
