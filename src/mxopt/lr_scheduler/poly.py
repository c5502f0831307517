"""``PolyScheduler``: polynomial decay from ``base_lr`` to ``final_lr`` at ``max_update``."""

from __future__ import annotations

from typing import Any

from .base import LRScheduler, check_int, check_real

__all__ = ["PolyScheduler"]


class PolyScheduler(LRScheduler):
    r"""Polynomial decay after warmup.

    With :math:`w` = ``warmup_steps``, :math:`T` = ``max_update`` and :math:`b_0` the
    constructor's ``base_lr`` (kept in ``base_lr_orig``), for :math:`w \le n \le T`:

    .. math::
        lr(n) = \mathrm{final\_lr} + (b_0 - \mathrm{final\_lr})
                \left(1 - \frac{n - w}{T - w}\right)^{\mathrm{pwr}}

    and for :math:`n > T` the value at :math:`n = T` (``final_lr`` when ``pwr > 0``). If
    ``T < w`` the rate after warmup is the ``base_lr`` attribute. If ``T == w`` the rate after
    warmup is ``final_lr`` (MXNet divides by zero there).

    Differences from MXNet 1.9.1: MXNet's scheduler holds the *last value it computed* after
    ``max_update`` (``final_lr`` only if ``n == max_update`` was asked for); this one is a
    pure function of ``n``. Like MXNet, the decay ignores later changes of ``base_lr`` (an
    optimizer's ``learning_rate`` has no effect), but ``base_lr`` is not overwritten by calls.

    Args:
        max_update: the update count where the decay reaches ``final_lr``, an ``int >= 1``.
        base_lr: the starting rate (default 0.01).
        pwr: the power, a number ``>= 0`` (default 2).
        final_lr: the rate at ``max_update`` (default 0).
        warmup_steps, warmup_begin_lr, warmup_mode: see :class:`LRScheduler`.

    Example:
        >>> s = PolyScheduler(max_update=10, base_lr=1.0, pwr=2)
        >>> [round(s(n), 6) for n in (0, 1, 5, 10, 20)]
        [1.0, 0.81, 0.25, 0.0, 0.0]
    """

    def __init__(
        self,
        max_update: int,
        base_lr: float = 0.01,
        pwr: float = 2,
        final_lr: float = 0,
        warmup_steps: int = 0,
        warmup_begin_lr: float = 0,
        warmup_mode: str = "linear",
    ) -> None:
        super().__init__(base_lr, warmup_steps, warmup_begin_lr, warmup_mode)
        check_int("max_update", max_update)
        if max_update < 1:
            raise ValueError("maximum number of updates must be strictly positive")
        check_real("pwr", pwr)
        if pwr < 0:
            raise ValueError(f"pwr must be >= 0, got {pwr!r}")
        check_real("final_lr", final_lr)
        self.power = pwr
        self.base_lr_orig = float(base_lr)
        self.max_update = int(max_update)
        self.final_lr = float(final_lr)
        self.max_steps = self.max_update - self.warmup_steps

    def _init_kwargs(self) -> dict[str, Any]:
        return {
            "max_update": self.max_update,
            "base_lr": self.base_lr_orig,
            "pwr": self.power,
            "final_lr": self.final_lr,
            "warmup_steps": self.warmup_steps,
            "warmup_begin_lr": self.warmup_begin_lr,
            "warmup_mode": self.warmup_mode,
        }

    def _decay(self, num_update: int) -> float:
        if self.max_steps == 0:
            return self.final_lr
        frac = 1 - float(num_update - self.warmup_steps) / float(self.max_steps)
        return self.final_lr + (self.base_lr_orig - self.final_lr) * pow(frac, self.power)

    def __call__(self, num_update: int) -> float:
        if num_update < self.warmup_steps:
            return self.get_warmup_lr(num_update)
        if num_update <= self.max_update:
            return self._decay(num_update)
        if self.max_update >= self.warmup_steps:
            return self._decay(self.max_update)
        return float(self.base_lr)

    def boundaries(self, num_updates: int) -> list[float]:
        """``max_update`` (where the decay ends) when inside ``[0, num_updates]``."""
        return [self.max_update] if self.max_update <= num_updates else []
