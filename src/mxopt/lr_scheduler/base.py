"""The scheduler base class, argument checks, the class registry and JSON state.

A schedule maps an update count ``num_update`` to a learning rate. Every built-in schedule is
a pure function of ``num_update``: calling it in any order gives the same values, so resuming
training is exact. Warmup (shared by all MXNet schedules), for ``n < warmup_steps``::

    linear:   lr(n) = warmup_begin_lr + (warmup_final_lr - warmup_begin_lr) * n / warmup_steps
    constant: lr(n) = warmup_begin_lr

``warmup_final_lr`` is the ``base_lr`` given to the constructor and never follows later
changes of ``base_lr`` (as in MXNet 1.9.1). ``n == warmup_steps`` is already past warmup.
"""

from __future__ import annotations

import inspect
import json
import math
import numbers
from collections.abc import Mapping
from typing import Any, ClassVar

from ..errors import MXNetTypeError, MXNetValueError

__all__ = [
    "LRScheduler",
    "SchedulerTypeError",
    "SchedulerValueError",
    "from_state_dict",
    "get_scheduler_class",
    "list_schedulers",
]

STATE_VERSION = 1


# Where MXNet 1.9.1 raised a bare ``AssertionError``: both the promised TypeError/ValueError
# and an AssertionError (the shared classes of mxopt.errors, under the names this module
# has always exported).
SchedulerTypeError = MXNetTypeError
SchedulerValueError = MXNetValueError


# ---------------------------------------------------------------------------------------------
# argument checks (run once, at construction)


def check_real(name: str, value: Any) -> None:
    """Raise ``TypeError`` unless ``value`` is a real number (``bool`` is refused)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number, got {value!r} ({type(value).__name__})")


def check_int(name: str, value: Any, *, mxnet_assert: bool = True) -> None:
    """Raise unless ``value`` is an integer (``bool`` is refused).

    Where MXNet asserted ``isinstance(value, int)`` the error is a :class:`SchedulerTypeError`
    so that ``except AssertionError`` keeps working.
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        cls = SchedulerTypeError if mxnet_assert else TypeError
        raise cls(f"{name} must be an int, got {value!r} ({type(value).__name__})")


def warmup_value(mode: str, begin: float, final: float, num_update: int, steps: int) -> float:
    """Warmup rate: ``begin + (final - begin) * n / steps`` (linear) or ``begin`` (constant).

    Evaluated in MXNet's operation order so the doubles match bit for bit.
    """
    if mode == "constant":
        return begin
    return begin + (final - begin) * float(num_update) / float(steps)


# ---------------------------------------------------------------------------------------------
# registry of scheduler classes, by name

_REGISTRY: dict[str, type[LRScheduler]] = {}


def _full_name(cls: type) -> str:
    return f"{cls.__module__}.{cls.__qualname__}"


def _register(cls: type[LRScheduler]) -> None:
    """Register ``cls`` under its short name (if free or held by the same class) and full name.

    A class redefined in the same module (a notebook cell run twice) replaces the old one; a
    different class with a taken short name is registered under ``module.QualName`` only, so a
    user class can never shadow a built-in.
    """
    short = cls.__name__
    holder = _REGISTRY.get(short)
    if holder is None or _full_name(holder) == _full_name(cls):
        _REGISTRY[short] = cls
        cls._registry_name = short
    else:
        cls._registry_name = _full_name(cls)
    _REGISTRY[_full_name(cls)] = cls


def get_scheduler_class(name: str) -> type[LRScheduler]:
    """Return the registered scheduler class called ``name`` (short or ``module.QualName``).

    >>> get_scheduler_class("FactorScheduler").__name__
    'FactorScheduler'
    """
    if not isinstance(name, str):
        raise TypeError(f"scheduler class name must be a str, got {type(name).__name__}")
    try:
        return _REGISTRY[name]
    except KeyError:
        known = ", ".join(list_schedulers())
        raise ValueError(
            f"unknown scheduler class {name!r}; known: {known}. A user-defined LRScheduler "
            "subclass must be defined (imported) before it can be loaded."
        ) from None


def list_schedulers(*, include_abstract: bool = False) -> list[str]:
    """Short names of the registered scheduler classes, sorted."""
    names = [
        n
        for n, cls in _REGISTRY.items()
        if cls._registry_name == n and (include_abstract or not cls._is_abstract())
    ]
    return sorted(names)


# ---------------------------------------------------------------------------------------------
# JSON state


def _jsonable(value: Any, where: str) -> Any:
    """Return ``value`` as plain JSON types (tuples become lists) or raise ``TypeError``."""
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real):
        return float(value)
    if isinstance(value, (list, tuple)):
        return [_jsonable(v, f"{where}[{i}]") for i, v in enumerate(value)]
    if isinstance(value, Mapping):
        out = {}
        for k, v in value.items():
            if not isinstance(k, str):
                raise TypeError(f"cannot serialize {where}: dict key {k!r} is not a str")
            out[k] = _jsonable(v, f"{where}[{k!r}]")
        return out
    raise TypeError(
        f"cannot serialize {where}: {type(value).__name__} is not JSON-able "
        "(allowed: None, bool, int, float, str, list, dict); override state_dict()"
    )


def from_state_dict(state: Mapping[str, Any]) -> LRScheduler:
    """Rebuild a scheduler from :meth:`LRScheduler.state_dict` output (built-in or user class).

    >>> from mxopt.lr_scheduler import FactorScheduler
    >>> s = FactorScheduler(step=10, factor=0.5, base_lr=1.0)
    >>> from_state_dict(s.state_dict())(25)
    0.25
    """
    if not isinstance(state, Mapping):
        raise TypeError(f"state must be a dict, got {type(state).__name__}")
    name = state.get("class")
    if not isinstance(name, str):
        raise ValueError("state has no 'class' entry naming the scheduler class")
    cls = get_scheduler_class(name)
    if cls._is_abstract():
        raise ValueError(f"{name} is abstract (it does not define __call__) and cannot be built")
    for key in ("init", "attrs"):
        if not isinstance(state.get(key, {}), Mapping):
            raise ValueError(f"state[{key!r}] must be a dict")
    return cls._from_state(state)


# ---------------------------------------------------------------------------------------------


class LRScheduler:
    """Base class of learning-rate schedules: ``lr = sched(num_update)``.

    Subclass it and define ``__call__(self, num_update) -> float``; the subclass is registered
    by name so :func:`from_state_dict` can rebuild it.

    Args:
        base_lr: the learning rate after warmup (default 0.01). An optimizer given a
            ``learning_rate`` overwrites this attribute.
        warmup_steps: number of warmup updates, an ``int >= 0`` (default 0).
        warmup_begin_lr: the rate warmup starts from, ``<= base_lr`` (default 0).
        warmup_mode: ``'linear'`` (default) or ``'constant'``.

    Example:
        >>> class Halving(LRScheduler):
        ...     def __call__(self, num_update):
        ...         return self.base_lr * 0.5 ** (num_update // 10)
        >>> Halving(base_lr=1.0)(25)
        0.25
    """

    _registry_name: ClassVar[str] = "LRScheduler"

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        _register(cls)

    def __init__(
        self,
        base_lr: float = 0.01,
        warmup_steps: int = 0,
        warmup_begin_lr: float = 0,
        warmup_mode: str = "linear",
    ) -> None:
        # same order of checks as MXNet 1.9.1 (the first failing one raises)
        check_int("warmup_steps", warmup_steps)
        check_real("base_lr", base_lr)
        check_real("warmup_begin_lr", warmup_begin_lr)
        if warmup_begin_lr > base_lr:
            raise ValueError("Base lr has to be higher than warmup_begin_lr")
        if warmup_steps < 0:
            raise ValueError("Warmup steps has to be positive or 0")
        if warmup_mode not in ("linear", "constant"):
            raise ValueError("Supports only linear and constant modes of warmup")
        self.base_lr = float(base_lr)
        self.warmup_steps = int(warmup_steps)
        self.warmup_final_lr = float(base_lr)
        self.warmup_begin_lr = float(warmup_begin_lr)
        self.warmup_mode = warmup_mode

    # -- the schedule ---------------------------------------------------------------------------

    def get_warmup_lr(self, num_update: int) -> float:
        """The warmup rate at ``num_update`` (meaningful for ``num_update < warmup_steps``)."""
        return warmup_value(
            self.warmup_mode,
            self.warmup_begin_lr,
            self.warmup_final_lr,
            num_update,
            self.warmup_steps,
        )

    def __call__(self, num_update: int) -> float:
        """Return the learning rate for update count ``num_update``."""
        raise NotImplementedError(
            f"{type(self).__name__} must define __call__(num_update) -> float"
        )

    @classmethod
    def _is_abstract(cls) -> bool:
        return cls.__call__ is LRScheduler.__call__

    def boundaries(self, num_updates: int) -> list[float]:
        """Update counts in ``[0, num_updates]`` where the schedule changes regime (decay
        steps, the end of the decay, restarts, milestones). Used to draw the plot; the base
        class has none."""
        return []

    # -- state -------------------------------------------------------------------------------

    def _init_kwargs(self) -> dict[str, Any]:
        """The constructor arguments that rebuild this schedule.

        The default reads, for each parameter of ``__init__``, the attribute of the same name;
        ``base_lr`` is taken from ``warmup_final_lr`` (the constructor value).
        """
        out: dict[str, Any] = {}
        sig = inspect.signature(type(self).__init__)
        for i, (pname, param) in enumerate(sig.parameters.items()):
            if i == 0 or param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD):
                continue
            if pname == "base_lr" and hasattr(self, "warmup_final_lr"):
                out[pname] = self.warmup_final_lr
            elif hasattr(self, pname):
                out[pname] = getattr(self, pname)
            elif param.default is param.empty:
                raise TypeError(
                    f"cannot serialize {type(self).__name__}: constructor argument {pname!r} "
                    "is not stored in an attribute of the same name; override _init_kwargs()"
                )
        return out

    def state_dict(self) -> dict[str, Any]:
        """A JSON-able description: ``{"class", "version", "init", "attrs"}``.

        ``init`` holds the constructor arguments, ``attrs`` every public attribute (so an
        overwritten ``base_lr`` or a user subclass's own counters come back too).
        """
        name = type(self)._registry_name
        attrs = {k: v for k, v in vars(self).items() if not k.startswith("_")}
        state = {
            "class": name,
            "version": STATE_VERSION,
            "init": _jsonable(self._init_kwargs(), f"{name} constructor arguments"),
            "attrs": _jsonable(attrs, f"{name} attributes"),
        }
        json.dumps(state)  # fail here, not when the caller writes it
        return state

    @classmethod
    def _from_state(cls, state: Mapping[str, Any]) -> LRScheduler:
        obj = cls(**state.get("init", {}))
        for key, value in state.get("attrs", {}).items():
            setattr(obj, key, value)
        return obj

    # -- display -----------------------------------------------------------------------------

    def __repr__(self) -> str:
        try:
            kwargs = self._init_kwargs()
        except TypeError:
            return f"<{type(self).__name__} object>"
        sig = inspect.signature(type(self).__init__)
        shown = []
        for key, value in kwargs.items():
            param = sig.parameters.get(key)
            if param is not None and param.default is not param.empty:
                default = param.default
                same = value == default and not (isinstance(value, float) and math.isnan(value))
                if same:
                    continue
            shown.append(f"{key}={value!r}")
        return f"{type(self).__name__}({', '.join(shown)})"


_register(LRScheduler)
