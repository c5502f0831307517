"""``mx.nd.contrib``: MXNet's contrib update operators (``group_adagrad_update``,
``adamw_update``, ``mp_adamw_update``, ``multi_lamb_update``, ``multi_mp_lamb_update``)."""

from .ops.adamw import adamw_update, mp_adamw_update
from .ops.group_adagrad import group_adagrad_update
from .ops.lamb import multi_lamb_update, multi_mp_lamb_update

__all__ = [
    "group_adagrad_update",
    "adamw_update",
    "mp_adamw_update",
    "multi_lamb_update",
    "multi_mp_lamb_update",
]
