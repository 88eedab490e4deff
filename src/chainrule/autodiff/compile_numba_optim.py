"""The optimiser updates that the "numba" compile backend runs inside its generated function.

:data:`UPDATES` has one entry per optimiser class whose update the backend writes out:
``optim.SGD`` (with momentum, dampening, Nesterov and weight decay), ``optim.Adagrad``,
``optim.RMSProp`` (centred or not, with or without momentum), ``optim.Adam`` and
``optim.AdamW``. An entry gives the lines that update one element and, in Python, the step's
scalars exactly as the rule's own ``step`` computes them (Python floats, then rounded to the
parameters' dtype, as NumPy rounds a Python float against a float32 array). Each line does one
of the rule's NumPy operations on one element, in the same order and dtype, so an update inside
the kernel gives the optimiser's numbers bit for bit. Any other rule (a subclass included) is
stepped by the optimiser itself after the kernel's backward pass.

In the lines, ``pw``, ``pg`` and ``ps0``, ``ps1``, ``ps2`` are one parameter's flat value,
gradient and state arrays (in the order of the rule's state names), ``q`` the element, ``pu``
and ``pd`` temporaries, and ``k0``, ``k1``, ... the step's scalars.

Example:
    >>> from chainrule import optim
    >>> import chainrule as cr
    >>> opt = optim.Adam([cr.zeros(2, requires_grad=True)], lr=0.1)
    >>> [round(row[6], 4) for row in UPDATES[optim.Adam].scalars(opt, [1, 2])]   # lr / (1 - 0.9^t)
    [1.0, 0.5263]
"""

from __future__ import annotations

import math

import numpy as np

from ..optim.rules import SGD, Adagrad, Adam, AdamW, RMSProp

__all__ = ["UPDATES"]


#: The most state arrays a rule keeps (RMSProp, centred with momentum).
MAX_STATES = 3


class _Update:
    """One rule's update: ``states(opt)`` (its state arrays' names), ``scalars(opt, steps)`` (one tuple of
    Python floats per step count, the counts after the step) and ``lines(names)`` (the element update, for the
    state arrays ``names``)."""

    __slots__ = ("states", "scalars", "lines")

    def __init__(self, states, scalars, lines):
        self.states, self.scalars, self.lines = states, scalars, lines

    def ready(self, opt, names):
        """True when ``opt``'s hyper-parameters need exactly the state arrays ``names`` the lines were written for."""
        return self.states(opt) == names


def _rows(constants, per_step, steps):
    """One tuple of Python floats per step count: the constants, then each function of the step count."""
    return [(*constants, *(f(t) for f in per_step)) for t in steps]


def _sgd_states(opt):
    return ("momentum_buffer",) if opt.momentum else ()


def _sgd_scalars(opt, steps):
    # k0 lr, k1 momentum, k2 1 - dampening, k3 weight decay, k4 Nesterov, k5 first step (the buffer starts as g)
    return _rows((opt.lr, opt.momentum, 1.0 - opt.dampening, opt.weight_decay, float(opt.nesterov)),
                 (lambda t: float(t == 1),), steps)


_SGD_LINES = [
    "pu = pg[q]",
    "if k3 != 0:",                      # coupled weight decay: (w * wd) + g
    "    pu = pw[q] * k3 + pu",
    "if k1 != 0:",
    "    if k5 != 0:",
    "        ps0[q] = pu",
    "    else:",
    "        ps0[q] = ps0[q] * k1 + pu * k2",
    "    if k4 != 0:",
    "        pu = ps0[q] * k1 + pu",
    "    else:",
    "        pu = ps0[q]",
    "pw[q] -= pu * k0",
]


def _adam_states(opt):
    return ("exp_avg", "exp_avg_sq")


def _adam_scalars(opt, steps):
    # k0 b1, k1 1 - b1, k2 b2, k3 1 - b2, k4 eps, k5 coupled weight decay, k6 lr / (1 - b1^t), k7 sqrt(1 - b2^t)
    b1, b2 = opt.betas
    lr = opt.lr
    return _rows((b1, 1.0 - b1, b2, 1.0 - b2, opt.eps, opt.weight_decay),
                 (lambda t: lr / (1.0 - b1**t), lambda t: math.sqrt(1.0 - b2**t)), steps)


def _adamw_scalars(opt, steps):
    # as Adam's, with no coupled decay, and k8 the decoupled factor 1 - lr wd (k9 1 when there is one)
    wd = opt.weight_decay
    extra = (1.0 - opt.lr * wd, float(wd != 0))
    return [row[:5] + (0.0,) + row[6:] + extra for row in _adam_scalars(opt, steps)]


_ADAM_LINES = [
    "pu = pg[q]",
    "if k5 != 0:",
    "    pu = pw[q] * k5 + pu",
    "ps0[q] = ps0[q] * k0 + pu * k1",
    "ps1[q] = ps1[q] * k2 + (pu * pu) * k3",
    "pw[q] -= (ps0[q] / (np.sqrt(ps1[q]) / k7 + k4)) * k6",
]


def _adagrad_scalars(opt, steps):
    # k0 eps, k1 coupled weight decay, k2 lr / (1 + (t - 1) lr_decay)
    lr, decay = opt.lr, opt.lr_decay
    return _rows((opt.eps, opt.weight_decay), (lambda t: lr / (1.0 + (t - 1) * decay),), steps)


_ADAGRAD_LINES = [
    "pu = pg[q]",
    "if k1 != 0:",
    "    pu = pw[q] * k1 + pu",
    "ps0[q] = ps0[q] + pu * pu",
    "pw[q] -= (pu / (np.sqrt(ps0[q]) + k0)) * k2",
]


_RMSPROP_STATES = ("square_avg", "grad_avg", "momentum_buffer")


def _rmsprop_states(opt):
    return ("square_avg",) + (("grad_avg",) if opt.centered else ()) + (("momentum_buffer",) if opt.momentum else ())


def _rmsprop_scalars(opt, steps):
    # k0 lr, k1 alpha, k2 1 - alpha, k3 eps, k4 coupled weight decay, k5 momentum
    return _rows((opt.lr, opt.alpha, 1.0 - opt.alpha, opt.eps, opt.weight_decay, opt.momentum), (), steps)


def _rmsprop_lines(names):
    """The lines for the state arrays that the options (centred, momentum) give."""
    sq, avg, buf = (f"ps{names.index(n)}" if n in names else None for n in _RMSPROP_STATES)
    lines = ["pu = pg[q]", "if k4 != 0:", "    pu = pw[q] * k4 + pu", f"{sq}[q] = {sq}[q] * k1 + (pu * pu) * k2"]
    if avg:
        lines += [f"{avg}[q] = {avg}[q] * k1 + pu * k2", f"pd = pu / (np.sqrt({sq}[q] - {avg}[q] * {avg}[q]) + k3)"]
    else:
        lines += [f"pd = pu / (np.sqrt({sq}[q]) + k3)"]
    if buf:
        return lines + [f"{buf}[q] = {buf}[q] * k5 + pd", f"pw[q] -= {buf}[q] * k0"]
    return lines + ["pw[q] -= pd * k0"]


def _fixed(lines):
    return lambda names: lines


#: optimiser class (exactly; a subclass may change the rule) -> its update inside the kernel.
UPDATES = {
    SGD: _Update(_sgd_states, _sgd_scalars, _fixed(_SGD_LINES)),
    Adagrad: _Update(lambda opt: ("sum",), _adagrad_scalars, _fixed(_ADAGRAD_LINES)),
    RMSProp: _Update(_rmsprop_states, _rmsprop_scalars, _rmsprop_lines),
    Adam: _Update(_adam_states, _adam_scalars, _fixed(_ADAM_LINES)),
    AdamW: _Update(_adam_states, _adamw_scalars, _fixed(["if k9 != 0:", "    pw[q] = pw[q] * k8"] + _ADAM_LINES)),
}


def _writable(a):
    return a.flags.c_contiguous and a.flags.writeable


class FusedUpdate:
    """The one optimiser step of a tape, run inside its kernel after the backward pass.

    Args:
        opt: the optimiser (its class is in :data:`UPDATES`).
        updated: ``[(slot, tensor)]``, the parameters it updates, all of one dtype.
        source: the generated function's names and buffers (``compile_numba._Source``).
    """

    def __init__(self, opt, updated, source):
        self.opt, self.rule = opt, UPDATES[type(opt)]
        self.slots, self.params = [k for k, _ in updated], [t for _, t in updated]
        where = {id(p): i for i, p in enumerate(opt.params)}
        self.indices = [where[id(t)] for t in self.params]
        self.names = self.rule.states(opt)   # the state arrays the lines are written for
        self.dtype = source.tape.dtypes[self.slots[0]].type
        self.width = len(self.rule.scalars(opt, [1])[0])
        self.arg_names = [f"o{j}_{i}" for j in range(len(self.slots)) for i in range(len(self.names))]
        # Arguments of a call whose update the optimiser makes itself: of the types of the real ones.
        grads = [source.grads[k] for k in self.slots for _ in self.names]
        self.idle = [*grads, False, np.zeros((len(self.slots), self.width), self.dtype)]
        self.lines = self._lines(source)
        self._checked = []   # the parameter and state arrays last found writable, C-contiguous and of the dtype

    def _lines(self, source):
        lines = ["if upd:"]
        for j, k in enumerate(self.slots):
            w, g = source.v(k), source.g(k)
            states = [f"o{j}_{i}" for i in range(len(self.names))]
            states += [w] * (MAX_STATES - len(states))  # stand-ins the lines never reach (see ready) but Numba types
            lines += [f"    pw, pg = {w}.reshape({w}.size), {g}.reshape({g}.size)"]
            lines += [f"    ps{i} = {a}.reshape({a}.size)" for i, a in enumerate(states)]
            lines += [f"    k{c} = coef[{j}, {c}]" for c in range(self.width)]
            lines += ["    for q in range(pw.size):"] + ["        " + line for line in self.rule.lines(self.names)]
        return lines

    def arrays(self, steps):
        """``(state arrays, scalars of shape (steps, parameters, n))`` for the next ``steps`` steps, or None
        when the optimiser's hyper-parameters or arrays are no longer those the lines were written for."""
        opt = self.opt
        if not self.rule.ready(opt, self.names):
            return None
        if opt.state is None:
            opt._allocate()
        states = [opt.state[i][name] for i in self.indices for name in self.names]
        arrays = [t.data for t in self.params] + states
        if len(arrays) != len(self._checked) or any(a is not b for a, b in zip(arrays, self._checked)):
            # Arrays are checked when they are new (a step on the hot path re-checks nothing).
            if not all(_writable(a) and a.dtype == self.dtype for a in arrays):
                return None
            self._checked = arrays
        firsts = [opt.state[i]["step"] for i in self.indices]
        made = {t0: self.rule.scalars(opt, range(t0 + 1, t0 + 1 + steps)) for t0 in set(firsts)}
        # One conversion of Python floats to the dtype for the whole table (a few µs a call, on the hot path).
        return states, np.array([[made[t0][s] for t0 in firsts] for s in range(steps)], self.dtype)

    def advance(self, steps):
        """Count ``steps`` steps of every parameter the kernel updated, as the optimiser's own step would."""
        for i in self.indices:
            self.opt.state[i]["step"] += steps
