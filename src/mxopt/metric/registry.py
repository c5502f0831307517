"""Metric registry: ``register``, ``alias`` and ``create`` (case-insensitive names)."""

from __future__ import annotations

import json
import warnings
from collections.abc import Callable
from typing import Any, TypeVar

from .base import EvalMetric

__all__ = ["register", "alias", "create", "registered_names"]

_REGISTRY: dict[str, type[EvalMetric]] = {}
M = TypeVar("M", bound=type[EvalMetric])


def register(klass: M, name: str | None = None) -> M:
    """Register a metric class under ``name`` (default: its class name), lower-cased."""
    if not (isinstance(klass, type) and issubclass(klass, EvalMetric)):
        raise TypeError(f"klass must be a subclass of EvalMetric, got {klass!r}")
    key = (name or klass.__name__).lower()
    if key in _REGISTRY and _REGISTRY[key] is not klass:
        old = _REGISTRY[key]
        warnings.warn(
            f"New metric {klass.__module__}.{klass.__name__} registered with name {key} is "
            f"overriding existing metric {old.__module__}.{old.__name__}",
            UserWarning,
            stacklevel=2,
        )
    _REGISTRY[key] = klass
    return klass


def alias(*aliases: str) -> Callable[[M], M]:
    """Class decorator registering extra names for a metric."""

    def decorate(klass: M) -> M:
        for name in aliases:
            register(klass, name)
        return klass

    return decorate


def registered_names() -> list[str]:
    """Every name ``create`` accepts, sorted."""
    return sorted(_REGISTRY)


def create(metric: Any, *args: Any, **kwargs: Any) -> EvalMetric:
    """Create a metric from a name, an instance, a callable, a list, a dict or a JSON string.

    * a callable ``feval(label, pred)`` -> :class:`CustomMetric`;
    * a list -> :class:`CompositeEvalMetric` of ``create(item, *args, **kwargs)`` for each item;
    * an ``EvalMetric`` instance -> itself (no extra arguments allowed);
    * a dict -> ``create(**dict)`` (the key ``'metric'`` names the class);
    * a string: ``'[name, {kwargs}]'`` / ``'{"metric": name, ...}'`` JSON, or a registered
      name, case-insensitive (``'acc'``, ``'accuracy'``, ``'ce'``, ``'top_k_accuracy'``,
      ``'f1'``, ``'mse'``, ``'perplexity'``, ...).

    Unknown names raise ``ValueError`` listing the registered names.

    >>> import mxopt as mx
    >>> mx.metric.create('ACC').name, mx.metric.create('top_k_acc', top_k=5).name
    ('accuracy', 'top_k_accuracy_5')
    """
    from .composite import CompositeEvalMetric
    from .custom import CustomMetric

    if isinstance(metric, EvalMetric):
        if args or kwargs:
            raise ValueError("metric is already an instance: extra arguments are not allowed")
        return metric
    if callable(metric):
        return CustomMetric(metric, *args, **kwargs)
    if isinstance(metric, list):
        composite = CompositeEvalMetric()
        for child in metric:
            composite.add(create(child, *args, **kwargs))
        return composite
    if isinstance(metric, dict):
        config = dict(metric)
        if "metric" not in config:
            raise ValueError(f"a metric config dict needs a 'metric' key, got {sorted(config)}")
        return create(config.pop("metric"), *args, **config, **kwargs)
    if not isinstance(metric, str):
        raise TypeError(
            "metric must be a name, an EvalMetric, a callable, a list or a dict, "
            f"got {type(metric).__name__}"
        )
    if metric.startswith("["):
        name, config = json.loads(metric)
        return create(name, *args, **config, **kwargs)
    if metric.startswith("{"):
        return create(json.loads(metric), *args, **kwargs)
    try:
        klass = _REGISTRY[metric.lower()]
    except KeyError:
        raise ValueError(
            f"metric {metric!r} is not registered; known names: {', '.join(registered_names())}"
        ) from None
    return klass(*args, **kwargs)
