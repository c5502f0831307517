"""``PolyScheduler``: polynomial decay from ``base_lr`` to ``final_lr`` at ``max_update``."""

from __future__ import annotations

from typing import Any

from ._decay import DecayToMaxUpdate
from .base import check_real

__all__ = ["PolyScheduler"]


class PolyScheduler(DecayToMaxUpdate):
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
        super().__init__(max_update, base_lr, final_lr, warmup_steps, warmup_begin_lr, warmup_mode)
        check_real("pwr", pwr)
        if pwr < 0:
            raise ValueError(f"pwr must be >= 0, got {pwr!r}")
        self.power = pwr

    def _init_kwargs(self) -> dict[str, Any]:
        kwargs = super()._init_kwargs()
        return {"max_update": kwargs.pop("max_update"), "base_lr": kwargs.pop("base_lr"),
                "pwr": self.power, **kwargs}  # fmt: skip

    def _shape(self, elapsed: int, total: int) -> float:
        return pow(1 - float(elapsed) / float(total), self.power)
