"""The initializer base class, its name dispatch, and the registry (``register``/``create``).

``Initializer.__call__(desc, tensor)`` fills a ``torch.Tensor`` in place, choosing the rule
from the parameter name exactly as MXNet 1.9.1 does:

* ``desc`` is an :class:`InitDesc` whose ``attrs['__init__']`` is set (a JSON initializer,
  as ``mx.sym.Variable(init=...)`` stores it): that initializer's *weight* rule is applied,
  whatever the name;
* otherwise the first matching suffix: ``weight`` -> the initializer's weight rule,
  ``bias`` -> 0, ``gamma`` -> 1, ``beta`` -> 0, ``min`` -> 0, ``max`` -> 1,
  ``weight_quantize`` -> one random integer in [-127, 127) broadcast, ``bias_quantize`` -> 0;
* anything else raises MXNet's ``ValueError`` ("Unknown initialization pattern for ...").

A plain ``str`` name takes MXNet's legacy path (``DeprecationWarning``), which also knows
``upsampling*`` (bilinear), ``stn_loc*`` and the ``moving_mean``/``moving_var``/
``moving_inv_var``/``moving_avg`` suffixes.

>>> import torch, mxopt as mx
>>> w, b = torch.empty(2, 3), torch.empty(2)
>>> mx.init.One()(mx.init.InitDesc("fc_weight"), w)
>>> mx.init.One()(mx.init.InitDesc("fc_bias"), b)
>>> w.sum().item(), b.sum().item()
(6.0, 0.0)
"""

from __future__ import annotations

import json
import logging
import math
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import torch

from .. import random as _random
from ..errors import MXNetTypeError, MXNetValueError

__all__ = ["InitDesc", "Initializer", "register", "alias", "create", "registered"]

_REGISTRY: dict[str, type[Initializer]] = {}

_UNKNOWN_PATTERN = (
    "Unknown initialization pattern for {}. Default initialization is now limited to "
    '"weight", "bias", "gamma" (1.0), and "beta" (0.0).Please use '
    "mx.sym.Variable(init=mx.init.*) to set initialization pattern"
)


class InitDesc(str):
    """A parameter name (``str``) carrying ``attrs`` (default ``{}``) and ``global_init``.

    >>> import mxopt as mx
    >>> d = mx.init.InitDesc("fc1_weight", attrs={"__init__": '["zero", {}]'})
    >>> d, d.attrs["__init__"], d.global_init
    ('fc1_weight', '["zero", {}]', None)
    """

    attrs: dict[str, str]
    global_init: Initializer | None

    def __new__(
        cls, name: str, attrs: dict[str, str] | None = None, global_init: Initializer | None = None
    ) -> InitDesc:
        obj = super().__new__(cls, name)
        obj.attrs = attrs or {}
        obj.global_init = global_init
        return obj


def _set(arr: torch.Tensor, value: Any) -> None:
    """``arr[:] = value`` for a tensor of any rank (broadcasting, dtype conversion)."""
    with torch.no_grad():
        if isinstance(value, (int, float, bool, np.number)):
            arr.fill_(value)
        else:
            src = torch.as_tensor(np.asarray(value) if isinstance(value, list) else value)
            arr.copy_(src.to(device=arr.device))


def _rms_stat(arr: torch.Tensor) -> str:
    """MXNet's default verbose statistic: float32 ``norm(x)``, divided by ``sqrt(size)`` in double,
    printed as a float32."""
    norm = np.float32(torch.linalg.vector_norm(arr.detach().double()).item())
    return str(np.float32(float(norm) / math.sqrt(arr.numel())))


class Initializer:
    """Base class: subclasses implement ``_init_weight(name, tensor)``.

    Keyword arguments given to ``__init__`` are what :meth:`dumps` writes and what
    ``__eq__`` compares. Random initializers also take ``generator=`` (a
    ``torch.Generator``, not part of ``dumps``); without one they follow
    ``mx.random.use_generator`` / ``mx.random.seed``.
    """

    def __init__(self, **kwargs: Any) -> None:
        self._kwargs = kwargs
        self._verbose = False
        self._print_func: Callable[[torch.Tensor], str] | None = None
        self._generator: torch.Generator | None = None

    # -- configuration --------------------------------------------------------------------
    def set_verbosity(
        self, verbose: bool = False, print_func: Callable[[torch.Tensor], str] | None = None
    ) -> Initializer:
        """Log ``Initialized <name> as <pattern>: <stat>`` (``logging.info``) after each fill.

        The default statistic is the RMS ``norm(x)/sqrt(size)`` (MXNet's docstring says mean
        absolute value, its code computes the RMS). Returns ``self``.
        """
        self._verbose = verbose
        self._print_func = print_func if print_func is not None else _rms_stat
        return self

    def set_generator(self, generator: torch.Generator | None) -> Initializer:
        """Draw this initializer's random numbers from ``generator``. Returns ``self``."""
        if generator is not None and not isinstance(generator, torch.Generator):
            raise TypeError(f"generator must be a torch.Generator or None, got {generator!r}")
        self._generator = generator
        return self

    def _verbose_print(self, desc: str, pattern: str, arr: torch.Tensor) -> None:
        if self._verbose and self._print_func:
            logging.info("Initialized %s as %s: %s", desc, pattern, self._print_func(arr))

    # -- serialization --------------------------------------------------------------------
    def dumps(self) -> str:
        """``json.dumps([lower-case class name, constructor kwargs])``.

        >>> import mxopt as mx
        >>> mx.init.Xavier(factor_type="in", magnitude=2.34).dumps()
        '["xavier", {"rnd_type": "uniform", "factor_type": "in", "magnitude": 2.34}]'
        """
        return json.dumps([type(self).__name__.lower(), self._json_kwargs()])

    def _json_kwargs(self) -> dict[str, Any]:
        return self._kwargs

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Initializer):
            return NotImplemented
        return type(self) is type(other) and self.dumps() == other.dumps()

    __hash__ = None  # type: ignore[assignment]  # mutable kwargs, as in MXNet

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.dumps()})"

    # -- dispatch -------------------------------------------------------------------------
    def __call__(self, desc: str, arr: torch.Tensor) -> None:
        """Fill ``arr`` in place according to the name rules (module docstring)."""
        if not isinstance(desc, InitDesc):
            self._legacy_init(desc, arr)
            return
        if not isinstance(arr, torch.Tensor):
            raise TypeError(f"arr must be a torch.Tensor, got {type(arr).__name__}")
        if desc.global_init is None:
            desc.global_init = self
        attr = desc.attrs.get("__init__", "")
        if attr:
            create(attr)._init_weight(desc, arr)
            self._verbose_print(desc, attr, arr)
            return
        for suffix, rule in (
            ("weight", self._init_weight),
            ("bias", self._init_bias),
            ("gamma", self._init_gamma),
            ("beta", self._init_beta),
            ("min", self._init_zero),
            ("max", self._init_one),
            ("weight_quantize", self._init_quantized_weight),
            ("bias_quantize", self._init_quantized_bias),
        ):
            if desc.endswith(suffix):
                rule(desc, arr)
                self._verbose_print(desc, suffix, arr)
                return
        self._init_default(desc, arr)

    def _legacy_init(self, name: str, arr: torch.Tensor) -> None:
        warnings.warn(
            "Calling initializer with init(str, NDArray) has been deprecated. "
            "Please use init(mx.init.InitDesc(...), NDArray) instead.",
            DeprecationWarning,
            stacklevel=3,
        )
        if not isinstance(name, str):
            raise TypeError(f"name must be string, got {type(name).__name__}")
        if not isinstance(arr, torch.Tensor):
            raise TypeError(f"arr must be a torch.Tensor, got {type(arr).__name__}")
        if name.startswith("upsampling"):
            self._init_bilinear(name, arr)
        elif name.startswith("stn_loc") and name.endswith("weight"):
            self._init_zero(name, arr)
        elif name.startswith("stn_loc") and name.endswith("bias"):
            self._init_loc_bias(name, arr)
        else:
            for suffix, rule in (
                ("bias", self._init_bias),
                ("gamma", self._init_gamma),
                ("beta", self._init_beta),
                ("weight", self._init_weight),
                ("moving_mean", self._init_zero),
                ("moving_var", self._init_one),
                ("moving_inv_var", self._init_zero),
                ("moving_avg", self._init_zero),
                ("min", self._init_zero),
                ("max", self._init_one),
            ):
                if name.endswith(suffix):
                    rule(name, arr)
                    return
            self._init_default(name, arr)

    # -- fixed rules ----------------------------------------------------------------------
    def _init_bilinear(self, _name: str, arr: torch.Tensor) -> None:
        from .bilinear import bilinear_kernel

        _set(arr, bilinear_kernel(tuple(arr.shape)))

    def _init_loc_bias(self, name: str, arr: torch.Tensor) -> None:
        if arr.dim() == 0 or arr.shape[0] != 6:
            raise MXNetValueError(
                f"{name}: stn_loc bias needs shape[0] == 6, got {tuple(arr.shape)}"
            )
        _set(arr, torch.tensor([1.0, 0, 0, 0, 1.0, 0]))

    def _init_zero(self, _name: str, arr: torch.Tensor) -> None:
        _set(arr, 0.0)

    def _init_one(self, _name: str, arr: torch.Tensor) -> None:
        _set(arr, 1.0)

    _init_bias = _init_zero
    _init_beta = _init_zero
    _init_gamma = _init_one
    _init_quantized_bias = _init_zero

    def _init_quantized_weight(self, _name: str, arr: torch.Tensor) -> None:
        # MXNet draws ONE integer in [-127, 127) and broadcasts it to every element
        value = _random.randint(-127, 127, shape=(1,), generator=self._generator)
        _set(arr, int(value.item()))

    def _init_weight(self, name: str, arr: torch.Tensor) -> None:
        raise NotImplementedError(f"{type(self).__name__} must implement _init_weight")

    def _init_default(self, name: str, _arr: torch.Tensor) -> None:
        raise ValueError(_UNKNOWN_PATTERN.format(name))

    # -- random helpers -------------------------------------------------------------------
    def _uniform(self, arr: torch.Tensor, low: float, high: float) -> None:
        _random.fill_uniform(arr, low, high, self._generator)

    def _normal(self, arr: torch.Tensor, loc: float, scale: float) -> None:
        _random.fill_normal(arr, loc, scale, self._generator)

    # -- torch modules --------------------------------------------------------------------
    def apply_to(self, module: torch.nn.Module, **kwargs: Any) -> torch.nn.Module:
        """Initialize ``module``'s parameters and buffers with MXNet's rules; see
        :func:`mxopt.initializer.initialize`."""
        from .torch_module import initialize

        return initialize(module, self, **kwargs)


def _add(klass: type, name: str) -> None:
    key = name.lower()
    if key in _REGISTRY:
        old = _REGISTRY[key]
        warnings.warn(
            f"New initializer {klass.__module__}.{klass.__name__} registered with name {key} "
            f"is overriding existing initializer {old.__module__}.{old.__name__}",
            UserWarning,
            stacklevel=3,
        )
    _REGISTRY[key] = klass


def register(klass: type[Initializer]) -> type[Initializer]:
    """Class decorator: make ``klass`` creatable by its lower-cased class name.

    Registering a name twice warns (``UserWarning``) and the newer class wins.

    >>> import mxopt as mx
    >>> @mx.init.register
    ... class Halves(mx.init.Initializer):
    ...     def _init_weight(self, _, arr):
    ...         arr.fill_(0.5)
    >>> mx.init.create("halves").dumps()
    '["halves", {}]'
    """
    if not (isinstance(klass, type) and issubclass(klass, Initializer)):
        raise MXNetTypeError(f"Can only register subclass of Initializer, got {klass!r}")
    _add(klass, klass.__name__)
    return klass


def alias(*aliases: str) -> Callable[[type[Initializer]], type[Initializer]]:
    """Class decorator: register ``klass`` under extra names (MXNet's ``zeros``/``ones``)."""

    def deco(klass: type[Initializer]) -> type[Initializer]:
        if not (isinstance(klass, type) and issubclass(klass, Initializer)):
            raise MXNetTypeError(f"Can only register subclass of Initializer, got {klass!r}")
        for name in aliases:
            _add(klass, name)
        return klass

    return deco


def registered() -> list[str]:
    """The registered names, sorted."""
    return sorted(_REGISTRY)


def create(initializer: Any = None, *args: Any, **kwargs: Any) -> Initializer:
    """Build an initializer from an instance, a dict, a JSON string or a name.

    * an :class:`Initializer` is returned as is (extra arguments are an error);
    * a dict is ``create(**dict)`` (the name under key ``"initializer"``);
    * a string starting with ``[`` is ``json.loads`` -> ``[name, kwargs]`` (:meth:`dumps`);
    * a string starting with ``{`` is JSON kwargs with key ``"initializer"``;
    * any other string is a case-insensitive registered name (``zeros``/``ones`` aliases).

    >>> import mxopt as mx
    >>> mx.init.create('["normal", {"sigma": 0.5}]') == mx.init.Normal(0.5)
    True
    >>> type(mx.init.create("Zeros")).__name__
    'Zero'
    """
    if initializer is None:
        if "initializer" not in kwargs:
            raise MXNetTypeError("create() needs an initializer (instance, dict, JSON or name)")
        initializer = kwargs.pop("initializer")
    if isinstance(initializer, Initializer):
        if args or kwargs:
            raise MXNetValueError(
                "initializer is already an instance. Additional arguments are invalid"
            )
        return initializer
    if isinstance(initializer, dict):
        if args or kwargs:
            raise MXNetValueError("create(dict) takes no additional arguments")
        return create(**initializer)
    if not isinstance(initializer, str):
        raise MXNetTypeError(
            f"initializer must be an Initializer, a dict or a str, got {type(initializer).__name__}"
        )
    if initializer.startswith("[") or initializer.startswith("{"):
        if args or kwargs:
            raise MXNetValueError("create(JSON string) takes no additional arguments")
        try:
            parsed = json.loads(initializer)
        except json.JSONDecodeError as err:
            raise MXNetValueError(f"initializer is not valid JSON: {err}") from None
        if isinstance(parsed, list):
            if len(parsed) != 2 or not isinstance(parsed[1], dict):
                raise MXNetValueError(f"expected '[name, {{kwargs}}]', got {initializer!r}")
            return create(parsed[0], **parsed[1])
        if not isinstance(parsed, dict):
            raise MXNetValueError(f"expected a JSON list or object, got {initializer!r}")
        return create(**parsed)
    name = initializer.lower()
    if name not in _REGISTRY:
        raise MXNetValueError(
            f"{name} is not registered. Please register with initializer.register first"
        )
    return _REGISTRY[name](*args, **kwargs)
