r"""GroupAdaGrad: AdaGrad with one adaptive learning rate per row (MXNet's contrib
``group_adagrad_update`` and the dense rule of the contrib ``GroupAdaGrad`` optimizer).

For a 2-D weight, with :math:`G = \mathrm{clip}(r g)` and the history :math:`h` of shape
``(rows, 1)``:

.. math::

    h_i \leftarrow h_i + \frac{1}{C}\sum_j G_{ij}^2, \qquad
    w_{ij} \leftarrow w_{ij} - \eta\, G_{ij} / \sqrt{h_i + \epsilon}

There is no weight decay. MXNet registers ``group_adagrad_update`` only for row-sparse
gradients (updating only their rows, in place); mxopt also accepts a dense gradient (every
row is updated) and an ``out`` other than the weight.
"""

from __future__ import annotations

import torch

from ._common import apply_update, clip_, f32, prepare

__all__ = ["group_adagrad_update", "group_adagrad_rule"]


def group_adagrad_rule(
    w: torch.Tensor,
    g: torch.Tensor,
    history: torch.Tensor,
    *,
    lr: float,
    epsilon: float,
    rescale_grad: float = 1.0,
    clip_gradient: float = -1.0,
) -> None:
    """Dense in-place GroupAdaGrad step on a 2-D ``w`` and its ``(rows, 1)`` ``history``."""
    G = clip_(g * rescale_grad, clip_gradient)
    history.add_((G * G).mean(dim=1, keepdim=True))
    w.sub_(G.mul_(lr).div_((history + epsilon).sqrt_()))


def check_group_shapes(op: str, weight: torch.Tensor, history: torch.Tensor) -> None:
    """``weight`` must be 2-D and ``history`` a ``(rows, 1)`` tensor beside it."""
    if not isinstance(weight, torch.Tensor) or weight.dim() != 2:
        shape = tuple(weight.shape) if isinstance(weight, torch.Tensor) else type(weight)
        raise ValueError(f"{op}: weight must be 2-D (rows, columns), got {shape}")
    if not isinstance(history, torch.Tensor) or history.is_sparse:
        raise TypeError(f"{op}: history must be a dense torch.Tensor")
    expected = (weight.shape[0], 1)
    if tuple(history.shape) != expected or history.device != weight.device:
        raise ValueError(
            f"{op}: history must have shape {expected} on {weight.device}, got "
            f"{tuple(history.shape)} on {history.device}"
        )
    if history.dtype != weight.dtype:
        raise ValueError(f"{op}: history must have dtype {weight.dtype}, got {history.dtype}")


def group_adagrad_update(
    weight: torch.Tensor,
    grad: torch.Tensor,
    history: torch.Tensor,
    lr: float,
    rescale_grad: float = 1.0,
    clip_gradient: float = -1.0,
    epsilon: float = 1e-5,
    out: torch.Tensor | None = None,
) -> torch.Tensor:
    """One GroupAdaGrad step (``mx.nd.contrib.group_adagrad_update``); ``history`` is
    updated in place. A row-sparse ``grad`` updates only its rows.

    >>> import torch, mxopt as mx
    >>> w = torch.tensor([[1.0, 2.0], [3.0, 4.0]]); h = torch.zeros(2, 1)
    >>> g = mx.nd.sparse.row_sparse_array([[0.5, -1.0]], [0], shape=(2, 2))
    >>> mx.nd.contrib.group_adagrad_update(w, g, h, lr=0.1).round(decimals=4)
    tensor([[0.9368, 2.1265],
            [3.0000, 4.0000]])
    """
    check_group_shapes("group_adagrad_update", weight, history)
    out = prepare("group_adagrad_update", weight, grad, out)
    return apply_update(
        group_adagrad_rule,
        weight,
        grad,
        out,
        (history,),
        True,
        lr=f32(lr),
        epsilon=f32(epsilon),
        rescale_grad=f32(rescale_grad),
        clip_gradient=f32(clip_gradient),
    )
