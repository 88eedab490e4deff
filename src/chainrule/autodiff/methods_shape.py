"""Shape methods (NumPy and PyTorch spellings) and linear algebra, composed from registry ops.

:class:`ShapeMethods` is a base of :class:`~chainrule.autodiff.tensor.OpsMixin`.
Everything here is a composition of ``reshape``, ``transpose``, ``getitem``,
``concatenate``, ``broadcast_to``, ``where`` and ``einsum``, so gradients (and
forward-mode tangents) come from those ops' rules.

Example:
    >>> import chainrule as cr
    >>> x = cr.arange(6.0).reshape(2, 3)
    >>> x.transpose(0, 1).shape, x.flip(1)[0].tolist(), x.t().shape
    ((3, 2), [2.0, 1.0, 0.0], (3, 2))
"""

from __future__ import annotations

import numpy as np

from .methods import pick_axis, value_of

__all__ = ["ShapeMethods"]


def _shape_args(shape):
    return tuple(shape[0]) if len(shape) == 1 and isinstance(shape[0], (tuple, list)) else tuple(shape)


def _ax(axis, ndim):
    if not -max(ndim, 1) <= axis < max(ndim, 1):
        raise ValueError(f"axis {axis} is out of range for a tensor of {ndim} dimensions")
    return axis % max(ndim, 1)


def _at(axis, index, ndim):
    """An index tuple applying ``index`` along ``axis`` only."""
    return (slice(None),) * axis + (index,) + (slice(None),) * (ndim - axis - 1)


def _functions():
    from . import functions  # functions imports tensor, which imports this module

    return functions


class ShapeMethods:
    """Views, rearrangements, padding, triangles and diagonals, splitting, and products."""

    __slots__ = ()

    # -------------------------------------------------------------- views
    def view(self, *shape):
        """PyTorch's name for reshape."""
        return self.reshape(*shape)

    def ravel(self):
        """The entries as one axis."""
        return self.reshape(-1)

    def flatten(self, start_dim=0, end_dim=-1):
        """Merge axes start_dim..end_dim (inclusive) into one, as PyTorch's flatten."""
        shape = value_of(self).shape
        if not shape:
            return self.reshape(1)
        s, e = _ax(start_dim, len(shape)), _ax(end_dim, len(shape))
        if s > e:
            raise ValueError(f"flatten: start_dim {start_dim} comes after end_dim {end_dim}")
        return self.reshape(*shape[:s], int(np.prod(shape[s:e + 1])), *shape[e + 1:])

    def unflatten(self, dim, sizes):
        """Split axis ``dim`` into ``sizes`` (one entry may be -1)."""
        shape = value_of(self).shape
        d = _ax(dim, len(shape))
        return self.reshape(*shape[:d], *sizes, *shape[d + 1:])

    def squeeze(self, axis=None, dim=None):
        """Drop size-1 axes (all of them, or the given ones)."""
        axis = pick_axis(axis, dim)
        return self.reshape(np.squeeze(np.empty(value_of(self).shape, dtype=bool), axis).shape)

    def unsqueeze(self, axis=None, dim=None):
        """Insert a size-1 axis at ``axis`` (PyTorch's ``dim``)."""
        axis = pick_axis(axis, dim)
        if axis is None:
            raise TypeError("unsqueeze: give the position of the new axis")
        return self.reshape(np.expand_dims(np.empty(value_of(self).shape, dtype=bool), axis).shape)

    # -------------------------------------------------------- axis orders
    def transpose(self, *axes):
        """Reverse the axes; permute them (NumPy, a full permutation or a tuple); or swap two (PyTorch).

        ``transpose(d0, d1)`` with two integers swaps axes d0 and d1, also on a 2-D tensor, where
        it is the matrix transpose. A tuple always means a permutation: ``transpose((0, 1))``.
        """
        ndim = len(value_of(self).shape)
        if len(axes) == 2 and all(isinstance(a, (int, np.integer)) for a in axes):
            return self.swapaxes(*axes)
        axes = axes[0] if len(axes) == 1 and isinstance(axes[0], (tuple, list)) else axes
        if axes and len(axes) != ndim:
            raise ValueError(f"transpose: {len(axes)} axes {tuple(axes)} for a tensor of {ndim} dimensions")
        return self._op("transpose", axes=tuple(axes) if axes else None)

    def permute(self, *axes):
        """Reorder the axes by a full permutation."""
        return self._op("transpose", axes=_shape_args(axes))

    def swapaxes(self, axis0, axis1):
        """Swap two axes (also ``transpose(d0, d1)`` and ``swapdims``)."""
        ndim = len(value_of(self).shape)
        perm = list(range(ndim))
        a, b = _ax(axis0, ndim), _ax(axis1, ndim)
        perm[a], perm[b] = perm[b], perm[a]
        return self._op("transpose", axes=tuple(perm))

    swapdims = swapaxes

    def moveaxis(self, source, destination):
        """Move axes to new positions, keeping the others in order (NumPy's moveaxis)."""
        ndim = len(value_of(self).shape)
        src = [_ax(int(a), ndim) for a in np.atleast_1d(source)]
        dst = [_ax(int(a), ndim) for a in np.atleast_1d(destination)]
        if len(src) != len(dst):
            raise ValueError(f"moveaxis: {len(src)} source axes but {len(dst)} destinations")
        perm = [n for n in range(ndim) if n not in src]
        for d, a in sorted(zip(dst, src)):
            perm.insert(d, a)
        return self._op("transpose", axes=tuple(perm))

    movedim = moveaxis

    def t(self):
        """The transpose of a matrix (0-D and 1-D tensors are returned as they are), as PyTorch's ``t()``."""
        ndim = len(value_of(self).shape)
        if ndim > 2:
            raise ValueError(f"t() expects a tensor of at most 2 dimensions, got {ndim}; use transpose(d0, d1)")
        return self if ndim < 2 else self.swapaxes(0, 1)

    # ------------------------------------------------------ rearrangements
    def flip(self, dims=None, axis=None):
        """Reverse the order along ``dims`` (all axes when None)."""
        dims = pick_axis(dims, axis)
        ndim = len(value_of(self).shape)
        dims = range(ndim) if dims is None else [dims] if isinstance(dims, (int, np.integer)) else dims
        index = [slice(None)] * ndim
        for d in dims:
            index[_ax(d, ndim)] = slice(None, None, -1)
        return self[tuple(index)]

    def roll(self, shifts, dims=None, axis=None):
        """Shift entries cyclically along ``dims`` (over the flattened tensor when None)."""
        dims = pick_axis(dims, axis)
        if dims is None:
            return self.reshape(-1).roll(shifts, 0).reshape(value_of(self).shape)
        shifts, dims = np.atleast_1d(shifts), np.atleast_1d(dims)
        if len(shifts) != len(dims):
            raise ValueError(f"roll: {len(shifts)} shifts for {len(dims)} dims")
        out, ndim = self, len(value_of(self).shape)
        for s, d in zip(shifts, dims):
            d = _ax(int(d), ndim)
            n = value_of(out).shape[d]
            s = int(s) % n if n else 0
            if s:
                out = _functions().concatenate([out[_at(d, slice(n - s, None), ndim)], out[_at(d, slice(0, n - s), ndim)]], axis=d)
        return out

    def repeat(self, *reps):
        """Tile the tensor ``reps`` times along each axis (PyTorch's repeat, NumPy's tile)."""
        reps = _shape_args(reps)
        shape = value_of(self).shape
        if len(reps) < len(shape):
            raise ValueError(f"repeat: {len(reps)} repeats for a tensor of {len(shape)} dimensions (give at least one per axis)")
        shape = (1,) * (len(reps) - len(shape)) + shape
        paired = self.reshape(*[k for n in shape for k in (1, n)])
        wide = paired.broadcast_to(*[k for r, n in zip(reps, shape) for k in (r, n)])
        return wide.reshape(*[r * n for r, n in zip(reps, shape)])

    tile = repeat

    def repeat_interleave(self, repeats, dim=None, axis=None):
        """Repeat each entry ``repeats`` times along ``dim`` (over the flattened tensor when None)."""
        dim = pick_axis(dim, axis)
        x, d = (self.reshape(-1), 0) if dim is None else (self, _ax(dim, len(value_of(self).shape)))
        index = np.repeat(np.arange(value_of(x).shape[d]), value_of(repeats))
        return x[_at(d, index, len(value_of(x).shape))]

    def pad(self, pad, mode="constant", value=0.0):
        """Pad the last axes, PyTorch style: ``pad = (left_last, right_last, left_2nd_last, ...)``.

        Modes: "constant" (``value``), "reflect" (mirror without the edge), "replicate" (repeat the
        edge), "circular" (wrap around).
        """
        return _pad(self, pad, mode, value)

    # ------------------------------------------------ triangles, diagonals
    def tril(self, diagonal=0):
        """Zero the entries above the ``diagonal``-th diagonal of the last two axes."""
        return _triangle(self, np.tri, diagonal)

    def triu(self, diagonal=0):
        """Zero the entries below the ``diagonal``-th diagonal of the last two axes."""
        return _triangle(self, lambda n, m, k, dtype: ~np.tri(n, m, k - 1, dtype=dtype), diagonal)

    def diagonal(self, offset=0, dim1=0, dim2=1):
        """The ``offset``-th diagonal of axes dim1, dim2, as a new last axis (PyTorch and NumPy)."""
        ndim = len(value_of(self).shape)
        x = self.moveaxis([_ax(dim1, ndim), _ax(dim2, ndim)], [-2, -1])
        n, m = value_of(x).shape[-2:]
        k = max(0, min(n + min(offset, 0), m - max(offset, 0)))
        rows = np.arange(k) - min(offset, 0)
        return x[..., rows, rows + offset]

    def diag(self, diagonal=0):
        """A 1-D tensor's square matrix with it on a diagonal, or a 2-D tensor's diagonal."""
        v = value_of(self)
        if v.ndim == 2:
            return self.diagonal(diagonal)
        if v.ndim != 1:
            raise ValueError(f"diag expects a 1-D or 2-D tensor, got {v.ndim} dimensions")
        n = len(v) + abs(diagonal)
        rows, cols = np.indices((n, n))
        on = cols - rows == diagonal
        source = np.clip(rows if diagonal >= 0 else cols, 0, max(len(v) - 1, 0))
        return _functions().where(on, self[source], 0.0) if len(v) else self.reshape(0, 0) * 1.0

    def trace(self):
        """Sum of the main diagonal."""
        return self.diagonal().sum(axis=-1)

    # ------------------------------------------------------------ splitting
    def split(self, split_size_or_sections, dim=0):
        """Pieces along ``dim``: of size ``split_size`` (the last may be smaller) or of the listed sizes.

        Each piece is a basic-slice ``getitem``, so backward writes every piece's gradient into
        its own slice of one zero array (a dedicated split primitive would stack them once).
        """
        shape = value_of(self).shape
        d = _ax(dim, len(shape))
        n = shape[d]
        if isinstance(split_size_or_sections, (int, np.integer)):
            if split_size_or_sections <= 0:
                raise ValueError(f"split: split size must be a positive integer, got {split_size_or_sections}")
            sizes = [min(split_size_or_sections, n - i) for i in range(0, n, split_size_or_sections)]
        else:
            sizes = [int(s) for s in split_size_or_sections]
            if sum(sizes) != n:
                raise ValueError(f"split: sizes {sizes} add up to {sum(sizes)}, not to the size {n} of dim {dim}")
        starts = np.concatenate([[0], np.cumsum(sizes)]).astype(int)
        # One getitem per piece for now: when a split/unbind primitive (one node, one stacking
        # VJP) is in the registry, split, chunk and unbind should dispatch to it instead.
        return tuple(self[_at(d, slice(a, b), len(shape))] for a, b in zip(starts[:-1], starts[1:]))

    def chunk(self, chunks, dim=0):
        """At most ``chunks`` pieces of equal size along ``dim`` (the last may be smaller), as PyTorch."""
        if not isinstance(chunks, (int, np.integer)) or chunks <= 0:
            raise ValueError(f"chunk: chunks must be a positive integer, got {chunks!r}")
        n = value_of(self).shape[_ax(dim, len(value_of(self).shape))]
        return self.split(max(1, -(-n // chunks)), dim)

    def unbind(self, dim=0):
        """The slices along ``dim``, each without that axis."""
        shape = value_of(self).shape
        d = _ax(dim, len(shape))
        return tuple(self[_at(d, i, len(shape))] for i in range(shape[d]))

    # -------------------------------------------------------------- products
    def dot(self, other):
        """NumPy's dot: sum over the last axis of self and the second-to-last of other (the last if 1-D)."""
        a, b = np.ndim(value_of(self)), np.ndim(value_of(other))
        if a == 0 or b == 0:
            return self * other
        return self.tensordot(other, ([-1], [-2 if b >= 2 else -1]))

    def inner(self, other):
        """Sum over the last axes of both (NumPy's inner)."""
        if np.ndim(value_of(self)) == 0 or np.ndim(value_of(other)) == 0:
            return self * other
        return self.tensordot(other, ([-1], [-1]))

    def outer(self, other):
        """Outer product of two vectors (flattened first, as NumPy)."""
        return _functions().einsum("i,j->ij", self.reshape(-1), _functions().lift(other).reshape(-1))

    def tensordot(self, other, dims=2):
        """Contract the last ``dims`` axes of self with the first of other, or the listed axis pairs."""
        return _tensordot(self, _functions().lift(other), dims)

    def kron(self, other):
        """Kronecker product: every entry of self times a copy of other."""
        other = _functions().lift(other)
        sa, sb = value_of(self).shape, value_of(other).shape
        n = max(len(sa), len(sb))
        sa, sb = (1,) * (n - len(sa)) + sa, (1,) * (n - len(sb)) + sb
        a = self.reshape(*[k for m in sa for k in (m, 1)])
        b = other.reshape(*[k for m in sb for k in (1, m)])
        return (a * b).reshape(*[x * y for x, y in zip(sa, sb)])


def _tensordot(a, b, dims):
    na, nb = len(value_of(a).shape), len(value_of(b).shape)
    if isinstance(dims, (int, np.integer)):
        axes_a, axes_b = list(range(na - dims, na)), list(range(dims))
    else:
        axes_a, axes_b = [np.atleast_1d(d).tolist() for d in dims]
    axes_a, axes_b = [_ax(x, na) for x in axes_a], [_ax(x, nb) for x in axes_b]
    la, lb = list("abcdefghijklm"[:na]), list("nopqrstuvwxyz"[:nb])
    for i, j in zip(axes_a, axes_b):
        lb[j] = la[i]
    out = [c for i, c in enumerate(la) if i not in axes_a] + [c for j, c in enumerate(lb) if j not in axes_b]
    return _functions().einsum(f"{''.join(la)},{''.join(lb)}->{''.join(out)}", a, b)


def _triangle(x, tri, k):
    shape = value_of(x).shape
    if len(shape) < 2:
        raise ValueError(f"tril/triu expect at least 2 dimensions, got shape {shape}")
    return _functions().where(tri(shape[-2], shape[-1], k, dtype=bool), x, 0.0)


_PAD_MODES = {"reflect": "reflect", "replicate": "edge", "circular": "wrap"}


def _pad(x, pad, mode, value):
    pad = [int(p) for p in pad]
    shape = value_of(x).shape
    if len(pad) % 2 or len(pad) // 2 > len(shape):
        raise ValueError(f"pad: expected pairs (left, right) for at most {len(shape)} trailing axes, got {tuple(pad)}")
    if mode != "constant" and mode not in _PAD_MODES:
        raise ValueError(f"pad: mode must be one of 'constant', 'reflect', 'replicate', 'circular', got {mode!r}")
    if min(pad, default=0) < 0:
        raise ValueError(f"pad: amounts must be >= 0, got {tuple(pad)}")
    out, ndim = x, len(shape)
    for i in range(len(pad) // 2):
        d, (left, right) = ndim - 1 - i, pad[2 * i:2 * i + 2]
        n = value_of(out).shape[d]
        if mode == "constant":
            parts = []
            for k in (left, right):
                edge = list(value_of(out).shape)
                edge[d] = k
                parts.append(np.full(edge, value, dtype=value_of(out).dtype))
            out = _functions().concatenate([parts[0], out, parts[1]], axis=d)
            continue
        if mode == "reflect" and max(left, right) >= n:
            raise ValueError(f"pad: reflect padding ({left}, {right}) must be smaller than the size {n} of axis {d}")
        if n == 0:
            raise ValueError(f"pad: cannot {mode}-pad the empty axis {d}")
        index = np.pad(np.arange(n), (left, right), mode=_PAD_MODES[mode])
        out = out[_at(d, index, ndim)]
    return out
