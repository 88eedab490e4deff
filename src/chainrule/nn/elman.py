"""Elman and Jordan networks: recurrent nets drawn as the slides draw them, with a visible context layer.

The slides (seed 000, "Recurrent Neural Networks" and "Time Delayed Recurrent
Neural Networks") store "output or hidden layer information in a context or
memory layer" that feeds the hidden layer at the next time step:

* :class:`Elman` (Elman 1990): the context layer is a copy of the previous
  hidden activations, ``c_t = copy_back * h_(t-1)`` (one-to-one links,
  ``copy_back`` fixed at 1 unless ``learn_copy_back=True``);
* :class:`Jordan` (Jordan 1986), the slides' time-delayed recurrent net: the
  context ("state") units take the previous *output*, with an optional decay,
  ``c_t = decay * c_(t-1) + y_(t-1)``; with teacher forcing the target
  ``d_(t-1)`` replaces ``y_(t-1)`` while training.

Both compute, at every step,
``h_t = act(input_hidden(x_t) + context_hidden(c_t))`` and
``y_t = output_activation(hidden_output(h_t))``, the three weight layers named
after the slide's arrows (input -> hidden, context -> hidden, hidden -> output).
The context units are ordinary arrays you can look at: ``net.context`` after a
call, and every step's context and hidden activations in the trace that
``forward(x, return_trace=True)`` returns.

Training is backpropagation through time from the graph; ``bptt=k`` cuts the
sequence into chunks of k steps and passes the context from chunk to chunk as
a value, so no gradient flows back more than k steps (truncated BPTT); with
``bptt >= T`` it is the full gradient.

Example:
    >>> import chainrule as cr
    >>> net = Elman(2, 4, 1, seed=0)
    >>> y, trace = net(cr.zeros(3, 5, 2), return_trace=True)     # (batch, time, features)
    >>> y.shape, trace.context.shape, net.context.shape
    ((3, 5, 1), (3, 5, 4), (3, 4))
    >>> bool((trace.context[:, 1:] == trace.hidden[:, :-1]).all())   # the context is a copy
    True
"""

from __future__ import annotations

import numbers
from collections import namedtuple

import numpy as np

from ..autodiff import functions as _ops
from ..autodiff.tensor import OpsMixin, Tensor
from .._core import as_generator, check, seed_config
from ._util import array_of
from .activations import Activation, get_activation
from .init import init_config
from .layers import Linear, _dtype_name
from .module import LAYERS, Module, Parameter

__all__ = ["Elman", "Jordan", "RecurrentTrace"]

#: What a recurrent net did at every step, as arrays of shape (batch, time, units).
RecurrentTrace = namedtuple("RecurrentTrace", ["context", "hidden", "output"])


def _activation_name(module):
    return module.name if isinstance(module, Activation) and not module.options else module.config()


def _check_bptt(bptt):
    if bptt is None:
        return None
    return check("bptt", bptt, "int>0")


class _ContextNet(Module):
    """Layers, the step loop, the trace and the stateful stream shared by Elman and Jordan."""

    _feeds_outputs_back = False   # True: the context takes the outputs, so a teacher can replace them

    def _build(self, input_size, hidden_size, output_size, context_size, activation, output_activation,
               bptt, init, seed, dtype):
        self.input_size = check("input_size", input_size, "int>0")
        self.hidden_size = check("hidden_size", hidden_size, "int>0")
        self.output_size = check("output_size", output_size, "int>0")
        self.bptt = _check_bptt(bptt)
        self._init, self._seed, self._dtype = init, seed, _dtype_name(dtype)
        self._activation_spec, self._output_spec = activation, output_activation
        rng = as_generator(seed)
        layer = {"init": init, "seed": rng, "dtype": self._dtype}
        # Attribute order = parameter order: the slide's arrows from the bottom up.
        self.input_hidden = Linear(self.input_size, self.hidden_size, **layer)
        self.context_hidden = Linear(context_size, self.hidden_size, bias=False, **layer)
        self.hidden_output = Linear(self.hidden_size, self.output_size, **layer)
        self.activation = get_activation(activation)
        self.output_activation = get_activation(output_activation)
        self.context = None  # the context layer's contents, set by every call

    # ------------------------------------------------------------------ one step
    def _hidden_and_output(self, x_t, c):
        h = self.activation(self.input_hidden(x_t) + self.context_hidden(c))
        return h, self.output_activation(self.hidden_output(h))

    def _start(self, batch, like):
        dtype = np.result_type(array_of(like).dtype, self._dtype)
        return Tensor(np.full((batch, self._context_size()), self._context_start(), dtype=dtype))

    def _check_context(self, context, batch, like):
        if context is None:
            return self._start(batch, like)
        shape = np.shape(array_of(context))
        if shape != (batch, self._context_size()):
            raise ValueError(f"{type(self).__name__}: context must have shape (batch, context units) = "
                             f"{(batch, self._context_size())}, got {shape}")
        return context if isinstance(context, OpsMixin) else Tensor(np.asarray(context, dtype=self._dtype))

    def _check_input(self, x, ndim, what):
        if not isinstance(x, OpsMixin):
            arr = np.asarray(x)
            x = Tensor(arr, dtype=arr.dtype if arr.dtype.kind == "f" else self._dtype)
        shape = x.shape
        if len(shape) != ndim or shape[-1] != self.input_size or 0 in shape:
            raise ValueError(f"{type(self).__name__} expects input of shape {what} with features = "
                             f"{self.input_size}, got {shape}")
        return x

    def _check_teacher(self, teacher, batch, steps):
        if teacher is None:
            return None
        if not self._feeds_outputs_back:
            raise TypeError(f"{type(self).__name__} feeds back its hidden layer, not its outputs, so it takes "
                            "no teacher; teacher forcing is for Jordan nets")
        arr = array_of(teacher)
        if arr.shape != (batch, steps, self.output_size):
            raise ValueError(f"{type(self).__name__}: teacher must have shape (batch, time, outputs) = "
                             f"{(batch, steps, self.output_size)}, got {arr.shape}")
        return Tensor(np.asarray(arr, dtype=self._dtype))

    # ------------------------------------------------------------------ the sequence
    def forward(self, x, context=None, teacher=None, return_trace=False):
        """Run the net over a sequence.

        Args:
            x: inputs (N, T, input_size).
            context: the context layer at the first step (N, context units); None: the
                net's ``context_init`` value in every unit.
            teacher: (Jordan only) targets (N, T, output_size) fed back instead of the outputs.
            return_trace: also return a :class:`RecurrentTrace` of arrays (N, T, units).

        Returns:
            outputs (N, T, output_size) (or (N, output_size) when ``return_sequences`` is
            False), and the trace if asked. ``self.context`` becomes the context for the
            step after the last one (an array), so :meth:`step` can continue the stream.
        """
        x = self._check_input(x, 3, "(batch, time, features)")
        batch, steps = x.shape[0], x.shape[1]
        c = self._check_context(context, batch, x)
        teacher = self._check_teacher(teacher, batch, steps)
        outputs, contexts, hiddens = [], [], []
        for t in range(steps):
            if self.bptt is not None and t and t % self.bptt == 0:
                c = c.detach()  # truncated BPTT: the gradient stops at the chunk boundary
            h, y = self._hidden_and_output(x[:, t], c)
            outputs.append(y)
            if return_trace:
                contexts.append(array_of(c))
                hiddens.append(array_of(h))
            c = self._next_context(c, h, y, None if teacher is None else teacher[:, t])
        self.context = array_of(c).copy()
        out = _ops.stack(outputs, axis=1) if self.return_sequences else outputs[-1]
        if not return_trace:
            return out
        trace = RecurrentTrace(np.stack(contexts, axis=1), np.stack(hiddens, axis=1),
                               np.stack([array_of(y) for y in outputs], axis=1))
        return out, trace

    # ------------------------------------------------------------------ a stream
    def reset_state(self):
        """Forget the stream: the next :meth:`step` starts from the initial context."""
        self.context = None

    def step(self, x_t, teacher=None):
        """One time step of a stream: ``x_t`` (N, input_size) -> output (N, output_size).

        The context layer carries over from the previous call (or from the last
        :meth:`forward`); after :meth:`reset_state` it starts again from ``context_init``.
        """
        x_t = self._check_input(x_t, 2, "(batch, features)")
        c = self._check_context(self.context, x_t.shape[0], x_t)
        h, y = self._hidden_and_output(x_t, c)
        fed = None if teacher is None else self._check_teacher(
            np.asarray(array_of(teacher))[:, None], x_t.shape[0], 1)[:, 0]
        self.context = array_of(self._next_context(c, h, y, fed)).copy()
        return y

    # ------------------------------------------------------------------ config
    def _base_args(self):
        return {"input_size": self.input_size, "hidden_size": self.hidden_size, "output_size": self.output_size,
                "activation": _activation_name(self.activation),
                "output_activation": _activation_name(self.output_activation),
                "return_sequences": self.return_sequences, "bptt": self.bptt}

    def _common_args(self):
        return {"init": init_config(self._init), "seed": seed_config(self._seed), "dtype": self._dtype}

    @classmethod
    def _from_args(cls, args):
        for key in ("activation", "output_activation"):
            if isinstance(args.get(key), dict):
                args[key] = Module.from_config(args[key])
        return cls(**args)

    def extra_repr(self):
        return f"{self.input_size}, {self.hidden_size}, {self.output_size}, bptt={self.bptt}"


def _check_bool(name, value):
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be True or False, got {value!r}")
    return bool(value)


def _check_real(name, value, low, high):
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not low <= value <= high:
        raise ValueError(f"{name} must be a number in [{low}, {high}], got {value!r}")
    return float(value)


@LAYERS.register
class Elman(_ContextNet):
    """Elman's simple recurrent network: input + context layer -> hidden -> output.

    ``c_t = copy_back * h_(t-1)`` (``c_0 = context_init``),
    ``h_t = act(input_hidden(x_t) + context_hidden(c_t))``,
    ``y_t = output_activation(hidden_output(h_t))``.

    Args:
        input_size: input units D.
        hidden_size: hidden units H (the context layer has H units too).
        output_size: output units O.
        activation: hidden activation name (Elman 1990 used "sigmoid").
        output_activation: output activation name ("identity": linear outputs / logits).
        learn_copy_back: make the one-to-one hidden -> context weights ``copy_back``
            (H,) learnable; by default they are fixed at 1 (Elman 1990).
        context_init: the value of every context unit at the first step (Elman used 0.5).
        return_sequences: output every step (N, T, O); False: the last step (N, O).
        bptt: None for full backpropagation through time, or k > 0 for truncation to
            chunks of k steps.
        init: weight initialiser of the three weight layers (an ``nn.init`` name or dict).
        seed: int or ``np.random.Generator``; dtype: parameter dtype.

    Shapes:
        x (N, T, D) -> y (N, T, O); ``input_hidden.weight`` (H, D), ``context_hidden.weight``
        (H, H), ``hidden_output.weight`` (O, H), ``copy_back`` (H,); ``net.context`` (N, H).

    Example:
        >>> import chainrule as cr
        >>> net = Elman(1, 3, 1, seed=0)
        >>> net.reset_state()
        >>> ys = [net.step(cr.ones(1, 1)) for _ in range(4)]      # a stream, one step at a time
        >>> [name for name, _ in net.named_parameters()]
        ['copy_back', 'input_hidden.weight', 'input_hidden.bias', 'context_hidden.weight', 'hidden_output.weight', 'hidden_output.bias']
        >>> net.copy_back.requires_grad
        False
    """

    def __init__(self, input_size, hidden_size, output_size, activation="sigmoid", output_activation="identity",
                 learn_copy_back=False, context_init=0.0, return_sequences=True, bptt=None,
                 init="xavier_uniform", seed=None, dtype=None):
        super().__init__()
        self.return_sequences = _check_bool("return_sequences", return_sequences)
        self.context_init = _check_real("context_init", context_init, -1e6, 1e6)
        hidden = check("hidden_size", hidden_size, "int>0")
        self._build(input_size, hidden, output_size, hidden, activation, output_activation, bptt, init, seed,
                    dtype)
        learn = _check_bool("learn_copy_back", learn_copy_back)
        self.copy_back = Parameter(np.ones(hidden), requires_grad=learn, dtype=self._dtype)

    def _context_size(self):
        return self.hidden_size

    def _context_start(self):
        return self.context_init

    def _next_context(self, c, h, y, teacher):
        return h * self.copy_back

    def _config_args(self):
        return {**self._base_args(), "learn_copy_back": bool(self.copy_back.requires_grad),
                "context_init": self.context_init, **self._common_args()}


@LAYERS.register
class Jordan(_ContextNet):
    """Jordan's network (the slides' time-delayed recurrent net): outputs fed back through decaying state units.

    ``c_t = decay * c_(t-1) + y_(t-1)`` (``c_0 = context_init``; with ``teacher`` the
    target ``d_(t-1)`` replaces ``y_(t-1)``), ``h_t = act(input_hidden(x_t) +
    context_hidden(c_t))``, ``y_t = output_activation(hidden_output(h_t))``.

    Args:
        input_size: input units D (a constant "plan" in Jordan 1986).
        hidden_size: hidden units H.
        output_size: output units O (the state layer has O units too).
        decay: the state units' self-connection in [0, 1): 0 keeps only the last output,
            larger values a fading sum of all earlier outputs.
        activation, output_activation, context_init, return_sequences, bptt, init, seed, dtype: as for
            :class:`Elman`.

    Call:
        ``net(x)`` runs free (its own outputs are fed back); ``net(x, teacher=d)`` uses
        teacher forcing: the targets d (N, T, O) are fed back instead.

    Shapes:
        x (N, T, D) -> y (N, T, O); ``context_hidden.weight`` (H, O); ``net.context`` (N, O).

    ``cr.fit`` trains it running free (its outputs fed back, BPTT through them); for
    teacher forcing write the loop with ``net(x, teacher=targets)``, as examples/19 does.

    Example:
        >>> import chainrule as cr
        >>> net = Jordan(2, 5, 3, decay=0.5, seed=0)
        >>> y, trace = net(cr.ones(1, 3, 2), return_trace=True)
        >>> import numpy as np
        >>> bool(np.allclose(trace.context[:, 2], 0.5 * trace.context[:, 1] + trace.output[:, 1]))
        True
    """

    _feeds_outputs_back = True

    def __init__(self, input_size, hidden_size, output_size, decay=0.0, activation="sigmoid",
                 output_activation="sigmoid", context_init=0.0, return_sequences=True, bptt=None,
                 init="xavier_uniform", seed=None, dtype=None):
        super().__init__()
        self.return_sequences = _check_bool("return_sequences", return_sequences)
        self.context_init = _check_real("context_init", context_init, -1e6, 1e6)
        self.decay = _check_real("decay", decay, 0.0, 1.0)
        if self.decay == 1.0:
            raise ValueError("decay must be below 1 (at 1 the state units sum every output without forgetting), "
                             "got 1.0")
        outputs = check("output_size", output_size, "int>0")
        self._build(input_size, hidden_size, outputs, outputs, activation, output_activation, bptt, init, seed,
                    dtype)

    def _context_size(self):
        return self.output_size

    def _context_start(self):
        return self.context_init

    def _next_context(self, c, h, y, teacher):
        fed = y if teacher is None else teacher
        return fed + c * self.decay if self.decay else fed

    def _config_args(self):
        return {**self._base_args(), "decay": self.decay, "context_init": self.context_init,
                **self._common_args()}
