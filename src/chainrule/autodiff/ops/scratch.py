"""Per-thread work arrays that ops reuse from call to call instead of allocating afresh.

A temporary of a few megabytes allocated and freed on every call is not free: the C
allocator hands such blocks back to the system when they are freed, so the next call
page-faults its way through fresh memory (on a LeNet-5 training step that was a third
of the time). An op that needs a big temporary which never leaves it (a padded copy,
an unrolled window matrix) asks :data:`SCRATCH` for one under a key naming its role and
geometry, and gets the same array back on the next call with that key.

A role writes the same entries on every call with the same key, so entries it never
writes (a padding border, the gaps of a strided copy) keep the zeros a new array starts
with. An op may also tag an array with a token of what it holds (:meth:`Scratch.mark`)
and later ask whether it still does (:meth:`Scratch.holds`), to skip rebuilding it.

Example:
    >>> import numpy as np
    >>> buf, slot = SCRATCH.get("demo", (2, 3), np.float32)
    >>> buf.sum(), SCRATCH.get("demo", (2, 3), np.float32)[0] is buf
    (np.float32(0.0), True)
    >>> token = object()
    >>> SCRATCH.mark(slot, token); SCRATCH.holds(slot, token), SCRATCH.holds(slot, object())
    (True, False)
"""

from __future__ import annotations

import threading

import numpy as np

__all__ = ["SCRATCH", "Scratch"]


class Scratch(threading.local):
    """Work arrays keyed by ``(key, shape, dtype)``, one set per thread (so threads never share one).

    Args:
        max_bytes: arrays bigger than this are not kept (``get`` returns a new one each time):
            their compute dwarfs the page faults, and keeping them would hold memory for long.
        max_arrays: how many arrays to keep; past that the set starts again, so a program that
            cycles through many geometries does not grow without bound.
    """

    def __init__(self, max_bytes=64 << 20, max_arrays=64):
        self.max_bytes, self.max_arrays = max_bytes, max_arrays
        self.arrays, self.owners = {}, {}

    def get(self, key, shape, dtype):
        """``(array, slot)``: the kept zero-initialised array for ``key``, shape and dtype, and its slot."""
        dtype = np.dtype(dtype)
        slot = (key, tuple(shape), dtype)
        buf = self.arrays.get(slot)
        if buf is None:
            buf = np.zeros(shape, dtype)
            if buf.nbytes <= self.max_bytes:
                if len(self.arrays) >= self.max_arrays:
                    self.arrays.clear()
                    self.owners.clear()
                self.arrays[slot] = buf
        return buf, slot

    def mark(self, slot, token):
        """Record that the array in ``slot`` now holds what ``token`` stands for (None: nothing reusable)."""
        if slot in self.arrays:
            self.owners[slot] = token

    def holds(self, slot, token):
        """Whether the array in ``slot`` still holds what ``token`` marked (never for token None)."""
        return token is not None and slot in self.arrays and self.owners.get(slot) is token


SCRATCH = Scratch()
