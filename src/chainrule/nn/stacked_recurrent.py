"""Several layers and both directions for ``nn.RNN``, ``nn.LSTM`` and ``nn.GRU`` (``num_layers``, ``bidirectional``).

A sequence layer built with ``num_layers=L`` or ``bidirectional=True`` holds
one cell per layer and direction and runs them as PyTorch does: layer k reads
the outputs of layer k - 1 (both directions concatenated), the reverse
direction reads the sequence from its last step to its first, and the output
at step t is ``[forward h_t, reverse h_t]``. The parameters carry PyTorch's
names, in PyTorch's order, so a ``torch.nn.LSTM(..., num_layers=2,
bidirectional=True)`` state dict loads directly::

    weight_ih_l0, weight_hh_l0, bias_ih_l0, bias_hh_l0,
    weight_ih_l0_reverse, ..., bias_hh_l0_reverse, weight_ih_l1, ...

Initial and final states are stacked as in PyTorch: ``h`` of shape
``(num_layers * num_directions, batch, hidden)``, index ``k * D + d``.

Each cell is an ordinary ``RNNCell``/``LSTMCell``/``GRUCell`` whose Parameters
are the very objects the sequence layer holds under the PyTorch names, so the
gradient of every step lands on them; the cells themselves are kept out of the
module tree (in a :class:`Stack`, which traversal does not enter), so each
parameter is listed once, under its PyTorch name.

Example:
    >>> import chainrule as cr
    >>> from chainrule import nn
    >>> lstm = nn.LSTM(3, 4, num_layers=2, bidirectional=True, return_state=True, seed=0)
    >>> out, (h, c) = lstm(cr.zeros(2, 5, 3))
    >>> out.shape, h.shape
    ((2, 5, 8), (4, 2, 4))
    >>> [name for name, _ in lstm.named_parameters()][4:6]
    ['weight_ih_l0_reverse', 'weight_hh_l0_reverse']
"""

from __future__ import annotations

import numpy as np

from ..autodiff import functions as _ops
from ..autodiff.tensor import OpsMixin
from .._core import check
from ._util import array_of

__all__ = ["Stack", "build_stack"]

_NAMES = ("weight_ih", "weight_hh", "bias_ih", "bias_hh")


def _check_bool(name, value):
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be True or False, got {value!r}")
    return bool(value)


def _rng_for_upper_layers(seed):
    """A generator for the cells beyond layer 0, forward: a Generator continues, an int seeds its own stream."""
    if isinstance(seed, np.random.Generator):
        return seed
    return np.random.default_rng(None if seed is None else (int(seed), 1))


class Stack:
    """The cells of a multi-layer or bidirectional sequence layer and the loop that runs them."""

    def __init__(self, layer, cell_factory, num_layers, bidirectional, is_lstm, seed):
        self.num_layers, self.directions, self.is_lstm = num_layers, 2 if bidirectional else 1, is_lstm
        rng = _rng_for_upper_layers(seed)
        cells = []
        for k in range(num_layers):
            for d in range(self.directions):
                size = layer.input_size if k == 0 else layer.hidden_size * self.directions
                suffix = f"_l{k}" + ("_reverse" if d else "")
                cell = cell_factory(size, rng)
                for name in _NAMES:
                    if k == 0 and d == 0:      # layer 0 forward: the layer's own _l0 parameters
                        setattr(cell, name, getattr(layer, name + suffix))
                    else:
                        setattr(layer, name + suffix, getattr(cell, name))
                cells.append(cell)
        # A Stack is neither a Module nor a list or dict, so traversal does not list the cells' parameters again.
        self._cells = cells

    def _cell(self, k, d):
        return self._cells[k * self.directions + d]

    def _initial(self, layer, state, batch, like):
        """Per (layer, direction): the initial state, or None for zeros."""
        count = self.num_layers * self.directions
        if state is None:
            return [None] * count
        parts = state if self.is_lstm else (state,)
        if self.is_lstm and not (isinstance(state, (tuple, list)) and len(state) == 2):
            raise TypeError(f"{type(layer).__name__}: the state must be a pair (h, c), got {type(state).__name__}")
        want = (count, batch, layer.hidden_size)
        for name, p in zip(("h", "c"), parts):
            if np.shape(array_of(p)) != want:
                raise ValueError(f"{type(layer).__name__}: {name} must have shape (num_layers * num_directions, "
                                 f"batch, hidden_size) = {want}, got {np.shape(array_of(p))}")
        parts = [p if isinstance(p, OpsMixin) else np.asarray(p) for p in parts]
        if self.is_lstm:
            return [(parts[0][i], parts[1][i]) for i in range(count)]
        return [parts[0][i] for i in range(count)]

    def _run_direction(self, cell, seq, state, reverse, batch):
        """Every hidden state (T, N, H) and the final state of one cell over the time-major ``seq``."""
        xw, b_hh = cell._project(seq)
        if reverse:  # the reverse direction reads from the last step to the first
            xw = xw[::-1]
        hs, final = cell._run(xw, cell._unpack_state(state, batch, seq), b_hh, True)
        return (hs[::-1] if reverse else hs), final

    def forward(self, layer, x, state, batch, steps):
        """The sequence layer's output (and final states) for input ``x`` of ``steps`` steps."""
        starts = self._initial(layer, state, batch, x)
        seq = x.permute(1, 0, 2) if layer.batch_first else x   # time-major, as the whole-sequence ops run
        finals = []
        for k in range(self.num_layers):
            per_direction = []
            for d in range(self.directions):
                hs, final = self._run_direction(self._cell(k, d), seq, starts[k * self.directions + d], d == 1, batch)
                per_direction.append(hs)
                finals.append(final)
            # The next layer reads both directions side by side at every step.
            seq = per_direction[0] if self.directions == 1 else _ops.concatenate(per_direction, axis=-1)
        if not layer.return_sequences:
            out = seq[-1]
        else:
            out = seq.permute(1, 0, 2) if layer.batch_first else seq
        if not layer.return_state:
            return out
        if self.is_lstm:
            final = (_ops.stack([s[0] for s in finals], axis=0), _ops.stack([s[1] for s in finals], axis=0))
        else:
            final = _ops.stack(finals, axis=0)
        return out, final


def build_stack(layer, cell_factory, num_layers, bidirectional, is_lstm, seed):
    """A :class:`Stack` for ``layer`` when it has more than one layer or direction, else None.

    Args:
        layer: the sequence layer, its ``_l0`` parameters already built.
        cell_factory: ``fn(input_size, rng) -> cell`` of the layer's kind.
        num_layers: positive int; bidirectional: bool.
        is_lstm: whether the state is an (h, c) pair.
        seed: the layer's seed (int, None or Generator).
    """
    num_layers = check("num_layers", num_layers, "int>0")
    bidirectional = _check_bool("bidirectional", bidirectional)
    if num_layers == 1 and not bidirectional:
        return None
    return Stack(layer, cell_factory, num_layers, bidirectional, is_lstm, seed)
