"""Learning-rate schedules (``mx.lr_scheduler``), MXNet 1.9.1's and a few more.

Every schedule is a callable ``sched(num_update) -> float`` and a pure function of
``num_update``. MXNet's classes (:class:`FactorScheduler`, :class:`MultiFactorScheduler`,
:class:`PolyScheduler`, :class:`CosineScheduler`) give MXNet 1.9.1's values bit for bit;
:class:`ConstantScheduler`, :class:`LinearWarmupDecayScheduler`, :class:`OneCycleScheduler`,
:class:`CosineRestartScheduler` and :class:`SequentialScheduler` are additions.
``sched.state_dict()`` / :func:`from_state_dict` save and rebuild any schedule as JSON.
Plotting lives in :mod:`mxopt.lr_scheduler.plot` (imported on demand: it needs matplotlib).

Example:
    >>> import mxopt as mx
    >>> s = mx.lr_scheduler.FactorScheduler(step=100, factor=0.9, base_lr=0.1)
    >>> round(s(250), 6)
    0.081
"""

from .base import (
    LRScheduler,
    SchedulerTypeError,
    SchedulerValueError,
    from_state_dict,
    get_scheduler_class,
    list_schedulers,
)
from .constant import ConstantScheduler
from .cosine import CosineScheduler
from .factor import FactorScheduler
from .linear import LinearWarmupDecayScheduler
from .multifactor import MultiFactorScheduler
from .onecycle import OneCycleScheduler
from .poly import PolyScheduler
from .restart import CosineRestartScheduler
from .sequential import SequentialScheduler

__all__ = [
    "LRScheduler",
    "FactorScheduler",
    "MultiFactorScheduler",
    "PolyScheduler",
    "CosineScheduler",
    "ConstantScheduler",
    "LinearWarmupDecayScheduler",
    "OneCycleScheduler",
    "CosineRestartScheduler",
    "SequentialScheduler",
    "SchedulerTypeError",
    "SchedulerValueError",
    "from_state_dict",
    "get_scheduler_class",
    "list_schedulers",
]
