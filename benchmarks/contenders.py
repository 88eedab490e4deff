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


def fit_available():
    """True when chainrule's ``fit`` exists with a signature this suite can drive."""
    return _usable_fit()[0] is not None


class ChainruleContender(_Contender):
    """chainrule through the highest-level API that exists (``path`` says which)."""

    name = "chainrule"

    def __init__(self, weights, biases, lr, prefer_api=True, use_fit=True):
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
        if self.fit is not None:
            # One call per epoch charges fit's per-call set-up and our copy of the epoch's rows
            # to every epoch; the report states both.
            self.path += f" via {fit_name} (one call per epoch on the epoch's rows, copied in the shared order)"

    def train_epoch(self, x, y, perm, batch_size):
        net = self.net
        if self.fit is not None:
            # fit owns the batching; the epoch's rows in our order, unshuffled, keep batches equal.
            self.fit(net.model, net.loss_fn, net.opt, (x[perm], y[perm]), epochs=1, batch_size=batch_size,
                     shuffle=False, verbose=0)
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
                 batch_size=batch_size, shuffle=True, seed=seed, verbose=0)

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
        elif key == "torch":
            torch = _common.torch_or_none()
            if torch is None:
                skipped.append("PyTorch: not importable")
            else:
                out.append(TorchContender(torch, weights, biases, lr))
        elif key == "sklearn":
            mlp = _common.sklearn_or_none()
            if mlp is None:
                skipped.append("scikit-learn: not importable")
            else:
                out.append(SklearnContender(mlp, weights, biases, lr, n_classes))
    return out, skipped
