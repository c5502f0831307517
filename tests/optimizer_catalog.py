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
    # extra configurations for the fast-path-vs-reference tests (tests/test_fused.py), on
    # top of ``configs``: they should cover every branch of the rule's fused kernels
    fused_grid: tuple[dict[str, Any], ...] = ()
    # (rtol, atol) for float32 fast vs reference, when the rule needs more than the default
    fused_tol: tuple[float, float] | None = None


_NEG_LR = ({"learning_rate": -0.1}, "learning_rate")
_BAD_KW = ({"no_such_option": 1}, "no_such_option")
_NEG_WD = ({"wd": "x"}, "wd")

CATALOG: tuple[OptimizerInfo, ...] = (
    OptimizerInfo(
        "sgd",
        configs=({"learning_rate": 0.1}, {"learning_rate": 0.1, "momentum": 0.9, "wd": 0.01}),
        bad_kwargs=(_NEG_LR, _BAD_KW, _NEG_WD, ({"momentum": 1.5}, "momentum")),
        supports_sparse=True,
        fused_grid=(
            {"wd": 0.01},
            {"momentum": 0.9, "wd": 0.1, "rescale_grad": 0.25},
            {"momentum": 0.5, "clip_gradient": 0.7},
            {"clip_gradient": 0.3, "wd": 0.02, "rescale_grad": 2.0},
            {"momentum": 0.9, "clip_gradient": 0.0},  # MXNet: 0 means "no clipping"
            {"momentum": 0.9, "clip_gradient": -1.5},
            {"momentum": 0.9, "lazy_update": False},
        ),
    ),
    OptimizerInfo(
        "nag",
        configs=({"learning_rate": 0.1, "momentum": 0.9, "wd": 0.01},),
        bad_kwargs=(_NEG_LR, _BAD_KW, ({"momentum": -0.1}, "momentum")),
        fused_grid=(
            {"learning_rate": 0.1},  # no momentum state: the sgd kernel
            {"momentum": 0.0, "wd": 0.02, "clip_gradient": 0.3, "rescale_grad": 2.0},
            {"momentum": 0.5, "clip_gradient": 0.7, "rescale_grad": 0.25},
            {"momentum": 0.9, "clip_gradient": 0.0},  # MXNet: 0 means "no clipping"
            {"momentum": 0.9, "clip_gradient": -1.5, "wd": 0.1},
        ),
    ),
    OptimizerInfo(
        "adam",
        configs=({"learning_rate": 0.01}, {"learning_rate": 0.01, "wd": 0.01, "clip_gradient": 1}),
        bad_kwargs=(_NEG_LR, _BAD_KW, ({"beta1": 1.0}, "beta1"), ({"beta2": -0.5}, "beta2")),
        supports_sparse=True,
        fused_grid=(
            {"clip_gradient": 0.5, "wd": 0.1},
            {"beta1": 0.5, "beta2": 0.9, "epsilon": 1e-3, "rescale_grad": 0.5},
            {"beta1": 0.0, "beta2": 0.0, "epsilon": 1e-6},
            {"clip_gradient": -2.0, "lazy_update": False},
        ),
    ),
    OptimizerInfo(
        "rmsprop",
        configs=({"learning_rate": 0.01}, {"learning_rate": 0.01, "centered": True}),
        bad_kwargs=(_NEG_LR, _BAD_KW, ({"gamma1": 1.2}, "gamma1"), ({"epsilon": -1}, "epsilon")),
        fused_grid=(
            {"wd": 0.01, "clip_gradient": 0.5, "rescale_grad": 2.0},
            {"clip_weights": 0.5, "gamma1": 0.5},
            {"clip_gradient": -1.0, "clip_weights": -1.0},  # negatives: no clipping
            {"centered": True, "wd": 0.1, "clip_gradient": 0.3, "clip_weights": 1.2, "gamma2": 0.5},
            {"centered": True, "gamma1": 0.8, "rescale_grad": 0.5},
            {"centered": True, "clip_gradient": 0.0, "clip_weights": 0.0, "epsilon": 1e-4},
        ),
    ),
    OptimizerInfo(
        "adagrad",
        configs=({"learning_rate": 0.1}, {"learning_rate": 0.1, "wd": 0.01}),
        bad_kwargs=(_NEG_LR, _BAD_KW, ({"eps": -1e-7}, "eps")),
        supports_sparse=True,
        fused_grid=(
            {"clip_gradient": 0.5, "rescale_grad": 0.5},
            {"clip_gradient": 0.0},  # NDArray clipping: zeroes the gradient
            {"clip_gradient": -0.4, "rescale_grad": 2.0},  # NDArray clipping: maps to +-c
            {"eps": 1e-3, "rescale_grad": 0.1},  # r not float32-rounded for float64
        ),
    ),
    OptimizerInfo(
        "adadelta",
        configs=({}, {"rho": 0.5, "wd": 0.01}),
        bad_kwargs=(_BAD_KW, ({"rho": 2.0}, "rho")),
        fused_grid=(
            {"clip_gradient": 0.5, "rescale_grad": 0.1},
            {"clip_gradient": 0.0},  # NDArray clipping: zeroes the gradient
            {"clip_gradient": -0.4, "rho": 0.95, "epsilon": 1e-6},  # maps to +-c
            {"rho": 1.0},
            {"rho": 0.0, "wd": 0.1, "rescale_grad": 3.0},
        ),
    ),
    OptimizerInfo(
        "test",
        configs=({},),
        bad_kwargs=(_BAD_KW,),
        fused_grid=({"rescale_grad": 0.1}, {"rescale_grad": 2.5, "wd": 0.1, "learning_rate": 0.5}),
    ),
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
        # no clip_gradient=0 here: it zeroes G, so u = 0 and every weight is NaN on both paths
        fused_grid=(
            {"clip_gradient": 0.5, "wd": 0.1, "rescale_grad": 0.5},
            {"clip_gradient": -0.7, "wd": 0.01},  # NDArray clip: everything becomes +-c
            {"beta1": 0.5, "beta2": 0.9, "rescale_grad": 2.0},
            {"beta1": 0.0, "beta2": 0.0},
        ),
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
        fused_grid=(
            {"clip_gradient": 0.5, "wd": 0.1, "rescale_grad": 0.5},
            {"clip_gradient": 0.0, "wd": 0.1},  # NDArray clip: 0 zeroes the gradient
            {"clip_gradient": -0.3, "wd": 0.01},
            {"beta1": 0.5, "beta2": 0.9, "epsilon": 1e-3, "schedule_decay": 0.1},
            {"schedule_decay": 0.0, "rescale_grad": 2.0},
        ),
    ),
    OptimizerInfo(
        "dcasgd",
        configs=(
            {"learning_rate": 0.1},
            {"learning_rate": 0.1, "momentum": 0.9, "lamda": 0.1, "wd": 0.01},
        ),
        bad_kwargs=(_NEG_LR, _BAD_KW, ({"momentum": 1.5}, "momentum"), ({"lamda": -1}, "lamda")),
        fused_grid=(
            {"momentum": 0.5, "clip_gradient": 0.7, "rescale_grad": 0.5},
            {"clip_gradient": 0.0, "wd": 0.1},  # NDArray clip: 0 zeroes the gradient
            {"clip_gradient": -0.4, "lamda": 0.5},
            {"momentum": 0.9, "clip_gradient": -1.0, "wd": 0.01},
            {"lamda": 0.0, "rescale_grad": 2.0, "wd": 0.02},
        ),
    ),
    OptimizerInfo(
        "sgld",
        configs=({"learning_rate": 0.01}, {"learning_rate": 0.01, "wd": 0.01, "clip_gradient": 1}),
        bad_kwargs=(_NEG_LR, _BAD_KW, ({"generator": 1234}, "generator")),
        fused_grid=(
            {"clip_gradient": 0.0, "wd": 0.1},  # NDArray clip: 0 zeroes the gradient
            {"clip_gradient": -0.5},
            {"learning_rate": 0.1, "rescale_grad": 0.5, "clip_gradient": 0.3, "wd": 0.02},
        ),
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
        fused_grid=(
            # signSGD ignores rescale_grad and clip_gradient
            {"momentum": 0.0, "wd": 0.1, "clip_gradient": 0.5, "rescale_grad": 2.0},
            {"momentum": 0.5, "clip_gradient": 0.0},  # fused rule: 0 means "no clipping"
            {"momentum": 0.9, "clip_gradient": -1.5, "rescale_grad": 0.5, "wd": 0.01},
            {"momentum": 0.9, "clip_gradient": 0.3, "rescale_grad": 2.0, "wd_lh": 0.1},
        ),
    ),
    OptimizerInfo(
        "ftml",
        configs=({"learning_rate": 0.01}, {"learning_rate": 0.01, "wd": 0.01, "clip_gradient": 1}),
        bad_kwargs=(_NEG_LR, _BAD_KW, ({"beta1": 1.0}, "beta1"), ({"epsilon": -1}, "epsilon")),
        fused_grid=(
            {"clip_gradient": 0.5, "wd": 0.1, "rescale_grad": 0.5},
            {"clip_gradient": 0.0, "wd": 0.01},  # fused rule: 0 means "no clipping"
            {"clip_gradient": -1.0, "rescale_grad": 2.0},
            {"beta1": 0.9, "beta2": 0.99, "epsilon": 1e-4},
            {"beta1": 0.0, "learning_rate": 0.1},
        ),
        # The kernel's sqrt is correctly rounded, torch's CPU sqrt is not (~17% of float32
        # results 1 ulp off); with a correctly rounded sqrt both paths are bit-identical.
        # z = b1 z + (1-b1) G - (d_t - b1 d) w cancels, so 1 ulp of d_t shows as up to
        # ulp(|d_t w|) absolute in z near 0 (3e-6 seen with lr=0.1, |z| up to ~2e2).
        fused_tol=(1e-5, 1e-5),
    ),
    OptimizerInfo(
        "ftrl",
        configs=({}, {"lamda1": 0.05, "wd": 0.01, "lazy_update": True}),
        bad_kwargs=(_NEG_LR, _BAD_KW, ({"lamda1": -1}, "lamda1"), ({"beta": -1}, "beta")),
        # row-sparse grads are densified by default (MXNet's dense-weight fallback);
        # lazy_update=True is tested in tests/test_optimizer_extra_rules.py
        fused_grid=(
            {"clip_gradient": 0.5, "wd": 0.1, "rescale_grad": 0.5},
            {"clip_gradient": 0.0, "lamda1": 0.5},  # fused rule: 0 means "no clipping"
            {"clip_gradient": -1.0, "beta": 0.0, "rescale_grad": 2.0},
            {"learning_rate": 0.5, "lamda1": 0.0, "beta": 2.0, "wd": 0.02},
        ),
        # torch's float32 sqrt (MKL VML) is off by up to 1 ulp where the kernel's is
        # correctly rounded (the kernel is bit-identical to a correctly rounded evaluation
        # of the reference's operations), and z + (G - sigma) cancels: one ulp of sigma
        # (|sigma| ~ 1e2 here) shows as up to ~2.5e-6 absolute in z after 8 steps
        fused_tol=(1e-5, 1e-5),
    ),
    OptimizerInfo(
        "groupadagrad",
        configs=({"learning_rate": 0.1}, {"learning_rate": 0.1, "eps": 1e-3, "clip_gradient": 1}),
        bad_kwargs=(_NEG_LR, _BAD_KW, ({"wd": 0.1}, "wd"), ({"eps": -1}, "eps")),
        supports_sparse=True,
        min_ndim=2,
        extra={"max_ndim": 2},  # weights must be exactly 2-D
        # dense gradients: the Python optimizer's NDArray clipping (row-sparse ones: the
        # operator's rule, tested with ``configs`` in test_fast_path_row_sparse)
        fused_grid=(
            {"clip_gradient": 0.5, "rescale_grad": 0.5},
            {"clip_gradient": 0.0},  # NDArray clip: 0 zeroes the gradient
            {"clip_gradient": -0.3, "eps": 1e-2},  # NDArray clip: everything becomes +-c
            {"learning_rate": 0.5, "rescale_grad": 2.0, "eps": 0.0},
        ),
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
        fused_grid=(
            {"momentum": 0.9, "eta": 0.01, "wd": 0.1, "rescale_grad": 0.25, "eps": 1e-3},
            {
                "momentum": 0.5,
                "eta": 0.5,
                "eps": 1e-6,
                "clip_gradient": 0.7,
                "momentum_correction": False,
            },
            {"eta": 0.5, "clip_gradient": 0.3, "wd": 0.02, "rescale_grad": 2.0},
            {"momentum": 0.9, "eta": 0.5, "eps": 1e-6, "clip_gradient": 0.0},  # 0: no clipping
            {"momentum": 0.9, "eta": 0.5, "eps": 1e-6, "clip_gradient": -1.5},
            {  # names ending in bias/gamma/beta keep the plain rate
                "momentum": 0.9,
                "eta": 0.5,
                "wd": 0.01,
                "param_idx2name": {0: "fc_bias", 1: "bn_gamma", 2: "bn_beta", 3: "conv_weight"},
            },
        ),
        # the fast path sums squares in double; the reference reproduces MXNet's float32
        # running sum (relative error ~2e-6 at 60000 elements), which moves the layer rate
        # and so the momentum and weights by a few 1e-6
        fused_tol=(1e-5, 1e-5),
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
        fused_grid=(
            {"momentum": 0.9, "wd": 0.01, "rescale_grad": 0.5, "clip_gradient": 0.7},
            {  # running sums with momentum; updates at calls 3 and 6
                "batch_scale": 3,
                "warmup_strategy": "power2",
                "warmup_epochs": 2,
                "updates_per_epoch": 2,
                "momentum": 0.9,
                "clip_gradient": -1.0,
            },
            {"batch_scale": 2, "warmup_strategy": "lars", "momentum": 0.9, "wd": 0.01},
            {"warmup_strategy": "lars", "wd": 0.1, "clip_gradient": 0.0},
            {  # counts start at 4: the first update has no running sum (g / M)
                "batch_scale": 2,
                "begin_epoch": 1,
                "updates_per_epoch": 3,
                "warmup_strategy": "sqrt",
                "warmup_epochs": 3,
            },
            {"warmup_strategy": "other", "clip_gradient": 0.5, "wd": 0.02, "rescale_grad": 2.0},
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
        fused_grid=(
            {"wd": 0.1, "clip_gradient": 0.5, "rescale_grad": 2.0},
            {"beta1": 0.5, "beta2": 0.9, "epsilon": 1e-3, "lower_bound": 10.0},
            {"upper_bound": 100.0, "wd": 0.01},  # bounds hit the small / the large tensors
            {"clip_gradient": 0.0, "begin_num_update": 5},
            {"clip_gradient": -1.0, "bias_correction": False, "wd": 0.01},
            {"beta1": 0.0, "beta2": 0.0, "lower_bound": 0.0},
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
        fused_grid=(
            {"clip_gradient": 0.5, "wd": 0.1, "rescale_grad": 0.5},
            {"clip_gradient": 0.0, "wd": 0.01},  # fused rule: 0 means "no clipping"
            {"clip_gradient": -1.0, "correct_bias": False, "rescale_grad": 2.0},
            {"beta1": 0.0, "beta2": 0.0, "epsilon": 1e-3},
            {"beta1": 0.5, "beta2": 0.9, "correct_bias": False, "wd": 0.1},
        ),
    ),
    OptimizerInfo(
        "adabelief",
        configs=({"learning_rate": 0.01}, {"learning_rate": 0.01, "wd": 0.01, "clip_gradient": 1}),
        bad_kwargs=(_NEG_LR, _BAD_KW, ({"beta2": 1.0}, "beta2"), ({"epsilon": -1}, "epsilon")),
        extra={"beyond_mxnet": True},
        fused_grid=(
            {"clip_gradient": 0.5, "wd": 0.1, "rescale_grad": 0.5},
            {"clip_gradient": 0.0, "wd": 0.01},  # clips only when > 0
            {"clip_gradient": -1.0, "correct_bias": False, "rescale_grad": 2.0},
            {"beta1": 0.0, "beta2": 0.0, "epsilon": 1e-3},
            {"beta1": 0.5, "beta2": 0.9, "correct_bias": False, "wd": 0.1},
        ),
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
        fused_grid=(
            {"wd": 0.1, "clip_gradient": 0.05, "rescale_grad": 2.0},
            {"beta1": 0.5, "beta2": 0.9, "epsilon": 1e-3, "lower_bound": 10.0},
            {"upper_bound": 100.0, "wd": 0.01},  # bounds hit the small / the large tensors
            {"clip_gradient": 0.0, "begin_num_update": 3},
            {"clip_gradient": -1.0, "wd": 0.01},
        ),
    ),
    OptimizerInfo(
        "lion",
        configs=({"learning_rate": 0.001}, {"learning_rate": 0.001, "wd": 0.1, "clip_gradient": 1}),
        bad_kwargs=(_NEG_LR, _BAD_KW, ({"beta1": 1.5}, "beta1"), ({"beta2": -1}, "beta2")),
        extra={"beyond_mxnet": True},
        fused_grid=(
            {"clip_gradient": 0.5, "wd": 0.1, "rescale_grad": 0.5},
            {"clip_gradient": 0.0, "wd": 0.01},  # clips only when > 0
            {"clip_gradient": -1.0, "rescale_grad": 2.0},
            {"beta1": 0.0, "beta2": 0.5},
            {"beta1": 1.0, "beta2": 0.9, "wd": 0.1},  # first step: sign(0) = 0
        ),
    ),
)

BY_NAME = {info.name: info for info in CATALOG}


def config_ids(info: OptimizerInfo) -> list[str]:
    return [f"{info.name}-{i}" for i in range(len(info.configs))]


def all_configs() -> list[tuple[OptimizerInfo, dict[str, Any]]]:
    return [(info, cfg) for info in CATALOG for cfg in info.configs]


def all_config_ids() -> list[str]:
    return [cid for info in CATALOG for cid in config_ids(info)]
