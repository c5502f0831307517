r"""Ftrl (MXNet's ``ftrl``): FTRL-Proximal with L1 and L2 regularization."""

from __future__ import annotations

import torch

from ..ndarray.ops.ftrl import ftrl_update
from ._checks import check_range
from ._common import fused_clip, zeros_like
from .optimizer import Optimizer, register

__all__ = ["Ftrl"]


@register
class Ftrl(Optimizer):
    r"""FTRL-Proximal (McMahan et al., 2013), as MXNet 1.9.1 runs it.

    With :math:`G = \mathrm{clip}(r g)`, :math:`\lambda_1` = ``lamda1`` and :math:`\lambda`
    the per-parameter weight decay:

    .. math::

        z &\leftarrow z + G - \big(\sqrt{n + G^2} - \sqrt n\big)\, w/\eta, \qquad
        n \leftarrow n + G^2\\
        w &\leftarrow \frac{\mathrm{sign}(z)\lambda_1 - z}{(\beta + \sqrt n)/\eta + \lambda}
            \cdot [\,|z| > \lambda_1\,]

    The state is ``(z, n)``; clipping follows the fused operators' rule (``None``, 0 and
    negatives disable it). Unlike most optimizers, ``learning_rate`` (default 0.1) never
    overrides a scheduler's ``base_lr``.

    **Row-sparse gradients.** Every row's weight is recomputed from its ``z`` and ``n``,
    so with MXNet's default (a dense weight) a row-sparse gradient is densified and the
    rows without gradient are *recomputed too*: rows never updated become 0. mxopt
    reproduces this (it is what MXNet computes). ``lazy_update=True`` (an mxopt
    extension) instead gives MXNet's row-sparse-*weight* semantics: only the gradient's
    rows (and their ``z``, ``n``) change.

    Parameters
    ----------
    lamda1 : float, default 0.01
        L1 strength, ``>= 0``.
    learning_rate : float, default 0.1
    beta : float, default 1
        ``>= 0``.
    lazy_update : bool, default False
        mxopt extension, see above.

    {common_args}

    Example
    -------
    >>> import torch, mxopt as mx
    >>> updater = mx.optimizer.get_updater(mx.optimizer.Ftrl(wd=0.1))
    >>> w = torch.tensor([1.0, -2.0])
    >>> updater(0, torch.tensor([0.5, 0.5]), w)
    >>> w.round(decimals=4)
    tensor([ 0.2974, -0.6947])
    """

    def __init__(
        self,
        lamda1: float = 0.01,
        learning_rate: float = 0.1,
        beta: float = 1.0,
        lazy_update: bool = False,
        **kwargs,
    ) -> None:
        super().__init__(**kwargs)
        check_range("lamda1", lamda1, 0.0)
        check_range("learning_rate", learning_rate, 0.0, low_open=True)
        check_range("beta", beta, 0.0)
        self.lamda1 = lamda1
        self.beta = beta
        self.lr = learning_rate
        self.lazy_update = bool(lazy_update)

    def create_state(self, index, weight: torch.Tensor):
        return (zeros_like(weight), zeros_like(weight))  # z, n

    _fused_rule = "ftrl"  # fast path: optimizer/fused/ftrl.py

    def _step(self, indices, weights, grads, states, lrs, wds) -> None:
        clip = fused_clip(self.clip_gradient)
        for w, g, (z, n), lr, wd in zip(weights, grads, states, lrs, wds):
            ftrl_update(
                w, g, z, n, lr=lr, wd=wd, lamda1=self.lamda1, beta=self.beta,
                rescale_grad=self.rescale_grad, clip_gradient=clip, lazy_update=self.lazy_update,
            )  # fmt: skip
