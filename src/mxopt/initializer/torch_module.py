"""Apply an MXNet initializer to a ``torch.nn.Module``'s parameters and buffers."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any

import torch
from torch import nn

from .. import random as _random
from .base import InitDesc, Initializer, create

__all__ = ["initialize", "mxnet_names"]

_NORM_TYPES: tuple[type, ...] = (nn.modules.batchnorm._NormBase, nn.GroupNorm, nn.LayerNorm)
_NORM_PARAMS = {"weight": "gamma", "bias": "beta"}
# BatchNorm's moving statistics carry an '__init__' attribute in MXNet's symbols
_NORM_BUFFERS = {
    "running_mean": ("moving_mean", '["zero", {}]'),
    "running_var": ("moving_var", '["one", {}]'),
}
_RNN_PARAM = re.compile(r"^(weight|bias)_(ih|hh|hr)_l(\d+)(_reverse)?$")
_RNN_GROUP = {"ih": "i2h", "hh": "h2h", "hr": "h2r"}


def _describe(module: nn.Module) -> Iterator[tuple[str, InitDesc, torch.Tensor]]:
    """(torch name, MXNet-style InitDesc, tensor) for every parameter and known buffer."""
    seen: set[int] = set()
    for mod_name, mod in module.named_modules():
        prefix = f"{mod_name}." if mod_name else ""
        for pname, param in mod._parameters.items():
            if param is None or id(param) in seen:
                continue
            seen.add(id(param))
            mx_name = pname
            if isinstance(mod, _NORM_TYPES) and pname in _NORM_PARAMS:
                mx_name = _NORM_PARAMS[pname]
            elif isinstance(mod, nn.RNNBase) and (m := _RNN_PARAM.match(pname)):
                kind, group, layer, rev = m.groups()
                mx_name = f"{'r' if rev else 'l'}{layer}_{_RNN_GROUP[group]}_{kind}"
            yield prefix + pname, InitDesc(prefix + mx_name), param
        if not isinstance(mod, _NORM_TYPES):
            continue
        for bname, buf in mod._buffers.items():
            if buf is None or bname not in _NORM_BUFFERS or id(buf) in seen:
                continue
            seen.add(id(buf))
            mx_name, attr = _NORM_BUFFERS[bname]
            yield prefix + bname, InitDesc(prefix + mx_name, attrs={"__init__": attr}), buf


def mxnet_names(module: nn.Module) -> dict[str, str]:
    """The name each parameter/buffer is initialized under: ``torch name -> MXNet name``.

    >>> from torch import nn
    >>> mxnet_names(nn.Sequential(nn.Linear(2, 2), nn.BatchNorm1d(2)))["1.running_var"]
    '1.moving_var'
    """
    return {tname: str(desc) for tname, desc, _ in _describe(module)}


def initialize(
    module: nn.Module,
    init: Initializer | Callable[[str, torch.Tensor], Any] | str | dict,
    *,
    generator: torch.Generator | None = None,
    verbose: bool = False,
) -> nn.Module:
    """Initialize a torch module's parameters and buffers with MXNet's rules; returns it.

    Each tensor is given an MXNet-style name (the torch name with its last part
    translated) and filled by ``init`` exactly as MXNet would fill that name:

    ==========================================  ======================================
    torch                                       MXNet name -> rule
    ==========================================  ======================================
    ``fc.weight`` (Linear, Conv, Embedding...)  ``fc.weight`` -> ``init``'s weight rule
    ``fc.bias``                                 ``fc.bias`` -> 0
    ``bn.weight`` / ``bn.bias`` (Batch/Group/   ``bn.gamma`` -> 1 / ``bn.beta`` -> 0
    Layer/InstanceNorm)
    ``bn.running_mean`` / ``bn.running_var``    ``bn.moving_mean`` -> 0 / ``moving_var`` -> 1
    ``bn.num_batches_tracked``, other buffers   left alone
    ``lstm.weight_ih_l0`` / ``weight_hh_l0_reverse``  ``lstm.l0_i2h_weight`` / ``r0_h2h_weight``
    ``lstm.bias_ih_l0``                         ``lstm.l0_i2h_bias`` -> 0
    ==========================================  ======================================

    Xavier's fans on torch's ``(out, in, kh, kw)`` layout equal MXNet's. Random draws come
    from ``generator`` when given (for initializers without their own), else
    ``mx.random.seed``/torch's default generator. Nothing is modified if any tensor fails
    (values are computed on copies first). ``init`` may be an initializer, ``Mixed``,
    ``Load``, or anything ``mx.init.create`` accepts.

    >>> import torch, mxopt as mx
    >>> net = torch.nn.Sequential(torch.nn.Linear(4, 3), torch.nn.BatchNorm1d(3))
    >>> _ = mx.init.initialize(net, mx.init.Xavier(), generator=torch.Generator().manual_seed(0))
    >>> net[1].weight.tolist(), net[0].bias.tolist()
    ([1.0, 1.0, 1.0], [0.0, 0.0, 0.0])
    """
    if not isinstance(module, nn.Module):
        raise TypeError(f"module must be a torch.nn.Module, got {type(module).__name__}")
    if isinstance(init, (str, dict)):
        init = create(init)
    if not callable(init):
        raise TypeError(f"init must be an initializer or callable, got {type(init).__name__}")
    if verbose and isinstance(init, Initializer):
        init.set_verbosity(True)
    targets = list(_describe(module))
    staged = []
    with _random.use_generator(generator), torch.no_grad():
        for _tname, desc, tensor in targets:
            work = tensor.detach().clone()
            init(desc, work)
            staged.append((tensor, work))
        for tensor, work in staged:
            tensor.copy_(work)
    return module
