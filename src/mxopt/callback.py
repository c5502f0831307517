"""``mx.callback``: training callbacks for ``Module.fit`` (MXNet 1.9.1's log formats).

Batch-end callbacks receive a ``BatchEndParam(epoch, nbatch, eval_metric, locals)`` (see
``mx.model.BatchEndParam``); epoch-end callbacks receive ``(epoch, symbol, arg_params,
aux_params)``. Log lines go through the root ``logging`` logger at INFO level, as in MXNet.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable
from typing import Any

__all__ = [
    "module_checkpoint",
    "do_checkpoint",
    "log_train_metric",
    "Speedometer",
    "ProgressBar",
    "LogValidationMetricsCallback",
    "ProgressCallback",
]

EpochCallback = Callable[..., None]
BatchCallback = Callable[[Any], None]


def _period(period: int) -> int:
    if isinstance(period, bool) or not isinstance(period, (int, float)):
        raise TypeError(f"period must be a number, got {period!r}")
    return int(max(1, period))


def module_checkpoint(
    mod: Any, prefix: str, period: int = 1, save_optimizer_states: bool = False
) -> EpochCallback:
    """Epoch-end callback saving ``mod`` every ``period`` epochs.

    After epoch ``e`` (0-based) with ``(e + 1) % period == 0`` it calls
    ``mod.save_checkpoint(prefix, e + 1, save_optimizer_states)``, which writes
    ``prefix-symbol.json`` and ``prefix-%04d.params`` (epoch numbers start at 1). ``period``
    below 1 counts as 1.

    >>> import mxopt as mx
    >>> class Fake:
    ...     def save_checkpoint(self, prefix, epoch, states): print(prefix, epoch, states)
    >>> cb = mx.callback.module_checkpoint(Fake(), 'net', period=2)
    >>> for epoch in range(4): cb(epoch)
    net 2 False
    net 4 False
    """
    period = _period(period)

    def _callback(iter_no: int, sym: Any = None, arg: Any = None, aux: Any = None) -> None:
        if (iter_no + 1) % period == 0:
            mod.save_checkpoint(prefix, iter_no + 1, save_optimizer_states)

    return _callback


def do_checkpoint(prefix: str, period: int = 1) -> EpochCallback:
    """Epoch-end callback calling ``mx.model.save_checkpoint`` every ``period`` epochs.

    After epoch ``e`` (0-based) with ``(e + 1) % period == 0`` it saves
    ``save_checkpoint(prefix, e + 1, symbol, arg_params, aux_params)``: files
    ``prefix-symbol.json`` and ``prefix-%04d.params`` (epoch numbering starts at 1).

    >>> import mxopt as mx
    >>> cb = mx.callback.do_checkpoint('mymodel', period=5)  # mod.fit(..., epoch_end_callback=cb)
    """
    period = _period(period)

    def _callback(iter_no: int, sym: Any, arg: Any, aux: Any) -> None:
        if (iter_no + 1) % period == 0:
            from .model import save_checkpoint  # loaded on first use

            save_checkpoint(prefix, iter_no + 1, sym, arg, aux)

    return _callback


def log_train_metric(period: int, auto_reset: bool = False) -> BatchCallback:
    """Batch-end callback logging the local metric values every ``period`` batches.

    Logs ``Iter[<epoch>] Batch[<nbatch>] Train-<name>=<value>`` when ``nbatch % period == 0``
    and then, with ``auto_reset``, clears the local sums (``reset_local``).
    """
    if isinstance(period, bool) or not isinstance(period, int) or period < 1:
        raise ValueError(f"period must be a positive int, got {period!r}")

    def _callback(param: Any) -> None:
        if param.nbatch % period == 0 and param.eval_metric is not None:
            for name, value in param.eval_metric.get_name_value():
                logging.info(
                    "Iter[%d] Batch[%d] Train-%s=%f", param.epoch, param.nbatch, name, value
                )
            if auto_reset:
                param.eval_metric.reset_local()

    return _callback


class Speedometer:
    r"""Log training speed and the local metric every ``frequent`` batches.

    The first call (and any call whose ``nbatch`` is lower than the previous one, i.e. a new
    epoch) only starts the timer. Afterwards, when ``nbatch % frequent == 0``:
    :math:`\text{speed} = \text{frequent}\cdot\text{batch\_size}/\Delta t` and it logs

    * ``Epoch[e] Batch [n-frequent-n]\tSpeed: s samples/sec\t<name>=<value>...`` and then
      resets the local metric, with ``auto_reset=True`` (default);
    * ``Epoch[e] Batch [0-n]\tSpeed: ...`` (running values since the epoch start) otherwise;
    * ``Iter[e] Batch [n]\tSpeed: ...`` when there is no metric;

    then restarts the timer.

    >>> import mxopt as mx
    >>> speed = mx.callback.Speedometer(batch_size=128, frequent=50)
    >>> # mod.fit(train_iter, batch_end_callback=speed, num_epoch=2)
    """

    def __init__(self, batch_size: int, frequent: int = 50, auto_reset: bool = True) -> None:
        if isinstance(frequent, bool) or not isinstance(frequent, int) or frequent < 1:
            raise ValueError(f"frequent must be a positive int, got {frequent!r}")
        self.batch_size = batch_size
        self.frequent = frequent
        self.init = False
        self.tic = 0.0
        self.last_count = 0
        self.auto_reset = auto_reset

    def __call__(self, param: Any) -> None:
        count = param.nbatch
        if self.last_count > count:
            self.init = False
        self.last_count = count
        if not self.init:
            self.init = True
            self.tic = time.time()
            return
        if count % self.frequent != 0:
            return
        elapsed = time.time() - self.tic
        speed = self.frequent * self.batch_size / elapsed if elapsed > 0 else float("inf")
        metric = param.eval_metric
        if metric is not None:
            name_value = metric.get_name_value()
            fields = [x for pair in name_value for x in pair]
            tail = "\t%s=%f" * len(name_value)
            if self.auto_reset:
                metric.reset_local()
                msg = "Epoch[%d] Batch [%d-%d]\tSpeed: %.2f samples/sec" + tail
                logging.info(msg, param.epoch, count - self.frequent, count, speed, *fields)
            else:
                msg = "Epoch[%d] Batch [0-%d]\tSpeed: %.2f samples/sec" + tail
                logging.info(msg, param.epoch, count, speed, *fields)
        else:
            logging.info("Iter[%d] Batch [%d]\tSpeed: %.2f samples/sec", param.epoch, count, speed)
        self.tic = time.time()


class ProgressBar:
    """Log a text progress bar ``[====----] 50%`` at every batch (MXNet's format).

    ``filled = round(length * nbatch / total)``, percent ``= ceil(100 * nbatch / total)``.
    """

    def __init__(self, total: int, length: int = 80) -> None:
        if isinstance(total, bool) or not isinstance(total, int) or total < 1:
            raise ValueError(f"total must be a positive int, got {total!r}")
        self.bar_len = length
        self.total = total

    def __call__(self, param: Any) -> None:
        count = param.nbatch
        filled = int(round(self.bar_len * count / float(self.total)))
        percents = math.ceil(100.0 * count / float(self.total))
        bar = "=" * filled + "-" * (self.bar_len - filled)
        logging.info("[%s] %s%s\r", bar, percents, "%")


class LogValidationMetricsCallback:
    """Log ``Epoch[e] Validation-<name>=<value>`` for each local metric value."""

    def __call__(self, param: Any) -> None:
        if not param.eval_metric:
            return
        for name, value in param.eval_metric.get_name_value():
            logging.info("Epoch[%d] Validation-%s=%f", param.epoch, name, value)


def _batches_per_epoch(data_iter: Any) -> int | None:
    """Batches per epoch of an ``NDArrayIter`` (None for other iterators)."""
    num = getattr(data_iter, "num_data", None)
    size = getattr(data_iter, "batch_size", None)
    handle = getattr(data_iter, "last_batch_handle", None)
    if not isinstance(num, int) or not isinstance(size, int) or size < 1:
        return None
    return num // size if handle in ("discard", "roll_over") else -(-num // size)


class ProgressCallback:
    """A live progress bar per epoch (``rich``), usable as ``batch_end_callback``.

    Shows ``Epoch[e]``, the batch count, elapsed/remaining time and the local metric values.
    ``total`` is the number of batches per epoch; when None it is read from the fit's
    ``train_data`` if that is an ``NDArrayIter`` (otherwise the bar has no end). The bar of
    an epoch closes at its last batch, so ``fit``'s ``Epoch[e] Train-...`` log lines print
    below it. Output goes to stderr; when that is not a terminal, rich prints no live bar.

    >>> import mxopt as mx
    >>> progress = mx.callback.ProgressCallback()
    >>> # mod.fit(train_iter, batch_end_callback=progress, num_epoch=5); progress.close()
    """

    def __init__(
        self, total: int | None = None, show_metric: bool = True, console: Any = None
    ) -> None:
        if total is not None and (
            isinstance(total, bool) or not isinstance(total, int) or total < 1
        ):
            raise ValueError(f"total must be None or a positive int, got {total!r}")
        self.total = total
        self.show_metric = show_metric
        self._console = console
        self._progress: Any = None
        self._task: Any = None
        self._epoch: int | None = None
        self._last = -1
        self._current_total: int | None = None

    def _start(self, epoch: int, total: int | None) -> None:
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )

        console = self._console if self._console is not None else Console(stderr=True)
        self._progress = Progress(
            TextColumn("Epoch[{task.fields[epoch]}]"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            TimeRemainingColumn(),
            TextColumn("{task.fields[metric]}"),
            console=console,
            redirect_stdout=False,
            redirect_stderr=False,
        )
        self._progress.start()
        self._task = self._progress.add_task("fit", total=total, epoch=epoch, metric="")

    def __call__(self, param: Any) -> None:
        nbatch = param.nbatch
        if self._progress is None or param.epoch != self._epoch or nbatch < self._last:
            self.close()
            total = self.total
            if total is None:
                local_vars = getattr(param, "locals", None) or {}
                total = _batches_per_epoch(local_vars.get("train_data"))
            self._start(param.epoch, total)
            self._epoch = param.epoch
            self._current_total = total
        self._last = nbatch
        metric = ""
        if self.show_metric and param.eval_metric is not None:
            pairs = param.eval_metric.get_name_value()
            metric = " ".join(f"{name}={value:.4f}" for name, value in pairs)
        self._progress.update(self._task, completed=nbatch + 1, metric=metric)
        if self._current_total is not None and nbatch + 1 >= self._current_total:
            self.close()

    def close(self) -> None:
        """Stop the live display (call after ``fit`` if the last epoch's bar is still open)."""
        if self._progress is not None:
            self._progress.stop()
            self._progress = None
            self._task = None
