"""``BaseModule``: the training loop (``fit``), evaluation (``score``) and ``predict`` written
once on top of ``bind``/``init_params``/``init_optimizer``/``forward``/``backward``/``update``.

``fit`` follows MXNet 1.9.1 step by step: bind → init_params → init_optimizer, then per
epoch ``metric.reset()``, for each batch forward+backward, update, update_metric and the
batch callbacks (``BatchEndParam(epoch, nbatch, eval_metric, locals)``); it logs
``Epoch[%d] Train-<name>=%f`` (global metric values), ``Epoch[%d] Time cost=%.3f``, calls
the epoch callbacks ``(epoch, symbol, arg_params, aux_params)``, scores ``eval_data``
(``Epoch[%d] Validation-<name>=%f``) and resets ``train_data``.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from typing import Any

import torch

from ..model import BatchEndParam

__all__ = ["BaseModule"]


def _as_list(obj: Any) -> list:
    if obj is None:
        return []
    return list(obj) if isinstance(obj, (list, tuple)) else [obj]


def _default_initializer() -> Any:
    from .. import initializer

    return initializer.Uniform(0.01)


class BaseModule:
    """Shared training/evaluation loops; subclasses provide the computation."""

    def __init__(self, logger: Any = logging) -> None:
        self.logger = logger
        self.binded = False
        self.for_training = False
        self.inputs_need_grad = False
        self.params_initialized = False
        self.optimizer_initialized = False
        self._symbol = None

    # ------------------------------------------------------------------ high level
    def forward_backward(self, data_batch: Any) -> None:
        """``forward(is_train=True)`` then ``backward()``."""
        self.forward(data_batch, is_train=True)
        self.backward()

    def prepare(self, data_batch: Any, sparse_row_id_fn: Callable | None = None) -> None:
        """Hook run on the next batch before it is used (nothing to do on one device)."""

    def _metric(self, eval_metric: Any) -> Any:
        from .. import metric

        return (
            eval_metric
            if isinstance(eval_metric, metric.EvalMetric)
            else metric.create(eval_metric)
        )

    def score(
        self,
        eval_data: Any,
        eval_metric: Any,
        num_batch: int | None = None,
        batch_end_callback: Any = None,
        score_end_callback: Any = None,
        reset: bool = True,
        epoch: int = 0,
        sparse_row_id_fn: Callable | None = None,
    ) -> list[tuple[str, float]]:
        """Run ``eval_data`` in inference mode and return ``eval_metric.get_name_value()``."""
        self._require(binded=True, params=True)
        if reset:
            eval_data.reset()
        eval_metric = self._metric(eval_metric)
        eval_metric.reset()
        actual_num_batch = 0
        for nbatch, eval_batch in enumerate(eval_data):
            if num_batch is not None and nbatch == num_batch:
                break
            self.prepare(eval_batch, sparse_row_id_fn=sparse_row_id_fn)
            self.forward(eval_batch, is_train=False)
            self.update_metric(eval_metric, eval_batch.label)
            if batch_end_callback is not None:
                params = BatchEndParam(epoch, nbatch, eval_metric, locals())
                for callback in _as_list(batch_end_callback):
                    callback(params)
            actual_num_batch += 1
        if score_end_callback:
            params = BatchEndParam(epoch, actual_num_batch, eval_metric, locals())
            for callback in _as_list(score_end_callback):
                callback(params)
        return eval_metric.get_name_value()

    def iter_predict(self, eval_data: Any, num_batch: int | None = None, reset: bool = True):
        """Yield ``(outputs without padding, batch index, batch)`` for each batch."""
        self._require(binded=True, params=True)
        if reset:
            eval_data.reset()
        for nbatch, eval_batch in enumerate(eval_data):
            if num_batch is not None and nbatch == num_batch:
                break
            self.prepare(eval_batch)
            self.forward(eval_batch, is_train=False)
            pad = eval_batch.pad or 0
            outputs = [out[0 : out.shape[0] - pad] for out in self.get_outputs()]
            yield outputs, nbatch, eval_batch

    def predict(
        self,
        eval_data: Any,
        num_batch: int | None = None,
        merge_batches: bool = True,
        reset: bool = True,
        always_output_list: bool = False,
        sparse_row_id_fn: Callable | None = None,
    ) -> Any:
        """Outputs for every batch of ``eval_data`` (an iterator, or an array which is
        wrapped in ``NDArrayIter`` with the bound batch size), padding removed, batches
        concatenated when ``merge_batches``; a single output is returned bare unless
        ``always_output_list``."""
        self._require(binded=True, params=True)
        if isinstance(eval_data, torch.Tensor) or hasattr(eval_data, "__array__"):
            from .. import io

            eval_data = io.NDArrayIter(
                eval_data, batch_size=self.data_shapes[0][1][0], last_batch_handle="pad"
            )
        if reset:
            eval_data.reset()
        output_list = []
        for nbatch, eval_batch in enumerate(eval_data):
            if num_batch is not None and nbatch == num_batch:
                break
            self.prepare(eval_batch, sparse_row_id_fn=sparse_row_id_fn)
            self.forward(eval_batch, is_train=False)
            pad = eval_batch.pad or 0
            output_list.append([out[0 : out.shape[0] - pad].clone() for out in self.get_outputs()])
        if not output_list or not merge_batches:
            return output_list
        num_outputs = len(output_list[0])
        merged = [torch.cat([batch[i] for batch in output_list]) for i in range(num_outputs)]
        if num_outputs == 1 and not always_output_list:
            return merged[0]
        return merged

    def fit(
        self,
        train_data: Any,
        eval_data: Any = None,
        eval_metric: Any = "acc",
        epoch_end_callback: Any = None,
        batch_end_callback: Any = None,
        kvstore: Any = "local",
        optimizer: Any = "sgd",
        optimizer_params: Any = (("learning_rate", 0.01),),
        eval_end_callback: Any = None,
        eval_batch_end_callback: Any = None,
        initializer: Any = None,
        arg_params: dict | None = None,
        aux_params: dict | None = None,
        allow_missing: bool = False,
        force_rebind: bool = False,
        force_init: bool = False,
        begin_epoch: int = 0,
        num_epoch: int | None = None,
        validation_metric: Any = None,
        monitor: Any = None,
        sparse_row_id_fn: Callable | None = None,
    ) -> None:
        """Train for epochs ``begin_epoch .. num_epoch-1`` (see the module docstring).

        ``initializer`` defaults to ``Uniform(0.01)``. ``begin_epoch`` only numbers the
        epochs; optimizer counters come from the optimizer (or its loaded states).
        """
        if num_epoch is None:
            raise ValueError("fit needs num_epoch (the number of epochs to train)")
        if monitor is not None:
            raise ValueError("monitor is not supported by mxopt's Module")
        if initializer is None:
            initializer = _default_initializer()
        self.bind(
            data_shapes=train_data.provide_data,
            label_shapes=train_data.provide_label,
            for_training=True,
            force_rebind=force_rebind,
        )
        self.init_params(
            initializer=initializer,
            arg_params=arg_params,
            aux_params=aux_params,
            allow_missing=allow_missing,
            force_init=force_init,
        )
        self.init_optimizer(kvstore=kvstore, optimizer=optimizer, optimizer_params=optimizer_params)
        if validation_metric is None:
            validation_metric = eval_metric
        eval_metric = self._metric(eval_metric)

        for epoch in range(begin_epoch, num_epoch):
            tic = time.time()
            eval_metric.reset()
            nbatch = 0
            data_iter = iter(train_data)
            end_of_batch = False
            next_data_batch = next(data_iter)
            eval_name_vals: list = []
            while not end_of_batch:
                data_batch = next_data_batch
                self.forward_backward(data_batch)
                self.update()
                self.update_metric(eval_metric, data_batch.label)
                try:
                    next_data_batch = next(data_iter)
                    self.prepare(next_data_batch, sparse_row_id_fn=sparse_row_id_fn)
                except StopIteration:
                    end_of_batch = True
                if end_of_batch:
                    eval_name_vals = eval_metric.get_global_name_value()
                if batch_end_callback is not None:
                    params = BatchEndParam(epoch, nbatch, eval_metric, locals())
                    for callback in _as_list(batch_end_callback):
                        callback(params)
                nbatch += 1
            for name, val in eval_name_vals:
                self.logger.info("Epoch[%d] Train-%s=%f", epoch, name, val)
            toc = time.time()
            self.logger.info("Epoch[%d] Time cost=%.3f", epoch, toc - tic)

            arg_params_now, aux_params_now = self.get_params()
            self.set_params(arg_params_now, aux_params_now)
            for callback in _as_list(epoch_end_callback):
                callback(epoch, self.symbol, arg_params_now, aux_params_now)
            if eval_data:
                res = self.score(
                    eval_data,
                    validation_metric,
                    score_end_callback=eval_end_callback,
                    batch_end_callback=eval_batch_end_callback,
                    epoch=epoch,
                )
                for name, val in res:
                    self.logger.info("Epoch[%d] Validation-%s=%f", epoch, name, val)
            train_data.reset()

    # ------------------------------------------------------------------ helpers
    @property
    def symbol(self) -> Any:
        """The module's symbol."""
        return self._symbol

    def _require(self, binded: bool = False, params: bool = False, optimizer: bool = False):
        if binded and not self.binded:
            raise RuntimeError("call bind() first")
        if params and not self.params_initialized:
            raise RuntimeError("call init_params() (or set_params) first")
        if optimizer and not self.optimizer_initialized:
            raise RuntimeError("call init_optimizer() first")

    # subclasses implement these
    def bind(self, *args: Any, **kwargs: Any) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    def init_params(self, *args: Any, **kwargs: Any) -> None:  # pragma: no cover
        raise NotImplementedError

    def init_optimizer(self, *args: Any, **kwargs: Any) -> None:  # pragma: no cover
        raise NotImplementedError

    def forward(self, data_batch: Any, is_train: bool | None = None) -> None:  # pragma: no cover
        raise NotImplementedError

    def backward(self, out_grads: Sequence | None = None) -> None:  # pragma: no cover
        raise NotImplementedError

    def update(self) -> None:  # pragma: no cover
        raise NotImplementedError

    def update_metric(self, eval_metric: Any, labels: Any, pre_sliced: bool = False) -> None:
        raise NotImplementedError  # pragma: no cover

    def get_outputs(self, merge_multi_context: bool = True) -> list:  # pragma: no cover
        raise NotImplementedError

    def get_params(self) -> tuple[dict, dict]:  # pragma: no cover
        raise NotImplementedError

    def set_params(self, *args: Any, **kwargs: Any) -> None:  # pragma: no cover
        raise NotImplementedError
