"""Best-of-N timing, shared by run.py and mxnet_side.py (which runs in MXNet's side
environment, without torch: so this module imports nothing but the standard library)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any


def best_time(
    fn: Callable[[], Any], repeats: int, warmup: int = 1, budget_s: float | None = None
) -> float:
    """Fastest of ``repeats`` timed calls after ``warmup`` untimed ones (robust to other
    load on a shared machine); with ``budget_s``, stops early once the timed calls have
    taken ``budget_s``."""
    for _ in range(warmup):
        fn()
    times: list[float] = []
    start = time.perf_counter()
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
        if budget_s is not None and time.perf_counter() - start > budget_s:
            break
    return min(times)
