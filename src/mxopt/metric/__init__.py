"""``mx.metric``: evaluation metrics with MXNet 1.9.1's values (``mx.metric.create('acc')``).

Every metric keeps local and global running sums (see :class:`EvalMetric`); ``create``
accepts case-insensitive names and aliases, instances, callables and lists.
"""

from .base import EvalMetric, check_label_shapes
from .classification import F1, MCC, Accuracy, TopKAccuracy
from .composite import CompositeEvalMetric
from .custom import CustomMetric, np
from .loss import Caffe, Loss, Torch
from .probability import CrossEntropy, NegativeLogLikelihood, Perplexity
from .registry import alias, create, register, registered_names
from .regression import MAE, MSE, RMSE, PearsonCorrelation

__all__ = [
    "EvalMetric",
    "check_label_shapes",
    "create",
    "register",
    "alias",
    "registered_names",
    "CompositeEvalMetric",
    "Accuracy",
    "TopKAccuracy",
    "F1",
    "MCC",
    "MAE",
    "MSE",
    "RMSE",
    "PearsonCorrelation",
    "CrossEntropy",
    "NegativeLogLikelihood",
    "Perplexity",
    "Loss",
    "Torch",
    "Caffe",
    "CustomMetric",
    "np",
]
