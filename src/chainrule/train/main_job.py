"""The standard training job: an MLP on the built-in 8x8 digits, end to end.

It shows the whole workflow in one place: split the data, standardise it
with statistics of the training part only, train with a progress bar and a
validation set, report train / validation / test accuracy, save the model
with its preprocessing, and plot the learning curves.

Output folder layout (default ``runs/digits``):

* ``model.safetensors``: weights + architecture; the metadata holds the
  fitted scaler (``scaler``), the class names, the recipe and the accuracies;
* ``curves.png``: loss and accuracy per epoch, training vs validation;
* ``history.csv``: the same numbers as a table.

Example:
    >>> import tempfile
    >>> result = main_job(tempfile.mkdtemp(), epochs=2, verbose=0)  # doctest: +SKIP
    >>> sorted(result["accuracy"])  # doctest: +SKIP
    ['test', 'train', 'validation']
"""

from __future__ import annotations

import os
import sys

from .. import nn
from ..callbacks import CSVLogger, LRScheduler
from ..data import StandardScaler, load_dataset, split_dataset
from ..io.bundle import require_safetensors
from ..io.models import save
from ..viz import plot_history
from ..viz._figure import require_matplotlib
from .loop import evaluate, fit

__all__ = ["main_job", "RECIPE"]

#: How the network is trained (also stored in the saved model's metadata).
RECIPE = {
    "sizes": [64, 128, 64, 10], "activation": "relu", "loss": "cross_entropy",
    "optimizer": {"name": "sgd", "lr": 0.05, "momentum": 0.9, "weight_decay": 5e-4},
    "schedule": "cosine", "batch_size": 32, "split": {"val": 0.1, "test": 0.2, "stratify": True},
}


def _paths(out_dir):
    return {name: os.path.join(out_dir, name) for name in ("model.safetensors", "curves.png", "history.csv")}


def _check_ready(paths, overwrite):
    """Fail before training, not after: missing extras or an existing model."""
    require_safetensors()
    require_matplotlib()
    model_path = paths["model.safetensors"]
    if os.path.exists(model_path) and not overwrite:
        raise FileExistsError(f"{model_path} already exists; pass overwrite=True to replace it")


def _data(seed):
    ds = load_dataset("digits")
    parts = split_dataset(ds, val=RECIPE["split"]["val"], test=RECIPE["split"]["test"], stratify=True, seed=seed)
    scaler = StandardScaler().fit(parts.train.X)  # statistics of the training part only
    scaled = {name: (scaler.transform(p.X), p.y) for name, p in zip(("train", "validation", "test"), parts)}
    return scaled, scaler, ds.class_names, ds.feature_names


def _train(data, epochs, seed, verbose, csv_path):
    model = nn.MLP(RECIPE["sizes"], activation=RECIPE["activation"], seed=seed)
    callbacks = [LRScheduler(RECIPE["schedule"], t_max=epochs), CSVLogger(csv_path, overwrite=True)]
    history = fit(model, RECIPE["loss"], dict(RECIPE["optimizer"]), data["train"], val=data["validation"],
                  epochs=epochs, batch_size=RECIPE["batch_size"], metrics=["accuracy"], callbacks=callbacks,
                  seed=seed, verbose=verbose)
    return model, history


def main_job(out_dir="runs/digits", overwrite=False, epochs=40, seed=0, verbose=1, stream=None):
    """Train an MLP on the digits, print its accuracies, save it and plot its learning curves.

    Args:
        out_dir: output folder (created if needed).
        overwrite: replace an existing ``model.safetensors`` there; by default that is an error.
        epochs: training epochs.
        seed: seeds the split, the weights and the shuffling.
        verbose: 0 silent, 1 progress bar (one line per epoch when not on a terminal), 2 lines.
        stream: where the accuracy report is printed (default stdout; nothing when verbose is 0).

    Returns:
        ``{"accuracy": {"train", "validation", "test"}, "paths": {...}, "epochs": int}``.

    Raises:
        FileExistsError: the model file exists and ``overwrite`` is False (checked before training).
        ImportError: scikit-learn, safetensors or matplotlib is missing.
    """

    paths = _paths(os.fspath(out_dir))
    _check_ready(paths, overwrite)
    data, scaler, class_names, feature_names = _data(seed)
    os.makedirs(out_dir, exist_ok=True)
    model, history = _train(data, epochs, seed, verbose, paths["history.csv"])
    accuracy = {name: evaluate(model, RECIPE["loss"], pair, metrics=["accuracy"])["accuracy"]
                for name, pair in data.items()}
    if verbose:
        print(" / ".join(f"{k} accuracy {v:.4f}" for k, v in accuracy.items()), file=stream or sys.stdout)
    # task, loss and feature names let `chainrule predict/info` use the model like any CLI-trained one.
    metadata = {"dataset": "digits", "task": "classification", "loss": RECIPE["loss"],
                "feature_names": list(feature_names), "scaler": scaler.to_dict(), "class_names": list(class_names),
                "recipe": RECIPE, "epochs": len(history), "seed": seed, "accuracy": accuracy}
    save(model, paths["model.safetensors"], metadata=metadata, overwrite=overwrite)
    plot_history(history, paths["curves.png"], title="MLP on the 8x8 digits")
    return {"accuracy": accuracy, "paths": paths, "epochs": len(history)}
