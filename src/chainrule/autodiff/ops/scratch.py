"""Per-thread work arrays that ops reuse from call to call instead of allocating afresh.

A temporary of a few megabytes allocated and freed on every call is not free: the C
allocator hands such blocks back to the system when they are freed, so the next call
page-faults its way through fresh memory (on a LeNet-5 training step that was a third
of the time). An op that needs a big temporary which never leaves it (a padded copy,
an unrolled window matrix) asks :data:`SCRATCH` for one under a key naming its role and
geometry, and gets the same array back on the next call with that key.

A role writes the same entries on every call with the same key, so entries it never
writes (a padding border, the gaps of a strided copy) keep the zeros a new array starts
with.

Example:
    >>> import numpy as np
    >>> buf = SCRATCH.get("demo", (2, 3), np.float32)
    >>> float(buf.sum()), SCRATCH.get("demo", (2, 3), np.float32) is buf
    (0.0, True)
"""

from __future__ import annotations

import threading

import numpy as np

__all__ = ["SCRATCH", "Scratch", "ZEROS_CAP", "zeros"]


class Scratch(threading.local):
    """Work arrays keyed by ``(key, shape, dtype)``, one set per thread (so threads never share one).

    Args:
        max_bytes: arrays bigger than this are not kept (``get`` returns a new one each time):
            their compute dwarfs the page faults, and keeping them would hold memory for long.
        max_total: how many bytes to keep in all; past that the set starts again, so a program
            that cycles through many geometries does not grow without bound.
    """

    def __init__(self, max_bytes=16 << 20, max_total=64 << 20):
        self.max_bytes, self.max_total = max_bytes, max_total
        self.arrays, self.total = {}, 0

    def get(self, key, shape, dtype):
        """The kept array for ``key``, ``shape`` and ``dtype`` (zeros when new)."""
        dtype = np.dtype(dtype)
        slot = (key, tuple(shape), dtype)
        buf = self.arrays.get(slot)
        if buf is None:
            buf = np.zeros(shape, dtype)
            if buf.nbytes <= self.max_bytes:
                if self.total + buf.nbytes > self.max_total:
                    self.arrays, self.total = {}, 0
                self.arrays[slot] = buf
                self.total += buf.nbytes
        return buf


SCRATCH = Scratch()


#: The most elements :func:`zeros` hands out at once (1 MB of float32); longer runs go in chunks.
ZEROS_CAP = 1 << 18
_ZEROS = {}


def zeros(dtype, n):
    """A read-only 1-D run of ``n`` zeros (``n <= ZEROS_CAP``) in ``dtype``, shared by all callers.

    For ufuncs that are fast only with two array operands (``np.maximum``): one buffer per
    dtype, grown to the longest run asked for, never written (so threads may share it).

    Example:
        >>> z = zeros(np.float32, 3)
        >>> z, z.flags.writeable
        (array([0., 0., 0.], dtype=float32), False)
    """
    if n > ZEROS_CAP:
        raise ValueError(f"zeros: a run of {n} elements was asked for; at most ZEROS_CAP = {ZEROS_CAP}")
    dtype = np.dtype(dtype)
    z = _ZEROS.get(dtype)
    if z is None or len(z) < n:
        z = np.zeros(max(n, 1024), dtype)
        z.flags.writeable = False
        _ZEROS[dtype] = z
    return z[:n]
