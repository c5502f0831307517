"""Xavier (Glorot) and MSRAPrelu (He) initializers, with MXNet's fan computation."""

from __future__ import annotations

import math

import torch

from .base import Initializer, register

__all__ = ["Xavier", "MSRAPrelu", "fans"]


def fans(shape: tuple[int, ...]) -> tuple[float, float]:
    r"""MXNet's ``(fan_in, fan_out)``: :math:`hw = \prod shape[2:]` (1 for 2-D),
    ``fan_in = shape[1]·hw``, ``fan_out = shape[0]·hw``. torch's conv layout
    ``(out, in, kh, kw)`` is MXNet's, so the result is the same for torch modules.

    >>> fans((64, 3, 3, 3))
    (27.0, 576.0)
    """
    hw = float(math.prod(shape[2:])) if len(shape) > 2 else 1.0
    return shape[1] * hw, shape[0] * hw


@register
class Xavier(Initializer):
    r"""Xavier initialization.

    .. math::
        c = \sqrt{\text{magnitude} / \text{factor}},\quad
        \text{factor} = \begin{cases} (n_{in}+n_{out})/2 & \text{avg}\\
        n_{in} & \text{in}\\ n_{out} & \text{out}\end{cases}

    ``rnd_type='uniform'`` draws :math:`U(-c, c)`, ``'gaussian'`` draws :math:`N(0, c^2)`.
    Defaults: ``rnd_type='uniform'``, ``factor_type='avg'``, ``magnitude=3``. Needs a
    tensor with at least 2 dimensions (``ValueError`` otherwise).

    >>> import torch, mxopt as mx
    >>> w = torch.empty(64, 3, 3, 3)
    >>> mx.init.Xavier()(mx.init.InitDesc("conv_weight"), w)
    >>> bool(w.abs().max() <= (3 / 301.5) ** 0.5)
    True
    """

    def __init__(
        self,
        rnd_type: str = "uniform",
        factor_type: str = "avg",
        magnitude: float = 3,
        *,
        generator: torch.Generator | None = None,
    ) -> None:
        super().__init__(rnd_type=rnd_type, factor_type=factor_type, magnitude=magnitude)
        self.rnd_type = rnd_type
        self.factor_type = factor_type
        self.magnitude = float(magnitude)
        self.set_generator(generator)

    def scale_for(self, name: str, shape: tuple[int, ...]) -> float:
        """The bound (uniform) or std (gaussian) used for a weight of ``shape``."""
        if len(shape) < 2:
            raise ValueError(
                f"Xavier initializer cannot be applied to vector {name}. It requires at least 2D."
            )
        fan_in, fan_out = fans(shape)
        if self.factor_type == "avg":
            factor = (fan_in + fan_out) / 2.0
        elif self.factor_type == "in":
            factor = fan_in
        elif self.factor_type == "out":
            factor = fan_out
        else:
            raise ValueError("Incorrect factor type")
        return math.sqrt(self.magnitude / factor)

    def _init_weight(self, name: str, arr: torch.Tensor) -> None:
        scale = self.scale_for(name, tuple(arr.shape))
        if self.rnd_type == "uniform":
            self._uniform(arr, -scale, scale)
        elif self.rnd_type == "gaussian":
            self._normal(arr, 0.0, scale)
        else:
            raise ValueError("Unknown random type")


@register
class MSRAPrelu(Xavier):
    r"""He/MSRA initialization for PReLU nets: Xavier with ``rnd_type='gaussian'`` and
    :math:`\text{magnitude} = 2/(1+\text{slope}^2)`.

    Defaults: ``factor_type='avg'`` (MXNet's default, not fan-in), ``slope=0.25`` (so the
    magnitude is 1.88235...).

    >>> import mxopt as mx
    >>> mx.init.MSRAPrelu().dumps()
    '["msraprelu", {"factor_type": "avg", "slope": 0.25}]'
    """

    def __init__(
        self,
        factor_type: str = "avg",
        slope: float = 0.25,
        *,
        generator: torch.Generator | None = None,
    ) -> None:
        super().__init__("gaussian", factor_type, 2.0 / (1 + slope**2), generator=generator)
        self._kwargs = {"factor_type": factor_type, "slope": slope}
