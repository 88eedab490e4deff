"""Recurrent layers: RNN, LSTM and GRU cells, and layers that run them over a sequence.

A cell is written from engine ops (``linear``, ``tanh``, ``sigmoid``, ...), so a
loop that calls it over T steps builds a graph T cells deep and ``backward()`` is
backpropagation through time: the gradient reaching h_t flows on into step t - 1,
and the shared weights' gradients add up over the steps. A sequence layer runs
the same step math in one whole-sequence op (``rnn_seq``, ``lstm_seq``,
``gru_seq``, :mod:`chainrule.autodiff.ops.recurrent`) whose backward is that BPTT
in one loop: one graph node per sequence instead of some 15 per step.

Weights follow PyTorch's names, gate order and layout, so a ``torch.nn`` state
dict loads directly (``{k: v.numpy() for k, v in torch_layer.state_dict().items()}``):

=========  ==========================  =====================================
layer      gates (row blocks)          weight_ih / weight_hh shapes
=========  ==========================  =====================================
RNN        one                         (H, D) / (H, H)
LSTM       input, forget, cell, output (4H, D) / (4H, H)
GRU        reset, update, new          (3H, D) / (3H, H)
=========  ==========================  =====================================

Cells call them ``weight_ih``, ``weight_hh``, ``bias_ih``, ``bias_hh``; the
sequence layers (one layer deep) add torch's ``_l0`` suffix.

Example:
    >>> import chainrule as cr
    >>> from chainrule import nn
    >>> lstm = nn.LSTM(3, 5, seed=0)
    >>> x = cr.randn(2, 7, 3, seed=1, requires_grad=True)     # (batch, time, features)
    >>> out = lstm(x)
    >>> out.shape
    (2, 7, 5)
    >>> out[:, -1].sum().backward()                           # backprop through time
    >>> bool(abs(x.grad[:, 0]).sum() > 0)                      # reaches the first step
    True
"""

from __future__ import annotations

import math

import numpy as np

from ..autodiff import functions as _ops
from ..autodiff.tensor import OpsMixin, Tensor, get_default_dtype
from .._core import as_generator, check, check_choice, seed_config
from ._util import array_of
from .init import get_initializer, init_config, uniform
from ._rnn_rules import _ElmanRule, _GRURule, _LSTMRule
from .module import LAYERS, Module, Parameter
from .stacked_recurrent import build_stack

__all__ = ["RNNCell", "LSTMCell", "GRUCell", "RNN", "LSTM", "GRU"]

_linear = _ops.linear


# ------------------------------------------------------------------ shared set-up

def _dtype_name(dtype):
    return np.dtype(get_default_dtype() if dtype is None else dtype).name


def _check_bool(name, value):
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be True or False, got {value!r}")
    return bool(value)


def _shape_of(x):
    return array_of(x).shape if isinstance(x, (OpsMixin, np.ndarray)) else np.shape(x)


def _as_value(x, dtype):
    """Tensors and Duals pass through; arrays and lists become constant Tensors (float arrays keep their dtype)."""
    if isinstance(x, OpsMixin):
        return x
    arr = np.asarray(x)
    # Float arrays are wrapped without a copy (ops never write into their inputs), so a
    # compiled step still sees its own input array here.
    return _constant(arr) if arr.dtype.kind == "f" else Tensor(arr, dtype=dtype)


def _constant(arr):
    t = Tensor.__new__(Tensor)
    t.data, t.grad, t.requires_grad, t._node, t._retain, t.name = arr, None, False, None, False, None
    return t


class _Recurrent(Module):
    """Parameters, validation and config shared by every cell and sequence layer."""

    _gates = 1          # row blocks in weight_ih / weight_hh (set by the update rule mixin)
    _suffix = ""        # "_l0" for the sequence layers, as in torch.nn.RNN

    def _build(self, input_size, hidden_size, bias, init, bias_init, seed, dtype):
        self.input_size = check("input_size", input_size, "int>0")
        self.hidden_size = check("hidden_size", hidden_size, "int>0")
        has_bias = _check_bool("bias", bias)
        self._init, self._bias_init, self._seed = init, bias_init, seed
        self._dtype = _dtype_name(dtype)
        # PyTorch's default: every weight and bias from U(-1/sqrt(H), 1/sqrt(H)), so the
        # pre-activations stay O(1) whatever the input and hidden sizes.
        scale = 1.0 / math.sqrt(hidden_size)

        def default(shape, seed=None, dtype=None):
            return uniform(shape, seed=seed, dtype=dtype, scale=scale)

        w_init = get_initializer(default if init is None else init)
        b_init = get_initializer(default if bias_init is None else bias_init)
        rng = as_generator(seed)
        rows, s = self._gates * hidden_size, self._suffix
        # Attribute order = state-dict order = torch's order.
        setattr(self, "weight_ih" + s, Parameter(w_init((rows, input_size), seed=rng, dtype=self._dtype),
                                                 dtype=self._dtype))
        setattr(self, "weight_hh" + s, Parameter(w_init((rows, hidden_size), seed=rng, dtype=self._dtype),
                                                 dtype=self._dtype))
        for name in ("bias_ih", "bias_hh"):
            value = Parameter(b_init((rows,), seed=rng, dtype=self._dtype), dtype=self._dtype) if has_bias else None
            setattr(self, name + s, value)

    def _weights(self):
        s = self._suffix
        return (getattr(self, "weight_ih" + s), getattr(self, "weight_hh" + s),
                getattr(self, "bias_ih" + s), getattr(self, "bias_hh" + s))

    def _project(self, seq):
        """``(xw, bias)``: every step's input projection in one op, and the bias the sequence op adds per step.

        The rule's ``_bias_place`` says where its biases go when it has both:

        * ``"projection"`` (Elman): ``xw = seq @ weight_ih.T + (bias_ih + bias_hh)`` and no bias per
          step: the step adds b_hh unchanged, and one add of a vector replaces an add per step and, in
          the backward pass, a second sum of the projections' gradient over the whole sequence.
        * ``"sequence"`` (LSTM): ``xw = seq @ weight_ih.T`` and ``bias_ih + bias_hh`` per step, which
          the fused gate pass adds while the step's gates are in cache (an add over the whole
          (T, N, 4H) projection runs from main memory once it outgrows L2: 2 % of a training step
          at T = 100 and 5 % at T = 25, side by side in one process).
        * ``"split"`` (GRU): b_ih in the projection and b_hh per step, because the reset gate scales
          b_hh's candidate block.
        """
        w_ih, _, b_ih, b_hh = self._weights()
        if b_ih is None or b_hh is None or self._bias_place == "split":
            return _linear(seq, w_ih, b_ih), b_hh
        if self._bias_place == "sequence":
            return _linear(seq, w_ih), b_ih + b_hh
        return _linear(seq, w_ih, b_ih + b_hh), None

    def _zero_state(self, batch, like):
        return np.zeros((batch, self.hidden_size), dtype=np.result_type(array_of(like).dtype, self._dtype))

    def _check_state(self, name, h, batch):
        shape = _shape_of(h)
        if shape != (batch, self.hidden_size):
            raise ValueError(f"{type(self).__name__}: {name} must have shape (batch, hidden_size) = "
                             f"{(batch, self.hidden_size)}, got {shape}")
        return h

    def _unpack_state(self, state, batch, like):
        """The hidden state h, zeros when ``state`` is None (the LSTM rule takes a pair)."""
        if state is None:
            return self._zero_state(batch, like)
        return self._check_state("h", state, batch)

    def _output(self, state):
        """What a sequence layer emits per step: the hidden state."""
        return state

    def _rule_args(self):
        """Constructor arguments of the update rule itself (the Elman rule's nonlinearity)."""
        return {}

    def extra_repr(self):
        extra = "".join(f", {k}={v!r}" for k, v in self._rule_args().items())
        bias = self._weights()[2] is not None
        return f"{self.input_size}, {self.hidden_size}{extra}, bias={bias}"

    def _config_args(self):
        args = {"input_size": self.input_size, "hidden_size": self.hidden_size}
        args.update(self._rule_args())
        args["bias"] = self._weights()[2] is not None
        args.update(self._layer_args())
        args.update({
            "init": None if self._init is None else init_config(self._init),
            "bias_init": None if self._bias_init is None else init_config(self._bias_init),
            "seed": seed_config(self._seed), "dtype": self._dtype,
        })
        return args

    def _layer_args(self):
        return {}


# ------------------------------------------------------------------ cells: one step

class _Cell(_Recurrent):
    # LSTMCell and GRUCell take exactly these arguments; RNNCell adds nonlinearity.
    def __init__(self, input_size, hidden_size, bias=True, init=None, bias_init=None, seed=None, dtype=None):
        super().__init__()
        self._build(input_size, hidden_size, bias, init, bias_init, seed, dtype)

    def forward(self, x, state=None):
        x = _as_value(x, self._dtype)
        shape = _shape_of(x)
        if len(shape) != 2 or shape[1] != self.input_size:
            raise ValueError(f"{type(self).__name__} expects input of shape (batch, {self.input_size}), "
                             f"got {shape}")
        state = self._unpack_state(state, shape[0], x)
        w_ih, _, b_ih, _ = self._weights()
        return self._step(_linear(x, w_ih, b_ih), state)


@LAYERS.register
class RNNCell(_ElmanRule, _Cell):
    """One step of an Elman RNN: ``h' = act(x @ weight_ih.T + bias_ih + h @ weight_hh.T + bias_hh)``.

    Built from engine ops only, so its gradient (and, when a loop calls it over
    time, backpropagation through time) comes from the graph.

    Args:
        input_size: features per input row D (positive int).
        hidden_size: hidden units H (positive int).
        nonlinearity: "tanh" or "relu".
        bias: learn ``bias_ih`` and ``bias_hh`` (H,).
        init: weight initialiser (an ``nn.init`` name, ``{"name": ..., **options}`` or a
            callable ``fn(shape, seed, dtype)``); None: PyTorch's U(-1/sqrt(H), 1/sqrt(H)).
        bias_init: bias initialiser, same forms and default.
        seed: int or ``np.random.Generator`` for the initialisers.
        dtype: parameter dtype (default: the default float dtype).

    Shapes:
        x (N, D), h (N, H) (zeros when omitted) -> h' (N, H);
        weight_ih (H, D), weight_hh (H, H), biases (H,).

    Example:
        >>> import chainrule as cr
        >>> cell = RNNCell(3, 4, seed=0)
        >>> h = None
        >>> for t in range(5):                      # unroll by hand
        ...     h = cell(cr.ones(2, 3), h)
        >>> h.shape
        (2, 4)
    """

    def __init__(self, input_size, hidden_size, nonlinearity="tanh", bias=True, init=None, bias_init=None,
                 seed=None, dtype=None):
        self.nonlinearity = check_choice("nonlinearity", nonlinearity, ("tanh", "relu"))
        super().__init__(input_size, hidden_size, bias, init, bias_init, seed, dtype)


@LAYERS.register
class LSTMCell(_LSTMRule, _Cell):
    """One step of a long short-term memory cell (Hochreiter & Schmidhuber, 1997), PyTorch's equations.

    ``i, f, g, o = split(x @ weight_ih.T + bias_ih + h @ weight_hh.T + bias_hh)`` with
    sigmoid on i, f, o and tanh on g; then ``c' = f * c + i * g`` and ``h' = o * tanh(c')``.
    The additive cell update is what lets gradients survive many steps.

    Args:
        input_size, hidden_size, bias, init, bias_init, seed, dtype: as for :class:`RNNCell`.

    Shapes:
        x (N, D), state (h, c) each (N, H) (zeros when omitted) -> (h', c');
        weight_ih (4H, D), weight_hh (4H, H), biases (4H,), gate blocks in order i, f, g, o.

    Example:
        >>> import chainrule as cr
        >>> h, c = LSTMCell(3, 4, seed=0)(cr.ones(2, 3))
        >>> h.shape, c.shape
        ((2, 4), (2, 4))
    """


@LAYERS.register
class GRUCell(_GRURule, _Cell):
    """One step of a gated recurrent unit (Cho et al., 2014), PyTorch's equations.

    ``r = sigmoid(x_r + h_r)``, ``z = sigmoid(x_z + h_z)``, ``n = tanh(x_n + r * h_n)``,
    ``h' = (1 - z) * n + z * h``, where ``x_* / h_*`` are the row blocks of
    ``x @ weight_ih.T + bias_ih`` and ``h @ weight_hh.T + bias_hh``.

    Args:
        input_size, hidden_size, bias, init, bias_init, seed, dtype: as for :class:`RNNCell`.

    Shapes:
        x (N, D), h (N, H) (zeros when omitted) -> h' (N, H);
        weight_ih (3H, D), weight_hh (3H, H), biases (3H,), gate blocks in order r, z, n.

    Example:
        >>> import chainrule as cr
        >>> GRUCell(3, 4, seed=0)(cr.ones(2, 3)).shape
        (2, 4)
    """


# ------------------------------------------------------------------ sequence layers

class _Sequence(_Recurrent):
    _suffix = "_l0"
    _cell_class = None   # the cell of one layer and direction (num_layers > 1 or bidirectional)

    # LSTM and GRU take exactly these arguments; RNN adds nonlinearity.
    def __init__(self, input_size, hidden_size, bias=True, batch_first=True, return_sequences=True,
                 return_state=False, init=None, bias_init=None, seed=None, dtype=None, num_layers=1,
                 bidirectional=False):
        super().__init__()
        self._options(batch_first, return_sequences, return_state)
        self._build(input_size, hidden_size, bias, init, bias_init, seed, dtype)
        self._stack = build_stack(self, self._make_cell, num_layers, bidirectional,
                                  self._cell_class is LSTMCell, seed)

    def _make_cell(self, input_size, rng):
        return self._cell_class(input_size, self.hidden_size, bias=self._weights()[2] is not None,
                                init=self._init, bias_init=self._bias_init, seed=rng, dtype=self._dtype)

    def _options(self, batch_first, return_sequences, return_state):
        self.batch_first = _check_bool("batch_first", batch_first)
        self.return_sequences = _check_bool("return_sequences", return_sequences)
        self.return_state = _check_bool("return_state", return_state)

    def forward(self, x, state=None):
        x = _as_value(x, self._dtype)
        shape = _shape_of(x)
        layout = "(batch, time, features)" if self.batch_first else "(time, batch, features)"
        if len(shape) != 3 or shape[2] != self.input_size or shape[0] == 0 or shape[1] == 0:
            raise ValueError(f"{type(self).__name__} expects input of shape {layout} with features = "
                             f"{self.input_size} and at least one step, got {shape}")
        batch, steps = (shape[0], shape[1]) if self.batch_first else (shape[1], shape[0])
        if self._stack is not None:
            return self._stack.forward(self, x, state, batch, steps)
        state = self._unpack_state(state, batch, x)
        xw, b_hh = self._project(x)
        # One whole-sequence op (rnn_seq, lstm_seq, gru_seq) runs the recurrence, time-major.
        hs, final = self._run(xw.permute(1, 0, 2) if self.batch_first else xw, state, b_hh, self.return_sequences)
        if not self.return_sequences:
            out = self._output(final)
        else:
            out = hs.permute(1, 0, 2) if self.batch_first else hs
        return (out, final) if self.return_state else out

    def _layer_args(self):
        stack = self._stack
        return {"batch_first": self.batch_first, "return_sequences": self.return_sequences,
                "return_state": self.return_state, "num_layers": 1 if stack is None else stack.num_layers,
                "bidirectional": stack is not None and stack.directions == 2}

    def extra_repr(self):
        return (super().extra_repr() + f", batch_first={self.batch_first}, "
                f"return_sequences={self.return_sequences}, return_state={self.return_state}")


_SEQUENCE_DOC = """
    One op runs the whole sequence (``{op}``) and its backward is backpropagation
    through time, the same numbers as a loop over the cell. ``num_layers`` and
    ``bidirectional`` stack layers and add a reverse direction as PyTorch does
    (see :mod:`chainrule.nn.stacked_recurrent`).

    Args:
        input_size: features per step D (positive int).
        hidden_size: hidden units H (positive int).{extra_arg}
        bias: learn ``bias_ih_l0`` and ``bias_hh_l0``.
        batch_first: input (N, T, D) when True, (T, N, D) when False (output alike).
        return_sequences: output every step's hidden state (N, T, H); False: the last one (N, H).
        return_state: also return the final state, ``(output, {state})``.
        init: weight initialiser (an ``nn.init`` name, ``{{"name": ..., **options}}`` or a
            callable ``fn(shape, seed, dtype)``); None: PyTorch's U(-1/sqrt(H), 1/sqrt(H)).
        bias_init: bias initialiser, same forms and default.
        seed: int or ``np.random.Generator`` for the initialisers.
        dtype: parameter dtype (default: the default float dtype).
        num_layers: layers stacked, each reading the one below (PyTorch's ``_l1``, ``_l2``, ... weights).
        bidirectional: add a direction reading the sequence backwards (``_reverse`` weights);
            outputs then have 2H features, ``[forward, reverse]``.

    Call:
        ``layer(x)`` or ``layer(x, {state_arg})``; the initial state defaults to zeros. With
        several layers or directions every state has shape (num_layers * directions, N, H), as in torch.

    Shapes:
        x (N, T, D) -> output (N, T, H) or (N, H); {state_shape};
        weight_ih_l0 ({rows}, D), weight_hh_l0 ({rows}, H), biases ({rows},).
"""


@LAYERS.register
class RNN(_ElmanRule, _Sequence):
    __doc__ = """Elman RNN over a sequence: ``h_t = act(x_t @ W_ih.T + b_ih + h_(t-1) @ W_hh.T + b_hh)``.
""" + _SEQUENCE_DOC.format(
        extra_arg='\n        nonlinearity: "tanh" or "relu".', op="rnn_seq", state="h_n", state_arg="h0",
        state_shape="h0 and h_n (N, H)", rows="H") + """
    Example:
        >>> import chainrule as cr
        >>> rnn = RNN(2, 8, seed=0, return_state=True)
        >>> out, h_n = rnn(cr.zeros(4, 6, 2))
        >>> out.shape, h_n.shape
        ((4, 6, 8), (4, 8))
    """

    _cell_class = RNNCell

    def __init__(self, input_size, hidden_size, nonlinearity="tanh", bias=True, batch_first=True,
                 return_sequences=True, return_state=False, init=None, bias_init=None, seed=None, dtype=None,
                 num_layers=1, bidirectional=False):
        self.nonlinearity = check_choice("nonlinearity", nonlinearity, ("tanh", "relu"))
        super().__init__(input_size, hidden_size, bias, batch_first, return_sequences, return_state, init,
                         bias_init, seed, dtype, num_layers, bidirectional)

    def _make_cell(self, input_size, rng):
        return RNNCell(input_size, self.hidden_size, self.nonlinearity, bias=self._weights()[2] is not None,
                       init=self._init, bias_init=self._bias_init, seed=rng, dtype=self._dtype)


@LAYERS.register
class LSTM(_LSTMRule, _Sequence):
    __doc__ = """LSTM over a sequence (:class:`LSTMCell` at every step, PyTorch's gate order i, f, g, o).
""" + _SEQUENCE_DOC.format(extra_arg="", op="lstm_seq", state="(h_n, c_n)", state_arg="(h0, c0)",
                           state_shape="h0, c0, h_n, c_n (N, H)", rows="4H") + """
    Example:
        >>> import chainrule as cr
        >>> from chainrule import nn
        >>> net = nn.Sequential(LSTM(1, 16, return_sequences=False, seed=0), nn.Linear(16, 2, seed=1))
        >>> net(cr.zeros(5, 10, 1)).shape        # one label per sequence
        (5, 2)
    """

    _cell_class = LSTMCell


@LAYERS.register
class GRU(_GRURule, _Sequence):
    __doc__ = """GRU over a sequence (:class:`GRUCell` at every step, PyTorch's gate order r, z, n).
""" + _SEQUENCE_DOC.format(extra_arg="", op="gru_seq", state="h_n", state_arg="h0", state_shape="h0 and h_n (N, H)",
                           rows="3H") + """
    Example:
        >>> import chainrule as cr
        >>> GRU(3, 4, seed=0, batch_first=False)(cr.zeros(9, 2, 3)).shape   # (time, batch, features)
        (9, 2, 4)
    """

    _cell_class = GRUCell

