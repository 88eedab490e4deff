"""The peak of Python-traced memory while a piece of code runs (tracemalloc), for no-allocation tests."""

from __future__ import annotations

import tracemalloc


def peak_during(fn, times=1):
    """Bytes at the peak of tracemalloc's count while ``fn()`` runs ``times`` times."""
    tracemalloc.start()
    try:
        for _ in range(times):
            fn()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
