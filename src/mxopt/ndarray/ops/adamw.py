r"""AdamW operators (``mx.nd.contrib.adamw_update`` / ``mp_adamw_update`` in MXNet 1.9.1).

With :math:`\hat g = \mathrm{clip}(r g)` (only when ``clip_gradient >= 0``),
:math:`\eta` = ``lr``, :math:`s` = ``eta`` (the schedule multiplier) and
:math:`\lambda` = ``wd``:

.. math::

    m &\leftarrow \beta_1 m + (1-\beta_1)\hat g, \qquad
    v \leftarrow \beta_2 v + (1-\beta_2)\hat g^2 \\
    w &\leftarrow w - s\,\big(\eta\, m / (\sqrt{v} + \epsilon) + \lambda w\big)

The weight decay is decoupled (not inside the moments) and there is no bias correction
in the kernel: the optimizer folds it into ``eta``. ``rescale_grad`` may be a number or a
one-element tensor; when it is not finite or is 0 the update is skipped (MXNet's guard
for dynamic loss scaling), leaving weight and states as they were.

Differences from MXNet: MXNet's float32/float64 ``adamw_update`` also overwrites the
caller's ``grad`` with the rescaled, clipped gradient; mxopt leaves ``grad`` untouched.
When the update is skipped and ``out`` is not ``weight``, MXNet leaves ``out``
uninitialised; mxopt copies the weight into it.
"""

from __future__ import annotations

import math

import torch

from ._common import clip_, f32, in_dtype, prepare
from .sgd import _check_master

__all__ = ["adamw_update", "mp_adamw_update", "adamw_rule"]


def adamw_rule(w, g, mean, var, *, lr, eta, wd, beta1, beta2, epsilon, rescale_grad, clip_gradient):
    """Dense in-place AdamW step on ``w``, ``mean`` and ``var`` (computes in ``mean``'s
    dtype; ``w`` may be a float32 master copy of a float16 weight)."""
    dtype = mean.dtype
    g_hat = clip_(g.to(dtype) * rescale_grad, clip_gradient)
    mean.mul_(beta1).add_(g_hat * in_dtype(1.0 - beta1, dtype))
    var.mul_(beta2).add_(g_hat.square().mul_(in_dtype(1.0 - beta2, dtype)))
    step = (mean * lr).div_(var.sqrt().add_(epsilon)).add_(w * wd)
    w.sub_(step.mul_(eta))


def _rescale(op: str, rescale_grad) -> float:
    if isinstance(rescale_grad, torch.Tensor):
        if rescale_grad.numel() != 1:
            raise ValueError(f"{op}: rescale_grad must be a number or a one-element tensor")
        return float(rescale_grad.reshape(()).item())
    if isinstance(rescale_grad, bool) or not isinstance(rescale_grad, (int, float)):
        raise TypeError(f"{op}: rescale_grad must be a number or a one-element tensor")
    return float(rescale_grad)


def _hyper(lr, eta, wd, beta1, beta2, epsilon, clip_gradient, rescale) -> dict[str, float]:
    return dict(lr=f32(lr), eta=f32(eta), wd=f32(wd), beta1=f32(beta1), beta2=f32(beta2),
                epsilon=f32(epsilon), clip_gradient=f32(clip_gradient),
                rescale_grad=f32(rescale))  # fmt: skip


def adamw_update(
    weight: torch.Tensor,
    grad: torch.Tensor,
    mean: torch.Tensor,
    var: torch.Tensor,
    rescale_grad,
    lr: float,
    eta: float,
    beta1: float = 0.9,
    beta2: float = 0.999,
    epsilon: float = 1e-8,
    wd: float = 0.0,
    clip_gradient: float = -1.0,
    out: torch.Tensor | None = None,
) -> torch.Tensor:
    """One AdamW step (decoupled weight decay, no bias correction in the kernel).

    >>> import torch, mxopt as mx
    >>> w = torch.tensor([1.0, -2.0]); m, v = torch.zeros(2), torch.zeros(2)
    >>> mx.nd.contrib.adamw_update(w, torch.tensor([0.5, 0.5]), m, v, rescale_grad=1.0,
    ...                            lr=0.1, eta=1.0, wd=0.1).round(decimals=4)
    tensor([ 0.5838, -2.1162])
    """
    op = "adamw_update"
    rescale = _rescale(op, rescale_grad)
    out = prepare(op, weight, grad, out, {"mean": mean, "var": var})
    if out is not weight:
        out.copy_(weight)
    if not math.isfinite(rescale) or rescale == 0.0:
        return out
    g = grad.to_dense() if grad.is_sparse else grad
    hyper = _hyper(lr, eta, wd, beta1, beta2, epsilon, clip_gradient, rescale)
    hyper = {k: in_dtype(v, weight.dtype) for k, v in hyper.items()}
    adamw_rule(out, g, mean, var, **hyper)
    return out


def mp_adamw_update(
    weight: torch.Tensor,
    grad: torch.Tensor,
    mean: torch.Tensor,
    var: torch.Tensor,
    weight32: torch.Tensor,
    rescale_grad,
    lr: float,
    eta: float,
    beta1: float = 0.9,
    beta2: float = 0.999,
    epsilon: float = 1e-8,
    wd: float = 0.0,
    clip_gradient: float = -1.0,
    out: torch.Tensor | None = None,
) -> torch.Tensor:
    """AdamW on the float32 master copy ``weight32`` (and float32 ``mean``/``var``) of a
    float16 ``weight``; the master copy is updated and written to ``out`` (default
    ``weight``) in the weight's dtype."""
    op = "mp_adamw_update"
    rescale = _rescale(op, rescale_grad)
    _check_master(op, weight32)
    out = prepare(op, weight, grad, out)
    prepare(op, weight32, grad.float(), None, {"mean": mean, "var": var}, torch.float32)
    if not math.isfinite(rescale) or rescale == 0.0:
        if out is not weight:
            out.copy_(weight)
        return out
    g = grad.to_dense() if grad.is_sparse else grad
    adamw_rule(weight32, g, mean, var,
               **_hyper(lr, eta, wd, beta1, beta2, epsilon, clip_gradient, rescale))  # fmt: skip
    out.copy_(weight32)
    return out
