"""``MultiFactorScheduler``: multiply the rate by ``factor`` after each listed step."""

from __future__ import annotations

import bisect
import logging
from collections.abc import Sequence
from typing import Any

from .base import LRScheduler, SchedulerTypeError, SchedulerValueError, check_real

__all__ = ["MultiFactorScheduler"]


class MultiFactorScheduler(LRScheduler):
    r"""Decay the rate by ``factor`` after each update count listed in ``step``.

    For ``n >= warmup_steps``, with :math:`k(n) = \#\{i : n > \mathrm{step}_i\}` (strictly
    greater, as MXNet 1.9.1 computes; its docstring's ``step[k] <= n`` is wrong):

    .. math::
        lr(n) = (\cdots((\mathrm{base\_lr} \cdot f) \cdot f) \cdots) \cdot f
        \quad (k(n) \text{ factors, multiplied one at a time in double})

    A pure function of ``n`` (MXNet's version changes itself when called); setting
    ``base_lr`` restarts the decay from the new value, warmup still ends at the constructor's
    ``base_lr``. Each decay is logged once (root logger, MXNet's words).

    Args:
        step: a non-empty, strictly increasing list of update counts, each ``>= 1``.
            (MXNet requires a ``list``; a tuple is accepted here.)
        factor: the multiplier, ``<= 1`` (default 1).
        base_lr, warmup_steps, warmup_begin_lr, warmup_mode: see :class:`LRScheduler`.

    Example:
        >>> s = MultiFactorScheduler(step=[2, 5], factor=0.1, base_lr=1.0)
        >>> [round(s(n), 6) for n in range(8)]
        [1.0, 1.0, 1.0, 0.1, 0.1, 0.1, 0.01, 0.01]
    """

    def __init__(
        self,
        step: Sequence[float],
        factor: float = 1,
        base_lr: float = 0.01,
        warmup_steps: int = 0,
        warmup_begin_lr: float = 0,
        warmup_mode: str = "linear",
    ) -> None:
        super().__init__(base_lr, warmup_steps, warmup_begin_lr, warmup_mode)
        allowed = "a non-empty list of strictly increasing update counts >= 1"
        if not isinstance(step, (list, tuple)):
            raise SchedulerTypeError(f"step must be {allowed}, got {type(step).__name__}")
        if len(step) < 1:
            raise SchedulerValueError(f"step must be {allowed}, got an empty list")
        for i, s in enumerate(step):
            check_real(f"step[{i}]", s)
            if i != 0 and step[i] <= step[i - 1]:
                raise ValueError("Schedule step must be an increasing integer list")
            if s < 1:
                raise ValueError("Schedule step must be greater or equal than 1 round")
        check_real("factor", factor)
        if factor > 1.0:
            raise ValueError("Factor must be no more than 1 to make lr reduce")
        self.step = list(step)
        self.factor = float(factor)
        self._key: tuple[Any, ...] | None = None
        self._steps: list[float] = []
        self._rates: list[float] = []
        self._logged = 0

    def __call__(self, num_update: int) -> float:
        if num_update < self.warmup_steps:
            return self.get_warmup_lr(num_update)
        key = (self.base_lr, self.factor)
        if key != self._key or self.step != self._steps:
            self._key, self._steps = key, list(self.step)
            rates = [self.base_lr]
            for _ in self._steps:
                rates.append(rates[-1] * self.factor)
            self._rates = rates
        k = bisect.bisect_left(self._steps, num_update)  # number of steps s with n > s
        if k > self._logged:
            for j in range(self._logged + 1, k + 1):
                logging.info(
                    "Update[%d]: Change learning rate to %0.5e", num_update, self._rates[j]
                )
            self._logged = k
        return float(self._rates[k])

    def boundaries(self, num_updates: int) -> list[float]:
        """The listed steps (after which a decay applies) inside ``[0, num_updates]``."""
        return sorted({max(s, self.warmup_steps) for s in self.step if s < num_updates})
