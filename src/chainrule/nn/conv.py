"""Convolutional layers: Conv2d and MaxPool2d on NCHW images.

Each layer is one registry op (``conv2d``, ``max_pool2d``), so its gradient is
that op's VJP. Both are in ``nn.LAYERS`` with ``config()``, and ``Flatten``
turns their (N, C, H, W) output into (N, C * H * W) rows for a ``Linear``.

Example:
    >>> import chainrule as cr
    >>> from chainrule import nn
    >>> net = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1, seed=0), nn.ReLU(), nn.MaxPool2d(2),
    ...                     nn.Flatten(), nn.Linear(4 * 4 * 4, 10, seed=1))
    >>> net(cr.zeros(2, 1, 8, 8)).shape
    (2, 10)
"""

from __future__ import annotations

from ..autodiff import functions as _ops
from ..autodiff.ops.conv import as_pair
from .._core import as_generator, check, seed_config
from .init import get_initializer, init_config
from .layers import _dtype_name
from .module import LAYERS, Module, Parameter

__all__ = ["Conv2d", "MaxPool2d"]


def _padding(layer, padding):
    """A layer's padding: "same"/"valid", a 4-tuple (left, right, top, bottom) as a list, or a pair."""
    if isinstance(padding, str):
        if padding not in ("same", "valid"):
            raise ValueError(f"{layer}: padding must be an int, a pair, a 4-tuple, 'same' or 'valid', got {padding!r}")
        return padding
    if isinstance(padding, (tuple, list)) and len(padding) == 4:
        if not all(isinstance(p, int) and p >= 0 for p in padding):
            raise ValueError(f"{layer}: padding must hold non-negative ints, got {padding!r}")
        return list(padding)
    return as_pair(layer, "padding", padding, 0)


def _json(pair):
    """A square pair as one int, otherwise a list: what the user most likely wrote."""
    return pair[0] if pair[0] == pair[1] else list(pair)


@LAYERS.register
class Conv2d(Module):
    """2-D convolution layer: slides ``out_channels`` learnable kernels over NCHW images.

    Like PyTorch's, it computes a cross-correlation (the kernel is not flipped);
    a learned kernel does not care which.

    Args:
        in_channels: channels C of the input (positive int).
        out_channels: number of kernels F, the channels of the output (positive int).
        kernel_size: KH = KW (int) or a (KH, KW) pair.
        stride: step between windows, an int or an (along H, along W) pair (>= 1).
        padding: zeros added on each side of H and W, an int or a pair (>= 0), a 4-tuple
            (left, right, top, bottom), or "same" / "valid".
        dilation: spacing between kernel taps, an int or a pair (>= 1).
        groups: independent channel groups (in_channels and out_channels divisible by it).
        bias: add a learnable bias of shape (out_channels,).
        init: weight initialiser: a name of ``nn.init.INITIALIZERS``, a dict
            ``{"name": ..., **options}`` or a callable ``fn(shape, seed, dtype)``;
            fans are ``fan_in = C * KH * KW`` and ``fan_out = F * KH * KW``.
        bias_init: bias initialiser, same forms (default zeros).
        seed: int or ``np.random.Generator`` for the initialisers.
        dtype: parameter dtype (default: the default float dtype).

    Shapes:
        input (N, C, H, W) -> output (N, F, OH, OW) with
        OH = (H + 2 * padding - KH) // stride + 1 (likewise OW);
        weight (F, C // groups, KH, KW), bias (F,).

    Example:
        >>> import chainrule as cr
        >>> conv = Conv2d(1, 2, 3, init="ones")
        >>> conv(cr.ones(1, 1, 3, 3)).data.ravel().tolist()
        [9.0, 9.0]
    """

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, bias=True,
                 init="xavier_uniform", bias_init="zeros", seed=None, dtype=None, dilation=1, groups=1):
        super().__init__()
        self.in_channels = check("in_channels", in_channels, "int>0")
        self.out_channels = check("out_channels", out_channels, "int>0")
        self.kernel_size = as_pair("Conv2d", "kernel_size", kernel_size, 1)
        self.stride = as_pair("Conv2d", "stride", stride, 1)
        self.padding = _padding("Conv2d", padding)
        self.dilation = as_pair("Conv2d", "dilation", dilation, 1)
        self.groups = check("groups", groups, "int>0")
        if in_channels % groups or out_channels % groups:
            raise ValueError(f"Conv2d: groups={groups} must divide in_channels={in_channels} and out_channels={out_channels}")
        self._init, self._bias_init, self._seed = init, bias_init, seed
        self._dtype = _dtype_name(dtype)
        rng = as_generator(seed)
        shape = (out_channels, in_channels // groups, *self.kernel_size)
        self.weight = Parameter(get_initializer(init)(shape, seed=rng, dtype=self._dtype), dtype=self._dtype)
        b = get_initializer(bias_init)((out_channels,), seed=rng, dtype=self._dtype) if bias else None
        self.bias = None if b is None else Parameter(b, dtype=self._dtype)

    def forward(self, x):
        return _ops.conv2d(x, self.weight, self.bias, stride=self.stride, padding=self.padding,
                           dilation=self.dilation, groups=self.groups)

    def extra_repr(self):
        extra = (f", dilation={self.dilation}" if self.dilation != (1, 1) else "") + (
            f", groups={self.groups}" if self.groups != 1 else "")
        return (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
                f"stride={self.stride}, padding={self.padding}{extra}, bias={self.bias is not None}")

    def _config_args(self):
        return {
            "in_channels": self.in_channels, "out_channels": self.out_channels,
            "kernel_size": _json(self.kernel_size), "stride": _json(self.stride),
            "padding": _json(self.padding) if len(self.padding) == 2 else self.padding,
            "dilation": _json(self.dilation), "groups": self.groups, "bias": self.bias is not None,
            "init": init_config(self._init), "bias_init": init_config(self._bias_init),
            "seed": seed_config(self._seed), "dtype": self._dtype,
        }


@LAYERS.register
class MaxPool2d(Module):
    """2-D max pooling: the largest value of each kernel window, per image and channel.

    The gradient of a window goes to its arg-max alone; when several entries tie
    for the maximum, the first in row-major order (top-left-most) gets it.

    Args:
        kernel_size: window size, an int or an (H, W) pair (>= 1).
        stride: step between windows (default: ``kernel_size``, so windows do not overlap).

    Shapes:
        input (N, C, H, W) -> output (N, C, (H - KH) // stride + 1, (W - KW) // stride + 1).

    Example:
        >>> import chainrule as cr
        >>> MaxPool2d(2)(cr.zeros(1, 3, 8, 8)).shape
        (1, 3, 4, 4)
    """

    def __init__(self, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False):
        super().__init__()
        self.kernel_size = as_pair("MaxPool2d", "kernel_size", kernel_size, 1)
        self.stride = self.kernel_size if stride is None else as_pair("MaxPool2d", "stride", stride, 1)
        self.padding = as_pair("MaxPool2d", "padding", padding, 0)
        self.dilation = as_pair("MaxPool2d", "dilation", dilation, 1)
        self.ceil_mode = bool(ceil_mode)

    def forward(self, x):
        return _ops.max_pool2d(x, self.kernel_size, self.stride, self.padding, self.dilation, self.ceil_mode)

    def extra_repr(self):
        extra = "".join(f", {k}={v}" for k, v, d in [("padding", self.padding, (0, 0)), ("dilation", self.dilation, (1, 1)),
                                                       ("ceil_mode", self.ceil_mode, False)] if v != d)
        return f"kernel_size={self.kernel_size}, stride={self.stride}{extra}"

    def _config_args(self):
        return {"kernel_size": _json(self.kernel_size), "stride": _json(self.stride), "padding": _json(self.padding),
                "dilation": _json(self.dilation), "ceil_mode": self.ceil_mode}
