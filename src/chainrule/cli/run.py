"""One training run from raw data to a folder of results: what ``chainrule train`` does.

:func:`train_run` checks every setting before it touches the data or the
disk, loads DATA, splits it (stratified for classes), fits a scaler on the
training rows only, trains an ``nn.MLP`` with :func:`chainrule.train.fit`
(early stopping, checkpoints, progress) and writes the output folder:

* ``model.safetensors``: weights, architecture and everything predict needs
  (feature order, scaler, class names, target, task, loss);
* ``history.csv`` / ``history.json``: one row per epoch;
* ``report.json``: the settings and the train / validation / test scores;
* ``learning_curves.png``: loss and accuracy per epoch;
* ``checkpoint/``: resumable state (``--resume``).

Example:
    >>> import tempfile, os
    >>> out = os.path.join(tempfile.mkdtemp(), "xor")
    >>> s = TrainSettings(hidden=(8,), activation="tanh", lr=0.05, epochs=300, batch_size=4, validation=0,
    ...                   test=0, patience=None, out=out, verbose=0, plots=False)
    >>> result = train_run("xor", s)
    >>> result.scores["train"]["accuracy"]
    1.0
"""

from __future__ import annotations

import dataclasses
import json
import os

import numpy as np

from ..io import models as io
from ..io import limits
from ..data import MinMaxScaler, StandardScaler, split_indices
from ..train.history import History
from ..nn import ACTIVATIONS, MLP, REGULARIZERS
from .._core import Registry, check
from ..optim import OPTIMIZERS
from ..train.loop import evaluate, fit
from .outputs import OUTPUT_FILES, check_out_dir, write_text
from .distributed import record_rank_pid, world
from .runfolder import RunFolder, SharedFolder, interrupted_advice
from .sources import load_source, target_column
from .trained import LOSS_SPECS, TASK_METRICS, check_loss

__all__ = ["TrainSettings", "RunResult", "SCALERS", "DEFAULT_LOSS", "train_run", "run_main_job", "parse_hidden"]

#: Feature scaling by name (fitted on the training rows only).
SCALERS = Registry("scaling")
SCALERS.update({"standard": StandardScaler, "minmax": MinMaxScaler, "none": None})

INT64_MAX = 2**63 - 1

#: The loss used when none is given, per task.
DEFAULT_LOSS = {"classification": "cross_entropy", "regression": "mse"}


def parse_hidden(text):
    """Hidden layer sizes from ``"64,32"`` (or a sequence); ``""`` or ``"none"`` means no hidden layer.

    Example:
        >>> parse_hidden("64, 32"), parse_hidden("none")
        ((64, 32), ())
    """
    if isinstance(text, (tuple, list)):
        parts = list(text)
    else:
        text = str(text).strip()
        parts = [] if text.lower() in ("", "none") else [p.strip() for p in text.split(",")]
    sizes = []
    for part in parts:
        digits = str(part)
        # isdigit() alone accepts "²", which int() then rejects; only ASCII 0-9 are sizes.
        if isinstance(part, bool) or not (digits.isascii() and digits.isdigit()) or int(digits) < 1:
            raise ValueError(f"hidden sizes must be positive integers separated by commas, such as 64,32; "
                             f"got {part!r} in {text!r}")
        sizes.append(int(part))
    return tuple(sizes)


def _count(name, value, rule):
    """``check(name, value, rule)``, and within int64: beyond it no NumPy array or generator can hold the value."""
    check(name, value, rule)
    if value > INT64_MAX:
        raise ValueError(f"{name} must be at most {INT64_MAX} (the int64 range), got {value}")
    return value


@dataclasses.dataclass
class TrainSettings:
    """Every option of a training run; :meth:`check` validates them all at once."""

    target: str | None = None
    task: str | None = None
    hidden: tuple = (64,)
    activation: str = "relu"
    loss: str | None = None
    optimizer: str = "adam"
    lr: float = 1e-3
    epochs: int = 100
    batch_size: int = 32
    validation: float = 0.15
    test: float = 0.2
    patience: int | None = 10
    regularization: dict = dataclasses.field(default_factory=dict)
    scaling: str = "standard"
    seed: int = 0
    out: str | None = None
    overwrite: bool = False
    resume: bool = False
    checkpoint: bool = True
    verbose: int = 1
    plots: bool = True

    def check(self):
        """Raise one sentence for the first bad setting; names are checked against their registries."""
        self.hidden = parse_hidden(self.hidden)
        check("lr", self.lr, ">0")
        _count("epochs", self.epochs, "int>0")
        _count("batch_size", self.batch_size, "int>0")
        check("validation", self.validation, "[0,1)")
        check("test", self.test, "[0,1)")
        if self.validation + self.test >= 1:
            raise ValueError(f"validation + test must leave rows to train on, got {self.validation} + {self.test}")
        if self.patience is not None:
            _count("patience", self.patience, "int>0")
        _count("seed", self.seed, "int>=0")
        ACTIVATIONS[self.activation]
        OPTIMIZERS[self.optimizer]
        SCALERS[self.scaling]
        if self.loss is not None:
            check_loss(self.loss)
        for name, strength in self.regularization.items():
            REGULARIZERS[name]
            check(name, strength, ">=0")
        if self.overwrite and self.resume:
            raise ValueError("--overwrite starts afresh and --resume continues; pass one of them")
        return self


@dataclasses.dataclass
class RunResult:
    """What :func:`train_run` produced: the model, its history, scores per part and the files written."""

    model: object
    history: History
    scores: dict
    files: dict
    metadata: dict


def _loss_for(settings, ds):
    name = settings.loss or DEFAULT_LOSS[ds.task]
    spec = LOSS_SPECS[name]
    if spec.task != ds.task:
        fitting = ", ".join(n for n, s in LOSS_SPECS.items() if s.task == ds.task)
        raise ValueError(f"loss {name!r} is for {spec.task}, but {ds.name} is a {ds.task} task; use one of: {fitting}")
    if spec.outputs == "binary" and ds.n_classes != 2:
        raise ValueError(f"loss {name!r} needs exactly 2 classes, but {ds.name} has {ds.n_classes}")
    return name, spec


def _n_outputs(spec, ds):
    return {"classes": ds.n_classes, "binary": 1, "targets": 1 if ds.y.ndim == 1 else ds.y.shape[1]}[spec.outputs]


def _split(ds, settings):
    stratify = ds.task == "classification"
    parts = split_indices(len(ds), ds.y if stratify else None, val=settings.validation, test=settings.test,
                          stratify=stratify, seed=settings.seed)
    return {name: idx for name, idx in zip(("train", "val", "test"), parts) if len(idx)}


def _folder(settings, ds, rank, size):
    out = settings.out or os.path.join("runs", ds.name)
    if size > 1:  # data-parallel ranks share one folder, which rank 0 prepares and writes directly
        return SharedFolder(out, settings.overwrite, settings.resume, rank)
    check_out_dir(out, settings.overwrite, settings.resume)
    return RunFolder(out, settings.overwrite, settings.resume)


def _callbacks(settings, out, has_val):
    from ..callbacks import CSVLogger, EarlyStopping

    callbacks = [CSVLogger(os.path.join(out, OUTPUT_FILES["history_csv"]), overwrite=settings.resume)]
    if has_val and settings.patience:
        callbacks.append(EarlyStopping("val_loss", patience=settings.patience))
    return callbacks


def _metadata(settings, ds, loss, scaler, scores, history, source):
    training = {k: v for k, v in dataclasses.asdict(settings).items()
                if k not in ("out", "overwrite", "resume", "verbose", "plots", "checkpoint", "target", "task", "loss")}
    training.update(hidden=list(settings.hidden), epochs_run=len(history), stop_reason=history.stop_reason,
                    data=os.fspath(source), rows=len(ds))
    return {"task": ds.task, "loss": loss, "target": target_column(source, settings.target),
            "feature_names": list(ds.feature_names), "class_names": list(ds.class_names or []) or None,
            "scaler": scaler.to_dict() if scaler is not None else None, "training": training, "scores": scores}


def train_run(source, settings=None):
    """Train an MLP on DATA and write the run folder; see the module docstring.

    Args:
        source: a CSV/NPZ path or a built-in data set name.
        settings: a :class:`TrainSettings` (defaults when None).

    Returns:
        :class:`RunResult`.

    Raises:
        ValueError / FileExistsError / PermissionError: one sentence, before any file is written
            when the problem is in the settings, the data or the output folder.
    """
    settings = (settings or TrainSettings()).check()
    ds = load_source(source, settings.target, settings.task)
    loss, spec = _loss_for(settings, ds)
    parts = _split(ds, settings)
    rank, size = world()
    record_rank_pid(rank)
    sizes = [ds.n_features, *settings.hidden, _n_outputs(spec, ds)]
    limits.check_parameters(sum((a + 1) * b for a, b in zip(sizes, sizes[1:])), "the model")  # before allocating
    folder = _folder(settings, ds, rank, size)  # checks the folder (and --resume) before any work
    scaler_cls = SCALERS[settings.scaling]
    scaler = scaler_cls().fit(ds.X[parts["train"]]) if scaler_cls is not None else None
    data = {k: (ds.X[idx] if scaler is None else scaler.transform(ds.X[idx]), ds.y[idx]) for k, idx in parts.items()}
    # A single process writes into a staged sibling that replaces `out` only once complete (see runfolder).
    with folder as run:
        model = MLP(sizes, activation=settings.activation, seed=settings.seed)
        history = _fit(model, loss, settings, data, run)
        scores = {k: evaluate(model, loss, d, metrics=TASK_METRICS[ds.task]) for k, d in data.items()}
        metadata = _metadata(settings, ds, loss, scaler, scores, history, source)
        files = _write_outputs(run.stage, model, metadata, history, settings) if rank == 0 else {}
        run.commit()
    files = {role: os.path.join(folder.out, os.path.basename(path)) for role, path in files.items()}
    return RunResult(model, history, scores, files, metadata)


def run_main_job(out=None, overwrite=False, verbose=1):
    """The standard digits job (:func:`chainrule.main_job.main_job`) under the CLI's output-folder rules.

    Returns:
        main_job's result: ``{"accuracy": {...}, "paths": {...}, "epochs": n}``.
    """
    from ..train.main_job import main_job

    out = out or os.path.join("runs", "digits")
    check_out_dir(out, overwrite, resumable=False)
    with RunFolder(out, overwrite) as run:  # locked, staged and swapped in whole, as train_run does
        result = main_job(run.stage, overwrite=True, verbose=verbose)
        run.commit()
    result["paths"] = {name: os.path.join(out, os.path.basename(path)) for name, path in result["paths"].items()}
    return result


def _fit(model, loss, settings, data, run):
    checkpoint_dir = run.path("checkpoint") if settings.checkpoint else None
    try:
        history = fit(model, loss, (settings.optimizer, settings.lr), data["train"], val=data.get("val"),
                      epochs=settings.epochs, batch_size=min(settings.batch_size, len(data["train"][0])),
                      metrics=TASK_METRICS[LOSS_SPECS[loss].task], callbacks=_callbacks(settings, run.stage, "val" in data),
                      seed=settings.seed, checkpoint_dir=checkpoint_dir, resume=settings.resume,
                      regularization=dict(settings.regularization) or None, verbose=settings.verbose,
                      on_nonfinite="raise", distributed="mpi" if world()[1] > 1 else None)
    except KeyboardInterrupt:
        raise KeyboardInterrupt(interrupted_advice(run)) from None
    return history


def _write_outputs(out, model, metadata, history, settings):
    files = {role: os.path.join(out, name) for role, name in OUTPUT_FILES.items()}
    io.save(model, files["model"], metadata=metadata, overwrite=True)  # `out` is this run's own staged folder
    write_text(files["history_json"], json.dumps(history.to_dict(), indent=1, default=_plain), overwrite=True)
    report = {"scores": metadata["scores"], "training": metadata["training"]}
    write_text(files["report"], json.dumps(report, indent=1, default=_plain), overwrite=True)
    if settings.plots:
        files.update(_plots(history, files))
    return {role: path for role, path in files.items() if os.path.exists(path)}


def _plots(history, files):
    """Learning curves as one PNG (loss and metric panels); skipped when matplotlib is missing."""
    from .. import viz
    from ..viz._figure import require_matplotlib

    try:
        require_matplotlib()
    except ImportError:
        return {}
    return {"curves": viz.plot_history(history, files["curves"], title="training and validation")}


def _plain(value):
    return value.tolist() if isinstance(value, (np.ndarray, np.generic)) else str(value)
