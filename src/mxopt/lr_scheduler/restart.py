"""``CosineRestartScheduler``: cosine annealing with warm restarts (SGDR)."""

from __future__ import annotations

from math import cos, pi

from .base import LRScheduler, check_int, check_real, warmup_value

__all__ = ["CosineRestartScheduler"]


class CosineRestartScheduler(LRScheduler):
    r"""Cosine annealing with warm restarts (SGDR, Loshchilov & Hutter 2017).

    After warmup, with :math:`t = n - w`, cycle :math:`i = 0, 1, \ldots` lasts
    :math:`L_i = L \cdot m^i` updates (``cycle_length``, ``cycle_mult``). If :math:`t` lies
    :math:`t_c` updates into cycle :math:`i`:

    .. math::
        lr(n) = \mathrm{final\_lr} + (\mathrm{base\_lr} - \mathrm{final\_lr})
                \frac{1 + \cos(\pi\, t_c / L_i)}{2}

    so the rate restarts at ``base_lr`` at :math:`t = L, L + Lm, \ldots`. This equals
    ``torch.optim.lr_scheduler.CosineAnnealingWarmRestarts(T_0=L, T_mult=m, eta_min=final_lr)``
    after ``t`` calls of ``step()``. Not in MXNet; warmup (see :class:`LRScheduler`) ends at the
    *current* ``base_lr``, and the whole schedule follows ``base_lr`` changes.

    Args:
        cycle_length: updates in the first cycle, an ``int >= 1``.
        cycle_mult: growth of each next cycle, an ``int >= 1`` (default 1).
        base_lr: the rate at each restart (default 0.01).
        final_lr: the rate at the end of each cycle (default 0).
        warmup_steps, warmup_begin_lr, warmup_mode: see :class:`LRScheduler`.

    Example:
        >>> s = CosineRestartScheduler(cycle_length=4, base_lr=1.0)
        >>> [round(s(n), 6) for n in range(6)]
        [1.0, 0.853553, 0.5, 0.146447, 1.0, 0.853553]
    """

    def __init__(
        self,
        cycle_length: int,
        cycle_mult: int = 1,
        base_lr: float = 0.01,
        final_lr: float = 0,
        warmup_steps: int = 0,
        warmup_begin_lr: float = 0,
        warmup_mode: str = "linear",
    ) -> None:
        super().__init__(base_lr, warmup_steps, warmup_begin_lr, warmup_mode)
        check_int("cycle_length", cycle_length, mxnet_assert=False)
        if cycle_length < 1:
            raise ValueError(f"cycle_length must be an int >= 1, got {cycle_length}")
        check_int("cycle_mult", cycle_mult, mxnet_assert=False)
        if cycle_mult < 1:
            raise ValueError(f"cycle_mult must be an int >= 1, got {cycle_mult}")
        check_real("final_lr", final_lr)
        self.cycle_length = int(cycle_length)
        self.cycle_mult = int(cycle_mult)
        self.final_lr = float(final_lr)

    def _position(self, t: int) -> tuple[int, int]:
        """(updates into the current cycle, the cycle's length) for ``t >= 0``."""
        length = self.cycle_length
        if self.cycle_mult == 1:
            return t % length, length
        while t >= length:
            t -= length
            length *= self.cycle_mult
        return t, length

    def __call__(self, num_update: int) -> float:
        w = self.warmup_steps
        if num_update < w:
            return warmup_value(self.warmup_mode, self.warmup_begin_lr, self.base_lr, num_update, w)
        t_cur, t_i = self._position(int(num_update) - w)
        return self.final_lr + (self.base_lr - self.final_lr) * (1 + cos(pi * t_cur / t_i)) / 2

    def boundaries(self, num_updates: int) -> list[float]:
        """The restart points inside ``[0, num_updates]`` (at most 200)."""
        out: list[float] = []
        point, length = self.warmup_steps + self.cycle_length, self.cycle_length
        while point <= num_updates and len(out) < 200:
            out.append(point)
            length *= self.cycle_mult
            point += length
        return out
