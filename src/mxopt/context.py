"""MXNet-style device contexts (``mx.cpu()``, ``mx.gpu(i)``) mapped onto ``torch.device``."""

from __future__ import annotations

import torch

__all__ = ["Context", "cpu", "gpu", "to_device", "current_context", "num_gpus"]


class Context:
    """A device, as MXNet names it: ``device_type`` ('cpu' or 'gpu') and ``device_id``.

    ``Context`` is only a naming layer: every tensor mxopt creates or updates is a plain
    ``torch.Tensor`` on :attr:`torch_device`.

    >>> import mxopt as mx
    >>> mx.cpu().torch_device
    device(type='cpu')
    >>> mx.gpu(1).torch_device
    device(type='cuda', index=1)
    """

    _torch_types = {"cpu": "cpu", "gpu": "cuda", "cpu_pinned": "cpu", "cpu_shared": "cpu"}

    def __init__(self, device_type: str | Context = "cpu", device_id: int = 0) -> None:
        if isinstance(device_type, Context):
            device_type, device_id = device_type.device_type, device_type.device_id
        if device_type not in self._torch_types:
            raise ValueError(
                f"device_type must be one of {sorted(self._torch_types)}, got {device_type!r}"
            )
        if not isinstance(device_id, int) or device_id < 0:
            raise ValueError(f"device_id must be a non-negative int, got {device_id!r}")
        self.device_type = device_type
        self.device_id = device_id

    @property
    def torch_device(self) -> torch.device:
        kind = self._torch_types[self.device_type]
        return torch.device(kind) if kind == "cpu" else torch.device(kind, self.device_id)

    @classmethod
    def from_torch(cls, device: torch.device | str) -> Context:
        device = torch.device(device)
        if device.type == "cpu":
            return cls("cpu", 0)
        return cls("gpu", device.index or 0)

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, Context)
            and self.device_type == other.device_type
            and self.device_id == other.device_id
        )

    def __hash__(self) -> int:
        return hash((self.device_type, self.device_id))

    def __repr__(self) -> str:
        return f"{self.device_type}({self.device_id})"


def cpu(device_id: int = 0) -> Context:
    """The CPU context (``device_id`` is kept for MXNet compatibility and ignored by torch)."""
    return Context("cpu", device_id)


def gpu(device_id: int = 0) -> Context:
    """The ``device_id``-th accelerator, ``torch.device('cuda', device_id)``."""
    return Context("gpu", device_id)


def num_gpus() -> int:
    """How many CUDA devices torch sees."""
    return torch.cuda.device_count()


def current_context() -> Context:
    """The default context, ``cpu(0)``."""
    return cpu()


def to_device(ctx: Context | torch.device | str | None) -> torch.device:
    """Turn a ``Context``, ``torch.device``, device string or ``None`` (CPU) into a device."""
    if ctx is None:
        return torch.device("cpu")
    if isinstance(ctx, Context):
        return ctx.torch_device
    if isinstance(ctx, (torch.device, str)):
        return torch.device(ctx)
    raise TypeError(f"ctx must be a Context, torch.device or str, got {type(ctx).__name__}")
