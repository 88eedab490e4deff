"""chainrule.nn: layers, activations, losses and initialisers built on the autodiff engine.

Example:
    >>> import chainrule as cr
    >>> from chainrule import nn
    >>> model = nn.MLP([2, 8, 1], activation="tanh", output_activation="sigmoid", seed=0)
    >>> x = cr.tensor([[0.0, 1.0]])
    >>> loss = nn.functional.binary_cross_entropy(model(x), [[1.0]]) + nn.l2_penalty(model, 1e-4)
    >>> loss.backward()
    >>> model.output.weight.grad.shape
    (1, 8)
"""

from . import functional, init
from .._core import Registry, UnknownNameError
from .activations import ACTIVATIONS, Activation, get_activation
from .activations import (  # noqa: F401  (the generated activation layers)
    ELU, GELU, Hardtanh, Identity, LeakyReLU, LogSoftmax, ReLU, Sigmoid, Sign, Softmax, Softplus,
    Step, Tanh,
)
from .conv import Conv2d, MaxPool2d
from .layers_more import AdaptiveAvgPool2d, AvgPool2d, BatchNorm1d, BatchNorm2d, Conv1d, Embedding, LayerNorm
from .activations import (  # noqa: F401  (the layers of the PyTorch activations)
    CELU, SELU, Hardsigmoid, Hardswish, LogSigmoid, Mish, ReLU6, SiLU, Softmin, Softsign,
)
from .elman import Elman, Jordan, RecurrentTrace
from .init import INITIALIZERS, get_initializer
from .layers import Dense, Dropout, Flatten, Linear, Sequential
from .losses import (  # noqa: F401  (the generated loss modules)
    LOSSES, REDUCTIONS, REGULARIZERS, BCELoss, BCEWithLogitsLoss, CrossEntropyLoss, ExponentialLoss,
    HingeLoss, Loss, LossSpec, MSELoss, MultiClassHingeLoss, default_loss, l1_penalty, l2_penalty, loss_spec,
    register_loss,
)
from .mlp import MLP
from .module import LAYERS, LoadResult, Module, ModuleDict, ModuleList, Parameter, evaluating, from_config
from .recurrent import GRU, LSTM, RNN, GRUCell, LSTMCell, RNNCell
from .custom import register
from .residual import Residual

__all__ = [
    "Module", "Parameter", "ModuleList", "ModuleDict", "Sequential", "Linear", "Dense", "Dropout", "Flatten",
    "Conv2d", "MaxPool2d", "Conv1d", "AvgPool2d", "AdaptiveAvgPool2d", "LayerNorm", "BatchNorm1d", "BatchNorm2d",
    "Embedding", "SiLU", "SELU", "CELU", "ReLU6", "Hardsigmoid", "Hardswish", "LogSigmoid", "Mish", "Softsign", "Softmin",
    "Identity", "MLP", "Activation", "Step", "Sign", "Sigmoid", "Tanh", "Hardtanh", "ReLU",
    "LeakyReLU", "Softplus", "ELU", "GELU", "Softmax", "LogSoftmax", "Loss", "MSELoss", "BCELoss",
    "BCEWithLogitsLoss", "CrossEntropyLoss", "HingeLoss", "MultiClassHingeLoss", "ExponentialLoss",
    "l1_penalty", "l2_penalty", "get_activation", "get_initializer", "from_config", "LoadResult", "evaluating",
    "ACTIVATIONS", "LOSSES", "REDUCTIONS", "REGULARIZERS", "INITIALIZERS", "LAYERS",
    "Registry", "UnknownNameError", "functional", "init",
    "RNNCell", "LSTMCell", "GRUCell", "RNN", "LSTM", "GRU",
    "Elman", "Jordan", "RecurrentTrace",
    "LossSpec", "register_loss", "loss_spec", "default_loss",
    "register",
    "Residual",
]
