"""The run folder of ``chainrule train``: locked, staged, and swapped in only when complete.

A run never writes into its output folder directly. It takes the folder's
lock (:class:`~chainrule.io.folders.FolderLock`), trains into the hidden
sibling ``.<name>.partial`` (checkpoints and the growing history included)
and, once every file is written, swaps that folder in for the old one in one
atomic step. So:

* ``--overwrite`` keeps the old run until the new one is validated and written;
* a second run into the same folder stops at once, naming the first's PID;
* a run that fails or diverges leaves nothing behind, not even an empty folder;
* a run killed or interrupted after an epoch leaves its checkpoint in the
  partial folder, and ``--resume`` continues exactly there.

Example:
    >>> import os, tempfile
    >>> out = os.path.join(tempfile.mkdtemp(), "run")
    >>> with RunFolder(out) as run:
    ...     _ = open(os.path.join(run.stage, "report.json"), "w").write("{}")
    ...     run.commit()
    >>> os.listdir(out)
    ['report.json']
"""

from __future__ import annotations

import os
import shutil

from ..distributed.mpi import ABORT_HOOKS, require_mpi
from ..io.folders import FolderLock, commit, copy_into, recover, remove_stale_temporaries, staging_path
from ..train.checkpoint import checkpoint_path
from .outputs import OUTPUT_FILES, check_out_dir

__all__ = ["RunFolder", "SharedFolder", "interrupted_advice"]


def _checkpoint_file(folder):
    return checkpoint_path(os.path.join(folder, OUTPUT_FILES["checkpoint"]))


class RunFolder:
    """``with RunFolder(out, overwrite, resume) as run:`` write into ``run.stage``, then ``run.commit()``.

    Leaving the block without a commit removes the staged folder, except after
    a Ctrl-C once a checkpoint exists (then ``--resume`` continues it).
    """

    def __init__(self, out, overwrite=False, resume=False):
        self.out, self.overwrite, self.resume = os.fspath(out), overwrite, resume
        self.stage = staging_path(self.out)
        self._lock = FolderLock(self.out)
        if resume:
            self.check_resumable()  # before the lock, so a hopeless --resume touches nothing at all

    def __enter__(self):
        self._lock.__enter__()
        try:
            recover(self.out)
            self._prepare()
        except BaseException:
            self._lock.__exit__(None, None, None)
            raise
        return self

    def _prepare(self):
        partial = os.path.exists(_checkpoint_file(self.stage))
        if os.path.isdir(self.stage) and not partial:
            shutil.rmtree(self.stage)  # killed before its first epoch: nothing to continue
        if self.resume:
            self._prepare_resume(partial)
            return
        if partial:
            if not self.overwrite:
                raise FileExistsError(f"an interrupted run into {self.out} left a checkpoint in {self.stage}; "
                                      "pass --resume to continue it or --overwrite to start afresh")
            shutil.rmtree(self.stage)
        os.makedirs(self.stage)

    def _prepare_resume(self, partial):
        if partial:
            remove_stale_temporaries(self.stage)
            return
        self.check_resumable()
        # Continue a finished run: start from a copy of its state, so the old run stays as it is until the swap.
        os.makedirs(self.stage)
        copy_into(self.out, self.stage, [OUTPUT_FILES["checkpoint"], OUTPUT_FILES["history_csv"]], link=False)

    def check_resumable(self):
        """Raise, with advice that works, unless ``--resume`` has a checkpoint to continue from."""
        if os.path.exists(_checkpoint_file(self.stage)) or os.path.exists(_checkpoint_file(self.out)):
            return
        again = "with --overwrite" if os.path.isdir(self.out) and os.listdir(self.out) else "without --resume"
        raise FileNotFoundError(f"--resume found no checkpoint in {self.out}; run the same command {again} to "
                                "start afresh")

    def path(self, role):
        """Where the file of ``role`` (a key of :data:`OUTPUT_FILES`) is written during the run."""
        return os.path.join(self.stage, OUTPUT_FILES[role])

    def commit(self):
        """Swap the complete staged folder in for ``out``; the user's own files in ``out`` come along."""
        remove_stale_temporaries(self.stage)
        if os.path.isdir(self.out):
            copy_into(self.out, self.stage, skip=set(OUTPUT_FILES.values()))
        commit(self.stage, self.out)

    def __exit__(self, exc_type, exc, tb):
        try:
            keep = exc_type is not None and issubclass(exc_type, KeyboardInterrupt) \
                and os.path.exists(_checkpoint_file(self.stage))
            if os.path.isdir(self.stage) and not keep:
                shutil.rmtree(self.stage)
        finally:
            self._lock.__exit__(exc_type, exc, tb)
        return False


class SharedFolder:
    """The folder of a data-parallel run (``--workers``): locked, staged and swapped in like :class:`RunFolder`.

    Rank 0 takes the lock and prepares the staged sibling (or refuses, with RunFolder's sentences) while the
    other ranks wait; one broadcast tells every rank the outcome, so a refusal ends all of them with the
    same error instead of leaving them waiting. The ranks then read a resumed checkpoint from the stage;
    rank 0 alone writes there and swaps the stage in once training ends. If the job is aborted (a rank
    failed), the aborting rank first removes the stage unless it holds a checkpoint that ``--resume`` can
    continue.

    Args:
        out, overwrite, resume: as for :class:`RunFolder`.
        rank: this process's rank; ``comm``: the MPI communicator (default: the world).
    """

    def __init__(self, out, overwrite=False, resume=False, rank=0, comm=None):
        self.out, self.overwrite, self.resume, self.rank = os.fspath(out), overwrite, resume, rank
        self.stage = staging_path(self.out)
        self._comm, self._inner = comm, None

    def __enter__(self):
        failure = None
        if self.rank == 0:
            try:
                check_out_dir(self.out, self.overwrite, self.resume)
                inner = RunFolder(self.out, self.overwrite, self.resume)
                inner.__enter__()
                self._inner = inner
            except Exception as exc:  # noqa: BLE001 - told to every rank below, then raised here
                failure = exc
        told = self._world().bcast(None if failure is None else (type(failure), str(failure)), root=0)
        if failure is not None:
            raise failure
        if told is not None:
            raise told[0](told[1])
        # Every rank that aborts cleans up, since the first abort ends the job before the others get to it.
        ABORT_HOOKS.append(self._on_abort)
        return self

    def _world(self):
        if self._comm is None:
            self._comm = require_mpi().COMM_WORLD
        return self._comm

    def _on_abort(self):
        if not os.path.exists(_checkpoint_file(self.stage)):
            shutil.rmtree(self.stage, ignore_errors=True)  # nothing to resume: leave nothing behind

    def path(self, role):
        """Where the file of ``role`` (a key of :data:`OUTPUT_FILES`) is written during the run."""
        return os.path.join(self.stage, OUTPUT_FILES[role])

    def commit(self):
        """Rank 0 swaps the complete staged folder in for ``out``; the other ranks have nothing to do."""
        if self._inner is not None:
            self._inner.commit()

    def __exit__(self, exc_type, exc, tb):
        if self._on_abort in ABORT_HOOKS:
            ABORT_HOOKS.remove(self._on_abort)
        if self._inner is None:
            return False
        return self._inner.__exit__(exc_type, exc, tb)


def interrupted_advice(run):
    """What to do after a Ctrl-C: ``--resume`` when an epoch was checkpointed, else run again."""
    if os.path.exists(_checkpoint_file(run.stage)):
        return "interrupted; run the same command with --resume to continue from the last finished epoch"
    return "interrupted before the first epoch finished, so nothing was kept; run the same command again"
