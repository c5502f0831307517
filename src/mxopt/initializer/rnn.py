"""Recurrent-layer initializers: LSTMBias and FusedRNN (MXNet's fused RNN parameter vector)."""

from __future__ import annotations

from typing import Any

import torch

from .base import InitDesc, Initializer, _set, create, register

__all__ = ["LSTMBias", "FusedRNN", "fused_rnn_slices"]

_GATES = {
    "rnn_relu": [""],
    "rnn_tanh": [""],
    "lstm": ["_i", "_f", "_c", "_o"],
    "gru": ["_r", "_z", "_o"],
}


@register
class LSTMBias(Initializer):
    r"""LSTM gate biases: 0 everywhere except the forget gate, elements
    :math:`[H, 2H)` with :math:`H = \lfloor n/4 \rfloor`, set to ``forget_bias`` (default 1).

    Only takes effect as a *weight* rule: through ``InitDesc(attrs={'__init__': ...})`` or a
    name ending in ``weight``; on a ``*_bias`` name MXNet's fixed bias rule (0) wins.

    >>> import torch, mxopt as mx
    >>> b = torch.empty(8)
    >>> d = mx.init.InitDesc("lstm_bias", attrs={"__init__": mx.init.LSTMBias().dumps()})
    >>> mx.init.Uniform()(d, b); b
    tensor([0., 0., 1., 1., 0., 0., 0., 0.])
    """

    def __init__(self, forget_bias: float = 1.0) -> None:
        super().__init__(forget_bias=forget_bias)
        self.forget_bias = forget_bias

    def _init_weight(self, _name: str, arr: torch.Tensor) -> None:
        _set(arr, 0.0)
        h = int(arr.shape[0] / 4)
        with torch.no_grad():
            arr[h : 2 * h] = self.forget_bias


def fused_rnn_slices(
    flat: torch.Tensor,
    num_hidden: int,
    num_layers: int,
    mode: str,
    bidirectional: bool = False,
) -> dict[str, torch.Tensor]:
    """Views into MXNet's packed RNN vector ``flat``, keyed ``l0_i2h_i_weight``-style.

    Order: for each layer and direction (``l``, then ``r`` when bidirectional), the
    input-to-hidden weights of every gate, then the hidden-to-hidden weights; after all
    weights, the biases in the same order. Gates: ``_i _f _c _o`` (lstm), ``_r _z _o``
    (gru), none (rnn_relu / rnn_tanh). Layer 0's i2h weights are ``(H, input_size)``,
    later layers' ``(H, dirs·H)``, h2h weights ``(H, H)``, biases ``(H,)``.
    """
    if mode not in _GATES:
        raise ValueError(f"mode must be one of {sorted(_GATES)}, got {mode!r}")
    gates = _GATES[mode]
    dirs = ["l", "r"] if bidirectional else ["l"]
    b, m, h = len(dirs), len(gates), num_hidden
    per = b * h * m
    rest = (num_layers - 1) * (h + b * h + 2) + h + 2
    if flat.numel() % per or flat.numel() // per <= rest:
        raise ValueError(
            f"Invalid parameters size for FusedRNNCell: {flat.numel()} elements for "
            f"num_hidden={h}, num_layers={num_layers}, mode={mode!r}, "
            f"bidirectional={bidirectional}"
        )
    num_input = flat.numel() // per - rest
    out: dict[str, torch.Tensor] = {}
    p = 0
    for layer in range(num_layers):
        for d in dirs:
            cols = num_input if layer == 0 else b * h
            for g in gates:
                out[f"{d}{layer}_i2h{g}_weight"] = flat[p : p + h * cols].view(h, cols)
                p += h * cols
            for g in gates:
                out[f"{d}{layer}_h2h{g}_weight"] = flat[p : p + h * h].view(h, h)
                p += h * h
    for layer in range(num_layers):
        for d in dirs:
            for group in ("i2h", "h2h"):
                for g in gates:
                    out[f"{d}{layer}_{group}{g}_bias"] = flat[p : p + h]
                    p += h
    if p != flat.numel():  # pragma: no cover - guarded by the size check above
        raise ValueError("Invalid parameters size for FusedRNNCell")
    return out


@register
class FusedRNN(Initializer):
    """Initialize MXNet's packed (cuDNN-layout) RNN parameter vector piece by piece.

    The vector is split as :func:`fused_rnn_slices` describes; each piece gets a fresh
    ``InitDesc`` with its own name and goes through ``init`` (or ``desc.global_init`` when
    ``init`` is None), so weights get ``init``'s weight rule and biases 0. For
    ``mode='lstm'`` every ``*_f_bias`` piece (i2h *and* h2h, so the effective forget bias is
    2·forget_bias) is set to ``forget_bias``. ``init`` may be an initializer, None, or its
    JSON string (what :meth:`dumps` stores; MXNet 1.9.1 raises ``KeyError`` there).

    >>> import torch, mxopt as mx
    >>> init = mx.init.FusedRNN(mx.init.One(), num_hidden=1, num_layers=1, mode="rnn_tanh")
    >>> p = torch.empty(5)  # input size 2: i2h (1x2), h2h (1x1), two biases
    >>> init._init_weight(mx.init.InitDesc("parameters"), p); p
    tensor([1., 1., 1., 0., 0.])
    """

    def __init__(
        self,
        init: Initializer | str | None,
        num_hidden: int,
        num_layers: int,
        mode: str,
        bidirectional: bool = False,
        forget_bias: float = 1.0,
    ) -> None:
        if isinstance(init, str):
            init = create(init)
        if init is not None and not callable(init):
            raise TypeError(f"init must be an Initializer, its JSON string or None, got {init!r}")
        if mode not in _GATES:
            raise ValueError(f"mode must be one of {sorted(_GATES)}, got {mode!r}")
        for arg, val in (("num_hidden", num_hidden), ("num_layers", num_layers)):
            if isinstance(val, bool) or not isinstance(val, int) or val < 1:
                raise ValueError(f"{arg} must be a positive int, got {val!r}")
        super().__init__(
            init=init.dumps() if isinstance(init, Initializer) else None,
            num_hidden=num_hidden,
            num_layers=num_layers,
            mode=mode,
            bidirectional=bidirectional,
            forget_bias=forget_bias,
        )
        self._init = init
        self._num_hidden = num_hidden
        self._num_layers = num_layers
        self._mode = mode
        self._bidirectional = bidirectional
        self._forget_bias = forget_bias

    def _init_weight(self, desc: Any, arr: torch.Tensor) -> None:
        global_init = getattr(desc, "global_init", None)
        inner = self._init if self._init is not None else global_init
        if inner is None:
            raise ValueError(
                "FusedRNN(init=None) needs a global initializer: call it through another "
                "initializer (InitDesc attrs '__init__') or pass init="
            )
        flat = arr.detach().reshape(-1).clone()
        pieces = fused_rnn_slices(
            flat, self._num_hidden, self._num_layers, self._mode, self._bidirectional
        )
        for name, piece in pieces.items():
            if self._mode == "lstm" and name.endswith("_f_bias"):
                _set(piece, self._forget_bias)
            else:
                inner(InitDesc(name, global_init=global_init), piece)
        _set(arr, flat.view(arr.shape))
