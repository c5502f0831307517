"""``mx.random``: seeding and sampling on torch's random number generators.

``mx.random.seed(n)`` seeds torch's default generators (CPU and every CUDA device), so a
seeded run is reproducible, but the *streams* differ from MXNet's own RNG: the same seed
gives different numbers than MXNet 1.9.1 did. Random initializers draw, in order of
preference, from the ``generator=`` they were given, from a generator installed with
:func:`use_generator`, or from torch's default generator for the tensor's device.

>>> import mxopt as mx
>>> mx.random.seed(7)
>>> a = mx.random.uniform(-1, 1, shape=(3,))
>>> mx.random.seed(7)
>>> bool((a == mx.random.uniform(-1, 1, shape=(3,))).all())
True
"""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Iterator, Sequence

import torch

from .context import Context, to_device

__all__ = [
    "seed",
    "uniform",
    "normal",
    "randint",
    "use_generator",
    "current_generator",
    "fill_uniform",
    "fill_normal",
]

_OVERRIDE: contextvars.ContextVar[torch.Generator | None] = contextvars.ContextVar(
    "mxopt_random_generator", default=None
)


def seed(seed_state: int, ctx: Context | str = "all") -> None:
    """Seed torch's default generator(s) with ``seed_state``.

    ``ctx='all'`` (MXNet's default) seeds the CPU generator and every CUDA device
    (``torch.manual_seed``); a ``Context`` seeds only that device's generator. Unlike MXNet,
    the generator state does not depend on the device id.
    """
    if isinstance(seed_state, bool) or not isinstance(seed_state, int):
        raise TypeError(f"seed_state must be an int, got {type(seed_state).__name__}")
    if isinstance(ctx, str) and ctx == "all":
        torch.manual_seed(seed_state)
        return
    if not isinstance(ctx, Context):
        raise TypeError(f"ctx must be 'all' or a Context, got {ctx!r}")
    device = ctx.torch_device
    if device.type == "cpu":
        torch.default_generator.manual_seed(seed_state)
    else:
        with torch.cuda.device(device):
            torch.cuda.manual_seed(seed_state)


@contextlib.contextmanager
def use_generator(generator: torch.Generator | None) -> Iterator[torch.Generator | None]:
    """Within the block, random initializers without their own generator use ``generator``.

    >>> import torch, mxopt as mx
    >>> g = torch.Generator().manual_seed(0)
    >>> with mx.random.use_generator(g):
    ...     w = mx.random.normal(shape=(2,))
    """
    if generator is not None and not isinstance(generator, torch.Generator):
        raise TypeError(f"generator must be a torch.Generator or None, got {generator!r}")
    token = _OVERRIDE.set(generator)
    try:
        yield generator
    finally:
        _OVERRIDE.reset(token)


def current_generator(generator: torch.Generator | None = None) -> torch.Generator | None:
    """The generator a draw uses: ``generator``, else the :func:`use_generator` one, else None
    (meaning torch's default generator for the device)."""
    if generator is not None:
        if not isinstance(generator, torch.Generator):
            raise TypeError(f"generator must be a torch.Generator or None, got {generator!r}")
        return generator
    return _OVERRIDE.get()


def _fill(out: torch.Tensor, sampler: str, a: float, b: float, generator) -> torch.Tensor:
    gen = current_generator(generator)
    dev = gen.device if gen is not None else out.device
    dtype = out.dtype if out.dtype.is_floating_point else torch.float32
    if dev == out.device and dtype == out.dtype:
        with torch.no_grad():
            getattr(out, sampler)(a, b, generator=gen)
        return out
    tmp = torch.empty(out.shape, dtype=dtype, device=dev)
    getattr(tmp, sampler)(a, b, generator=gen)
    with torch.no_grad():
        out.copy_(tmp)
    return out


def fill_uniform(
    out: torch.Tensor, low: float, high: float, generator: torch.Generator | None = None
) -> torch.Tensor:
    """Fill ``out`` in place with U(low, high) draws (float32 draws for integer tensors)."""
    return _fill(out, "uniform_", float(low), float(high), generator)


def fill_normal(
    out: torch.Tensor, loc: float, scale: float, generator: torch.Generator | None = None
) -> torch.Tensor:
    """Fill ``out`` in place with N(loc, scale²) draws (``scale`` is the standard deviation)."""
    return _fill(out, "normal_", float(loc), float(scale), generator)


def _target(shape, dtype, ctx, out) -> torch.Tensor:
    from .ndarray.creation import empty

    if out is not None:
        if not isinstance(out, torch.Tensor):
            raise TypeError(f"out must be a torch.Tensor, got {type(out).__name__}")
        return out
    if isinstance(shape, int):
        shape = (shape,)
    return empty(tuple(shape), ctx=to_device(ctx) if ctx is not None else None, dtype=dtype)


def uniform(
    low: float = 0.0,
    high: float = 1.0,
    shape: int | Sequence[int] = (1,),
    dtype=None,
    ctx=None,
    out: torch.Tensor | None = None,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """Draws from U(low, high) (MXNet's ``mx.random.uniform``; float32 by default)."""
    return fill_uniform(_target(shape, dtype, ctx, out), low, high, generator)


def normal(
    loc: float = 0.0,
    scale: float = 1.0,
    shape: int | Sequence[int] = (1,),
    dtype=None,
    ctx=None,
    out: torch.Tensor | None = None,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """Draws from N(loc, scale²) (MXNet's ``mx.random.normal``; float32 by default)."""
    return fill_normal(_target(shape, dtype, ctx, out), loc, scale, generator)


def randint(
    low: int,
    high: int,
    shape: int | Sequence[int] = (1,),
    dtype="int32",
    ctx=None,
    out: torch.Tensor | None = None,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """Integers drawn uniformly from [low, high) (MXNet's ``mx.random.randint``)."""
    if high <= low:
        raise ValueError(f"high must be greater than low, got low={low}, high={high}")
    target = _target(shape, dtype, ctx, out)
    gen = current_generator(generator)
    dev = gen.device if gen is not None else target.device
    draws = torch.randint(int(low), int(high), tuple(target.shape), generator=gen, device=dev)
    with torch.no_grad():
        target.copy_(draws)
    return target
