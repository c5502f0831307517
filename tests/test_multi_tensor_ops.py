"""MXNet 1.9.1 parity of the multi-tensor, LAMB and AdamW operators (``mx.nd`` and
``mx.nd.contrib``), replaying tools/fixtures/make_multi_tensor_fixtures.py, plus their
argument checks."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from conftest import FIXTURES

import mxopt as mx

PATH = FIXTURES / "multi_tensor_ops.npz"
TOLERANCE = {"float32": (2e-6, 1e-7), "float64": (1e-12, 1e-13), "float16": (1e-3, 1e-3)}
# Documented differences: multi_mp_lamb_update takes the weight norm from the float32 master
# copy (MXNet from the float16 weights), which moves the trust ratio by ~1e-4 relative.
LOOSER = {"multi_mp_lamb": (1e-4, 1e-5)}
# MXNet's adamw_update overwrites its grad input with the rescaled, clipped gradient;
# mxopt leaves it unchanged.
KEPT = {"adamw_update": {"g0"}}


def _load() -> tuple[list[dict], dict[str, np.ndarray]]:
    with np.load(PATH) as data:
        packed = {k: data[k] for k in data.files}
    meta = json.loads(str(packed.pop("__meta__")))
    arrays = {}
    for key, (dtype, offset, shape) in meta["index"].items():
        size = int(np.prod(shape)) if shape else 1
        arrays[key] = packed[dtype][offset : offset + size].reshape(shape)
    return meta["calls"], arrays


CALLS, ARRAYS = _load()


def replay(call: dict) -> tuple[list[torch.Tensor], dict[str, torch.Tensor]]:
    prefix = f"{call['id']}__in__"
    tensors = {
        k[len(prefix) :]: torch.from_numpy(v.copy())
        for k, v in ARRAYS.items()
        if k.startswith(prefix)
    }
    namespace = mx.nd.contrib if call.get("ns") == "contrib" else mx.nd
    fn = getattr(namespace, call["op"])
    kwargs = dict(call["kwargs"])
    for key, value in call.get("tensor_kwargs", {}).items():
        kwargs[key] = torch.tensor(value)
    if isinstance(call.get("out"), str):
        kwargs["out"] = tensors[call["out"]]
    elif call.get("out"):
        kwargs["out"] = [tensors[n] for n in call["out"]]
    if "lists" in call:
        result = fn(*[[tensors[n] for n in grp] for grp in call["lists"]], **kwargs)
    else:
        result = fn(*[tensors[n] for n in call["flat"]], **kwargs)
    return (list(result) if isinstance(result, (list, tuple)) else [result]), tensors


@pytest.mark.parametrize("call", CALLS, ids=[c["id"] for c in CALLS])
def test_operator_matches_mxnet(call: dict) -> None:
    results, tensors = replay(call)
    assert len(results) == call["num_results"]
    for k, r in enumerate(results):
        expected = ARRAYS[f"{call['id']}__result__{k}"]
        assert r.dtype == getattr(torch, expected.dtype.name)
        rtol, atol = LOOSER.get(call["id"], TOLERANCE[expected.dtype.name])
        np.testing.assert_allclose(r.double().numpy(), expected.astype(np.float64), rtol=rtol,
                                   atol=atol, err_msg=f"result {k}")  # fmt: skip
    for name, t in tensors.items():
        after = ARRAYS.get(f"{call['id']}__after__{name}")
        if after is None or name in KEPT.get(call["op"], ()):  # left unchanged
            np.testing.assert_array_equal(t.numpy(), ARRAYS[f"{call['id']}__in__{name}"])
            continue
        rtol, atol = LOOSER.get(call["id"], TOLERANCE[after.dtype.name])
        np.testing.assert_allclose(t.double().numpy(), after.astype(np.float64), rtol=rtol,
                                   atol=atol, err_msg=f"{name} after the call")  # fmt: skip


def test_multi_sgd_without_out_returns_new_tensors() -> None:
    """MXNet 1.9.1 fails without ``out=``; mxopt returns new weights and leaves the inputs."""
    w0, w1 = torch.tensor([1.0, -2.0]), torch.tensor([3.0])
    g0, g1 = torch.tensor([0.5, 0.5]), torch.tensor([-1.0])
    new = mx.nd.multi_sgd_update(w0, g0, w1, g1, lrs=(0.1, 0.2), wds=(0.1, 0.0), num_weights=2)
    # w - lr*wd*w - lr*g, written out
    torch.testing.assert_close(new[0], torch.tensor([1 - 0.01 - 0.05, -2 + 0.02 - 0.05]))
    torch.testing.assert_close(new[1], torch.tensor([3.0 + 0.2]))
    assert torch.equal(w0, torch.tensor([1.0, -2.0])) and torch.equal(w1, torch.tensor([3.0]))


def test_multi_ops_equal_single_tensor_calls() -> None:
    """A multi-tensor call equals the same rule applied to each weight alone."""
    gen = torch.Generator().manual_seed(0)
    ws = [torch.randn(4, 3, generator=gen), torch.randn(5, generator=gen)]
    gs = [torch.randn_like(w) for w in ws]
    ms = [torch.randn_like(w) for w in ws]
    together = [w.clone() for w in ws]
    moms = [m.clone() for m in ms]
    data = [x for trio in zip(together, gs, moms) for x in trio]
    mx.nd.multi_sgd_mom_update(*data, lrs=(0.1, 0.3), wds=(0.01, 0.0), momentum=0.9,
                               rescale_grad=0.5, clip_gradient=0.4, num_weights=2,
                               out=together)  # fmt: skip
    for k in range(2):
        alone, mom = ws[k].clone(), ms[k].clone()
        mx.nd.multi_sgd_mom_update(alone, gs[k], mom, lrs=((0.1, 0.3)[k],),
                                   wds=((0.01, 0.0)[k],), momentum=0.9, rescale_grad=0.5,
                                   clip_gradient=0.4, out=[alone])  # fmt: skip
        assert torch.equal(alone, together[k]) and torch.equal(mom, moms[k])


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: mx.nd.multi_sgd_update(torch.ones(2), torch.ones(2), torch.ones(3),
                                        lrs=(0.1,), wds=(0.0,), num_weights=2), "expected 4"),
        (lambda: mx.nd.multi_sgd_update(torch.ones(2), torch.ones(2), lrs=(0.1, 0.2),
                                        wds=(0.0,)), "lrs"),
        (lambda: mx.nd.multi_sgd_update(torch.ones(2), torch.ones(3), lrs=(0.1,), wds=(0.0,)),
         "grad"),
        (lambda: mx.nd.multi_sum_sq(torch.ones(2), num_arrays=2), "num_arrays"),
        (lambda: mx.nd.lamb_update_phase1(torch.ones(2), torch.ones(2), torch.zeros(2),
                                          torch.zeros(2), t=0, wd=0.0), "t"),
        (lambda: mx.nd.contrib.multi_lamb_update([torch.ones(2)], [torch.ones(2)],
                                                 [torch.zeros(2)], [torch.zeros(2)], [1],
                                                 [0.1, 0.2], [0.0]), "lrs"),
        (lambda: mx.nd.contrib.adamw_update(torch.ones(2), torch.ones(2), torch.zeros(2),
                                            torch.zeros(2), rescale_grad=torch.ones(2),
                                            lr=0.1, eta=1.0), "rescale_grad"),
    ],
)  # fmt: skip
def test_bad_arguments_are_refused(call, match) -> None:
    with pytest.raises((ValueError, TypeError), match=match):
        call()


def test_bad_multi_call_changes_nothing() -> None:
    """A bad tensor anywhere in the list is found before the first weight is written."""
    w0, w1, m0 = torch.ones(2), torch.ones(3), torch.zeros(2)
    with pytest.raises(ValueError, match="mom"):
        mx.nd.multi_sgd_mom_update(w0, torch.ones(2), m0, w1, torch.ones(3), torch.zeros(2),
                                   lrs=(0.1, 0.1), wds=(0.0, 0.0), momentum=0.9,
                                   num_weights=2, out=[w0, w1])  # fmt: skip
    assert torch.equal(w0, torch.ones(2)) and torch.equal(m0, torch.zeros(2))


def test_adamw_leaves_the_gradient_alone() -> None:
    """MXNet's adamw_update overwrites ``grad`` with the rescaled, clipped gradient;
    mxopt does not."""
    g = torch.tensor([0.5, 2.0, -3.0])
    w, m, v = torch.tensor([1.0, -2.0, 3.0]), torch.zeros(3), torch.zeros(3)
    mx.nd.contrib.adamw_update(w, g, m, v, rescale_grad=0.5, lr=0.1, eta=0.5, wd=0.1,
                               clip_gradient=0.6)  # fmt: skip
    assert torch.equal(g, torch.tensor([0.5, 2.0, -3.0]))
    # m = 0.1 * clip(0.5 g); w = w - 0.5 (0.1 m / (sqrt(v) + eps) + 0.1 w)
    gh = torch.tensor([0.25, 0.6, -0.6])
    expect = torch.tensor([1.0, -2.0, 3.0]) - 0.5 * (
        0.1 * (0.1 * gh) / ((0.001 * gh * gh).sqrt() + 1e-8) + 0.1 * torch.tensor([1.0, -2, 3])
    )
    torch.testing.assert_close(w, expect)
