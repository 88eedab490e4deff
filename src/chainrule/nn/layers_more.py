"""More layers as in PyTorch: Conv1d, AvgPool2d, AdaptiveAvgPool2d, LayerNorm, BatchNorm1d/2d, Embedding.

Each is a thin module over a function of :mod:`chainrule.autodiff.functions_nn`, registered
in ``nn.LAYERS`` with ``config()`` so model files rebuild it. BatchNorm keeps its running
statistics as **buffers**: ``state_dict`` and ``cr.save`` include them, optimisers never see
them, and ``train()`` / ``eval()`` switch between batch and running statistics.

Example:
    >>> import chainrule as cr
    >>> from chainrule import nn
    >>> bn = nn.BatchNorm1d(3)
    >>> sorted(bn.state_dict()), len(list(bn.parameters()))
    (['bias', 'num_batches_tracked', 'running_mean', 'running_var', 'weight'], 2)
"""

from __future__ import annotations

import numbers

import numpy as np

from ..autodiff import functions_nn as _nn
from ..autodiff.ops.conv import as_pair
from ..autodiff.tape import side_effect
from .._core import as_generator, check, seed_config
from .conv import _json
from .init import get_initializer, init_config
from .layers import _dtype_name
from .module import LAYERS, Module, Parameter

__all__ = ["Conv1d", "AvgPool2d", "AdaptiveAvgPool2d", "LayerNorm", "BatchNorm1d", "BatchNorm2d", "Embedding"]


@LAYERS.register
class Conv1d(Module):
    """1-D convolution over (N, C, L) signals, with PyTorch's stride, padding, dilation and groups.

    Args:
        in_channels, out_channels: positive ints (both divisible by ``groups``).
        kernel_size, stride, dilation: positive ints.
        padding: an int, a (left, right) pair, "same" or "valid".
        bias, init, bias_init, seed, dtype: as for :class:`~chainrule.nn.Conv2d`.

    Example:
        >>> import chainrule as cr
        >>> Conv1d(2, 4, 3, padding=1, seed=0)(cr.zeros(5, 2, 10)).shape
        (5, 4, 10)
    """

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1, groups=1, bias=True,
                 init="xavier_uniform", bias_init="zeros", seed=None, dtype=None):
        super().__init__()
        self.in_channels = check("in_channels", in_channels, "int>0")
        self.out_channels = check("out_channels", out_channels, "int>0")
        self.kernel_size = check("kernel_size", kernel_size, "int>0")
        self.stride, self.dilation = check("stride", stride, "int>0"), check("dilation", dilation, "int>0")
        self.groups = check("groups", groups, "int>0")
        if in_channels % groups or out_channels % groups:
            raise ValueError(f"Conv1d: groups={groups} must divide in_channels={in_channels} and out_channels={out_channels}")
        if not (padding in ("same", "valid") or isinstance(padding, numbers.Integral) and padding >= 0
                or isinstance(padding, (tuple, list)) and len(padding) == 2):
            raise ValueError(f"Conv1d: padding must be an int >= 0, a (left, right) pair, 'same' or 'valid', got {padding!r}")
        self.padding = list(padding) if isinstance(padding, (tuple, list)) else padding
        self._init, self._bias_init, self._seed, self._dtype = init, bias_init, seed, _dtype_name(dtype)
        rng = as_generator(seed)
        shape = (out_channels, in_channels // groups, kernel_size)
        self.weight = Parameter(get_initializer(init)(shape, seed=rng, dtype=self._dtype), dtype=self._dtype)
        b = get_initializer(bias_init)((out_channels,), seed=rng, dtype=self._dtype) if bias else None
        self.bias = None if b is None else Parameter(b, dtype=self._dtype)

    def forward(self, x):
        return _nn.conv1d(x, self.weight, self.bias, self.stride, self.padding, self.dilation, self.groups)

    def extra_repr(self):
        return (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, stride={self.stride}, "
                f"padding={self.padding}, dilation={self.dilation}, groups={self.groups}, bias={self.bias is not None}")

    def _config_args(self):
        return {
            "in_channels": self.in_channels, "out_channels": self.out_channels, "kernel_size": self.kernel_size,
            "stride": self.stride, "padding": self.padding, "dilation": self.dilation, "groups": self.groups,
            "bias": self.bias is not None, "init": init_config(self._init), "bias_init": init_config(self._bias_init),
            "seed": seed_config(self._seed), "dtype": self._dtype,
        }


@LAYERS.register
class AvgPool2d(Module):
    """2-D average pooling with PyTorch's padding, ceil_mode and count_include_pad.

    Example:
        >>> import chainrule as cr
        >>> AvgPool2d(2)(cr.ones(1, 3, 4, 4)).shape
        (1, 3, 2, 2)
    """

    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True):
        super().__init__()
        self.kernel_size = as_pair("AvgPool2d", "kernel_size", kernel_size, 1)
        self.stride = self.kernel_size if stride is None else as_pair("AvgPool2d", "stride", stride, 1)
        self.padding = as_pair("AvgPool2d", "padding", padding, 0)
        self.ceil_mode, self.count_include_pad = bool(ceil_mode), bool(count_include_pad)

    def forward(self, x):
        return _nn.avg_pool2d(x, self.kernel_size, self.stride, self.padding, self.ceil_mode, self.count_include_pad)

    def extra_repr(self):
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"

    def _config_args(self):
        return {"kernel_size": _json(self.kernel_size), "stride": _json(self.stride), "padding": _json(self.padding),
                "ceil_mode": self.ceil_mode, "count_include_pad": self.count_include_pad}


@LAYERS.register
class AdaptiveAvgPool2d(Module):
    """Average pooling to a fixed output size (an int, or a pair whose None entries keep the input size).

    Example:
        >>> import chainrule as cr
        >>> AdaptiveAvgPool2d(1)(cr.ones(2, 8, 5, 7)).shape
        (2, 8, 1, 1)
    """

    def __init__(self, output_size):
        super().__init__()
        pair = [output_size] * 2 if isinstance(output_size, numbers.Integral) else list(output_size)
        if len(pair) != 2 or not all(s is None or isinstance(s, numbers.Integral) and s > 0 for s in pair):
            raise ValueError(f"AdaptiveAvgPool2d: output_size must be a positive int or a pair (None keeps a size), got {output_size!r}")
        self.output_size = pair

    def forward(self, x):
        return _nn.adaptive_avg_pool2d(x, tuple(self.output_size))

    def extra_repr(self):
        return f"output_size={tuple(self.output_size)}"

    def _config_args(self):
        return {"output_size": self.output_size}


@LAYERS.register
class LayerNorm(Module):
    """Normalise over the trailing ``normalized_shape`` axes, then scale and shift (learnable).

    Example:
        >>> import chainrule as cr
        >>> LayerNorm(4)(cr.randn(2, 3, 4, seed=0)).shape
        (2, 3, 4)
    """

    def __init__(self, normalized_shape, eps=1e-5, elementwise_affine=True, bias=True, dtype=None):
        super().__init__()
        shape = [normalized_shape] if isinstance(normalized_shape, numbers.Integral) else list(normalized_shape)
        if not shape or not all(isinstance(n, numbers.Integral) and n > 0 for n in shape):
            raise ValueError(f"LayerNorm: normalized_shape must be positive ints, got {normalized_shape!r}")
        self.normalized_shape, self.eps = [int(n) for n in shape], check("eps", eps, ">0")
        self.elementwise_affine, self._bias, self._dtype = bool(elementwise_affine), bool(bias), _dtype_name(dtype)
        self.weight = Parameter(np.ones(shape, self._dtype)) if elementwise_affine else None
        self.bias = Parameter(np.zeros(shape, self._dtype)) if elementwise_affine and bias else None

    def forward(self, x):
        return _nn.layer_norm(x, tuple(self.normalized_shape), self.weight, self.bias, self.eps)

    def extra_repr(self):
        return f"{tuple(self.normalized_shape)}, eps={self.eps}, elementwise_affine={self.elementwise_affine}"

    def _config_args(self):
        return {"normalized_shape": self.normalized_shape, "eps": self.eps, "elementwise_affine": self.elementwise_affine,
                "bias": self._bias, "dtype": self._dtype}


def _count(counter):
    counter += 1


class _BatchNorm(Module):
    """Batch normalisation over channels (axis 1) with running statistics kept as buffers.

    Args:
        num_features: channels C.
        eps: added to the variance.
        momentum: weight of the newest batch in the running statistics.
        affine: learn a per-channel scale (weight) and shift (bias).
        track_running_stats: keep running_mean / running_var / num_batches_tracked buffers and use
            them in eval mode (otherwise batch statistics are always used).
    """

    ndims = ()

    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=True, track_running_stats=True, dtype=None):
        super().__init__()
        self.num_features = check("num_features", num_features, "int>0")
        self.eps, self.momentum = check("eps", eps, ">0"), check("momentum", momentum, ">=0")
        self.affine, self.track_running_stats, self._dtype = bool(affine), bool(track_running_stats), _dtype_name(dtype)
        self.weight = Parameter(np.ones(num_features, self._dtype)) if affine else None
        self.bias = Parameter(np.zeros(num_features, self._dtype)) if affine else None
        tracked = track_running_stats
        self.register_buffer("running_mean", np.zeros(num_features, self._dtype) if tracked else None)
        self.register_buffer("running_var", np.ones(num_features, self._dtype) if tracked else None)
        self.register_buffer("num_batches_tracked", np.zeros((), np.int64) if tracked else None)

    def forward(self, x):
        ndim = np.ndim(x.data if hasattr(x, "data") else x)
        if ndim not in self.ndims:
            raise ValueError(f"{type(self).__name__}: expected an input with {' or '.join(map(str, self.ndims))} "
                             f"dimensions (channels on axis 1), got {ndim}")
        use_batch = self.training or self.running_mean is None
        if self.training and self.running_mean is not None:
            side_effect(_count, self.num_batches_tracked)  # (recorded: a compiled step counts too)
        return _nn.batch_norm(x, self.running_mean, self.running_var, self.weight, self.bias,
                              training=use_batch, momentum=self.momentum, eps=self.eps)

    def extra_repr(self):
        return f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, affine={self.affine}"

    def _config_args(self):
        return {"num_features": self.num_features, "eps": self.eps, "momentum": self.momentum, "affine": self.affine,
                "track_running_stats": self.track_running_stats, "dtype": self._dtype}


@LAYERS.register
class BatchNorm1d(_BatchNorm):
    """Batch normalisation of (N, C) or (N, C, L) inputs; see the module docstring."""

    ndims = (2, 3)


@LAYERS.register
class BatchNorm2d(_BatchNorm):
    """Batch normalisation of (N, C, H, W) images, per channel; see the module docstring."""

    ndims = (4,)


@LAYERS.register
class Embedding(Module):
    """A lookup table of ``num_embeddings`` learnable vectors of size ``embedding_dim``.

    Args:
        num_embeddings, embedding_dim: positive ints.
        padding_idx: a row that starts at zero and gets no gradient (or None).
        init: initialiser (default standard normal, as PyTorch); seed, dtype as usual.

    Example:
        >>> import numpy as np
        >>> Embedding(10, 4, seed=0)(np.array([[1, 2], [3, 1]])).shape
        (2, 2, 4)
    """

    def __init__(self, num_embeddings, embedding_dim, padding_idx=None, init=None, seed=None, dtype=None):
        super().__init__()
        self.num_embeddings = check("num_embeddings", num_embeddings, "int>0")
        self.embedding_dim = check("embedding_dim", embedding_dim, "int>0")
        if padding_idx is not None and not (isinstance(padding_idx, numbers.Integral)
                                            and -num_embeddings <= padding_idx < num_embeddings):
            raise ValueError(f"Embedding: padding_idx must be an int in [-{num_embeddings}, {num_embeddings}), got {padding_idx!r}")
        self.padding_idx = None if padding_idx is None else int(padding_idx) % num_embeddings
        self._init = {"name": "normal", "std": 1.0} if init is None else init
        self._seed, self._dtype = seed, _dtype_name(dtype)
        table = get_initializer(self._init)((num_embeddings, embedding_dim), seed=as_generator(seed), dtype=self._dtype)
        if self.padding_idx is not None:
            table[self.padding_idx] = 0
        self.weight = Parameter(table, dtype=self._dtype)

    def forward(self, indices):
        return _nn.embedding(indices, self.weight, self.padding_idx)

    def extra_repr(self):
        return f"{self.num_embeddings}, {self.embedding_dim}" + (
            f", padding_idx={self.padding_idx}" if self.padding_idx is not None else "")

    def _config_args(self):
        return {"num_embeddings": self.num_embeddings, "embedding_dim": self.embedding_dim, "padding_idx": self.padding_idx,
                "init": init_config(self._init), "seed": seed_config(self._seed), "dtype": self._dtype}
