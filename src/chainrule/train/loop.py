"""Training: ``fit`` (one call's work is :mod:`.run`; ``evaluate`` and ``predict`` are in :mod:`.evaluation`,
and importable from here too; restarts live in :mod:`chainrule.train.restarts`).

The loop follows the training loop of the slides - draw a batch, run the
network, compute the loss, its gradient, update the weights, repeat until a
termination condition - and does nothing else per step: data are cast to the
model's dtype once, each batch is one fancy index into the arrays from the
epoch's permutation, and per-batch hooks run only for callbacks that ask for
them. Everything else (metrics, validation, callbacks, checkpoints) happens
once per epoch.

Example:
    >>> import numpy as np
    >>> import chainrule as cr
    >>> from chainrule import nn
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(300, 2)).astype(np.float32)
    >>> y = (X[:, 0] * X[:, 1] > 0).astype(np.int64)          # XOR-like quadrants
    >>> model = nn.MLP([2, 16, 2], activation="tanh", seed=0)
    >>> history = fit(model, "cross_entropy", ("adam", 0.05), (X, y), validation_split=0.2,
    ...               epochs=60, batch_size=32, metrics=["accuracy"], seed=0, verbose=0)
    >>> history["val_accuracy"][-1] > 0.9
    True
    >>> evaluate(model, "cross_entropy", (X, y), metrics=["accuracy"])["accuracy"] > 0.9
    True
"""

from __future__ import annotations

import contextlib
import secrets

from .._core import check_seed
from ..distributed import resolve_parallel
from ..io.folders import FolderLock, remove_stale_temporaries
from ..nn import LOSSES
from ..nn.module import structure_held
from . import checkpoint as _ckpt
from .evaluation import EVAL_BATCH, evaluate, predict  # noqa: F401 - their old home
from .run import DEFAULT_BATCH, _Run, _split_validation  # noqa: F401 - _split_validation: restarts and search use it


def _resolve_seed(seed, checkpoint_dir, resume):
    """The run's seed: given, else the one in the checkpoint being resumed, else fresh entropy."""
    if seed is not None:
        return check_seed(seed)
    if checkpoint_dir is not None and resume:
        saved = _ckpt.read_settings(checkpoint_dir)
        if saved is not None:
            return saved.get("seed")
    return secrets.randbits(31)  # fresh entropy, without building a generator only to draw one number


def fit(model, loss, optimizer, train, *, val=None, validation_split=None, epochs=10, batch_size=None,
        shuffle=True, metrics=None, callbacks=None, seed=None, checkpoint_dir=None, resume=False,
        regularization=None, verbose=1, distributed=None, on_nonfinite="warn", compile="auto"):
    """Train ``model`` by mini-batch gradient descent and return its :class:`~chainrule.train.history.History`.

    Args:
        model: a ``nn.Module``; trained in place and left in eval mode.
        loss: a ``nn.LOSSES`` name ("cross_entropy", "mse", "bce_with_logits", ...)
            or a callable ``loss(output, target) -> scalar Tensor``.
        optimizer: an ``optim.Optimizer`` on ``model.parameters()``, a name
            ("adam"), a ``(name, lr)`` pair or ``{"name": ..., **options}``.
        train: ``(X, y)`` arrays or a ``data.Dataset``; X is cast once to the model's dtype.
            Sequence models may output (n, time, k) with targets (n, time, k), or (n, time)
            class indices for a classification loss: every time step is then one sample for
            the loss (classes on the last axis) and the metrics.
        val: validation data, same forms; or ``validation_split``, a fraction in
            (0, 1) of ``train`` held out at random (stratified for class labels).
        epochs: passes over the training data (> 0).
        batch_size: rows per step, from 1 (stochastic) to len(train) (full batch);
            None: 32, or all rows when there are fewer.
        shuffle: a new random order every epoch; False keeps the rows' order.
        metrics: names from ``metrics.METRICS`` logged on train and validation data.
        callbacks: Callback objects, ``callbacks.CALLBACKS`` names or ``{"name": ...}`` dicts.
        seed: seeds the shuffling and the validation split (None: fresh entropy,
            or the seed of the checkpoint being resumed).
        checkpoint_dir: write a resumable checkpoint there after every epoch.
        resume: continue from ``checkpoint_dir``'s checkpoint if there is one.
        regularization: ``{"l2": 1e-4}``, ``("l1", 1e-5)`` or ``fn(model) -> Tensor``;
            logged separately as ``reg_loss``.
        verbose: 0 silent; 1 a progress bar on a terminal, else a line per epoch; 2 a line per epoch.
        on_nonfinite: when the loss or a weight stops being finite (a diverging run): ``"warn"``
            stops training with a RuntimeWarning and the reason in ``history.stop_reason``;
            ``"raise"`` raises that sentence as a ValueError before any checkpoint of it is written.
        distributed: None, ``"mpi"`` or a :class:`chainrule.distributed.DataParallel`: data-parallel
            training over the MPI ranks this process was started with (``mpiexec -n N``); each
            global batch of ``batch_size`` rows is split across the ranks and gives the same
            weights as one process with that batch size.
        compile: "auto" (default), for a net of at most 2^18 parameter elements
            (:data:`chainrule.train.run.AUTO_COMPILE_LIMIT`), records the training step once per batch shape and replays it
            without building graphs (:func:`chainrule.compile`, numpy backend), records it again
            when a layer or setting changed (between calls or in a callback), and runs the step
            eagerly wherever a replay may not be faithful (own modules, losses or penalties not
            declared replayable, a batch callback that is not ``replay_safe``, per-step class
            indices, ``distributed``) or recording fails (a branch on a value); the weights after an epoch equal the eager ones (to float rounding:
            the replay's products are NumPy's ``dot`` where eager mode may fuse layers). True or
            a backend name ("numpy", "jax", "numba") compiles and raises instead of falling back;
            False trains eagerly, building a graph per step.

    Shapes:
        X (n, features); y (n,) class indices (integers, or whole-number floats such as
        ``np.loadtxt`` gives) or text labels (encoded and kept as ``model.classes_``) for
        "cross_entropy", whose model needs one output per class; else the output's shape
        ((n,) is accepted for a single output; (n, time, features) for a sequence).

    Raises:
        ValueError / TypeError: one sentence naming a bad argument or mismatched data.
        FileExistsError: ``checkpoint_dir`` holds a checkpoint and ``resume`` is False.
        FolderBusyError: another process is training with the same ``checkpoint_dir`` (an OSError
            naming its PID); the folder is locked while ``fit`` runs.

    Example:
        >>> import numpy as np
        >>> from chainrule import nn
        >>> X = np.random.default_rng(0).normal(size=(100, 3)); y = (X.sum(axis=1) > 0).astype(int)
        >>> h = fit(nn.MLP([3, 8, 2], seed=0), "cross_entropy", ("adam", 0.05), (X, y), epochs=20,
        ...         metrics=["accuracy"], seed=0, verbose=0)
        >>> len(h), h["accuracy"][-1] > 0.9
        (20, True)
    """
    from .classify import encode_labels  # classify builds on this module's predict

    # fit reads the model's structure a dozen times and never changes it: walk it once.
    with structure_held(model):
        parallel = resolve_parallel(distributed)
        run = _Run(model, loss, optimizer, epochs, shuffle, metrics, callbacks, regularization, verbose, parallel,
                   on_nonfinite, compile)
        train, val = encode_labels(model, run.loss_name, train, val)
        model.loss_ = run.loss_name if run.loss_name in LOSSES else None  # how predict_proba reads outputs
        if checkpoint_dir is None and resume:
            raise ValueError("resume=True needs the checkpoint_dir to resume from")
        # One run per checkpoint folder at a time (the rank that writes it holds the lock for all ranks).
        writes = checkpoint_dir is not None and (parallel is None or parallel.is_root)
        with FolderLock(checkpoint_dir, "checkpoint folder") if writes else contextlib.nullcontext():
            if writes:
                remove_stale_temporaries(checkpoint_dir)  # left by a write that a kill interrupted
            seed = _resolve_seed(seed, checkpoint_dir, resume)
            if parallel is not None:  # one shuffling order and one set of initial weights for every rank
                seed = parallel.broadcast_object(seed)
                parallel.broadcast_model(model)
            run.prepare(train, val, validation_split, batch_size, seed)
            if checkpoint_dir is not None:
                run.restore(checkpoint_dir, resume)
            return run.run() if parallel is None else parallel.run(run.run)
