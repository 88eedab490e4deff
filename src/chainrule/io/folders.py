"""Run folders that are never lost or mixed: an exclusive lock, and a staged folder swapped in at the end.

* :class:`FolderLock`: an exclusive ``fcntl.flock`` on a sibling lock file
  ``.<name>.lock`` holding the owner's PID. A second process gets one
  sentence naming that PID. The kernel drops the lock when its owner dies
  (even by SIGKILL), so a stale lock file is simply taken over.
* :func:`staging_path` / :func:`commit`: a run writes into the hidden
  sibling ``.<name>.partial``; only when it is complete is it renamed to
  ``.<name>.commit`` and then swapped with the real folder in one atomic
  ``renameat2(RENAME_EXCHANGE)`` (Linux), so a reader or a crash sees the
  old folder or the new one, never a mixture. :func:`recover` finishes or
  undoes a swap that a crash interrupted.
* :func:`remove_stale_temporaries`: deletes the ``.tmp-*`` files that a
  killed atomic write leaves behind.

Example:
    >>> import os, tempfile
    >>> out = os.path.join(tempfile.mkdtemp(), "run")
    >>> with FolderLock(out):
    ...     stage = staging_path(out)
    ...     os.makedirs(stage)
    ...     _ = open(os.path.join(stage, "a.txt"), "w").write("new")
    ...     commit(stage, out)
    >>> sorted(os.listdir(os.path.dirname(out)))
    ['run']
"""

from __future__ import annotations

import ctypes
import ctypes.util
import errno
import os
import shutil

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows: O_EXCL lock files only
    fcntl = None

__all__ = ["FolderBusyError", "FolderLock", "staging_path", "commit", "recover", "remove_stale_temporaries",
           "copy_into"]

_RENAME_EXCHANGE = 2


class FolderBusyError(BlockingIOError):
    """Another process holds the lock on a folder (an OSError)."""

    def __str__(self):
        return str(self.args[0]) if self.args else ""


def _sibling(path, suffix):
    path = os.path.abspath(os.fspath(path))
    return os.path.join(os.path.dirname(path), f".{os.path.basename(path)}{suffix}")


def staging_path(out):
    """The hidden sibling a run into ``out`` writes to until it is complete."""
    return _sibling(out, ".partial")


def _makedirs(folder):
    """Create ``folder`` and its missing parents; return the ones created, deepest first."""
    created, probe = [], os.path.abspath(folder)
    while not os.path.exists(probe):
        created.append(probe)
        probe = os.path.dirname(probe)
    os.makedirs(folder, exist_ok=True)
    return created


class FolderLock:
    """``with FolderLock(path):`` holds an exclusive lock on the folder ``path`` (which need not exist).

    Args:
        path: the folder to lock; the lock file is its sibling ``.<name>.lock``.
        what: how the folder is named in the busy message.

    Raises:
        FolderBusyError: another live process holds the lock; the sentence names its PID.
    """

    def __init__(self, path, what="output folder"):
        self.path, self.what = os.fspath(path), what
        self.lock_path = _sibling(path, ".lock")
        self._fd, self._created = None, []

    def __enter__(self):
        self._created = _makedirs(os.path.dirname(self.lock_path))
        while True:
            fd = os.open(self.lock_path, os.O_RDWR | os.O_CREAT, 0o644)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError as exc:
                holder = _read_pid(fd)
                os.close(fd)
                if exc.errno not in (errno.EAGAIN, errno.EACCES):
                    raise
                raise FolderBusyError(f"{self.what} {self.path} is in use by another run (process {holder}); "
                                      "wait for it to finish or choose another folder") from None
            # The previous holder may have unlinked the file between our open and our lock: retry on the new one.
            if os.path.exists(self.lock_path) and os.path.samestat(os.fstat(fd), os.stat(self.lock_path)):
                break
            os.close(fd)
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        self._fd = fd
        return self

    def __exit__(self, *exc):
        try:
            os.unlink(self.lock_path)  # while still locked, so no one can take the lock on a doomed file
        except FileNotFoundError:
            pass
        os.close(self._fd)
        self._fd = None
        for folder in self._created:  # parents this lock created and nothing else filled
            try:
                os.rmdir(folder)
            except OSError:
                break
        return False


def _read_pid(fd):
    try:
        text = os.pread(fd, 32, 0).decode("ascii", "replace").strip()
    except OSError:
        text = ""
    return text if text.isdigit() else "unknown"


def remove_stale_temporaries(folder):
    """Delete the ``.tmp-*`` files an interrupted atomic write left in ``folder``; return how many."""
    folder = os.fspath(folder)
    if not os.path.isdir(folder):
        return 0
    stale = [n for n in os.listdir(folder) if n.startswith(".tmp-") and os.path.isfile(os.path.join(folder, n))]
    for name in stale:
        os.unlink(os.path.join(folder, name))
    return len(stale)


def _exchange(a, b):
    """Swap the paths ``a`` and ``b`` atomically; False where the system cannot."""
    libc_name = ctypes.util.find_library("c")
    if libc_name is None:
        return False
    libc = ctypes.CDLL(libc_name, use_errno=True)
    renameat2 = getattr(libc, "renameat2", None)
    if renameat2 is None:
        return False
    at_cwd = -100
    if renameat2(at_cwd, os.fsencode(a), at_cwd, os.fsencode(b), _RENAME_EXCHANGE) == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.ENOSYS, errno.EINVAL, errno.ENOTSUP):
        return False
    raise OSError(code, os.strerror(code), b)


def commit(stage, out):
    """Make the complete folder ``stage`` become ``out``, replacing any old ``out`` in one atomic step."""
    ready = _sibling(out, ".commit")
    os.rename(stage, ready)  # from here on the new run is complete; recover() discards it if the swap never ran
    if not os.path.isdir(out):
        os.rename(ready, out)
        return
    if not os.listdir(out):
        os.rename(ready, out)  # replaces an empty folder
        return
    if not _exchange(ready, out):  # no atomic swap here: move the old aside, recover() undoes a crash between
        old = _sibling(out, ".old")
        os.rename(out, old)
        os.rename(ready, out)
        shutil.rmtree(old)
        return
    shutil.rmtree(ready)  # now the old run


def recover(out):
    """Undo what a crash during :func:`commit` left: the old run is restored or the leftovers removed."""
    old, ready = _sibling(out, ".old"), _sibling(out, ".commit")
    if os.path.isdir(old):
        if os.path.exists(out):
            shutil.rmtree(old)
        else:
            os.rename(old, out)
    if os.path.isdir(ready):
        shutil.rmtree(ready)


def copy_into(source, target, names=None, skip=(), link=True):
    """Hard-link (``link``) or copy the entries ``names`` (default all) of ``source``, except ``skip``, into ``target``.

    Links are for files nobody writes to again (a user's own files kept across
    a swap); copies for files that will be rewritten in place.
    """
    copy = _link_or_copy if link else shutil.copy2
    for name in os.listdir(source) if names is None else names:
        src, dst = os.path.join(source, name), os.path.join(target, name)
        if name in skip or name.startswith(".tmp-") or not os.path.lexists(src) or os.path.lexists(dst):
            continue  # what the target already has (the new run's own files) wins
        if os.path.isdir(src) and not os.path.islink(src):
            shutil.copytree(src, dst, symlinks=True, copy_function=copy)
        else:
            copy(src, dst)


def _link_or_copy(src, dst):
    if os.path.islink(src):
        os.symlink(os.readlink(src), dst)
        return dst
    try:
        os.link(src, dst)
    except OSError:
        shutil.copy2(src, dst)
    return dst
