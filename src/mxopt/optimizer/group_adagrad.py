r"""GroupAdaGrad (MXNet's contrib ``groupadagrad``): AdaGrad with one rate per row."""

from __future__ import annotations

import torch

from ..errors import MXNetValueError
from ..ndarray.ops._common import clip_like_ndarray, in_dtype
from ..ndarray.ops.group_adagrad import group_adagrad_rule, group_adagrad_update
from ._checks import check_range
from ._common import fused_clip
from .optimizer import Optimizer, register

__all__ = ["GroupAdaGrad"]


@register
class GroupAdaGrad(Optimizer):
    r"""AdaGrad with one adaptive learning rate per row of a 2-D weight (e.g. an
    embedding table), from MXNet's ``mxnet.optimizer.contrib``.

    With :math:`G = \mathrm{clip}(r g)`, :math:`C` columns and the history :math:`h` of
    shape ``(rows, 1)``:

    .. math::

        h_i \leftarrow h_i + \frac1C \sum_j G_{ij}^2, \qquad
        w_{ij} \leftarrow w_{ij} - \eta\, G_{ij} / \sqrt{h_i + \epsilon}

    The history starts at 0 (``eps`` is only the stabilizer inside the root, although
    MXNet's documentation calls it the initial value). A row-sparse gradient updates only
    its rows (``mx.nd.contrib.group_adagrad_update``; clipping then follows the fused
    operators' rule), a dense one clips whenever ``clip_gradient is not None`` (MXNet's
    Python-side rule). Weight decay is not supported: a non-zero ``wd`` raises
    ``ValueError`` at construction, and a non-zero effective weight decay (through
    ``wd_mult``) at the update, before anything changes. Weights must be 2-D. MXNet
    asserts both; mxopt raises ``ValueError`` (also an ``AssertionError``, for code that
    catches MXNet's).

    Parameters
    ----------
    eps : float, default 1e-5

    {common_args}

    Example
    -------
    >>> import torch, mxopt as mx
    >>> updater = mx.optimizer.get_updater(mx.optimizer.GroupAdaGrad(learning_rate=0.1))
    >>> w = torch.tensor([[1.0, -2.0]])
    >>> updater(0, torch.tensor([[0.5, 0.5]]), w)
    >>> w
    tensor([[ 0.9000, -2.1000]])
    """

    def __init__(self, eps: float = 1e-5, **kwargs) -> None:
        super().__init__(**kwargs)
        check_range("eps", eps, 0.0)
        if self.wd != 0:
            raise MXNetValueError(
                f"wd must be 0: GroupAdaGrad has no weight decay, got {self.wd!r}"
            )
        self.float_stable_eps = eps

    def create_state(self, index, weight: torch.Tensor):
        _check_2d(weight)
        return torch.zeros((weight.shape[0], 1), dtype=weight.dtype, device=weight.device)

    def _check_batch(self, indices: list, weights: list) -> None:
        wds = self._get_wds(indices)
        try:  # the usual batch, checked with whole-list maps (C loops)
            if set(map(torch.Tensor.dim, weights)) == {2} and not any(wds):
                return  # (``any``: a float is true exactly when it is not 0, NaN included)
        except TypeError:
            pass  # not all tensors: checked one by one below
        for i, w, wd in zip(indices, weights, wds):
            if isinstance(w, torch.Tensor):
                _check_2d(w)
            if wd != 0:
                raise MXNetValueError(
                    f"wd must be 0: GroupAdaGrad has no weight decay, but parameter {i!r} has "
                    f"an effective wd of {wd} (wd x wd_mult)"
                )

    _fused_rule = "groupadagrad"  # fast path: optimizer/fused/group_adagrad.py

    def _step(self, indices, weights, grads, states, lrs, wds) -> None:
        for w, g, history, lr in zip(weights, grads, states, lrs):
            if g.is_sparse:
                group_adagrad_update(
                    w, g, history, lr=lr, epsilon=self.float_stable_eps,
                    rescale_grad=self.rescale_grad, clip_gradient=fused_clip(self.clip_gradient),
                )  # fmt: skip
            else:
                dt = w.dtype
                G = clip_like_ndarray(g * in_dtype(self.rescale_grad, dt), self.clip_gradient)
                eps = in_dtype(self.float_stable_eps, dt)
                group_adagrad_rule(w, G, history, lr=in_dtype(lr, dt), epsilon=eps)


def _check_2d(weight: torch.Tensor) -> None:
    if weight.dim() != 2:
        raise MXNetValueError(
            f"GroupAdaGrad needs 2-D weights (rows, columns), got shape {tuple(weight.shape)}"
        )
