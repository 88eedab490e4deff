"""Recording a step as a tape: what :func:`chainrule.compile` replays.

While a step runs under :func:`record`, the engine reports every registry op,
``backward``, ``zero_grad`` and optimiser step to a :class:`Recorder`, which
names every array by a *slot*: an argument of the step, a tensor the step
captures (a parameter), or the result of an earlier op. The :class:`Tape` it
builds is what the compile backends replay.

Example:
    >>> import numpy as np, chainrule as cr
    >>> w = cr.tensor([2.0], requires_grad=True)
    >>> tape, result = record(lambda x: (w * x).sum(), (np.ones(1, np.float32),), {})
    >>> [ev[0] for ev in tape.events], [e.op.name for e in tape.entries]
    (['op', 'op'], ['mul', 'sum'])
"""

from __future__ import annotations

import numpy as np

from .engine import GRAD_MODE
from .tensor import Tensor

__all__ = ["Const", "Entry", "Tape", "Recorder", "record", "side_effect", "output_slots", "result_builder"]

#: What a backend that cannot replay :func:`side_effect` events says (format with its name).
NO_EFFECTS = ("compile(backend='{}') cannot replay in-place updates of arrays that are not parameters (batch norm's "
              "running statistics); use backend='numpy' for this step")


class Const:
    """A value the tape holds as is (a Python number, a constant array, None)."""

    __slots__ = ("value",)

    def __init__(self, value):
        self.value = value

    def __repr__(self):
        return f"Const({type(self.value).__name__})"


def output_slots(spec):
    """The slots in a tape's ``output`` spec (nested tuples, lists and dicts of slots and Consts), in order.

    Example:
        >>> output_slots((3, Const(None), {"a": 5, "b": [7]}))
        [3, 5, 7]
    """
    if isinstance(spec, Const) or spec is None:
        return []
    if isinstance(spec, (tuple, list)):
        return [k for s in spec for k in output_slots(s)]
    if isinstance(spec, dict):
        return [k for s in spec.values() for k in output_slots(s)]
    return [spec]


def result_builder(spec):
    """``result(values)``: a step's result rebuilt from its slots' values as the ``output`` spec describes.

    Every backend builds it once per tape, not per call (walking the spec cost about 2 µs a step, a
    tenth of a batch-1 step's bookkeeping). ``values`` is indexed by slot (a list or a dict); each
    slot's value is copied into a new array, since a replay overwrites its buffers.

    Example:
        >>> build = result_builder((0, Const("tag"), {"b": [1]}))
        >>> build([np.ones(1), np.zeros(2)])
        (array([1.]), 'tag', {'b': [array([0., 0.])]})
    """
    if isinstance(spec, Const):
        value = spec.value
        return lambda values: value
    if isinstance(spec, (tuple, list, dict)):
        keys = list(spec) if isinstance(spec, dict) else None
        parts = [result_builder(s) for s in (spec.values() if keys is not None else spec)]
        if keys is not None:
            return lambda values: {k: f(values) for k, f in zip(keys, parts)}
        kind = type(spec)
        if kind is tuple:
            return lambda values: tuple([f(values) for f in parts])
        return lambda values: kind([f(values) for f in parts])
    return lambda values: np.array(values[spec])


class Entry:
    """One recorded op: inputs and array-valued attributes as slots, the output's slot and facts."""

    __slots__ = ("op", "args", "attrs", "slot_attrs", "out", "needs", "shape", "dtype")

    def __init__(self, op, args, attrs, slot_attrs, out, needs, shape, dtype):
        self.op, self.args, self.attrs, self.slot_attrs = op, args, attrs, slot_attrs
        self.out, self.needs, self.shape, self.dtype = out, needs, shape, dtype


class Tape:
    """What one call of a step did, with every array named by a slot number.

    ``events`` lists, in order, ``("op", entry)``, ``("backward", root_slot, seed)``,
    ``("zero", tensors)``, ``("step", optimizer)`` and ``("effect", apply, target, refs, params)``
    (see :func:`side_effect`); ``leaves`` maps slots to the captured
    tensors (read live at each replay), ``inputs`` gives the slot of each argument.
    """

    def __init__(self):
        self.events, self.entries, self.leaves = [], [], {}
        self.inputs, self.shapes, self.dtypes = [], [], []
        self.output = None

    @property
    def n_slots(self):
        return len(self.shapes)


class Recorder:
    """Receives the engine's reports while the step runs eagerly, and builds a :class:`Tape`."""

    def __init__(self, args):
        self.tape = Tape()
        self._slot_of = {}
        self._keep = []  # keeps every slotted object alive, so ids stay unique while recording
        for i, a in enumerate(args):
            if isinstance(a, Tensor) and a.requires_grad:
                raise ValueError(f"compile: argument {i} requires grad; a compiled step differentiates with "
                                 "respect to the tensors it captures (parameters), so pass inputs as arrays")
            self.tape.inputs.append(self._new(a.data if isinstance(a, Tensor) else a, a) if _is_array(a) else None)

    def _new(self, arr, obj):
        k = self.tape.n_slots
        self.tape.shapes.append(np.shape(arr))
        self.tape.dtypes.append(np.asarray(arr).dtype if not isinstance(arr, np.ndarray) else arr.dtype)
        self._slot_of[id(obj)] = k
        if obj is not arr:
            self._slot_of[id(arr)] = k
        self._keep.append((obj, arr))
        return k

    def _ref(self, a):
        """The slot of ``a``, a new leaf slot for a captured tensor, or a Const."""
        k = self._slot_of.get(id(a))
        if k is not None:
            return k
        if isinstance(a, Tensor):
            k = None if a.requires_grad else self._slot_of.get(id(a.data))
            if k is not None:  # a constant Tensor wrapping an input or an earlier result (no copy)
                return k
            if a._node is not None:
                raise ValueError(f"compile: the step uses a tensor made by '{a._node.op.name}' before the step was "
                                 "called; compute it inside the step, or pass it as an argument or detach() it")
            k = self._new(a.data, a)
            self.tape.leaves[k] = a
            return k
        return Const(a)

    # reports from the engine -------------------------------------------
    def on_op(self, op, args, attrs, out):
        refs = tuple(self._ref(a) for a in args)
        static, dynamic = {}, {}
        for name, value in attrs.items():
            k = self._slot_of.get(id(value)) if isinstance(value, np.ndarray) else None
            (static.__setitem__(name, value) if k is None else dynamic.__setitem__(name, k))
        node = out._node
        entry = Entry(op, refs, static, dynamic, self._new(out.data, out), None if node is None else node.needs,
                      out.data.shape, out.data.dtype)
        self.tape.entries.append(entry)
        self.tape.events.append(("op", entry))

    def on_backward(self, root, seed):
        k = self._slot_of.get(id(root))
        if k is None or k in self.tape.leaves:
            raise ValueError("compile: backward() is called on a tensor that the step did not compute")
        self.tape.events.append(("backward", k, None if seed is None else np.array(seed)))

    def on_zero(self, tensors):
        self.tape.events.append(("zero", tuple(tensors)))

    def on_step(self, optimizer):
        self.tape.events.append(("step", optimizer))

    def on_effect(self, apply, target, values, params):
        self.tape.events.append(("effect", apply, target, tuple(self._ref(v) for v in values), params))

    def on_branch(self, what="branches on a tensor's value (bool(tensor))"):
        raise ValueError(f"compile: the step {what} while it is recorded, so a replay would reuse what it "
                         "saw then; decide outside the step or run it eagerly")

    def finish(self, result):
        self.tape.output = self._out(result)
        return self.tape

    def _out(self, r):
        if isinstance(r, (tuple, list)):
            return type(r)(self._out(v) for v in r)
        if isinstance(r, dict):
            return {k: self._out(v) for k, v in r.items()}
        k = self._slot_of.get(id(r)) if isinstance(r, (Tensor, np.ndarray)) else None
        return Const(r) if k is None else k


def side_effect(apply, target, *values, **params):
    """Run ``apply(target, *arrays, **params)`` now, and at every replay of a step being recorded.

    For in-place updates of arrays that are not parameters, such as batch norm's running
    statistics: a compiled step replays ops, not Python code, so an update made in plain NumPy
    would happen only while the step is recorded. ``values`` are Tensors (or arrays) whose
    values ``apply`` reads; ``params`` are constants (numbers), compared between recordings.

    Example:
        >>> import numpy as np, chainrule as cr
        >>> count = np.zeros((), np.int64)
        >>> def bump(target): target += 1
        >>> w = cr.tensor([2.0, 3.0])
        >>> def step(x):
        ...     side_effect(bump, count)
        ...     return (w * x).sum()
        >>> f = cr.compile(step)
        >>> for _ in range(4): _ = f(np.ones(2, np.float32))
        >>> int(count), f.stats["replays"]
        (4, 2)
    """
    apply(target, *[v.data if isinstance(v, Tensor) else v for v in values], **params)
    if GRAD_MODE.recorder is not None:
        GRAD_MODE.recorder.on_effect(apply, target, values, params)


def _is_array(a):
    return isinstance(a, (Tensor, np.ndarray))


def record(fn, args, kwargs):
    """Run ``fn(*args, **kwargs)`` eagerly while recording it; returns ``(tape, result)``."""
    if GRAD_MODE.recorder is not None:
        raise RuntimeError("compile: a compiled step cannot be called while another one is being recorded")
    rec = Recorder(args)
    GRAD_MODE.recorder = rec
    try:
        result = fn(*args, **kwargs)
    finally:
        GRAD_MODE.recorder = None
    return rec.finish(result), result
