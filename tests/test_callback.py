"""mx.callback: log formats, timing and reset semantics (MXNet 1.9.1), checkpoint callbacks."""

from __future__ import annotations

import io
import logging
import sys
import types
from collections import namedtuple

import pytest
import torch
from rich.console import Console

import mxopt as mx
from mxopt import callback

try:
    from mxopt.model import BatchEndParam
except ImportError:  # mx.model lands separately; the callbacks only read these fields
    BatchEndParam = namedtuple("BatchEndParam", ["epoch", "nbatch", "eval_metric", "locals"])


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch) -> FakeClock:
    fake = FakeClock()
    monkeypatch.setattr(callback.time, "time", fake)
    return fake


def _acc_metric() -> mx.metric.EvalMetric:
    m = mx.metric.create("acc")
    m.update([torch.tensor([1.0, 0.0])], [torch.tensor([[0.0, 1.0], [0.0, 1.0]])])  # 0.5
    return m


def _messages(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records]


def test_speedometer_auto_reset(caplog, clock) -> None:
    caplog.set_level(logging.INFO)
    metric = _acc_metric()
    speed = mx.callback.Speedometer(batch_size=8, frequent=2)
    speed(BatchEndParam(0, 0, metric, None))  # first call: only starts the timer
    clock.now += 0.5
    speed(BatchEndParam(0, 1, metric, None))  # 1 % 2 != 0: nothing
    clock.now += 0.5
    speed(BatchEndParam(0, 2, metric, None))  # 2 batches * 8 samples / 1.0 s
    assert _messages(caplog) == [
        "Epoch[0] Batch [0-2]\tSpeed: 16.00 samples/sec\taccuracy=0.500000"
    ]
    assert metric.num_inst == 0 and metric.global_num_inst == 2  # local sums reset
    clock.now += 4.0
    speed(BatchEndParam(0, 4, metric, None))
    assert _messages(caplog)[-1] == "Epoch[0] Batch [2-4]\tSpeed: 4.00 samples/sec\taccuracy=nan"


def test_speedometer_without_reset_and_without_metric(caplog, clock) -> None:
    caplog.set_level(logging.INFO)
    metric = _acc_metric()
    speed = mx.callback.Speedometer(batch_size=10, frequent=3, auto_reset=False)
    speed(BatchEndParam(1, 0, metric, None))
    clock.now += 2.0
    speed(BatchEndParam(1, 3, metric, None))
    assert _messages(caplog) == [
        "Epoch[1] Batch [0-3]\tSpeed: 15.00 samples/sec\taccuracy=0.500000"
    ]
    assert metric.num_inst == 2  # not reset
    bare = mx.callback.Speedometer(batch_size=10, frequent=3)
    bare(BatchEndParam(2, 0, None, None))
    clock.now += 1.0
    bare(BatchEndParam(2, 3, None, None))
    assert _messages(caplog)[-1] == "Iter[2] Batch [3]\tSpeed: 30.00 samples/sec"


def test_speedometer_restarts_on_new_epoch(caplog, clock) -> None:
    caplog.set_level(logging.INFO)
    speed = mx.callback.Speedometer(batch_size=1, frequent=1)
    speed(BatchEndParam(0, 0, None, None))
    clock.now += 1.0
    speed(BatchEndParam(0, 1, None, None))
    assert len(caplog.records) == 1
    clock.now += 1.0
    speed(BatchEndParam(1, 0, None, None))  # nbatch went down: only restarts the timer
    assert len(caplog.records) == 1
    clock.now += 0.25
    speed(BatchEndParam(1, 1, None, None))
    assert _messages(caplog)[-1] == "Iter[1] Batch [1]\tSpeed: 4.00 samples/sec"


def test_speedometer_composite_metric_fields(caplog, clock) -> None:
    caplog.set_level(logging.INFO)
    metric = mx.metric.create(["acc", "mse"])
    metric.update([torch.tensor([1.0])], [torch.tensor([[0.0, 1.0]])])
    speed = mx.callback.Speedometer(batch_size=2, frequent=1)
    speed(BatchEndParam(0, 0, metric, None))
    clock.now += 1.0
    speed(BatchEndParam(0, 1, metric, None))
    msg = _messages(caplog)[-1]
    assert msg.startswith("Epoch[0] Batch [0-1]\tSpeed: 2.00 samples/sec\taccuracy=1.000000\tmse=")


def test_log_train_metric(caplog) -> None:
    caplog.set_level(logging.INFO)
    metric = _acc_metric()
    cb = mx.callback.log_train_metric(period=2, auto_reset=True)
    cb(BatchEndParam(3, 1, metric, None))
    assert caplog.records == []
    cb(BatchEndParam(3, 2, metric, None))
    assert _messages(caplog) == ["Iter[3] Batch[2] Train-accuracy=0.500000"]
    assert metric.num_inst == 0


def test_progress_bar_format(caplog) -> None:
    caplog.set_level(logging.INFO)
    bar = mx.callback.ProgressBar(total=4, length=8)
    bar(BatchEndParam(0, 1, None, None))
    bar(BatchEndParam(0, 3, None, None))
    # filled = round(8 * n / 4); percent = ceil(100 * n / 4)
    assert _messages(caplog) == ["[==------] 25%\r", "[======--] 75%\r"]


def test_log_validation_metrics(caplog) -> None:
    caplog.set_level(logging.INFO)
    mx.callback.LogValidationMetricsCallback()(BatchEndParam(2, 0, _acc_metric(), None))
    assert _messages(caplog) == ["Epoch[2] Validation-accuracy=0.500000"]


def test_do_checkpoint_calls_save_checkpoint(monkeypatch) -> None:
    calls = []
    fake = types.ModuleType("mxopt.model")
    fake.save_checkpoint = lambda *args: calls.append(args)
    monkeypatch.setitem(sys.modules, "mxopt.model", fake)
    cb = mx.callback.do_checkpoint("net", period=2)
    for epoch in range(5):
        cb(epoch, "sym", {"w": 1}, {})
    assert calls == [("net", 2, "sym", {"w": 1}, {}), ("net", 4, "sym", {"w": 1}, {})]
    calls.clear()
    every = mx.callback.do_checkpoint("p", period=0)  # period < 1 counts as 1
    every(0, None, {}, {})
    assert calls == [("p", 1, None, {}, {})]


def test_module_checkpoint_calls_module() -> None:
    calls = []

    class FakeModule:
        def save_checkpoint(self, prefix, epoch, save_optimizer_states=False):
            calls.append((prefix, epoch, save_optimizer_states))

    cb = mx.callback.module_checkpoint(FakeModule(), "m", period=3, save_optimizer_states=True)
    for epoch in range(7):
        cb(epoch)
    assert calls == [("m", 3, True), ("m", 6, True)]


def test_progress_callback_renders_each_epoch() -> None:
    buf = io.StringIO()
    progress = mx.callback.ProgressCallback(console=Console(file=buf, width=120))
    metric = _acc_metric()
    train = mx.io.NDArrayIter(torch.zeros(10, 2), batch_size=4)  # 3 batches (pad)
    for epoch in range(2):
        for nbatch in range(3):
            progress(BatchEndParam(epoch, nbatch, metric, {"train_data": train}))
    progress.close()
    lines = buf.getvalue().splitlines()
    assert len(lines) == 2
    for epoch, line in enumerate(lines):
        assert line.startswith(f"Epoch[{epoch}]") and "3/3" in line and "accuracy=0.5000" in line


def test_progress_callback_explicit_total_and_close() -> None:
    buf = io.StringIO()
    progress = mx.callback.ProgressCallback(total=5, show_metric=False, console=Console(file=buf))
    progress(BatchEndParam(0, 0, None, None))
    progress(BatchEndParam(0, 1, None, None))
    progress.close()  # epoch not finished: close() ends the display
    assert "2/5" in buf.getvalue()


@pytest.mark.parametrize(
    "make, exc",
    [
        (lambda: mx.callback.Speedometer(32, frequent=0), ValueError),
        (lambda: mx.callback.ProgressBar(total=0), ValueError),
        (lambda: mx.callback.ProgressCallback(total=-1), ValueError),
        (lambda: mx.callback.log_train_metric(0), ValueError),
        (lambda: mx.callback.do_checkpoint("p", period="2"), TypeError),
    ],
)
def test_bad_arguments(make, exc) -> None:
    with pytest.raises(exc):
        make()


def test_do_checkpoint_writes_mxnet_files(tmp_path) -> None:
    net = mx.sym.FullyConnected(mx.sym.Variable("data"), name="fc", num_hidden=2)
    arg = {"fc_weight": torch.arange(6.0).reshape(2, 3), "fc_bias": torch.zeros(2)}
    prefix = str(tmp_path / "net")
    cb = mx.callback.do_checkpoint(prefix, period=2)
    for epoch in range(4):
        cb(epoch, net, arg, {})
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == ["net-0002.params", "net-0004.params", "net-symbol.json"]
    sym, arg_loaded, aux_loaded = mx.model.load_checkpoint(prefix, 4)
    assert sym.list_arguments() == net.list_arguments() and aux_loaded == {}
    assert torch.equal(arg_loaded["fc_weight"], arg["fc_weight"])
