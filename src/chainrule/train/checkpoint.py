"""Training checkpoints: everything needed to continue a run bit for bit.

``fit(..., checkpoint_dir=d)`` writes ``d/checkpoint.safetensors`` after every
epoch (atomically: a temporary file is moved into place), and
``fit(..., checkpoint_dir=d, resume=True)`` continues from it. A resumed run
ends with the same weights as an uninterrupted one, because the checkpoint
holds every piece of state the remaining epochs depend on:

* arrays: ``model/<param>``, ``optimizer/<index>.<state>`` (momenta, moments),
  ``callback/<key>/<name>`` (e.g. early stopping's best weights);
* the JSON document: epochs done, optimiser steps, the shuffling generator's
  state, the state of every random generator inside the model (dropout
  masks), the optimiser's hyper-parameters and step counts, each callback's
  state (LR schedules, early-stopping counters), the history so far, and the
  settings the run depends on (seed, batch size, shuffling, a fingerprint of
  the training data), which a resumed call must repeat.

The file uses the model-file layout (:mod:`chainrule.io.bundle`) with
``format = "chainrule.checkpoint"``.
"""

from __future__ import annotations

import hashlib
import os

import numpy as np

from ..io.bundle import read_bundle, read_document, write_bundle
from .history import History
from ..io.models import _check_weights, restore_optimizer

__all__ = ["CHECKPOINT_FORMAT", "CHECKPOINT_VERSION", "FILENAME", "checkpoint_path", "data_fingerprint",
           "read_settings", "save_checkpoint", "restore_checkpoint"]

CHECKPOINT_FORMAT, CHECKPOINT_VERSION = "chainrule.checkpoint", 1
FILENAME = "checkpoint.safetensors"


def checkpoint_path(folder):
    """The checkpoint file inside ``folder``."""
    return os.path.join(os.fspath(folder), FILENAME)


def data_fingerprint(X, y):
    """A short hash of the training arrays (64 evenly spaced rows, shapes and dtypes), to catch resuming on other data.

    Example:
        >>> a = np.arange(12.0).reshape(6, 2)
        >>> data_fingerprint(a, np.zeros(6)) == data_fingerprint(a.copy(), np.zeros(6))
        True
    """
    rows = np.linspace(0, len(X) - 1, num=min(len(X), 64)).astype(np.int64)
    h = hashlib.sha256(f"{X.shape}{X.dtype}{y.shape}{y.dtype}".encode())
    h.update(np.ascontiguousarray(X[rows]).tobytes())
    h.update(np.ascontiguousarray(y[rows]).tobytes())
    return h.hexdigest()[:16]


def _generators(model):
    """``{"<module>.<attribute>": Generator}`` for every random generator a module holds (dropout masks)."""
    found = {}
    for mod_name, module in model.named_modules():
        for attr, value in vars(module).items():
            if isinstance(value, np.random.Generator):
                found[f"{mod_name}.{attr}" if mod_name else attr] = value
    return found


def _callback_keys(callbacks):
    """A stable key per callback: class name and its position among callbacks of that class."""
    counts, keys = {}, []
    for cb in callbacks:
        name = type(cb).__name__
        keys.append(f"{name}#{counts.get(name, 0)}")
        counts[name] = counts.get(name, 0) + 1
    return keys


def save_checkpoint(folder, ctx, rng, callbacks, settings):
    """Write the state of a run after ``ctx.epoch`` finished epochs to ``folder/checkpoint.safetensors``."""
    os.makedirs(folder, exist_ok=True)
    arrays = {f"model/{k}": v for k, v in ctx.model.state_dict().items()}
    opt = ctx.optimizer.state_dict()
    arrays.update({f"optimizer/{k}": v for k, v in opt["arrays"].items()})
    states = {}
    for key, cb in zip(_callback_keys(callbacks), callbacks):
        meta, cb_arrays = cb.state_dict()
        if meta or cb_arrays:
            states[key] = meta
            arrays.update({f"callback/{key}/{k}": v for k, v in cb_arrays.items()})
    document = {
        "epoch": ctx.epoch, "step": ctx.step, "stopped": ctx.stop_training, "settings": settings,
        "rng": rng.bit_generator.state, "model_rngs": {k: g.bit_generator.state for k, g in _generators(ctx.model).items()},
        "optimizer": opt["meta"], "callbacks": states, "history": ctx.history.to_dict(),
    }
    write_bundle(checkpoint_path(folder), arrays, CHECKPOINT_FORMAT, CHECKPOINT_VERSION, document, overwrite=True)


def read_settings(folder):
    """The settings dict stored in ``folder``'s checkpoint (None when there is no checkpoint)."""
    path = checkpoint_path(folder)
    if not os.path.exists(path):
        return None
    return read_document(path, CHECKPOINT_FORMAT, CHECKPOINT_VERSION).get("settings", {})


def _split(arrays, prefix):
    n = len(prefix)
    return {k[n:]: v for k, v in arrays.items() if k.startswith(prefix)}


def _restore_rngs(path, model, states):
    gens = _generators(model)
    if set(gens) != set(states):
        raise ValueError(f"{path} holds random generators for {sorted(states)}, but the model has {sorted(gens)}")
    for key, gen in gens.items():
        gen.bit_generator.state = states[key]


def _restore_callbacks(arrays, states, callbacks):
    for key, cb in zip(_callback_keys(callbacks), callbacks):
        if key in states:
            cb.load_state_dict(states[key], _split(arrays, f"callback/{key}/"))


def restore_checkpoint(folder, ctx, rng, callbacks):
    """Load ``folder``'s checkpoint into the model, optimiser, generators, callbacks and ``ctx``.

    Raises:
        ValueError: the file is bad, or its weights/optimiser do not fit this model (one sentence).
    """
    path = checkpoint_path(folder)
    arrays, doc = read_bundle(path, CHECKPOINT_FORMAT, CHECKPOINT_VERSION)
    weights = _split(arrays, "model/")
    _check_weights(path, ctx.model, weights)
    ctx.model.load_state_dict(weights)
    restore_optimizer(path, ctx.optimizer, doc.get("optimizer"), _split(arrays, "optimizer/"))
    try:
        rng.bit_generator.state = doc["rng"]
        _restore_rngs(path, ctx.model, doc.get("model_rngs", {}))
        _restore_callbacks(arrays, doc.get("callbacks", {}), callbacks)
        ctx.history = History.from_dict(doc["history"])
        ctx.epoch, ctx.step = int(doc["epoch"]), int(doc["step"])
    except (KeyError, TypeError) as exc:
        raise ValueError(f"{path} is an incomplete checkpoint (missing {exc})") from None
    ctx.stop_training = bool(doc.get("stopped"))
    ctx.resumed = True
