"""Module workflow: binding, init_params, init_optimizer, update semantics, checkpoints,
exact resume, MXNet checkpoint/.states files, and bad input."""

from __future__ import annotations

import logging
import os

import numpy as np
import pytest
import torch

import mxopt as mx

FIXDIR = os.path.join(os.path.dirname(__file__), "fixtures")


def seed_net():
    data = mx.sym.Variable("data")
    fc = mx.sym.FullyConnected(data, name="fc", num_hidden=10)
    return mx.sym.SoftmaxOutput(fc, mx.sym.Variable("softmax_label"), name="softmax")


def _data(n: int = 64, seed: int = 0):
    g = np.random.RandomState(seed)
    return g.uniform(-1, 1, (n, 20)).astype(np.float32), g.randint(0, 10, n).astype(np.float32)


def _bound(batch: int = 8) -> mx.mod.Module:
    mod = mx.mod.Module(seed_net())
    mod.bind(data_shapes=[("data", (batch, 20))], label_shapes=[("softmax_label", (batch,))])
    return mod


def test_seed_snippet_runs(caplog) -> None:
    data = mx.symbol.Variable("data")
    label = mx.symbol.Variable("softmax_label")
    fc = mx.symbol.FullyConnected(data, name="fc", num_hidden=10)
    loss = mx.symbol.SoftmaxOutput(fc, label, name="softmax")
    mod = mx.mod.Module(loss)
    mod.bind(data_shapes=[("data", (128, 20))], label_shapes=[("softmax_label", (128,))])
    mod.init_params(mx.initializer.Uniform(scale=1.0))
    w = mod.get_params()[0]["fc_weight"]
    assert float(w.abs().max()) <= 1.0 and float(w.abs().max()) > 0.5
    lr_sch = mx.lr_scheduler.FactorScheduler(step=100, factor=0.9)
    mod.init_optimizer(
        optimizer="sgd", optimizer_params=(("learning_rate", 0.1), ("lr_scheduler", lr_sch))
    )
    x, y = _data(256)
    with caplog.at_level(logging.INFO), pytest.warns(UserWarning, match="already initialized"):
        mod.fit(mx.io.NDArrayIter(x, y, batch_size=128), num_epoch=2)
    text = caplog.text
    assert "Epoch[1] Train-accuracy=" in text and "Epoch[1] Time cost=" in text
    assert "optimizer already initialized, ignoring..." in text


def test_param_names_and_init_order() -> None:
    mod = _bound()
    assert mod.param_names == ["fc_weight", "fc_bias"]
    mod.init_params(mx.init.Uniform(0.5))
    args, aux = mod.get_params()
    assert float(args["fc_bias"].abs().sum()) == 0.0  # bias -> 0 whatever the initializer
    assert aux == {}
    with pytest.warns(UserWarning, match="init_params call ignored"):
        mod.init_params(mx.init.One())


def test_init_params_missing_and_extra() -> None:
    mod = _bound()
    with pytest.raises(RuntimeError, match="fc_bias is not presented"):
        mod.init_params(arg_params={"fc_weight": torch.zeros(10, 20)})
    with pytest.raises(ValueError, match="bogus"):
        mod.init_params(
            arg_params={"fc_weight": torch.zeros(10, 20), "bogus": torch.zeros(1)},
            allow_missing=True,
        )
    with pytest.raises(ValueError, match="fc_weight"):
        mod.init_params(arg_params={"fc_weight": torch.zeros(3, 3), "fc_bias": torch.zeros(10)})
    assert not mod.params_initialized
    mod.init_params(
        mx.init.One(), arg_params={"fc_weight": torch.full((10, 20), 2.0)}, allow_missing=True
    )
    args, _ = mod.get_params()
    assert float(args["fc_weight"].min()) == 2.0 and float(args["fc_bias"].abs().sum()) == 0


def test_one_sgd_step_closed_form() -> None:
    # w <- w - lr * (grad_sum / B + wd * w); bias gets wd 0 through idx2name
    x, y = _data(8)
    mod = _bound()
    w0, b0 = torch.randn(10, 20) * 0.1, torch.randn(10) * 0.1
    mod.init_params(arg_params={"fc_weight": w0.clone(), "fc_bias": b0.clone()})
    mod.init_optimizer(optimizer="sgd", optimizer_params={"learning_rate": 0.5, "wd": 0.1})
    assert mod._optimizer.rescale_grad == pytest.approx(1 / 8)
    mod.forward_backward(mx.io.DataBatch([torch.from_numpy(x)], [torch.from_numpy(y)]))
    mod.update()
    xt = torch.from_numpy(x)
    p = torch.softmax(xt @ w0.T + b0, 1)
    dz = p - torch.nn.functional.one_hot(torch.from_numpy(y).long(), 10)
    args, _ = mod.get_params()
    torch.testing.assert_close(args["fc_weight"], w0 - 0.5 * (dz.T @ xt / 8 + 0.1 * w0))
    torch.testing.assert_close(args["fc_bias"], b0 - 0.5 * dz.sum(0) / 8)


def test_lr_mult_attribute_and_fixed_params() -> None:
    data = mx.sym.Variable("data")
    w = mx.sym.Variable("fc_weight", lr_mult=0.0)
    net = mx.sym.SoftmaxOutput(
        mx.sym.FullyConnected(data, w, name="fc", num_hidden=3), name="softmax"
    )
    for mod in (
        mx.mod.Module(net),
        mx.mod.Module(seed_net(), fixed_param_names=["fc_weight"]),
    ):
        n = 3 if mod.symbol is net else 10
        mod.bind([("data", (4, 20))], [("softmax_label", (4,))])
        mod.init_params(mx.init.Uniform(0.1))
        mod.init_optimizer(optimizer_params={"learning_rate": 1.0})
        before = {k: v.clone() for k, v in mod.get_params()[0].items()}
        batch = mx.io.DataBatch([torch.ones(4, 20)], [torch.zeros(4)])
        mod.forward_backward(batch)
        mod.update()
        after = mod.get_params()[0]
        torch.testing.assert_close(after["fc_weight"], before["fc_weight"])
        assert not torch.equal(after["fc_bias"], before["fc_bias"])
        assert after["fc_bias"].shape == (n,)


def test_manual_optimizer_warns_about_rescale_grad() -> None:
    mod = _bound()
    mod.init_params()
    with pytest.warns(UserWarning, match="rescale_grad is not normalized"):
        mod.init_optimizer(optimizer=mx.optimizer.SGD(learning_rate=0.1))
    assert mod._optimizer.idx2name == {0: "fc_weight", 1: "fc_bias"}


def test_bad_input_errors() -> None:
    mod = mx.mod.Module(seed_net())
    with pytest.raises(ValueError, match="data_names"):
        mod.bind(data_shapes=[("images", (8, 20))])
    with pytest.raises(ValueError, match="softmax_label"):
        mod.bind(data_shapes=[("data", (8, 20))], label_shapes=[("label", (8,))])
    with pytest.raises(ValueError, match="'data'"):
        mx.mod.Module(seed_net(), data_names=["images"])
    mod.bind(data_shapes=[("data", (8, 20))], label_shapes=[("softmax_label", (8,))])
    mod.init_params()
    with pytest.raises(ValueError, match="fc_weight"):
        mod.forward(mx.io.DataBatch([torch.zeros(8, 7)], [torch.zeros(8)]))
    with pytest.raises(ValueError, match="data arrays"):
        mod.forward(mx.io.DataBatch([], [torch.zeros(8)]))
    with pytest.raises(RuntimeError, match="init_optimizer"):
        mod.update()
    with pytest.raises(ValueError, match="one device"):
        mx.mod.Module(seed_net(), context=[mx.cpu(), mx.cpu(1)])
    with pytest.raises(ValueError, match="dist"):
        mod.init_optimizer(kvstore="dist_sync")


def test_label_missing_from_provide_label() -> None:
    x, y = _data(16)
    it = mx.io.NDArrayIter(x, y, batch_size=8, label_name="lbl")
    mod = mx.mod.Module(seed_net())
    with pytest.raises(ValueError, match="softmax_label"):
        mod.fit(it, num_epoch=1)


def test_forward_reshapes_for_new_batch_size_and_predict() -> None:
    x, y = _data(20)
    mod = _bound(8)
    mod.init_params(mx.init.Uniform(0.1))
    out = mod.predict(mx.io.NDArrayIter(x, y, batch_size=8))
    assert out.shape == (20, 10)  # padding removed
    mod.forward(
        mx.io.DataBatch([torch.from_numpy(x[:5])], [torch.from_numpy(y[:5])]), is_train=False
    )
    torch.testing.assert_close(mod.get_outputs()[0], out[:5])


def test_inputs_need_grad() -> None:
    mod = mx.mod.Module(seed_net())
    mod.bind([("data", (4, 20))], [("softmax_label", (4,))], inputs_need_grad=True)
    mod.init_params(mx.init.Uniform(0.1))
    mod.forward_backward(mx.io.DataBatch([torch.ones(4, 20)], [torch.zeros(4)]))
    w = mod.get_params()[0]["fc_weight"]
    p = mod.get_outputs()[0]
    dz = p - torch.nn.functional.one_hot(torch.zeros(4, dtype=torch.long), 10)
    torch.testing.assert_close(mod.get_input_grads()[0], dz @ w)


def _fit(mod, x, y, begin, end, sched_step=3):
    mod.fit(
        mx.io.NDArrayIter(x, y, batch_size=8),
        num_epoch=end,
        begin_epoch=begin,
        optimizer="sgd",
        optimizer_params={
            "learning_rate": 0.2,
            "momentum": 0.9,
            "wd": 1e-3,
            "lr_scheduler": mx.lr_scheduler.FactorScheduler(step=sched_step, factor=0.5),
        },
        initializer=mx.init.Uniform(0.1),
    )


def test_checkpoint_files_and_exact_resume(tmp_path) -> None:
    x, y = _data(32)
    torch.manual_seed(0)
    full = mx.mod.Module(seed_net())
    _fit(full, x, y, 0, 2)
    with pytest.warns(UserWarning, match="already initialized"):  # (as MXNet warns)
        _fit(full, x, y, 2, 4)  # continues the same optimizer (never stopped)

    # the same 2 epochs again, then a checkpoint with the optimizer dump
    torch.manual_seed(0)
    part = mx.mod.Module(seed_net())
    _fit(part, x, y, 0, 2)
    prefix = str(tmp_path / "net")
    part.save_checkpoint(prefix, 2, save_optimizer_states=True)
    for name in ("net-symbol.json", "net-0002.params", "net-0002.states"):
        assert (tmp_path / name).is_file()
    saved = mx.nd.load(prefix + "-0002.params")
    assert sorted(saved) == ["arg:fc_bias", "arg:fc_weight"]
    with open(prefix + "-0002.states", "rb") as fh:
        assert fh.read(2)[:1] != b"\x80"  # not a pickle

    resumed = mx.mod.Module.load(prefix, 2, load_optimizer_states=True)
    with pytest.warns(UserWarning, match="already initialized"):
        _fit(resumed, x, y, 2, 4)
    want, got = full.get_params()[0], resumed.get_params()[0]
    for key in want:
        torch.testing.assert_close(got[key], want[key], rtol=0, atol=0)


def test_failed_fit_keeps_last_checkpoint(tmp_path) -> None:
    x, y = _data(16)
    prefix = str(tmp_path / "net")
    mod = mx.mod.Module(seed_net())
    _fit(mod, x, y, 0, 1)
    mod.save_checkpoint(prefix, 1)
    with open(prefix + "-0001.params", "rb") as fh:
        before = fh.read()

    def explode(epoch, sym, arg, aux):
        raise RuntimeError("disk full")

    with (
        pytest.raises(RuntimeError, match="disk full"),
        pytest.warns(UserWarning, match="already initialized"),  # (as MXNet warns)
    ):
        mod.fit(
            mx.io.NDArrayIter(x, y, batch_size=8),
            num_epoch=3,
            begin_epoch=1,
            epoch_end_callback=explode,
        )
    with open(prefix + "-0001.params", "rb") as fh:
        assert fh.read() == before
    assert sorted(os.listdir(tmp_path)) == ["net-0001.params", "net-symbol.json"]


def test_load_mxnet_checkpoint() -> None:
    fix = np.load(os.path.join(FIXDIR, "module_train.npz"))
    prefix = os.path.join(FIXDIR, "module_seed")
    sym, args, aux = mx.model.load_checkpoint(prefix, 3)
    assert sym.list_arguments() == ["data", "fc_weight", "fc_bias", "softmax_label"]
    for key in ("fc_weight", "fc_bias"):
        np.testing.assert_array_equal(args[key].numpy(), fix[f"seed/final/arg:{key}"])
    mod = mx.mod.Module.load(prefix, 3)
    it = mx.io.NDArrayIter(fix["x20"], fix["seed/label"], batch_size=32)
    mod.bind(it.provide_data, it.provide_label, for_training=False)
    torch.testing.assert_close(
        mod.predict(it), torch.from_numpy(fix["seed/predict"]), rtol=1e-5, atol=1e-6
    )


def test_legacy_states_need_allow_pickle() -> None:
    path = os.path.join(FIXDIR, "module_legacy.states")
    ref = np.load(os.path.join(FIXDIR, "module_legacy.npz"))
    mod = _bound()
    mod.init_params()
    mod.init_optimizer(optimizer_params={"learning_rate": 0.1, "momentum": 0.9})
    with pytest.raises(ValueError, match="allow_pickle"):
        mod.load_optimizer_states(path)
    mod.load_optimizer_states(path, allow_pickle=True)
    states = mod._updater.states
    assert sorted(states) == [0, 1]
    for k in (0, 1):
        np.testing.assert_array_equal(states[k].numpy(), ref[f"state{k}"])


def test_legacy_unpickler_refuses_other_globals() -> None:
    import pickle

    from mxopt.module import load_legacy_states

    evil = pickle.dumps({0: os.getcwd}, protocol=4)
    with pytest.raises(pickle.UnpicklingError, match="not allowed"):
        load_legacy_states(evil)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_module_on_gpu_matches_cpu() -> None:
    x, y = _data(32)
    outs = []
    for ctx in (mx.cpu(), mx.gpu(0)):
        torch.manual_seed(0)
        mod = mx.mod.Module(seed_net(), context=ctx)
        _fit(mod, x, y, 0, 2)
        outs.append(mod.get_params()[0]["fc_weight"])
    torch.testing.assert_close(outs[0], outs[1], rtol=1e-5, atol=1e-6)
