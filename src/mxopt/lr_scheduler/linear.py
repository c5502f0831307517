"""``LinearWarmupDecayScheduler``: linear warmup, then linear decay to ``final_lr``."""

from __future__ import annotations

from .base import LRScheduler, check_int, check_real, warmup_value

__all__ = ["LinearWarmupDecayScheduler"]


class LinearWarmupDecayScheduler(LRScheduler):
    r"""Linear warmup from ``warmup_begin_lr`` to ``base_lr`` over ``warmup_steps`` updates,
    then linear decay to ``final_lr`` at ``max_update``, then ``final_lr``.

    With :math:`w` = ``warmup_steps``, :math:`T` = ``max_update``, :math:`b` = ``base_lr``,
    :math:`b_w` = ``warmup_begin_lr``, :math:`f` = ``final_lr``:

    .. math::
        lr(n) = \begin{cases}
        b_w + (b - b_w)\, n / w & n < w \\
        b + (f - b)\, (n - w) / (T - w) & w \le n \le T \\
        f & n > T
        \end{cases}

    Not in MXNet (its ``PolyScheduler(pwr=1)`` is close, but ignores ``base_lr`` changes).
    Here every phase follows the *current* ``base_lr``, so an optimizer's ``learning_rate``
    scales the whole schedule.

    Args:
        max_update: the end of the decay, an ``int > warmup_steps``.
        base_lr: the peak rate (default 0.01).
        final_lr: the rate from ``max_update`` on (default 0).
        warmup_steps: an ``int >= 0`` (default 0).
        warmup_begin_lr: the first warmup rate, ``<= base_lr`` (default 0).

    Example:
        >>> s = LinearWarmupDecayScheduler(max_update=10, base_lr=1.0, warmup_steps=2)
        >>> [round(s(n), 6) for n in (0, 1, 2, 6, 10, 11)]
        [0.0, 0.5, 1.0, 0.5, 0.0, 0.0]
    """

    def __init__(
        self,
        max_update: int,
        base_lr: float = 0.01,
        final_lr: float = 0,
        warmup_steps: int = 0,
        warmup_begin_lr: float = 0,
    ) -> None:
        super().__init__(base_lr, warmup_steps, warmup_begin_lr, "linear")
        check_int("max_update", max_update, mxnet_assert=False)
        if max_update <= warmup_steps:
            raise ValueError(
                f"max_update must be greater than warmup_steps ({warmup_steps}), got {max_update}"
            )
        check_real("final_lr", final_lr)
        self.max_update = int(max_update)
        self.final_lr = float(final_lr)

    def __call__(self, num_update: int) -> float:
        w = self.warmup_steps
        if num_update < w:
            return warmup_value("linear", self.warmup_begin_lr, self.base_lr, num_update, w)
        if num_update > self.max_update:
            return self.final_lr
        frac = float(num_update - w) / float(self.max_update - w)
        return self.base_lr + (self.final_lr - self.base_lr) * frac

    def boundaries(self, num_updates: int) -> list[float]:
        """``max_update`` when inside ``[0, num_updates]``."""
        return [self.max_update] if self.max_update <= num_updates else []
