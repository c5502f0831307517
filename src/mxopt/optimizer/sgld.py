r"""SGLD (MXNet's ``sgld``): stochastic gradient Langevin dynamics."""

from __future__ import annotations

import math
import weakref

import torch

from .. import _philox
from ..ndarray.ops.sgld import sgld_rule
from ._densify import dense
from .optimizer import Optimizer, register

__all__ = ["SGLD"]

# Generators live beside the optimizers, not in their attributes: optimizer dumps
# (``Updater.get_states(dump_optimizer=True)``) hold only plain data, and a generator is
# not that. A reloaded optimizer draws from mx.random's generator (see ``generator``).
_GENERATORS: weakref.WeakKeyDictionary[SGLD, torch.Generator] = weakref.WeakKeyDictionary()


@register
class SGLD(Optimizer):
    r"""Stochastic gradient Langevin dynamics (Welling & Teh, 2011): SGD at half the
    learning rate plus Gaussian noise, so the weights sample from the posterior.

    With :math:`G = \mathrm{clip}(r g)` and fresh noise :math:`\sigma z`,
    :math:`\sigma = \sqrt\eta`, :math:`z \sim \mathcal N(0, 1)` for every element:

    .. math::

        w \leftarrow w - \tfrac{\eta}{2}(G + \lambda w) + \sigma z

    No state. Clipping is MXNet's Python-side rule (whenever ``clip_gradient is not
    None``). A row-sparse gradient is used as a dense gradient with zero rows (every
    element still gets noise).

    The noise is mxopt's own counter-based stream (:mod:`mxopt._philox`): each updated
    parameter, in call order, takes one 64-bit key from ``generator`` when given, else
    from the generator installed by ``mx.random.use_generator``, else from torch's
    default generator (seeded by ``mx.random.seed``); :math:`z_e` for flat element
    :math:`e` is then Box-Muller on the Philox4x32-10 output for counter
    :math:`\lfloor e/4 \rfloor` under that key (in float32; :math:`\sigma z` in float32,
    or in float64 for float64 weights, then in the weight's dtype). Runs are reproducible
    and the fused kernels generate the same numbers in place, but the draws differ from
    MXNet's random streams and from torch's ``normal_``.

    Parameters
    ----------
    generator : torch.Generator, optional
        Where the noise comes from (mxopt extension). It is not part of optimizer dumps.

    {common_args}

    Example
    -------
    >>> import torch, mxopt as mx
    >>> opt = mx.optimizer.SGLD(learning_rate=0.01, generator=torch.Generator().manual_seed(0))
    >>> updater = mx.optimizer.get_updater(opt)
    >>> w = torch.zeros(10000)
    >>> updater(0, torch.zeros(10000), w)
    >>> round(w.std().item(), 1)   # sqrt(0.01)
    0.1
    """

    _fused_rule = "sgld"  # fast path: optimizer/fused/sgld.py

    def __init__(self, generator: torch.Generator | None = None, **kwargs) -> None:
        super().__init__(**kwargs)
        self.generator = generator

    @property
    def generator(self) -> torch.Generator | None:
        """The noise generator given to this optimizer (None: mx.random's/torch's default)."""
        return _GENERATORS.get(self)

    @generator.setter
    def generator(self, generator: torch.Generator | None) -> None:
        if generator is None:
            _GENERATORS.pop(self, None)
            return
        if not isinstance(generator, torch.Generator):
            raise TypeError(f"generator must be a torch.Generator or None, got {generator!r}")
        _GENERATORS[self] = generator

    def create_state(self, index, weight: torch.Tensor):
        return None

    def _draw_noise(self, weight: torch.Tensor, lr: float) -> torch.Tensor:
        """:math:`\\mathcal N(0, lr)` noise shaped like ``weight``, in its dtype: one key
        from the generator, then its counter-based normals times :math:`\\sqrt{lr}`.
        (Overridable: the fast path then calls it and adds what it returns.)"""
        (key,) = _philox.draw_keys(1, self.generator, weight.device)
        return _philox.gaussian(key, weight.shape, weight.dtype, math.sqrt(lr), weight.device)

    def _step(self, indices, weights, grads, states, lrs, wds) -> None:
        for w, g, lr, wd in zip(weights, grads, lrs, wds):
            noise = self._draw_noise(w, lr)
            sgld_rule(
                w, dense(g), noise, lr=lr, wd=wd, rescale_grad=self.rescale_grad,
                clip_gradient=self.clip_gradient,
            )  # fmt: skip
