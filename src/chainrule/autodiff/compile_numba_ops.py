"""The ops the "numba" compile backend can lower: for each, source lines of its forward and its VJP.

Each entry of :data:`LOWERINGS` gets an entry of a recorded tape and a
``_Source`` (:mod:`.compile_numba`), which names the slots' arrays (``v3``, the
gradient ``g3``) and hands out scratch buffers. Adding an op = one entry here:
a ``check`` saying why an entry is outside what the lines handle (None when it
is not), and the two line generators.

Example:
    >>> sorted(LOWERINGS)
    ['add', 'linear', 'mean', 'mul', 'relu', 'sigmoid', 'softmax_cross_entropy', 'sub', 'sum', 'tanh']
"""

from __future__ import annotations

from .tape import Const

__all__ = ["LOWERINGS"]


class _Lowering:
    __slots__ = ("forward", "vjp", "check")

    def __init__(self, forward, vjp, check):
        self.forward, self.vjp, self.check = forward, vjp, check


#: op name -> :class:`_Lowering`. ``check(entry, source)`` returns None when the backend handles the
#: entry, else a phrase saying why not; ``forward(entry, source)`` returns lines computing the
#: output; ``vjp(entry, source, i, dest, add)`` returns lines writing (``add=False``) or adding the
#: gradient of input ``i`` into the array named ``dest``.
LOWERINGS = {}


def _lowering(name, check):
    def register(pair):
        forward, vjp = pair()
        LOWERINGS[name] = _Lowering(forward, vjp, check)
        return pair
    return register


def _same_dtype(e, src, n):
    """None when the entry's first ``n`` inputs are slots of the output's dtype, else why not."""
    if len(e.args) != n or any(isinstance(a, Const) for a in e.args):
        return f"has {len(e.args)} inputs, a constant among them" if len(e.args) == n else f"has {len(e.args)} inputs"
    if any(src.tape.dtypes[a] != e.dtype for a in e.args) or e.dtype.kind != "f":
        return "mixes dtypes"
    return None


def _attributes(e):
    """Why an entry with attributes is outside the lowerings that take none, or None."""
    return f"has attributes {sorted(e.attrs) + sorted(e.slot_attrs)}" if e.attrs or e.slot_attrs else None


def _linear_check(e, src):
    why = _same_dtype(e, src, len(e.args)) if len(e.args) in (2, 3) else "has no weight"
    if why is None and len(src.tape.shapes[e.args[0]]) != 2:
        why = f"has a {len(src.tape.shapes[e.args[0]])}-d input (2-d only)"
    return why or _attributes(e)


@_lowering("linear", _linear_check)
def _linear():
    def forward(e, s):
        x, w, o = s.v(e.args[0]), s.v(e.args[1]), s.v(e.out)
        lines = [f"np.dot({x}, {w}.T, {o})"]
        if len(e.args) == 3:
            b = s.v(e.args[2])
            lines += [f"for i in range({o}.shape[0]):", f"    for j in range({o}.shape[1]):",
                      f"        {o}[i, j] += {b}[j]"]
        return lines

    def vjp(e, s, i, dest, add):
        g, x, w = s.g(e.out), s.v(e.args[0]), s.v(e.args[1])
        if i == 0:
            return [f"{dest} += np.dot({g}, {w})"] if add else [f"np.dot({g}, {w}, {dest})"]
        if i == 1:
            return [f"{dest} += np.dot({g}.T, {x})"] if add else [f"np.dot({g}.T, {x}, {dest})"]
        return ([] if add else [f"{dest}[:] = 0"]) + [
            f"for i in range({g}.shape[0]):", f"    for j in range({g}.shape[1]):", f"        {dest}[j] += {g}[i, j]"]

    return forward, vjp


def _unary_check(e, src):
    return _same_dtype(e, src, 1) or _attributes(e)


#: Functions that generated lines name in capitals: (float32 version, any other dtype's, None when the
#: lowering writes another expression for those). The float32 ones
#: (``chainrule.autodiff.ops.recurrent_numba``) are built on an exp that the compiler vectorises, within 3 ulp;
#: Numba's own float32 exp and tanh are scalar calls, about 7 and 30 ns per element here.
_FUNCTIONS = {"EXP": ("_exp32", "np.exp"), "TANH": ("_tanh32", "np.tanh"), "SIGMOID": ("_sigmoid32", None)}


def _typed(expr, dtype):
    """``expr`` for ``dtype``: its functions (``EXP(``, ...) resolved and its constants ``ZERO`` and ``ONE`` in
    ``dtype`` (a bare 1 would make float32 arithmetic float64)."""
    for name, (f32, other) in _FUNCTIONS.items():
        if name + "(" in expr:
            expr = expr.replace(name + "(", (f32 if dtype.name == "float32" else other) + "(")
    return expr.replace("ZERO", f"np.{dtype.name}(0)").replace("ONE", f"np.{dtype.name}(1)")


def _elementwise(value, slope):
    """A lowering of an element-wise op: ``value`` of ``x`` and its derivative from ``o`` (the output)."""
    # Temporaries carry the entry's number: Numba gives a name one type in the whole function.
    def forward(e, s):
        x, o, t = s.v(e.args[0]), s.v(e.out), e.out
        expr = value(e.dtype) if callable(value) else value
        return [f"fx{t}, fo{t} = {x}.reshape({x}.size), {o}.reshape({o}.size)",
                f"for k in range(fx{t}.size):", f"    x = fx{t}[k]", f"    fo{t}[k] = {_typed(expr, e.dtype)}"]

    def vjp(e, s, i, dest, add):
        g, o, t = s.g(e.out), s.v(e.out), e.out
        op = "+=" if add else "="
        return [f"bg{t}, bo{t}, bd{t} = {g}.reshape({g}.size), {o}.reshape({o}.size), {dest}.reshape({dest}.size)",
                f"for k in range(bg{t}.size):", f"    o = bo{t}[k]",
                f"    bd{t}[k] {op} bg{t}[k] * ({_typed(slope, e.dtype)})"]

    return lambda: (forward, vjp)


# relu keeps NaN (as np.maximum does); its slope, like the eager rule's, is (out > 0).
_lowering("relu", _unary_check)(_elementwise("x if not x <= ZERO else ZERO", "ONE if o > ZERO else ZERO"))
_lowering("tanh", _unary_check)(_elementwise("TANH(x)", "ONE - o * o"))
# exp(-|x|) never overflows, so both halves are finite for |x| ~ 1e4 (the eager formula); the float32
# function clamps its argument instead.
_lowering("sigmoid", _unary_check)(_elementwise(
    lambda dt: "SIGMOID(x)" if dt.name == "float32" else
    "ONE / (ONE + np.exp(-abs(x))) if x >= ZERO else np.exp(-abs(x)) / (ONE + np.exp(-abs(x)))", "o * (ONE - o)"))


def _binary_check(e, src):
    why = _same_dtype(e, src, 2)
    if why is None and src.tape.shapes[e.args[0]] != src.tape.shapes[e.args[1]]:
        why = f"broadcasts shapes {src.tape.shapes[e.args[0]]} and {src.tape.shapes[e.args[1]]} (equal shapes only)"
    return why or _attributes(e)


def _binary(value, slopes):
    """A lowering of an element-wise op of two equal-shaped inputs ``a`` and ``b``; ``slopes[i]``: d value / d input i."""
    def forward(e, s):
        a, b, o, t = s.v(e.args[0]), s.v(e.args[1]), s.v(e.out), e.out
        return [f"fa{t}, fb{t}, fo{t} = {a}.reshape({a}.size), {b}.reshape({b}.size), {o}.reshape({o}.size)",
                f"for k in range(fo{t}.size):", f"    a, b = fa{t}[k], fb{t}[k]", f"    fo{t}[k] = {value}"]

    def vjp(e, s, i, dest, add):
        a, b, g, t = s.v(e.args[0]), s.v(e.args[1]), s.g(e.out), e.out
        op = "+=" if add else "="
        return [f"ba{t}, bb{t}, bg{t} = {a}.reshape({a}.size), {b}.reshape({b}.size), {g}.reshape({g}.size)",
                f"bd{t} = {dest}.reshape({dest}.size)", f"for k in range(bg{t}.size):",
                f"    a, b = ba{t}[k], bb{t}[k]", f"    bd{t}[k] {op} bg{t}[k] * ({_typed(slopes[i], e.dtype)})"]

    return lambda: (forward, vjp)


_lowering("add", _binary_check)(_binary("a + b", ("ONE", "ONE")))
_lowering("sub", _binary_check)(_binary("a - b", ("ONE", "-ONE")))
_lowering("mul", _binary_check)(_binary("a * b", ("b", "a")))


def _total_check(e, src):
    why = _same_dtype(e, src, 1)
    if why is None and (e.attrs.get("axis") is not None or e.attrs.get("keepdims") or set(e.attrs) - {"axis", "keepdims"}):
        why = f"has attributes {e.attrs} (the total over all axes only)"
    return why or ("has array attributes" if e.slot_attrs else None)


def _total(mean):
    """``sum`` or ``mean`` over every element: a scalar whose gradient is g (over the count) everywhere."""
    def forward(e, s):
        x, o, t = s.v(e.args[0]), s.v(e.out), e.out
        return [f"fx{t} = {x}.reshape({x}.size)", f"acc{t} = 0.0", f"for k in range(fx{t}.size):",
                f"    acc{t} += fx{t}[k]", f"{o}[0] = acc{t} / fx{t}.size" if mean else f"{o}[0] = acc{t}"]

    def vjp(e, s, i, dest, add):
        g, t = s.g(e.out), e.out
        op = "+=" if add else "="
        return [f"bd{t} = {dest}.reshape({dest}.size)", f"gv{t} = {g}[0] / bd{t}.size" if mean else f"gv{t} = {g}[0]",
                f"for k in range(bd{t}.size):", f"    bd{t}[k] {op} gv{t}"]

    return lambda: (forward, vjp)


_lowering("sum", _total_check)(_total(False))
_lowering("mean", _total_check)(_total(True))


def _sce_check(e, src):
    labels = e.slot_attrs.get("labels")
    if len(e.args) != 1 or isinstance(e.args[0], Const):
        return "has constant logits"
    if labels is None:
        return "gets its labels as a constant (pass them to the step as an argument)"
    if set(e.attrs) - {"reduction"} or e.attrs.get("reduction", "mean") not in ("mean", "sum"):
        return f"has attributes {e.attrs} (reduction 'mean' or 'sum' only)"
    if len(src.tape.shapes[e.args[0]]) != 2 or src.tape.dtypes[labels].kind not in "iu":
        return "needs 2-d logits and integer labels"
    return None


@_lowering("softmax_cross_entropy", _sce_check)
def _sce():
    def forward(e, s):
        x, y, o = s.v(e.args[0]), s.v(e.slot_attrs["labels"]), s.v(e.out)
        p = s.scratch(e, "p", s.tape.shapes[e.args[0]], e.dtype)   # softmax, kept for the gradient
        mean, t = e.attrs.get("reduction", "mean") == "mean", e.out
        return [
            f"n{t}, c{t} = {x}.shape", f"total{t} = 0.0",
            f"for i in range(n{t}):",
            f"    lab = {y}[i]",
            f"    if lab < 0 or lab >= c{t}:",
            f"        return {s.status(e)}",
            f"    m{t} = {x}[i, 0]",
            f"    for j in range(1, c{t}):",
            f"        if {x}[i, j] > m{t}:",
            f"            m{t} = {x}[i, j]",
            f"    z{t} = 0.0",
            f"    for j in range(c{t}):",
            f"        ez{t} = " + _typed(f"EXP({x}[i, j] - m{t})", e.dtype),
            f"        {p}[i, j] = ez{t}",
            f"        z{t} += ez{t}",
            f"    for j in range(c{t}):",
            f"        {p}[i, j] /= z{t}",
            f"    total{t} += np.log(z{t}) - ({x}[i, lab] - m{t})",
            f"{o}[0] = total{t} / n{t}" if mean else f"{o}[0] = total{t}",
        ]

    def vjp(e, s, i, dest, add):
        y, g, p = s.v(e.slot_attrs["labels"]), s.g(e.out), s.scratch(e, "p")
        scale = f"{g}[0] / {p}.shape[0]" if e.attrs.get("reduction", "mean") == "mean" else f"{g}[0]"
        op, t = "+=" if add else "=", e.out
        return [f"scale{t} = {scale}", f"for i in range({p}.shape[0]):", f"    lab = {y}[i]",
                f"    for j in range({p}.shape[1]):",
                f"        {dest}[i, j] {op} ({p}[i, j] - (1.0 if j == lab else 0.0)) * scale{t}"]

    return forward, vjp
