"""The shared part of ``PolyScheduler`` and ``CosineScheduler``: a decay from the
constructor's ``base_lr`` to ``final_lr`` between ``warmup_steps`` and ``max_update``."""

from __future__ import annotations

from typing import Any

from .base import LRScheduler, check_int, check_real

__all__ = ["DecayToMaxUpdate"]


class DecayToMaxUpdate(LRScheduler):
    r"""``lr(n) = final_lr + (b_0 - final_lr) * shape(n - w, T - w)`` for
    :math:`w \le n \le T`, the value at :math:`T` afterwards; subclasses give ``_shape``
    (1 at the start, 0 at the end). :math:`b_0` is the constructor's ``base_lr``
    (``base_lr_orig``), as in MXNet."""

    def __init__(
        self,
        max_update: int,
        base_lr: float,
        final_lr: float,
        warmup_steps: int,
        warmup_begin_lr: float,
        warmup_mode: str,
    ) -> None:
        super().__init__(base_lr, warmup_steps, warmup_begin_lr, warmup_mode)
        check_int("max_update", max_update)
        if max_update < 1:
            raise ValueError("maximum number of updates must be strictly positive")
        check_real("final_lr", final_lr)
        self.base_lr_orig = float(base_lr)
        self.max_update = int(max_update)
        self.final_lr = float(final_lr)
        self.max_steps = self.max_update - self.warmup_steps

    def _shape(self, elapsed: int, total: int) -> float:
        raise NotImplementedError

    def _init_kwargs(self) -> dict[str, Any]:
        return {
            "max_update": self.max_update,
            "base_lr": self.base_lr_orig,
            "final_lr": self.final_lr,
            "warmup_steps": self.warmup_steps,
            "warmup_begin_lr": self.warmup_begin_lr,
            "warmup_mode": self.warmup_mode,
        }

    def _decay(self, num_update: int) -> float:
        if self.max_steps == 0:
            return self.final_lr
        shape = self._shape(num_update - self.warmup_steps, self.max_steps)
        return self.final_lr + (self.base_lr_orig - self.final_lr) * shape

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
