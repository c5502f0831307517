"""``mx.sym`` / ``mx.symbol``: MXNet's symbolic graph on torch.

Build a network from :func:`Variable` and operator functions, inspect it
(``list_arguments``, ``infer_shape``, ``attr_dict``), save it as MXNet's JSON, and run it
through :class:`~mxopt.symbol.executor.Executor` or :class:`mxopt.module.Module`.

>>> import mxopt as mx
>>> net = mx.sym.SoftmaxOutput(mx.sym.FullyConnected(mx.sym.Variable('data'), num_hidden=10,
...                                                  name='fc'), name='softmax')
>>> net.list_outputs()
['softmax_output']
"""

from .executor import Executor
from .ops import make_symbol, op_function
from .registry import OPS
from .symbol import Group, NameManager, Symbol, Variable, load, load_json, var

# Operator functions, one per registered operator (mx.sym.FullyConnected, ...).
Activation = op_function("Activation")
BatchNorm = op_function("BatchNorm")
BlockGrad = op_function("BlockGrad")
Concat = op_function("Concat")
Convolution = op_function("Convolution")
Dropout = op_function("Dropout")
Embedding = op_function("Embedding")
Flatten = op_function("Flatten")
FullyConnected = op_function("FullyConnected")
LeakyReLU = op_function("LeakyReLU")
LinearRegressionOutput = op_function("LinearRegressionOutput")
LogisticRegressionOutput = op_function("LogisticRegressionOutput")
MAERegressionOutput = op_function("MAERegressionOutput")
MakeLoss = op_function("MakeLoss")
Pooling = op_function("Pooling")
Reshape = op_function("Reshape")
Softmax = op_function("Softmax")
SoftmaxOutput = op_function("SoftmaxOutput")
make_loss = op_function("make_loss")
abs = op_function("abs")  # noqa: A001
exp = op_function("exp")
log = op_function("log")
mean = op_function("mean")
negative = op_function("negative")
relu = op_function("relu")
sigmoid = op_function("sigmoid")
sqrt = op_function("sqrt")
square = op_function("square")
sum = op_function("sum")  # noqa: A001
tanh = op_function("tanh")
stop_gradient = BlockGrad
flatten = Flatten
reshape = Reshape
concat = Concat

__all__ = [
    "Symbol",
    "Variable",
    "var",
    "Group",
    "load",
    "load_json",
    "Executor",
    "NameManager",
    "OPS",
    "make_symbol",
    "Activation",
    "BatchNorm",
    "BlockGrad",
    "Concat",
    "Convolution",
    "Dropout",
    "Embedding",
    "Flatten",
    "FullyConnected",
    "LeakyReLU",
    "LinearRegressionOutput",
    "LogisticRegressionOutput",
    "MAERegressionOutput",
    "MakeLoss",
    "Pooling",
    "Reshape",
    "Softmax",
    "SoftmaxOutput",
    "make_loss",
    "abs",
    "exp",
    "log",
    "mean",
    "negative",
    "relu",
    "sigmoid",
    "sqrt",
    "square",
    "sum",
    "tanh",
    "stop_gradient",
    "flatten",
    "reshape",
    "concat",
]
