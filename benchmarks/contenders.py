"""The contenders of the training benchmarks, behind one small interface.

Each contender is built from the same initial arrays (:func:`he_uniform`) and
trains one epoch at a time on batches given by a shared permutation, so all of
them compute the same function on the same data in the same order:

* ``train_epoch(x, y, perm, batch_size)``: one pass, batches ``perm[i:i+bs]``;
* ``accuracy(x, y)``: fraction classified correctly;
* ``params()``: weights (out, in) and biases as NumPy arrays, for cross-checks;
* ``name`` and ``path`` (which code path was measured, printed in the tables).

chainrule is driven through the highest level of its public API that exists:
``chainrule.fit`` on an ``nn.MLP`` with ``optim.SGD``; else the same model and
optimiser in a hand-written loop (also measured alongside fit, as "chainrule
(own loop)"); else raw registry ops (``cr.linear``, ``cr.relu``,
``cr.softmax_cross_entropy``, hand-written SGD). ``path`` says which.
"""

from __future__ import annotations

import inspect

import numpy as np

import _common  # noqa: F401  (puts src/ on sys.path for plain checkouts)
import chainrule as cr
from reference_numpy import NumpyMLP

__all__ = ["NumpyContender", "ChainruleContender", "TorchContender", "SklearnContender", "make_all"]


class _Contender:
    """Shared default: training "natively" is our epoch loop on fresh permutations."""

    def train_native(self, x, y, epochs, batch_size, seed=1):
        """Train the way a user of this library would (used where batch order does not matter)."""
        rng = np.random.default_rng(seed)
        for _ in range(epochs):
            self.train_epoch(x, y, rng.permutation(len(x)), batch_size)


class NumpyContender(_Contender):
    """The hand-written NumPy reference (the yardstick, ratio 1.0)."""

    name = "NumPy (hand)"
    path = "explicit forward/backward formulas"

    def __init__(self, weights, biases, lr):
        self.net = NumpyMLP(weights, biases, lr)

    def train_epoch(self, x, y, perm, batch_size):
        step = self.net.step
        for i in range(0, len(perm), batch_size):
            idx = perm[i:i + batch_size]
            step(x[idx], y[idx])

    def accuracy(self, x, y):
        return self.net.accuracy(x, y)

    def params(self):
        return self.net.params()


class _RawNet:
    """chainrule without nn/optim: parameters as Tensors, registry ops, manual SGD."""

    def __init__(self, weights, biases, lr):
        self.weights = [cr.tensor(w, requires_grad=True) for w in weights]
        self.biases = [cr.tensor(b, requires_grad=True) for b in biases]
        self.lr = np.float32(lr)

    def logits(self, x):
        h = x  # a plain ndarray is accepted as a constant input: no copy into a Tensor
        last = len(self.weights) - 1
        for i, (w, b) in enumerate(zip(self.weights, self.biases)):
            h = cr.linear(h, w, b)
            if i < last:
                h = cr.relu(h)
        return h

    def loss(self, x, y):
        return cr.softmax_cross_entropy(self.logits(x), y)

    def zero_grad(self):
        for p in self.weights + self.biases:
            p.grad = None

    def update(self):
        for p in self.weights + self.biases:
            p.grad *= self.lr  # the gradient is ours to overwrite: backward made it fresh
            p.data -= p.grad

    def step(self, x, y):
        loss = self.loss(x, y)
        self.zero_grad()
        loss.backward()
        self.update()
        return loss

    def params(self):
        return [w.data for w in self.weights], [b.data for b in self.biases]


class _ApiNet:
    """chainrule through nn (Sequential of Linear + ReLU, or MLP) and optim.SGD."""

    def __init__(self, weights, biases, lr):
        from chainrule import nn, optim

        self.model, self.path = _build_model(nn, [weights[0].shape[1]] + [w.shape[0] for w in weights])
        self.linears = [m for m in _modules(self.model) if _is_linear(m)]
        if len(self.linears) != len(weights):
            raise RuntimeError(f"found {len(self.linears)} Linear layers, expected {len(weights)}")
        for lin, w, b in zip(self.linears, weights, biases):
            _load(lin.weight, w)
            _load(lin.bias, b)
        self.opt = optim.SGD(list(self.model.parameters()), lr=lr)
        # The loss a user of the API would write; the bare fused op if there is no module.
        if hasattr(nn, "CrossEntropyLoss"):
            self.loss_fn, loss_name = nn.CrossEntropyLoss(), "nn.CrossEntropyLoss"
        else:
            self.loss_fn, loss_name = cr.softmax_cross_entropy, "cr.softmax_cross_entropy"
        self.path += f" + {loss_name} + optim.SGD"

    def logits(self, x):
        return self.model(x)

    def loss(self, x, y):
        return self.loss_fn(self.model(x), y)

    def zero_grad(self):
        self.opt.zero_grad()

    def update(self):
        self.opt.step()

    def step(self, x, y):
        self.opt.zero_grad()
        loss = self.loss_fn(self.model(x), y)
        loss.backward()
        self.opt.step()
        return loss

    def params(self):
        return ([np.array(lin.weight.data) for lin in self.linears],
                [np.array(lin.bias.data) for lin in self.linears])


def _build_model(nn, sizes):
    """A ReLU MLP from the nn API: nn.MLP when it exists, else Sequential of Linear/ReLU."""
    if hasattr(nn, "MLP"):
        return nn.MLP(list(sizes), activation="relu"), "nn.MLP"
    if all(hasattr(nn, k) for k in ("Sequential", "Linear", "ReLU")):
        layers = []
        for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
            layers.append(nn.Linear(n_in, n_out))
            if i < len(sizes) - 2:
                layers.append(nn.ReLU())
        return nn.Sequential(*layers), "nn.Sequential(Linear, ReLU)"
    raise RuntimeError("chainrule.nn has neither MLP nor Sequential+Linear+ReLU")


def _modules(model):
    """All submodules in order, whatever the container calls its traversal."""
    for attr in ("modules", "children"):
        if hasattr(model, attr):
            return list(getattr(model, attr)())
    return list(getattr(model, "layers", []))


def _is_linear(m):
    w = getattr(m, "weight", None)
    return w is not None and np.ndim(getattr(w, "data", w)) == 2 and getattr(m, "bias", None) is not None


def _load(param, value):
    """Copy an initial array into a parameter, transposing if it stores (in, out)."""
    target = param.data
    value = value if value.shape == target.shape else value.T
    if value.shape != target.shape:
        raise RuntimeError(f"cannot load an array of shape {value.shape} into {target.shape}")
    target[...] = value


LOOP_NAME = "chainrule (own loop)"
EAGER_FIT_NAME = "chainrule fit eager"


def fit_available():
    """True when chainrule's ``fit`` exists with a signature this suite can drive."""
    return _usable_fit()[0] is not None


class ChainruleContender(_Contender):
    """chainrule through the highest-level API that exists (``path`` says which)."""

    name = "chainrule"

    def __init__(self, weights, biases, lr, prefer_api=True, use_fit=True, compile=False, eager_fit=False):
        self.compile, self.eager_fit = compile, eager_fit
        self.net = None
        reason = "chainrule.nn/optim not available"
        if prefer_api:
            try:
                self.net = _ApiNet(weights, biases, lr)
                self.path = self.net.path
            except Exception as exc:  # any gap in the API means: measure the raw ops
                reason = f"nn/optim path failed: {type(exc).__name__}: {exc}"[:120]
        if self.net is None:
            self.net = _RawNet(weights, biases, lr)
            self.path = f"raw ops + manual SGD ({reason})" if prefer_api else "raw ops + manual SGD"
        self.fit, fit_name = _usable_fit() if use_fit and isinstance(self.net, _ApiNet) else (None, "")
        if not use_fit:
            self.name = LOOP_NAME
        if eager_fit:
            self.name = EAGER_FIT_NAME
        if compile:
            self.name = f"chainrule compiled ({compile})"
        if self.fit is not None:
            # One call per epoch charges fit's per-call set-up and our copy of the epoch's rows
            # to every epoch; the report states both.
            self.path += f" via {fit_name} (one call per epoch on the epoch's rows, copied in the shared order)"
            if compile or eager_fit:
                self.path += f", compile={compile!r}"
            else:
                self.path += ", compile='auto' (fit's default: the step recorded, then replayed)"

    def train_epoch(self, x, y, perm, batch_size):
        net = self.net
        if self.compile:  # the compiled step's own epoch (jax: one lax.scan), without fit's fixed cost per call
            self._compiled_step().epoch(x, y, batch_size, perm)
            return
        if self.fit is not None:
            # fit owns the batching; the epoch's rows in our order, unshuffled, keep batches equal.
            self.fit(net.model, net.loss_fn, net.opt, (x[perm], y[perm]), epochs=1, batch_size=batch_size,
                     shuffle=False, verbose=0, **self._compile_arg())
            return
        step = net.step
        for i in range(0, len(perm), batch_size):
            idx = perm[i:i + batch_size]
            step(x[idx], y[idx])

    def train_native(self, x, y, epochs, batch_size, seed=1):
        """One ``fit`` call with its own shuffling when fit is in use (no copy of the data)."""
        if self.fit is None:
            return super().train_native(x, y, epochs, batch_size, seed)
        self.fit(self.net.model, self.net.loss_fn, self.net.opt, (x, y), epochs=epochs,
                 batch_size=batch_size, shuffle=True, seed=seed, verbose=0, **self._compile_arg())

    def _compiled_step(self):
        if getattr(self, "_step", None) is None:
            net = self.net

            def step(xb, yb):
                net.opt.zero_grad()
                loss = net.loss_fn(net.model(xb), yb)
                loss.backward()
                net.opt.step()
                return loss

            self._step = cr.compile(step, backend=self.compile, model=net.model)
            self.path = self.path.split(" via ")[0] + f" via cr.compile(step, backend={self.compile!r}).epoch"
        return self._step

    def _compile_arg(self):
        return {"compile": self.compile} if self.compile or self.eager_fit else {}

    def snapshot(self):
        """Copies of the weights, for :meth:`restore` (warm-up epochs that must leave no trace)."""
        return self.net.params()

    def restore(self, saved):
        for lin, w, b in zip(self.net.linears, *saved):
            lin.weight.data[...] = w
            lin.bias.data[...] = b

    def accuracy(self, x, y):
        with cr.no_grad():
            logits = self.net.logits(x)
        return float((np.asarray(logits.data).argmax(axis=1) == y).mean())

    def params(self):
        return self.net.params()


def _find_fit():
    """``(fit, its dotted name)``: ``chainrule.fit``, else ``chainrule.train.fit``, else (None, "")."""
    fit = getattr(cr, "fit", None)
    if callable(fit):
        return fit, "chainrule.fit"
    try:
        from chainrule.train import fit
    except ImportError:
        return None, ""
    return fit, "chainrule.train.fit"


def _usable_fit():
    """``(fit, name)`` if the library's ``fit`` has the signature this suite drives, else (None, "").

    Expected: ``fit(model, loss, optimizer, train, *, epochs, batch_size, shuffle, seed, verbose)``.
    """
    fit, name = _find_fit()
    if fit is None:
        return None, ""
    try:
        params = list(inspect.signature(fit).parameters)
    except (TypeError, ValueError):
        return None, ""
    if params[:4] != ["model", "loss", "optimizer", "train"] or not {
            "epochs", "batch_size", "shuffle", "seed", "verbose"} <= set(params):
        return None, ""
    return fit, name


class TorchContender(_Contender):
    """PyTorch eager: nn.Sequential, F.cross_entropy, optim.SGD (its default kernels)."""

    name = "PyTorch"
    path = "eager, nn.Sequential + optim.SGD"

    def __init__(self, torch, weights, biases, lr):
        self.torch = torch
        layers = []
        for i, (w, b) in enumerate(zip(weights, biases)):
            lin = torch.nn.Linear(w.shape[1], w.shape[0])
            with torch.no_grad():
                lin.weight.copy_(torch.from_numpy(w))
                lin.bias.copy_(torch.from_numpy(b))
            layers.append(lin)
            if i < len(weights) - 1:
                layers.append(torch.nn.ReLU())
        self.model = torch.nn.Sequential(*layers)
        self.opt = torch.optim.SGD(self.model.parameters(), lr=lr)
        self.loss = torch.nn.functional.cross_entropy
        self._cache = (None, None, None)

    def _tensors(self, x, y):
        # torch.from_numpy shares memory; done once per data set, not per batch.
        if self._cache[0] is not x:
            self._cache = (x, self.torch.from_numpy(x), self.torch.from_numpy(y))
        return self._cache[1], self._cache[2]

    def train_epoch(self, x, y, perm, batch_size):
        xt, yt = self._tensors(x, y)
        perm_t = self.torch.from_numpy(perm)
        model, opt, loss_fn = self.model, self.opt, self.loss
        for i in range(0, len(perm), batch_size):
            idx = perm_t[i:i + batch_size]
            opt.zero_grad()
            loss_fn(model(xt[idx]), yt[idx]).backward()
            opt.step()

    def accuracy(self, x, y):
        with self.torch.no_grad():
            out = self.model(self.torch.from_numpy(x)).numpy()
        return float((out.argmax(axis=1) == y).mean())

    def params(self):
        lins = [m for m in self.model if isinstance(m, self.torch.nn.Linear)]
        return [m.weight.detach().numpy().copy() for m in lins], [m.bias.detach().numpy().copy() for m in lins]


class SklearnContender(_Contender):
    """scikit-learn MLPClassifier: solver='sgd', momentum=0, alpha=0, one partial_fit per epoch."""

    name = "scikit-learn"
    path = "MLPClassifier.partial_fit (sgd, momentum=0)"

    def __init__(self, mlp_cls, weights, biases, lr, n_classes):
        self.clf = mlp_cls(
            hidden_layer_sizes=tuple(w.shape[0] for w in weights[:-1]), activation="relu",
            solver="sgd", alpha=0.0, learning_rate="constant", learning_rate_init=lr,
            momentum=0.0, nesterovs_momentum=False, shuffle=False, n_iter_no_change=10**9,
        )
        d = weights[0].shape[1]
        # partial_fit allocates coefs_ on its first call; then we overwrite them in place
        # (the optimiser keeps references to these very arrays).
        self.clf.batch_size = 1
        self.clf.partial_fit(np.zeros((1, d), np.float32), np.zeros(1, np.int64), classes=np.arange(n_classes))
        for c, w in zip(self.clf.coefs_, weights):
            c[...] = w.T
        for c, b in zip(self.clf.intercepts_, biases):
            c[...] = b

    def train_epoch(self, x, y, perm, batch_size):
        self.clf.batch_size = batch_size
        self.clf.partial_fit(x[perm], y[perm])

    def train_native(self, x, y, epochs, batch_size, seed=1):
        """partial_fit on the data as given: no permuted copy (order does not matter here)."""
        self.clf.batch_size = batch_size
        for _ in range(epochs):
            self.clf.partial_fit(x, y)

    def accuracy(self, x, y):
        return float(self.clf.score(x, y))

    def params(self):
        return [c.T.copy() for c in self.clf.coefs_], [b.copy() for b in self.clf.intercepts_]


class _JaxMLP(_Contender):
    """Hand-written JAX: the same MLP, softmax cross-entropy and plain SGD, jitted."""

    def __init__(self, jax, weights, biases, lr):
        import jax.numpy as jnp

        self.jax, self.jnp = jax, jnp
        self.state = [(jnp.asarray(w), jnp.asarray(b)) for w, b in zip(weights, biases)]
        self.lr = lr
        self._cache = (None, None, None)

        def loss(params, x, y):
            h = x
            for i, (w, b) in enumerate(params):
                h = h @ w.T + b
                if i < len(params) - 1:
                    h = jnp.maximum(h, 0)
            z = h - h.max(axis=1, keepdims=True)
            return (jnp.log(jnp.exp(z).sum(axis=1)) - jnp.take_along_axis(z, y[:, None], axis=1)[:, 0]).mean()

        def step(params, x, y):
            grads = jax.grad(loss)(params, x, y)
            return [(w - lr * gw, b - lr * gb) for (w, b), (gw, gb) in zip(params, grads)]

        def epoch(params, xs, ys):
            return jax.lax.scan(lambda p, batch: (step(p, *batch), None), params, (xs, ys))[0]

        self.step, self.epoch = jax.jit(step), jax.jit(epoch)

    def _arrays(self, x, y):
        if self._cache[0] is not x:
            self._cache = (x, self.jnp.asarray(x), self.jnp.asarray(y))
        return self._cache[1], self._cache[2]

    def accuracy(self, x, y):
        h = self.jnp.asarray(x)
        for i, (w, b) in enumerate(self.state):
            h = h @ w.T + b
            if i < len(self.state) - 1:
                h = self.jnp.maximum(h, 0)
        return float((np.asarray(h).argmax(axis=1) == y).mean())

    def params(self):
        return [np.array(w) for w, _ in self.state], [np.array(b) for _, b in self.state]

    def snapshot(self):
        return list(self.state)  # JAX arrays never change in place

    def restore(self, saved):
        self.state = list(saved)


class JaxScanContender(_JaxMLP):
    """JAX with the epoch's full batches in one jitted ``lax.scan`` (the fastest CPU form), tail jitted."""

    name = "JAX scan"
    path = "jax.jit(lax.scan over the epoch's batches) + jitted step for a smaller last batch"

    def train_epoch(self, x, y, perm, batch_size):
        full = len(perm) - len(perm) % batch_size
        steps = full // batch_size
        if steps:
            xs = x[perm[:full]].reshape(steps, batch_size, -1)
            ys = y[perm[:full]].reshape(steps, batch_size)
            self.state = self.epoch(self.state, xs, ys)
        if full < len(perm):
            self.state = self.step(self.state, x[perm[full:]], y[perm[full:]])
        self.jax.block_until_ready(self.state)


class JaxStepContender(_JaxMLP):
    """Typical JAX: a jitted step called from a Python loop, batches indexed eagerly."""

    name = "JAX jitted step"
    path = "jax.jit(step) in a Python loop, x[idx] on device arrays"

    def train_epoch(self, x, y, perm, batch_size):
        xt, yt = self._arrays(x, y)
        perm_t = self.jnp.asarray(perm)
        state = self.state
        for i in range(0, len(perm), batch_size):
            idx = perm_t[i:i + batch_size]
            state = self.step(state, xt[idx], yt[idx])
        self.state = self.jax.block_until_ready(state)


def make_all(weights, biases, lr, n_classes, which=None):
    """Fresh contenders from the same initial arrays; absent libraries are skipped.

    Returns:
        ``(contenders, skipped)``: a list of contender objects and a list of
        ``"name: reason"`` strings for those that could not be built.
    """
    # With fit in use, the nn/optim loop written by hand is measured too: the gap between
    # the two is what fit itself costs.
    which = which or ("numpy", "chainrule", *(("chainrule-loop",) if fit_available() else ()), "torch", "sklearn")
    out, skipped = [], []
    for key in which:
        if key == "numpy":
            out.append(NumpyContender(weights, biases, lr))
        elif key == "chainrule":
            out.append(ChainruleContender(weights, biases, lr))
        elif key == "chainrule-loop":
            out.append(ChainruleContender(weights, biases, lr, use_fit=False))
        elif key == "chainrule-eager-fit":
            out.append(ChainruleContender(weights, biases, lr, eager_fit=True))
        elif key == "torch":
            torch = _common.torch_or_none()
            if torch is None:
                skipped.append("PyTorch: not importable")
            else:
                out.append(TorchContender(torch, weights, biases, lr))
        elif key in ("chainrule-numpy", "chainrule-jax", "chainrule-numba"):
            backend = key.split("-")[1]
            if backend == "jax" and _common.jax_or_none() is None:
                skipped.append("chainrule compiled (jax): jax not importable")
            elif backend == "numba" and not _common.importable("numba"):
                skipped.append("chainrule compiled (numba): numba not importable")
            else:
                out.append(ChainruleContender(weights, biases, lr, compile=backend))
        elif key in ("jax-scan", "jax-step"):
            jax = _common.jax_or_none()
            if jax is None:
                skipped.append(f"{key}: jax not importable")
            else:
                out.append((JaxScanContender if key == "jax-scan" else JaxStepContender)(jax, weights, biases, lr))
        elif key == "sklearn":
            mlp = _common.sklearn_or_none()
            if mlp is None:
                skipped.append("scikit-learn: not importable")
            else:
                out.append(SklearnContender(mlp, weights, biases, lr, n_classes))
    return out, skipped
