r"""LAMB update operators: ``lamb_update_phase1/2``, their multi-precision forms and the
multi-tensor ``multi_lamb_update``/``multi_mp_lamb_update`` (``mx.nd.contrib`` in MXNet).

With :math:`\hat g = \mathrm{clip}(r g)` (clipping only when ``clip_gradient >= 0``) and
:math:`t` the update count:

.. math::

    m &\leftarrow \beta_1 m + (1-\beta_1)\hat g, \qquad
    v \leftarrow \beta_2 v + (1-\beta_2)\hat g^2 \\
    \hat m &= m / (1-\beta_1^t), \qquad \hat v = v / (1-\beta_2^t)
        \qquad\text{(only with bias\_correction)} \\
    u &= \hat m / (\sqrt{\hat v} + \epsilon) + \lambda w \qquad\text{(phase 1)} \\
    r_1 &= \min(\max(\lVert w\rVert, \text{lower}), \text{upper}), \qquad
    r_2 = \lVert u \rVert \\
    w &\leftarrow w - \eta\,\tau\,u, \qquad
    \tau = \begin{cases} 1 & r_1 = 0 \text{ or } r_2 = 0 \\ r_1/r_2 & \text{else}
    \end{cases} \qquad\text{(phase 2)}

Bounds apply only when they are ``>= 0`` (the operators' default ``-1`` disables them).
The weight decay is not clipped. ``mp_lamb_update_phase2`` writes
:math:`w_{32} - \eta\tau u` to the float16 output and, exactly like MXNet's operator,
leaves the float32 master copy ``weight32`` unchanged (the :class:`~mxopt.optimizer.LAMB`
optimizer keeps its master copy itself). The multi-tensor operators update the master copy.

The multi-tensor kernels keep :math:`u` in float32 and take the norms as float32 sums of
squares accumulated element by element (:func:`~mxopt.ndarray.ops.multi.sum_sq_f32`), as
MXNet's CPU kernel does, so the results equal MXNet's.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

from ._common import clip_, f32, in_dtype, prepare
from .multi import sum_sq_f32

__all__ = [
    "lamb_update_phase1",
    "lamb_update_phase2",
    "mp_lamb_update_phase1",
    "mp_lamb_update_phase2",
    "multi_lamb_update",
    "multi_mp_lamb_update",
    "lamb_direction",
]


def lamb_direction(
    w: torch.Tensor,
    g: torch.Tensor,
    mean: torch.Tensor,
    var: torch.Tensor,
    *,
    t: int,
    beta1: float,
    beta2: float,
    epsilon: float,
    wd: float,
    rescale_grad: float,
    clip_gradient: float,
    bias_correction: bool,
) -> torch.Tensor:
    """Phase 1 in place on ``mean``/``var``: returns :math:`u` (a new tensor, ``w``'s dtype).

    Computes in ``mean``'s dtype; ``w`` and ``g`` are converted to it first (float16
    weights with float32 moments give MXNet's multi-precision phase 1)."""
    dtype = mean.dtype
    g_hat = clip_(g.to(dtype) * rescale_grad, clip_gradient)
    mean.mul_(beta1).add_(g_hat * in_dtype(1.0 - beta1, dtype))
    var.mul_(beta2).add_(g_hat * in_dtype(1.0 - beta2, dtype) * g_hat)
    if bias_correction:
        c1 = in_dtype(1.0 - in_dtype(beta1**t, dtype), dtype)
        c2 = in_dtype(1.0 - in_dtype(beta2**t, dtype), dtype)
        m, v = mean / c1, var / c2
    else:
        m, v = mean, var
    return (m / v.sqrt().add_(epsilon)).add_(w.to(dtype) * wd)


def _trust(r1: float, r2: float, lower_bound: float, upper_bound: float) -> float:
    if lower_bound >= 0:
        r1 = max(r1, lower_bound)
    if upper_bound >= 0:
        r1 = min(r1, upper_bound)
    return 1.0 if r1 == 0.0 or r2 == 0.0 else r1 / r2


def _scalar(name: str, op: str, x) -> float:
    if isinstance(x, torch.Tensor):
        if x.numel() != 1:
            raise ValueError(
                f"{op}: {name} must hold one value (a norm), got shape {tuple(x.shape)}"
            )
        return float(x.reshape(()).item())
    if isinstance(x, bool) or not isinstance(x, (int, float)):
        raise TypeError(f"{op}: {name} must be a number or a one-element tensor")
    return float(x)


def lamb_update_phase1(
    weight: torch.Tensor,
    grad: torch.Tensor,
    mean: torch.Tensor,
    var: torch.Tensor,
    t: int,
    wd: float,
    beta1: float = 0.9,
    beta2: float = 0.999,
    epsilon: float = 1e-6,
    bias_correction: bool = True,
    rescale_grad: float = 1.0,
    clip_gradient: float = -1.0,
    out: torch.Tensor | None = None,
) -> torch.Tensor:
    """LAMB phase 1: update ``mean``/``var`` in place and return the direction :math:`u`
    (into ``out`` when given; ``weight`` is not modified).

    >>> import torch, mxopt as mx
    >>> w = torch.tensor([1.0, -2.0]); m, v = torch.zeros(2), torch.zeros(2)
    >>> mx.nd.lamb_update_phase1(w, torch.tensor([0.5, 0.5]), m, v, t=1, wd=0.0)
    tensor([1.0000, 1.0000])
    """
    _check_t("lamb_update_phase1", t)
    prepare("lamb_update_phase1", weight, grad, out, {"mean": mean, "var": var})
    if grad.is_sparse:
        grad = grad.to_dense()
    u = lamb_direction(
        weight, grad, mean, var, t=int(t), beta1=f32(beta1), beta2=f32(beta2),
        epsilon=f32(epsilon), wd=f32(wd), rescale_grad=f32(rescale_grad),
        clip_gradient=f32(clip_gradient), bias_correction=bool(bias_correction),
    )  # fmt: skip
    if out is None:
        return u
    return out.copy_(u)


def lamb_update_phase2(
    weight: torch.Tensor,
    g: torch.Tensor,
    r1,
    r2,
    lr: float,
    lower_bound: float = -1.0,
    upper_bound: float = -1.0,
    out: torch.Tensor | None = None,
) -> torch.Tensor:
    """LAMB phase 2: ``weight - lr * trust * g`` with the trust ratio from the norms
    ``r1`` (of the weight) and ``r2`` (of ``g``). Returns a new tensor unless ``out``.

    >>> import torch, mxopt as mx
    >>> w = torch.tensor([3.0, 4.0]); u = torch.tensor([1.0, 0.0])
    >>> mx.nd.lamb_update_phase2(w, u, torch.tensor([5.0]), torch.tensor([1.0]), lr=0.1)
    tensor([2.5000, 4.0000])
    """
    op = "lamb_update_phase2"
    prepare(op, weight, g, None)
    _check_out(op, weight, out)
    dtype = weight.dtype
    r1v, r2v = in_dtype(_scalar("r1", op, r1), dtype), in_dtype(_scalar("r2", op, r2), dtype)
    lo, hi = in_dtype(f32(lower_bound), dtype), in_dtype(f32(upper_bound), dtype)
    trust = _trust(r1v, r2v, lo, hi)
    lr_t = in_dtype(f32(lr), dtype) if trust == 1.0 else _lr_times(f32(lr), r1v, r2v, lo, hi, dtype)
    result = weight - g * lr_t
    return result if out is None else out.copy_(result)


def _lr_times(lr: float, r1: float, r2: float, lo: float, hi: float, dtype) -> float:
    """``lr * r1 / r2`` evaluated left to right in ``dtype`` (MXNet's phase-2 kernel)."""
    if lo >= 0:
        r1 = max(r1, lo)
    if hi >= 0:
        r1 = min(r1, hi)
    return in_dtype(in_dtype(lr * r1, dtype) / r2, dtype)


def mp_lamb_update_phase1(
    weight: torch.Tensor,
    grad: torch.Tensor,
    mean: torch.Tensor,
    var: torch.Tensor,
    weight32: torch.Tensor,
    t: int,
    wd: float,
    beta1: float = 0.9,
    beta2: float = 0.999,
    epsilon: float = 1e-6,
    bias_correction: bool = True,
    rescale_grad: float = 1.0,
    clip_gradient: float = -1.0,
    out: torch.Tensor | None = None,
) -> torch.Tensor:
    """Phase 1 for a float16 ``weight`` with float32 ``mean``, ``var`` and master copy
    ``weight32`` (the weight decay uses the master copy); returns float32 :math:`u`."""
    op = "mp_lamb_update_phase1"
    _check_t(op, t)
    prepare(op, weight, grad, None)
    prepare(op, weight32, grad.float(), None, {"mean": mean, "var": var}, torch.float32)
    if out is not None and (out.dtype != torch.float32 or out.shape != weight.shape):
        raise ValueError(f"{op}: out must be a float32 tensor shaped like weight")
    if grad.is_sparse:
        grad = grad.to_dense()
    u = lamb_direction(
        weight32, grad, mean, var, t=int(t), beta1=f32(beta1), beta2=f32(beta2),
        epsilon=f32(epsilon), wd=f32(wd), rescale_grad=f32(rescale_grad),
        clip_gradient=f32(clip_gradient), bias_correction=bool(bias_correction),
    )  # fmt: skip
    return u if out is None else out.copy_(u)


def mp_lamb_update_phase2(
    weight: torch.Tensor,
    g: torch.Tensor,
    r1,
    r2,
    weight32: torch.Tensor,
    lr: float,
    lower_bound: float = -1.0,
    upper_bound: float = -1.0,
    out: torch.Tensor | None = None,
) -> torch.Tensor:
    """Phase 2 from the float32 master copy: returns ``weight32 - lr * trust * g`` in
    ``weight``'s dtype. Like MXNet's operator it does **not** write ``weight32``."""
    op = "mp_lamb_update_phase2"
    prepare(op, weight32, g, None)
    if weight.shape != weight32.shape:
        raise ValueError(f"{op}: weight and weight32 must have the same shape")
    _check_out(op, weight, out)
    r1v, r2v = f32(_scalar("r1", op, r1)), f32(_scalar("r2", op, r2))
    lo, hi = f32(lower_bound), f32(upper_bound)
    trust = _trust(r1v, r2v, lo, hi)
    lr_t = f32(lr) if trust == 1.0 else _lr_times(f32(lr), r1v, r2v, lo, hi, torch.float32)
    result = (weight32 - g * lr_t).to(weight.dtype)
    return result if out is None else out.copy_(result)


def _check_t(op: str, t) -> None:
    if isinstance(t, bool) or not isinstance(t, int) or t < 1:
        raise ValueError(f"{op}: t (the update count) must be an int >= 1, got {t!r}")


def _check_out(op: str, weight: torch.Tensor, out) -> None:
    if out is None:
        return
    if not isinstance(out, torch.Tensor) or out.shape != weight.shape:
        raise ValueError(f"{op}: out must be a tensor shaped like weight {tuple(weight.shape)}")
    if out.dtype != weight.dtype:
        raise ValueError(f"{op}: out must have the weight's dtype {weight.dtype}")


# ---------------------------------------------------------------- multi-tensor
def _multi_lamb(
    op: str,
    weights: Sequence[torch.Tensor],
    grads: Sequence[torch.Tensor],
    means: Sequence[torch.Tensor],
    variances: Sequence[torch.Tensor],
    masters: Sequence[torch.Tensor] | None,
    step_count: Sequence[int],
    lrs: Sequence[float],
    wds: Sequence[float],
    out,
    num_tensors: int,
    hyper: dict,
):
    n = num_tensors or len(weights)
    lists = {"weights": weights, "grads": grads, "mean": means, "var": variances}
    lists.update({"step_count": step_count, "lrs": lrs, "wds": wds})
    if masters is not None:
        lists["weights32"] = masters
    for name, seq in lists.items():
        if not isinstance(seq, (list, tuple)) or len(seq) != n:
            raise ValueError(f"{op}: {name} must be a list of {n} items (num_tensors)")
    outs = _out_list(op, out, weights, n)
    for i in range(n):
        state_dtype = torch.float32 if masters is not None else None
        target = masters[i] if masters is not None else weights[i]
        prepare(op, weights[i], grads[i], None)
        prepare(op, target, grads[i].to(target.dtype), None,
                {"mean": means[i], "var": variances[i]}, state_dtype)  # fmt: skip
        _check_t(op, step_count[i])
    kw = {k: f32(hyper[k]) for k in ("beta1", "beta2", "epsilon", "rescale_grad")}
    kw["clip_gradient"] = f32(hyper["clip_gradient"])
    lo, hi = f32(hyper["lower_bound"]), f32(hyper["upper_bound"])
    results = []
    for i in range(n):
        w, g = weights[i], grads[i]
        if g.is_sparse:
            g = g.to_dense()
        master = masters[i] if masters is not None else w
        results.append(
            lamb_multi_rule(
                master, g, means[i], variances[i], t=int(step_count[i]), lr=f32(lrs[i]),
                wd=f32(wds[i]), lower_bound=lo, upper_bound=hi,
                bias_correction=bool(hyper["bias_correction"]), **kw,
            )
        )  # fmt: skip
    for i, new_w in enumerate(results):
        if masters is not None:
            masters[i].copy_(new_w)
        outs[i].copy_(new_w)
    return outs if n > 1 or isinstance(out, (list, tuple)) else outs[0]


def lamb_multi_rule(
    w: torch.Tensor,
    g: torch.Tensor,
    mean: torch.Tensor,
    var: torch.Tensor,
    *,
    t: int,
    lr: float,
    wd: float,
    beta1: float,
    beta2: float,
    epsilon: float,
    rescale_grad: float,
    clip_gradient: float,
    lower_bound: float,
    upper_bound: float,
    bias_correction: bool,
) -> torch.Tensor:
    """One tensor of MXNet's multi-tensor LAMB kernel; returns the new weight (``w``'s
    dtype) and updates ``mean``/``var`` in place.

    The direction is stored in float32 and both norms are float32 element-by-element sums
    of squares, as in the kernel; the trust ratio is a float32 quotient."""
    dtype = w.dtype
    # the kernel computes the bias-correction powers in its compute type
    u = lamb_direction(
        w, g, mean, var, t=t, beta1=beta1, beta2=beta2, epsilon=epsilon, wd=wd,
        rescale_grad=rescale_grad, clip_gradient=clip_gradient, bias_correction=bias_correction,
    ).to(torch.float32)  # fmt: skip
    r1 = f32(sum_sq_f32(w) ** 0.5)
    r2 = f32(sum_sq_f32(u) ** 0.5)
    if lower_bound >= 0:
        r1 = max(r1, lower_bound)
    if upper_bound >= 0:
        r1 = min(r1, upper_bound)
    ratio = 1.0 if r1 == 0.0 or r2 == 0.0 else f32(r1 / r2)
    lr_adj = in_dtype(lr * ratio, dtype)
    return w - u.to(dtype) * lr_adj


def _out_list(op: str, out, weights, n: int) -> list[torch.Tensor]:
    if out is None:
        return [torch.empty_like(w) for w in weights[:n]]
    outs = list(out) if isinstance(out, (list, tuple)) else [out]
    if len(outs) != n:
        raise ValueError(f"{op}: out must hold {n} tensors, got {len(outs)}")
    for o, w in zip(outs, weights):
        if not isinstance(o, torch.Tensor) or o.shape != w.shape or o.dtype != w.dtype:
            raise ValueError(f"{op}: each out tensor must match its weight's shape and dtype")
    return outs


def multi_lamb_update(
    weights: Sequence[torch.Tensor],
    grads: Sequence[torch.Tensor],
    mean: Sequence[torch.Tensor],
    var: Sequence[torch.Tensor],
    step_count: Sequence[int],
    lrs: Sequence[float],
    wds: Sequence[float],
    out=None,
    num_tensors: int = 0,
    beta1: float = 0.9,
    beta2: float = 0.999,
    epsilon: float = 1e-6,
    rescale_grad: float = 1.0,
    lower_bound: float = -1.0,
    upper_bound: float = -1.0,
    clip_gradient: float = -1.0,
    bias_correction: bool = True,
):
    """LAMB for several tensors at once (``mx.nd.contrib.multi_lamb_update``): per-tensor
    ``step_count``, ``lrs`` and ``wds``; results go to ``out`` (a list) or new tensors.

    >>> import torch, mxopt as mx
    >>> w = [torch.tensor([3.0, 4.0])]; m, v = [torch.zeros(2)], [torch.zeros(2)]
    >>> mx.nd.contrib.multi_lamb_update(w, [torch.tensor([1.0, 1.0])], m, v, [1], [0.1], [0.0])
    tensor([2.6464, 3.6464])
    """
    hyper = dict(beta1=beta1, beta2=beta2, epsilon=epsilon, rescale_grad=rescale_grad,
                 lower_bound=lower_bound, upper_bound=upper_bound,
                 clip_gradient=clip_gradient, bias_correction=bias_correction)  # fmt: skip
    return _multi_lamb("multi_lamb_update", weights, grads, mean, var, None, step_count,
                       lrs, wds, out, num_tensors, hyper)  # fmt: skip


def multi_mp_lamb_update(
    weights: Sequence[torch.Tensor],
    grads: Sequence[torch.Tensor],
    mean: Sequence[torch.Tensor],
    var: Sequence[torch.Tensor],
    weights32: Sequence[torch.Tensor],
    step_count: Sequence[int],
    lrs: Sequence[float],
    wds: Sequence[float],
    out=None,
    num_tensors: int = 0,
    beta1: float = 0.9,
    beta2: float = 0.999,
    epsilon: float = 1e-6,
    rescale_grad: float = 1.0,
    lower_bound: float = -1.0,
    upper_bound: float = -1.0,
    clip_gradient: float = -1.0,
    bias_correction: bool = True,
):
    """Multi-tensor LAMB for float16 weights with float32 moments and master copies
    ``weights32`` (updated in place). The weight norm is taken from the master copy (MXNet
    takes it from the float16 weights)."""
    hyper = dict(beta1=beta1, beta2=beta2, epsilon=epsilon, rescale_grad=rescale_grad,
                 lower_bound=lower_bound, upper_bound=upper_bound,
                 clip_gradient=clip_gradient, bias_correction=bias_correction)  # fmt: skip
    return _multi_lamb("multi_mp_lamb_update", weights, grads, mean, var, weights32,
                       step_count, lrs, wds, out, num_tensors, hyper)  # fmt: skip
