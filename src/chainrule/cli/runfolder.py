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
    """The folder of a data-parallel run (``--workers``): every rank reads its checkpoint, rank 0 writes it.

    The ranks cannot agree on a staged folder without a collective step before
    training, so rank 0 prepares ``out`` itself (as runs did before staging):
    ``--overwrite`` removes only the run files, ``--resume`` needs a checkpoint.
    """

    def __init__(self, out, overwrite=False, resume=False, rank=0):
        self.out = self.stage = os.fspath(out)
        if rank != 0:
            return
        check_out_dir(self.out, overwrite, resume)
        if resume and not os.path.exists(_checkpoint_file(self.out)):
            raise FileNotFoundError(f"--resume found no checkpoint in {self.out}; run the same command with "
                                    "--overwrite to start afresh")
        if overwrite:  # replace only what a run writes, never the user's other files
            for name in OUTPUT_FILES.values():
                target = os.path.join(self.out, name)
                if os.path.isdir(target):
                    shutil.rmtree(target)
                elif os.path.exists(target):
                    os.remove(target)
        os.makedirs(self.out, exist_ok=True)

    def path(self, role):
        """Where the file of ``role`` is written."""
        return os.path.join(self.out, OUTPUT_FILES[role])

    def commit(self):
        """Nothing to swap: the files are already in place."""

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def interrupted_advice(run):
    """What to do after a Ctrl-C: ``--resume`` when an epoch was checkpointed, else run again."""
    if os.path.exists(_checkpoint_file(run.stage)):
        return "interrupted; run the same command with --resume to continue from the last finished epoch"
    return "interrupted before the first epoch finished, so nothing was kept; run the same command again"
