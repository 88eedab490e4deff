"""Parallel hyper-parameter search: one ``cr.fit`` per trial, farmed out to Dask (extra ``chainrule[dask]``).

A *space* maps recipe settings to candidates. A list is a set of choices (grid search takes
their product); for random search a setting may also be ``{"uniform": [a, b]}``,
``{"log_uniform": [a, b]}`` or ``{"int": [a, b]}``. The fit settings ``lr``, ``optimizer``,
``batch_size``, ``epochs``, ``l1`` and ``l2`` go to ``fit``; every other setting goes to
``model_fn(**settings)`` (by default an MLP from ``hidden`` and ``activation``).

Each trial trains with early stopping on validation data and is scored by its best
validation loss (or ``monitor``). Trials are independent and seeded by their number, so the
result is the same on a cluster as one by one in this process. A trial that fails is kept in
the table with its error, and the search goes on.

Example:
    >>> import numpy as np
    >>> X = np.random.default_rng(0).normal(size=(120, 2)); y = (X[:, 0] * X[:, 1] > 0).astype(int)
    >>> r = search(None, {"hidden": [[8], [16]], "lr": [0.01, 0.1]}, (X, y), epochs=5,
    ...            scheduler="sequential", seed=0)
    >>> len(r.rows), sorted(r.best)
    (4, ['hidden', 'lr'])
"""

from __future__ import annotations

import csv
import itertools
import math
import time
import warnings
from typing import NamedTuple

import numpy as np

from .._core import Registry, as_generator, check, check_choice, check_int
from ..nn import MLP

# train.loop imports this package (fit's distributed=), so what comes from train and
# callbacks (which import train) is imported inside the functions that use it.

__all__ = ["search", "SearchResult", "sample_space", "FIT_SETTINGS", "MODEL_SETTINGS", "DISTRIBUTIONS"]

#: Settings that go to ``fit`` (the rest build the model).
FIT_SETTINGS = ("lr", "optimizer", "batch_size", "epochs", "l1", "l2")
#: The settings of the MLP built when no ``model_fn`` is given.
MODEL_SETTINGS = ("hidden", "activation")

#: Random-search distributions: name -> ``fn(rng, low, high) -> value``.
DISTRIBUTIONS = Registry("distribution")
DISTRIBUTIONS.register(lambda rng, lo, hi: float(rng.uniform(lo, hi)), name="uniform")
DISTRIBUTIONS.register(lambda rng, lo, hi: float(math.exp(rng.uniform(math.log(lo), math.log(hi)))), name="log_uniform")
DISTRIBUTIONS.register(lambda rng, lo, hi: int(rng.integers(lo, hi + 1)), name="int")


def _check_space(space):
    if not isinstance(space, dict) or not space:
        raise ValueError(f"space must be a non-empty dict of setting -> candidates, got {space!r}")
    for key, cands in space.items():
        if isinstance(cands, dict):
            if len(cands) != 1:
                raise ValueError(f"space[{key!r}] must be one distribution such as {{'log_uniform': [1e-4, 1e-1]}}, "
                                 f"got {cands!r}")
            (name, bounds), = cands.items()
            DISTRIBUTIONS[name]  # noqa: B018 - an unknown name raises its one-sentence error
            if not (isinstance(bounds, (list, tuple)) and len(bounds) == 2 and all(map(_is_num, bounds))
                    and bounds[0] < bounds[1] and (name != "log_uniform" or bounds[0] > 0)):
                raise ValueError(f"space[{key!r}] {name} needs [low, high] with low < high"
                                 f"{' and low > 0' if name == 'log_uniform' else ''}, got {bounds!r}")
        elif not isinstance(cands, (list, tuple)) or not cands:
            raise ValueError(f"space[{key!r}] must be a non-empty list of choices or a distribution, got {cands!r}")
    return space


def _is_num(v):
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def sample_space(space, n_trials=None, method="grid", seed=0):
    """The trials' settings: the grid's product (optionally the first ``n_trials`` of it) or random draws.

    Example:
        >>> sample_space({"lr": [0.1, 0.01], "hidden": [[8]]})
        [{'lr': 0.1, 'hidden': [8]}, {'lr': 0.01, 'hidden': [8]}]
        >>> len(sample_space({"lr": {"log_uniform": [1e-4, 1e-1]}}, 3, "random"))
        3
    """
    _check_space(space)
    check_choice("method", method, ("grid", "random"))
    if n_trials is not None:
        n_trials = check_int("n_trials", n_trials)
    keys = list(space)
    if method == "grid":
        if any(isinstance(space[k], dict) for k in keys):
            raise ValueError("grid search needs lists of choices; use method='random' for distributions")
        grid = [dict(zip(keys, combo)) for combo in itertools.product(*(space[k] for k in keys))]
        return grid[:n_trials] if n_trials else grid
    if n_trials is None:
        raise ValueError("random search needs n_trials")
    rng = as_generator(seed)
    return [{k: _draw(rng, space[k]) for k in keys} for _ in range(n_trials)]


def _draw(rng, cands):
    if isinstance(cands, dict):
        (name, (lo, hi)), = cands.items()
        return DISTRIBUTIONS[name](rng, lo, hi)
    return cands[int(rng.integers(len(cands)))]


class SearchResult(NamedTuple):
    """Rows (one dict per trial, best first; failed trials last with their ``error``), the best settings and model."""

    rows: list
    best: dict
    best_model: object
    monitor: str

    def to_csv(self, path):
        """Write the table as CSV (settings as JSON-like text)."""
        keys = sorted({k for r in self.rows for k in r})
        order = ["trial", "score", "epochs", "seconds", "error"]
        keys = [k for k in order if k in keys] + [k for k in keys if k not in order]
        with open(path, "w", newline="") as f:
            w = csv.DictWriter(f, keys)
            w.writeheader()
            for r in self.rows:
                w.writerow({k: r.get(k, "") for k in keys})

    def table(self):
        """The rows as aligned text."""
        keys = ["trial", "score", "epochs"] + sorted({k for r in self.rows for k in r} - {"trial", "score", "epochs",
                                                                                             "seconds", "error"})
        keys += ["error"] if any("error" in r for r in self.rows) else []
        cells = [[_cell(r.get(k, "")) for k in keys] for r in self.rows]
        widths = [max(len(k), *(len(c[i]) for c in cells)) for i, k in enumerate(keys)]
        line = lambda vals: "  ".join(v.ljust(w) for v, w in zip(vals, widths)).rstrip()
        return "\n".join([line(keys)] + [line(c) for c in cells])


def _cell(v):
    return f"{v:.4g}" if isinstance(v, float) else str(v)


def _default_model(n_in, n_out, hidden=(32,), activation="relu", seed=0):
    return MLP([n_in, *hidden, n_out], activation=activation, seed=seed)


def run_trial(model_fn, settings, data, options, trial):
    """Train one trial and return its table row (never raises: a failure is the row's ``error``)."""
    from ..callbacks import EarlyStopping
    from ..train import fit

    start = time.perf_counter()
    row = {"trial": trial, **settings}
    try:
        (X, y), val = data
        fit_kw = {k: settings[k] for k in FIT_SETTINGS if k in settings}
        model_kw = {k: v for k, v in settings.items() if k not in FIT_SETTINGS}
        seed = options["seed"] + trial
        if model_fn is None:
            n_out = options["n_out"]
            model = _default_model(X.shape[1], n_out, seed=seed, **model_kw)
        else:
            model = model_fn(**model_kw)
        reg = {k: fit_kw.pop(k) for k in ("l1", "l2") if k in fit_kw} or None
        optimizer = (fit_kw.pop("optimizer", options["optimizer"]), fit_kw.pop("lr", options["lr"]))
        stop = EarlyStopping(options["monitor"], patience=options["patience"])
        metric = options["monitor"][4:] if options["monitor"].startswith("val_") else options["monitor"]
        h = fit(model, options["loss"], optimizer, (X, y), val=val, epochs=fit_kw.pop("epochs", options["epochs"]),
                batch_size=fit_kw.pop("batch_size", None), callbacks=[stop], regularization=reg, seed=seed, verbose=0,
                metrics=None if metric == "loss" else [metric])
        row.update(score=float(stop.best) if stop.best is not None else math.nan, epochs=len(h))
        row["_model"] = model
    except Exception as exc:  # noqa: BLE001 - a bad trial is reported, not fatal to the search
        row.update(score=math.nan, error=str(exc) or type(exc).__name__)
    row["seconds"] = round(time.perf_counter() - start, 3)
    return row


class _Sequential:
    """Trials one after another in this process (no Dask needed): the reference for equivalence."""

    def run(self, fn, calls):
        for args in calls:
            yield fn(*args)

    def close(self):
        pass


class _Dask:
    """Trials as futures on a Dask cluster: a fresh ``LocalCluster`` or the scheduler at ``address``."""

    def __init__(self, address, n_workers):
        try:
            from dask.distributed import Client, LocalCluster
        except ImportError:
            raise ImportError("parallel search needs Dask; install it with `pip install chainrule[dask]` "
                              "(dask and distributed), or pass scheduler='sequential'") from None
        self.cluster = None
        if address is None:
            # one BLAS thread per worker process: the trials, not the matrix products, are the parallelism
            self.cluster = LocalCluster(n_workers=n_workers, threads_per_worker=1, processes=True,
                                        dashboard_address=None, env={"OPENBLAS_NUM_THREADS": "1",
                                                                     "OMP_NUM_THREADS": "1"})
            self.client = Client(self.cluster)
        else:
            self.client = Client(address)

    def run(self, fn, calls):
        from dask.distributed import as_completed

        futures = [self.client.submit(fn, *args, pure=False) for args in calls]
        try:
            for future in as_completed(futures):
                yield future.result()
        finally:  # Ctrl-C or an error here: cancel what has not run yet
            self.client.cancel([f for f in futures if not f.done()])

    def close(self):
        self.client.close()
        if self.cluster is not None:
            self.cluster.close()


def _executor(scheduler, n_workers):
    if scheduler == "sequential":
        return _Sequential()
    if scheduler in (None, "processes"):
        return _Dask(None, n_workers)
    if isinstance(scheduler, str) and scheduler.startswith(("tcp://", "tls://", "inproc://")):
        return _Dask(scheduler, n_workers)
    raise ValueError(f"scheduler must be None or 'processes' (a local Dask cluster), 'sequential', "
                     f"or a Dask scheduler address such as 'tcp://127.0.0.1:8786', got {scheduler!r}")


def _validation(data, val, validation_split, seed):
    from ..train.loop import _split_validation
    from ..train.setup import as_pair

    X, y = as_pair(data, "data")
    if val is not None:
        return (np.asarray(X), np.asarray(y)), as_pair(val, "val")
    check("validation_split", validation_split, "(0,1)")
    return _split_validation(X, y, validation_split, seed)


def search(model_fn, space, data, *, n_trials=None, method="grid", loss="cross_entropy", optimizer="adam",
           lr=0.01, epochs=50, patience=5, monitor="val_loss", val=None, validation_split=0.2, seed=0,
           scheduler=None, n_workers=2, on_result=None):
    """Grid or random search over recipe settings; every trial a ``cr.fit`` with early stopping.

    Args:
        model_fn: ``model_fn(**model_settings) -> nn.Module``, or None for an MLP built from the
            settings ``hidden`` (list of sizes) and ``activation``.
        space: setting -> candidates (see the module docstring).
        data: ``(X, y)`` training data; ``val`` or ``validation_split`` gives the validation part.
        n_trials: random search's number of trials (grid: the first ``n_trials`` combinations).
        method: "grid" or "random".
        loss, optimizer, lr, epochs, patience: the recipe of settings the space does not set.
        monitor: the validation key that scores a trial ("val_loss"; "val_accuracy" needs
            ``metrics``-free accuracy logging and is maximised).
        seed: trial ``i`` uses ``seed + i`` for its weights and shuffling.
        scheduler: None or "processes" (a local Dask cluster of ``n_workers`` processes),
            "sequential" (this process, no Dask), or a scheduler address "tcp://host:port".
        on_result: called with each row as it arrives (progress).

    Returns:
        :class:`SearchResult`, rows sorted best first (failed trials last).
    """
    from ..train.history import Monitor
    from ..train.setup import resolve_loss, spec_of

    trials = sample_space(space, n_trials, method, seed)
    check_int("epochs", epochs), check_int("patience", patience), check_int("n_workers", n_workers)
    resolve_loss(loss)  # an unknown loss name fails here, not in every trial
    unknown = [k for k in space if model_fn is None and k not in FIT_SETTINGS + MODEL_SETTINGS]
    if unknown:  # every trial would fail on it
        raise ValueError(f"space sets {unknown[0]!r}, which neither fit nor the default MLP takes; expected "
                         f"settings among {', '.join(FIT_SETTINGS + MODEL_SETTINGS)}, or pass a model_fn taking it")
    watch = Monitor(monitor)
    train, val_data = _validation(data, val, validation_split, seed)
    y = np.asarray(train[1])
    classes = isinstance(loss, str) and spec_of(loss).outputs == "classes"
    n_out = int(y.max()) + 1 if classes else (1 if y.ndim == 1 else y.shape[1])
    options = {"seed": int(seed), "n_out": n_out, "loss": loss, "optimizer": optimizer, "lr": lr, "epochs": epochs,
               "patience": patience, "monitor": monitor}
    executor = _executor(scheduler, n_workers)
    rows, best_model, best = [], None, None
    try:
        for row in executor.run(run_trial, [(model_fn, s, (train, val_data), options, i) for i, s in enumerate(trials)]):
            model = row.pop("_model", None)
            if model is not None and watch.improves(row["score"], best):
                best, best_model = row["score"], model
            rows.append(row)
            if on_result is not None:
                on_result(row)
    finally:
        executor.close()
    failed = [r for r in rows if r.get("error")]
    if rows and len(failed) == len(rows):
        warnings.warn(f"every one of the {len(rows)} trials failed; the first: {failed[0]['error']}", RuntimeWarning,
                      stacklevel=2)
    rows.sort(key=lambda r: (math.isnan(r["score"]), -r["score"] if watch.higher else r["score"], r["trial"]))
    best_settings = {k: v for k, v in rows[0].items() if k in trials[0]} if best_model is not None else None
    return SearchResult(rows, best_settings, best_model, monitor)
