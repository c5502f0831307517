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
    # --- issue 3, part A ---
    OptimizerInfo(
        "adamax",
        configs=({"learning_rate": 0.01}, {"learning_rate": 0.01, "wd": 0.01, "clip_gradient": 1}),
        bad_kwargs=(_NEG_LR, _BAD_KW, ({"beta1": 1.0}, "beta1"), ({"beta2": 1.5}, "beta2")),
    ),
    OptimizerInfo(
        "nadam",
        configs=({"learning_rate": 0.01}, {"learning_rate": 0.01, "wd": 0.01, "clip_gradient": 1}),
        bad_kwargs=(
            _NEG_LR,
            _BAD_KW,
            ({"beta1": -0.1}, "beta1"),
            ({"schedule_decay": -1.0}, "schedule_decay"),
        ),
    ),
    OptimizerInfo(
        "dcasgd",
        configs=(
            {"learning_rate": 0.1},
            {"learning_rate": 0.1, "momentum": 0.9, "lamda": 0.1, "wd": 0.01},
        ),
        bad_kwargs=(_NEG_LR, _BAD_KW, ({"momentum": 1.5}, "momentum"), ({"lamda": -1}, "lamda")),
    ),
    OptimizerInfo(
        "sgld",
        configs=({"learning_rate": 0.01}, {"learning_rate": 0.01, "wd": 0.01, "clip_gradient": 1}),
        bad_kwargs=(_NEG_LR, _BAD_KW, ({"generator": 1234}, "generator")),
        # verified by its noise-free drift against MXNet (fixture status "stochastic") and by
        # the moments of its noise (tests/test_optimizer_extra_rules.py)
        stochastic=True,
    ),
    OptimizerInfo(
        "signum",
        configs=(
            {"learning_rate": 0.01},
            {"learning_rate": 0.01, "momentum": 0.0, "wd": 0.01},
            {"learning_rate": 0.01, "wd_lh": 0.01, "wd": 0.01, "clip_gradient": 1},
        ),
        bad_kwargs=(
            _NEG_LR,
            _BAD_KW,
            ({"momentum": -0.1}, "momentum"),
            ({"momentum": 0.0, "wd_lh": 0.1}, "wd_lh"),
        ),
    ),
    OptimizerInfo(
        "ftml",
        configs=({"learning_rate": 0.01}, {"learning_rate": 0.01, "wd": 0.01, "clip_gradient": 1}),
        bad_kwargs=(_NEG_LR, _BAD_KW, ({"beta1": 1.0}, "beta1"), ({"epsilon": -1}, "epsilon")),
    ),
    OptimizerInfo(
        "ftrl",
        configs=({}, {"lamda1": 0.05, "wd": 0.01, "lazy_update": True}),
        bad_kwargs=(_NEG_LR, _BAD_KW, ({"lamda1": -1}, "lamda1"), ({"beta": -1}, "beta")),
        # row-sparse grads are densified by default (MXNet's dense-weight fallback);
        # lazy_update=True is tested in tests/test_optimizer_extra_rules.py
    ),
    OptimizerInfo(
        "groupadagrad",
        configs=({"learning_rate": 0.1}, {"learning_rate": 0.1, "eps": 1e-3, "clip_gradient": 1}),
        bad_kwargs=(_NEG_LR, _BAD_KW, ({"wd": 0.1}, "wd"), ({"eps": -1}, "eps")),
        supports_sparse=True,
        min_ndim=2,
        extra={"max_ndim": 2},  # weights must be exactly 2-D
    ),
    # --- issue 3, part B ---
    OptimizerInfo(
        "lars",
        configs=(
            {"learning_rate": 0.1, "eta": 0.5},
            {"learning_rate": 0.1, "momentum": 0.9, "eta": 0.5, "wd": 0.01, "clip_gradient": 1},
        ),
        bad_kwargs=(_NEG_LR, _BAD_KW, ({"momentum": 2.0}, "momentum"), ({"eta": -1}, "eta")),
        supports_sparse=True,
    ),
    OptimizerInfo(
        "lbsgd",
        configs=(
            {"learning_rate": 0.1, "momentum": 0.9},
            {"learning_rate": 0.1, "batch_scale": 2, "warmup_epochs": 1, "updates_per_epoch": 2},
        ),
        bad_kwargs=(
            _NEG_LR,
            _BAD_KW,
            ({"batch_scale": 0}, "batch_scale"),
            ({"warmup_strategy": 3}, "warmup_strategy"),
        ),
    ),
    OptimizerInfo(
        "lamb",
        configs=(
            {"learning_rate": 0.01},
            {"learning_rate": 0.01, "wd": 0.01, "bias_correction": False, "upper_bound": 2.0},
        ),
        bad_kwargs=(
            _NEG_LR,
            _BAD_KW,
            ({"beta1": 1.0}, "beta1"),
            ({"lower_bound": -1}, "lower_bound"),
        ),
    ),
    # beyond MXNet 1.9.1 (reference tests in tests/test_optimizer_beyond.py)
    OptimizerInfo(
        "adamw",
        configs=(
            {"learning_rate": 0.01},
            {"learning_rate": 0.01, "wd": 0.1, "clip_gradient": 1, "correct_bias": False},
        ),
        bad_kwargs=(_NEG_LR, _BAD_KW, ({"beta1": 1.0}, "beta1"), ({"epsilon": -1}, "epsilon")),
        extra={"beyond_mxnet": True},
    ),
    OptimizerInfo(
        "adabelief",
        configs=({"learning_rate": 0.01}, {"learning_rate": 0.01, "wd": 0.01, "clip_gradient": 1}),
        bad_kwargs=(_NEG_LR, _BAD_KW, ({"beta2": 1.0}, "beta2"), ({"epsilon": -1}, "epsilon")),
        extra={"beyond_mxnet": True},
    ),
    OptimizerInfo(
        "lans",
        configs=({"learning_rate": 0.01}, {"learning_rate": 0.01, "wd": 0.01, "upper_bound": 2.0}),
        bad_kwargs=(
            _NEG_LR,
            _BAD_KW,
            ({"beta1": -0.1}, "beta1"),
            ({"upper_bound": -1}, "upper_bound"),
        ),
        extra={"beyond_mxnet": True},
    ),
    OptimizerInfo(
        "lion",
        configs=({"learning_rate": 0.001}, {"learning_rate": 0.001, "wd": 0.1, "clip_gradient": 1}),
        bad_kwargs=(_NEG_LR, _BAD_KW, ({"beta1": 1.5}, "beta1"), ({"beta2": -1}, "beta2")),
        extra={"beyond_mxnet": True},
    ),
)

BY_NAME = {info.name: info for info in CATALOG}


def config_ids(info: OptimizerInfo) -> list[str]:
    return [f"{info.name}-{i}" for i in range(len(info.configs))]


def all_configs() -> list[tuple[OptimizerInfo, dict[str, Any]]]:
    return [(info, cfg) for info in CATALOG for cfg in info.configs]


def all_config_ids() -> list[str]:
    return [cid for info in CATALOG for cid in config_ids(info)]
