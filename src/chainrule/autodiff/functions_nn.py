"""Network functions with PyTorch's options: convolutions (1-D, dilated, grouped, asymmetric
padding), pooling (max with padding/dilation/ceil_mode/indices, average, adaptive average),
normalisation (layer and batch) and embedding lookup.

The plain cases call the ``conv2d`` and ``max_pool2d`` primitives directly; the options are
compositions around them (padding with ``pad``, a dilated kernel built from ``pad`` and
``reshape``, groups as a concatenation), so their gradients and tangents come from the
primitives' rules.

Example:
    >>> import chainrule as cr
    >>> cr.conv1d(cr.ones(1, 2, 5), cr.ones(4, 1, 3), groups=2, padding="same").shape
    (1, 4, 5)
"""

from __future__ import annotations

import numbers

import numpy as np

from .functions import concatenate, dispatch, einsum, lift, where
from .methods import constant_like, value_of
from .ops.conv import as_pair
from .tape import side_effect

__all__ = [
    "conv1d", "conv2d", "max_pool2d", "avg_pool2d", "adaptive_avg_pool2d", "layer_norm", "batch_norm", "embedding",
]


def _spatial_padding(op, padding, kernel, dilation):
    """Padding as ((top, bottom), (left, right)) from an int, a pair, a 4-tuple or "same"/"valid"."""
    if padding == "valid":
        return (0, 0), (0, 0)
    if padding == "same":
        total = [d * (k - 1) for k, d in zip(kernel, dilation)]
        return tuple((t // 2, t - t // 2) for t in total)
    if isinstance(padding, (tuple, list)) and len(padding) == 4:
        if not all(isinstance(p, numbers.Integral) and p >= 0 for p in padding):
            raise ValueError(f"{op}: padding must hold non-negative ints, got {padding!r}")
        left, right, top, bottom = (int(p) for p in padding)  # the order of pad(): last axis first
        return (top, bottom), (left, right)
    ph, pw = as_pair(op, "padding", padding, 0)
    return (ph, ph), (pw, pw)


def _dilate(w, dilation):
    """The kernel with dilation - 1 zeros between its taps: (F, C, (KH-1) dh + 1, (KW-1) dw + 1)."""
    dh, dw = dilation
    if dh == dw == 1:
        return w
    f, c, kh, kw = value_of(w).shape
    spread = w.reshape(f, c, kh, 1, kw, 1).pad((0, dw - 1, 0, 0, 0, dh - 1)).reshape(f, c, kh * dh, kw * dw)
    return spread[:, :, : (kh - 1) * dh + 1, : (kw - 1) * dw + 1]


def conv2d(x, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """2-D convolution (cross-correlation, as PyTorch) of NCHW images with a bank of kernels.

    Args:
        x: input (N, C, H, W).
        weight: kernels (F, C // groups, KH, KW).
        bias: optional (F,).
        stride: an int or an (H, W) pair.
        padding: zeros on each side: an int, an (H, W) pair, a 4-tuple (left, right, top, bottom)
            as for ``pad``, or "same" / "valid".
        dilation: spacing between kernel taps, an int or a pair.
        groups: split channels into this many independent convolutions (F and C divisible by it).

    Shapes:
        output (N, F, OH, OW), OH = (H + top + bottom - dilation_h (KH - 1) - 1) // stride_h + 1.

    Example:
        >>> import chainrule as cr
        >>> cr.conv2d(cr.ones(1, 2, 4, 4), cr.ones(3, 2, 3, 3), padding=1).shape
        (1, 3, 4, 4)
    """
    xs, ws = np.shape(value_of(x)), np.shape(value_of(weight))
    if len(xs) != 4 or len(ws) != 4:
        raise ValueError(f"conv2d: input {xs} and weight {ws}: expected input (N, C, H, W) and weight (F, C, KH, KW)")
    dilation = as_pair("conv2d", "dilation", dilation, 1)
    if not isinstance(groups, numbers.Integral) or groups < 1 or xs[1] % groups or ws[0] % groups:
        raise ValueError(f"conv2d: groups must be a positive int dividing the {xs[1]} input channels and the "
                         f"{ws[0]} kernels, got {groups!r}")
    if stride == "same" or stride == "valid":
        raise ValueError(f"conv2d: stride must be an int or a pair, got {stride!r}")
    if padding == "same" and as_pair("conv2d", "stride", stride, 1) != (1, 1):
        raise ValueError("conv2d: padding='same' needs stride 1")
    (top, bottom), (left, right) = _spatial_padding("conv2d", padding, ws[2:], dilation)
    symmetric = top == bottom and left == right
    if not symmetric:
        x = lift(x).pad((left, right, top, bottom))
    pad = (top, left) if symmetric else 0
    weight = _dilate(lift(weight), dilation) if dilation != (1, 1) else weight
    if groups == 1:
        return _conv(x, weight, bias, stride, pad)
    x, weight = lift(x), lift(weight)
    ci, fo = xs[1] // groups, ws[0] // groups
    parts = [_conv(x[:, g * ci:(g + 1) * ci], weight[g * fo:(g + 1) * fo],
                   None if bias is None else lift(bias)[g * fo:(g + 1) * fo], stride, pad) for g in range(groups)]
    return concatenate(parts, axis=1)


def _conv(x, w, b, stride, padding):
    args = (x, w) if b is None else (x, w, b)
    return dispatch("conv2d", *args, stride=stride, padding=padding)


def conv1d(x, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """1-D convolution of (N, C, L) signals with kernels (F, C // groups, K): conv2d on a height of 1.

    ``padding`` is an int, a (left, right) pair, or "same" / "valid".

    Example:
        >>> import chainrule as cr
        >>> cr.conv1d(cr.ones(2, 3, 8), cr.ones(4, 3, 3), stride=2).shape
        (2, 4, 3)
    """
    xs, ws = np.shape(value_of(x)), np.shape(value_of(weight))
    if len(xs) != 3 or len(ws) != 3:
        raise ValueError(f"conv1d: input {xs} and weight {ws}: expected input (N, C, L) and weight (F, C, K)")
    pad2, added = _conv1d_padding(padding)
    if isinstance(groups, numbers.Integral) and groups >= 1 and xs[1] != ws[1] * groups:  # (conv2d checks groups)
        raise ValueError(f"conv1d: input {xs} and weight {ws}: the input has {xs[1]} channels but the weight expects "
                         f"{ws[1] * groups}")
    span = _one(dilation, "dilation") * (ws[2] - 1) + 1
    if added is not None and span > xs[2] + added:
        raise ValueError(f"conv1d: input {xs} and weight {ws}: the kernel spans {span} steps but the padded input "
                         f"has {xs[2] + added}")
    out = conv2d(lift(x).unsqueeze(2), lift(weight).unsqueeze(2), bias, stride=(1, _one(stride, "stride")),
                 padding=pad2, dilation=(1, _one(dilation, "dilation")), groups=groups)
    return out.squeeze(2)


def _conv1d_padding(padding):
    """conv2d's padding for a height of 1, and how many steps it adds (None for "same", which always fits)."""
    if padding in ("same", "valid"):
        return padding, (0 if padding == "valid" else None)
    pair = tuple(padding) if isinstance(padding, (tuple, list)) else (padding, padding)
    if isinstance(padding, str) or len(pair) != 2 or not all(isinstance(p, numbers.Integral) and p >= 0 for p in pair):
        raise ValueError(f"conv1d: padding must be a non-negative int, a (left, right) pair of them, or 'same' / "
                         f"'valid', got {padding!r}")
    return (int(pair[0]), int(pair[1]), 0, 0), pair[0] + pair[1]


def _one(value, name):
    if not isinstance(value, numbers.Integral) or value < 1:
        raise ValueError(f"conv1d: {name} must be a positive int, got {value!r}")
    return int(value)


def _pool_geometry(op, shape, kernel_size, stride, padding, dilation, ceil_mode):
    kernel = as_pair(op, "kernel_size", kernel_size, 1)
    stride = kernel if stride is None else as_pair(op, "stride", stride, 1)
    padding = as_pair(op, "padding", padding, 0)
    dilation = as_pair(op, "dilation", dilation, 1)
    if any(p > k // 2 for p, k in zip(padding, kernel)):
        raise ValueError(f"{op}: padding {padding} must be at most half the kernel size {kernel}")
    sizes = []
    for n, k, s, p, d in zip(shape[2:], kernel, stride, padding, dilation):
        span = n + 2 * p - d * (k - 1) - 1
        if span < 0:
            what = "image" if padding == (0, 0) and dilation == (1, 1) else "padded image (dilated window)"
            raise ValueError(f"{op}: input of shape {tuple(shape)}: kernel {kernel} is larger than the {what} {tuple(shape[2:])}")
        out = (-(-span // s) if ceil_mode else span // s) + 1
        if ceil_mode and (out - 1) * s >= n + p:  # the last window must start inside the image or its left padding
            out -= 1
        sizes.append(out)
    return kernel, stride, padding, dilation, sizes


def _window_index(out, k, s, d):
    return (np.arange(out) * s)[:, None] + np.arange(k) * d  # (out, k) rows (or columns) of the padded input


def max_pool2d(x, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
    """Max over each window of NCHW images; the gradient goes to the window's first arg-max.

    Args:
        x: input (N, C, H, W).
        kernel_size, stride (default: kernel_size), padding (-inf, at most half the kernel),
        dilation: ints or (H, W) pairs, as in PyTorch.
        ceil_mode: round the output size up, so the last partial window counts.
        return_indices: also return each maximum's flat index into its H x W plane.

    Example:
        >>> import chainrule as cr
        >>> cr.max_pool2d(cr.arange(16.0).reshape(1, 1, 4, 4), 2)
        tensor([[[[ 5.,  7.],
                  [13., 15.]]]])
    """
    shape = np.shape(value_of(x))
    if len(shape) != 4:
        raise ValueError(f"max_pool2d: input of shape {shape}: expected (N, C, H, W)")
    kernel, stride, padding, dilation, (oh, ow) = _pool_geometry(
        "max_pool2d", shape, kernel_size, stride, padding, dilation, ceil_mode)
    plain = padding == (0, 0) and dilation == (1, 1) and not ceil_mode
    if plain and not return_indices:
        return dispatch("max_pool2d", x, kernel_size=kernel, stride=stride)
    n, c, h, w = shape
    rows, cols = _window_index(oh, kernel[0], stride[0], dilation[0]), _window_index(ow, kernel[1], stride[1], dilation[1])
    hp, wp = max(h + 2 * padding[0], rows.max() + 1), max(w + 2 * padding[1], cols.max() + 1)
    xp = lift(x).pad((padding[1], wp - w - padding[1], padding[0], hp - h - padding[0]), value=-np.inf)
    flat_pos = (rows[:, None, :, None] * wp + cols[None, :, None, :]).reshape(oh, ow, -1)  # (OH, OW, KH*KW)
    values = value_of(xp).reshape(n, c, -1)[:, :, flat_pos]  # (N, C, OH, OW, K)
    best = np.take_along_axis(np.broadcast_to(flat_pos, values.shape), values.argmax(-1)[..., None], -1)[..., 0]
    out = xp.reshape(n, c, -1).take_along_axis(best.reshape(n, c, -1), 2).reshape(n, c, oh, ow)
    if not return_indices:
        return out
    r, q = best // wp - padding[0], best % wp - padding[1]
    return out, constant_like(out, r * w + q)


def avg_pool2d(x, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True, divisor_override=None):
    """Mean over each window of NCHW images (zero padding), with PyTorch's divisor rules.

    ``count_include_pad`` counts padded zeros in each window's size; ``divisor_override``
    replaces the divisor altogether.

    Example:
        >>> import chainrule as cr
        >>> cr.avg_pool2d(cr.arange(16.0).reshape(1, 1, 4, 4), 2)
        tensor([[[[ 2.5,  4.5],
                  [10.5, 12.5]]]])
    """
    shape = np.shape(value_of(x))
    if len(shape) != 4:
        raise ValueError(f"avg_pool2d: input of shape {shape}: expected (N, C, H, W)")
    kernel, stride, padding, _, (oh, ow) = _pool_geometry("avg_pool2d", shape, kernel_size, stride, padding, 1, ceil_mode)
    n, c, h, w = shape
    rows, cols = _window_index(oh, kernel[0], stride[0], 1), _window_index(ow, kernel[1], stride[1], 1)
    hp, wp = max(h + 2 * padding[0], rows.max() + 1), max(w + 2 * padding[1], cols.max() + 1)
    xp = lift(x).pad((padding[1], wp - w - padding[1], padding[0], hp - h - padding[0]))
    total = xp[:, :, rows[:, None, :, None], cols[None, :, None, :]].sum(axis=(-2, -1))
    if divisor_override is not None:
        return total / float(divisor_override)
    divisor = np.outer(*[_divisors(o, k, s, p, size, count_include_pad)
                         for o, k, s, p, size in zip((oh, ow), kernel, stride, padding, (h, w))])
    return total / divisor.astype(value_of(total).dtype)


def _divisors(out, k, s, p, n, include_pad):
    start = np.arange(out) * s - p
    end = np.minimum(start + k, n + p)
    size = end - start
    if include_pad:
        return size
    return np.minimum(end, n) - np.maximum(start, 0)


def adaptive_avg_pool2d(x, output_size):
    """Average pooling to a fixed (OH, OW) whatever the input size (PyTorch's window rule).

    Window i along an axis of size n covers [floor(i n / OH), ceil((i + 1) n / OH)); the pooling
    is two small averaging matrices applied by one einsum. ``None`` keeps that axis's size.

    Example:
        >>> import chainrule as cr
        >>> cr.adaptive_avg_pool2d(cr.ones(2, 3, 7, 5), (2, 1)).shape
        (2, 3, 2, 1)
    """
    shape = np.shape(value_of(x))
    if len(shape) not in (3, 4):
        raise ValueError(f"adaptive_avg_pool2d: input of shape {shape}: expected (N, C, H, W) or (C, H, W)")
    size = (output_size, output_size) if isinstance(output_size, numbers.Integral) or output_size is None else tuple(output_size)
    if len(size) != 2:
        raise ValueError(f"adaptive_avg_pool2d: output_size must be an int or a pair, got {output_size!r}")
    size = [shape[-2 + i] if s is None else s for i, s in enumerate(size)]
    if not all(isinstance(s, numbers.Integral) and s > 0 for s in size):
        raise ValueError(f"adaptive_avg_pool2d: output sizes must be positive ints, got {output_size!r}")
    dtype = value_of(x).dtype if value_of(x).dtype.kind == "f" else np.float64
    ph, pw = (_averaging(o, n, dtype) for o, n in zip(size, shape[-2:]))
    return einsum("ih,...hw,jw->...ij", ph, x, pw)


def _averaging(out, n, dtype):
    start = (np.arange(out) * n) // out
    end = -((-(np.arange(out) + 1) * n) // out)
    cols = np.arange(n)
    inside = (cols >= start[:, None]) & (cols < end[:, None])
    return (inside / (end - start)[:, None]).astype(dtype)


def layer_norm(x, normalized_shape, weight=None, bias=None, eps=1e-5):
    """Normalise over the trailing ``normalized_shape`` axes: (x - mean) / sqrt(var + eps) * weight + bias.

    Example:
        >>> import chainrule as cr
        >>> y = cr.layer_norm(cr.tensor([[1.0, 3.0]]), (2,))
        >>> [round(v, 4) for v in y.tolist()[0]]
        [-1.0, 1.0]
    """
    normalized_shape = (normalized_shape,) if isinstance(normalized_shape, numbers.Integral) else tuple(normalized_shape)
    shape = np.shape(value_of(x))
    if shape[len(shape) - len(normalized_shape):] != normalized_shape:
        raise ValueError(f"layer_norm: input of shape {shape} does not end with normalized_shape {normalized_shape}")
    axes = tuple(range(len(shape) - len(normalized_shape), len(shape)))
    x = lift(x)
    centred = x - x.mean(axis=axes, keepdims=True)
    out = centred / ((centred * centred).mean(axis=axes, keepdims=True) + eps).sqrt()
    if weight is not None:
        out = out * weight
    return out if bias is None else out + bias


def _blend(target, value, momentum, count):
    """``target <- (1 - m) target + m value`` in place; with ``count``, value's unbiased form (x n/(n-1))."""
    target *= 1 - momentum
    if count is None:
        target += momentum * value.reshape(-1)
    else:
        target += momentum * value.reshape(-1) * count / (count - 1)


def batch_norm(x, running_mean=None, running_var=None, weight=None, bias=None, training=False, momentum=0.1, eps=1e-5):
    """Batch normalisation over axis 1 (channels) of (N, C) or (N, C, ...) inputs.

    In training (or without running statistics) it uses the batch's mean and biased variance and,
    when given, updates ``running_mean`` / ``running_var`` in place with ``momentum`` (the
    running variance takes the unbiased batch variance, as PyTorch). In evaluation it uses the
    running statistics as constants.

    Example:
        >>> import chainrule as cr
        >>> mean, var = np.zeros(1), np.ones(1)
        >>> y = cr.batch_norm(cr.tensor([[1.0], [3.0]]), mean, var, training=True)
        >>> mean, [round(v, 3) for v in y.reshape(-1).tolist()]
        (array([0.2]), [-1.0, 1.0])
    """
    x = lift(x)
    shape = value_of(x).shape
    if len(shape) < 2:
        raise ValueError(f"batch_norm: input of shape {shape}: expected (N, C) or (N, C, ...)")
    for name, v in (("running_mean", running_mean), ("running_var", running_var), ("weight", weight), ("bias", bias)):
        if v is not None and np.size(value_of(v)) != shape[1]:
            raise ValueError(f"batch_norm: input of shape {shape} has {shape[1]} channels (axis 1), but {name} has "
                             f"{np.size(value_of(v))} entries (the layer's num_features)")
    axes = (0,) + tuple(range(2, len(shape)))
    view = (1, shape[1]) + (1,) * (len(shape) - 2)
    if training or running_mean is None:
        count = int(np.prod([shape[a] for a in axes]))
        if training and count < 2:
            raise ValueError(f"batch_norm: training needs more than one value per channel, got input of shape {shape}")
        mean = x.mean(axis=axes, keepdims=True)
        centred = x - mean
        var = (centred * centred).mean(axis=axes, keepdims=True)
        if training and running_mean is not None:  # (recorded, so a compiled step updates them too)
            side_effect(_blend, running_mean, value_of(mean), momentum=float(momentum), count=None)
            side_effect(_blend, running_var, value_of(var), momentum=float(momentum), count=count)
    else:
        centred = x - np.asarray(running_mean, dtype=value_of(x).dtype).reshape(view)
        var = np.asarray(running_var, dtype=value_of(x).dtype).reshape(view)
    out = centred / ((var + eps) ** 0.5 if isinstance(var, np.ndarray) else (var + eps).sqrt())
    if weight is not None:
        out = out * lift(weight).reshape(*view)
    return out if bias is None else out + lift(bias).reshape(*view)


def embedding(indices, weight, padding_idx=None):
    """Rows of ``weight`` (num_embeddings, dim) picked by integer ``indices`` of any shape.

    The gradient adds up over repeated indices; the ``padding_idx`` row gets none, as in PyTorch.

    Example:
        >>> import chainrule as cr
        >>> cr.embedding(np.array([[0, 2]]), cr.eye(3)).shape
        (1, 2, 3)
    """
    idx = np.asarray(value_of(indices))
    n = np.shape(value_of(weight))[0]
    if idx.dtype.kind not in "iu":
        raise TypeError(f"embedding: indices must be integers, got dtype {idx.dtype}")
    if idx.size and (idx.min() < 0 or idx.max() >= n):
        bad = idx.min() if idx.min() < 0 else idx.max()
        raise ValueError(f"embedding: index {int(bad)} is outside 0..{n - 1} (the rows of the weight)")
    rows = lift(weight)[idx]
    if padding_idx is None:
        return rows
    frozen = value_of(rows)
    return where(np.broadcast_to((idx == padding_idx % n)[..., None], frozen.shape), frozen, rows)
