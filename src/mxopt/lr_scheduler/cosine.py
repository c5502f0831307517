"""``CosineScheduler``: half-cosine decay from ``base_lr`` to ``final_lr`` at ``max_update``."""

from __future__ import annotations

from math import cos, pi

from ._decay import DecayToMaxUpdate

__all__ = ["CosineScheduler"]


class CosineScheduler(DecayToMaxUpdate):
    r"""Cosine decay after warmup.

    With :math:`w` = ``warmup_steps``, :math:`T` = ``max_update`` and :math:`b_0` the
    constructor's ``base_lr`` (kept in ``base_lr_orig``), for :math:`w \le n \le T`:

    .. math::
        lr(n) = \mathrm{final\_lr} + (b_0 - \mathrm{final\_lr})
                \frac{1 + \cos\left(\pi \frac{n - w}{T - w}\right)}{2}

    and for :math:`n > T` the value at :math:`n = T`, i.e. ``final_lr``. If ``T < w`` the rate
    after warmup is the ``base_lr`` attribute; if ``T == w`` it is ``final_lr`` (MXNet divides
    by zero there).

    Differences from MXNet 1.9.1: MXNet holds the *last value it computed* after
    ``max_update``; this is a pure function of ``n``. Like MXNet the decay ignores later
    changes of ``base_lr``, but calls do not overwrite ``base_lr``.

    Args:
        max_update: the update count where the decay reaches ``final_lr``, an ``int >= 1``.
        base_lr: the starting rate (default 0.01).
        final_lr: the rate at ``max_update`` (default 0).
        warmup_steps, warmup_begin_lr, warmup_mode: see :class:`LRScheduler`.

    Example:
        >>> s = CosineScheduler(max_update=10, base_lr=1.0)
        >>> [round(s(n), 6) for n in (0, 5, 10, 20)]
        [1.0, 0.5, 0.0, 0.0]
    """

    def __init__(
        self,
        max_update: int,
        base_lr: float = 0.01,
        final_lr: float = 0,
        warmup_steps: int = 0,
        warmup_begin_lr: float = 0,
        warmup_mode: str = "linear",
    ) -> None:
        super().__init__(max_update, base_lr, final_lr, warmup_steps, warmup_begin_lr, warmup_mode)

    def _shape(self, elapsed: int, total: int) -> float:
        return (1 + cos(pi * elapsed / total)) / 2
