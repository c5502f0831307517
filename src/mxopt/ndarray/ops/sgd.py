r"""SGD update operators: ``sgd_update``, ``sgd_mom_update`` and their multi-precision forms.

With :math:`\eta` = ``lr``, :math:`\lambda` = ``wd``, :math:`r` = ``rescale_grad`` and
``clip`` applied only when ``clip_gradient >= 0``:

.. math::

    \text{plain:}\quad w \leftarrow (1 - \eta\lambda)\,w - \eta\,\mathrm{clip}(r g)

    \text{momentum:}\quad m \leftarrow \mu m - \eta\lambda w - \eta\,\mathrm{clip}(r g),
    \qquad w \leftarrow w + m

The momentum state holds the signed step (already scaled by :math:`-\eta`), as in MXNet.
Clipping acts on the rescaled gradient and never on the weight-decay term.
"""

from __future__ import annotations

import torch

from ._common import apply_update, clip_, f32, in_dtype, prepare

__all__ = ["sgd_update", "sgd_mom_update", "mp_sgd_update", "mp_sgd_mom_update"]


def _scaled_grad(grad: torch.Tensor, lr: float, rescale_grad: float, clip_gradient: float):
    """``lr * clip(r * g)`` as a new tensor (or ``(lr * r) * g`` without clipping)."""
    if clip_gradient >= 0:
        return clip_(grad * rescale_grad, clip_gradient).mul_(lr)
    return grad * in_dtype(lr * rescale_grad, grad.dtype)


def sgd_rule(w, g, *, lr, wd, rescale_grad, clip_gradient) -> None:
    """Dense in-place plain SGD step on ``w`` (float32-rounded scalars)."""
    step = _scaled_grad(g, lr, rescale_grad, clip_gradient)
    w.mul_(in_dtype(1.0 - in_dtype(lr * wd, w.dtype), w.dtype)).sub_(step)


def sgd_mom_rule(w, g, mom, *, lr, momentum, wd, rescale_grad, clip_gradient) -> None:
    """Dense in-place momentum SGD step on ``w`` and ``mom``."""
    step = _scaled_grad(g, lr, rescale_grad, clip_gradient)
    mom.mul_(momentum).sub_(w, alpha=in_dtype(lr * wd, w.dtype)).sub_(step)
    w.add_(mom)


def sgd_update(
    weight: torch.Tensor,
    grad: torch.Tensor,
    lr: float,
    wd: float = 0.0,
    rescale_grad: float = 1.0,
    clip_gradient: float = -1.0,
    lazy_update: bool = True,
    out: torch.Tensor | None = None,
) -> torch.Tensor:
    """Plain SGD: ``w = (1 - lr*wd) * w - lr * clip(rescale_grad * grad)``.

    >>> import torch, mxopt as mx
    >>> w = torch.tensor([1.0, -2.0]); g = torch.tensor([0.5, 0.5])
    >>> mx.nd.sgd_update(w, g, lr=0.1, wd=0.1)
    tensor([ 0.9400, -2.0300])
    """
    out = prepare("sgd_update", weight, grad, out)
    hyper = dict(lr=f32(lr), wd=f32(wd), rescale_grad=f32(rescale_grad))
    return apply_update(
        sgd_rule, weight, grad, out, (), lazy_update, clip_gradient=f32(clip_gradient), **hyper
    )


def sgd_mom_update(
    weight: torch.Tensor,
    grad: torch.Tensor,
    mom: torch.Tensor,
    lr: float,
    momentum: float = 0.0,
    wd: float = 0.0,
    rescale_grad: float = 1.0,
    clip_gradient: float = -1.0,
    lazy_update: bool = True,
    out: torch.Tensor | None = None,
) -> torch.Tensor:
    """Momentum SGD: ``mom = momentum*mom - lr*wd*w - lr*clip(r*g)``, ``w += mom``.

    >>> import torch, mxopt as mx
    >>> w = torch.tensor([1.0, -2.0]); m = torch.zeros(2)
    >>> mx.nd.sgd_mom_update(w, torch.tensor([0.5, 0.5]), m, lr=0.1, momentum=0.9)
    tensor([ 0.9500, -2.0500])
    """
    out = prepare("sgd_mom_update", weight, grad, out, {"mom": mom})
    return apply_update(
        sgd_mom_rule,
        weight,
        grad,
        out,
        (mom,),
        lazy_update,
        lr=f32(lr),
        momentum=f32(momentum),
        wd=f32(wd),
        rescale_grad=f32(rescale_grad),
        clip_gradient=f32(clip_gradient),
    )


def _mp_apply(op, rule, weight, grad, weight32, states, out, lazy_update, hyper):
    """Run ``rule`` on the float32 master copy, then write it back in the weight's dtype."""
    out = prepare(op, weight, grad, out)
    names = ("mom",) if states else ()
    prepare(op, weight32, grad.float(), None, dict(zip(names, states)), state_dtype=torch.float32)
    apply_update(rule, weight32, grad.float(), weight32, states, lazy_update, **hyper)
    out.copy_(weight32)
    return out


def mp_sgd_update(
    weight: torch.Tensor,
    grad: torch.Tensor,
    weight32: torch.Tensor,
    lr: float,
    wd: float = 0.0,
    rescale_grad: float = 1.0,
    clip_gradient: float = -1.0,
    lazy_update: bool = True,
    out: torch.Tensor | None = None,
) -> torch.Tensor:
    """Plain SGD on a float32 master copy ``weight32`` of a float16/bfloat16 ``weight``."""
    _check_master("mp_sgd_update", weight32)
    hyper = dict(
        lr=f32(lr), wd=f32(wd), rescale_grad=f32(rescale_grad), clip_gradient=f32(clip_gradient)
    )
    return _mp_apply("mp_sgd_update", sgd_rule, weight, grad, weight32, (), out, lazy_update, hyper)


def mp_sgd_mom_update(
    weight: torch.Tensor,
    grad: torch.Tensor,
    mom: torch.Tensor,
    weight32: torch.Tensor,
    lr: float,
    momentum: float = 0.0,
    wd: float = 0.0,
    rescale_grad: float = 1.0,
    clip_gradient: float = -1.0,
    lazy_update: bool = True,
    out: torch.Tensor | None = None,
) -> torch.Tensor:
    """Momentum SGD with float32 ``mom`` and master copy ``weight32``."""
    _check_master("mp_sgd_mom_update", weight32)
    hyper = dict(
        lr=f32(lr),
        momentum=f32(momentum),
        wd=f32(wd),
        rescale_grad=f32(rescale_grad),
        clip_gradient=f32(clip_gradient),
    )
    return _mp_apply(
        "mp_sgd_mom_update", sgd_mom_rule, weight, grad, weight32, (mom,), out, lazy_update, hyper
    )


def _check_master(op: str, weight32: torch.Tensor) -> None:
    if not isinstance(weight32, torch.Tensor) or weight32.dtype != torch.float32:
        raise ValueError(f"{op}: weight32 must be a float32 tensor (the master copy)")
