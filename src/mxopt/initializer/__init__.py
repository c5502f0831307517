"""``mx.initializer`` (alias ``mx.init``): MXNet 1.9.1's weight initializers on torch tensors.

>>> import torch, mxopt as mx
>>> w = torch.empty(3, 4)
>>> mx.init.Xavier()(mx.init.InitDesc("fc1_weight"), w)
>>> net = torch.nn.Sequential(torch.nn.Conv2d(3, 8, 3), torch.nn.BatchNorm2d(8))
>>> _ = mx.init.initialize(net, mx.init.MSRAPrelu())
"""

from .base import InitDesc, Initializer, alias, create, register, registered
from .basic import Constant, Normal, One, Uniform, Zero
from .bilinear import Bilinear, bilinear_kernel
from .load import Load
from .mixed import Mixed
from .orthogonal import Orthogonal
from .rnn import FusedRNN, LSTMBias, fused_rnn_slices
from .torch_module import initialize, mxnet_names
from .xavier import MSRAPrelu, Xavier, fans

__all__ = [
    "InitDesc",
    "Initializer",
    "register",
    "alias",
    "create",
    "registered",
    "Zero",
    "One",
    "Constant",
    "Uniform",
    "Normal",
    "Orthogonal",
    "Xavier",
    "MSRAPrelu",
    "fans",
    "Bilinear",
    "bilinear_kernel",
    "LSTMBias",
    "FusedRNN",
    "fused_rnn_slices",
    "Load",
    "Mixed",
    "initialize",
    "mxnet_names",
]
