"""Model and optimiser files: safetensors for the arrays, JSON for everything else.

File layout (one ``.safetensors`` file, readable by any safetensors tool):

* tensors: the model's parameters under their dotted names
  (``hidden.0.weight``), in the model's dtype;
* header ``__metadata__``: ``format = "chainrule.model"``,
  ``format_version = "1"``, ``checksum`` (SHA-256 of the arrays) and
  ``document``, a JSON object ``{"config": model.config(), "metadata": {...},
  "chainrule_version": "..."}``. ``config`` is the architecture; ``metadata``
  is whatever the caller passed (training settings, scores, the fitted
  scaler's ``to_dict()``, class names, ...).

Optimiser files use the same layout with ``format = "chainrule.optimizer"``:
the state arrays (``"<param index>.<name>"``) and ``{"optimizer":
state_dict()["meta"]}`` as the document.

Loading never unpickles and never runs code from the file: the architecture
is rebuilt through the layer registry (``nn.from_config``), and every
problem - a truncated, corrupt, foreign, newer-version or non-model file, or
weights whose names, shapes or dtypes disagree with the architecture - is one
``ValueError`` sentence that names the file.

Example:
    >>> import os, tempfile
    >>> from chainrule import nn
    >>> model = nn.MLP([2, 4, 1], seed=0)
    >>> path = os.path.join(tempfile.mkdtemp(), "net.safetensors")
    >>> save(model, path, metadata={"epochs": 10})
    >>> again, meta = load(path, with_metadata=True)
    >>> meta, bool((again.output.weight.data == model.output.weight.data).all())
    ({'epochs': 10}, True)
"""

from __future__ import annotations

import os

import numpy as np

from .._core import ArgumentError, as_path, short_repr, to_jsonable
from .._version import __version__
from .bundle import read_bundle, read_document, write_bundle
from ..nn import Module, from_config
from .limits import LimitError, parameter_budget

__all__ = ["save", "load", "read_metadata", "save_optimizer", "load_optimizer", "save_weights", "load_weights",
           "MODEL_FORMAT", "MODEL_VERSION", "OPTIMIZER_FORMAT", "OPTIMIZER_VERSION"]

MODEL_FORMAT, MODEL_VERSION = "chainrule.model", 1
OPTIMIZER_FORMAT, OPTIMIZER_VERSION = "chainrule.optimizer", 1
WEIGHTS_FORMAT, WEIGHTS_VERSION = "chainrule.weights", 1



def save(model, path, metadata=None, overwrite=False, allow_nonfinite=False):
    """Write ``model`` (weights + architecture) and ``metadata`` to one safetensors file.

    Args:
        model: a Module with ``config()`` (every built-in layer and MLP has one).
        path: target file, conventionally ``*.safetensors``.
        metadata: optional JSON-serialisable dict (NumPy arrays and scalars are converted).
        overwrite: replace an existing file; by default an existing file is an error.
        allow_nonfinite: write weights holding NaN or infinity (which :func:`load` refuses);
            by default such a model is an error, as it usually comes from a diverged run.

    Raises:
        FileExistsError: ``path`` exists and ``overwrite`` is False.
        ValueError: a weight holds NaN or infinity and ``allow_nonfinite`` is False.
        TypeError: ``metadata`` holds something JSON cannot store.
        ImportError: safetensors is not installed.

    Example:
        >>> import os, tempfile
        >>> from chainrule import nn
        >>> path = os.path.join(tempfile.mkdtemp(), "m.safetensors")
        >>> save(nn.Linear(3, 1, seed=0), path)
        >>> save(nn.Linear(3, 1, seed=0), path)  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        FileExistsError: ... already exists; pass overwrite=True to replace it
    """
    _check_module(model)
    path = as_path("path", path)
    document = {"config": model.config(), "metadata": to_jsonable(metadata or {}, "metadata"),
                "chainrule_version": __version__, "trained": _trained_facts(model)}
    if not allow_nonfinite:
        _check_finite(path, model)
    write_bundle(path, model.state_dict(), MODEL_FORMAT, MODEL_VERSION, document, overwrite)


def _check_module(model):
    if not isinstance(model, Module):
        raise ArgumentError(f"model must be a chainrule Module, got {short_repr(model)}")


def _trained_facts(model):
    """What ``fit`` left on the model for predicting: its class labels and its loss's name."""
    facts = {}
    if getattr(model, "classes_", None) is not None:
        facts["classes"] = [str(c) for c in model.classes_]
    if isinstance(getattr(model, "loss_", None), str):
        facts["loss"] = model.loss_
    return facts


def _restore_facts(path, model, facts):
    """Put :func:`_trained_facts` back on a loaded model (files without them load as before)."""
    if not isinstance(facts, dict):
        raise ValueError(f"{path} is not a complete model file: its training facts are not a JSON object")
    classes, loss = facts.get("classes"), facts.get("loss")
    if classes is not None:
        if not isinstance(classes, list) or not all(isinstance(c, str) for c in classes):
            raise ValueError(f"{path} lists its classes as {str(classes)[:60]!r}; expected a list of names")
        model.classes_ = tuple(classes)
    if isinstance(loss, str):
        model.loss_ = loss


def _check_finite(path, model):
    for name, p in model.named_parameters():
        if p.data.dtype.kind == "f" and not np.isfinite(p.data).all():
            raise ValueError(f"cannot save {os.fspath(path)}: weight {name!r} holds NaN or infinite values (the "
                             "training probably diverged; lower the learning rate), pass allow_nonfinite=True to "
                             "save it anyway")


def read_metadata(path):
    """The ``metadata`` dict stored by :func:`save`, without building the model.

    Example:
        >>> import os, tempfile
        >>> from chainrule import nn
        >>> path = os.path.join(tempfile.mkdtemp(), "m.safetensors")
        >>> save(nn.Linear(1, 1, seed=0), path, metadata={"classes": ["a", "b"]})
        >>> read_metadata(path)
        {'classes': ['a', 'b']}
    """
    document = read_document(path, MODEL_FORMAT, MODEL_VERSION)
    return _model_document(os.fspath(path), document)[1]


def _model_document(path, document):
    config, metadata = document.get("config"), document.get("metadata", {})
    if not isinstance(config, dict) or not isinstance(metadata, dict):
        raise ValueError(f"{path} is not a complete model file: it lacks an architecture config or metadata")
    return config, metadata


def _rebuild(path, config):
    # The file must carry every weight (one byte each at least), so no architecture it describes may
    # allocate more parameters than the file has bytes: a 3 KB file cannot build a 20,000-unit LSTM.
    budget = os.path.getsize(path)
    try:
        with parameter_budget(budget, path):
            return from_config(config)
    except LimitError:
        raise
    except MemoryError:
        raise ValueError(f"{path} describes an architecture too large to build in memory") from None
    except (ValueError, TypeError, KeyError, AttributeError, RecursionError) as exc:
        raise ValueError(f"{path} describes an architecture this chainrule cannot rebuild ({exc})") from None


def _check_weights(path, model, arrays):
    own = dict(model.named_parameters())
    own.update(model.named_buffers())  # running statistics and other saved, untrained state
    missing = [k for k in own if k not in arrays]
    extra = [k for k in arrays if k not in own]
    if missing or extra:
        parts = ([f"missing {', '.join(missing)}"] if missing else []) + (
            [f"unexpected {', '.join(extra)}"] if extra else [])
        raise ValueError(f"{path} has weights that do not fit its architecture: {'; '.join(parts)}")
    for name, p in own.items():
        a = arrays[name]
        if a.shape != p.shape:
            raise ValueError(f"{path} has weight {name!r} of shape {a.shape}, but the architecture needs {p.shape}")
        if a.dtype != p.dtype:
            raise ValueError(f"{path} has weight {name!r} of dtype {a.dtype}, but the architecture needs {p.dtype}")
        if a.dtype.kind == "f" and not np.isfinite(a).all():
            raise ValueError(f"{path} has non-finite values (nan or inf) in weight {name!r}")


def load(path, with_metadata=False):
    """Rebuild a model saved by :func:`save`: architecture from JSON, weights from safetensors.

    Args:
        path: a file written by :func:`save`.
        with_metadata: also return the metadata dict.

    Returns:
        The model (in eval mode), or ``(model, metadata)``.

    Raises:
        FileNotFoundError: no such file.
        ValueError: truncated, corrupt, not a safetensors file, not a model, written
            by a newer format version, or weights that do not match the architecture.
        ImportError: safetensors is not installed.
    """
    path = as_path("path", path)
    try:
        arrays, document = read_bundle(path, MODEL_FORMAT, MODEL_VERSION)
        config, metadata = _model_document(path, document)
        model = _rebuild(path, config)
        _check_weights(path, model, arrays)
        model.load_state_dict(arrays)
        _restore_facts(path, model, document.get("trained", {}))
    except (ArithmeticError, TypeError, KeyError, AttributeError, IndexError, MemoryError, RecursionError) as exc:
        # Whatever a hostile file provokes deeper down is still one ValueError naming the file.
        raise ValueError(f"{path} is corrupt or not a chainrule model ({type(exc).__name__}: {exc})") from None
    model.eval()
    return (model, metadata) if with_metadata else model


def save_weights(model, path, overwrite=False):
    """Write ``model.state_dict()`` alone (no architecture): works for any Module, registered or not.

    Rebuild the model in code, then :func:`load_weights` into it.

    Example:
        >>> import os, tempfile
        >>> from chainrule import nn
        >>> path = os.path.join(tempfile.mkdtemp(), "w.safetensors")
        >>> save_weights(nn.Linear(2, 1, seed=0), path)
        >>> fresh = load_weights(nn.Linear(2, 1, seed=5), path)
        >>> bool((fresh.weight.data == nn.Linear(2, 1, seed=0).weight.data).all())
        True
    """
    _check_module(model)
    document = {"class": type(model).__name__, "chainrule_version": __version__}
    write_bundle(path, model.state_dict(), WEIGHTS_FORMAT, WEIGHTS_VERSION, document, overwrite)


def load_weights(model, path):
    """Load weights written by :func:`save_weights` (or the weights of a :func:`save` file) into ``model``.

    Returns:
        ``model``.

    Raises:
        ValueError: one sentence naming the file: a bad file, or names, shapes or dtypes
            that do not fit ``model``.
    """
    _check_module(model)
    path = as_path("path", path)
    try:
        arrays, _ = read_bundle(path, WEIGHTS_FORMAT, WEIGHTS_VERSION)
    except ValueError as exc:
        if f"holds a {MODEL_FORMAT!r}" not in str(exc):
            raise
        arrays, _ = read_bundle(path, MODEL_FORMAT, MODEL_VERSION)
    _check_weights(path, model, arrays)
    model.load_state_dict(arrays)
    return model


def save_optimizer(optimizer, path, overwrite=False):
    """Write an optimiser's state (hyper-parameters, step counts, moment arrays) to a safetensors file.

    Example:
        >>> import os, tempfile
        >>> from chainrule import nn, optim
        >>> opt = optim.Adam(nn.Linear(2, 1, seed=0).parameters(), lr=0.01)
        >>> path = os.path.join(tempfile.mkdtemp(), "adam.safetensors")
        >>> save_optimizer(opt, path)
        >>> load_optimizer(optim.Adam(nn.Linear(2, 1, seed=0).parameters()), path).lr
        0.01
    """
    state = optimizer.state_dict()
    write_bundle(path, state["arrays"], OPTIMIZER_FORMAT, OPTIMIZER_VERSION, {"optimizer": state["meta"]},
                 overwrite)


def load_optimizer(optimizer, path):
    """Restore state saved by :func:`save_optimizer` into ``optimizer`` (same rule, same parameters).

    Returns:
        ``optimizer``.

    Raises:
        ValueError: bad file, or a state for another rule or other parameter shapes.
    """
    path = as_path("path", path)
    arrays, document = read_bundle(path, OPTIMIZER_FORMAT, OPTIMIZER_VERSION)
    restore_optimizer(path, optimizer, document.get("optimizer"), arrays)
    return optimizer


def restore_optimizer(path, optimizer, meta, arrays):
    """Load ``{"meta", "arrays"}`` into ``optimizer``, reporting a mismatch as one sentence naming ``path``."""
    if not isinstance(meta, dict):
        raise ValueError(f"{path} holds no optimizer state")
    try:
        optimizer.load_state_dict({"meta": meta, "arrays": arrays})
    except (KeyError, TypeError, ValueError) as exc:
        raise ValueError(f"{path} holds optimizer state that does not fit this optimizer ({exc})") from None
