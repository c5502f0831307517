"""``mx.optimizer.contrib``: MXNet's contrib optimizers (``GroupAdaGrad``)."""

from .group_adagrad import GroupAdaGrad

__all__ = ["GroupAdaGrad"]
