"""scikit-learn estimators backed by chainrule MLPs: ``MLPClassifier`` and ``MLPRegressor``.

They follow the estimator API (``fit``, ``predict``, ``score``,
``partial_fit``, ``get_params`` / ``set_params``, learned attributes ending
in ``_``) and pass ``sklearn.utils.estimator_checks.check_estimator``, so
they work inside ``Pipeline``, ``GridSearchCV`` and ``cross_val_score``.
Hyper-parameter names follow scikit-learn's own MLP estimators where the
meaning is the same, so switching is a one-line change; ``activation`` and
``solver`` take any name of ``chainrule.nn.ACTIVATIONS`` and
``chainrule.optim.OPTIMIZERS``. Training runs through
:func:`chainrule.train.fit`; the trained network is ``model_``, a plain
``nn.MLP`` that ``chainrule.io.save`` and ``chainrule.io.onnx.to_onnx`` accept.

Needs the ``sklearn`` extra (``pip install chainrule[sklearn]``).

Example:
    >>> from sklearn.datasets import make_moons
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn.preprocessing import StandardScaler
    >>> X, y = make_moons(200, noise=0.1, random_state=0)
    >>> clf = make_pipeline(StandardScaler(), MLPClassifier((16,), learning_rate_init=0.05, tol=1e-3, random_state=0))
    >>> clf.fit(X, y).score(X, y) > 0.95
    True
"""

from __future__ import annotations

import warnings

import numpy as np

try:
    from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.utils.validation import check_is_fitted
except ImportError:  # pragma: no cover - exercised only without the extra
    raise ImportError("chainrule.sklearn needs scikit-learn; install it with `pip install chainrule[sklearn]`") from None

from . import _checks as checks
from .._core import short_repr
from ._checks import ACTIVATION_ALIASES  # noqa: F401 - importable from here, as before
from ..callbacks.stopping import EarlyStopping, StopOnPlateau
from ..data import StandardScaler, split_indices
from ..nn import ACTIVATIONS, MLP, default_loss, loss_spec
from ..optim import OPTIMIZERS
from ..train.loop import fit as _fit
from ..train.loop import predict as _forward

__all__ = ["MLPClassifier", "MLPRegressor"]

_DTYPE = np.float64  # float64 so that predictions on a subset equal those on the full batch
# What a fit leaves on the estimator besides the public attributes ending in "_".
_PRIVATE_STATE = ("_optimizer", "_rng", "_y_mean", "_y_scale", "_y_1d")


def _draw_seed(rng):
    """An int seed for chainrule from scikit-learn's RandomState."""
    return int(rng.randint(0, 2**31 - 1))


class _ChainruleMLP(BaseEstimator):
    """What the classifier and the regressor share: parameters, network building and the fit call."""

    _task = None  # each subclass trains with the nn.LOSSES entry marked default for its task

    def __init__(self, hidden_layer_sizes=(100,), activation="relu", solver="adam", learning_rate_init=1e-3,
                 alpha=1e-4, batch_size="auto", max_iter=200, tol=1e-4, n_iter_no_change=10,
                 early_stopping=False, validation_fraction=0.1, random_state=None, warm_start=False, verbose=0):
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.solver = solver
        self.learning_rate_init = learning_rate_init
        self.alpha = alpha
        self.batch_size = batch_size
        self.max_iter = max_iter
        self.tol = tol
        self.n_iter_no_change = n_iter_no_change
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.random_state = random_state
        self.warm_start = warm_start
        self.verbose = verbose

    # ------------------------------------------------------------ checks
    def _checked_params(self, continues):
        """The checked hyper-parameters (never checked in __init__, as scikit-learn requires).

        ``continues``: this call trains the fitted network further, so its architecture must not have changed.
        """
        settings = checks.hyper_parameters(self)
        if continues:
            checks.unchanged_architecture(self, settings)
        return settings

    def _continues(self):
        """True when fit trains the fitted network on rather than a new one."""
        return checks.check_bool("warm_start", self.warm_start) and hasattr(self, "model_")

    def _validate_X(self, X, reset):
        return checks.validated(self, X, reset=reset, dtype=_DTYPE)

    # ------------------------------------------------------------ training
    def _new_network(self, n_outputs, settings):
        self.model_ = MLP([self.n_features_in_, *settings.hidden, n_outputs], activation=settings.activation,
                          seed=_draw_seed(settings.rng), dtype=_DTYPE)
        self._optimizer = OPTIMIZERS[self.solver](self.model_.parameters(), lr=self.learning_rate_init)
        self._rng = settings.rng  # later partial_fit calls keep drawing shuffling seeds from it
        self.loss_curve_ = []

    def _sync_optimizer(self):
        """A solver or learning rate changed since the last call takes effect on the fitted network.

        The same solver keeps its state (Adam's moments, say) with the new learning rate.
        """
        rule = OPTIMIZERS[self.solver]
        if type(self._optimizer) is rule:
            self._optimizer.lr = self.learning_rate_init
        else:
            self._optimizer = rule(self.model_.parameters(), lr=self.learning_rate_init)

    def _forget(self):
        """Drop what a failed fit left, so the estimator counts as not fitted instead of half trained."""
        for key in [k for k in vars(self) if (k.endswith("_") and not k.startswith("__")) or k in _PRIVATE_STATE]:
            delattr(self, key)

    def _guarded(self, fresh, train, *args):
        """``train(*args)``; if it fails on a network built for it, the estimator is left unfitted."""
        try:
            return train(*args)
        except Exception:
            if fresh:
                self._forget()
            raise

    def _batch(self, n_rows):
        return min(200 if self.batch_size == "auto" else self.batch_size, n_rows)

    def _run(self, X, Y, epochs, rng, verbose, callbacks=None, val=None):
        """Train ``model_`` on (X, Y) for up to ``epochs`` epochs with the persistent optimiser."""
        history = _fit(
            self.model_, default_loss(self._task), self._optimizer, (X, Y), val=val, epochs=epochs,
            batch_size=self._batch(len(X)), callbacks=callbacks, seed=_draw_seed(rng),
            metrics=[self._score_metric] if val is not None else None,
            regularization={"l2": self.alpha} if self.alpha > 0 else None, verbose=verbose,
            on_nonfinite="raise",  # as scikit-learn's MLP does, rather than return NaN probabilities
        )
        self.loss_curve_ = list(self.loss_curve_) + [float(v) for v in history["loss"]]
        self.n_iter_ = len(self.loss_curve_)  # epochs since the network was built, as scikit-learn counts
        self.history_ = history
        return history

    def _partial_step(self, X, Y, n_outputs, settings, first):
        """partial_fit's epoch: on a new network for the first call, else on the fitted one."""
        if first:
            self._new_network(n_outputs, settings)
        else:
            self._sync_optimizer()
        self._run(X, Y, 1, self._rng, settings.verbose)
        return self

    def _fit_full(self, X, Y, n_outputs, stratify, settings, continues):
        if continues:
            self._sync_optimizer()
        else:
            self._new_network(n_outputs, settings)
        val = None
        if self.early_stopping:
            (X, Y), val = self._split(X, Y, stratify, settings.rng)
            callbacks = [EarlyStopping("val_loss", patience=self.n_iter_no_change, min_delta=self.tol)]
        else:
            callbacks = [StopOnPlateau("loss", patience=self.n_iter_no_change, min_delta=self.tol)]
        history = self._run(X, Y, self.max_iter, settings.rng, settings.verbose, callbacks=callbacks, val=val)
        self._record_scores(history)
        if history.stop_reason is None:
            warnings.warn(f"{type(self).__name__} stopped after max_iter={self.max_iter} epochs before the loss "
                          "settled; raise max_iter", ConvergenceWarning, stacklevel=5)
        return self

    def _record_scores(self, history):
        # scikit-learn's MLP: best_loss_ without early stopping, validation_scores_ with it
        self.best_loss_ = None if self.early_stopping else min(self.loss_curve_)
        self.validation_scores_ = self.best_validation_score_ = None
        if self.early_stopping:
            self.validation_loss_curve_ = [float(v) for v in history["val_loss"]]
            self.best_validation_loss_ = min(self.validation_loss_curve_)
            self.validation_scores_ = [float(v) for v in history[f"val_{self._score_metric}"]]
            self.best_validation_score_ = max(self.validation_scores_)

    def _split(self, X, Y, stratify, rng):
        strat = stratify is not None and np.bincount(stratify).min() >= 2
        try:
            parts = split_indices(len(X), stratify if strat else None, val=self.validation_fraction, test=0,
                                  stratify=strat, seed=_draw_seed(rng))
        except ValueError:
            parts = None
        if parts is None or len(parts.train) == 0 or len(parts.val) == 0:
            raise ValueError(f"early stopping needs training and validation rows, but validation_fraction="
                             f"{self.validation_fraction} of n_samples={len(X)} leaves one part empty")
        return (X[parts.train], Y[parts.train]), (X[parts.val], Y[parts.val])

    @property
    def coefs_(self):
        """Weight matrices as scikit-learn lays them out: ``coefs_[i]`` has shape (inputs, outputs) of layer i."""
        check_is_fitted(self, "model_")
        return [layer.weight.data.T.copy() for layer in (*self.model_.hidden, self.model_.output)]

    @property
    def intercepts_(self):
        """Bias vectors, one per layer (``intercepts_[i]`` has shape (outputs of layer i,))."""
        check_is_fitted(self, "model_")
        return [layer.bias.data.copy() for layer in (*self.model_.hidden, self.model_.output)]

    def _outputs(self, X):
        check_is_fitted(self, "model_")
        return _forward(self.model_, self._validate_X(X, reset=False))


class MLPClassifier(ClassifierMixin, _ChainruleMLP):
    """Multi-layer perceptron classifier: softmax outputs trained with cross-entropy.

    Args:
        hidden_layer_sizes: units per hidden layer, e.g. ``(64, 32)``; ``()`` is
            multinomial logistic regression.
        activation: hidden activation, any ``nn.ACTIVATIONS`` name ("relu",
            "tanh", "gelu", ...; "logistic" means "sigmoid").
        solver: an ``optim.OPTIMIZERS`` name ("adam", "sgd", "rmsprop", ...).
        learning_rate_init: the optimiser's learning rate (> 0).
        alpha: L2 penalty; ``alpha * sum(w ** 2)`` over the weights is added to the mean loss.
        batch_size: rows per step, or "auto" for 200; a size beyond the number of
            (training) rows means full batches, as in scikit-learn.
        max_iter: maximum number of epochs.
        tol, n_iter_no_change: stop once the training loss (or, with early
            stopping, the validation loss) has not improved by ``tol`` for
            ``n_iter_no_change`` epochs in a row.
        early_stopping: hold out ``validation_fraction`` of the rows
            (stratified) and keep the weights of the best validation loss.
        random_state: seed of initialisation, shuffling and the split: None,
            an int from 0 to 2**32 - 1 or a ``numpy.random.RandomState``.
        warm_start: ``fit`` trains the fitted network on from its current weights.
            A changed ``solver`` or ``learning_rate_init`` takes effect (the same
            solver keeps its state, e.g. Adam's moments); the layers cannot
            change under it, so a changed ``hidden_layer_sizes`` or
            ``activation`` raises ValueError (set ``warm_start=False`` to train a
            new network), as do new features or labels outside ``classes_``.
            Later ``partial_fit`` calls follow the same rules.
        verbose: 0 silent, 1 progress bar, 2 a line per epoch (True means 1).

    A fit that fails leaves the estimator unfitted, except one that trained a
    fitted network on (warm start, later ``partial_fit`` calls), which keeps it.

    Attributes:
        classes_, n_features_in_, model_ (the ``nn.MLP``), n_iter_, loss_curve_,
        history_ (the last ``fit``'s History), coefs_ and intercepts_ (scikit-learn's
        layout), best_loss_ (without early stopping), and with early stopping
        validation_loss_curve_, best_validation_loss_, validation_scores_ (accuracy per
        epoch) and best_validation_score_.

    Example:
        >>> from sklearn.datasets import load_iris
        >>> X, y = load_iris(return_X_y=True)
        >>> clf = MLPClassifier((32,), learning_rate_init=0.01, tol=1e-2, random_state=0).fit(X, y)
        >>> clf.predict_proba(X[:2]).shape, clf.score(X, y) > 0.95
        ((2, 3), True)
    """

    _task = "classification"
    _score_metric = "accuracy"  # what score() measures, logged per epoch on the validation rows

    def fit(self, X, y):
        """Train from scratch (or from the current weights with ``warm_start``) on X, y."""
        continues = self._continues()
        settings = self._checked_params(continues)
        return self._guarded(not continues, self._fit_data, X, y, settings, continues)

    def _fit_data(self, X, y, settings, continues):
        X, y = checks.validated(self, X, y, dtype=_DTYPE, reset=not continues)
        y = checks.class_labels(y)
        classes = self.classes_ if continues else checks.fit_classes(y)
        labels = checks.label_indices(y, classes)
        self.classes_ = classes
        return self._fit_full(X, labels, len(classes), labels, settings, continues)

    def partial_fit(self, X, y, classes=None):
        """One epoch over X, y; the first call must list every class in ``classes``."""
        first = not hasattr(self, "model_")
        settings = self._checked_params(continues=not first)
        if first and classes is None:
            raise ValueError("the first call to partial_fit needs classes=, the list of all class labels")
        return self._guarded(first, self._partial_data, X, y, classes, settings, first)

    def _partial_data(self, X, y, classes, settings, first):
        X, y = checks.validated(self, X, y, dtype=_DTYPE, reset=first)
        known = checks.class_list(classes) if first else self.classes_
        if not first and classes is not None and not np.array_equal(checks.class_list(classes), known):
            raise ValueError(f"classes={short_repr(np.asarray(classes).tolist())} differ from the classes of the "
                             f"first call, {short_repr(known.tolist())}")
        labels = checks.label_indices(checks.class_labels(y), known)
        self.classes_ = known
        return self._partial_step(X, labels, len(known), settings, first)

    def predict_proba(self, X):
        """Class probabilities, shape (n_samples, n_classes), columns in ``classes_`` order."""
        head = loss_spec(default_loss(self._task)).activation  # softmax for cross-entropy
        return np.asarray(ACTIVATIONS[head](self._outputs(X)), dtype=_DTYPE)

    def predict_log_proba(self, X):
        """Natural log of :meth:`predict_proba`, computed stably from the logits."""
        z = self._outputs(X)
        z = z - z.max(axis=1, keepdims=True)
        return z - np.log(np.exp(z).sum(axis=1, keepdims=True))

    def predict(self, X):
        """The most probable class of each row."""
        scores = self._outputs(X)  # checks fittedness before classes_ is touched
        return self.classes_[np.argmax(scores, axis=1)]

    def onnx_parts(self):
        """``(network, options)`` for :func:`chainrule.io.onnx.to_onnx`: the graph gives ``predict_proba``."""
        check_is_fitted(self, "model_")
        return self.model_, {"head": loss_spec(default_loss(self._task)).activation}


class MLPRegressor(RegressorMixin, _ChainruleMLP):
    """Multi-layer perceptron regressor: linear outputs trained with mean squared error.

    Targets are standardised internally (mean 0, variance 1 per column) and
    predictions mapped back, so the learning rate does not depend on the
    targets' units. Takes the same parameters as :class:`MLPClassifier`;
    ``y`` may have several columns.

    Example:
        >>> import numpy as np
        >>> X = np.linspace(-2, 2, 200).reshape(-1, 1)
        >>> reg = MLPRegressor((32,), activation="tanh", learning_rate_init=0.01, batch_size=32, random_state=0)
        >>> reg.fit(X, X.ravel() ** 2 + 10).score(X, X.ravel() ** 2 + 10) > 0.95
        True
    """

    _task = "regression"
    _score_metric = "r2"  # R^2 is the same on standardised and original targets

    def fit(self, X, y):
        """Train from scratch (or from the current weights with ``warm_start``) on X, y."""
        continues = self._continues()
        settings = self._checked_params(continues)
        return self._guarded(not continues, self._fit_data, X, y, settings, continues)

    def _fit_data(self, X, y, settings, continues):
        X, y = self._validate_Xy(X, y, reset=not continues)
        if not continues:
            self._fit_scaling(y)
        return self._fit_full(X, self._scaled(y), self._y_mean.size, None, settings, continues)

    def partial_fit(self, X, y):
        """One epoch over X, y (the first call fixes the target scaling from its y)."""
        first = not hasattr(self, "model_")
        settings = self._checked_params(continues=not first)
        return self._guarded(first, self._partial_data, X, y, settings, first)

    def _partial_data(self, X, y, settings, first):
        X, y = self._validate_Xy(X, y, reset=first)
        if first:
            self._fit_scaling(y)
        return self._partial_step(X, self._scaled(y), self._y_mean.size, settings, first)

    def _validate_Xy(self, X, y, reset):
        X, y = checks.validated(self, X, y, numeric_y=True, dtype=_DTYPE, multi_output=True, y_numeric=True,
                                reset=reset)
        return X, checks.regression_targets(y)

    def _fit_scaling(self, y):
        Y = y.reshape(len(y), -1)
        with np.errstate(over="ignore", invalid="ignore"):  # an overflow is reported by _scaled, naming the row
            mean, std = Y.mean(axis=0), Y.std(axis=0)
        self._y_1d = y.ndim == 1
        self._y_mean = mean
        self._y_scale = np.where(std > 0, std, 1.0)  # a constant column stays as it is, shifted to 0

    def _scaled(self, y):
        Y = y.reshape(len(y), -1)
        if Y.shape[1] != self._y_mean.size:
            raise ValueError(f"y has {Y.shape[1]} columns but the model was fitted on {self._y_mean.size}")
        return checks.standardised(Y, self._y_mean, self._y_scale, self._y_1d)

    def predict(self, X):
        """Predicted targets, shape (n_samples,) or (n_samples, n_targets) as in ``fit``."""
        Y = self._outputs(X) * self._y_scale + self._y_mean
        return Y.ravel() if self._y_1d else Y

    def onnx_parts(self):
        """``(network, options)`` for :func:`chainrule.io.onnx.to_onnx`: the graph maps outputs back to y's units.

        The ONNX output always has shape (n_samples, n_targets), also for a 1-D ``y``.
        """
        check_is_fitted(self, "model_")
        target = StandardScaler.from_dict({"type": "StandardScaler", "mean_": self._y_mean.tolist(),
                                           "scale_": self._y_scale.tolist()})
        return self.model_, {"target_scaler": target}

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        return tags
