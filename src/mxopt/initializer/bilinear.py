"""Bilinear upsampling kernel initializer (``Deconvolution`` weights for upsampling)."""

from __future__ import annotations

import math

import torch

from .base import Initializer, _set, register

__all__ = ["Bilinear", "bilinear_kernel"]


def bilinear_kernel(shape: tuple[int, ...]) -> torch.Tensor:
    r"""MXNet's bilinear weights for a 4-D ``shape`` (float32).

    For flat index :math:`i`, :math:`x = i \bmod W`, :math:`y = \lfloor i/W\rfloor \bmod H`,
    :math:`f = \lceil W/2\rceil`, :math:`c = (2f - 1 - (f \bmod 2))/(2f)` and the value is
    :math:`(1-|x/f-c|)(1-|y/f-c|)`. As in MXNet, ``f`` and ``c`` come from the *width* for
    both axes, so non-square kernels are not symmetric. Every channel pair is the same.

    >>> bilinear_kernel((1, 1, 4, 4))[0, 0, 0]
    tensor([0.0625, 0.1875, 0.1875, 0.0625])
    """
    if len(shape) != 4:
        raise ValueError(f"Bilinear initializer needs a 4-D weight, got shape {shape}")
    h, w = shape[2], shape[3]
    f = float(math.ceil(w / 2.0))
    c = (2 * f - 1 - f % 2) / (2.0 * f)
    x = torch.arange(w, dtype=torch.float64)
    y = torch.arange(h, dtype=torch.float64)
    plane = (1 - (y / f - c).abs())[:, None] * (1 - (x / f - c).abs())[None, :]
    return plane.to(torch.float32).expand(shape).contiguous()


@register
class Bilinear(Initializer):
    """Weights := :func:`bilinear_kernel` of the weight's shape (4-D only).

    >>> import torch, mxopt as mx
    >>> w = torch.empty(1, 1, 3, 3); mx.init.Bilinear()(mx.init.InitDesc("up_weight"), w)
    >>> w[0, 0, 0]
    tensor([0.0625, 0.1875, 0.1875])
    """

    def __init__(self) -> None:
        super().__init__()

    def _init_weight(self, _name: str, arr: torch.Tensor) -> None:
        _set(arr, bilinear_kernel(tuple(arr.shape)))
