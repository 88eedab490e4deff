"""Tensor: an ndarray that remembers how it was computed, so gradients can flow back.

Operators and methods all go through the op registry (:mod:`chainrule.autodiff.ops`);
composite operations (``square``, ``var``, ``norm``, ...) are written from
primitives, so their gradients come for free. The method set lives in
:class:`OpsMixin`, shared with forward-mode :class:`~chainrule.autodiff.forward.Dual`
numbers and the symbolic tracer, so one function body works in all modes.

Example:
    >>> import chainrule as cr
    >>> x = cr.tensor([1.0, 2.0], requires_grad=True)
    >>> y = (x * x).sum()
    >>> y.backward()
    >>> x.grad
    array([2., 4.], dtype=float32)
"""

from __future__ import annotations

import numpy as np

from . import engine
from .engine import GRAD_MODE, Node
from .graph_backward import backward_with_graph
from .dtypes import _DEFAULT, get_default_dtype, set_default_dtype, to_array
from .mixin import OpsMixin
from .ops import REGISTRY

__all__ = ["Tensor", "OpsMixin", "tensor", "set_default_dtype", "get_default_dtype", "dispatch"]

_OPS = REGISTRY


class Tensor(OpsMixin):
    """An n-dimensional array with an optional gradient and the graph node that made it.

    Args:
        data: array-like. Python floats/lists become the default dtype (float32);
            NumPy arrays keep their dtype; ints stay ints.
        requires_grad: record operations on this tensor for backward (floats only).
        dtype: force a dtype.
        name: a label shown by :mod:`chainrule.autodiff.trace`.

    Example:
        >>> t = Tensor([[1.0, 2.0]], requires_grad=True)
        >>> t.shape, t.dtype
        ((1, 2), dtype('float32'))
    """

    __slots__ = ("data", "grad", "requires_grad", "_node", "_retain", "name")
    __hash__ = object.__hash__

    def __init__(self, data, requires_grad=False, dtype=None, name=None):
        arr = to_array(data.data if isinstance(data, Tensor) else data, dtype)
        if requires_grad and arr.dtype.kind != "f":
            raise TypeError(f"requires_grad=True needs a floating dtype, got {arr.dtype}")
        self.data = arr
        self.grad = None
        self.requires_grad = bool(requires_grad)
        self._node = None
        self._retain = False
        self.name = name

    @staticmethod
    def _apply(op, args, attrs):
        arrays = []
        needs = []
        record = False
        for a in args:
            if isinstance(a, Tensor):
                arrays.append(a.data)
                needs.append(a.requires_grad)
                record = record or a.requires_grad
            elif isinstance(a, OpsMixin):
                return a._apply(op, args, attrs)  # a Dual or symbolic value takes over
            else:
                arrays.append(a)
                needs.append(False)
        try:
            out, ctx = op.forward(*arrays, **attrs)
        except ValueError as e:
            raise _shape_error(op, arrays, e) from None
        t = Tensor.__new__(Tensor)
        t.data = out if isinstance(out, np.ndarray) else np.asarray(out)
        t.grad = None
        t._retain = False
        t.name = None
        if record and GRAD_MODE.enabled:
            t.requires_grad = True
            t._node = Node(op, args, ctx, tuple(needs))
        else:
            t.requires_grad = False
            t._node = None
        if GRAD_MODE.recorder is not None:  # a step being compiled (autodiff.compile) notes the op
            GRAD_MODE.recorder.on_op(op, args, attrs, t)
        return t

    # properties ------------------------------------------------------------
    @property
    def shape(self):
        return self.data.shape

    @property
    def dtype(self):
        return self.data.dtype

    @property
    def ndim(self):
        return self.data.ndim

    @property
    def size(self):
        return self.data.size

    @property
    def is_leaf(self):
        return self._node is None

    @property
    def op(self):
        """Name of the op that produced this tensor ('' for leaves)."""
        return "" if self._node is None else self._node.op.name

    def __len__(self):
        if self.data.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self.data.shape[0]

    # conversion ------------------------------------------------------------
    def item(self):
        """The single value of a one-element tensor, as a Python number."""
        if GRAD_MODE.recorder is not None:
            GRAD_MODE.recorder.on_branch("reads a tensor's value (float(), int(), item())")
        if self.data.size != 1:
            raise ValueError(f"item(): tensor has {self.data.size} elements, expected exactly 1")
        return self.data.item()

    def numpy(self):
        """The underlying ndarray (shared, not copied)."""
        return self.data

    def tolist(self):
        if GRAD_MODE.recorder is not None:
            GRAD_MODE.recorder.on_branch("reads a tensor's values (tolist())")
        return self.data.tolist()

    def __float__(self):
        return float(self.item())

    def __int__(self):
        return int(self.item())

    def __bool__(self):
        if GRAD_MODE.recorder is not None:
            GRAD_MODE.recorder.on_branch()
        if self.data.size != 1:
            raise ValueError(f"the truth value of a tensor with {self.data.size} elements is ambiguous")
        return bool(self.data.item())

    def __array__(self, dtype=None, copy=None):
        # Honour copy: np.array(t) must not hand out the tensor's own buffer.
        return np.array(self.data, dtype=dtype, copy=copy)

    # comparisons give constant boolean tensors ----------------------------
    def _compare(self, other, f):
        other = other.data if isinstance(other, Tensor) else other
        return Tensor(f(self.data, other))

    def __lt__(self, o):
        return self._compare(o, np.less)

    def __le__(self, o):
        return self._compare(o, np.less_equal)

    def __gt__(self, o):
        return self._compare(o, np.greater)

    def __ge__(self, o):
        return self._compare(o, np.greater_equal)

    def __eq__(self, o):
        return self._compare(o, np.equal)

    def __ne__(self, o):
        return self._compare(o, np.not_equal)

    # autograd ------------------------------------------------------------
    def backward(self, grad=None, retain_graph=False, create_graph=False):
        """Back-propagate from this tensor; leaf ``.grad`` values accumulate across calls.

        With ``create_graph=True`` the VJPs run as differentiable ops: each leaf's
        ``.grad`` becomes a Tensor with a graph (differentiate it again for second
        derivatives), and the graph is kept, as with ``retain_graph=True``.
        """
        if create_graph:
            backward_with_graph(self, grad)
        else:
            engine.backward(self, grad, retain_graph)

    def detach(self):
        """A tensor sharing this data but cut off from the graph."""
        t = Tensor.__new__(Tensor)
        t.data, t.grad, t.requires_grad, t._node, t._retain, t.name = self.data, None, False, None, False, self.name
        return t

    def requires_grad_(self, flag=True):
        if flag and self.data.dtype.kind != "f":
            raise TypeError(f"requires_grad=True needs a floating dtype, got {self.data.dtype}")
        self.requires_grad = bool(flag)
        return self

    def retain_grad(self):
        """Keep this non-leaf tensor's gradient in ``.grad`` after backward."""
        self._retain = True
        return self

    def zero_grad(self):
        self.grad = None
        if GRAD_MODE.recorder is not None:
            GRAD_MODE.recorder.on_zero((self,))

    def __repr__(self):
        body = np.array2string(self.data, separator=", ", precision=4, prefix="tensor(")
        extra = ""
        if self.data.dtype not in (_DEFAULT["dtype"], np.int64, np.bool_):
            extra += f", dtype={self.data.dtype}"
        if self._node is not None:
            extra += f", grad_fn=<{self._node.op.name}>"
        elif self.requires_grad:
            extra += ", requires_grad=True"
        return f"tensor({body}{extra})"


def _shape_error(op, arrays, err):
    msg = str(err)
    if msg.startswith(op.name + ":"):
        return ValueError(msg)
    shapes = " and ".join(str(np.shape(a)) for a in arrays)
    return ValueError(f"{op.name}: shapes {shapes}: {msg}")


def tensor(data, requires_grad=False, dtype=None, name=None):
    """Make a :class:`Tensor` (copies ``data``).

    Example:
        >>> tensor([1.0, 2.0], requires_grad=True)
        tensor([1., 2.], requires_grad=True)
    """
    return Tensor(data, requires_grad=requires_grad, dtype=dtype, name=name)


def dispatch(name, *args, **attrs):
    """Apply registry op ``name`` to mixed Tensor / Dual / array / scalar arguments.

    ``Tensor._apply`` hands over to a Dual or symbolic argument when it meets one.
    """
    return Tensor._apply(_OPS[name], args, attrs)
