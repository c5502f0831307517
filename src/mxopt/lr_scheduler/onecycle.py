"""``OneCycleScheduler``: the one-cycle policy (Smith & Topin 2018), as torch's OneCycleLR."""

from __future__ import annotations

from math import cos, pi
from typing import Any

from .base import LRScheduler, check_int, check_real

__all__ = ["OneCycleScheduler"]


class OneCycleScheduler(LRScheduler):
    r"""Rise from ``base_lr / div_factor`` to ``base_lr``, then fall far below it.

    With :math:`T` = ``max_update``, :math:`p` = ``pct_start``, :math:`M` = ``base_lr``
    (the peak), :math:`I = M / \mathrm{div\_factor}` and
    :math:`m = I / \mathrm{final\_div\_factor}`, the phases (start step, end step, from, to)
    are

    * two phases: :math:`(0,\ pT-1,\ I,\ M)`, :math:`(pT-1,\ T-1,\ M,\ m)`;
    * ``three_phase=True``: :math:`(0,\ pT-1,\ I,\ M)`, :math:`(pT-1,\ 2pT-2,\ M,\ I)`,
      :math:`(2pT-2,\ T-1,\ I,\ m)`.

    ``n`` falls in the first phase whose end step is :math:`\ge n` (else the last), and with
    :math:`\rho = (n - \mathrm{start}) / (\mathrm{end} - \mathrm{start})`:

    .. math::
        \text{cos: } lr = \mathrm{to} + \frac{\mathrm{from} - \mathrm{to}}{2}(1 + \cos\pi\rho)
        \qquad \text{linear: } lr = (\mathrm{to} - \mathrm{from})\,\rho + \mathrm{from}

    For :math:`n > T - 1` the rate stays at its value at :math:`T - 1` (that is :math:`m`),
    for :math:`n < 0` it is :math:`I`; a phase of zero length yields its end rate. For
    :math:`0 \le n \le T-1` this equals
    ``torch.optim.lr_scheduler.OneCycleLR(max_lr=M, total_steps=T, ...)`` after ``n`` calls of
    ``step()`` (torch raises past ``total_steps`` and extrapolates at ``n = T``). Not in MXNet.
    The peak is ``base_lr``, so an optimizer's ``learning_rate`` sets the peak.

    Args:
        max_update: the cycle length :math:`T`, an ``int >= 1``.
        base_lr: the peak rate (default 0.01).
        pct_start: fraction of the cycle spent rising, in ``[0, 1]`` (default 0.3).
        div_factor: initial rate is ``base_lr / div_factor``, ``> 0`` (default 25).
        final_div_factor: final rate is ``initial / final_div_factor``, ``> 0`` (default 1e4).
        anneal_strategy: ``'cos'`` (default) or ``'linear'``.
        three_phase: use the three-phase variant (default False).

    Example:
        >>> s = OneCycleScheduler(max_update=100, base_lr=0.1)
        >>> round(s(0), 6), round(s(29), 6), s(99)
        (0.004, 0.1, 4e-07)
    """

    def __init__(
        self,
        max_update: int,
        base_lr: float = 0.01,
        pct_start: float = 0.3,
        div_factor: float = 25.0,
        final_div_factor: float = 1e4,
        anneal_strategy: str = "cos",
        three_phase: bool = False,
    ) -> None:
        super().__init__(base_lr)
        check_int("max_update", max_update, mxnet_assert=False)
        if max_update < 1:
            raise ValueError(f"max_update must be an int >= 1, got {max_update}")
        check_real("pct_start", pct_start)
        if not 0 <= pct_start <= 1:
            raise ValueError(f"pct_start must be in [0, 1], got {pct_start}")
        for name, value in (("div_factor", div_factor), ("final_div_factor", final_div_factor)):
            check_real(name, value)
            if not value > 0:
                raise ValueError(f"{name} must be > 0, got {value}")
        if anneal_strategy not in ("cos", "linear"):
            raise ValueError(f"anneal_strategy must be 'cos' or 'linear', got {anneal_strategy!r}")
        if not isinstance(three_phase, bool):
            raise TypeError(f"three_phase must be a bool, got {type(three_phase).__name__}")
        self.max_update = int(max_update)
        self.pct_start = float(pct_start)
        self.div_factor = float(div_factor)
        self.final_div_factor = float(final_div_factor)
        self.anneal_strategy = anneal_strategy
        self.three_phase = three_phase

    def _init_kwargs(self) -> dict[str, Any]:
        return {
            "max_update": self.max_update,
            "base_lr": self.warmup_final_lr,
            "pct_start": self.pct_start,
            "div_factor": self.div_factor,
            "final_div_factor": self.final_div_factor,
            "anneal_strategy": self.anneal_strategy,
            "three_phase": self.three_phase,
        }

    def _phases(self) -> list[tuple[float, str, str]]:
        total = self.max_update
        if self.three_phase:
            return [
                (float(self.pct_start * total) - 1, "initial", "max"),
                (float(2 * self.pct_start * total) - 2, "max", "initial"),
                (total - 1, "initial", "min"),
            ]
        return [(float(self.pct_start * total) - 1, "initial", "max"), (total - 1, "max", "min")]

    def __call__(self, num_update: int) -> float:
        peak = self.base_lr
        initial = peak / self.div_factor
        rates = {"max": peak, "initial": initial, "min": initial / self.final_div_factor}
        if num_update > self.max_update - 1:
            num_update = self.max_update - 1  # the cycle is over: hold its last value
        if num_update < 0:
            return initial
        phases = self._phases()
        start = 0.0
        for i, (end, frm, to) in enumerate(phases):
            if num_update <= end or i == len(phases) - 1:
                if end - start <= 0:
                    return rates[to]
                pct = (num_update - start) / (end - start)
                a, b = rates[frm], rates[to]
                if self.anneal_strategy == "cos":
                    return b + (a - b) / 2.0 * (cos(pi * pct) + 1)
                return (b - a) * pct + a
            start = end
        raise AssertionError("unreachable")  # the last phase always matches

    def boundaries(self, num_updates: int) -> list[float]:
        """The phase ends inside ``[0, num_updates]``."""
        return [end for end, _, _ in self._phases() if 0 <= end <= num_updates]
