"""The "jax" backend of :func:`chainrule.compile` (optional extra ``chainrule[jax]``).

The recorded tape is lowered op by op to ``jax.numpy`` (the table
:data:`LOWERINGS`), differentiated by ``jax.value_and_grad`` and followed by the
optimiser's rule written functionally (:data:`UPDATES`, the same formulas as
:mod:`chainrule.optim.rules`), all inside one ``jax.jit``. A call runs one step;
``Compiled.epoch`` runs all full batches of an epoch as one ``lax.scan``, so no
Python runs between steps. Parameters, gradients, optimiser state and step
counts are written back into the chainrule objects after every call, so eager
and compiled steps can be mixed.

Supported steps: forward ops, then ``backward`` of one scalar and one optimiser
step (SGD with momentum/Nesterov/weight decay, Adam, AdamW) with ``zero_grad``
before the backward; or forward ops alone (inference). Anything else raises
one sentence naming what is not supported; use the "numpy" backend for it.
"""

from __future__ import annotations

import numpy as np

from .compile_jax_recurrent import RECURRENT_LOWERINGS
from .tape import NO_EFFECTS, Const, output_slots, result_builder
from ..optim.rules import SGD, Adam, AdamW

__all__ = ["build", "LOWERINGS", "UPDATES"]


def _jax():
    try:
        import jax
        import jax.numpy as jnp
    except ImportError:  # pragma: no cover - depends on the environment
        raise ImportError("compile(backend='jax') needs jax: pip install 'chainrule[jax]'") from None
    return jax, jnp


def _sce(jnp, logits, labels, reduction="mean"):
    z = logits - logits.max(axis=1, keepdims=True)
    per = jnp.log(jnp.exp(z).sum(axis=1)) - jnp.take_along_axis(z, labels[:, None], axis=1)[:, 0]
    return per.mean() if reduction == "mean" else per.sum() if reduction == "sum" else per


def _lse(jnp, x, axis=None, keepdims=False):
    import jax.scipy.special as special

    return special.logsumexp(x, axis=axis, keepdims=keepdims)


def _linear(jnp, x, w, b=None):
    out = x @ w.T
    return out if b is None else out + b


def _conv2d(jnp, x, w, b=None, stride=(1, 1), padding=(0, 0)):
    import jax

    out = jax.lax.conv_general_dilated(x, w, tuple(stride), [(p, p) for p in padding],
                                       dimension_numbers=("NCHW", "OIHW", "NCHW"))
    return out if b is None else out + b[None, :, None, None]


def _max_pool2d(jnp, x, kernel_size, stride):
    import jax

    return jax.lax.reduce_window(x, -jnp.inf, jax.lax.max, (1, 1, *kernel_size), (1, 1, *stride), "VALID")


#: op name -> ``lower(jnp, *inputs, **attrs)``: the op in jax.numpy (attributes as recorded).
LOWERINGS = {
    "add": lambda jnp, a, b: a + b,
    "sub": lambda jnp, a, b: a - b,
    "mul": lambda jnp, a, b: a * b,
    "div": lambda jnp, a, b: a / b,
    "neg": lambda jnp, a: -a,
    "pow_scalar": lambda jnp, a, p: a ** p,
    "exp": lambda jnp, a: jnp.exp(a),
    "log": lambda jnp, a: jnp.log(a),
    "sqrt": lambda jnp, a: jnp.sqrt(a),
    "tanh": lambda jnp, a: jnp.tanh(a),
    "sigmoid": lambda jnp, a: 1 / (1 + jnp.exp(-a)),
    "relu": lambda jnp, a: jnp.maximum(a, 0),
    "matmul": lambda jnp, a, b: a @ b,
    "linear": _linear,
    "sum": lambda jnp, a, axis=None, keepdims=False: a.sum(axis=axis, keepdims=keepdims),
    "mean": lambda jnp, a, axis=None, keepdims=False: a.mean(axis=axis, keepdims=keepdims),
    "reshape": lambda jnp, a, shape: a.reshape(shape),
    "transpose": lambda jnp, a, axes=None: jnp.transpose(a, axes),
    "broadcast_to": lambda jnp, a, shape: jnp.broadcast_to(a, shape),
    "getitem": lambda jnp, a, index: a[index],
    "split": lambda jnp, a: a,
    "split_part": lambda jnp, a, key, index: a[index],
    "stack": lambda jnp, *xs, axis=0: jnp.stack(xs, axis=axis),
    "concatenate": lambda jnp, *xs, axis=0: jnp.concatenate(xs, axis=axis),
    "cast": lambda jnp, a, dtype: a.astype(dtype),
    "softmax_cross_entropy": _sce,
    "logsumexp": _lse,
    "log_softmax": lambda jnp, a, axis=-1: a - _lse(jnp, a, axis=axis, keepdims=True),
    "softmax": lambda jnp, a, axis=-1: jnp.exp(a - _lse(jnp, a, axis=axis, keepdims=True)),
    "conv2d": _conv2d,
    "max_pool2d": _max_pool2d,
    **RECURRENT_LOWERINGS,  # rnn_seq, lstm_seq, gru_seq as lax.scan
}


def _sgd(opt, jnp, p, g, st, lr, t):
    if opt.weight_decay:
        g = g + opt.weight_decay * p
    mu = opt.momentum
    if mu:
        buf = jnp.where(t == 1, g, mu * st["momentum_buffer"] + (1.0 - opt.dampening) * g)
        st = {"momentum_buffer": buf}
        g = g + mu * buf if opt.nesterov else buf
    return p - g * lr, st


def _adam(opt, jnp, p, g, st, lr, t):
    if isinstance(opt, AdamW):
        p = p * (1.0 - lr * opt.weight_decay)
    elif opt.weight_decay:
        g = g + opt.weight_decay * p
    b1, b2 = opt.betas
    m = b1 * st["exp_avg"] + (1.0 - b1) * g
    v = b2 * st["exp_avg_sq"] + (1.0 - b2) * (g * g)
    denom = jnp.sqrt(v) / jnp.sqrt(1.0 - b2 ** t) + opt.eps
    return p - (m / denom) * (lr / (1.0 - b1 ** t)), {"exp_avg": m, "exp_avg_sq": v}


#: optimiser class -> ``update(opt, jnp, param, grad, state, lr, t) -> (param, state)``.
UPDATES = {SGD: _sgd, Adam: _adam, AdamW: _adam}


def _plan(tape):
    """``(root, optimizer)`` of a training tape, ``(None, None)`` for inference; else ValueError."""
    kinds = [ev[0] for ev in tape.events if ev[0] != "zero"]
    if "effect" in kinds:
        raise ValueError(NO_EFFECTS.format("jax"))
    ops = sum(1 for k in kinds if k == "op")
    if kinds == ["op"] * ops:
        return None, None
    if kinds != ["op"] * ops + ["backward", "step"]:
        raise ValueError("compile(backend='jax') supports a forward pass, optionally followed by one backward() "
                         "and one optimizer step; this step does something else (use backend='numpy')")
    back = next(ev for ev in tape.events if ev[0] == "backward")
    first_back = tape.events.index(back)
    if not any(ev[0] == "zero" for ev in tape.events[:first_back]):
        raise ValueError("compile(backend='jax') needs zero_grad() before backward() in the step "
                         "(gradients are not accumulated across steps)")
    if back[2] is not None or tape.shapes[back[1]] != ():
        raise ValueError("compile(backend='jax') differentiates a scalar loss; backward() here has a grad argument "
                         "or a non-scalar output")
    opt = next(ev[1] for ev in tape.events if ev[0] == "step")
    if type(opt) not in UPDATES:
        raise ValueError(f"compile(backend='jax') has no rule for optimizer {type(opt).__name__}; "
                         f"supported: {', '.join(c.__name__ for c in UPDATES)}")
    return back[1], opt


def _lowered(tape, jnp):
    """``run(env) -> env``: every recorded op in jax.numpy, slots filled in order."""
    entries = []
    for e in tape.entries:
        lower = LOWERINGS.get(e.op.name)
        if lower is None:
            raise ValueError(f"compile(backend='jax') cannot lower op '{e.op.name}' yet; use backend='numpy'")
        entries.append((lower, e))

    def run(env):
        for lower, e in entries:
            args = [a.value if isinstance(a, Const) else env[a] for a in e.args]
            attrs = {**e.attrs, **{k: env[s] for k, s in e.slot_attrs.items()}}
            env[e.out] = lower(jnp, *args, **attrs)
        return env

    return run


class JaxStep:
    """A tape as jitted jax functions: ``__call__(args)`` for one step, :meth:`epoch` for a scan."""

    def __init__(self, tape):
        self.jax, self.jnp = jax, jnp = _jax()
        self.tape, (self.root, self.opt) = tape, _plan(tape)
        self.run = _lowered(tape, jnp)
        self.inputs = [(k, i) for i, k in enumerate(tape.inputs) if k is not None]
        leaves = tape.leaves
        self.train = [k for k, t in leaves.items() if t.requires_grad and self.root is not None]
        self.fixed = [k for k in leaves if k not in self.train]
        self.outs = output_slots(tape.output)
        self.result_of = result_builder(tape.output)  # the step's result from {slot: value}, copied
        if self.opt is not None and self.opt.state is None:
            self.opt._allocate()
        index = {id(p): i for i, p in enumerate(self.opt.params)} if self.opt is not None else {}
        self.opt_index = [index.get(id(leaves[k])) for k in self.train]
        self._step = jax.jit(self._step_fn)
        self._scan = jax.jit(self._scan_fn)
        self._infer = jax.jit(self._infer_fn)

    # pure functions ----------------------------------------------------------
    def _env(self, train, fixed, inputs):
        env = dict(zip(self.train, train))
        env.update(zip(self.fixed, fixed))
        env.update(zip([k for k, _ in self.inputs], inputs))
        return self.run(env)

    def _infer_fn(self, fixed, inputs):
        env = self._env((), fixed, inputs)
        return tuple(env[k] for k in self.outs)

    def _loss(self, train, fixed, inputs):
        env = self._env(train, fixed, inputs)
        return env[self.root], tuple(env[k] for k in self.outs)

    def _step_fn(self, train, state, fixed, inputs, lr, t):
        (_, outs), grads = self.jax.value_and_grad(self._loss, has_aux=True)(train, fixed, inputs)
        rule = UPDATES[type(self.opt)]
        new_train, new_state = [], []
        for p, g, st, j in zip(train, grads, state, self.opt_index):
            if j is None:
                new_train.append(p)
                new_state.append(st)
            else:
                p, st = rule(self.opt, self.jnp, p, g, st, lr, t)
                new_train.append(p.astype(g.dtype))
                new_state.append({k: v.astype(g.dtype) for k, v in st.items()})
        return new_train, new_state, grads, outs

    def _scan_fn(self, train, state, fixed, batches, lr, t0):
        # Only the last step's gradients are kept (as .grad), so the scan runs every batch but the last
        # without carrying gradients, and the last batch runs as one more step: carrying them copied
        # every gradient at every step (10 % of an epoch at batch 1).
        def body(carry, inputs):
            train, state, t = carry
            train, state, _, outs = self._step_fn(train, state, fixed, inputs, lr, t)
            return (train, state, t + 1), outs

        head, last = [b[:-1] for b in batches], [b[-1] for b in batches]
        (train, state, t), outs = self.jax.lax.scan(body, (train, state, t0), head)
        train, state, grads, last_outs = self._step_fn(train, state, fixed, last, lr, t)
        outs = self.jax.tree_util.tree_map(lambda a, b: self.jnp.concatenate([a, b[None]]), outs, last_outs)
        return train, state, grads, outs

    # the chainrule side --------------------------------------------------------
    # The jitted functions take the NumPy arrays as they are: jit moves them to the device itself, where
    # a jnp.asarray per array first made each call of a small step ~4x slower (measured on the CPU).
    def _read(self):
        leaves = self.tape.leaves
        train = [leaves[k].data for k in self.train]
        fixed = [leaves[k].data for k in self.fixed]
        names = self.opt._state_names() if self.opt is not None else ()
        state = [{} if j is None else {n: self.opt.state[j][n] for n in names} for j in self.opt_index]
        return train, state, fixed

    def _write(self, train, state, grads, steps):
        leaves = self.tape.leaves
        for k, p, g, st, j in zip(self.train, train, grads, state, self.opt_index):
            np.copyto(leaves[k].data, np.asarray(p))
            leaves[k].grad = np.array(g)
            if j is not None:
                for name, v in st.items():
                    np.copyto(self.opt.state[j][name], np.asarray(v))
                self.opt.state[j]["step"] += steps

    def _hyper(self):
        j = next((j for j in self.opt_index if j is not None), 0)
        dtype = self.tape.dtypes[self.train[0]] if self.train else np.float32
        return np.asarray(self.opt.lr, dtype), np.int32(self.opt.state[j]["step"] + 1)

    def __call__(self, args):
        train, state, fixed = self._read()
        inputs = [np.asarray(args[i].data if hasattr(args[i], "_node") else args[i]) for _, i in self.inputs]
        if self.root is None:
            outs = self._infer(fixed, inputs)
        else:
            lr, t = self._hyper()
            train, state, grads, outs = self._step(train, state, fixed, inputs, lr, t)
            self._write(train, state, grads, 1)
        return self.result_of(dict(zip(self.outs, outs)))

    def epoch(self, batches, tail=None):
        """Run one step per leading index of ``batches`` (a list of stacked inputs) in one scan.

        ``tail``, a pair ``(step, inputs)`` of another JaxStep of the same model (a smaller last
        batch) and its inputs, runs after the scan inside the same jitted call, saving one
        call's dispatch and parameter round trip. Returns the outputs of every step, stacked
        along a new first axis (with a tail: that and the tail's outputs).
        """
        if self.root is None:
            raise ValueError("compile(backend='jax'): epoch() needs a training step (with backward and step)")
        train, state, fixed = self._read()
        lr, t = self._hyper()
        batches = [np.asarray(b) for b in batches]
        fused = self._fused(tail[0]) if tail is not None else None
        if fused is None:
            train, state, grads, outs = self._scan(train, state, fixed, batches, lr, t)
        else:
            train, state, grads, outs, tail_outs = fused(train, state, fixed, batches, [np.asarray(a) for a in tail[1]],
                                                         lr, t)
        self._write(train, state, grads, len(batches[0]) + (fused is not None))
        outs = self.result_of(dict(zip(self.outs, outs)))
        if tail is None:
            return outs
        return outs, None if fused is None else tail[0].result_of(dict(zip(tail[0].outs, tail_outs)))

    def _fused(self, other):
        """One jitted function: this step's scan over all batches, then ``other``'s step; None if they differ.

        ``other`` must train the same tensors with the same optimiser; its slots are in another
        order, so parameters, state and gradients are permuted by tensor identity on the way.
        """
        cache = self.__dict__.setdefault("_fused_steps", {})
        if id(other) in cache:
            return cache[id(other)][1]
        mine, theirs = self.tape.leaves, other.tape.leaves
        train = [id(mine[k]) for k in self.train]
        fixed = [id(mine[k]) for k in self.fixed]
        if (other.opt is not self.opt or sorted(train) != sorted(id(theirs[k]) for k in other.train)
                or sorted(fixed) != sorted(id(theirs[k]) for k in other.fixed)):
            cache[id(other)] = (other, None)
            return None
        to_other = [train.index(id(theirs[k])) for k in other.train]
        fixed_other = [fixed.index(id(theirs[k])) for k in other.fixed]
        back = [to_other.index(i) for i in range(len(train))]

        def fn(train, state, fixed, batches, tail_inputs, lr, t0):
            def body(carry, inputs):
                tr, st, t = carry
                tr, st, _, outs = self._step_fn(tr, st, fixed, inputs, lr, t)
                return (tr, st, t + 1), outs

            (tr, st, t), outs = self.jax.lax.scan(body, (train, state, t0), batches)
            tr, st, grads, tail_outs = other._step_fn([tr[i] for i in to_other], [st[i] for i in to_other],
                                                      [fixed[i] for i in fixed_other], tail_inputs, lr, t)
            return [tr[j] for j in back], [st[j] for j in back], [grads[j] for j in back], outs, tail_outs

        cache[id(other)] = (other, self.jax.jit(fn))  # other is kept alive, so its id stays its own
        return cache[id(other)][1]


def build(tape):
    """A :class:`JaxStep` for ``tape`` (callable on one step's arguments)."""
    return JaxStep(tape)
