"""One playground session's training state: settings, points, network, optimiser, epoch counter.

Everything here runs in the session's worker thread and needs only NumPy and
chainrule. The training rule by default is the reference's (its ``nn.ts``):
weights U(-0.5, 0.5), biases 0.1, the error 0.5 (o - t)^2, one step per
``batchSize`` samples with the mean gradient, then the regulariser's step
``w -= lr * rate * R'(w)`` on weights (not biases), where an L1 step that flips a
weight's sign sets it to 0 and freezes it. Samples are visited in the data's
(once shuffled) order; the last partial batch of an epoch is completed from the
start of the next, as the reference's running sample count does.

Example:
    >>> t = Trainer({"seed": "0.5", "networkShape": [3]})
    >>> before = t.losses()[0]
    >>> t.run_epochs(20)
    >>> t.epoch, t.losses()[0] < before
    (20, True)
"""

from __future__ import annotations

import numpy as np

from .. import optim
from ..autodiff.engine import no_grad
from ..autodiff.tensor import Tensor
from .network import DTYPE, build_network, head_for
from .points import Points, feature_matrix, seed_number
from .settings import DATASETS, FEATURES, REG_DATASETS, SETTINGS, defaults, validate

__all__ = ["Trainer", "OPTIMIZERS", "SCHEDULES"]

# Optimiser setting -> a function of (parameters, lr).
OPTIMIZERS = {
    "sgd": lambda params, lr: optim.SGD(params, lr=lr),
    "momentum": lambda params, lr: optim.SGD(params, lr=lr, momentum=0.9),
    "adam": lambda params, lr: optim.Adam(params, lr=lr),
}
# Schedule setting -> a function of the optimiser (None: constant lr), stepped once per epoch.
SCHEDULES = {
    "constant": lambda opt: None,
    "step": lambda opt: optim.StepDecay(opt, step_size=100, gamma=0.5),
    "exponential": lambda opt: optim.ExponentialDecay(opt, gamma=0.995),
    "cosine": lambda opt: optim.CosineAnnealing(opt, t_max=500, min_lr=0.0),
}


class Trainer:
    """The state of one session; see the module docstring for the training rule.

    Args:
        settings: initial settings (validated); missing ones take their defaults.
    """

    def __init__(self, settings=None):
        self.settings = defaults()
        self.settings.update(validate(settings or {}))
        self.custom = None      # own data: (X, y, problem) once uploaded or clicked
        self.resets = 0
        self.notes = []
        self._new_points()
        self.reset()

    # settings -------------------------------------------------------------
    def apply(self, values):
        """Validate and apply settings; returns the strongest effect (``data`` > ``network`` > ``live`` > ``view``)."""
        values = validate(values)
        trial = _checked({**self.settings, **values}, values)
        for key, table, problem in (("dataset", DATASETS, "classification"), ("regDataset", REG_DATASETS, "regression")):
            if key in values and table[trial[key]] is None and (self.custom is None or self.custom[2] != problem):
                raise ValueError(f"{key} {trial[key]!r} needs own data of the {problem} kind: upload a CSV or add points first")
        effects = {SETTINGS[k].effect for k in values if k in SETTINGS}
        before = dict(self.__dict__)
        try:
            self.settings = trial
            if "data" in effects:
                self._new_points()
            if effects & {"data", "network"}:
                self.reset()
        except Exception:
            # All or nothing: a refused change (say, dataset=custom without own data) leaves the session as it was.
            self.__dict__.clear()
            self.__dict__.update(before)
            raise
        if "live" in effects:
            self._set_lr(self.settings["learningRate"])
        return next((e for e in ("data", "network", "live", "view") if e in effects), "view")

    @property
    def problem(self):
        return self.settings["problem"]

    @property
    def features(self):
        return [f for f in FEATURES if self.settings[f]]

    def _dataset_key(self):
        return self.settings["dataset"] if self.problem == "classification" else self.settings["regDataset"]

    def _new_points(self):
        s, key = self.settings, self._dataset_key()
        name = {**DATASETS, **REG_DATASETS}[key]
        if name is None:
            if self.custom is None or self.custom[2] != self.problem:
                raise ValueError(f"dataset {key!r} needs own data of this problem type: upload a CSV or add points first")
            X, y, _ = self.custom
            self.points = Points(X, y, self.problem, s["percTrainData"], s["seed"])
        else:
            self.points = Points.generate(name, s["noise"], s["percTrainData"], s["seed"])

    def use_own_data(self, X, y, problem):
        """Switch to own data (``dataset=custom`` or ``regDataset=reg-custom``) and restart."""
        self.custom = (np.asarray(X, dtype=np.float64), np.asarray(y), problem)
        key = {"classification": ("dataset", "custom"), "regression": ("regDataset", "reg-custom")}[problem]
        self.settings.update({key[0]: key[1], "problem": problem})
        self._new_points()
        self.reset()

    def regenerate(self, seed):
        """New points from a new seed (the reference's "regenerate" button)."""
        self.settings["seed"] = validate({"seed": seed})["seed"]
        self._new_points()
        self.reset()

    # the network ----------------------------------------------------------
    def reset(self):
        """A fresh network, optimiser and epoch 0 on the current points."""
        s, pts = self.settings, self.points
        self.head = head_for(self.problem, pts.n_classes, s["loss"])
        self.net_seed = (seed_number(s["seed"]) + self.resets) % 2**32
        self.resets += 1
        self.net = build_network(
            len(self.features), s["networkShape"], self.head, activation=s["activation"],
            layer_activations=s["layerActivations"], n_classes=pts.n_classes, init=s["init"],
            init_zero=s["initZero"], dropout=s["dropout"], skip=s["skip"], seed=self.net_seed)
        self.net.model.eval()
        self.optimizer = OPTIMIZERS[s["optimizer"]](self.net.model.parameters(), s["learningRate"])
        self.schedule = SCHEDULES[s["schedule"]](self.optimizer)
        self.dead = [np.zeros(lin.weight.shape, dtype=bool) for lin in self.net.linears]
        self.epoch, self.pending = 0, np.zeros(0, dtype=np.int64)
        self.history = []
        k = pts.n_classes
        self.F_train = feature_matrix(pts.X_train, self.features).astype(DTYPE)
        self.F_test = feature_matrix(pts.X_test, self.features).astype(DTYPE)
        self.T_train = self.head.target(pts.y_train, k)
        self.T_test = self.head.target(pts.y_test, k)
        self.last_grads = [np.zeros(lin.weight.shape) for lin in self.net.linears]

    def _set_lr(self, lr):
        self.optimizer.lr = lr
        if self.schedule is not None:
            self.schedule.base_lr = lr

    # training -------------------------------------------------------------
    def _diverged(self, loss):
        """ValueError naming the epoch when training has left the finite numbers (the loss or a weight)."""
        s = self.settings
        what = f"the loss is {float(loss)}" if loss is not None else "a weight is no longer a finite number"
        return ValueError(
            f"training diverged at epoch {self.epoch + 1} ({what}); lower learningRate (now {s['learningRate']}) "
            f"or regularizationRate (now {s['regularizationRate']}) and press reset")

    def run_epochs(self, count):
        """Train ``count`` epochs (each one pass over the training points)."""
        if len(self.F_train) == 0:
            raise ValueError("there are no training points: raise percTrainData or add points")
        order = np.arange(len(self.F_train))
        bs = self.settings["batchSize"]
        self.net.model.train()
        # Overflow is not a warning here but a stop: the finiteness checks below end the run with a message.
        with np.errstate(over="ignore", invalid="ignore"):
            self._train_epochs(count, order, bs)
        self.last_grads = [np.abs(lin.weight.grad) if lin.weight.grad is not None else np.zeros(lin.weight.shape)
                           for lin in self.net.linears]

    def _train_epochs(self, count, order, bs):
        try:
            for _ in range(count):
                seq = np.concatenate([self.pending, order])
                full = len(seq) // bs
                for b in range(full):
                    self._step(seq[b * bs:(b + 1) * bs])
                self.pending = seq[full * bs:]
                if not all(np.isfinite(p.data).all() for p in self.net.model.parameters()):
                    raise self._diverged(None)
                self.epoch += 1
                if self.schedule is not None:
                    self.schedule.step()
        finally:
            self.net.model.eval()

    def _step(self, idx):
        out = self.net.model(Tensor(self.F_train[idx]))
        loss = self.head.loss(out, self.T_train[idx])
        if not np.isfinite(loss.data).all():
            raise self._diverged(loss.data.ravel()[0])  # before the step: a nan gradient would spread into every weight
        self.optimizer.zero_grad()
        loss.backward()
        self.optimizer.step()
        self._regularise()

    def _regularise(self):
        s = self.settings
        rate = s["regularizationRate"] * self.optimizer.lr
        for lin, dead in zip(self.net.linears, self.dead):
            w = lin.weight.data
            if rate and s["regularization"] == "L2":
                w -= rate * w
            elif rate and s["regularization"] == "L1":
                new = w - rate * np.sign(w)
                dead |= (w * new) < 0
                w[...] = new
            if dead.any():
                w[dead] = 0.0

    def losses(self):
        """``(train_loss, test_loss)`` with the training loss function, over all train / test points."""
        with no_grad():
            return tuple(self._loss(F, T) for F, T in ((self.F_train, self.T_train), (self.F_test, self.T_test)))

    def _loss(self, F, T):
        if len(F) == 0:
            return 0.0
        return float(self.head.loss(self.net.model(Tensor(F)), T).item())

    # edits ----------------------------------------------------------------
    def edit(self, layer, node, source, value):
        """Set weight ``[node, source]`` of layer ``layer`` (``source=None``: its bias) to ``value``."""
        lins = self.net.linears
        if not (isinstance(layer, int) and 0 <= layer < len(lins)):
            raise ValueError(f"layer must be an index from 0 to {len(lins) - 1}, got {layer!r}")
        lin = lins[layer]
        if not (isinstance(node, int) and 0 <= node < lin.out_features):
            raise ValueError(f"node must be an index from 0 to {lin.out_features - 1} in layer {layer}, got {node!r}")
        if source is None:
            lin.bias.data[node] = value
            return
        if not (isinstance(source, int) and 0 <= source < lin.in_features):
            raise ValueError(f"source must be an index from 0 to {lin.in_features - 1} in layer {layer}, got {source!r}")
        lin.weight.data[node, source] = value
        self.dead[layer][node, source] = False


def _checked(trial, values):
    """The merged settings, after the checks that involve more than one setting."""
    if not any(trial[f] for f in FEATURES):
        raise ValueError("at least one input feature must be on")
    if "activation" in values and "layerActivations" not in values:
        trial["layerActivations"] = None  # the reference's one drop-down sets every layer
    acts, depth = trial["layerActivations"], len(trial["networkShape"])
    if acts is not None and len(acts) > depth:
        if "layerActivations" in values:
            raise ValueError(f"layerActivations has {len(acts)} entries but networkShape has {depth} hidden "
                             f"layer{'s' if depth != 1 else ''}; give at most one activation per hidden layer")
        trial["layerActivations"] = acts[:depth]  # a removed layer takes its activation with it
    return trial
