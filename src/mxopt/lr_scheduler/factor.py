"""``FactorScheduler``: multiply the rate by ``factor`` every ``step`` updates."""

from __future__ import annotations

import logging
from typing import Any

from .base import LRScheduler, check_real

__all__ = ["FactorScheduler"]


class FactorScheduler(LRScheduler):
    r"""Decay the rate by ``factor`` once every ``step`` updates, never below ``stop_factor_lr``.

    For ``n >= warmup_steps`` (warmup as in :class:`LRScheduler`), with
    :math:`k(n) = \max(0, \lceil n / \mathrm{step} \rceil - 1)` decays (the first one at
    ``n = step + 1``, as MXNet 1.9.1 does; its docstring's ``floor(n/step)`` is wrong):

    .. math::
        lr_0 = \mathrm{base\_lr}, \qquad
        lr_j = \max'(lr_{j-1} \cdot \mathrm{factor},\ \mathrm{stop\_factor\_lr}), \qquad
        lr(n) = lr_{k(n)}

    where :math:`\max'(x, s)` is ``s`` when ``x < s`` else ``x``. The product is taken one
    factor at a time in double precision (not ``factor ** k``), exactly as MXNet, so the
    values match bit for bit. ``k`` counts decays from update 0, not from the end of warmup.

    Unlike MXNet, the scheduler does not change itself when called: ``base_lr`` stays the
    starting rate and ``sched(n)`` is the same in any call order (the last result is cached,
    so in-order calls cost O(1)). Setting ``base_lr`` (as an optimizer with a
    ``learning_rate`` does) restarts the decay from the new value; warmup still ends at the
    constructor's ``base_lr``. Each decay is logged once with ``logging.info`` on the root
    logger, in MXNet's words.

    Args:
        step: updates between decays, a number ``>= 1``.
        factor: the multiplier, ``<= 1`` (default 1: no decay).
        stop_factor_lr: the floor (default 1e-8).
        base_lr, warmup_steps, warmup_begin_lr, warmup_mode: see :class:`LRScheduler`.

    Example:
        >>> s = FactorScheduler(step=3, factor=0.5, base_lr=1.0)
        >>> [s(n) for n in range(8)]
        [1.0, 1.0, 1.0, 1.0, 0.5, 0.5, 0.5, 0.25]
    """

    def __init__(
        self,
        step: float,
        factor: float = 1,
        stop_factor_lr: float = 1e-8,
        base_lr: float = 0.01,
        warmup_steps: int = 0,
        warmup_begin_lr: float = 0,
        warmup_mode: str = "linear",
    ) -> None:
        super().__init__(base_lr, warmup_steps, warmup_begin_lr, warmup_mode)
        check_real("step", step)
        if step < 1:
            raise ValueError("Schedule step must be greater or equal than 1 round")
        check_real("factor", factor)
        if factor > 1.0:
            raise ValueError("Factor must be no more than 1 to make lr reduce")
        check_real("stop_factor_lr", stop_factor_lr)
        self.step = step
        self.factor = float(factor)
        self.stop_factor_lr = float(stop_factor_lr)
        self._key: tuple[Any, ...] | None = None
        self._logged = 0  # decays already logged (each is logged once)

    def _restart(self, key: tuple[Any, ...]) -> None:
        self._key = key
        self._count: float = 0  # MXNet's `count`: the update count of the last decay
        self._decays = 0
        self._lr = self.base_lr

    def __call__(self, num_update: int) -> float:
        if num_update < self.warmup_steps:
            return self.get_warmup_lr(num_update)
        key = (self.base_lr, self.factor, self.step, self.stop_factor_lr)
        if key != self._key or (self._decays and num_update <= self._count):
            self._restart(key)  # parameters changed or n went back: replay from update 0
        step, factor, stop = self.step, self.factor, self.stop_factor_lr
        while num_update > self._count + step:
            self._count += step
            self._decays += 1
            lr = self._lr * factor
            clamped = lr < stop
            if clamped:
                lr = stop
            self._lr = lr
            if self._decays > self._logged:
                self._logged = self._decays
                if clamped:
                    logging.info(
                        "Update[%d]: now learning rate arrived at %0.5e, will not "
                        "change in the future",
                        num_update,
                        lr,
                    )
                else:
                    logging.info("Update[%d]: Change learning rate to %0.5e", num_update, lr)
        return float(self._lr)

    def boundaries(self, num_updates: int) -> list[float]:
        """Updates after which a decay applies: ``step, 2*step, ...`` (at most 200)."""
        out: list[float] = []
        count = self.step
        while count < num_updates and len(out) < 200:
            out.append(max(count, self.warmup_steps))
            count += self.step
        return sorted(set(out))
