"""Compiled steps: record what a training (or inference) step does once, then replay it.

``step = cr.compile(train_step)`` runs ``train_step`` eagerly on its first calls
while a recorder notes every registry op (with its inputs as *slots*: the
step's arguments, the tensors it captures such as parameters, and the results
of earlier ops), every ``backward``, every ``zero_grad`` and every optimiser
step. Later calls with inputs of the same shapes and dtypes replay that tape
through a backend, without creating Tensors or graph Nodes:

* ``"numpy"`` (default): the registry's kernels on arrays, with preallocated
  ``out=`` buffers for the hot ops (linear, relu, softmax cross-entropy), the
  parameters' gradients in one flat array per dtype (shared by the step's tapes for
  each batch shape), and the optimiser's own
  in-place update (plain SGD as one multiply over that array) (:mod:`.compile_numpy`);
* ``"jax"`` (optional extra ``chainrule[jax]``): the tape lowered to
  ``jax.numpy`` inside ``jit``; :meth:`Compiled.epoch` runs a whole epoch's
  batches as one ``lax.scan`` (:mod:`.compile_jax`);
* ``"numba"`` (optional extra ``chainrule[numba]``): the tape's ops and backward
  pass written out as one function of loops and BLAS products and compiled by
  Numba's ``njit``, called once per step (dense nets: linear, relu, tanh,
  sigmoid, softmax cross-entropy, the mean squared error's element-wise ops
  and totals; :mod:`.compile_numba`), with the optimiser's update inside it
  (:mod:`.compile_numba_optim`); :meth:`Compiled.epoch` runs a whole epoch's
  full batches in one call.

Guards. A tape is kept per *key*: the shapes and dtypes of the arguments, the
grad mode and the train/eval flags of the ``model`` given to :func:`compile`;
a new key records afresh (so a smaller last batch gets its own tape). Each key
is recorded twice before it is replayed: if the two recordings differ (control
flow or an array constant that depends on the data), compiling fails with one
sentence saying where. Branching on a tensor's value (``if loss > 1:``) while
recording raises at once. If the parameters' arrays are replaced (not updated
in place), the key records again. Random ops (dropout) draw fresh numbers at
every replay from the same generator, so a replay gives exactly the eager run.

What is not replayed: Python side effects of the step other than chainrule
ops, ``backward``, ``zero_grad``, ``Optimizer.step`` and updates made through
:func:`~chainrule.autodiff.tape.side_effect` (batch norm's running statistics and
its batch count use it; the numpy backend replays them, the others refuse such a
step) happen only while recording: printing, counters, learning-rate changes made
*inside* the step.
Gradients of the captured tensors are written into buffers that every replay
reuses; returned tensors come back as NumPy arrays (copies).

Example:
    >>> import numpy as np
    >>> import chainrule as cr
    >>> from chainrule import nn, optim
    >>> model = nn.Sequential(nn.Linear(4, 8, seed=0), nn.ReLU(), nn.Linear(8, 3, seed=1))
    >>> opt = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    >>> def train_step(x, y):
    ...     opt.zero_grad()
    ...     loss = nn.functional.cross_entropy(model(x), y)
    ...     loss.backward()
    ...     opt.step()
    ...     return loss
    >>> step = cr.compile(train_step)
    >>> x, y = np.ones((5, 4), np.float32), np.array([0, 1, 2, 0, 1])
    >>> losses = [float(step(x, y)) for _ in range(20)]
    >>> losses[-1] < losses[0]
    True
"""

from __future__ import annotations

import numpy as np

from .._core import Registry
from .engine import GRAD_MODE
from .tape import Const, Tape, record
from .tensor import Tensor

__all__ = ["compile", "Compiled", "BACKENDS", "Tape"]

#: Backends by name: each entry is ``build(tape) -> replay(args) -> outputs``, plus an optional
#: ``epoch`` attribute for whole-epoch execution.
BACKENDS = Registry("compile backend")

_RECORDINGS_BEFORE_REPLAY = 2


# ---------------------------------------------------------------- guards
def _same(a, b):
    if a is b:
        return True
    if isinstance(a, np.random.Generator) and isinstance(b, np.random.Generator):
        return True  # a fresh-entropy generator per call: the replay keeps drawing from the first
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return isinstance(a, np.ndarray) and isinstance(b, np.ndarray) and a.shape == b.shape \
            and a.dtype == b.dtype and np.array_equal(a, b)
    if isinstance(a, (tuple, list)) and isinstance(b, (tuple, list)):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    try:
        return bool(a == b) and type(a) is type(b)
    except (TypeError, ValueError):
        return False


def _ref_same(a, b):
    return (isinstance(a, Const) and isinstance(b, Const) and _same(a.value, b.value)) or (
        not isinstance(a, Const) and a == b)


def _event_diff(i, ea, eb):
    """None if two recorded events agree, else a phrase saying how they differ."""
    if ea[0] != eb[0]:
        return f"event {i} is {ea[0]!r} in one call and {eb[0]!r} in the other"
    if ea[0] == "op":
        a, b = ea[1], eb[1]
        if a.op is not b.op:
            return f"op {i} is '{a.op.name}' in one call and '{b.op.name}' in the other"
        if len(a.args) != len(b.args) or not all(_ref_same(x, y) for x, y in zip(a.args, b.args)):
            return f"op {i} ('{a.op.name}') gets different inputs or constants (a NumPy value computed from the data?)"
        if a.slot_attrs != b.slot_attrs or a.attrs.keys() != b.attrs.keys() or not all(
                _same(a.attrs[k], b.attrs[k]) for k in a.attrs):
            return f"op {i} ('{a.op.name}') gets different attributes"
        if a.shape != b.shape or a.dtype != b.dtype or a.needs != b.needs:
            return f"op {i} ('{a.op.name}') gives a different shape, dtype or gradient need"
        return None
    if ea[0] == "backward":
        return None if ea[1] == eb[1] and _same(ea[2], eb[2]) else f"backward {i} starts elsewhere"
    if ea[0] == "effect":
        same = ea[1] is eb[1] and ea[2] is eb[2] and len(ea[3]) == len(eb[3]) and all(
            _ref_same(x, y) for x, y in zip(ea[3], eb[3])) and ea[4].keys() == eb[4].keys() and all(
            _same(ea[4][k], eb[4][k]) for k in ea[4])
        return None if same else f"event {i} (an in-place update such as batch norm's statistics) differs"
    same = all(x is y for x, y in zip(ea[1], eb[1])) and len(ea[1]) == len(eb[1]) if ea[0] == "zero" \
        else ea[1] is eb[1]
    return None if same else f"event {i} ({ea[0]}) acts on different objects"


def check_same(a, b):
    """Raise ``ValueError`` if two recordings of one step differ; the tape is then not replayable."""
    diff = None
    if len(a.events) != len(b.events):
        diff = f"one call recorded {len(a.events)} events and the other {len(b.events)}"
    for i, (ea, eb) in enumerate(zip(a.events, b.events)):
        diff = diff or _event_diff(i, ea, eb)
    if diff is None and (a.leaves.keys() != b.leaves.keys() or any(a.leaves[k] is not b.leaves[k] for k in a.leaves)):
        diff = "the captured tensors differ"
    if diff is None and not _same_output(a.output, b.output):
        diff = "the returned values differ in structure"
    if diff:
        raise ValueError(f"compile: two calls of the step with the same input shapes did different things ({diff}); "
                         "its control flow or constants depend on the data, so it cannot be replayed")


def _same_output(a, b):
    if isinstance(a, Const) or isinstance(b, Const):
        return isinstance(a, Const) and isinstance(b, Const) and _same(a.value, b.value)
    if isinstance(a, (tuple, list, dict)):
        return type(a) is type(b) and len(a) == len(b) and all(
            _same_output(a[k], b[k]) for k in (a if isinstance(a, dict) else range(len(a))))
    return a == b


def _arg_key(a):
    if isinstance(a, Tensor):
        a = a.data
    if isinstance(a, np.ndarray):
        return (a.shape, a.dtype)  # (the dtype itself: hashable, and cheaper to read than its .str)
    try:
        hash(a)
    except TypeError:
        raise TypeError(f"compile: arguments must be arrays, Tensors or hashable constants, got "
                        f"{type(a).__name__}") from None
    return ("const", type(a).__name__, a)


class _Modes:
    """The train/eval flags of a model's modules, recomputed only when one of them may have changed."""

    def __init__(self, model):
        self.model, self._seen, self._key = model, None, ()

    def key(self):
        model = self.model
        if model is None:
            return ()
        changes = type(model).mode_changes
        if changes != self._seen:
            self._seen, self._key = changes, tuple(m.training for m in model.modules())
        return self._key


class _Slot:
    """One key's state: its recordings so far, then its replay function and the tape it replays.

    ``recheck`` set: the next call records once more and compares (see :meth:`Compiled.recheck`).
    """

    __slots__ = ("tapes", "replay", "leaf_arrays", "tape", "recheck")

    def __init__(self):
        self.tapes, self.replay, self.leaf_arrays, self.tape, self.recheck = [], None, (), None, False


def _live(slot):
    """Whether ``slot``'s replay may run now: built, not due for a recheck, captured arrays unchanged."""
    return slot.replay is not None and not slot.recheck and all(t.data is d for t, d in slot.leaf_arrays)


class Compiled:
    """A step function compiled by :func:`compile`; call it like the original.

    Attributes:
        backend: the backend's name.
        stats: ``{"recordings": n, "replays": n, "keys": n}`` so far.
        eager_reason: with ``fallback``, None while the step is compiled; else the sentence
            saying why every later call runs the step eagerly.
    """

    def __init__(self, fn, backend="numpy", model=None, fallback=False):
        if not callable(fn):
            raise TypeError(f"compile: expected a callable step, got {type(fn).__name__}")
        self.fn, self.backend, self._build = fn, backend, BACKENDS[backend]
        self._modes = _Modes(model)
        self._slots, self._shared = {}, {}  # _shared: what a backend's replays of this step may share
        self.stats = {"recordings": 0, "replays": 0, "keys": 0}
        self.fallback, self.eager_reason = bool(fallback), None

    def recheck(self):
        """Make each key's next call record the step once more and compare it with the replayed tape.

        Equal: replays go on (that call ran eagerly). Different (a constant the step reads changed,
        such as a dropout rate set between epochs): the key records afresh.
        """
        for slot in self._slots.values():
            slot.recheck = slot.replay is not None

    def _slot(self, args):
        key = (tuple([_arg_key(a) for a in args]), GRAD_MODE.enabled, self._modes.key())
        slot = self._slots.get(key)
        if slot is None:
            slot = self._slots[key] = _Slot()
            self.stats["keys"] += 1
        return slot

    def __call__(self, *args, **kwargs):
        if kwargs:
            raise TypeError("compile: pass the step's inputs positionally (keyword arguments are not part of the key)")
        if self.eager_reason is not None:
            return self.fn(*args)
        slot = self._slot(args)
        if _live(slot):
            self.stats["replays"] += 1
            return slot.replay(args)
        if slot.replay is not None and not slot.recheck:  # a captured tensor's array was replaced: stale buffers
            slot.tapes, slot.replay = [], None
            self._shared.clear()  # (replays built already keep theirs)
        try:
            tape, result = record(self.fn, args, kwargs)
        except Exception as exc:
            if not self.fallback:
                raise
            # Recording stopped part-way (a branch on a tensor's value, say): run the step eagerly now
            # and from now on; an error of the step itself is raised again by that run.
            self._give_up(exc)
            return self.fn(*args)
        self.stats["recordings"] += 1
        try:
            self._compare(slot, tape)
        except ValueError as exc:
            if not self.fallback:
                raise
            self._give_up(exc)  # the step ran eagerly while it was recorded: its result stands
        return result

    def _compare(self, slot, tape):
        """Check a new recording against the key's last one (or its replayed tape) and build when two agree."""
        if slot.recheck:
            slot.recheck = False
            try:
                check_same(slot.tape, tape)
            except ValueError:  # something the step reads changed: record this key afresh
                slot.tapes, slot.replay = [tape], None
            return
        if slot.tapes:
            check_same(slot.tapes[-1], tape)
        slot.tapes.append(tape)
        if len(slot.tapes) >= _RECORDINGS_BEFORE_REPLAY:
            slot.replay = self._build(tape, self._shared)
            slot.leaf_arrays = tuple((t, t.data) for t in tape.leaves.values())
            slot.tapes, slot.tape = [], tape

    def _give_up(self, exc):
        self.eager_reason = f"the step runs eagerly: {exc}"
        self._slots.clear()
        self._shared.clear()

    def epoch(self, X, Y, batch_size, order=None):
        """Run the step ``step(X[b], Y[b])`` on every batch b of one epoch; returns the outputs per batch.

        Batches are ``order[i:i + batch_size]`` (or consecutive rows when ``order`` is None).
        With the "jax" backend the full batches run as one ``lax.scan`` once their tape is
        recorded; otherwise, and for a smaller last batch, the step is called batch by batch
        (once the full batches' replay is ready, it is called directly, without a key lookup
        per batch).

        Example:
            >>> import numpy as np, chainrule as cr
            >>> from chainrule import nn, optim
            >>> model = nn.Sequential(nn.Linear(3, 2, seed=0)); opt = optim.SGD(model.parameters(), lr=0.1)
            >>> def step(x, y):
            ...     opt.zero_grad(); loss = nn.functional.cross_entropy(model(x), y); loss.backward(); opt.step()
            ...     return loss
            >>> compiled = cr.compile(step, model=model)
            >>> X, Y = np.ones((10, 3), np.float32), np.arange(10) % 2
            >>> [len(compiled.epoch(X, Y, 4)) for _ in range(3)], compiled.stats["replays"]
            ([3, 3, 3], 5)
        """
        n = len(X) if order is None else len(order)  # an order may pick a subset of the rows
        full = n - n % batch_size
        outs, start = [], 0
        probe = True  # until a full batch's replay is ready: whether it can run the rest as one scan
        while start < n:
            stop = min(start + batch_size, n)
            idx = slice(start, stop) if order is None else order[start:stop]
            xb, yb = X[idx], Y[idx]
            if probe and stop <= full:
                slot = self._ready_slot(xb, yb)
                scan = None if slot is None else getattr(slot.replay, "epoch", None)
                if scan is not None and full - start > batch_size:
                    done, start = self._scan_from(scan, X, Y, batch_size, order, start, full, n)
                    outs.extend(done)
                    continue
                if slot is not None:  # no scan: the full batches step by step, all through this key's replay
                    probe = False
                    done, start = self._replay_from(slot, X, Y, batch_size, order, start, full)
                    outs.extend(done)
                    continue
            outs.append(self(xb, yb))
            start = stop
        return outs

    def _replay_from(self, slot, X, Y, batch_size, order, start, full):
        """The full batches from ``start`` by ``slot``'s replay, called directly: ``(outputs, where the
        epoch goes on)``.

        Every full batch has the same key (shapes, dtypes, grad mode, train/eval flags: nothing but
        the replay runs in between), so it is looked up once, not per batch (a few µs a step). Only
        a captured array being replaced can end a replay's validity here; the loop then hands the
        rest back to ``__call__``.
        """
        replay, leaves, outs = slot.replay, slot.leaf_arrays, []
        while start < full and all(t.data is d for t, d in leaves):
            idx = slice(start, start + batch_size) if order is None else order[start:start + batch_size]
            outs.append(replay((X[idx], Y[idx])))
            start += batch_size
        self.stats["replays"] += len(outs)
        return outs, start

    def _scan_from(self, scan, X, Y, batch_size, order, start, full, n):
        """The full batches from ``start`` as one scan, with the smaller last batch in the same call when
        both tapes are ready: ``(outputs per batch, where the epoch goes on)``."""
        rows = slice(start, full) if order is None else order[start:full]
        steps = (full - start) // batch_size
        xb, yb = (np.ascontiguousarray(a[rows]).reshape(steps, batch_size, *a.shape[1:]) for a in (X, Y))
        tail = slice(full, n) if order is None else order[full:n]
        last_args = [X[tail], Y[tail]]
        last = self._ready(*last_args) if full < n else None
        if last is None or not hasattr(last, "epoch"):
            return _per_step(scan([xb, yb]), steps), full
        stacked, last_out = scan([xb, yb], tail=(last, last_args))
        if last_out is None:  # the two tapes could not share one call
            return _per_step(stacked, steps), full
        return _per_step(stacked, steps) + [last_out], n

    def _ready(self, *args):
        """The replay function for ``args``' key if it is recorded and still valid, else None."""
        slot = self._ready_slot(*args)
        return None if slot is None else slot.replay

    def _ready_slot(self, *args):
        """The slot of ``args``' key if its replay is recorded and still valid, else None."""
        if self.eager_reason is not None:
            return None
        slot = self._slot(args)
        return slot if _live(slot) else None

    def __repr__(self):
        return f"Compiled({getattr(self.fn, '__name__', 'step')}, backend={self.backend!r})"


def _per_step(value, steps):
    """Split outputs stacked along a first axis of length ``steps`` into one output per step."""
    if isinstance(value, (tuple, list)):
        parts = [_per_step(v, steps) for v in value]
        return [type(value)(p[i] for p in parts) for i in range(steps)]
    if isinstance(value, dict):
        parts = {k: _per_step(v, steps) for k, v in value.items()}
        return [{k: p[i] for k, p in parts.items()} for i in range(steps)]
    if isinstance(value, np.ndarray) and value.ndim and len(value) == steps:
        return list(value)
    return [value] * steps


def compile(fn=None, *, backend="numpy", model=None):  # noqa: A001 - the name users expect
    """Compile a step function: record it once per input shape, then replay it without Tensors.

    Args:
        fn: ``step(*arrays) -> Tensor | tuple | None``, e.g. zero_grad, forward, loss,
            backward and optimiser step; or a no_grad forward for inference.
        backend: a :data:`BACKENDS` name: "numpy" (default), "jax" (needs jax) or "numba" (needs numba).
        model: the Module the step uses; its train/eval flags become part of the key,
            so ``model.eval()`` switches to a separately recorded tape.

    Returns:
        a :class:`Compiled` callable (``compile(backend=...)`` without ``fn`` gives a decorator).

    Example:
        >>> import numpy as np, chainrule as cr
        >>> w = cr.tensor([1.0, 2.0], requires_grad=True)
        >>> f = cr.compile(lambda x: (w * x).sum())
        >>> [float(f(np.array([1.0, 1.0], np.float32))) for _ in range(3)]
        [3.0, 3.0, 3.0]
    """
    if fn is None:
        return lambda f: Compiled(f, backend, model)
    return Compiled(fn, backend, model)


def _numpy_backend(tape, shared=None):
    from .compile_numpy import build

    return build(tape, shared)


def _jax_backend(tape, shared=None):
    from .compile_jax import build  # jax is imported only here

    return build(tape)


def _numba_backend(tape, shared=None):
    from .compile_numba import build  # numba is imported only when a kernel is first compiled

    return build(tape)


BACKENDS["numpy"] = _numpy_backend
BACKENDS["jax"] = _jax_backend
BACKENDS["numba"] = _numba_backend
