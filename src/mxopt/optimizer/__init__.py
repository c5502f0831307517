"""``mx.optimizer`` (alias ``mx.opt``): MXNet 1.9.1's optimizers on torch tensors."""

from .adadelta import AdaDelta
from .adagrad import AdaGrad
from .adam import Adam
from .nag import NAG
from .optimizer import Optimizer, create, register, registered_names
from .rmsprop import RMSProp
from .sgd import SGD, ccSGD
from .test import Test
from .updater import Updater, get_updater

__all__ = [
    "Optimizer",
    "Updater",
    "get_updater",
    "create",
    "register",
    "registered_names",
    "SGD",
    "ccSGD",
    "NAG",
    "Adam",
    "RMSProp",
    "AdaGrad",
    "AdaDelta",
    "Test",
]
