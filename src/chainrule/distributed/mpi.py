"""Synchronous data-parallel SGD over MPI (optional extra ``chainrule[mpi]``: mpi4py + mpich).

Every rank holds the whole model. Each global batch of ``B`` rows (the same
shuffled order on every rank, from one agreed seed) is cut into one contiguous
shard per rank; each rank runs forward and backward on its shard, and the
gradients are summed with **one** ``Allreduce`` on a flat contiguous buffer
(all parameters, plus the batch loss, in one message). Each rank's share is
weighted by ``n_rank / B`` before the sum, so the result is exactly the mean
gradient of the whole batch, and every rank then takes the same optimiser step
as one process with batch ``B`` would.

Parameters (and buffers) are broadcast from rank 0 at the start; buffers such
as batch-norm running statistics are averaged after every epoch. Rank 0 alone
prints, writes checkpoints, logs and models. A rank that raises ends the whole
job with one line naming the rank; collectives have a timeout, so a rank that
died never leaves the others hanging.

Example (run with ``mpiexec -n 2 python script.py``; with one process it is plain ``fit``):
    >>> import numpy as np, chainrule as cr
    >>> X = np.random.default_rng(0).normal(size=(64, 3)); y = (X[:, 0] > 0).astype(int)
    >>> h = cr.fit(cr.nn.MLP([3, 8, 2], seed=0), "cross_entropy", "sgd", (X, y), epochs=2,
    ...            batch_size=16, seed=0, verbose=0, distributed="mpi")  # doctest: +SKIP
"""

from __future__ import annotations

import os
import sys
import time

import numpy as np

from .._core import check

_SPIN_SECONDS = 1.0  # how long a wait polls flat out before it sleeps between polls
_yield = getattr(os, "sched_yield", lambda: time.sleep(0))
_ABORT_GRACE_SECONDS = 1.0  # failure path only: long enough for the launcher to forward the error line

#: A folder that ``chainrule train --workers`` shares with its ranks: each rank notes its PID there,
#: and a rank that ends the job leaves its ``error:`` line in ``error-<rank>`` for the launcher.
RANK_FOLDER_VAR = "CHAINRULE_RANK_PIDS"

#: Clean-ups that :meth:`DataParallel.abort` runs before it ends the job (e.g. removing a staged run
#: folder that holds nothing to resume). Append to it, and remove what you added when done.
ABORT_HOOKS = []

__all__ = ["DataParallel", "require_mpi", "RANK_FOLDER_VAR", "ABORT_HOOKS"]


def require_mpi():
    """The ``mpi4py.MPI`` module, or an ImportError that says how to install it."""
    try:
        from mpi4py import MPI
    except ImportError:
        raise ImportError("distributed training needs mpi4py and an MPI library; install them with "
                          "`pip install chainrule[mpi]` (mpi4py and the mpich wheel)") from None
    return MPI


class DataParallel:
    """The MPI side of one data-parallel ``fit``: sharding, the gradient Allreduce and rank-0 duties.

    Args:
        comm: an ``mpi4py`` communicator (default ``MPI.COMM_WORLD``).
        timeout: seconds a collective may wait for the other ranks before the job is ended (> 0).

    Attributes:
        rank, size: this process's rank and the number of ranks.
        allreduce_seconds, steps: time spent in the gradient Allreduce, and steps taken.

    Example:
        >>> dp = DataParallel()  # doctest: +SKIP
        >>> dp.shard(np.arange(10))  # rank 0 of 2: rows 0-4  # doctest: +SKIP
        array([0, 1, 2, 3, 4])
    """

    def __init__(self, comm=None, timeout=120.0):
        self.MPI = require_mpi()
        self.comm = comm if comm is not None else self.MPI.COMM_WORLD
        self.rank, self.size = self.comm.Get_rank(), self.comm.Get_size()
        self.timeout = float(check("timeout", timeout, ">0"))
        self.allreduce_seconds, self.steps = 0.0, 0
        self._params, self._buffer = None, None

    @property
    def is_root(self):
        """True on rank 0, the rank that prints and writes files."""
        return self.rank == 0

    # ----------------------------------------------------------- collectives
    def _wait(self, request, what):
        """Wait for a non-blocking collective, ending the job if the others do not answer in time."""
        # MPICH moves a non-blocking collective forward only inside MPI calls, so the loop keeps calling
        # Test: sleeping between calls doubled the Allreduce (1.5 vs 0.7 ms for 2.7 MB on 2 ranks).
        # sched_yield hands the core over only when another process (an oversubscribed rank) can use it.
        start = time.monotonic()
        deadline, patient = start + self.timeout, start + _SPIN_SECONDS
        while not request.Test():
            now = time.monotonic()
            if now < patient:
                _yield()
            else:  # a wait this long is a rank gone astray: stop burning the core while the timeout runs
                time.sleep(1e-3)
            if now > deadline:
                self.abort(f"no answer from the other ranks within {self.timeout:g} s during {what}; "
                           "a rank may have died")

    def allreduce_(self, buffer, what="the gradient Allreduce"):
        """Sum ``buffer`` (a contiguous array) over all ranks, in place."""
        self._wait(self.comm.Iallreduce(self.MPI.IN_PLACE, buffer, op=self.MPI.SUM), what)
        return buffer

    def broadcast_(self, buffer, what="the start-up broadcast"):
        """Overwrite ``buffer`` with rank 0's copy, in place."""
        self._wait(self.comm.Ibcast(buffer, root=0), what)
        return buffer

    def broadcast_object(self, value):
        """Rank 0's Python object (small: seeds and settings), on every rank."""
        return self.comm.bcast(value, root=0)

    def run(self, fn):
        """``fn()``; if it raises on this rank, end the whole job with one line naming the rank and the error.

        With one rank the exception is raised as usual.
        """
        if self.size == 1:
            return fn()
        try:
            return fn()
        except Exception as exc:  # noqa: BLE001 - any failure must end every rank, not leave them waiting
            self.abort(str(exc) or type(exc).__name__)

    def abort(self, message):
        """Print ``error: rank R of N: message`` and end every rank of the job with exit code 2."""
        for hook in list(ABORT_HOOKS):  # Abort ends the process: no finally block or atexit handler runs
            try:
                hook()
            except Exception:  # noqa: BLE001 - a failing clean-up must not keep the job from ending
                pass
        line = f"error: rank {self.rank} of {self.size}: {message}\n"
        sys.stderr.write(line)
        sys.stderr.flush()
        _leave_for_launcher(self.rank, line)
        # The launcher forwards each rank's stderr and its abort request over separate channels, in no
        # set order: abort at once and the line can be dropped with the job. Give the forwarder time.
        time.sleep(_ABORT_GRACE_SECONDS)
        self.comm.Abort(2)

    # --------------------------------------------------------------- model
    def _flat(self, arrays, dtype):
        size = sum(a.size for a in arrays)
        return np.empty(size + 1, dtype=dtype)  # one extra slot carries the batch loss

    def broadcast_model(self, model):
        """Give every rank rank 0's parameters and buffers (one message each for parameters and buffers)."""
        for arrays in (_parameter_arrays(model), _buffer_arrays(model)):
            if not arrays:
                continue
            flat = np.concatenate([a.ravel() for a in arrays]).astype(np.float64)
            self.broadcast_(flat)
            _unflatten(flat, arrays)

    def average_buffers(self, model):
        """Average buffers (e.g. batch-norm running statistics) over the ranks."""
        arrays = [a for a in _buffer_arrays(model) if a.dtype.kind == "f"]
        if arrays and self.size > 1:
            flat = np.concatenate([a.ravel() for a in arrays]).astype(np.float64)
            self.allreduce_(flat, "the buffer average")
            _unflatten(flat / self.size, arrays)

    def shard(self, idx):
        """This rank's contiguous share of one global batch's row indices (possibly empty)."""
        if isinstance(idx, slice):
            idx = np.arange(idx.start, idx.stop)
        lo, hi = _bounds(len(idx), self.size, self.rank)
        return idx[lo:hi]

    def make_step(self, model, loss_fn, optimizer, penalty):
        """A step ``(X_shard, y_shard, n_batch) -> (batch loss, penalty, shard output)`` with one Allreduce."""
        params = list(getattr(optimizer, "params", None) or model.parameters())

        def step(xb, yb, n_batch):
            optimizer.zero_grad()
            loss_value, out_data, pen_value = 0.0, None, 0.0
            if len(xb):  # a last batch smaller than the number of ranks leaves some ranks without rows
                out = model(xb)
                loss = loss_fn(out, yb)
                total = loss
                if penalty is not None:
                    pen = penalty(model)
                    total, pen_value = loss + pen, float(pen.data)
                total.backward()
                loss_value, out_data = float(loss.data), out.data
            elif penalty is not None:
                pen_value = float(penalty(model).data)
            self._reduce(params, len(xb) / n_batch, loss_value)
            optimizer.step()
            return self._loss, pen_value, out_data

        return step

    def _reduce(self, params, weight, loss_value):
        """Replace every gradient by the batch-mean gradient over all ranks; keep the batch loss."""
        dtype = params[0].data.dtype if params else np.float64
        if self._buffer is None or self._buffer.dtype != dtype:
            self._buffer = self._flat([p.data for p in params], dtype)
        flat, pos = self._buffer, 0
        for p in params:
            n = p.data.size
            if p.grad is None:
                flat[pos:pos + n] = 0
            else:
                np.multiply(p.grad.ravel(), weight, out=flat[pos:pos + n])
            pos += n
        flat[pos] = loss_value * weight
        start = time.perf_counter()
        self.allreduce_(flat)
        self.allreduce_seconds += time.perf_counter() - start
        self.steps += 1
        pos = 0
        for p in params:
            n = p.data.size
            p.grad = flat[pos:pos + n].reshape(p.data.shape)  # a view: the next backward writes fresh arrays
            pos += n
        self._loss = float(flat[pos])

    def gather_outputs(self, pieces):
        """Every rank's per-batch shard outputs, put back in global batch order (for training metrics)."""
        everyone = self.comm.allgather(pieces)
        batches = zip(*everyone)
        return [np.concatenate([p for p in batch if p is not None]) for batch in batches]


def _bounds(n, size, rank):
    """Rows [lo, hi) of rank ``rank`` when ``n`` rows are cut into ``size`` contiguous near-equal parts."""
    base, extra = divmod(n, size)
    lo = rank * base + min(rank, extra)
    return lo, lo + base + (rank < extra)


def _parameter_arrays(model):
    return [p.data for p in model.parameters()]


def _buffer_arrays(model):
    named = getattr(model, "named_buffers", None)
    return [b.data if hasattr(b, "data") else b for _, b in named()] if callable(named) else []


def _unflatten(flat, arrays):
    pos = 0
    for a in arrays:
        a[...] = flat[pos:pos + a.size].reshape(a.shape)
        pos += a.size


def _leave_for_launcher(rank, line):
    """Copy an aborting rank's error line into the launcher's folder, if a launcher gave one."""
    folder = os.environ.get(RANK_FOLDER_VAR)
    if folder and os.path.isdir(folder):
        try:
            with open(os.path.join(folder, f"error-{rank}"), "w") as f:
                f.write(line)
        except OSError:
            pass  # the line went to stderr already; this copy is only a fallback
