"""Schedule plotting (mxopt.lr_scheduler.plot), spec parsing and the `mxopt schedule` CLI."""

from __future__ import annotations

import argparse
import struct
from pathlib import Path

import pytest
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from mxopt.lr_scheduler import (
    ConstantScheduler,
    CosineScheduler,
    FactorScheduler,
    MultiFactorScheduler,
    OneCycleScheduler,
    SequentialScheduler,
    cli,
)
from mxopt.lr_scheduler.plot import default_num_updates, plot_schedule, plot_schedules
from mxopt.lr_scheduler.spec import ScheduleSpecError, parse_schedule

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == PNG_SIGNATURE and data[12:16] == b"IHDR"
    return struct.unpack(">II", data[16:24])


def run_cli(*argv: str) -> int:
    """Build the parser as mxopt.cli does for the `schedule` subcommand, then run it."""
    parser = argparse.ArgumentParser(prog="mxopt")
    sub = parser.add_subparsers(dest="command", required=True)
    cli.add_arguments(sub.add_parser("schedule"))
    return cli.run(parser.parse_args(["schedule", *argv]))


def vlines(ax) -> list[float]:
    return [ln.get_xdata()[0] for ln in ax.lines[1:]]


# ---------------------------------------------------------------------------------------------
# plot_schedule


@pytest.mark.parametrize(
    "sched, n, warm, marks",
    [
        (FactorScheduler(step=10, factor=0.5, base_lr=1.0, warmup_steps=5), 40, 5, [10, 20, 30]),
        (MultiFactorScheduler(step=[7, 20], factor=0.1, base_lr=1.0), 30, 0, [7, 20]),
        (CosineScheduler(max_update=30, base_lr=0.1, warmup_steps=6), 40, 6, [30]),
        (OneCycleScheduler(max_update=50, base_lr=0.1), 60, 0, [14.0, 49]),
        (
            SequentialScheduler(
                [ConstantScheduler(base_lr=0.1, warmup_steps=8), CosineScheduler(20, base_lr=0.1)],
                [8],
            ),
            40,
            8,
            [8, 28],
        ),
    ],
    ids=lambda v: type(v).__name__ if not isinstance(v, (int, list)) else None,
)
def test_plot_line_equals_schedule(sched, n, warm, marks):
    fig = plot_schedule(sched, n)
    assert isinstance(fig, Figure)
    ax = fig.axes[0]
    line = ax.lines[0]
    assert list(line.get_xdata()) == list(range(n + 1))
    assert list(line.get_ydata()) == [sched(i) for i in range(n + 1)]
    spans = [p for p in ax.patches if p.get_label() == "warmup"]
    if warm:
        (span,) = spans
        assert isinstance(span, Rectangle)
        assert (span.get_x(), span.get_x() + span.get_width()) == (0, warm)
    else:
        assert spans == []
    assert vlines(ax) == marks


def test_plot_into_given_axes():
    fig = Figure()
    ax = fig.add_subplot()
    sched = FactorScheduler(step=3, factor=0.5, base_lr=1.0)
    assert plot_schedule(sched, 12, ax=ax) is fig
    assert list(ax.lines[0].get_ydata()) == [sched(i) for i in range(13)]


@pytest.mark.parametrize("n", [0, -3, 2.5, True])
def test_plot_rejects_bad_num_updates(n):
    with pytest.raises(ValueError, match="num_updates"):
        plot_schedule(ConstantScheduler(), n)


def test_plot_schedules_grid():
    fig = plot_schedules([ConstantScheduler(), CosineScheduler(10)], [5, 12], width=600, height=300)
    visible = [a for a in fig.axes if a.get_visible()]
    assert len(visible) == 2 and len(visible[1].lines[0].get_xdata()) == 13
    assert tuple(fig.get_size_inches() * fig.dpi) == (600, 300)


@pytest.mark.parametrize(
    "sched, expected",
    [
        (CosineScheduler(max_update=1000), 1100),
        (FactorScheduler(step=100, warmup_steps=50), 1050),
        (MultiFactorScheduler(step=[10, 40]), 51),
        (ConstantScheduler(), 100),
    ],
)
def test_default_num_updates(sched, expected):
    assert default_num_updates(sched) == expected


# ---------------------------------------------------------------------------------------------
# spec parsing


def test_parse_schedule_builds_the_call():
    s = parse_schedule("FactorScheduler(step=100, factor=0.9, base_lr=0.1)")
    assert isinstance(s, FactorScheduler)
    assert (s.step, s.factor, s.base_lr) == (100, 0.9, 0.1)
    t = parse_schedule("mx.lr_scheduler.MultiFactorScheduler(step=[5, 9], factor=0.5)")
    assert t.step == [5, 9]


def test_parse_nested_sequential():
    s = parse_schedule(
        "SequentialScheduler(schedulers=[ConstantScheduler(base_lr=0.1, warmup_steps=10),"
        " CosineScheduler(max_update=90, base_lr=0.1)], milestones=[10])"
    )
    assert isinstance(s, SequentialScheduler) and s(10) == 0.1 and s(100) == 0.0


@pytest.mark.parametrize(
    "spec, match",
    [
        ("FactorScheduler(step=", "cannot parse"),
        ("0.1", "expected a call"),
        ("Nope(step=1)", "unknown scheduler class 'Nope'"),
        ("LRScheduler(base_lr=0.1)", "abstract"),
        ("FactorScheduler(100)", "keyword"),
        ("FactorScheduler(**{'step': 1})", r"\*\*kwargs"),
        ("FactorScheduler(step=10 * 10)", "not a literal"),
        ("FactorScheduler(step=x)", "not a literal"),
        ("__import__('os').system('true')", "ClassName"),
        ("FactorScheduler(step=0)", "greater or equal than 1"),
        ("FactorScheduler(step=5, bogus=1)", "bogus"),
        ("PolyScheduler(max_update=10.0)", "max_update must be an int"),
    ],
)
def test_parse_schedule_errors(spec, match):
    with pytest.raises(ScheduleSpecError, match=match):
        parse_schedule(spec)


# ---------------------------------------------------------------------------------------------
# CLI


def test_cli_plot_writes_png(tmp_path, capsys):
    out = tmp_path / "lr.png"
    spec = "CosineScheduler(max_update=1000, base_lr=0.1, warmup_steps=100)"
    assert run_cli("plot", spec, "-o", str(out), "--updates", "1200") == 0
    assert png_size(out) == (800, 450)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["lr.png"]  # no temp file left
    assert "wrote" in capsys.readouterr().out


def test_cli_plot_several_and_size(tmp_path):
    out = tmp_path / "grid.png"
    specs = [
        "FactorScheduler(step=100, factor=0.9, base_lr=0.1)",
        "OneCycleScheduler(max_update=300)",
        "ConstantScheduler(warmup_steps=10)",
    ]
    assert run_cli("plot", *specs, "-o", str(out), "--width", "640") == 0
    assert png_size(out) == (640, 900)


@pytest.mark.parametrize(
    "argv, match",
    [
        (["FactorScheduler(step=0)"], "greater or equal"),
        (["Unknown()"], "unknown scheduler class"),
        (["FactorScheduler(step=10)", "--updates", "0"], "--updates"),
        (["FactorScheduler(step=10)", "--width", "5"], "--width"),
    ],
)
def test_cli_bad_input_exits_2_and_keeps_old_file(tmp_path, capsys, argv, match):
    out = tmp_path / "lr.png"
    out.write_bytes(b"old")
    assert run_cli("plot", argv[0], "-o", str(out), *argv[1:]) == 2
    err = capsys.readouterr().err
    assert err.startswith("mxopt schedule: error:") and match in err
    assert out.read_bytes() == b"old"


def test_cli_missing_folder_exits_2(tmp_path, capsys):
    assert run_cli("plot", "ConstantScheduler()", "-o", str(tmp_path / "no" / "x.png")) == 2
    assert "does not exist" in capsys.readouterr().err


def test_cli_list(capsys):
    assert run_cli("list") == 0
    names = capsys.readouterr().out.split()
    assert "FactorScheduler" in names and "LRScheduler" not in names
