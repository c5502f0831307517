"""``mx.optimizer`` (alias ``mx.opt``): MXNet 1.9.1's optimizers on torch tensors."""

from . import contrib
from .adabelief import AdaBelief
from .adadelta import AdaDelta
from .adagrad import AdaGrad
from .adam import Adam
from .adamax import Adamax
from .adamw import AdamW
from .dcasgd import DCASGD
from .ftml import FTML
from .ftrl import Ftrl
from .group_adagrad import GroupAdaGrad
from .lamb import LAMB
from .lans import LANS
from .lars import LARS
from .lbsgd import LBSGD
from .lion import Lion
from .nadam import Nadam
from .nag import NAG
from .optimizer import Optimizer, create, register, registered_names
from .rmsprop import RMSProp
from .sgd import SGD, ccSGD
from .sgld import SGLD
from .signum import Signum
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
    "Adamax",
    "Nadam",
    "DCASGD",
    "SGLD",
    "Signum",
    "FTML",
    "Ftrl",
    "GroupAdaGrad",
    "contrib",
    "LARS",
    "LBSGD",
    "LAMB",
    "AdamW",
    "AdaBelief",
    "LANS",
    "Lion",
]
