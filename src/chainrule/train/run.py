"""One call of ``fit``: the training step (eager, compiled or data-parallel) and the epoch loop.

:class:`_Run` holds what a call prepares (arrays, targets, callbacks, the step) and runs the epochs;
:func:`chainrule.train.fit` only resolves its arguments and calls it.
"""

from __future__ import annotations

import math
import time
import warnings

import numpy as np

from .._core import as_generator, check_choice, check_int
from ..autodiff.compile import BACKENDS, Compiled
from ..callbacks import TrainContext, make_callbacks
from ..callbacks.files import ProgressBar
from ..data import split_indices
from ..io.bundle import require_safetensors
from ..nn.losses import LOSSES
from ..nn.module import Module
from . import checkpoint as _ckpt
from .evaluation import _evaluate_prepared, _scores
from .setup import (
    Targets,
    as_pair,
    prepare_inputs,
    prepare_targets,
    resolve_loss,
    resolve_metrics,
    resolve_optimizer,
    resolve_penalty,
)

DEFAULT_BATCH = 32  # a common mini-batch size: fast steps, still a fair gradient estimate


def _split_validation(X, y, validation_split, seed):
    if isinstance(validation_split, bool) or not isinstance(validation_split, (int, float)) \
            or not 0 < validation_split < 1:
        raise ValueError(f"validation_split must be a fraction strictly between 0 and 1, got {validation_split!r}")
    y = np.asarray(y)
    stratify = y.ndim == 1 and y.dtype.kind in "iu"
    parts = split_indices(len(X), y, val=float(validation_split), test=0, stratify=stratify, seed=seed)
    if len(parts.train) == 0 or len(parts.val) == 0:
        raise ValueError(f"validation_split={validation_split} leaves an empty part of the {len(X)} rows")
    train, val = np.sort(parts.train), np.sort(parts.val)  # keep the rows' order (shuffle=False means it)
    X = np.asarray(X)
    return (X[train], y[train]), (X[val], y[val])


def _make_step(model, loss_fn, optimizer, penalty, compile=False, keep_out=True):
    """One optimisation step on a batch; returns (loss array, penalty value, output array).

    ``compile`` True or a backend name records the step once per batch shape and replays it
    (:func:`chainrule.compile`); the output is returned only when ``keep_out`` (metrics need it).
    """
    zero, update = optimizer.zero_grad, optimizer.step
    if compile:  # "auto": the numpy backend, and the eager step whenever the step cannot be replayed
        def recorded(xb, yb):
            out = model(xb)
            loss = loss_fn(out, yb)
            pen = None if penalty is None else penalty(model)
            zero()
            (loss if pen is None else loss + pen).backward()
            update()
            return loss, 0.0 if pen is None else pen, out if keep_out else None

        return Compiled(recorded, "numpy" if compile in (True, "auto") else compile, model, fallback=compile == "auto")
    if penalty is None:
        def step(xb, yb):
            out = model(xb)
            loss = loss_fn(out, yb)
            zero()
            loss.backward()
            update()
            return loss.data, 0.0, out.data

        return step

    def step_with_penalty(xb, yb):
        out = model(xb)
        loss = loss_fn(out, yb)
        pen = penalty(model)
        zero()
        (loss + pen).backward()
        update()
        return loss.data, pen.data, out.data

    return step_with_penalty


def _first_nonfinite(params):
    """The first of ``params`` with an entry that is not finite, or None.

    A sum in each array's own dtype screens (no temporary the size of the array); only a sum that
    is not finite, which huge finite entries can also give, is looked into. One ``errstate`` for
    all of them: entering it costs more than a small layer's sum.
    """
    suspects = []
    with np.errstate(over="ignore", invalid="ignore"):
        for p in params:
            a = p.data
            if a.dtype.kind == "f" and not math.isfinite(np.add.reduce(a, axis=None)):
                suspects.append(p)
    return next((p for p in suspects if not np.isfinite(p.data).all()), None)


def _divergence(model, params, loss, epoch, lr):
    """The sentence for a run whose loss or weights stopped being finite in ``epoch``, or None.

    ``params`` are the model's parameters (listed once per run); names are looked up only on failure.
    """
    if math.isfinite(loss):
        bad = _first_nonfinite(params)
        if bad is None:
            return None
        name = next((n for n, p in model.named_parameters() if p is bad), "?")
        what = f"weight {name!r} became non-finite"
    else:
        what = f"the training loss became {loss}"
    rate = f" (now {lr:g})" if lr is not None else ""
    return f"training diverged: {what} in epoch {epoch + 1}; lower the learning rate{rate} or check the data"


#: ``fit(compile="auto")`` replays nets of at most this many parameter elements (1 MB of float32).
#: A replay saves the per-op Python cost, most of a step of a small net; it keeps its own gradient
#: and activation buffers beside the parameters, which for a large net (whose products are most of
#: its step anyway) would cost more memory than the replay saves time (784-512-512-10: 1.63x the
#: training memory of the eager step for 1.13x instead of 1.23x the hand-written step's time).
AUTO_COMPILE_LIMIT = 1 << 18


def _replayable(model, loss, regularization, callbacks, parallel):
    """Whether ``fit(compile="auto")`` may record and replay the step: a small net (see
    :data:`AUTO_COMPILE_LIMIT`) of built-in parts (or parts that say they are replayable), nothing that
    changes the model between batches, and no other process taking part."""
    if isinstance(loss, str):
        name = loss
    else:
        name = getattr(loss, "function", None) if isinstance(loss, Module) else LOSSES.name_of(loss)
    ok_loss = name in LOSSES and LOSSES[name].spec.replayable and (
        not isinstance(loss, Module) or type(loss).replayable)
    size = sum(p.size for p in model.parameters())
    return (parallel is None and ok_loss and not callable(regularization) and size <= AUTO_COMPILE_LIMIT
            and all(type(m).replayable for m in model.modules())
            and not any(cb.wants_batches and not cb.replay_safe for cb in callbacks))


_PLAIN = (bool, int, float, str, type(None))


def _settings(model, loss_fn):
    """What a recorded step may hold as constants, per module: its identity, its plain settings (numbers,
    strings, flags, tuples of them) and which tensors it holds. Cheap enough to compare every epoch."""
    modules = [*model.modules(), *([loss_fn] if isinstance(loss_fn, Module) else [])]
    return tuple((id(m), type(m), tuple(
        (k, v if isinstance(v, _PLAIN) or (isinstance(v, tuple) and all(isinstance(x, _PLAIN) for x in v))
         else id(v)) for k, v in vars(m).items())) for m in modules)


def _compiled_step(model, loss_fn, optimizer, penalty, compile, keep_out):
    """fit's compiled step, kept on the optimiser so that later fit calls replay instead of re-recording."""
    key = (id(model), loss_fn, compile, keep_out)
    cache = optimizer.__dict__.setdefault("_compiled_steps", {})
    if penalty is not None or key not in cache:  # a penalty callable is new in every call
        cache[key] = _make_step(model, loss_fn, optimizer, penalty, compile, keep_out)
    return cache[key]


class _Run:
    """One call of ``fit``: the prepared arrays, the step function, and the per-epoch work."""

    def __init__(self, model, loss, optimizer, epochs, shuffle, metrics, callbacks, regularization, verbose,
                 parallel=None, on_nonfinite="warn", compile=False):
        self.model, self.epochs, self.shuffle = model, check_int("epochs", epochs), bool(shuffle)
        self.parallel = parallel
        self.loss_fn, self.loss_name = resolve_loss(loss)
        self.optimizer = resolve_optimizer(optimizer, model)
        self.specs = resolve_metrics(metrics)
        self.penalty = resolve_penalty(regularization)
        self.callbacks = make_callbacks(callbacks)
        if parallel is not None and not parallel.is_root:  # rank 0 alone prints and writes files
            self.callbacks, verbose = [cb for cb in self.callbacks if not cb.root_only], 0
        if verbose and not any(isinstance(cb, ProgressBar) for cb in self.callbacks):
            self.callbacks.append(ProgressBar(verbose))
        if compile is not False and compile is not True and compile != "auto" and compile not in BACKENDS:
            BACKENDS[compile]  # raises the one-sentence error listing the backends
        if compile == "auto" and not _replayable(model, loss, regularization, self.callbacks, parallel):
            compile = False
        if parallel is not None and compile:
            raise ValueError("fit: compile and distributed cannot be combined yet; pass one of them")
        self.compile = compile
        self._build_step()
        self.checkpoint_dir, self.settings, self._params = None, None, None
        self._seed, self._rng = None, None
        self.on_nonfinite = check_choice("on_nonfinite", on_nonfinite, ("warn", "raise"))

    def _build_step(self):
        model, parallel = self.model, self.parallel
        if parallel is not None:
            step = parallel.make_step(model, self.loss_fn, self.optimizer, self.penalty)
            self.step = lambda xb, yb: step(xb, yb, self._batch_rows)
        elif self.compile:
            self.step = _compiled_step(model, self.loss_fn, self.optimizer, self.penalty, self.compile,
                                       bool(self.specs))
        else:
            self.step = _make_step(model, self.loss_fn, self.optimizer, self.penalty)

    def prepare(self, train, val, validation_split, batch_size, seed):
        if val is not None and validation_split is not None:
            raise ValueError("pass either val or validation_split, not both")
        X, y = as_pair(train, "train")
        if validation_split is not None:
            (X, y), val = _split_validation(X, y, validation_split, seed)
        self.X = prepare_inputs(self.model, X)
        self.targets = prepare_targets(self.model, self.loss_fn, self.loss_name, self.X, y, training=True)
        if self.targets.loss is not self.loss_fn:  # per-step class indices: the loss sees steps as rows
            if self.compile == "auto":
                self.compile = False
            if self.compile:  # the labels are reshaped per batch, which a recorded step cannot replay
                raise ValueError("fit: compile cannot replay a loss over per-step class indices (n, time) yet; "
                                 "train this sequence model with compile=False")
            self.loss_fn = self.targets.loss
            self._build_step()
        default = min(DEFAULT_BATCH, len(self.X))
        self.batch_size = check_int("batch_size", default if batch_size is None else batch_size, 1, len(self.X), "training rows")
        self.val = None
        if val is not None:
            Xv, yv = as_pair(val, "val")
            Xv = prepare_inputs(self.model, Xv, "val X")
            self.val = (Xv, prepare_targets(self.model, self.loss_fn, self.loss_name, Xv, yv, "val y"))
        # The Generator is made when the run first needs it: an unshuffled run without checkpoints
        # never does, and making one is a good part of fit's fixed cost per call.
        self._seed, self._rng = seed, None
        # The data's fingerprint is added by restore(): only checkpoints need it.
        self.settings = {"seed": seed, "batch_size": self.batch_size, "shuffle": self.shuffle}
        steps = -(-len(self.X) // self.batch_size)
        self.ctx = TrainContext(self.model, self.optimizer, self.epochs, steps, self.val is not None)

    @property
    def rng(self):
        """The run's Generator (shuffling; saved in checkpoints)."""
        if self._rng is None:
            self._rng = as_generator(self._seed)
        return self._rng

    def restore(self, checkpoint_dir, resume):
        require_safetensors()  # fail now, not after the first epoch's work
        self.checkpoint_dir = checkpoint_dir
        self.settings["data"] = _ckpt.data_fingerprint(self.X, self.targets.values)
        saved = _ckpt.read_settings(checkpoint_dir)
        if saved is None:
            return
        if not resume:
            raise FileExistsError(f"{_ckpt.checkpoint_path(checkpoint_dir)} already exists; pass resume=True to "
                                  "continue that run, or use another checkpoint_dir")
        for key, value in self.settings.items():
            if saved.get(key) != value:
                what = "the training data differ" if key == "data" else f"{key}={saved.get(key)!r}, not {value!r}"
                raise ValueError(f"cannot resume from {checkpoint_dir}: the checkpoint was made with {what}")
        _ckpt.restore_checkpoint(checkpoint_dir, self.ctx, self.rng, self.callbacks)

    def run(self):
        ctx = self.ctx
        self.model.train()
        for cb in self.callbacks:
            cb.on_train_begin(ctx)
        batch_cbs = [cb for cb in self.callbacks if cb.wants_batches]
        try:
            while ctx.epoch < self.epochs and not ctx.stop_training:
                self._epoch(ctx.epoch, batch_cbs)
        except BaseException:  # Ctrl-C or an error: release what callbacks hold (an open progress bar)
            for cb in self.callbacks:
                cb.close()
            raise
        for cb in self.callbacks:
            cb.on_train_end(ctx)
        self.model.eval()
        return ctx.history

    def _epoch(self, epoch, batch_cbs):
        ctx = self.ctx
        for cb in self.callbacks:
            cb.on_epoch_begin(ctx, epoch)
        lr, start = getattr(self.optimizer, "lr", None), time.perf_counter()
        if self.compile == "auto":
            self._recheck_if_changed()
        logs = self._train_pass(batch_cbs)
        if self.val is not None:
            Xv, tv = self.val
            val_logs = _evaluate_prepared(self.model, self.loss_fn, self.loss_name, Xv, tv, self.specs)
            logs.update({f"val_{k}": v for k, v in val_logs.items()})
        if lr is not None:
            logs["lr"] = float(lr)
        logs["time"] = time.perf_counter() - start
        ctx.history.append(epoch, logs)
        if self._params is None:
            self._params = list(self.model.parameters())
        diverged = _divergence(self.model, self._params, logs["loss"], epoch, lr)
        if diverged:
            if self.on_nonfinite == "raise":  # before the checkpoint, so no unusable state is written
                raise ValueError(diverged)
            ctx.stop(diverged)
            warnings.warn(diverged, RuntimeWarning, stacklevel=4)
        for cb in self.callbacks:
            cb.on_epoch_end(ctx, epoch, logs)
        ctx.epoch = epoch + 1
        if self.parallel is not None:
            self.parallel.average_buffers(self.model)
        if self.checkpoint_dir is not None and (self.parallel is None or self.parallel.is_root):
            _ckpt.save_checkpoint(self.checkpoint_dir, ctx, self.rng, self.callbacks, self.settings)

    def _recheck_if_changed(self):
        """Record the step once more (and compare tapes) if the model's layers or settings changed since
        the tape was checked: between fit calls, or in a callback."""
        now = _settings(self.model, self.loss_fn)
        if now != getattr(self.step, "settings", None):
            self.step.recheck()
            self.step.settings = now

    def _train_pass(self, batch_cbs):
        bs, n, ctx = self.batch_size, len(self.X), self.ctx
        order = self.rng.permutation(n) if self.shuffle else None
        stash = [] if self.specs else None
        total = reg = 0.0
        done, step0 = 0, ctx.step
        for start, (loss, pen, out) in zip(range(0, n, bs), self._results(order, batch_cbs)):
            nb = min(bs, n - start)
            total += float(loss) * nb
            reg += float(pen) * nb
            done += 1
            if stash is not None:
                stash.append(out)
            if batch_cbs:
                ctx.step = step0 + done
                for cb in batch_cbs:
                    cb.on_batch_end(ctx, done - 1, loss)
                if ctx.stop_training:
                    break
        ctx.step = step0 + done
        seen = min(done * bs, n)
        logs = {"loss": total / seen}
        if self.penalty is not None:
            logs["reg_loss"] = reg / seen
        if stash:
            logs.update(self._train_scores(stash, order, seen))
        return logs

    def _results(self, order, batch_cbs):
        """Each batch's (loss, penalty, output), lazily: the loop may stop after any batch."""
        X, Y, bs, step = self.X, self.targets.values, self.batch_size, self.step
        if isinstance(step, Compiled) and not batch_cbs:  # a backend may run the epoch at once
            return step.epoch(X, Y, bs, order)
        return (self._batch(X, Y, start, order) for start in range(0, len(X), bs))

    def _batch(self, X, Y, start, order):
        bs = self.batch_size
        idx = slice(start, start + bs) if order is None else order[start:start + bs]
        if self.parallel is not None:  # this rank's shard of the global batch
            idx, self._batch_rows = self.parallel.shard(idx), min(bs, len(X) - start)
        return self.step(X[idx], Y[idx])

    def _train_scores(self, stash, order, seen):
        if self.parallel is not None:
            stash = self.parallel.gather_outputs(stash)
        rows = slice(0, seen) if order is None else order[:seen]
        t = self.targets
        seen_targets = Targets(t.values[rows], None if t.labels is None else t.labels[rows])
        return _scores(self.specs, np.concatenate(stash), seen_targets, self.loss_name)


