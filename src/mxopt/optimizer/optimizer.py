"""The ``Optimizer`` base class and the optimizer registry.

An optimizer holds the *bookkeeping* of MXNet 1.9.1's optimizers: the learning rate and
its scheduler, weight decay, gradient rescaling and clipping, per-parameter multipliers,
per-index update counts and multi-precision master copies. The update *math* lives in the
``mx.nd`` operators (:mod:`mxopt.ndarray.ops`); subclasses connect the two in ``_step``.

Extending it works as in MXNet: subclass, implement ``create_state`` and ``update``, and
register the class::

    @mx.optimizer.register
    class MySGD(mx.optimizer.Optimizer):
        def create_state(self, index, weight):
            return None

        def update(self, index, weight, grad, state):
            self._update_count(index)
            lr, wd = self._get_lr(index), self._get_wd(index)
            weight -= lr * (grad * self.rescale_grad + wd * weight)
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Callable, Mapping, Sequence
from itertools import repeat
from operator import add, attrgetter
from typing import Any, ClassVar

import torch

from ..errors import MXNetTypeError
from . import fused  # the fast path (compiles nothing at import)
from ._checks import LOW_PRECISION, check_number, check_pairs, check_range

__all__ = ["Optimizer", "register", "create", "registered_names"]

Index = int | str
State = Any

BASE_ARGS_DOC = """Common arguments (every optimizer accepts them, as in MXNet 1.9.1):

    rescale_grad : float, default 1.0
        Multiplies every gradient before anything else (``Module`` sets 1/batch_size).
    param_idx2name : dict of int to str, optional
        Parameter names by index; names not ending in ``_weight`` or ``_gamma`` get
        wd_mult 0 by default.
    wd : float, default 0.0
        Weight decay (L2 coefficient), scaled per parameter by wd_mult.
    clip_gradient : float or None, default None
        Clip the rescaled gradient to ``[-clip_gradient, clip_gradient]``. For optimizers
        built on fused operators, ``None``, 0 and negatives disable clipping.
    learning_rate : float, optional
        The learning rate (0.01 when neither it nor ``lr_scheduler`` is given).
    lr_scheduler : LRScheduler, optional
        Gives the learning rate for each ``num_update``; a ``learning_rate`` that differs
        from its ``base_lr`` overwrites ``base_lr`` (and a notice is printed).
    sym : Symbol, optional
        Its ``__lr_mult__``/``__wd_mult__`` attributes set the multipliers by name.
    begin_num_update : int, default 0
        The update count each parameter starts from.
    multi_precision : bool, default False
        Keep a float32 master copy of float16/bfloat16 weights and update that.
    param_dict : dict, optional
        Index to objects with ``lr_mult``/``wd_mult`` attributes (e.g. Gluon parameters);
        takes precedence over every other multiplier. Never serialized.
    fused : bool or None, default None
        Use the fused CPU fast path (one pass over memory for many tensors); ``None``
        means on unless the environment variable ``MXOPT_FUSED=0``. Same results either
        way, up to float rounding (docs/fast-path.md). Not part of MXNet.
"""


def _expand_common_args(doc: str | None) -> str | None:
    """Put the shared argument documentation where a docstring says ``{common_args}``."""
    if doc is None or "{common_args}" not in doc:
        return doc
    return doc.replace("{common_args}", BASE_ARGS_DOC.rstrip())


class Optimizer:
    """Base class of every optimizer: the shared bookkeeping of MXNet 1.9.1.

    Per-parameter learning rate and weight decay for index ``i``:
    ``lr_i = lr(num_update) * lr_mult_i`` and ``wd_i = wd * wd_mult_i``, where the
    multiplier comes from the first of ``param_dict[i]``, ``lr_mult[i]`` (index key),
    ``lr_mult[idx2name[i]]`` (name key), else 1.

    {common_args}
    """

    opt_registry: ClassVar[dict[str, type[Optimizer]]] = {}

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls.__doc__ = _expand_common_args(cls.__doc__)

    # Whether ``update`` counts an index before reading its lr (MXNet's usual order).
    _counts_updates: ClassVar[bool] = True
    # For classes that count updates themselves: whether one list call equals one call per
    # parameter whatever the counts (the Updater then batches them on the fast path).
    _batch_safe: ClassVar[bool] = False

    def __init__(
        self,
        rescale_grad: float = 1.0,
        param_idx2name: Mapping[int, str] | None = None,
        wd: float = 0.0,
        clip_gradient: float | None = None,
        learning_rate: float | None = None,
        lr_scheduler: Callable[[int], float] | None = None,
        sym: Any = None,
        begin_num_update: int = 0,
        multi_precision: bool = False,
        param_dict: Mapping[Index, Any] | None = None,
        fused: bool | None = None,
    ) -> None:
        if fused is not None and not isinstance(fused, bool):
            raise TypeError(f"fused must be a bool or None, got {fused!r}")
        check_number("rescale_grad", rescale_grad)
        check_number("wd", wd)
        check_number("clip_gradient", clip_gradient, allow_none=True)
        check_range("learning_rate", learning_rate, 0.0, allow_none=True)
        if isinstance(begin_num_update, bool) or not isinstance(begin_num_update, int):
            raise TypeError(f"begin_num_update must be an int, got {begin_num_update!r}")
        if begin_num_update < 0:
            raise ValueError(f"begin_num_update must be >= 0, got {begin_num_update}")
        if param_idx2name is None:
            param_idx2name = {}
        if not isinstance(param_idx2name, Mapping):
            raise MXNetTypeError(
                "param_idx2name should be a dict of param indexes to names, got "
                f"{type(param_idx2name).__name__}"
            )
        if lr_scheduler is not None and not callable(lr_scheduler):
            raise TypeError("lr_scheduler must be callable (an LRScheduler) or None")
        if not isinstance(multi_precision, bool):
            raise TypeError(f"multi_precision must be a bool, got {multi_precision!r}")

        self.rescale_grad = rescale_grad
        self.lr_scheduler = lr_scheduler
        if lr_scheduler is None and learning_rate is None:
            learning_rate = 0.01
        self.lr = learning_rate
        overrides = lr_scheduler is not None and learning_rate is not None
        if overrides and lr_scheduler.base_lr != learning_rate:
            # MXNet prints (not warns) this notice, then overrides only base_lr.
            print(
                "learning rate from ``lr_scheduler`` has been overwritten by "
                "``learning_rate`` in optimizer."
            )
            lr_scheduler.base_lr = learning_rate
        self.wd = wd
        self.lr_mult: dict[Index, float] = {}
        self.wd_mult: dict[Index, float] = {}
        self.begin_num_update = begin_num_update
        self.num_update = begin_num_update
        self._all_index_update_counts: dict[int, dict[Index, int]] = {0: {}}
        self._current_device = 0
        self.clip_gradient = clip_gradient
        self.multi_precision = multi_precision
        self.aggregate_num = 0
        self.idx2name = dict(param_idx2name)
        self.sym_info = (sym.attr_dict(), sym.list_arguments()) if sym is not None else ()
        self.param_dict = dict(param_dict) if param_dict else {}
        self._fused = fused
        self.set_lr_mult({})
        self.set_wd_mult({})

    # ------------------------------------------------------------------ registry
    @staticmethod
    def register(klass: type[Optimizer]) -> type[Optimizer]:
        """Register ``klass`` under its lower-cased class name (a decorator).

        Registering a second class under a taken name replaces it with a warning.
        """
        if not (isinstance(klass, type) and issubclass(klass, Optimizer)):
            raise TypeError("register expects an Optimizer subclass")
        name = klass.__name__.lower()
        old = Optimizer.opt_registry.get(name)
        if old is not None and old is not klass:
            warnings.warn(
                f"WARNING: New optimizer {klass.__module__}.{klass.__name__} is overriding "
                f"existing optimizer {old.__module__}.{old.__name__}",
                stacklevel=2,
            )
        Optimizer.opt_registry[name] = klass
        return klass

    @staticmethod
    def create_optimizer(name: str, **kwargs: Any) -> Optimizer:
        """Instantiate the optimizer registered as ``name`` (case-insensitive).

        >>> import mxopt as mx
        >>> type(mx.optimizer.create('SGD', momentum=0.9)).__name__
        'SGD'
        """
        if not isinstance(name, str):
            raise TypeError(f"name must be a str, got {type(name).__name__}")
        try:
            klass = Optimizer.opt_registry[name.lower()]
        except KeyError:
            raise ValueError(
                f"Cannot find optimizer {name}; registered optimizers are: "
                + ", ".join(sorted(Optimizer.opt_registry))
            ) from None
        return klass(**kwargs)

    # ------------------------------------------------------------ learning rate
    @property
    def learning_rate(self) -> float:
        """The current learning rate: the scheduler's value at ``num_update``, or ``lr``."""
        if self.lr_scheduler is not None:
            return self.lr_scheduler(self.num_update)
        return self.lr

    def set_learning_rate(self, lr: float) -> None:
        """Set the learning rate; not allowed when a scheduler drives it (raises
        ``UserWarning``, as MXNet does)."""
        if self.lr_scheduler is not None:
            raise UserWarning(
                "LRScheduler of the optimizer has already been defined. Note that "
                "set_learning_rate can mutate the value of the learning rate of the optimizer "
                "only when the LRScheduler of the optimizer is undefined."
            )
        check_range("lr", lr, 0.0)
        self.lr = lr

    def set_lr_scale(self, args_lrscale: Any) -> None:
        """Removed in MXNet; raises ``DeprecationWarning``. Use :meth:`set_lr_mult`."""
        raise DeprecationWarning("set_lr_scale is deprecated; use set_lr_mult")

    # ---------------------------------------------------------------- multipliers
    def set_lr_mult(self, args_lr_mult: Mapping[Index, float]) -> None:
        """Set learning-rate multipliers by name or index (replacing earlier ones).

        Names with a ``__lr_mult__`` attribute in ``sym`` get it first; ``args_lr_mult``
        is applied on top.
        """
        self.lr_mult = self._symbol_mults("__lr_mult__")
        self.lr_mult.update(self._check_mults("args_lr_mult", args_lr_mult))

    def set_wd_mult(self, args_wd_mult: Mapping[Index, float]) -> None:
        """Set weight-decay multipliers by name or index (replacing earlier ones).

        Every ``idx2name`` name that does not end in ``_weight`` or ``_gamma`` starts at
        0 (biases and BatchNorm betas are not decayed), then ``sym``'s ``__wd_mult__``
        attributes apply, then ``args_wd_mult``.
        """
        self.wd_mult = {n: 0.0 for n in self.idx2name.values() if not self._decays_by_name(n)}
        self.wd_mult.update(self._symbol_mults("__wd_mult__"))
        self.wd_mult.update(self._check_mults("args_wd_mult", args_wd_mult))

    @staticmethod
    def _decays_by_name(name: str) -> bool:
        return name.endswith("_weight") or name.endswith("_gamma")

    def _symbol_mults(self, attr_key: str) -> dict[Index, float]:
        if not self.sym_info:
            return {}
        attrs, arg_names = self.sym_info
        return {n: float(attrs[n][attr_key]) for n in arg_names if attr_key in attrs.get(n, {})}

    @staticmethod
    def _check_mults(name: str, mults: Mapping[Index, float]) -> dict[Index, float]:
        if not isinstance(mults, Mapping):
            raise TypeError(f"{name} must be a dict of names/indices to floats")
        for key, value in mults.items():
            check_number(f"{name}[{key!r}]", value)
        return dict(mults)

    # -------------------------------------------------------------- update counts
    @property
    def _index_update_count(self) -> dict[Index, int]:
        """Update counts per index for the device currently being updated."""
        return self._all_index_update_counts[self._current_device]

    def _set_current_context(self, device_id: int) -> None:
        """Select the per-device update-count dictionary (the Updater calls this)."""
        self._all_index_update_counts.setdefault(device_id, {})
        self._current_device = device_id

    def _update_count(self, index: Index | Sequence[Index]) -> None:
        """Count one update of each index; ``num_update`` is the largest count."""
        counts = self._index_update_count
        indices = index if isinstance(index, (list, tuple)) else [index]
        if len(indices) > 1 and len(set(indices)) == len(indices):  # a batch, at once
            new = list(map(add, map(counts.get, indices, repeat(self.begin_num_update)), repeat(1)))
            counts.update(zip(indices, new))
            self.num_update = max(self.num_update, *new)
            return
        for idx in indices:
            counts[idx] = counts.get(idx, self.begin_num_update) + 1
            self.num_update = max(counts[idx], self.num_update)

    def _get_lrs(self, indices: Sequence[Index]) -> list[float]:
        """Learning rates for ``indices`` (evaluates the scheduler once)."""
        lr = self.lr_scheduler(self.num_update) if self.lr_scheduler is not None else self.lr
        return self._scaled(lr, indices, self.lr_mult, "lr_mult")

    def _get_lr(self, index: Index) -> float:
        return self._get_lrs([index])[0]

    def _get_wds(self, indices: Sequence[Index]) -> list[float]:
        """Weight decays for ``indices``."""
        return self._scaled(self.wd, indices, self.wd_mult, "wd_mult")

    def _get_wd(self, index: Index) -> float:
        return self._get_wds([index])[0]

    def _scaled(
        self, base: float, indices: Sequence[Index], mults: dict[Index, float], attr: str
    ) -> list[float]:
        """``base`` times each index's multiplier (see :meth:`_mult`), for a whole batch."""
        if self.param_dict:
            return [base * self._mult(i, mults, attr) for i in indices]
        if not mults:
            return [base * 1.0] * len(indices)
        names = self.idx2name
        return [
            base * (mults[i] if i in mults else mults.get(names[i], 1.0) if i in names else 1.0)
            for i in indices
        ]

    def _mult(self, index: Index, mults: dict[Index, float], attr: str) -> float:
        if index in self.param_dict:
            return getattr(self.param_dict[index], attr)
        if index in mults:
            return mults[index]
        if index in self.idx2name:
            return mults.get(self.idx2name[index], 1.0)
        return 1.0

    # ----------------------------------------------------------------- states
    def create_state(self, index: Index, weight: torch.Tensor) -> State:
        """The optimizer state for one weight (``None`` when it needs none)."""
        return None

    def create_state_multi_precision(self, index: Index, weight: torch.Tensor) -> State:
        """``(float32 master copy, create_state(master))`` for a float16/bfloat16 weight
        when ``multi_precision`` is on; otherwise ``create_state(weight)``."""
        if self._uses_master_copy(weight):
            master = weight.detach().to(torch.float32, copy=True)
            state = self.create_state(index, master)
            return (master, state) if self._master_position == 0 else (state, master)
        self._warn_low_precision(weight)
        return self.create_state(index, weight)

    def _uses_master_copy(self, weight: torch.Tensor) -> bool:
        return self.multi_precision and weight.dtype in LOW_PRECISION

    # How MXNet's float16 warning names the optimizer ("... option of the <this>").
    _low_precision_warning_name: ClassVar[str] = "optimizer"

    def _warn_low_precision(self, weight: torch.Tensor) -> None:
        if weight.dtype in LOW_PRECISION and not self.multi_precision:
            warnings.warn(
                "Accumulating with float16 in optimizer can lead to poor accuracy or slow "
                "convergence. Consider using multi_precision=True option of the "
                f"{self._low_precision_warning_name}",
                stacklevel=3,
            )

    # ----------------------------------------------------------------- updates
    def update(self, index: Index | Sequence[Index], weight, grad, state) -> None:
        """Update ``weight`` in place from ``grad`` and ``state``.

        Takes one parameter, or parallel lists of indices, weights, grads and states (the
        result is identical to updating them one at a time). Everything is checked before
        any weight, state or counter changes.
        """
        self._apply(index, weight, grad, state, multi_precision=False)

    def update_multi_precision(self, index, weight, grad, state) -> None:
        """Like :meth:`update`, through the float32 master copy of low-precision weights."""
        self._update_multi_precision(index, weight, grad, state, checked=False)

    def _update_multi_precision(self, index, weight, grad, state, checked: bool) -> None:
        """:meth:`update_multi_precision`; ``checked``: the caller (the ``Updater``) has run
        ``check_pairs`` on these weights and grads already."""
        first = weight[0] if isinstance(weight, (list, tuple)) and weight else weight
        if not isinstance(first, torch.Tensor) or not self._uses_master_copy(first):
            if getattr(self.update, "__func__", None) is Optimizer.update:
                self._apply(index, weight, grad, state, multi_precision=False, checked=checked)
            else:
                self.update(index, weight, grad, state)
            return
        if self._native_multi_precision or (
            self._fused_enabled() and fused.rule_for(self) is not None
        ):
            self._apply(index, weight, grad, state, multi_precision=True, checked=checked)
            return
        indices, weights, grads, states = _as_batch(index, weight, grad, state)
        check_pairs(weights, grads)
        self._check_master_states(states, master_at=0)
        masters = [s[0] for s in states]
        grads32 = [g.float() for g in grads]
        inner = [s[1] for s in states]
        if isinstance(index, (list, tuple)):
            self.update(indices, masters, grads32, inner)
        else:  # keep the single-parameter form for subclasses that only handle that
            self.update(index, masters[0], grads32[0], inner[0])
        for w, master in zip(weights, masters):
            w.copy_(master)

    # Optimizers with their own multi-precision operators (SGD, NAG, LARS, LAMB) set this
    # and implement ``_step_multi_precision``; their state layout is their own.
    _native_multi_precision: ClassVar[bool] = False
    # Where the float32 master copy sits in a native multi-precision state tuple.
    _master_position: ClassVar[int] = 0

    def _apply(
        self, index, weight, grad, state, multi_precision: bool, checked: bool = False
    ) -> None:
        indices, weights, grads, states = _as_batch(index, weight, grad, state)
        self._check_batch(indices, weights)
        if not checked:
            check_pairs(weights, grads)
        if multi_precision:
            self._check_master_states(states, master_at=self._master_position)
        self._validate_states(weights, states)
        if self._counts_updates:
            self._update_count(indices)
        lrs = self._get_lrs(indices)
        wds = self._get_wds(indices)
        if self._fused_enabled() and fused.try_step(
            self, indices, weights, grads, states, lrs, wds, multi_precision
        ):
            return
        if multi_precision:
            self._step_multi_precision(indices, weights, grads, states, lrs, wds)
        else:
            self._step(indices, weights, grads, states, lrs, wds)

    def _check_batch(self, indices: list, weights: list) -> None:
        """A rule's own checks of a call's parameters, made before anything is counted or
        changed (on every path, the ``Updater``'s replayed steps included); none here."""

    # Name of the fused fast-path rule (optimizer/fused/) this class's ``_step`` matches.
    _fused_rule: ClassVar[str | None] = None

    def _fused_enabled(self) -> bool:
        return self._fused_rule is not None and fused.enabled(getattr(self, "_fused", None))

    def _step_multi_precision(self, indices, weights, grads, states, lrs, wds) -> None:
        """The multi-precision step; by default the rule of ``_step`` on the float32
        master copies (state ``(master, inner state)``), then copied to the weights."""
        if self._native_multi_precision:
            raise NotImplementedError(f"{type(self).__name__} must implement it")
        masters = [s[0] for s in states]
        inner = [s[1] for s in states]
        self._step(indices, masters, [g.float() for g in grads], inner, lrs, wds)
        for w, master in zip(weights, masters):
            w.copy_(master)

    def _step(self, indices, weights, grads, states, lrs, wds) -> None:
        raise NotImplementedError(
            f"{type(self).__name__} must implement update() (or _step() for the batched form)"
        )

    def _validate_states(self, weights, states) -> None:
        """Check that every state tensor sits on its weight's device (before updating)."""
        cpu = len(weights) > 1 and all(map(_is_cpu, weights))  # the common case, at once
        if cpu and all(map(_is_cpu, _flat_states(states))):
            return
        for i, (w, s) in enumerate(zip(weights, states)):
            for t in _tensors_in(s):
                if t.device != w.device:
                    raise ValueError(
                        f"state of item {i} is on {t.device} but its weight is on {w.device}"
                    )

    @staticmethod
    def _check_master_states(states, master_at: int) -> None:
        for i, s in enumerate(states):
            if not (
                isinstance(s, tuple)
                and len(s) == 2
                and isinstance(s[master_at], torch.Tensor)
                and s[master_at].dtype == torch.float32
            ):
                raise ValueError(
                    f"state of item {i} must be a pair holding the float32 master copy at "
                    f"position {master_at} (multi_precision=True with a low-precision weight)"
                )

    def __repr__(self) -> str:
        return f"{type(self).__name__}(learning_rate={self.lr}, wd={self.wd})"


def _as_batch(index, weight, grad, state):
    """Parallel lists from one parameter or from lists of them."""
    if isinstance(index, (list, tuple)):
        indices, weights, grads, states = list(index), list(weight), list(grad), list(state)
        if not len(indices) == len(weights) == len(grads) == len(states):
            raise ValueError(
                "index, weight, grad and state lists must have the same length, got "
                f"{len(indices)}, {len(weights)}, {len(grads)}, {len(states)}"
            )
        return indices, weights, grads, states
    return [index], [weight], [grad], [state]


def _tensors_in(state) -> list[torch.Tensor]:
    """Every tensor in a (nested) state, in order."""
    if isinstance(state, torch.Tensor):
        return [state]
    if isinstance(state, (tuple, list)):
        return [t for s in state for t in _tensors_in(s)]
    return []


def _flat_states(states: Sequence[State]) -> list[torch.Tensor]:
    """``_tensors_in(states)``, with the common layouts (all tensors, all tuples of
    tensors, all ``None``) flattened by C-level loops."""
    if all(map(isinstance, states, repeat(torch.Tensor))):
        return list(states)
    if all(map(isinstance, states, repeat(tuple))):
        flat = [t for s in states for t in s]
        if all(map(isinstance, flat, repeat(torch.Tensor))):
            return flat
    elif states.count(None) == len(states):
        return []
    return _tensors_in(states)


_is_cpu = attrgetter("is_cpu")


def aggregation_size(default: int, upper: int | None = None) -> int:
    """``MXNET_OPTIMIZER_AGGREGATION_SIZE`` (or ``default``), clamped to ``[1, upper]``."""
    raw = os.environ.get("MXNET_OPTIMIZER_AGGREGATION_SIZE", str(default))
    try:
        size = int(raw)
    except ValueError:
        raise ValueError(
            f"MXNET_OPTIMIZER_AGGREGATION_SIZE must be an integer, got {raw!r}"
        ) from None
    if upper is not None:
        size = min(max(size, 1), upper)
    return size


register = Optimizer.register
create = Optimizer.create_optimizer


def registered_names() -> list[str]:
    """The names ``create`` accepts, sorted."""
    return sorted(Optimizer.opt_registry)


Optimizer.__doc__ = _expand_common_args(Optimizer.__doc__)
