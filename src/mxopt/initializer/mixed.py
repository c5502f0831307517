"""``Mixed``: route parameters to initializers by regular expression."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

import torch

from ..errors import MXNetValueError

__all__ = ["Mixed"]

_NO_MATCH = (
    "Parameter name %s did not match any pattern. Consider"
    'add a ".*" pattern at the and with default Initializer.'
)


class Mixed:
    """Call the initializer of the first pattern that matches the name (``re.match``, i.e.
    anchored at the start only), in the order given.

    The chosen initializer is *called*, so its name dispatch still applies:
    ``Mixed(['.*'], [Zero()])`` still sets ``*_gamma`` to 1. No match raises MXNet's
    ``ValueError`` (its message is kept literally, unformatted ``%s`` included).

    >>> import torch, mxopt as mx
    >>> init = mx.init.Mixed(["bias", ".*"], [mx.init.One(), mx.init.Zero()])
    >>> w = torch.empty(2); init(mx.init.InitDesc("fc_weight"), w); w
    tensor([0., 0.])
    """

    def __init__(self, patterns: Sequence[str], initializers: Sequence[Callable]) -> None:
        if len(patterns) != len(initializers):
            raise MXNetValueError(
                f"patterns and initializers must have the same length, got {len(patterns)} "
                f"and {len(initializers)}"
            )
        self.map = [(re.compile(p), init) for p, init in zip(patterns, initializers)]

    def __call__(self, name: str, arr: torch.Tensor) -> None:
        for prog, init in self.map:
            if prog.match(name):
                init(name, arr)
                return
        raise ValueError(_NO_MATCH)
