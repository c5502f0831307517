"""``ConstantScheduler``: optional warmup, then a constant rate."""

from __future__ import annotations

from .base import LRScheduler, warmup_value

__all__ = ["ConstantScheduler"]


class ConstantScheduler(LRScheduler):
    r"""Warmup to ``base_lr``, then hold it (handy as the first piece of a
    :class:`SequentialScheduler`).

    .. math::
        lr(n) = \begin{cases}
        \mathrm{warmup}(n) & n < w \\
        \mathrm{base\_lr} & n \ge w
        \end{cases}

    Not in MXNet. Warmup (linear or constant, see :class:`LRScheduler`) ends at the
    *current* ``base_lr``, so an optimizer's ``learning_rate`` scales the whole schedule.

    Args:
        base_lr, warmup_steps, warmup_begin_lr, warmup_mode: see :class:`LRScheduler`.

    Example:
        >>> s = ConstantScheduler(base_lr=0.1, warmup_steps=4)
        >>> [round(s(n), 6) for n in range(6)]
        [0.0, 0.025, 0.05, 0.075, 0.1, 0.1]
    """

    def __call__(self, num_update: int) -> float:
        if num_update < self.warmup_steps:
            return warmup_value(
                self.warmup_mode, self.warmup_begin_lr, self.base_lr, num_update, self.warmup_steps
            )
        return float(self.base_lr)
