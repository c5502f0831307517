"""Module.fit against MXNet 1.9.1: same initial parameters, same batches (no shuffle), SGD
with momentum 0.9, wd 1e-3, lr 0.1 and FactorScheduler(step=2, factor=0.9), 3 epochs of 4
batches of 32. Final parameters (and the conv net's BatchNorm moving statistics and
predictions) must match MXNet's within float32 tolerance (module_train.npz)."""

from __future__ import annotations

import os

import numpy as np
import pytest
import torch
from networks import conv_net, mlp_net, seed_net

import mxopt as mx

FIX = np.load(os.path.join(os.path.dirname(__file__), "fixtures", "module_train.npz"))
BATCH, EPOCHS = 32, 3


NETS = {"seed": (seed_net, "x20"), "mlp": (mlp_net, "x20"), "conv": (conv_net, "ximg")}


def _params(name: str, stage: str, kind: str) -> dict[str, torch.Tensor]:
    prefix = f"{name}/{stage}/{kind}:"
    return {k[len(prefix) :]: torch.from_numpy(FIX[k]) for k in FIX.files if k.startswith(prefix)}


def _train(name: str) -> mx.mod.Module:
    builder, xkey = NETS[name]
    it = mx.io.NDArrayIter(FIX[xkey], FIX[f"{name}/label"], batch_size=BATCH, shuffle=False)
    mod = mx.mod.Module(builder(mx), context=mx.cpu())
    sched = mx.lr_scheduler.FactorScheduler(step=2, factor=0.9)
    mod.fit(
        it,
        num_epoch=EPOCHS,
        optimizer="sgd",
        optimizer_params={"learning_rate": 0.1, "momentum": 0.9, "wd": 1e-3, "lr_scheduler": sched},
        arg_params=_params(name, "init", "arg"),
        aux_params=_params(name, "init", "aux"),
        eval_metric="acc",
    )
    return mod


@pytest.mark.parametrize("name", sorted(NETS))
def test_fit_matches_mxnet(name: str) -> None:
    mod = _train(name)
    args, aux = mod.get_params()
    want_args, want_aux = _params(name, "final", "arg"), _params(name, "final", "aux")
    assert sorted(args) == sorted(want_args)
    assert sorted(aux) == sorted(want_aux)
    for key, want in [*want_args.items(), *want_aux.items()]:
        got = args[key] if key in args else aux[key]
        torch.testing.assert_close(got, want, rtol=1e-4, atol=1e-5, msg=key)
    builder, xkey = NETS[name]
    it = mx.io.NDArrayIter(FIX[xkey], FIX[f"{name}/label"], batch_size=BATCH)
    torch.testing.assert_close(
        mod.predict(it), torch.from_numpy(FIX[f"{name}/predict"]), rtol=1e-4, atol=1e-5
    )
