"""``mx.mod.Module``: a symbol bound on one device, its parameters and its optimizer.

Workflow (MXNet 1.9.1's): ``bind`` → ``init_params`` → ``init_optimizer`` → per batch
``forward``/``backward``/``update`` (or ``fit``). One SGD step on a batch of ``B`` samples is
``w ← w − η((1/B)·Σ ∂L/∂w + λw)``: the gradient is summed over the batch by the loss heads
and ``rescale_grad`` defaults to ``1/B``.

>>> import torch, mxopt as mx
>>> data = mx.sym.Variable('data')
>>> net = mx.sym.SoftmaxOutput(mx.sym.FullyConnected(data, name='fc', num_hidden=3),
...                            name='softmax')
>>> mod = mx.mod.Module(net)
>>> mod.bind(data_shapes=[('data', (4, 5))], label_shapes=[('softmax_label', (4,))])
>>> mod.init_params(mx.init.Uniform(0.1))
>>> mod.init_optimizer(optimizer='sgd', optimizer_params={'learning_rate': 0.1})
>>> batch = mx.io.DataBatch([torch.ones(4, 5)], [torch.zeros(4)])
>>> mod.forward(batch); mod.backward(); mod.update()
>>> mod.get_outputs()[0].shape
torch.Size([4, 3])
"""

from __future__ import annotations

import logging
import os
import warnings
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from typing import Any

import torch

from ..context import Context, cpu
from ..symbol import Symbol
from ..symbol.executor import Executor
from ..symbol.symbol import atomic_write
from .base_module import BaseModule
from .legacy_states import is_pickle, load_legacy_states

__all__ = ["Module"]

_STATE_EXT = "states"


def _parse_descs(shapes: Any, what: str) -> list[tuple[str, tuple[int, ...], Any, str]]:
    """``[(name, shape)]`` pairs or ``DataDesc``s → ``[(name, shape, dtype, layout)]``."""
    if shapes is None:
        return []
    if not isinstance(shapes, (list, tuple)):
        raise TypeError(f"{what} must be a list of (name, shape) pairs or DataDesc objects")
    out = []
    for item in shapes:
        try:
            name, shape = item[0], item[1]
        except (TypeError, IndexError):
            raise TypeError(f"{what}: {item!r} is not a (name, shape) pair or DataDesc") from None
        if not isinstance(name, str):
            raise TypeError(f"{what}: name must be a str, got {name!r}")
        try:
            shape = tuple(int(d) for d in shape)
        except (TypeError, ValueError):
            raise TypeError(f"{what}: shape of {name!r} must be a tuple of ints") from None
        dtype = getattr(item, "dtype", None)
        layout = getattr(item, "layout", "NCHW") or "NCHW"
        out.append((name, shape, dtype, layout))
    return out


def _torch_dtype(dtype: Any) -> torch.dtype:
    from ..ndarray import to_dtype

    if dtype is None:
        return torch.float32
    try:
        return to_dtype(dtype)
    except TypeError:
        return torch.float32


class Module(BaseModule):
    """A symbol with its data/label names, parameters and optimizer on one device.

    ``data_names``/``label_names`` name the symbol inputs fed from batches; every other
    argument is a parameter (``param_names``, in ``list_arguments()`` order; names in
    ``fixed_param_names`` get no gradient and are never updated). ``context`` is one
    ``mx.cpu()``/``mx.gpu(i)`` (or a list holding one).
    """

    def __init__(
        self,
        symbol: Symbol,
        data_names: Sequence[str] | None = ("data",),
        label_names: Sequence[str] | None = ("softmax_label",),
        logger: Any = logging,
        context: Any = None,
        work_load_list: Any = None,
        fixed_param_names: Sequence[str] | None = None,
        state_names: Sequence[str] | None = None,
        group2ctxs: Any = None,
        compression_params: Any = None,
    ) -> None:
        super().__init__(logger=logger)
        if not isinstance(symbol, Symbol):
            raise TypeError(f"symbol must be an mx.sym.Symbol, got {type(symbol).__name__}")
        if context is None:
            context = cpu()
        if isinstance(context, (list, tuple)):
            if len(context) != 1:
                raise ValueError(
                    f"context: mxopt's Module runs on one device, got {len(context)} contexts"
                )
            context = context[0]
        if not isinstance(context, Context):
            raise TypeError(f"context must be mx.cpu() or mx.gpu(i), got {context!r}")
        if state_names:
            raise ValueError("state_names is not supported by mxopt's Module")
        self._context = context
        self._device = context.torch_device
        self._symbol = symbol
        data_names = list(data_names) if data_names is not None else []
        label_names = list(label_names) if label_names is not None else []
        fixed = list(fixed_param_names) if fixed_param_names is not None else []
        arg_names = symbol.list_arguments()
        for name in data_names:
            if name not in arg_names:
                raise ValueError(
                    f"data_names: {name!r} is not an argument of the symbol; arguments are "
                    f"{arg_names}"
                )
        for name in label_names:
            if name not in arg_names:
                self.logger.warning(
                    "You created Module with Module(..., label_names=%s) but input with name "
                    "'%s' is not found in symbol.list_arguments().",
                    label_names,
                    name,
                )
        input_names = data_names + label_names
        self._data_names = data_names
        self._label_names = label_names
        self._fixed_param_names = fixed
        self._param_names = [n for n in arg_names if n not in input_names]
        unknown_fixed = [n for n in fixed if n not in self._param_names]
        if unknown_fixed:
            raise ValueError(
                f"fixed_param_names {unknown_fixed} are not parameters; parameters are "
                f"{self._param_names}"
            )
        self._aux_names = symbol.list_auxiliary_states()
        self._output_names = symbol.list_outputs()
        self._arg_params: dict[str, torch.Tensor] | None = None
        self._aux_params: dict[str, torch.Tensor] | None = None
        self._params_dirty = False
        self._optimizer: Any = None
        self._updater: Any = None
        self._preload_opt_states: str | None = None
        self._allow_pickle_states = False
        self._exec: Executor | None = None
        self._data_shapes: list = []
        self._label_shapes: list = []

    # ------------------------------------------------------------------ properties
    @property
    def data_names(self) -> list[str]:
        return list(self._data_names)

    @property
    def label_names(self) -> list[str]:
        return list(self._label_names)

    @property
    def output_names(self) -> list[str]:
        return list(self._output_names)

    @property
    def param_names(self) -> list[str]:
        return list(self._param_names)

    @property
    def aux_names(self) -> list[str]:
        return list(self._aux_names)

    @property
    def data_shapes(self) -> list:
        self._require(binded=True)
        return [self._desc(*d) for d in self._data_shapes]

    @property
    def label_shapes(self) -> list:
        self._require(binded=True)
        return [self._desc(*d) for d in self._label_shapes]

    @property
    def output_shapes(self) -> list[tuple[str, tuple[int, ...]]]:
        self._require(binded=True)
        _, outs, _ = self._infer(self._data_shapes, self._label_shapes)
        return list(zip(self._output_names, outs, strict=True))

    @staticmethod
    def _desc(name: str, shape: tuple, dtype: Any, layout: str) -> Any:
        from ..io import DataDesc

        return DataDesc(name, shape, dtype if dtype is not None else "float32", layout)

    # ------------------------------------------------------------------ binding
    def _infer(self, data_shapes: list, label_shapes: list) -> tuple:
        arg_names = self._symbol.list_arguments()
        known = {name: shape for name, shape, _, _ in data_shapes}
        known.update({n: s for n, s, _, _ in label_shapes if n in arg_names})
        arg_shapes, out_shapes, aux_shapes = self._symbol.infer_shape(**known)
        if arg_shapes is None:
            partial = self._symbol.infer_shape_partial(**known)[0]
            missing = [n for n, s in zip(arg_names, partial, strict=True) if not s]
            raise ValueError(
                f"cannot infer the shapes of {missing} from data shapes {known}; give them in "
                "data_shapes/label_shapes or as Variable(shape=...)"
            )
        return arg_shapes, out_shapes, aux_shapes

    def bind(
        self,
        data_shapes: Any,
        label_shapes: Any = None,
        for_training: bool = True,
        inputs_need_grad: bool = False,
        force_rebind: bool = False,
        shared_module: Any = None,
        grad_req: str = "write",
    ) -> None:
        """Allocate arrays for ``data_shapes``/``label_shapes`` (``(name, shape)`` pairs or
        ``DataDesc``). Data names must match ``data_names``; every label name that is a
        symbol argument must be given when ``label_shapes`` is. Wrong shapes raise
        ``ValueError`` naming the argument."""
        if force_rebind:
            self._reset_bind()
        if self.binded:
            self.logger.warning("Already bound, ignoring bind()")
            return
        if shared_module is not None:
            raise ValueError("shared_module is not supported by mxopt's Module")
        if grad_req not in ("write", "add", "null"):
            raise ValueError(f"grad_req must be 'write', 'add' or 'null', got {grad_req!r}")
        data = _parse_descs(data_shapes, "data_shapes")
        labels = _parse_descs(label_shapes, "label_shapes")
        given = [d[0] for d in data]
        if sorted(given) != sorted(self._data_names):
            raise ValueError(
                f"data_shapes names {given} do not match data_names {self._data_names}"
            )
        data.sort(key=lambda d: self._data_names.index(d[0]))
        arg_names = self._symbol.list_arguments()
        if label_shapes is not None:
            label_given = [d[0] for d in labels]
            missing = [n for n in self._label_names if n in arg_names and n not in label_given]
            if missing and for_training:
                raise ValueError(
                    f"label {missing[0]!r} is missing from label_shapes (the iterator's "
                    f"provide_label gives {label_given}); the symbol needs labels "
                    f"{[n for n in self._label_names if n in arg_names]}"
                )
            labels = [d for d in labels if d[0] in self._label_names]
        arg_shapes, _, aux_shapes = self._infer(data, labels)
        shapes = dict(zip(arg_names, arg_shapes, strict=True))
        if self._arg_params is not None:
            for name in self._param_names:
                have = self._arg_params.get(name)
                if have is not None and tuple(have.shape) != shapes[name]:
                    raise ValueError(
                        f"parameter {name!r} has shape {tuple(have.shape)} but the data shapes "
                        f"need {shapes[name]}"
                    )
        dtypes = {d[0]: _torch_dtype(d[2]) for d in [*data, *labels]}
        reqs: dict[str, str] = {}
        for name in arg_names:
            if not for_training:
                reqs[name] = "null"
            elif name in self._data_names:
                reqs[name] = grad_req if inputs_need_grad else "null"
            elif name in self._label_names or name in self._fixed_param_names:
                reqs[name] = "null"
            else:
                reqs[name] = grad_req
        dev = self._device
        args = {
            n: torch.zeros(shapes[n], dtype=dtypes.get(n, torch.float32), device=dev)
            for n in arg_names
        }
        grads = {n: None if reqs[n] == "null" else torch.zeros_like(args[n]) for n in arg_names}
        aux = {
            n: torch.zeros(s, device=dev) for n, s in zip(self._aux_names, aux_shapes, strict=True)
        }
        self._exec = Executor(self._symbol, dev, args, grads, reqs, aux)
        self._data_shapes = data
        self._label_shapes = labels
        self.for_training = for_training
        self.inputs_need_grad = inputs_need_grad
        self.binded = True
        if self.params_initialized:
            self._exec.copy_params_from(self._arg_params or {}, self._aux_params or {})

    def _reset_bind(self) -> None:
        self.binded = False
        self._exec = None
        self._data_shapes = []
        self._label_shapes = []

    def reshape(self, data_shapes: Any, label_shapes: Any = None) -> None:
        """Re-size the data/label arrays for new batch shapes (parameters are kept)."""
        self._require(binded=True)
        data = _parse_descs(data_shapes, "data_shapes")
        labels = [
            d for d in _parse_descs(label_shapes, "label_shapes") if d[0] in self._label_names
        ]
        arg_shapes, _, _ = self._infer(data, labels)
        shapes = dict(zip(self._symbol.list_arguments(), arg_shapes, strict=True))
        for name in self._param_names:
            if tuple(self._exec.arg_dict[name].shape) != shapes[name]:
                raise ValueError(
                    f"reshape would change parameter {name!r} from "
                    f"{tuple(self._exec.arg_dict[name].shape)} to {shapes[name]}"
                )
        for name, _, dtype, _ in [*data, *labels]:
            old = self._exec.arg_dict[name]
            self._exec.arg_dict[name] = torch.zeros(
                shapes[name], dtype=_torch_dtype(dtype) if dtype else old.dtype, device=old.device
            )
            if self._exec.grad_dict.get(name) is not None:
                self._exec.grad_dict[name] = torch.zeros_like(self._exec.arg_dict[name])
        self._data_shapes = data
        self._label_shapes = labels

    # ------------------------------------------------------------------ parameters
    def init_params(
        self,
        initializer: Any = None,
        arg_params: Mapping[str, torch.Tensor] | None = None,
        aux_params: Mapping[str, torch.Tensor] | None = None,
        allow_missing: bool = False,
        force_init: bool = False,
        allow_extra: bool = False,
    ) -> None:
        """Initialise parameters, arguments then auxiliary states, each sorted by name:
        a name found in ``arg_params``/``aux_params`` is copied; otherwise (only with
        ``allow_missing`` when a dict was given) ``initializer(InitDesc(name, attrs), arr)``
        with the symbol's attributes for ``name``. ``initializer`` defaults to
        ``Uniform(0.01)``."""
        if self.params_initialized and not force_init:
            warnings.warn(
                "Parameters already initialized and force_init=False. init_params call ignored.",
                stacklevel=2,
            )
            return
        self._require(binded=True)
        from .. import initializer as init_mod

        if initializer is None and arg_params is None and aux_params is None:
            initializer = init_mod.Uniform(0.01)
        for what, given, names in (
            ("arg_params", arg_params, self._param_names),
            ("aux_params", aux_params, self._aux_names),
        ):
            if given is None:
                continue
            if not isinstance(given, Mapping):
                raise TypeError(f"{what} must be a dict of name -> tensor")
            extra = [n for n in given if n not in names]
            if extra and not allow_extra:
                raise ValueError(
                    f"{what} has {extra}, which are not {what[:3]} names of the symbol "
                    f"({names}); pass allow_extra=True to ignore them"
                )
            for name in names:
                if name in given:
                    want = tuple(
                        self._exec.arg_dict[name].shape
                        if what == "arg_params"
                        else self._exec.aux_dict[name].shape
                    )
                    have = tuple(torch.as_tensor(given[name]).shape)
                    if have != want:
                        raise ValueError(f"{what}[{name!r}] has shape {have}, expected {want}")
                elif not allow_missing:
                    raise RuntimeError(f"{name} is not presented")
        if self._arg_params is None:
            self._arg_params = {
                n: torch.zeros_like(self._exec.arg_dict[n], device="cpu") for n in self._param_names
            }
            self._aux_params = {
                n: torch.zeros_like(self._exec.aux_dict[n], device="cpu") for n in self._aux_names
            }
        attrs = self._symbol.attr_dict()

        def _impl(name: str, arr: torch.Tensor, cache: Mapping | None) -> None:
            if cache is not None and name in cache:
                with torch.no_grad():
                    arr.copy_(torch.as_tensor(cache[name]).to(arr.dtype).to("cpu"))
                return
            if initializer is not None:
                initializer(init_mod.InitDesc(name, attrs.get(name, None)), arr)

        for name, arr in sorted(self._arg_params.items()):
            _impl(name, arr, arg_params)
        for name, arr in sorted(self._aux_params.items()):
            _impl(name, arr, aux_params)
        self.params_initialized = True
        self._params_dirty = False
        self._exec.copy_params_from(self._arg_params, self._aux_params)

    def set_params(
        self,
        arg_params: Mapping[str, torch.Tensor],
        aux_params: Mapping[str, torch.Tensor] | None,
        allow_missing: bool = False,
        force_init: bool = True,
        allow_extra: bool = False,
    ) -> None:
        """Copy given parameter values into the module (``init_params`` with no
        initializer unless ``allow_missing``)."""
        if not allow_missing:
            self.init_params(
                initializer=None,
                arg_params=arg_params,
                aux_params=aux_params,
                allow_missing=allow_missing,
                force_init=force_init,
                allow_extra=allow_extra,
            )
            return
        if self.params_initialized and not force_init:
            warnings.warn(
                "Parameters already initialized and force_init=False. set_params call ignored.",
                stacklevel=2,
            )
            return
        self._require(binded=True)
        self._exec.copy_params_from(arg_params, aux_params, allow_extra_params=allow_extra)
        self._params_dirty = True
        self.params_initialized = True

    def get_params(self) -> tuple[dict[str, torch.Tensor], dict[str, torch.Tensor]]:
        """``(arg_params, aux_params)`` as CPU tensors, synchronised from the device."""
        self._require(binded=True, params=True)
        if self._params_dirty or self._arg_params is None:
            self._sync_params_from_devices()
        return self._arg_params, self._aux_params

    def _sync_params_from_devices(self) -> None:
        if self._arg_params is None:
            self._arg_params, self._aux_params = {}, {}
        for name in self._param_names:
            self._arg_params[name] = self._exec.arg_dict[name].detach().to("cpu", copy=True)
        for name in self._aux_names:
            self._aux_params[name] = self._exec.aux_dict[name].detach().to("cpu", copy=True)
        self._params_dirty = False

    def save_params(self, fname: str) -> None:
        """Write parameters to an MXNet params file (``arg:<name>``/``aux:<name>``)."""
        from .. import ndarray as nd

        arg_params, aux_params = self.get_params()
        save_dict = {f"arg:{k}": v for k, v in arg_params.items()}
        save_dict.update({f"aux:{k}": v for k, v in aux_params.items()})
        nd.save(fname, save_dict)

    def load_params(self, fname: str) -> None:
        """Read an MXNet params file and :meth:`set_params` from it."""
        from ..model import split_params

        arg_params, aux_params = split_params(fname)
        self.set_params(arg_params, aux_params)

    # ------------------------------------------------------------------ optimizer
    def init_optimizer(
        self,
        kvstore: Any = "local",
        optimizer: Any = "sgd",
        optimizer_params: Any = (("learning_rate", 0.01),),
        force_init: bool = False,
    ) -> None:
        """Create the optimizer and its updater.

        ``rescale_grad`` defaults to ``1/batch_size``; a string optimizer also receives
        ``sym`` and ``param_idx2name = {i: name}`` (so ``lr_mult``/``wd_mult`` attributes and
        the no-decay rule for biases apply). ``kvstore`` may be ``'local'``, ``'device'`` or
        ``None``: on one device all mean local updates.
        """
        self._require(binded=True, params=True)
        if self.optimizer_initialized and not force_init:
            self.logger.warning("optimizer already initialized, ignoring...")
            return
        from .. import optimizer as opt

        if kvstore is not None and not isinstance(kvstore, str):
            raise TypeError(f"kvstore must be 'local', 'device' or None, got {kvstore!r}")
        if isinstance(kvstore, str) and "dist" in kvstore:
            raise ValueError(f"kvstore {kvstore!r}: distributed training is not supported")
        if isinstance(optimizer_params, Mapping):
            params = dict(optimizer_params)
        else:
            try:
                params = dict(optimizer_params)
            except (TypeError, ValueError):
                raise TypeError(
                    "optimizer_params must be a dict or a sequence of (name, value) pairs"
                ) from None
        batch_size = self._data_shapes[0][1][0] if self._data_shapes else 1
        layout = self._data_shapes[0][3] if self._data_shapes else "NCHW"
        if "N" in layout and self._data_shapes:
            batch_size = self._data_shapes[0][1][layout.index("N")]
        rescale_grad = 1.0 / batch_size
        idx2name = dict(enumerate(self._param_names))
        if isinstance(optimizer, str):
            params.setdefault("rescale_grad", rescale_grad)
            optimizer = opt.create(optimizer, sym=self._symbol, param_idx2name=idx2name, **params)
        elif isinstance(optimizer, opt.Optimizer):
            if optimizer.rescale_grad != rescale_grad:
                warnings.warn(
                    "Optimizer created manually outside Module but rescale_grad is not "
                    f"normalized to 1.0/batch_size/num_workers ({optimizer.rescale_grad} vs. "
                    f"{rescale_grad}). Is this intended?",
                    stacklevel=2,
                )
            if not optimizer.idx2name:
                optimizer.idx2name = idx2name.copy()
        else:
            raise TypeError(
                f"optimizer must be a name or an mx.optimizer.Optimizer, got {optimizer!r}"
            )
        self._optimizer = optimizer
        self._updater = opt.get_updater(optimizer)
        self.optimizer_initialized = True
        if self._preload_opt_states is not None:
            self.load_optimizer_states(self._preload_opt_states, self._allow_pickle_states)
            self._preload_opt_states = None

    def save_optimizer_states(self, fname: str) -> None:
        """Write the updater's states *and the optimizer* (counters, scheduler) atomically,
        in mxopt's non-pickle format (``Updater.get_states(dump_optimizer=True)``)."""
        self._require(optimizer=True)
        atomic_write(os.fspath(fname), self._updater.get_states(dump_optimizer=True))

    def load_optimizer_states(self, fname: str, allow_pickle: bool = False) -> None:
        """Load states written by :meth:`save_optimizer_states`. An MXNet ``.states`` pickle
        is read only with ``allow_pickle=True`` (restricted unpickler; states only, so
        optimizer counters restart as in MXNet)."""
        self._require(optimizer=True)
        with open(fname, "rb") as fh:
            data = fh.read()
        if is_pickle(data):
            if not allow_pickle:
                raise ValueError(
                    f"{fname!r} is a pickle (an MXNet .states file); pass allow_pickle=True to "
                    "read it with mxopt's restricted unpickler, and only for files you trust"
                )
            states = load_legacy_states(data)
            self._updater.states = states
            self._updater.states_synced = dict.fromkeys(states, False)
            return
        self._updater.set_states(data)
        self._optimizer = self._updater.optimizer

    # ------------------------------------------------------------------ computation
    def forward(self, data_batch: Any, is_train: bool | None = None) -> None:
        """Copy the batch into the bound arrays and run the graph (``is_train`` defaults to
        ``for_training``). New batch shapes re-size the data arrays."""
        self._require(binded=True, params=True)
        if is_train is None:
            is_train = self.for_training
        data = list(data_batch.data) if data_batch.data is not None else []
        if len(data) != len(self._data_names):
            raise ValueError(
                f"the batch has {len(data)} data arrays, the module expects "
                f"{len(self._data_names)} ({self._data_names})"
            )
        arg_names = self._symbol.list_arguments()
        label_feed = [n for n in self._label_names if n in arg_names]
        labels = list(data_batch.label) if getattr(data_batch, "label", None) else []
        new_data = [tuple(d.shape) for d in data]
        old_data = [d[1] for d in self._data_shapes]
        label_pairs = [
            (n, tuple(lab.shape)) for n, lab in zip(self._label_names, labels, strict=False)
        ]
        if new_data != old_data or any(
            tuple(self._exec.arg_dict[n].shape) != s for n, s in label_pairs if n in arg_names
        ):
            self.reshape(
                [(n, s) for n, s in zip(self._data_names, new_data, strict=True)],
                label_pairs or None,
            )
        for name, value in zip(self._data_names, data, strict=True):
            self._copy_in(name, value)
        for name, value in zip(self._label_names, labels, strict=False):
            if name in label_feed:
                self._copy_in(name, value)
        self._exec.forward(is_train=is_train)

    def _copy_in(self, name: str, value: Any) -> None:
        target = self._exec.arg_dict[name]
        value = torch.as_tensor(value)
        if tuple(value.shape) != tuple(target.shape):
            raise ValueError(
                f"input {name!r} has shape {tuple(value.shape)}, expected {tuple(target.shape)}"
            )
        with torch.no_grad():
            target.copy_(value.to(device=target.device))

    def backward(self, out_grads: Any = None) -> None:
        """Back-propagate (loss heads ignore ``out_grads``)."""
        self._require(binded=True, params=True)
        if not self.for_training:
            raise RuntimeError("backward needs a module bound with for_training=True")
        self._exec.backward(out_grads=out_grads)

    def update(self) -> None:
        """Apply the optimizer: one updater call with the lists ``(indices, grads, weights)``,
        index = position in ``param_names`` (fixed parameters skipped)."""
        self._require(binded=True, params=True, optimizer=True)
        self._params_dirty = True
        indices, grads, weights = [], [], []
        for i, name in enumerate(self._param_names):
            grad = self._exec.grad_dict.get(name)
            if grad is None:
                continue
            indices.append(i)
            grads.append(grad)
            weights.append(self._exec.arg_dict[name])
        if indices:
            self._updater(indices, grads, weights)

    def get_outputs(self, merge_multi_context: bool = True) -> list[torch.Tensor]:
        """The outputs of the last forward pass."""
        self._require(binded=True, params=True)
        return list(self._exec.outputs)

    def get_input_grads(self, merge_multi_context: bool = True) -> list[torch.Tensor]:
        """Gradients of the data inputs (bind with ``inputs_need_grad=True``)."""
        self._require(binded=True, params=True)
        if not self.inputs_need_grad:
            raise RuntimeError("get_input_grads needs bind(..., inputs_need_grad=True)")
        return [self._exec.grad_dict[n] for n in self._data_names]

    def update_metric(self, eval_metric: Any, labels: Any, pre_sliced: bool = False) -> None:
        """``eval_metric.update_dict({label name: label}, {output name: output})``."""
        labels_ = OrderedDict(zip(self._label_names, labels or [], strict=False))
        preds = OrderedDict(zip(self._output_names, self._exec.outputs, strict=False))
        eval_metric.update_dict(labels_, preds)

    # ------------------------------------------------------------------ checkpoints
    def save_checkpoint(
        self,
        prefix: str,
        epoch: int,
        save_optimizer_states: bool = False,
        remove_amp_cast: bool = True,
    ) -> None:
        """Write ``prefix-symbol.json``, ``prefix-%04d.params`` and, if asked,
        ``prefix-%04d.states`` (each atomically)."""
        self._symbol.save(f"{prefix}-symbol.json", remove_amp_cast=remove_amp_cast)
        param_name = f"{prefix}-{epoch:04d}.params"
        self.save_params(param_name)
        logging.info('Saved checkpoint to "%s"', param_name)
        if save_optimizer_states:
            state_name = f"{prefix}-{epoch:04d}.{_STATE_EXT}"
            self.save_optimizer_states(state_name)
            logging.info('Saved optimizer state to "%s"', state_name)

    @staticmethod
    def load(
        prefix: str,
        epoch: int,
        load_optimizer_states: bool = False,
        allow_pickle: bool = False,
        **kwargs: Any,
    ) -> Module:
        """A Module from a checkpoint; its parameters are set at ``bind``, and with
        ``load_optimizer_states`` the states (and, for mxopt files, the optimizer with its
        counters and scheduler) are restored at ``init_optimizer``."""
        from ..model import load_checkpoint

        sym, args, auxs = load_checkpoint(prefix, epoch)
        mod = Module(symbol=sym, **kwargs)
        mod._arg_params = args
        mod._aux_params = auxs
        mod.params_initialized = True
        if load_optimizer_states:
            state_name = f"{prefix}-{epoch:04d}.{_STATE_EXT}"
            if not os.path.isfile(state_name):
                raise FileNotFoundError(f"optimizer states file {state_name!r} does not exist")
            mod._preload_opt_states = state_name
            mod._allow_pickle_states = allow_pickle
        return mod
