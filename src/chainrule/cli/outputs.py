"""Writing results without ever clobbering anything by accident.

Every writer here checks its target before any work is done (so a long
training run cannot end in "cannot write"), refuses to replace an existing
file or folder unless told to, and writes files through a temporary file in
the same folder that is renamed into place, so a crash leaves either the old
file or the new one, never half of one.

Example:
    >>> import os, tempfile
    >>> path = os.path.join(tempfile.mkdtemp(), "out.csv")
    >>> write_csv(path, ["a", "b"], [[1, 2]])
    >>> write_csv(path, ["a", "b"], [[3, 4]])
    Traceback (most recent call last):
    ...
    FileExistsError: ... already exists; pass --overwrite to replace it
"""

from __future__ import annotations

import csv
import io
import os
import tempfile

from ..io.bundle import _move_into_place, _umask

__all__ = ["check_new_file", "check_out_dir", "write_csv", "write_text", "OUTPUT_FILES"]

#: The files a training run writes into its output folder, by role; --overwrite replaces only these.
OUTPUT_FILES = {
    "model": "model.safetensors",
    "history_csv": "history.csv",
    "history_json": "history.json",
    "report": "report.json",
    "curves": "learning_curves.png",
    "checkpoint": "checkpoint",
}


def _check_parent(path):
    parent = os.path.dirname(os.path.abspath(path))
    probe = parent
    while not os.path.exists(probe):  # the nearest existing ancestor decides whether we may create it
        probe = os.path.dirname(probe)
    if not os.path.isdir(probe):
        raise NotADirectoryError(f"cannot write {path}: {probe} is a file, not a folder")
    try:  # a real probe: permission bits say nothing for root or on read-only mounts
        tempfile.TemporaryFile(dir=probe).close()
    except OSError:
        raise PermissionError(f"cannot write {path}: {probe} is not writable") from None


def check_new_file(path, overwrite=False):
    """Raise unless ``path`` can be written: no folder there, no file unless ``overwrite``, a writable parent.

    Example:
        >>> check_new_file("/proc/nope/out.csv")  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        PermissionError: cannot write /proc/nope/out.csv: /proc is not writable
    """
    path = os.fspath(path)
    if os.path.isdir(path):
        raise IsADirectoryError(f"{path} is a folder; give a file name")
    if os.path.exists(path):
        if not overwrite:
            raise FileExistsError(f"{path} already exists; pass --overwrite to replace it")
        if not os.access(path, os.W_OK):
            raise PermissionError(f"cannot write {path}: the file is read-only")
    _check_parent(path)
    return path


def check_out_dir(path, overwrite=False, resume=False, resumable=True):
    """Raise unless ``path`` is a usable output folder: new or empty, or existing with ``overwrite`` / ``resume``.

    Only the run files of :data:`OUTPUT_FILES` are ever replaced; anything
    else in the folder is left alone. ``resumable`` says whether the hint
    may offer ``--resume``.
    """
    path = os.fspath(path)
    if os.path.exists(path) and not os.path.isdir(path):
        raise NotADirectoryError(f"output folder {path} is a file")
    if os.path.isdir(path) and os.listdir(path) and not (overwrite or resume):
        hint = " or --resume to continue its checkpoint" if resumable else ""
        raise FileExistsError(f"output folder {path} already exists; pass --overwrite to replace its run files{hint}")
    _check_parent(os.path.join(path, "x"))
    return path


def _atomic_write(path, data: bytes, overwrite):
    check_new_file(path, overwrite)
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=folder)
    try:
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes the file private; results should not be
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        _move_into_place(tmp, path, overwrite)  # never replaces a file that appeared meanwhile
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def write_text(path, text, overwrite=False):
    """Write ``text`` (UTF-8) to ``path`` atomically; see :func:`check_new_file`."""
    _atomic_write(os.fspath(path), text.encode("utf-8"), overwrite)


def write_csv(path, header, rows, overwrite=False):
    """Write a header and rows as CSV to ``path`` atomically; see :func:`check_new_file`."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    write_text(path, buffer.getvalue(), overwrite)
