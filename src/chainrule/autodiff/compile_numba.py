"""The "numba" backend of :func:`chainrule.compile`: a recorded tape as one generated ``njit`` function.

The numpy backend still makes one NumPy call per array operation, one to three
µs each, which is most of a small step. This backend writes the tape's forward
ops and its backward pass out as the source of a single function of plain loops
and BLAS products (``np.dot`` inside ``njit`` calls the BLAS through SciPy),
compiles it with Numba once (a few seconds, 3-5 s on a slow 2-core machine,
then kept for every tape with the same ops), and calls it once per step. ``zero_grad`` runs as in
eager mode. The update of SGD, Adagrad, RMSProp, Adam and AdamW runs inside the
generated function after the backward pass, as lines that repeat the rule's
NumPy operations element by element (:mod:`.compile_numba_optim`), so it gives
the optimiser's numbers bit for bit; any other optimiser steps itself after the
call. ``Compiled.epoch`` runs an epoch's full batches in one call of a second
generated function that loops over them.

Each op the backend can lower has an entry in :data:`~.compile_numba_ops.LOWERINGS`:
a forward and a VJP that return source lines for the op's slots. A tape with any other op, or
with ops after its ``backward``, is refused with one sentence naming the op (the
numpy backend replays everything). Forward values, softmax probabilities and
gradients live in buffers allocated once, so a replayed step allocates no
NumPy arrays; gradients reach the captured tensors by eager rules (stored when
``.grad`` is None, added otherwise).

Example:
    >>> import numpy as np, chainrule as cr
    >>> from chainrule import nn, optim
    >>> model = nn.Sequential(nn.Linear(3, 4, seed=0), nn.ReLU(), nn.Linear(4, 2, seed=1))
    >>> opt = optim.SGD(model.parameters(), lr=0.1)
    >>> def step(x, y):
    ...     opt.zero_grad(); loss = nn.functional.cross_entropy(model(x), y); loss.backward(); opt.step()
    ...     return loss
    >>> fast = cr.compile(step, backend="numba")                    # doctest: +SKIP
    >>> x, y = np.ones((5, 3), np.float32), np.array([0, 1, 0, 1, 1])
    >>> [round(float(fast(x, y)), 3) for _ in range(3)][-1] < 0.7   # doctest: +SKIP
    True
"""

from __future__ import annotations

import numpy as np

from .compile_numba_ops import LOWERINGS
from .compile_numba_optim import UPDATES, FusedUpdate
from .compile_numpy import _needed, _zero
from .ops.nn import _label_error
from .tape import NO_EFFECTS, Const, result_builder
from .tensor import Tensor

__all__ = ["build", "LOWERINGS", "Unsupported"]


class Unsupported(ValueError):
    """A tape this backend cannot lower (the message names the op and what it would need)."""


# ---------------------------------------------------------------- the generated function
class _Source:
    """Names, buffers and lines of the function generated for one tape."""

    def __init__(self, tape):
        self.tape = tape
        self.live = []        # slots read afresh at every call (inputs, captured tensors), in argument order
        self.fixed = {}       # argument name -> buffer allocated here
        self.vals = {}        # slot -> the buffer holding an op's output (0-d outputs: a view)
        self.grads = {}       # slot -> gradient buffer
        self.errors = []      # status code - 1 -> the entry whose labels were out of range
        self._outs = {e.out for e in tape.entries}

    def v(self, k):
        """The name of slot ``k``'s value."""
        if k in self.vals or k in self.live:
            return f"v{k}"
        e_shape, dtype = self.tape.shapes[k], self.tape.dtypes[k]
        if k in self._outs:
            buf = np.empty(e_shape or (1,), dtype)  # a 0-d value lives in a 1-element array
            self.fixed[f"v{k}"] = buf
            self.vals[k] = buf.reshape(e_shape)
        else:
            self.live.append(k)
        return f"v{k}"

    def g(self, k):
        """The name of slot ``k``'s gradient buffer."""
        if k not in self.grads:
            shape = self.tape.shapes[k] or (1,)
            self.grads[k] = self.fixed[f"g{k}"] = np.zeros(shape, self.tape.dtypes[k])
        return f"g{k}"

    def scratch(self, e, tag, shape=None, dtype=None):
        name = f"s{e.out}_{tag}"
        if name not in self.fixed:
            self.fixed[name] = np.empty(shape, dtype)
        return name

    def status(self, e):
        self.errors.append(e)
        return len(self.errors)

    def source(self, body, scalars=()):
        args = [f"v{k}" for k in self.live] + list(self.fixed) + list(scalars)
        lines = [f"def kernel({', '.join(args)}):"] + ["    " + line for line in body] + ["    return 0"]
        return "\n".join(lines) + "\n"


def _refuse(e, why):
    raise Unsupported(f"compile(backend='numba'): op '{e.op.name}' {why}, which this backend cannot lower "
                      f"(it lowers {', '.join(sorted(LOWERINGS))}); use backend='numpy' for this step")


def _plan(tape):
    """``(source, body lines, leaves to store, event index of the call)`` for ``tape``.

    Raises :class:`Unsupported` for a tape outside what the lowerings handle.
    """
    ops = [i for i, ev in enumerate(tape.events) if ev[0] == "op"]
    backs = [i for i, ev in enumerate(tape.events) if ev[0] == "backward"]
    if any(ev[0] == "effect" for ev in tape.events):
        raise Unsupported(NO_EFFECTS.format("numba"))
    if len(backs) > 1 or (backs and ops and ops[-1] > backs[0]):
        raise Unsupported("compile(backend='numba'): the step must run all its ops, then at most one backward; "
                          "use backend='numpy' for this step")
    if any(ev[0] == "step" and ops and i < ops[-1] for i, ev in enumerate(tape.events)):
        raise Unsupported("compile(backend='numba'): the optimiser steps between the step's ops; "
                          "use backend='numpy' for this step")
    src = _Source(tape)
    for e in tape.entries:
        low = LOWERINGS.get(e.op.name)
        if low is None:
            _refuse(e, "has no Numba lowering")
        why = low.check(e, src)
        if why:
            _refuse(e, why)
    body = []
    for e in tape.entries:
        body += LOWERINGS[e.op.name].forward(e, src)
    leaves = []
    if backs:
        _, root, seed = tape.events[backs[0]]
        if tape.shapes[root] != ():
            raise Unsupported("compile(backend='numba'): backward must start from a scalar loss")
        body_b, leaves = _backward_lines(tape, src, root)
        body += body_b
        src.grads[root][...] = 1 if seed is None else seed  # dL/dL (or backward's own seed), written once
    return src, body, leaves, (backs[0] if backs else (ops[-1] if ops else None))


def _backward_lines(tape, src, root):
    order, _ = _needed(tape, root, len(tape.entries))
    src.g(root)
    written, body = {root}, []
    for e in order:
        for i, (a, n) in enumerate(zip(e.args, e.needs)):
            if n and not isinstance(a, Const):
                body += LOWERINGS[e.op.name].vjp(e, src, i, src.g(a), a in written)
                written.add(a)
    leaves = [(k, t) for k, t in tape.leaves.items() if k in written and t.requires_grad]
    return body, leaves


_COMPILED = {}  # generated source -> its njit function (tapes of one structure share one compilation)


def _compile(text, kernel=None):
    """The njit function ``text`` defines (``kernel`` or ``epoch``); ``kernel``: ``(its text, its njit function)``
    when ``text`` calls it."""
    key = text if kernel is None else (text, kernel[0])
    fn = _COMPILED.get(key)
    if fn is None:
        try:
            import numba
        except ImportError:  # pragma: no cover - depends on the environment
            raise ImportError("compile(backend='numba') needs numba: pip install 'chainrule[numba]'") from None
        from .ops import recurrent_numba as fast   # the float32 exp, sigmoid and tanh (see compile_numba_ops)

        scope = {"np": np, "_exp32": fast.exp, "_sigmoid32": fast.sigmoid, "_tanh32": fast.tanh}
        if kernel is not None:
            scope["kernel"] = kernel[1]
        exec(compile(text, "<chainrule numba kernel>", "exec"), scope)  # noqa: S102 - our own generated code
        # error_model="numpy": a division by zero gives inf or nan, as in NumPy, instead of raising.
        name = "kernel" if kernel is None else "epoch"
        fn = _COMPILED[key] = numba.njit(cache=False, error_model="numpy")(scope[name])
    return fn


def _fused_update(tape, leaves, at, src):
    """A :class:`FusedUpdate` when the step's one optimiser step can run inside the kernel, else None.

    That needs an optimiser of a class in :data:`UPDATES`, stepping after the backward, over parameters
    that a ``zero_grad`` before the ops cleared (so the kernel's gradients are all of ``.grad``), all of
    one dtype. Whether its hyper-parameters still fit the generated lines is decided at every call.
    """
    steps = [(i, ev[1]) for i, ev in enumerate(tape.events) if ev[0] == "step"]
    if len(steps) != 1 or type(steps[0][1]) not in UPDATES or at is None or steps[0][0] < at:
        return None
    opt = steps[0][1]
    zeroed = {id(t) for i, ev in enumerate(tape.events[:at]) if ev[0] == "zero" for t in ev[1]}
    mine = {id(p) for p in opt.params}
    updated = [(k, t) for k, t in leaves if id(t) in mine]
    if not updated or not mine <= zeroed or len({tape.dtypes[k] for k, _ in updated}) != 1:
        return None
    return FusedUpdate(opt, updated, src)


def _output_slots(spec):
    """The slots in a step's output structure, or None when a constant in it is an array (which
    :func:`~.compile._per_step` would split as if it were stacked)."""
    if isinstance(spec, Const):
        return None if isinstance(spec.value, np.ndarray) else []
    if isinstance(spec, (tuple, list, dict)):
        parts = [_output_slots(s) for s in (spec.values() if isinstance(spec, dict) else spec)]
        return None if any(p is None for p in parts) else [k for p in parts for k in p]
    return [spec]


def _epoch_outputs(tape, src, at):
    """The output slots when a whole epoch of ``tape`` can run in one call, else None: the step is the ops
    and ``zero_grad`` (in either order: the ops read no gradient), one backward, then the one optimiser
    step; it takes two array inputs and returns values the kernel computes (and constants)."""
    kinds = [ev[0] for ev in tape.events]
    ops = [i for i, kind in enumerate(kinds) if kind == "op"]
    slots = _output_slots(tape.output)
    back = kinds.index("backward") if "backward" in kinds else -1
    if not (kinds.count("backward") == 1 and kinds.count("step") == 1 and kinds[-1] == "step" and ops
            and all(kind != "zero" or i < back for i, kind in enumerate(kinds)) and at is not None
            and len(tape.inputs) == 2 and all(k is not None and k in src.live for k in tape.inputs)):
        return None
    return list(dict.fromkeys(slots)) if slots and all(k in src.vals for k in slots) else None


def _epoch_text(src, inputs, outputs, update):
    """The source of ``epoch``: the step's generated ``kernel`` once per leading index of the stacked inputs,
    each output written into row ``s`` of its stacked array."""
    stacked = {f"v{k}": f"b{j}" for j, k in enumerate(inputs)}
    rest = [f"v{k}" for k in src.live if f"v{k}" not in stacked] + list(src.fixed) + update.arg_names
    call = [stacked.get(f"v{k}", f"v{k}") + ("[s]" if f"v{k}" in stacked else "") for k in src.live]
    call += list(src.fixed) + update.arg_names + ["upd", "coefs[s]"]
    results = [f"r{j}" for j in range(len(outputs))]
    keep = [f"        r{j}[s] = v{k}" + ("[0]" if src.tape.shapes[k] == () else "") for j, k in enumerate(outputs)]
    return "\n".join([
        f"def epoch({', '.join(list(stacked.values()) + rest + ['upd', 'coefs'] + results)}, failed):",
        "    for s in range(b0.shape[0]):",
        f"        status = kernel({', '.join(call)})",
        "        if status:",
        "            failed[0] = s",
        "            return status", *keep,
        "    return 0"]) + "\n"


def _stack(spec, outs):
    """Outputs of one step each, as the output structure ``spec`` with every slot's values stacked."""
    if isinstance(spec, Const):
        return spec.value
    if isinstance(spec, (tuple, list)):
        return type(spec)(_stack(s, [o[i] for o in outs]) for i, s in enumerate(spec))
    if isinstance(spec, dict):
        return {k: _stack(v, [o[k] for o in outs]) for k, v in spec.items()}
    return np.array(outs)


def _epoch(tape, src, text, kernel, replay, state):
    """``epoch(batches, tail=None)`` for the replay of a training step: the full batches in one call.

    Its result is the step's outputs stacked (with a tail: and None, as the jax backend's epoch returns
    when it cannot fuse the tail); when the optimiser's step cannot run in the kernel at the call,
    each batch is replayed in turn.
    """
    update, store, leaf_slots, vals, outputs = state
    inputs = list(tape.inputs)
    fn = _compile(_epoch_text(src, inputs, outputs, update), (text, kernel))
    zeros = [_zero(ev[1]) for ev in tape.events if ev[0] == "zero"]
    rest = [k for k in src.live if k not in inputs]
    fixed = list(src.fixed.values())
    result_of = result_builder(tape.output)

    def epoch(batches, tail=None):
        stacked = [np.ascontiguousarray(b.data if isinstance(b, Tensor) else b) for b in batches]
        steps = len(stacked[0])
        made = update.arrays(steps)
        if made is None:
            result = _stack(tape.output, [replay([b[i] for b in stacked]) for i in range(steps)])
            return result if tail is None else (result, None)
        for f in zeros:
            f()
        for _, t, buf in store:
            if t.grad is buf:
                t.grad = buf.copy()
        for k, t in leaf_slots:
            vals[k] = np.ascontiguousarray(t.data)
        results = {k: np.empty((steps, *tape.shapes[k]), tape.dtypes[k]) for k in outputs}
        failed = np.zeros(1, np.int64)
        status = fn(*stacked, *[vals[k] for k in rest], *fixed, *made[0], True, made[1], *results.values(), failed)
        if status:
            e, k = src.errors[status - 1], src.errors[status - 1].slot_attrs["labels"]
            raise _label_error(vals[e.args[0]], stacked[inputs.index(k)][failed[0]] if k in inputs else vals[k])
        for _, t, buf in store:
            t.grad = buf if t.grad is None else t.grad + buf
        update.advance(steps)
        result = result_of(results)  # (a copy of each, as a replay's outputs are)
        return result if tail is None else (result, None)

    return epoch


def build(tape):
    """A replay function ``replay(args) -> outputs`` for ``tape``, running its ops and backward in one njit call."""
    src, body, leaves, at = _plan(tape)
    update = _fused_update(tape, leaves, at, src)
    if update is not None:
        body += update.lines
    text = src.source(body, (*update.arg_names, "upd", "coef") if update is not None else ())
    fn = _compile(text)
    store = [(k, t, src.grads[k]) for k, t in leaves]
    live, fixed = list(src.live), list(src.fixed.values())
    vals = [None] * tape.n_slots
    for k, buf in src.vals.items():
        vals[k] = buf

    fused = [False]   # whether this call's kernel made the optimiser's step
    extra = []

    def run():
        for _, t, buf in store:  # an accumulating .grad must not be our buffer, which this call overwrites
            if t.grad is buf:
                t.grad = buf.copy()
        if update is not None:
            made = update.arrays(1)
            fused[0] = made is not None
            extra[:] = update.idle if made is None else [*made[0], True, made[1][0]]
        status = fn(*[vals[k] for k in live], *fixed, *extra)
        if status:
            e = src.errors[status - 1]
            raise _label_error(vals[e.args[0]], vals[e.slot_attrs["labels"]])
        for _, t, buf in store:
            t.grad = buf if t.grad is None else t.grad + buf

    def step():  # the optimiser's bookkeeping for an update the kernel made, else its own step
        if not fused[0]:
            return update.opt.step()
        update.advance(1)

    prog = []
    for i, event in enumerate(tape.events):
        if event[0] == "zero":
            prog.append(_zero(event[1]))
        elif event[0] == "step":
            prog.append(step if update is not None and event[1] is update.opt else event[1].step)
        if i == at:
            prog.append(run)
    inputs = [(k, i) for i, k in enumerate(tape.inputs) if k is not None]
    leaf_slots, result_of = list(tape.leaves.items()), result_builder(tape.output)

    def replay(args):
        for k, i in inputs:
            a = args[i]
            vals[k] = np.ascontiguousarray(a.data if isinstance(a, Tensor) else a)
        for k, t in leaf_slots:
            vals[k] = np.ascontiguousarray(t.data)
        for f in prog:
            f()
        return result_of(vals)

    outputs = _epoch_outputs(tape, src, at) if update is not None else None
    if outputs is not None:
        replay.epoch = _epoch(tape, src, text, fn, replay, (update, store, leaf_slots, vals, outputs))
    replay.source, replay.update = text, update  # the generated function and its update, for inspection
    return replay
