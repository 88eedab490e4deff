"""Limits on what an input may cost, and a file opener that enforces them.

A file's header can claim anything: a shape of 10**20 elements, an archive
member of 8 TiB, a million classes, a layer of a billion units. Every reader
here checks such claims against the file's own size and against a limit
*before* allocating, and reads only regular files (never a FIFO, a device or
a symlink to one, which would hang or never end).

The limits, their defaults and the environment variables that raise them:

=============  ==================  ===============================================
limit          default             raise it with
=============  ==================  ===============================================
file_bytes     1 GiB               ``CHAINRULE_MAX_FILE_BYTES`` (bytes)
parameters     250,000,000         ``CHAINRULE_MAX_PARAMETERS`` (weights in one model)
classes        100,000             ``CHAINRULE_MAX_CLASSES`` (distinct class labels)
=============  ==================  ===============================================

``file_bytes`` also bounds the unpacked size of an ``.npz`` archive. In code,
:func:`raised` lifts limits for a block, and :func:`get` reads one.

Example:
    >>> get("classes")
    100000
    >>> with raised(classes=10**6):
    ...     get("classes")
    1000000
"""

from __future__ import annotations

import contextlib
import contextvars
import math
import os
import stat

__all__ = ["DEFAULTS", "ENV", "LimitError", "get", "raised", "describe", "open_regular", "read_limited",
           "check_file_size", "check_parameters", "parameter_budget", "reserve", "human_bytes"]

#: Default value of each limit.
DEFAULTS = {"file_bytes": 1 << 30, "parameters": 250_000_000, "classes": 100_000}
#: The environment variable that overrides each limit.
ENV = {"file_bytes": "CHAINRULE_MAX_FILE_BYTES", "parameters": "CHAINRULE_MAX_PARAMETERS",
       "classes": "CHAINRULE_MAX_CLASSES"}
_WHAT = {"file_bytes": "bytes per file", "parameters": "parameters", "classes": "classes"}

_overrides = contextvars.ContextVar("chainrule_limits", default=None)
# Parameters a model being rebuilt from a file may still allocate (None: no file is being rebuilt).
_budget = contextvars.ContextVar("chainrule_parameter_budget", default=None)


class LimitError(ValueError):
    """An input that would cost more than a limit allows (a ValueError)."""


def get(name):
    """The current value of limit ``name``: a :func:`raised` block, else the environment, else the default."""
    overrides = _overrides.get() or {}
    if name in overrides:
        return overrides[name]
    text = os.environ.get(ENV[name])
    if text is None or not text.strip():
        return DEFAULTS[name]
    try:
        value = int(text.replace("_", ""))
    except ValueError:
        value = 0
    if value < 1:
        raise ValueError(f"{ENV[name]} must be a positive integer ({_WHAT[name]}), got {text!r}")
    return value


@contextlib.contextmanager
def raised(**limits):
    """Use other limits inside a ``with`` block, e.g. ``raised(file_bytes=8 << 30, parameters=10**9)``."""
    for name, value in limits.items():
        if name not in DEFAULTS:
            raise ValueError(f"unknown limit {name!r}; expected one of: {', '.join(DEFAULTS)}")
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(f"limit {name} must be a positive integer, got {value!r}")
    token = _overrides.set({**(_overrides.get() or {}), **limits})
    try:
        yield
    finally:
        _overrides.reset(token)


def describe(name):
    """``"the limit of 1.0 GiB per file (raise it with CHAINRULE_MAX_FILE_BYTES)"``-style text."""
    value = get(name)
    shown = human_bytes(value) + " per file" if name == "file_bytes" else f"{value:,} {_WHAT[name]}"
    return f"the limit of {shown} (raise it with {ENV[name]})"


def human_bytes(n):
    """``1536`` -> ``"1.5 KiB"``.

    Example:
        >>> human_bytes(3 << 40)
        '3.0 TiB'
    """
    n = float(n)
    for unit in ("bytes", "KiB", "MiB", "GiB", "TiB", "PiB"):
        if n < 1024 or unit == "PiB":
            return f"{int(n)} bytes" if unit == "bytes" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} EiB"  # pragma: no cover


_KINDS = {stat.S_ISFIFO: "a named pipe (FIFO)", stat.S_ISCHR: "a character device", stat.S_ISBLK: "a block device",
          stat.S_ISSOCK: "a socket", stat.S_ISDIR: "a folder"}


def _kind(mode):
    return next((text for test, text in _KINDS.items() if test(mode)), "not a regular file")


def check_file_size(path, size, what="file"):
    """Raise :class:`LimitError` when ``size`` bytes exceed the file_bytes limit."""
    if size > get("file_bytes"):
        raise LimitError(f"{path} is {human_bytes(size)}, over {describe('file_bytes')} for a {what}")
    return size


def open_regular(path, what="file"):
    """Open ``path`` for reading in binary mode if it is a regular file within the size limit.

    Symlinks are followed, but what they point at must be a regular file too:
    a FIFO (which would block), a device such as ``/dev/zero`` (which never
    ends) or a folder is refused with one sentence, and so is a file larger
    than the file_bytes limit (sparse or not), before anything is read.

    Returns:
        ``(binary file object, size in bytes)``.

    Example:
        >>> open_regular("/dev/zero", "CSV file")
        Traceback (most recent call last):
        ...
        chainrule.io.limits.LimitError: /dev/zero is a character device, not a regular file; a CSV file must be a regular file
    """
    path = os.fspath(path)
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        raise FileNotFoundError(f"{what} not found: {path}") from None
    if not stat.S_ISREG(mode):
        raise LimitError(f"{path} is {_kind(mode)}, not a regular file; a {what} must be a regular file")
    # O_NONBLOCK: if the path was swapped for a FIFO since the stat, opening must not hang.
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    handle = os.fdopen(fd, "rb")
    info = os.fstat(handle.fileno())
    if not stat.S_ISREG(info.st_mode):
        handle.close()
        raise LimitError(f"{path} is {_kind(info.st_mode)}, not a regular file; a {what} must be a regular file")
    try:
        check_file_size(path, info.st_size, what)
    except LimitError:
        handle.close()
        raise
    return handle, info.st_size


def read_limited(path, what="file"):
    """All bytes of the regular file ``path``, read only after its size has passed the limit.

    Example:
        >>> import tempfile
        >>> with tempfile.NamedTemporaryFile(suffix=".csv") as f:
        ...     _ = f.write(b"a,b")
        ...     f.flush()
        ...     read_limited(f.name, "CSV file")
        b'a,b'
    """
    handle, size = open_regular(path, what)
    with handle:
        raw = handle.read(size + 1)  # a file growing while read is cut at its checked size plus one byte
    if len(raw) > size:
        check_file_size(path, get("file_bytes") + 1, what)
    return raw


def check_parameters(count, what="the model", itemsize=4):
    """Raise :class:`LimitError` naming the figure when ``count`` weights exceed the parameters limit.

    Example:
        >>> check_parameters(64 * 10**9)  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        chainrule.io.limits.LimitError: the model would have 64,000,000,000 parameters (238.4 GiB of weights, ...
    """
    limit = get("parameters")
    if count > limit:
        train = human_bytes(4 * count * itemsize)
        raise LimitError(f"{what} would have {count:,} parameters ({human_bytes(count * itemsize)} of weights, about "
                         f"{train} to train), over {describe('parameters')}")
    return count


@contextlib.contextmanager
def parameter_budget(count, where):
    """Inside the block, models may allocate at most ``count`` parameters in all (a file's stored values).

    ``where`` names the source for the message (``"model.safetensors"``).
    """
    token = _budget.set([count, where])
    try:
        yield
    finally:
        _budget.reset(token)


def reserve(shape, itemsize=4):
    """Check a parameter of ``shape`` against the limits before it is allocated (called by the initialisers)."""
    count = math.prod(int(s) for s in shape)
    budget = _budget.get()
    if budget is not None:  # first: a file's own size is the sharper bound
        if count > budget[0]:
            raise LimitError(f"{budget[1]} describes an architecture with more parameters than the file has "
                             "bytes, so its weights cannot all be stored in it; refusing to build it")
        budget[0] -= count
    return check_parameters(count, f"a weight of shape {tuple(int(s) for s in shape)}", itemsize)
