"""The optimizer catalog the generic tests run over (torch's ``optim_db`` idea).

Adding an optimizer to ``CATALOG`` gives it every generic test: golden MXNet parity (when
``tests/fixtures/optimizers/<name>.npz`` exists), Updater state round-trips, multi-
precision, dtype/device preservation, list-form updates and bad-input checks.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class OptimizerInfo:
    name: str
    # configurations for the generic tests (each is a full constructor call)
    configs: tuple[dict[str, Any], ...]
    # (kwargs, name of the argument the error message must mention)
    bad_kwargs: tuple[tuple[dict[str, Any], str], ...] = ()
    supports_sparse: bool = False
    # True when the update is random (SGLD): generic tests compare distributions instead
    stochastic: bool = False
    # optimizers whose weight must have a particular rank
    min_ndim: int = 1
    extra: dict[str, Any] = field(default_factory=dict)


_NEG_LR = ({"learning_rate": -0.1}, "learning_rate")
_BAD_KW = ({"no_such_option": 1}, "no_such_option")
_NEG_WD = ({"wd": "x"}, "wd")

CATALOG: tuple[OptimizerInfo, ...] = (
    OptimizerInfo(
        "sgd",
        configs=({"learning_rate": 0.1}, {"learning_rate": 0.1, "momentum": 0.9, "wd": 0.01}),
        bad_kwargs=(_NEG_LR, _BAD_KW, _NEG_WD, ({"momentum": 1.5}, "momentum")),
        supports_sparse=True,
    ),
    OptimizerInfo(
        "nag",
        configs=({"learning_rate": 0.1, "momentum": 0.9, "wd": 0.01},),
        bad_kwargs=(_NEG_LR, _BAD_KW, ({"momentum": -0.1}, "momentum")),
    ),
    OptimizerInfo(
        "adam",
        configs=({"learning_rate": 0.01}, {"learning_rate": 0.01, "wd": 0.01, "clip_gradient": 1}),
        bad_kwargs=(_NEG_LR, _BAD_KW, ({"beta1": 1.0}, "beta1"), ({"beta2": -0.5}, "beta2")),
        supports_sparse=True,
    ),
    OptimizerInfo(
        "rmsprop",
        configs=({"learning_rate": 0.01}, {"learning_rate": 0.01, "centered": True}),
        bad_kwargs=(_NEG_LR, _BAD_KW, ({"gamma1": 1.2}, "gamma1"), ({"epsilon": -1}, "epsilon")),
    ),
    OptimizerInfo(
        "adagrad",
        configs=({"learning_rate": 0.1}, {"learning_rate": 0.1, "wd": 0.01}),
        bad_kwargs=(_NEG_LR, _BAD_KW, ({"eps": -1e-7}, "eps")),
        supports_sparse=True,
    ),
    OptimizerInfo(
        "adadelta",
        configs=({}, {"rho": 0.5, "wd": 0.01}),
        bad_kwargs=(_BAD_KW, ({"rho": 2.0}, "rho")),
    ),
    OptimizerInfo("test", configs=({},), bad_kwargs=(_BAD_KW,)),
    OptimizerInfo(
        "ccsgd",
        configs=({"learning_rate": 0.1, "momentum": 0.9},),
        bad_kwargs=(_NEG_LR, _BAD_KW),
    ),
)

BY_NAME = {info.name: info for info in CATALOG}


def config_ids(info: OptimizerInfo) -> list[str]:
    return [f"{info.name}-{i}" for i in range(len(info.configs))]


def all_configs() -> list[tuple[OptimizerInfo, dict[str, Any]]]:
    return [(info, cfg) for info in CATALOG for cfg in info.configs]


def all_config_ids() -> list[str]:
    return [cid for info in CATALOG for cid in config_ids(info)]
