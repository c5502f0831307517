"""Draw a learning-rate schedule with matplotlib (Agg canvas, no display needed).

``plot_schedule(schedule, num_updates)`` plots ``lr(n)`` for ``n = 0..num_updates``, shades the
warmup span and draws a dashed vertical line at each boundary the schedule reports (decay
steps, the end of the decay, restarts, milestones).
"""

from __future__ import annotations

import os
import tempfile
import textwrap
from collections.abc import Sequence

from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from .base import LRScheduler
from .sequential import SequentialScheduler

__all__ = ["plot_schedule", "plot_schedules", "save_figure", "default_num_updates"]


def default_num_updates(schedule: LRScheduler) -> int:
    """A plotting horizon that shows the whole shape of ``schedule``.

    >>> from mxopt.lr_scheduler import CosineScheduler
    >>> default_num_updates(CosineScheduler(max_update=1000))
    1100
    """
    if isinstance(schedule, SequentialScheduler):
        last = schedule.milestones[-1] if schedule.milestones else 0
        return last + default_num_updates(schedule.schedulers[-1])
    warm = int(getattr(schedule, "warmup_steps", 0) or 0)
    if isinstance(getattr(schedule, "max_update", None), int):
        return max(schedule.max_update, warm) + max(1, schedule.max_update // 10)
    step = getattr(schedule, "step", None)
    if isinstance(step, list) and step:
        return int(max(step[-1], warm) * 1.25) + 1
    if isinstance(step, (int, float)):
        return int(warm + 10 * step)
    if isinstance(getattr(schedule, "cycle_length", None), int):
        length, mult = schedule.cycle_length, schedule.cycle_mult
        return warm + length * (1 + mult + mult * mult)
    return max(100, 2 * warm)


def _warmup_end(schedule: LRScheduler) -> int:
    if isinstance(schedule, SequentialScheduler):
        end = _warmup_end(schedule.schedulers[0])
        return min(end, schedule.milestones[0]) if schedule.milestones else end
    return int(getattr(schedule, "warmup_steps", 0) or 0)


def plot_schedule(
    schedule: LRScheduler, num_updates: int, ax: Axes | None = None, *, title: str | None = None
) -> Figure:
    """Plot ``schedule(n)`` for ``n = 0, 1, ..., num_updates`` and return the Figure.

    The curve is the first line of the axes (``ax.lines[0]``, x = update counts, y = rates).
    The warmup span ``[0, warmup_steps]`` is shaded, boundaries are dashed vertical lines.

    Args:
        schedule: any callable schedule (an :class:`LRScheduler`).
        num_updates: the last update count to plot, an ``int >= 1``.
        ax: axes to draw into; a new 8x4.5 inch figure on an Agg canvas if None.
        title: the axes title (default: the schedule's ``repr``).

    Example:
        >>> from mxopt.lr_scheduler import FactorScheduler
        >>> fig = plot_schedule(FactorScheduler(step=10, factor=0.5, base_lr=1.0), 50)
        >>> float(fig.axes[0].lines[0].get_ydata()[-1])
        0.0625
    """
    if isinstance(num_updates, bool) or not isinstance(num_updates, int) or num_updates < 1:
        raise ValueError(f"num_updates must be an int >= 1, got {num_updates!r}")
    if not callable(schedule):
        raise TypeError(f"schedule must be callable, got {type(schedule).__name__}")
    if ax is None:
        fig = Figure(figsize=(8, 4.5), dpi=100)
        FigureCanvasAgg(fig)
        ax = fig.add_subplot()
    xs = list(range(num_updates + 1))
    ys = [float(schedule(n)) for n in xs]
    ax.plot(xs, ys, color="C0", linewidth=1.6, label="learning rate")
    warm = _warmup_end(schedule)
    if warm > 0:
        ax.axvspan(0, min(warm, num_updates), color="C1", alpha=0.15, label="warmup")
    marks = [b for b in getattr(schedule, "boundaries", lambda _: [])(num_updates)]
    for i, b in enumerate(m for m in marks if 0 <= m <= num_updates):
        ax.axvline(
            b, color="0.45", linestyle="--", linewidth=0.8, label="boundary" if i == 0 else None
        )
    ax.set_xlim(0, num_updates)
    ax.set_ylim(bottom=min(0.0, min(ys)))
    ax.set_xlabel("num_update")
    ax.set_ylabel("learning rate")
    text = title if title is not None else textwrap.fill(repr(schedule), 64, subsequent_indent="  ")
    ax.set_title(text, fontsize=9)
    ax.grid(True, alpha=0.3)
    ax.legend(loc="upper right", fontsize=8)
    return ax.figure


def plot_schedules(
    schedules: Sequence[LRScheduler],
    num_updates: int | Sequence[int] | None = None,
    *,
    width: int = 800,
    height: int = 450,
) -> Figure:
    """Plot several schedules, one panel each (a grid of up to 2 columns).

    ``num_updates`` is one int for all, one per schedule, or None for
    :func:`default_num_updates`. The figure is ``width`` x ``height`` pixels at 100 dpi.
    """
    if not schedules:
        raise ValueError("schedules must hold at least one schedule")
    n = len(schedules)
    if num_updates is None:
        horizons = [default_num_updates(s) for s in schedules]
    elif isinstance(num_updates, int):
        horizons = [num_updates] * n
    else:
        horizons = list(num_updates)
        if len(horizons) != n:
            raise ValueError(f"num_updates must have {n} entries, got {len(horizons)}")
    cols = 1 if n == 1 else 2
    rows = (n + cols - 1) // cols
    fig = Figure(figsize=(width / 100, height / 100), dpi=100)
    FigureCanvasAgg(fig)
    axes = fig.subplots(rows, cols, squeeze=False)
    for i, (s, h) in enumerate(zip(schedules, horizons)):
        plot_schedule(s, h, ax=axes[i // cols][i % cols])
    for j in range(n, rows * cols):
        axes[j // cols][j % cols].set_visible(False)
    fig.tight_layout()
    return fig


def save_figure(fig: Figure, path: str | os.PathLike[str]) -> None:
    """Write ``fig`` as a PNG at ``path`` atomically (temp file in the same folder + replace)."""
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise FileNotFoundError(f"output folder does not exist: {folder}")
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=".lr-plot-", suffix=".png.tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            fig.savefig(f, format="png", dpi=fig.dpi)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
