"""The "numpy" backend of :func:`chainrule.compile`: a recorded tape replayed on arrays.

:func:`build` turns a :class:`~chainrule.autodiff.compile.Tape` into a list of
small closures run in order: one per forward op, one per backward node, a few
for seeding and storing gradients, and the optimiser's own ``step`` (already
in place and allocation-free). No Tensor or Node is made.

Ops with an entry in :data:`KERNELS` (the dense-net hot path: ``linear``,
``relu``, ``softmax_cross_entropy``) write their results and gradients into
buffers allocated once, with NumPy's ``out=`` arguments, so a replayed MLP step
allocates no arrays. Every other op runs its registry forward and VJP
unchanged (allocating as in eager mode, but without the graph bookkeeping).

The gradient plan is fixed when the tape is built: which contribution reaches a
slot first (it is written, or stored by reference) and which later ones are
added, whether a captured tensor's gradient can be handed over as is or must be
copied into its own buffer. Gradients that reach captured tensors follow eager
rules: stored when ``.grad`` is None (zero_grad ran), added otherwise.

Example:
    >>> import numpy as np, chainrule as cr
    >>> w = cr.tensor(np.ones((2, 3), np.float32), requires_grad=True)
    >>> def step(x):
    ...     w.zero_grad(); loss = cr.relu(cr.linear(x, w)).sum(); loss.backward(); return loss
    >>> f = cr.compile(step)
    >>> [float(f(np.ones((4, 3), np.float32))) for _ in range(3)]
    [24.0, 24.0, 24.0]
    >>> w.grad
    array([[4., 4., 4.],
           [4., 4., 4.]], dtype=float32)
"""

from __future__ import annotations

import numpy as np

from .tape import Const, output_slots, result_builder
from .engine import unbroadcast
from .ops.elementwise import relu_values, zero_operand
from .ops.nn import _label_error
from .ops.reduce import _MANY_ROWS, _SHORT_AXIS
from .tensor import Tensor

__all__ = ["build", "KERNELS"]

#: op name -> ``builder(entry, vals, shapes, dtypes, spare) -> (forward, vjp) | None``. ``forward()``
#: writes the op's output into its own buffer (``vals[entry.out]``); ``vjp(g, dests)`` writes the
#: gradient of input i into ``dests[i]`` (an array of that input's shape, or None when it is not
#: needed). ``spare`` holds the slots whose buffer nothing reads after this entry (kernel outputs
#: that :func:`_read_once` finds read by one op argument only, see :func:`build`): a builder may
#: write its output there. A builder returns None when the entry's shapes or dtypes are outside
#: what it handles.
KERNELS = {}


def _kernel(name):
    def register(builder):
        KERNELS[name] = builder
        return builder
    return register


def _slots(entry, n):
    """The entry's first ``n`` inputs if they are all slots, else None."""
    args = entry.args
    if len(args) != n or any(isinstance(a, Const) for a in args):
        return None
    return args


@_kernel("linear")
def _linear(e, vals, shapes, dtypes, spare):
    args = _slots(e, 3) or _slots(e, 2)
    if args is None or len(shapes[args[0]]) != 2 or any(dtypes[a] != e.dtype for a in args):
        return None
    x, w = args[0], args[1]
    b = args[2] if len(args) == 3 else None
    out = vals[e.out] = np.empty(e.shape, e.dtype)

    # np.dot (straight to BLAS) costs less per call than np.matmul and, with out=, allocates nothing.
    def forward():
        np.dot(vals[x], vals[w].T, out=out)
        if b is not None:
            np.add(out, vals[b], out=out)

    def vjp(g, dests):
        if dests[0] is not None:
            np.dot(g, vals[w], out=dests[0])
        if dests[1] is not None:
            np.dot(g.T, vals[x], out=dests[1])
        if b is not None and dests[2] is not None:
            np.add.reduce(g, axis=0, out=dests[2])

    return forward, vjp


@_kernel("relu")
def _relu(e, vals, shapes, dtypes, spare):
    args = _slots(e, 1)
    if args is None or dtypes[args[0]] != e.dtype:
        return None
    x = args[0]
    # In place when nothing else reads the input (a linear layer's output: its own VJP does not),
    # as the hand-written step does: one activation buffer per layer instead of two.
    out = vals[e.out] = vals[x] if x in spare else np.empty(e.shape, e.dtype)
    mask = np.empty(e.shape, bool)
    # Against an array of zeros, not the scalar 0: NumPy's SIMD path, the same bits (see relu_values).
    zero = zero_operand(tuple(e.shape), np.dtype(e.dtype))

    def forward():
        if zero is None:
            relu_values(vals[x], out=out)
        else:
            np.maximum(vals[x], zero, out=out)

    def vjp(g, dests):
        # The eager rule g * (out > 0), so a NaN output passes no gradient here either. A bool
        # mask is ~1.6x faster than np.sign(out) as a float mask at 256 x 128.
        np.greater(out, 0, out=mask)
        np.multiply(g, mask, out=dests[0])  # (element-wise: dests[0] may be g itself)

    # In place, the input's gradient may also take the output gradient's buffer (see _node_step).
    return (forward, vjp, 0) if x in spare else (forward, vjp)


@_kernel("softmax_cross_entropy")
def _sce(e, vals, shapes, dtypes, spare):
    args = _slots(e, 1)
    labels = e.slot_attrs.get("labels")
    reduction = e.attrs.get("reduction", "mean")
    if args is None or labels is None or reduction not in ("mean", "sum") or len(shapes[args[0]]) != 2:
        return None
    x = args[0]
    n, c = shapes[x]
    dt = dtypes[x]
    col, z, p = np.empty((n, 1), dt), np.empty((n, c), dt), np.empty((n, c), dt)
    flat, picked, row_start = np.empty(n, np.intp), np.empty(n, dt), np.arange(n, dtype=np.intp) * c
    out = vals[e.out] = np.empty((), dt)
    mean = reduction == "mean"
    unsigned = dtypes[labels].str.replace("i", "u")
    # The max over a short class axis is taken from a transposed copy (see ops.reduce.reduce_last).
    moved = np.empty((c, n), dt) if c <= _SHORT_AXIS and n >= _MANY_ROWS else None
    z_flat, col0 = z.reshape(-1), col[:, 0]  # views made once: a view costs a few hundred ns a call

    def row_max(a):
        if moved is None:
            np.maximum.reduce(a, axis=1, keepdims=True, out=col)
        else:
            np.copyto(moved, a.T)
            np.maximum.reduce(moved, axis=0, out=col0)

    def forward():
        logits, y = vals[x], vals[labels]
        # One reduction checks both bounds: viewed as unsigned, a negative label is huge. (The
        # labels' dtype and shape are part of the tape's key, valid when it was recorded.)
        if n and np.maximum.reduce(y.view(unsigned)) >= c:  # (ufunc methods: no Python wrappers per call)
            raise _label_error(logits, y)
        row_max(logits)
        np.subtract(logits, col, out=z)
        np.exp(z, out=p)
        np.add.reduce(p, axis=1, keepdims=True, out=col)
        np.add(row_start, y, out=flat)
        np.take(z_flat, flat, out=picked)
        np.divide(p, col, out=p)  # softmax probabilities, kept for the gradient
        np.log(col, out=col)
        np.subtract(col0, picked, out=picked)
        total = np.add.reduce(picked)
        out[()] = total / n if mean else total

    def vjp(g, dests):
        d = dests[0]
        np.copyto(d, p)
        d.reshape(-1)[flat] -= 1  # (ufunc.at would allocate a 6 KB buffer; this, n numbers)
        np.multiply(d, g / n if mean else g, out=d)

    return forward, vjp


def _generic_forward(e, vals, ctxs):
    fwd, args, static, o = e.op.forward, e.args, e.attrs, e.out
    dynamic = tuple(e.slot_attrs.items())

    def forward():
        attrs = {**static, **{k: vals[s] for k, s in dynamic}} if dynamic else static
        out, ctxs[o] = fwd(*[a.value if type(a) is Const else vals[a] for a in args], **attrs)
        vals[o] = out if type(out) is np.ndarray else np.asarray(out)

    return forward


class _Homes:
    """The captured tensors' gradient buffers: views of one flat array per dtype, so an update can run
    on all the gradients of a dtype as one array; ``scaled`` is the SGD step's scratch of the same size.

    One step's tapes (one per batch shape) capture the same tensors, so they share one ``_Homes``
    (see :func:`build`'s ``shared``): a smaller last batch costs no second set of gradient buffers,
    and a ``.grad`` left by one tape is recognised as a buffer by the others.
    """

    def __init__(self, shapes, dtypes):
        sizes = {}
        for shape, dt in zip(shapes, dtypes):
            sizes[dt] = sizes.get(dt, 0) + int(np.prod(shape, dtype=np.int64))
        self.flat = {dt: np.empty(n, dt) for dt, n in sizes.items()}
        self.views, self.starts, self.scaled = [], [], {}
        start = dict.fromkeys(sizes, 0)
        for shape, dt in zip(shapes, dtypes):
            n = int(np.prod(shape, dtype=np.int64))
            self.views.append(self.flat[dt][start[dt]:start[dt] + n].reshape(shape))
            self.starts.append(start[dt])
            start[dt] += n

    @staticmethod
    def shared(tape, leaves, shared):
        """The ``_Homes`` of ``leaves`` (slot, tensor) from ``shared`` (a dict kept by the caller), made if new."""
        shapes, dtypes = [tape.shapes[k] for k, _ in leaves], [np.dtype(tape.dtypes[k]) for k, _ in leaves]
        key = tuple((id(t), tuple(sh), dt) for (_, t), sh, dt in zip(leaves, shapes, dtypes))
        homes = shared.get(key)
        if homes is None:
            homes = shared[key] = _Homes(shapes, dtypes)
        return homes


class _Grads:
    """The backward plan's state: one gradient per slot, and which slots own a reusable buffer.

    ``homes`` maps each captured tensor's slot to its gradient buffer (a :class:`_Homes` view).
    """

    def __init__(self, tape, leaves, shared):
        self.tape = tape
        self.g = [None] * tape.n_slots
        self.owned = set()  # slots whose gradient buffer is ours, so later contributions add in place
        self.planned = set()
        self.store = _Homes.shared(tape, leaves, shared)
        self.flat = self.store.flat
        self.homes = {k: v for (k, _), v in zip(leaves, self.store.views)}
        self.starts = {k: i for (k, _), i in zip(leaves, self.store.starts)}
        self.by_tensor = {id(t): (self.homes[k], self.starts[k]) for k, t in leaves}  # for the optimiser's step

    def buffer(self, k):
        return np.empty(self.tape.shapes[k], self.tape.dtypes[k])

    def home(self, k):
        """Slot ``k``'s own gradient buffer: its view of the flat array if it is a captured tensor's."""
        h = self.homes.get(k)
        return self.buffer(k) if h is None else h

    def share(self, k, o):
        """Slot ``k``'s gradient buffer is slot ``o``'s, if ``o`` owns one that only the VJP about to
        write ``k``'s reads, and ``k`` gets no other contribution (an element-wise in-place op)."""
        if o not in self.owned or k in self.planned:
            return None
        self.planned.add(k)
        self.owned.add(k)
        self.g[k] = self.g[o]
        return self.g[k]

    def contribute(self, k, kernel):
        """``(dest, finish)`` for one contribution to slot ``k``: where a kernel writes, and what follows.

        Generic contributions pass ``dest=None``; ``finish(gi)`` stores or adds ``gi``.
        """
        grads, shape, dtype = self.g, self.tape.shapes[k], self.tape.dtypes[k]
        first = k not in self.planned
        self.planned.add(k)
        if kernel and first:
            grads[k] = self.home(k)
            self.owned.add(k)
            return grads[k], None
        owned = k in self.owned
        dest = self.buffer(k) if kernel else None

        def finish(gi):
            if gi.shape != shape:
                gi = unbroadcast(gi, shape)
            if gi.dtype != dtype:
                gi = gi.astype(dtype)
            if first:
                grads[k] = gi
            elif owned:
                np.add(grads[k], gi, out=grads[k])
            else:
                grads[k] = grads[k] + gi

        return dest, finish


def _needed(tape, root, upto):
    """Entries on a gradient path to ``root`` (newest first) and the slots that need gradients."""
    need, order = {root}, []
    for e in reversed(tape.entries[:upto]):
        if e.out in need and e.needs is not None:
            order.append(e)
            need.update(a for a, n in zip(e.args, e.needs) if n and not isinstance(a, Const))
    return order, need


def _backward(tape, root, seed, upto, vals, ctxs, kernels, shared):
    """Closures for one ``backward`` event (seed, one per node, store into captured tensors) and its
    :class:`_Grads`, whose ``homes`` hold the captured tensors' gradients after it."""
    order, need = _needed(tape, root, upto)
    seed = np.ones(tape.shapes[root], tape.dtypes[root]) if seed is None else seed.astype(tape.dtypes[root])
    leaves = [(k, t) for k, t in tape.leaves.items() if k in need and t.requires_grad]
    grads = _Grads(tape, leaves, shared)
    grads.planned.add(root)
    prog = [lambda: grads.g.__setitem__(root, seed)]
    for e in order:
        prog.append(_node_step(e, grads, vals, ctxs, kernels.get(e.out)))
    store = [(k, t, grads.g[k] if k in grads.owned else grads.home(k)) for k, t in leaves]

    def protect():  # an accumulating .grad must not be our buffer, which this pass overwrites
        for _, t, buf in store:
            if t.grad is buf:
                t.grad = buf.copy()

    def finish():
        g = grads.g
        for k, t, buf in store:
            if t.grad is None:
                if g[k] is not buf:
                    np.copyto(buf, g[k])
                t.grad = buf
            else:
                t.grad = t.grad + g[k]

    return [protect, *prog, finish], grads


def _node_step(e, grads, vals, ctxs, kernel):
    o, needs = e.out, e.needs
    wanted = [i for i, (a, n) in enumerate(zip(e.args, needs)) if n and not isinstance(a, Const)]
    if kernel is not None:
        vjp = kernel[1]
        in_place = kernel[2] if len(kernel) > 2 else None  # that input's gradient may reuse o's buffer
        buf = grads.share(e.args[in_place], o) if in_place in wanted else None
        plan = [(i, buf, None) if i == in_place and buf is not None else (i, *grads.contribute(e.args[i], True))
                for i in wanted]
        dests = [None] * len(e.args)
        for i, dest, _ in plan:
            dests[i] = dest
        later = [(dest, fin) for _, dest, fin in plan if fin is not None]

        def step():
            vjp(grads.g[o], dests)
            for dest, fin in later:
                fin(dest)

        return step
    op_vjp = e.op.vjp
    plan = [(i, grads.contribute(e.args[i], False)[1]) for i in wanted]

    def generic_step():
        gis = op_vjp(grads.g[o], ctxs[o], needs)
        ctxs[o] = None  # what the VJP needed is released now, as eager backward does
        for i, fin in plan:
            if gis[i] is not None:
                fin(gis[i])

    return generic_step


def _optimizer_step(opt, grads):
    """The optimiser's step; for plain SGD on gradients that all sit in one flat array, one
    multiply over that array and one in-place subtract per parameter (the bits of ``SGD.step``)."""
    from ..optim.optimizer import FLAT_TOTAL  # the optimisers import the engine, so not at module level
    from ..optim.rules import SGD

    homes = grads.by_tensor if grads is not None else {}
    flats = grads.flat if grads is not None else {}
    if type(opt) is not SGD or len(flats) != 1 or not any(id(p) in homes for p in opt.params) \
            or next(iter(flats.values())).size > FLAT_TOTAL:  # large nets: the step's own small scratch, no copy of G
        return opt.step
    G = next(iter(flats.values()))
    T = grads.store.scaled.get(G.dtype)
    if T is None:  # shared by the step's tapes, like G
        T = grads.store.scaled[G.dtype] = np.empty_like(G)
    placed = [homes.get(id(p), (None, 0)) for p in opt.params]
    pairs = [(p, home) for p, (home, _) in zip(opt.params, placed)]
    # Each parameter's slice of lr * G, where its gradient sits in G.
    scaled = [None if h is None else T[i:i + h.size].reshape(h.shape) for h, i in placed]
    n = len(pairs)

    def sgd_step():
        params, state = opt.params, opt.state
        if opt.momentum or opt.weight_decay or state is None or len(params) != n:
            return opt.step()
        for p, (q, home) in zip(params, pairs):
            if p is not q or p.grad is not home:  # a gradient from elsewhere (no zero_grad before backward)
                return opt.step()
        np.multiply(G, opt.lr, out=T)
        for (p, home), st, t in zip(pairs, state, scaled):
            if home is not None:
                st["step"] += 1
                p.data -= t

    return sgd_step


def _effect(event, vals):
    _, apply, target, refs, params = event

    def effect():
        apply(target, *[r.value if type(r) is Const else vals[r] for r in refs], **params)

    return effect


def _zero(tensors):
    def zero():
        for t in tensors:
            t.grad = None
    return zero


def _read_once(tape):
    """Slots that exactly one op argument reads and nothing else does (no other op, attribute, output,
    ``backward`` root or side effect)."""
    reads = {}

    def note(slot):
        if not isinstance(slot, Const):
            reads[slot] = reads.get(slot, 0) + 1

    for e in tape.entries:
        for a in (*e.args, *e.slot_attrs.values()):
            note(a)
    kept = [*output_slots(tape.output)]  # read outside the ops: never spare
    for event in tape.events:
        if event[0] == "backward":
            kept.append(event[1])
        elif event[0] == "effect":
            kept.extend(r for r in event[3] if not isinstance(r, Const))
    return {k for k, n in reads.items() if n == 1}.difference(kept)


#: Ops whose kernel's VJP does not read the op's own output, so a later op may overwrite it in place.
_OUTPUT_UNREAD = frozenset({"linear"})


def build(tape, shared=None):
    """A replay function ``replay(args) -> outputs`` for ``tape``.

    ``shared``: a dict the caller keeps for all the tapes of one step (one per batch shape); their
    gradient buffers for the same captured tensors are then one set (see :class:`_Homes`).
    """
    shared = {} if shared is None else shared
    vals, ctxs, kernels, prog, grads = [None] * tape.n_slots, {}, {}, [], None
    once, spare = _read_once(tape), set()  # spare: kernel outputs that only their one reader needs
    for i, event in enumerate(tape.events):
        kind = event[0]
        if kind == "op":
            e = event[1]
            builder = KERNELS.get(e.op.name)
            made = builder(e, vals, tape.shapes, tape.dtypes, spare) if builder is not None else None
            if made is not None:
                kernels[e.out] = made
                if e.op.name in _OUTPUT_UNREAD and e.out in once:
                    spare.add(e.out)
            prog.append(made[0] if made is not None else _generic_forward(e, vals, ctxs))
        elif kind == "backward":
            upto = sum(1 for ev in tape.events[:i] if ev[0] == "op")
            steps, grads = _backward(tape, event[1], event[2], upto, vals, ctxs, kernels, shared)
            prog.extend(steps)
        elif kind == "zero":
            prog.append(_zero(event[1]))
        elif kind == "effect":
            prog.append(_effect(event, vals))
        else:
            prog.append(_optimizer_step(event[1], grads))
    inputs = [(k, i) for i, k in enumerate(tape.inputs) if k is not None]
    leaves, outputs = list(tape.leaves.items()), result_builder(tape.output)

    def replay(args):
        for k, i in inputs:
            a = args[i]
            vals[k] = a.data if isinstance(a, Tensor) else a
        for k, t in leaves:
            vals[k] = t.data
        for f in prog:
            f()
        return outputs(vals)

    replay.program = prog  # the closures in order, for inspection
    replay.buffers = vals  # each slot's array (kernel outputs: their buffers), for inspection
    return replay
