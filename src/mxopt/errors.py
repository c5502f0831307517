"""Exception types shared by mxopt.

Where MXNet 1.9.1 signals bad input with a bare ``assert``, mxopt raises an exception that
is both the sensible type (``TypeError``/``ValueError``, naming the argument) and an
``AssertionError``, so code written against MXNet that catches ``AssertionError`` still
works.
"""

from __future__ import annotations

__all__ = ["MXNetTypeError", "MXNetValueError"]


class MXNetTypeError(TypeError, AssertionError):
    """A wrong argument type where MXNet raised ``AssertionError``."""


class MXNetValueError(ValueError, AssertionError):
    """A wrong argument value where MXNet raised ``AssertionError``."""
