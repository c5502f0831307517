"""``mxopt schedule``: work with learning-rate schedules from the shell.

    mxopt schedule plot "FactorScheduler(step=100, factor=0.9, base_lr=0.1)" -o lr.png
    mxopt schedule plot "CosineScheduler(max_update=1000, base_lr=0.1, warmup_steps=100)" \\
        "OneCycleScheduler(max_update=1000, base_lr=0.1)" -o two.png --updates 1200
    mxopt schedule list

A spec is a Python-call-like string parsed with ``ast`` (never evaluated): a registered schedule
class with literal keyword arguments. Bad specs print an error and exit with status 2.
"""

from __future__ import annotations

import argparse
import sys

from .base import list_schedulers

__all__ = ["add_arguments", "run"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the ``plot`` and ``list`` actions to the ``schedule`` subcommand's parser."""
    actions = parser.add_subparsers(dest="schedule_action", required=True)
    plot = actions.add_parser("plot", help="draw one or more schedules to a PNG")
    plot.add_argument(
        "specs",
        nargs="+",
        metavar="SCHEDULE",
        help='e.g. "FactorScheduler(step=100, factor=0.9, base_lr=0.1)"',
    )
    plot.add_argument("-o", "--output", required=True, help="PNG file to write")
    plot.add_argument(
        "--updates",
        type=int,
        default=None,
        metavar="N",
        help="plot n = 0..N (default: enough to show the whole schedule)",
    )
    plot.add_argument("--width", type=int, default=800, help="image width in pixels (800)")
    plot.add_argument(
        "--height", type=int, default=None, help="image height in pixels (450 per row of panels)"
    )
    actions.add_parser("list", help="list the schedule classes a spec may name")


def _error(message: str) -> int:
    print(f"mxopt schedule: error: {message}", file=sys.stderr)
    return 2


def run(args: argparse.Namespace) -> int:
    """Run the parsed ``schedule`` subcommand; 0 on success, 2 on bad input."""
    if args.schedule_action == "list":
        print("\n".join(list_schedulers()))
        return 0
    from .plot import plot_schedules, save_figure
    from .spec import ScheduleSpecError, parse_schedule

    try:
        schedules = [parse_schedule(s) for s in args.specs]
    except ScheduleSpecError as e:
        return _error(str(e))
    if args.updates is not None and args.updates < 1:
        return _error(f"--updates must be >= 1, got {args.updates}")
    rows = (len(schedules) + 1) // 2 if len(schedules) > 1 else 1
    height = args.height if args.height is not None else 450 * rows
    if not (50 <= args.width <= 10000 and 50 <= height <= 10000):
        return _error("--width and --height must be between 50 and 10000 pixels")
    try:
        fig = plot_schedules(schedules, args.updates, width=args.width, height=height)
        save_figure(fig, args.output)
    except (OSError, ValueError, TypeError) as e:
        return _error(str(e))
    print(f"wrote {args.output}")
    return 0
