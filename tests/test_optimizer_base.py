"""The Optimizer base class, registry and Updater: MXNet 1.9.1's bookkeeping rules.

Expected numbers come from MXNet 1.9.1 as recorded in
shared/reference/mxnet-1.9-behaviour.md (marked "verified" there) or from the rule's
arithmetic written out here.
"""

from __future__ import annotations

import warnings

import pytest
import torch

import mxopt as mx
from mxopt.optimizer import Optimizer

# behaviour doc §2 "Reference vectors": weight [1, -2], grads 0.5, -1, 2, lr 0.1, wd 0.1
REFERENCE_VECTORS = {
    ("sgd", ()): [(0.94, -2.03), (1.0306, -1.9097), (0.820294, -2.0906)],
    ("sgd", (("momentum", 0.9),)): [(0.94, -2.03), (0.9766, -1.9367), (0.799774, -2.03336)],
    ("nag", (("momentum", 0.9),)): [(0.886, -2.057), (1.01149, -1.85176), (0.642169, -2.12203)],
    ("adam", ()): [(0.899999, -2.1), (0.925263, -2.04389), (0.877616, -2.07164)],
    ("rmsprop", ()): [(0.683772, -2.31623), (0.953619, -2.00812), (0.670132, -2.27125)],
    ("rmsprop", (("centered", True),)): [
        (0.666667, -2.33333), (0.638412, -2.31587), (0.32235, -2.56413),
    ],
    ("adagrad", ()): [(0.89, -2.08), (0.970543, -1.96976), (0.87355, -2.03735)],
    ("adadelta", ()): [(0.890002, -1.81), (0.813778, -1.61622), (0.715761, -1.47124)],
}  # fmt: skip


@pytest.mark.parametrize(("key", "expected"), list(REFERENCE_VECTORS.items()), ids=str)
def test_reference_vectors(key, expected) -> None:
    name, extra = key
    updater = mx.optimizer.get_updater(
        mx.optimizer.create(name, learning_rate=0.1, wd=0.1, **dict(extra))
    )
    w = torch.tensor([1.0, -2.0])
    for g, exp in zip([0.5, -1.0, 2.0], expected):
        updater(0, torch.full((2,), g), w)
        torch.testing.assert_close(w, torch.tensor(exp), rtol=0, atol=2e-5)


def test_defaults() -> None:
    opt = Optimizer()
    assert (opt.lr, opt.wd, opt.rescale_grad, opt.clip_gradient) == (0.01, 0.0, 1.0, None)
    assert (opt.begin_num_update, opt.num_update, opt.multi_precision) == (0, 0, False)
    assert opt.learning_rate == 0.01 and opt.aggregate_num == 0
    assert mx.optimizer.SGD().aggregate_num == 4


def test_scheduler_without_learning_rate_drives_lr() -> None:
    sched = mx.lr_scheduler.FactorScheduler(step=2, factor=0.5, base_lr=1.0)
    opt = Optimizer(lr_scheduler=sched)
    assert opt.lr is None and opt.learning_rate == 1.0


def test_learning_rate_overrides_scheduler_base_lr_with_a_printed_notice(capsys) -> None:
    sched = mx.lr_scheduler.FactorScheduler(step=2, factor=0.5, base_lr=1.0)
    mx.optimizer.SGD(learning_rate=0.3, lr_scheduler=sched)
    assert "has been overwritten by ``learning_rate``" in capsys.readouterr().out
    assert sched.base_lr == 0.3


def test_default_lr_optimizers_override_a_scheduler_like_mxnet() -> None:
    """behaviour doc §1.2 (verified): Factor(step=2, factor=.5, base_lr=1, warmup 2) in a
    default Adam gives 0, .5, .001, .0005 for n = 0..3."""
    sched = mx.lr_scheduler.FactorScheduler(step=2, factor=0.5, base_lr=1.0, warmup_steps=2)
    mx.optimizer.Adam(lr_scheduler=sched)
    assert [sched(n) for n in range(4)] == pytest.approx([0.0, 0.5, 0.001, 0.0005])


def test_set_learning_rate_and_lr_scale() -> None:
    opt = mx.optimizer.SGD(learning_rate=0.1)
    opt.set_learning_rate(0.2)
    assert opt.learning_rate == 0.2
    with pytest.raises(ValueError, match="lr"):
        opt.set_learning_rate(-1.0)
    with pytest.raises(DeprecationWarning):
        opt.set_lr_scale({})
    scheduled = mx.optimizer.SGD(lr_scheduler=mx.lr_scheduler.FactorScheduler(step=1))
    with pytest.raises(UserWarning, match="LRScheduler of the optimizer has already been"):
        scheduled.set_learning_rate(0.5)


def test_param_idx2name_must_be_a_dict() -> None:
    with pytest.raises(AssertionError, match="param_idx2name"):
        Optimizer(param_idx2name=[("fc_weight", 0)])
    with pytest.raises(TypeError, match="param_idx2name"):
        Optimizer(param_idx2name="fc_weight")


class _Sym:
    """The two Symbol methods an optimizer reads (attr_dict, list_arguments)."""

    def attr_dict(self):
        return {"fc_weight": {"__lr_mult__": "2", "__wd_mult__": "3"}}

    def list_arguments(self):
        return ["data", "fc_weight", "fc_bias", "bn_gamma", "bn_beta", "softmax_label"]


def test_multipliers_from_sym_and_names() -> None:
    """behaviour doc §1.3 (verified): lrs [2,1,1,1], wds [.3,0,.1,0]."""
    idx2name = {0: "fc_weight", 1: "fc_bias", 2: "bn_gamma", 3: "bn_beta"}
    opt = Optimizer(learning_rate=1.0, wd=0.1, sym=_Sym(), param_idx2name=idx2name)
    assert opt._get_lrs([0, 1, 2, 3]) == [2.0, 1.0, 1.0, 1.0]
    assert opt._get_wds([0, 1, 2, 3]) == pytest.approx([0.3, 0.0, 0.1, 0.0])


def test_multiplier_precedence() -> None:
    class Param:
        lr_mult, wd_mult = 5.0, 7.0

    opt = Optimizer(learning_rate=1.0, wd=1.0, param_idx2name={0: "a_weight", 1: "b_weight"})
    opt.set_lr_mult({"a_weight": 3.0, 1: 4.0, "b_weight": 9.0})
    assert opt._get_lrs([0, 1, 2]) == [3.0, 4.0, 1.0]  # name, int key beats name, default
    opt.param_dict = {0: Param()}
    assert opt._get_lrs([0]) == [5.0] and opt._get_wds([0]) == [7.0]  # param_dict first
    with pytest.raises(TypeError, match="args_lr_mult"):
        opt.set_lr_mult({"a_weight": "fast"})


def test_biases_get_no_weight_decay_only_with_names() -> None:
    named = Optimizer(wd=0.5, param_idx2name={0: "fc_bias", 1: "fc_weight", 2: "bn_gamma"})
    assert named._get_wds([0, 1, 2]) == [0.0, 0.5, 0.5]
    assert Optimizer(wd=0.5)._get_wds([0]) == [0.5]  # no names: biases decay too


def test_update_counts_and_scheduler_calls() -> None:
    """behaviour doc §1.4 (verified): begin 5, updates of indices 0,0,1 -> the scheduler
    sees 6, 7, 7 and the counts are {0: 7, 1: 6}."""
    seen: list[int] = []

    class Recorder(mx.lr_scheduler.LRScheduler):
        def __call__(self, num_update: int) -> float:
            seen.append(num_update)
            return 0.1

    opt = mx.optimizer.SGD(lr_scheduler=Recorder(base_lr=0.1), begin_num_update=5)
    updater = mx.optimizer.get_updater(opt)
    w = [torch.zeros(2), torch.zeros(2)]
    for i in [0, 0, 1]:
        updater(i, torch.ones(2), w[i])
    assert seen == [6, 7, 7]
    assert opt._index_update_count == {0: 7, 1: 6} and opt.num_update == 7


def test_test_optimizer_never_counts() -> None:
    opt = mx.optimizer.Test()
    updater = mx.optimizer.get_updater(opt)
    w = torch.ones(2)
    updater(0, torch.ones(2), w)
    assert opt.num_update == 0 and opt._index_update_count == {}
    assert torch.equal(updater.states[0], w)


def test_registry() -> None:
    assert type(mx.optimizer.create("AdaM")) is mx.optimizer.Adam
    assert mx.opt is mx.optimizer
    with pytest.raises(ValueError, match="Cannot find optimizer nope.*sgd"):
        mx.optimizer.create("nope")

    @mx.optimizer.register
    class MyOpt(Optimizer):
        def update(self, index, weight, grad, state):
            weight -= self._get_lr(index) * grad

    try:
        assert type(Optimizer.create_optimizer("myopt", learning_rate=1.0)) is MyOpt
        with pytest.warns(UserWarning, match="is overriding existing optimizer"):

            @Optimizer.register
            class myopt(Optimizer):  # noqa: N801 (same name, different class)
                pass
    finally:
        Optimizer.opt_registry.pop("myopt")


def test_user_subclass_with_single_tensor_update_works_through_updater() -> None:
    """The seed's recipe: subclass, implement create_state and update, register."""

    class Halve(Optimizer):
        def create_state(self, index, weight):
            return torch.zeros_like(weight)

        def update(self, index, weight, grad, state):
            self._update_count(index)
            state += grad
            weight -= self._get_lr(index) * state

    updater = mx.optimizer.get_updater(Halve(learning_rate=0.5, multi_precision=True))
    w = torch.ones(2, dtype=torch.float16)
    updater(0, torch.ones(2, dtype=torch.float16), w)
    updater(0, torch.ones(2, dtype=torch.float16), w)
    assert w.tolist() == [-0.5, -0.5]  # 1 - 0.5*1 - 0.5*2, via the fp32 master copy
    assert updater.states[0][0].dtype == torch.float32


def test_float16_without_multi_precision_warns() -> None:
    updater = mx.optimizer.get_updater(mx.optimizer.SGD(momentum=0.9))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        updater(0, torch.ones(2, dtype=torch.float16), torch.ones(2, dtype=torch.float16))
    assert any("multi_precision=True option of the SGD optimizer" in str(w.message) for w in caught)


def test_multi_precision_state_layouts() -> None:
    w = torch.ones(3, dtype=torch.float16)
    sgd_state = mx.optimizer.SGD(momentum=0.9, multi_precision=True).create_state_multi_precision(
        0, w
    )
    adam_state = mx.optimizer.Adam(multi_precision=True).create_state_multi_precision(0, w)
    assert sgd_state[1].dtype == torch.float32 and sgd_state[0].dtype == torch.float32
    assert adam_state[0].dtype == torch.float32 and isinstance(adam_state[1], tuple)


def test_updater_index_bytes_and_aggregation_by_dtype() -> None:
    opt = mx.optimizer.SGD(learning_rate=0.1, momentum=0.9)
    updater = mx.optimizer.get_updater(opt)
    assert updater.aggregate_updates
    gen = torch.Generator().manual_seed(0)
    dtypes = [torch.float32, torch.float64] * 4
    ws = [torch.randn(3, generator=gen).to(d) for d in dtypes]
    gs = [torch.randn(3, generator=gen).to(d) for d in dtypes]
    one_by_one = [w.clone() for w in ws]
    reference = mx.optimizer.get_updater(mx.optimizer.SGD(learning_rate=0.1, momentum=0.9))
    for i, (g, w) in enumerate(zip(gs, one_by_one)):
        reference(i, g, w)
    updater(list(range(8)), gs, ws)
    for a, b in zip(ws, one_by_one):
        assert torch.equal(a, b)
    updater(b"name", torch.ones(1), torch.ones(1))
    assert "name" in updater.states


def test_set_states_moves_states_to_the_weight_device_lazily() -> None:
    updater = mx.optimizer.get_updater(mx.optimizer.Adam())
    w = torch.ones(2)
    updater(0, torch.ones(2), w)
    blob = updater.get_states()
    fresh = mx.optimizer.get_updater(mx.optimizer.Adam())
    fresh.set_states(blob)
    assert fresh.states_synced == {0: False}
    fresh(0, torch.ones(2), w)
    assert fresh.states_synced == {0: True}
