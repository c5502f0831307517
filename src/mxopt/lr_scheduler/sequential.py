"""``SequentialScheduler``: run schedules one after another."""

from __future__ import annotations

import bisect
from collections.abc import Mapping, Sequence
from typing import Any

from .base import LRScheduler, from_state_dict

__all__ = ["SequentialScheduler"]


class SequentialScheduler(LRScheduler):
    r"""Chain schedules: ``schedulers[i]`` runs from ``milestones[i-1]`` on, restarted at 0.

    With :math:`m_0 = 0` and ``milestones`` :math:`m_1 < m_2 < \ldots`, for
    :math:`m_i \le n < m_{i+1}`:

    .. math::
        lr(n) = s_i(n - m_i)

    (like ``torch.optim.lr_scheduler.SequentialLR``). Not in MXNet. Reading ``base_lr`` gives
    the first schedule's; setting it sets every schedule's ``base_lr`` (each then reacts as
    it does alone: MXNet's Poly/Cosine ignore it).

    Args:
        schedulers: one or more :class:`LRScheduler` objects.
        milestones: ``len(schedulers) - 1`` strictly increasing ints ``>= 1``.

    Example:
        >>> from mxopt.lr_scheduler import ConstantScheduler, CosineScheduler
        >>> s = SequentialScheduler(
        ...     [ConstantScheduler(base_lr=1.0, warmup_steps=4),
        ...      CosineScheduler(max_update=10, base_lr=1.0)], milestones=[4])
        >>> [round(s(n), 4) for n in (0, 2, 4, 9, 14, 20)]
        [0.0, 0.5, 1.0, 0.5, 0.0, 0.0]
    """

    def __init__(self, schedulers: Sequence[LRScheduler], milestones: Sequence[int]) -> None:
        if not isinstance(schedulers, (list, tuple)) or len(schedulers) < 1:
            raise TypeError("schedulers must be a non-empty list of LRScheduler objects")
        for i, s in enumerate(schedulers):
            if not isinstance(s, LRScheduler):
                raise TypeError(f"schedulers[{i}] must be an LRScheduler, got {type(s).__name__}")
        if not isinstance(milestones, (list, tuple)):
            raise TypeError(f"milestones must be a list of ints, got {type(milestones).__name__}")
        if len(milestones) != len(schedulers) - 1:
            raise ValueError(
                f"milestones must have len(schedulers) - 1 = {len(schedulers) - 1} entries, "
                f"got {len(milestones)}"
            )
        for i, m in enumerate(milestones):
            if isinstance(m, bool) or not isinstance(m, int):
                raise TypeError(f"milestones[{i}] must be an int, got {m!r}")
            if m < 1 or (i and m <= milestones[i - 1]):
                raise ValueError(
                    f"milestones must be strictly increasing ints >= 1, got {list(milestones)}"
                )
        self.schedulers = list(schedulers)
        self.milestones = [int(m) for m in milestones]
        first = self.schedulers[0]
        self.warmup_steps = 0
        self.warmup_begin_lr = 0.0
        self.warmup_mode = "linear"
        self.warmup_final_lr = getattr(first, "warmup_final_lr", first.base_lr)

    @property
    def base_lr(self) -> float:  # type: ignore[override]
        return self.schedulers[0].base_lr

    @base_lr.setter
    def base_lr(self, value: float) -> None:
        for s in self.schedulers:
            s.base_lr = value

    def __call__(self, num_update: int) -> float:
        i = bisect.bisect_right(self.milestones, num_update)
        offset = self.milestones[i - 1] if i else 0
        return self.schedulers[i](num_update - offset)

    def _init_kwargs(self) -> dict[str, Any]:
        return {"schedulers": self.schedulers, "milestones": self.milestones}

    def state_dict(self) -> dict[str, Any]:
        """``{"class", "version", "init": {"schedulers": [child states], "milestones"}}``."""
        return {
            "class": type(self)._registry_name,
            "version": 1,
            "init": {
                "schedulers": [s.state_dict() for s in self.schedulers],
                "milestones": list(self.milestones),
            },
            "attrs": {},
        }

    @classmethod
    def _from_state(cls, state: Mapping[str, Any]) -> LRScheduler:
        init = dict(state.get("init", {}))
        children = init.get("schedulers")
        if not isinstance(children, list):
            raise ValueError("SequentialScheduler state needs init['schedulers'] as a list")
        init["schedulers"] = [from_state_dict(c) for c in children]
        return cls(**init)

    def boundaries(self, num_updates: int) -> list[float]:
        """The milestones plus each piece's own boundaries, shifted, inside the range."""
        out: set[float] = set()
        starts = [0, *self.milestones]
        ends = [*self.milestones, num_updates]
        for s, start, end in zip(self.schedulers, starts, ends):
            if start > num_updates:
                break
            if start:
                out.add(start)
            out.update(start + b for b in s.boundaries(end - start) if start + b < end)
        return sorted(out)
