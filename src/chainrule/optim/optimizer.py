"""The optimiser base class: parameter list, zero_grad, step, state preallocation, state dicts.

A subclass declares its hyper-parameters (``HYPER``) and per-parameter state
arrays (``_state_names``) and writes one method, ``_update(p, g, st)``, that
changes the parameter array ``p`` in place from its gradient ``g``. State
arrays and small scratch buffers are allocated on the first step, so later
steps allocate no arrays: every update uses NumPy ``out=`` and in-place
operators.

A rule whose ``_update`` is marked :func:`elementwise` (every built-in one) updates its
small parameters together: their gradients are copied into one array and the rule runs
once on it, so a net of many small layers pays a rule's dozen NumPy calls once per step,
not once per parameter (Adam on a 64-128-64-10 MLP: 26 calls instead of 78). The
numbers are the same bits as one parameter at a time.

Example:
    >>> import chainrule as cr
    >>> from chainrule import optim
    >>> w = cr.tensor([1.0, -2.0], requires_grad=True)
    >>> opt = optim.SGD([w], lr=0.1)
    >>> (w * w).sum().backward()
    >>> opt.step()
    >>> w.data
    array([ 0.8, -1.6], dtype=float32)
"""

from __future__ import annotations

import math

import numpy as np

from .._core import ArgumentError, Registry, check, is_real, short_repr
from ..autodiff.engine import GRAD_MODE
from ..autodiff.tensor import Tensor

__all__ = ["Optimizer", "OPTIMIZERS", "elementwise"]

OPTIMIZERS = Registry("optimizer")

#: Parameters larger than this many elements are updated in slices of this size, which keeps
#: the scratch buffers small (256 KB in float32) without measurable cost: a slice is large
#: enough that the per-call overhead of the NumPy operations is negligible.
CHUNK = 1 << 16

#: At most this many elements of small parameters are updated as one array (1 MB in float32).
FLAT_TOTAL = 1 << 18


def elementwise(update):
    """Mark a rule's ``_update`` (or ``_l2``) as element-wise, so it may run on small parameters concatenated.

    The promise: each output entry depends only on the same entry of the parameter, gradient
    and state; the parameter changes by one final in-place ``p -= delta``; before that the rule
    reads ``p`` only through ``_l2`` (whose weight decay makes the step gather the parameters).
    A subclass that overrides a marked method is unmarked until it marks its own.

    Example:
        >>> import numpy as np, chainrule as cr
        >>> class SignSGD(Optimizer):
        ...     @elementwise
        ...     def _update(self, p, g, st):
        ...         p -= self.lr * np.sign(g)
        >>> ws = [cr.tensor([1.0, 2.0], requires_grad=True), cr.tensor([3.0], requires_grad=True)]
        >>> opt = SignSGD(ws, lr=0.5)
        >>> ws[0].grad, ws[1].grad = np.array([2.0, -3.0], np.float32), np.array([0.1], np.float32)
        >>> opt.step(); [w.data.tolist() for w in ws], len(opt._groups)
        ([[0.5, 2.5], [2.5]], 1)
    """
    update.elementwise = True
    return update


class _Group:
    """Small parameters of one dtype updated as one array: their places in it and its state."""

    __slots__ = ("indices", "spans", "shapes", "dtype", "total", "state", "part", "views")

    def __init__(self, indices, params, dtype):
        self.indices, self.dtype, self.spans, self.shapes, pos = indices, dtype, [], [], 0
        for i in indices:
            self.spans.append((pos, pos + params[i].size))
            self.shapes.append(params[i].shape)
            pos += params[i].size
        self.total, self.state, self.part, self.views = pos, {}, {}, []

    def bind(self, flat):
        """Use ``flat`` (parameters or step, gradients, a temporary) as the group's work arrays.

        A second temporary, for weight decay, is made by ``_l2`` on the first step that needs it
        and kept in ``part``.
        """
        P, G, tmp = (a[: self.total] for a in flat)
        self.part = {"P": P, "G": G, "_tmp": tmp, **self.state}
        # Per parameter: (its slice of P, of G), shaped like it, so a step reshapes nothing.
        self.views = [(P[lo:hi].reshape(shape), G[lo:hi].reshape(shape)) for (lo, hi), shape in zip(self.spans, self.shapes)]


_PARAMS = "params must be an iterable of Tensors or a Module"


def _param_list(params):
    """The parameters as a list, read once (a generator can be passed), each a distinct float Tensor."""
    if isinstance(params, Tensor):  # iterating one gives its rows: new Tensors, not the parameter
        raise ArgumentError(f"{_PARAMS}, got a single Tensor of shape {params.shape}; pass [tensor]")
    if hasattr(params, "parameters") and callable(params.parameters):
        params = params.parameters()
    if isinstance(params, (str, bytes, dict)) or not hasattr(params, "__iter__"):
        # a dict would give its keys (torch-style parameter groups are not supported)
        raise ArgumentError(f"{_PARAMS}, got {short_repr(params)}")
    params = list(params)
    if not params:
        raise ValueError("the optimizer got an empty parameter list")
    seen = set()
    for i, p in enumerate(params):
        if not isinstance(p, Tensor) or p.dtype.kind != "f":
            got = f"a Tensor of dtype {p.dtype}" if isinstance(p, Tensor) else type(p).__name__
            raise ArgumentError(f"parameter {i} must be a floating-point Tensor, got {got}")
        if id(p) in seen:
            raise ValueError(f"parameter {i} appears more than once in the parameter list")
        seen.add(id(p))
    return params


def check_step_lr(opt):
    """``opt.lr``, checked when a step uses it: a schedule or user code may have set it since ``__init__``.

    0 is allowed (a warm-up's first step, a cosine schedule's last, a frozen run); a negative rate
    would climb the loss and nan would make every weight nan.
    """
    lr = opt.lr
    if type(lr) is float and 0.0 <= lr < math.inf:  # the usual case, without the generic check's isinstance calls
        return lr
    try:
        return check("lr", lr, ">=0")
    except ValueError:  # ArgumentError is one too
        kind = ValueError if is_real(lr) else ArgumentError
    raise kind(f"lr must be >= 0 when {type(opt).__name__} steps, got {short_repr(lr)}; it was changed after the "
               "optimizer was built (by a schedule or by hand)")


def check_grad_shape(i, g, p):
    """Refuse a gradient that does not broadcast to its parameter (one that does is applied broadcast)."""
    try:
        ok = np.broadcast_shapes(g.shape, p.shape) == p.shape
    except ValueError:
        ok = False
    if not ok:
        raise ValueError(f"parameter {i} has shape {p.shape}, but its gradient has shape {g.shape}, "
                         "which does not broadcast to it")


class Optimizer:
    """Base class: owns the parameters, clears gradients, and applies ``_update`` to each.

    Args:
        params: an iterable of Tensors (usually ``model.parameters()``) or a Module.
        lr: learning rate (> 0); schedules change ``optimizer.lr`` between steps.
    """

    HYPER = ("lr",)

    def __init__(self, params, lr):
        self.params = _param_list(params)
        self.lr = check("lr", lr, ">0")
        self.state = None

    # the per-rule part ---------------------------------------------------
    def _state_names(self):
        """Names of the per-parameter state arrays this rule keeps (given its hyper-parameters)."""
        return ()

    def _state_fill(self, name):
        """Initial value of state array ``name``."""
        return 0.0

    def _update(self, p, g, st):
        raise NotImplementedError

    # shared machinery ----------------------------------------------------
    def zero_grad(self):
        """Drop every parameter's gradient (cheaper than filling zeros: backward writes a fresh one)."""
        for p in self.params:
            p.grad = None
        if GRAD_MODE.recorder is not None:  # a compiled step replays this zero_grad
            GRAD_MODE.recorder.on_zero(self.params)

    def _allocate(self):
        sizes = {}
        for p in self.params:
            sizes[p.dtype] = max(sizes.get(p.dtype, 0), min(p.size, CHUNK))
        # Scratch buffers per dtype, shared by all parameters (temporaries never outlive
        # _update) and at most CHUNK long; a second one only for weight decay, which needs
        # g + wd * w apart.
        n_scratch = 2 if getattr(self, "weight_decay", 0) else 1
        scratch = {dt: [np.empty(n, dt) for _ in range(n_scratch)] for dt, n in sizes.items()}
        self._groups = self._plan_groups()
        grouped = {i for grp in self._groups for i in grp.indices}
        self._solo = [i for i in range(len(self.params)) if i not in grouped]
        for grp in self._groups:  # a group's state is one array per name; its parameters' state are views
            grp.state = {name: np.full(grp.total, self._state_fill(name), grp.dtype) for name in self._state_names()}
        self.state, self._names = [], self._state_names()
        for i, p in enumerate(self.params):
            fits = p.size <= CHUNK  # larger parameters are updated a slice at a time
            bufs = [b[: p.size].reshape(p.shape) if fits else b for b in scratch[p.dtype]]
            st = {"step": 0, "_tmp": bufs[0]}
            if n_scratch == 2:
                st["_tmp2"] = bufs[1]
            if i not in grouped:
                for name in self._state_names():
                    st[name] = np.full(p.shape, self._state_fill(name), dtype=p.dtype)
            self.state.append(st)
        self._link_groups()

    def _ensure_state(self):
        """Allocate the state on the first step, and later add the arrays of a hyper-parameter switched
        on since (momentum set after some steps), filled as at the start, so the rule carries on from there."""
        if self.state is None:
            self._allocate()
            return
        names = self._state_names()
        if names == getattr(self, "_names", names):
            return
        for grp in self._groups:
            for name in names:
                if name not in grp.state:
                    grp.state[name] = np.full(grp.total, self._state_fill(name), grp.dtype)
        for i in self._solo:
            p, st = self.params[i], self.state[i]
            for name in names:
                if name not in st:
                    st[name] = np.full(p.shape, self._state_fill(name), dtype=p.dtype)
        self._link_groups()
        self._names = names

    def _link_groups(self):
        """Make each grouped parameter's state arrays views of its group's, and drop the work arrays
        (the first grouped step makes them: plain SGD's own loop never needs them)."""
        for grp in self._groups:
            grp.part, grp.views = {}, []
            for i, (lo, hi), shape in zip(grp.indices, grp.spans, grp.shapes):
                for name, flat in grp.state.items():
                    self.state[i][name] = flat[lo:hi].reshape(shape)
        self._flat = {}

    def _bind(self, grp):
        """Give ``grp`` its work arrays: three per dtype, shared by the groups, as long as the longest."""
        flat = self._flat.get(grp.dtype)
        if flat is None:
            n = max(g.total for g in self._groups if g.dtype == grp.dtype)
            flat = self._flat[grp.dtype] = [np.empty(n, grp.dtype) for _ in range(3)]
        grp.bind(flat)

    def __getstate__(self):
        """For ``copy.deepcopy`` and pickling: without the compiled training steps ``fit`` keeps here
        (closures over this optimiser's buffers; a copy records its own)."""
        state = dict(self.__dict__)
        state.pop("_compiled_steps", None)
        return state

    def __setstate__(self, state):
        """After ``copy.deepcopy`` or unpickling: copies of views are arrays of their own, so link the
        parameters' state to their groups' again."""
        self.__dict__.update(state)
        if self.state is not None:
            self._link_groups()

    def _plan_groups(self):
        """Runs of small contiguous parameters of one dtype, FLAT_TOTAL elements at most (one-parameter runs stay apart)."""
        rule = type(self)
        if not (getattr(rule._update, "elementwise", False) and getattr(rule._l2, "elementwise", False)):
            return []
        runs, filled = {}, {}  # dtype -> runs of parameter indices; elements in its last run
        for i, p in enumerate(self.params):
            if p.size > CHUNK or not p.data.flags.c_contiguous:
                continue
            run = runs.setdefault(p.dtype, [[]])
            if filled.get(p.dtype, 0) + p.size > FLAT_TOTAL:
                run.append([])
                filled[p.dtype] = 0
            run[-1].append(i)
            filled[p.dtype] = filled.get(p.dtype, 0) + p.size
        return [_Group(r, self.params, dt) for dt, rs in runs.items() for r in rs if len(r) > 1]

    def step(self):
        """Update every parameter that has a gradient, in place."""
        check_step_lr(self)
        if GRAD_MODE.recorder is not None:  # a compiled step replays this call
            GRAD_MODE.recorder.on_step(self)
        self._ensure_state()
        for grp in self._groups:
            if not self._update_group(grp):
                self._update_each(grp.indices)
        self._update_each(self._solo)

    def _update_each(self, indices):
        params, state = self.params, self.state
        for i in indices:
            p = params[i]
            g = p.grad
            if g is None:
                continue
            data = p.data
            if g.shape != data.shape:
                check_grad_shape(i, g, data)
            st = state[i]
            st["step"] += 1
            if data.size <= CHUNK:
                self._update(data, g, st)
            else:
                self._update_in_slices(data, g, st)

    def _update_group(self, grp):
        """Run the rule once on the group's parameters concatenated; False (nothing done) when they
        cannot be: a gradient missing or not of its parameter's shape and dtype, or step counts apart."""
        params, state, dtype = self.params, self.state, grp.dtype
        t = state[grp.indices[0]]["step"]
        for i, shape in zip(grp.indices, grp.shapes):
            p, g = params[i], params[i].grad
            if g is None or g.dtype != dtype or g.shape != shape or p.data.shape != shape or state[i]["step"] != t:
                return False
        if not grp.views:
            self._bind(grp)
        part = grp.part
        reads = bool(getattr(self, "weight_decay", 0))  # the rule reads the parameters only through _l2
        for i, (pv, gv) in zip(grp.indices, grp.views):
            np.copyto(gv, params[i].grad)
            if reads:
                np.copyto(pv, params[i].data)
            state[i]["step"] = t + 1
        P = part["P"]
        if not reads:
            # The rule's last act is P -= delta: from -0.0 that leaves -delta exactly (and -0.0 for a
            # zero delta), and p + (-delta) is p - delta to the last bit, signed zeros included.
            P.fill(-0.0)
        part["step"] = t + 1
        self._update(P, part["G"], part)
        for i, (pv, _) in zip(grp.indices, grp.views):
            if reads:
                np.copyto(params[i].data, pv)
            else:
                params[i].data += pv
        return True

    def _update_in_slices(self, p, g, st):
        """Run the (element-wise) rule on CHUNK-long slices, so scratch memory stays small."""
        if not p.flags.c_contiguous:  # reshape(-1) would copy: update a copy and write it back
            flat = np.ascontiguousarray(p)
            self._update_in_slices(flat, g, st)
            np.copyto(p, flat)
            return
        if g.shape != p.shape:  # a broadcast gradient: its slices must line up with the parameter's
            g = np.broadcast_to(g, p.shape)
        pf, gf = p.reshape(-1), np.ascontiguousarray(g).reshape(-1)
        flat = {k: v.reshape(-1) for k, v in st.items() if isinstance(v, np.ndarray) and not k.startswith("_tmp")}
        for start in range(0, pf.size, CHUNK):
            stop = min(start + CHUNK, pf.size)
            part = {k: v[start:stop] for k, v in flat.items()}
            part["step"] = st["step"]
            part["_tmp"] = st["_tmp"][: stop - start]
            if "_tmp2" in st:
                part["_tmp2"] = st["_tmp2"][: stop - start]
            self._update(pf[start:stop], gf[start:stop], part)

    @elementwise
    def _l2(self, p, g, st):
        """The gradient with coupled L2 weight decay added (g + wd p), in a scratch buffer."""
        wd = self.weight_decay
        if not wd:
            return g
        out = st.get("_tmp2")
        if out is None:  # weight decay switched on after the first step
            out = st["_tmp2"] = np.empty_like(p)
        np.multiply(p, wd, out=out)
        out += g
        return out

    # checkpoints -----------------------------------------------------------
    def _hyper(self):
        return {k: list(v) if isinstance(v, tuple) else v for k, v in ((k, getattr(self, k)) for k in self.HYPER)}

    def state_dict(self):
        """``{"meta": JSON-able dict, "arrays": {"<index>.<name>": ndarray}}``.

        ``meta`` holds the rule's registry name, hyper-parameters and per-parameter
        step counts; ``arrays`` the state arrays (copies), flat so that they can be
        written as safetensors with ``meta`` as its JSON metadata.
        """
        meta = {"type": OPTIMIZERS.name_of(type(self)), "hyper": self._hyper(), "n_params": len(self.params)}
        if self.state is not None:
            self._ensure_state()
        meta["steps"] = [st["step"] for st in self.state] if self.state else [0] * len(self.params)
        arrays = {}
        for i, st in enumerate(self.state or ()):
            for name in self._state_names():
                arrays[f"{i}.{name}"] = st[name].copy()
        return {"meta": meta, "arrays": arrays}

    def load_state_dict(self, state):
        """Restore hyper-parameters, step counts and state arrays saved by :meth:`state_dict`."""
        meta, arrays = _saved_parts(state)
        name = OPTIMIZERS.name_of(type(self))
        if meta.get("type") != name:
            raise ValueError(f"state was saved by optimizer {meta.get('type')!r}, not {name!r}")
        if meta["n_params"] != len(self.params):
            raise ValueError(f"state is for {meta['n_params']} parameters, but this optimizer has {len(self.params)}")
        for k, v in meta["hyper"].items():
            setattr(self, k, tuple(v) if isinstance(v, list) else v)
        self._allocate()
        for i, (p, st) in enumerate(zip(self.params, self.state)):
            st["step"] = int(meta["steps"][i])
            for sname in self._state_names() if st["step"] else ():
                key = f"{i}.{sname}"
                if key not in arrays:
                    raise ValueError(f"state has no array {key!r}, which optimizer {name!r} keeps")
                arr = np.asarray(arrays[key])
                if arr.shape != p.shape:
                    raise ValueError(f"state array {i}.{sname} has shape {arr.shape}, expected {p.shape}")
                np.copyto(st[sname], arr, casting="same_kind")

    def __repr__(self):
        hyper = ", ".join(f"{k}={v!r}" for k, v in self._hyper().items())
        return f"{type(self).__name__}({len(self.params)} parameters, {hyper})"


_META_KEYS = ("type", "hyper", "n_params", "steps")


def _saved_parts(state):
    """``(meta, arrays)`` of a :meth:`Optimizer.state_dict` result, or one sentence saying what is missing."""
    ok = isinstance(state, dict) and isinstance(state.get("meta"), dict) and isinstance(state.get("arrays"), dict)
    if not ok:
        raise ArgumentError("state must be what Optimizer.state_dict() returns, a dict with 'meta' and 'arrays', "
                            f"got {short_repr(state)}")
    missing = [k for k in _META_KEYS if k not in state["meta"]]
    if missing:
        raise ValueError(f"state['meta'] has no {missing[0]!r}; it must be what Optimizer.state_dict() returns")
    return state["meta"], state["arrays"]
