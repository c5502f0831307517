"""Parse a schedule written as a Python call, e.g. ``"FactorScheduler(step=100, factor=0.9)"``.

The text is parsed with :mod:`ast` and never evaluated: the callee must be a registered
schedule class (optionally written ``mx.lr_scheduler.Name``), every argument a keyword whose
value is a literal (number, string, bool, None, list/tuple of those) or, for
:class:`~mxopt.lr_scheduler.SequentialScheduler`, a nested schedule call.
"""

from __future__ import annotations

import ast
from typing import Any

from .base import LRScheduler, get_scheduler_class

__all__ = ["ScheduleSpecError", "parse_schedule"]


class ScheduleSpecError(ValueError):
    """A schedule spec that cannot be parsed or built."""


def _callee_name(node: ast.expr) -> str:
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name):
        raise ScheduleSpecError("the schedule must be written as ClassName(keyword=value, ...)")
    return parts[0] if parts else node.id


def _value(node: ast.expr) -> Any:
    if isinstance(node, ast.Call):
        return _build(node)
    if isinstance(node, (ast.List, ast.Tuple)):
        return [_value(e) for e in node.elts]
    try:
        return ast.literal_eval(node)
    except ValueError:
        raise ScheduleSpecError(
            f"argument value {ast.unparse(node)!r} is not a literal "
            "(allowed: numbers, strings, True/False/None, lists, nested schedules)"
        ) from None


def _build(call: ast.Call) -> LRScheduler:
    name = _callee_name(call.func)
    try:
        cls = get_scheduler_class(name)
    except ValueError as e:
        raise ScheduleSpecError(str(e)) from None
    if cls._is_abstract():
        raise ScheduleSpecError(f"{name} is abstract; pick a concrete schedule")
    if call.args:
        raise ScheduleSpecError(f"{name}: pass arguments by keyword (e.g. step=100)")
    kwargs = {}
    for kw in call.keywords:
        if kw.arg is None:
            raise ScheduleSpecError(f"{name}: **kwargs is not allowed")
        kwargs[kw.arg] = _value(kw.value)
    try:
        return cls(**kwargs)
    except (TypeError, ValueError, AssertionError) as e:
        raise ScheduleSpecError(f"{name}: {e}") from None


def parse_schedule(spec: str) -> LRScheduler:
    """Build the schedule described by ``spec``; raise :class:`ScheduleSpecError` if invalid.

    >>> parse_schedule("CosineScheduler(max_update=1000, base_lr=0.1, warmup_steps=100)")
    CosineScheduler(max_update=1000, base_lr=0.1, warmup_steps=100)
    """
    if not isinstance(spec, str):
        raise TypeError(f"spec must be a str, got {type(spec).__name__}")
    try:
        tree = ast.parse(spec.strip(), mode="eval")
    except SyntaxError as e:
        raise ScheduleSpecError(f"cannot parse schedule {spec!r}: {e.msg}") from None
    if not isinstance(tree.body, ast.Call):
        raise ScheduleSpecError(
            f"expected a call like FactorScheduler(step=100, factor=0.9), got {spec!r}"
        )
    return _build(tree.body)
