"""mx.metric: values after every update/reset against MXNet 1.9.1 golden fixtures."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
import torch

import mxopt as mx

FIXTURE = json.loads((Path(__file__).parent / "fixtures" / "io_metric_metric.json").read_text())
CASES = sorted(k for k in FIXTURE if not k.startswith("_"))
# float32 sums may be reduced in a different order than MXNet's kernels: last-bit tolerance
REL = 1e-6


def _as_float(v):
    if isinstance(v, list):
        return [_as_float(x) for x in v]
    return float("nan") if v == "nan" else float(v)


def _close(got, want) -> bool:
    if isinstance(want, list):
        return len(got) == len(want) and all(_close(g, w) for g, w in zip(got, want))
    if math.isnan(want):
        return math.isnan(got)
    return math.isclose(got, want, rel_tol=REL, abs_tol=1e-12)


def _state(m) -> dict:
    name, value = m.get()
    gname, gvalue = m.get_global()
    return {"name": name, "value": value, "global_name": gname, "global_value": gvalue}


def _tensors(values: list, shapes: list) -> list:
    return [torch.tensor(v, dtype=torch.float32).reshape(s) for v, s in zip(values, shapes)]


@pytest.mark.parametrize("case", CASES)
def test_metric_matches_mxnet(case: str) -> None:
    ref = FIXTURE[case]
    m = mx.metric.create(ref["metric"], **ref["kwargs"])
    states = [_state(m)]
    updates = iter(ref["updates"])
    for op in ref["script"]:
        if op == "u":
            u = next(updates)
            labels = _tensors(u["labels"], u["label_shapes"])
            preds = _tensors(u["preds"], u["pred_shapes"])
            m.update(labels, preds)
        elif op == "r":
            m.reset_local()
        else:
            m.reset()
        states.append(_state(m))
    assert len(states) == len(ref["states"])
    for got, want in zip(states, ref["states"]):
        assert got["name"] == want["name"] and got["global_name"] == want["global_name"]
        assert _close(got["value"], _as_float(want["value"])), (got, want)
        assert _close(got["global_value"], _as_float(want["global_value"])), (got, want)


def _custom_scalar(label, pred):
    return float(np.abs(label.ravel() - pred.argmax(axis=1)).mean())


def _custom_tuple(label, pred):
    return float((pred.argmax(axis=1) == label.ravel()).sum()), label.size


@pytest.mark.parametrize(
    "key, fn",
    [
        ("_custom_scalar", _custom_scalar),
        ("_custom_tuple", _custom_tuple),
        ("<lambda>", lambda l, p: 0.5),
    ],
)
def test_custom_metric_matches_mxnet(key, fn) -> None:
    ref = FIXTURE["_custom"][key]
    m = mx.metric.create(fn, name=ref["name_arg"]) if ref["name_arg"] else mx.metric.create(fn)
    labels = [torch.tensor(x) for x in ref["labels"]]
    preds = [torch.tensor(x) for x in ref["preds"]]
    m.update(labels, preds)
    m.update(labels, preds)
    got = _state(m)
    want = ref["state"]
    assert got["name"] == want["name"]
    assert _close(got["value"], _as_float(want["value"]))
    assert _close(got["global_value"], _as_float(want["global_value"]))


def test_exact_values_written_out() -> None:
    # accuracy: argmax, then int32 truncation of labels and same-shape predictions
    acc = mx.metric.create("acc")
    acc.update([torch.tensor([1.9, 0.0])], [torch.tensor([[0.1, 0.9], [0.2, 0.8]])])
    assert acc.get() == ("accuracy", 0.5)
    acc.update([torch.tensor([2.5, -0.5])], [torch.tensor([2.1, 0.7])])
    assert acc.get() == ("accuracy", 3 / 4)
    # MSE: mean of batch means, not weighted by batch size
    mse = mx.metric.MSE()
    mse.update([torch.tensor([0.0])], [torch.tensor([2.0])])  # 4
    mse.update([torch.zeros(3)], [torch.tensor([1.0, 1.0, 1.0])])  # 1
    assert mse.get() == ("mse", 2.5)
    # cross-entropy: sum -log(p + eps) / n
    ce = mx.metric.create("CE", eps=0.0)
    ce.update([torch.tensor([0.0, 1.0])], [torch.tensor([[0.5, 0.5], [0.75, 0.25]])])
    assert ce.get()[1] == pytest.approx((math.log(2) + math.log(4)) / 2, rel=1e-6)
    # perplexity with an ignored label: exp(mean -log p over the kept samples)
    ppl = mx.metric.Perplexity(ignore_label=1)
    ppl.update([torch.tensor([0.0, 1.0])], [torch.tensor([[0.25, 0.75], [0.9, 0.1]])])
    assert ppl.get()[1] == pytest.approx(4.0, rel=1e-6)


def test_local_and_global_sums() -> None:
    m = mx.metric.Accuracy()
    m.update([torch.tensor([0.0, 1.0])], [torch.tensor([[1.0, 0.0], [1.0, 0.0]])])
    m.reset_local()
    assert math.isnan(m.get()[1]) and m.get_global() == ("accuracy", 0.5)
    m.update([torch.tensor([1.0])], [torch.tensor([[0.0, 1.0]])])
    assert m.get() == ("accuracy", 1.0)
    assert m.get_global()[1] == pytest.approx(2 / 3)
    assert m.get_name_value() == [("accuracy", 1.0)]
    assert m.get_global_name_value() == [("accuracy", pytest.approx(2 / 3))]
    m.reset()
    assert math.isnan(m.get_global()[1]) and m.num_inst == 0 and m.global_num_inst == 0


def test_composite() -> None:
    m = mx.metric.create(["acc", "mse"])
    assert isinstance(m, mx.metric.CompositeEvalMetric)
    m.update([torch.tensor([1.0])], [torch.tensor([[0.0, 1.0]])])
    names, values = m.get()
    assert names == ["accuracy", "mse"] and values[0] == 1.0
    assert m.get_metric(0).name == "accuracy"
    with pytest.raises(ValueError, match="out of range"):
        m.get_metric(5)
    m.add("ce")
    assert [x.name for x in m.metrics] == ["accuracy", "mse", "cross-entropy"]
    assert str(mx.metric.create("acc")) == "EvalMetric: {'accuracy': nan}"


def test_update_dict_selects_names() -> None:
    m = mx.metric.Accuracy(output_names=["out_b"], label_names=["lab"])
    preds = {"out_a": torch.tensor([[1.0, 0.0]]), "out_b": torch.tensor([[0.0, 1.0]])}
    m.update_dict({"lab": torch.tensor([1.0]), "other": torch.tensor([0.0])}, preds)
    assert m.get() == ("accuracy", 1.0)
    plain = mx.metric.Accuracy()
    plain.update_dict({"softmax_label": torch.tensor([1.0])}, {"sm": torch.tensor([[0.0, 1.0]])})
    assert plain.get() == ("accuracy", 1.0)


@pytest.mark.parametrize(
    "name, cls",
    [
        ("ACC", mx.metric.Accuracy),
        ("accuracy", mx.metric.Accuracy),
        ("ce", mx.metric.CrossEntropy),
        ("Cross-Entropy", mx.metric.CrossEntropy),
        ("nll_loss", mx.metric.NegativeLogLikelihood),
        ("mse", mx.metric.MSE),
        ("rmse", mx.metric.RMSE),
        ("mae", mx.metric.MAE),
        ("f1", mx.metric.F1),
        ("loss", mx.metric.Loss),
        ("composite", mx.metric.CompositeEvalMetric),
        ("pearsonr", mx.metric.PearsonCorrelation),
        ("mcc", mx.metric.MCC),
    ],
)
def test_create_names(name, cls) -> None:
    assert type(mx.metric.create(name)) is cls


def test_create_other_forms() -> None:
    acc = mx.metric.Accuracy()
    assert mx.metric.create(acc) is acc
    assert mx.metric.create({"metric": "top_k_acc", "top_k": 3}).name == "top_k_accuracy_3"
    assert mx.metric.create('["perplexity", {"ignore_label": null}]').name == "perplexity"
    assert mx.metric.create('{"metric": "f1", "average": "micro"}').average == "micro"
    config = mx.metric.create("acc", axis=0).get_config()
    assert config == {
        "axis": 0,
        "metric": "Accuracy",
        "name": "accuracy",
        "output_names": None,
        "label_names": None,
    }
    assert mx.metric.create(config).axis == 0


def test_register_custom_class() -> None:
    @mx.metric.register
    @mx.metric.alias("always_one")
    class AlwaysOne(mx.metric.EvalMetric):
        def __init__(self):
            super().__init__("one")

        def update(self, labels, preds):
            self._add(1.0, 1)

    m = mx.metric.create("ALWAYS_ONE")
    m.update([], [])
    assert m.get() == ("one", 1.0)
    assert type(mx.metric.create("alwaysone")) is AlwaysOne


def test_mx_metric_np() -> None:
    def mean_abs(label, pred):
        return np.abs(label - pred).mean()

    m = mx.metric.np(mean_abs)
    m.update([torch.tensor([1.0, 2.0])], [torch.tensor([3.0, 2.0])])
    assert m.get() == ("mean_abs", 1.0) and isinstance(m.get()[1], float)
    with pytest.raises(NotImplementedError):
        m.get_config()


@pytest.mark.parametrize(
    "make, exc, match",
    [
        (lambda: mx.metric.create("nope"), ValueError, "known names: acc, accuracy"),
        (lambda: mx.metric.create(3), TypeError, "metric must be"),
        (lambda: mx.metric.create(mx.metric.Accuracy(), axis=0), ValueError, "already"),
        (lambda: mx.metric.TopKAccuracy(top_k=1), ValueError, "top_k"),
        (lambda: mx.metric.F1(average="weighted"), ValueError, "average"),
        (lambda: mx.metric.CustomMetric(3), TypeError, "feval"),
        (lambda: mx.metric.create("acc").update([torch.zeros(2)], []), ValueError, "Shape of"),
        (
            lambda: mx.metric.create("acc").update([torch.zeros(3)], [torch.zeros(2, 2)]),
            ValueError,
            "Shape of labels",
        ),
        (
            lambda: mx.metric.create("top_k_accuracy", top_k=3).update(
                [torch.zeros(2)], [torch.zeros(2, 2)]
            ),
            ValueError,
            "exceeds",
        ),
        (
            lambda: mx.metric.F1().update([torch.tensor([0.0, 1.0, 2.0])], [torch.zeros(3, 2)]),
            ValueError,
            "binary",
        ),
        (
            lambda: mx.metric.Perplexity(None).update([torch.zeros(3)], [torch.zeros(2, 2)]),
            ValueError,
            "shape mismatch",
        ),
    ],
)
def test_bad_input(make, exc, match) -> None:
    with pytest.raises(exc, match=match):
        make()


def test_perplexity_3d_preds() -> None:
    # MXNet's pick fails here; mxopt picks along the class axis
    preds = torch.full((2, 3, 4), 0.25)
    m = mx.metric.Perplexity(ignore_label=None)
    m.update([torch.zeros(2, 3)], [preds])
    assert m.get()[1] == pytest.approx(4.0, rel=1e-6)
