"""Optimizers MXNet 1.9.1 lacks, against independent references over several steps:
AdamW against ``torch.optim.AdamW``; AdaBelief, LANS and Lion against their papers'
updates written out in NumPy below."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import mxopt as mx

STEPS = 8
SHAPES = [(4, 3), (5,)]


def problem(seed: int):
    rng = np.random.default_rng(seed)
    weights = [rng.standard_normal(s) for s in SHAPES]
    grads = [[rng.standard_normal(s) for s in SHAPES] for _ in range(STEPS)]
    return weights, grads


def run_mxopt(opt, weights, grads) -> list[list[np.ndarray]]:
    """Weights after every step (float64 tensors, list calls through the Updater)."""
    updater = mx.optimizer.get_updater(opt)
    ws = [torch.tensor(w) for w in weights]
    history = []
    for step in grads:
        updater(list(range(len(ws))), [torch.tensor(g) for g in step], ws)
        history.append([w.numpy().copy() for w in ws])
    return history


# ------------------------------------------------------------------------- AdamW
@pytest.mark.parametrize(
    ("lr", "betas", "wd"),
    # betas exactly representable in float32 (MXNet parses operator parameters as float32,
    # so 0.999 would become 0.99900001, moving 1 - beta2 by 1e-5 relative)
    [(0.01, (0.875, 1 - 2**-10), 0.0), (0.0625, (0.75, 0.9375), 0.0), (0.02, (0.0, 0.0), 0.1)],
)
def test_adamw_matches_torch(lr, betas, wd) -> None:
    """Mapping: mxopt AdamW(learning_rate=lr, wd=wd, beta1, beta2, epsilon) equals
    torch.optim.AdamW(lr=lr, weight_decay=wd, betas, eps) where the conventions coincide:
    mxopt scales the decay by the bias-corrected rate and adds eps before the bias
    correction, so we use wd = 0 with bias correction, or betas = 0 (no correction) with
    wd > 0; eps = 1e-12 makes its placement immaterial."""
    weights, grads = problem(1)
    opt = mx.optimizer.AdamW(learning_rate=lr, beta1=betas[0], beta2=betas[1], epsilon=1e-12,
                             wd=wd)  # fmt: skip
    ours = run_mxopt(opt, weights, grads)
    params = [torch.nn.Parameter(torch.tensor(w)) for w in weights]
    ref = torch.optim.AdamW(params, lr=lr, betas=betas, eps=1e-12, weight_decay=wd)
    for t, step in enumerate(grads):
        for p, g in zip(params, step):
            p.grad = torch.tensor(g)
        ref.step()
        for k, p in enumerate(params):
            # hyper-parameters reach the kernel as float32, as in MXNet
            np.testing.assert_allclose(ours[t][k], p.detach().numpy(), rtol=1e-6, atol=2e-7,
                                       err_msg=f"param {k} after step {t + 1}")  # fmt: skip


def test_adamw_bias_corrected_decay_follows_mxnet_2() -> None:
    """With wd > 0 and bias correction, the decay is scaled by the corrected rate."""
    w = torch.tensor([2.0], dtype=torch.float64)
    opt = mx.optimizer.AdamW(learning_rate=0.1, wd=0.5, epsilon=1e-8)
    mx.optimizer.get_updater(opt)(0, torch.tensor([0.0], dtype=torch.float64), w)
    eta = np.float32(0.1 * np.sqrt(1 - 0.999) / (1 - 0.9))  # the kernel's float32 eta
    assert w.item() == pytest.approx(2.0 - float(eta) * float(np.float32(0.5)) * 2.0, rel=1e-12)


# --------------------------------------------------------------------- AdaBelief
def adabelief_paper(weights, grads, lr, b1, b2, eps, wd):
    """Zhuang et al. 2020, Algorithm 2 (L2 weight decay added to the gradient)."""
    ws = [w.copy() for w in weights]
    m = [np.zeros_like(w) for w in ws]
    s = [np.zeros_like(w) for w in ws]
    out = []
    for t, step in enumerate(grads, start=1):
        for k, g in enumerate(step):
            g = g + wd * ws[k]
            m[k] = b1 * m[k] + (1 - b1) * g
            s[k] = b2 * s[k] + (1 - b2) * (g - m[k]) ** 2 + eps
            m_hat = m[k] / (1 - b1**t)
            s_hat = s[k] / (1 - b2**t)
            ws[k] = ws[k] - lr * m_hat / (np.sqrt(s_hat) + eps)
        out.append([w.copy() for w in ws])
    return out


@pytest.mark.parametrize(("b1", "b2", "wd"), [(0.9, 0.999, 0.0), (0.8, 0.95, 0.01)])
def test_adabelief_matches_the_paper(b1, b2, wd) -> None:
    """The paper divides by sqrt(s_hat) + eps, mxopt (MXNet 2.0) by
    (sqrt(s) + eps)/sqrt(1 - b2^t): equal up to eps, which is taken tiny here."""
    weights, grads = problem(2)
    eps = 1e-16
    opt = mx.optimizer.AdaBelief(learning_rate=0.01, beta1=b1, beta2=b2, epsilon=eps, wd=wd)
    ours = run_mxopt(opt, weights, grads)
    ref = adabelief_paper(weights, grads, 0.01, b1, b2, eps, wd)
    for t in range(STEPS):
        for k in range(len(SHAPES)):
            np.testing.assert_allclose(ours[t][k], ref[t][k], rtol=1e-10, atol=1e-12)


# -------------------------------------------------------------------------- LANS
def lans_paper(weights, grads, lr, b1, b2, eps, wd, lower=None, upper=None):
    """Zheng et al. 2020, Algorithm 2 (LANS), per tensor."""

    def phi(z):
        if lower is not None:
            z = max(z, lower)
        if upper is not None:
            z = min(z, upper)
        return z

    def ratio(x, w):
        num, den = phi(np.linalg.norm(w)), np.linalg.norm(x)
        return 1.0 if num == 0 or den == 0 else num / den

    ws = [w.copy() for w in weights]
    m = [np.zeros_like(w) for w in ws]
    v = [np.zeros_like(w) for w in ws]
    out = []
    for t, step in enumerate(grads, start=1):
        for k, g in enumerate(step):
            g = g / np.linalg.norm(g)
            m[k] = b1 * m[k] + (1 - b1) * g
            v[k] = b2 * v[k] + (1 - b2) * g * g
            m_hat, v_hat = m[k] / (1 - b1**t), v[k] / (1 - b2**t)
            r = m_hat / (np.sqrt(v_hat) + eps)
            c = g / (np.sqrt(v_hat) + eps)
            x = ws[k]
            ws[k] = (
                x
                - lr * b1 * ratio(r + wd * x, x) * (r + wd * x)
                - lr * (1 - b1) * ratio(c + wd * x, x) * (c + wd * x)
            )
        out.append([w.copy() for w in ws])
    return out


@pytest.mark.parametrize(
    ("wd", "lower", "upper"), [(0.0, None, None), (0.01, None, None), (0.01, 0.5, 2.0)]
)
def test_lans_matches_the_paper(wd, lower, upper) -> None:
    weights, grads = problem(3)
    opt = mx.optimizer.LANS(learning_rate=0.05, wd=wd, lower_bound=lower, upper_bound=upper,
                            rescale_grad=0.5)  # fmt: skip
    ours = run_mxopt(opt, weights, grads)
    # rescaling is undone by the normalization
    ref = lans_paper(weights, grads, 0.05, 0.9, 0.999, 1e-6, wd, lower, upper)
    for t in range(STEPS):
        for k in range(len(SHAPES)):
            np.testing.assert_allclose(ours[t][k], ref[t][k], rtol=1e-10, atol=1e-12)


# -------------------------------------------------------------------------- Lion
def lion_paper(weights, grads, lr, b1, b2, wd):
    """Chen et al. 2023, Algorithm 2 (decoupled weight decay)."""
    ws = [w.copy() for w in weights]
    m = [np.zeros_like(w) for w in ws]
    out = []
    for step in grads:
        for k, g in enumerate(step):
            c = b1 * m[k] + (1 - b1) * g
            ws[k] = ws[k] - lr * (np.sign(c) + wd * ws[k])
            m[k] = b2 * m[k] + (1 - b2) * g
        out.append([w.copy() for w in ws])
    return out


@pytest.mark.parametrize(("b1", "b2", "wd"), [(0.9, 0.99, 0.0), (0.95, 0.98, 0.1)])
def test_lion_matches_the_paper(b1, b2, wd) -> None:
    weights, grads = problem(4)
    opt = mx.optimizer.Lion(learning_rate=0.003, beta1=b1, beta2=b2, wd=wd)
    ours = run_mxopt(opt, weights, grads)
    ref = lion_paper(weights, grads, 0.003, b1, b2, wd)
    for t in range(STEPS):
        for k in range(len(SHAPES)):
            np.testing.assert_allclose(ours[t][k], ref[t][k], rtol=1e-12, atol=1e-14)


def test_lion_clips_the_rescaled_gradient() -> None:
    """clip(r*g) feeds both the direction and the momentum."""
    w, g = torch.tensor([1.0, 1.0]), torch.tensor([4.0, -0.1])
    opt = mx.optimizer.Lion(learning_rate=0.1, beta1=0.5, beta2=0.5, rescale_grad=0.5,
                            clip_gradient=1.0)  # fmt: skip
    updater = mx.optimizer.get_updater(opt)
    updater(0, g, w)
    torch.testing.assert_close(w, torch.tensor([0.9, 1.1]))
    torch.testing.assert_close(updater.states[0], torch.tensor([0.5, -0.025]))
