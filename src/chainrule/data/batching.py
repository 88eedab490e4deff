"""Mini-batches: a one-shot generator and a resumable loader.

Each batch is gathered with a single fancy index into the arrays, so an
epoch never copies the whole data set; without shuffling, batches are views.
"""

from __future__ import annotations

import numpy as np  # noqa: F401  (the docstring examples use it)

from .._core import as_generator, check_int, to_jsonable
from ._checks import check_X_y


def _batch_count(n: int, batch_size: int, drop_last: bool) -> int:
    return n // batch_size if drop_last else -(-n // batch_size)


def _iter_batches(X, y, order, batch_size: int, count: int, start: int = 0):
    for b in range(start, count):
        lo, hi = b * batch_size, min((b + 1) * batch_size, len(X))
        if order is None:
            yield X[lo:hi], (None if y is None else y[lo:hi])
        else:
            idx = order[lo:hi]
            yield X[idx], (None if y is None else y[idx])


def batches(X, y=None, batch_size=32, shuffle=True, rng=None, drop_last=False):
    """Yield ``(X_batch, y_batch)`` pairs covering the data once.

    Args:
        X: features, shape ``(n, ...)``.
        y: targets with ``n`` rows, or ``None`` (then ``y_batch`` is ``None``).
        batch_size: rows per batch, from 1 (stochastic gradient descent) to
            ``n`` (full batch); larger values are capped at ``n``.
        shuffle: visit rows in a random order.
        rng: seed (int), ``None`` for fresh entropy, or a numpy Generator.
        drop_last: skip a final batch smaller than ``batch_size``.

    Example:
        >>> X, y = np.arange(10.0).reshape(5, 2), np.arange(5)
        >>> [yb.tolist() for _, yb in batches(X, y, batch_size=2, shuffle=False)]
        [[0, 1], [2, 3], [4]]
    """
    X, y = check_X_y(X, y, allow_none_y=True)
    batch_size = check_int("batch_size", batch_size)
    order = as_generator(rng, "rng").permutation(len(X)) if shuffle else None
    count = _batch_count(len(X), batch_size, drop_last)
    yield from _iter_batches(X, y, order, batch_size, count)


class DataLoader:
    """Reusable mini-batch iterator whose exact batch order can be saved and restored.

    Each ``for batch in loader`` runs one epoch; the epoch's permutation is
    drawn from the loader's own Generator. ``get_state()`` captures the epoch,
    the position inside it and the Generator state before that epoch's
    permutation, so a loader given the state with ``set_state()`` yields the
    same remaining batches, even mid-epoch. Leaving a loop early also
    leaves the epoch unfinished, and the next loop resumes it.

    Args:
        X, y: arrays with the same number of rows (``y`` may be ``None``), or a ``Dataset`` as ``X``.
        batch_size: rows per batch (1 to n; larger is capped at n).
        shuffle: draw a new permutation each epoch.
        seed: int seed, ``None`` or a numpy Generator (shared, not copied).
        drop_last: skip a final short batch.

    Example:
        >>> import json
        >>> loader = DataLoader(np.arange(12.0).reshape(6, 2), np.arange(6), batch_size=4, seed=7)
        >>> first = [yb.tolist() for _, yb in loader]
        >>> saved = json.dumps(loader.get_state())
        >>> second = [yb.tolist() for _, yb in loader]
        >>> _ = loader.set_state(json.loads(saved))
        >>> [yb.tolist() for _, yb in loader] == second, len(loader), loader.epoch
        (True, 2, 2)
    """

    def __init__(self, X, y=None, batch_size=32, shuffle=True, seed=None, drop_last=False):
        if y is None and hasattr(X, "X") and hasattr(X, "y"):  # a Dataset: its arrays
            X, y = X.X, X.y
        self.X, self.y = check_X_y(X, y, allow_none_y=True)
        self.batch_size = check_int("batch_size", batch_size)
        self.shuffle = bool(shuffle)
        self.drop_last = bool(drop_last)
        self.rng = as_generator(seed)
        self.epoch = 0
        self._position = 0
        self._epoch_rng_state = None

    def __len__(self) -> int:
        """Number of batches in one epoch."""
        return _batch_count(len(self.X), self.batch_size, self.drop_last)

    def __iter__(self):
        if self._epoch_rng_state is None:
            self._epoch_rng_state = self.rng.bit_generator.state
            order = self.rng.permutation(len(self.X)) if self.shuffle else None
        else:
            order = self._replay_order()
        count = len(self)
        for batch in _iter_batches(self.X, self.y, order, self.batch_size, count, self._position):
            self._position += 1
            yield batch
        self.epoch += 1
        self._position = 0
        self._epoch_rng_state = None

    def _replay_order(self):
        # Redraw the unfinished epoch's permutation from its starting state;
        # drawing it leaves the Generator where the original draw left it.
        self.rng.bit_generator.state = self._epoch_rng_state
        return self.rng.permutation(len(self.X)) if self.shuffle else None

    def get_state(self) -> dict:
        """Return a JSON-serialisable snapshot: epoch, batch position and RNG state.

        Example:
            >>> sorted(DataLoader(np.zeros((4, 1)), seed=0).get_state())
            ['batch', 'epoch', 'rng']
        """
        rng_state = self._epoch_rng_state or self.rng.bit_generator.state
        return {"epoch": self.epoch, "batch": self._position, "rng": to_jsonable(rng_state, "the loader's RNG state")}

    def set_state(self, state: dict) -> "DataLoader":
        """Restore a snapshot from :meth:`get_state` and return the loader.

        Example:
            >>> loader = DataLoader(np.zeros((4, 1)), batch_size=2, seed=0)
            >>> loader.set_state({"epoch": 3, "batch": 1, "rng": loader.get_state()["rng"]}).epoch
            3
        """
        try:
            epoch, position, rng_state = int(state["epoch"]), int(state["batch"]), state["rng"]
        except (KeyError, TypeError, ValueError):
            raise ValueError("loader state must be a dict with integer 'epoch' and 'batch' and an 'rng' entry") from None
        if epoch < 0 or not 0 <= position <= len(self):
            raise ValueError(f"loader state has epoch {epoch} and batch {position}; expected epoch >= 0 and batch 0 to {len(self)}")
        try:
            self.rng.bit_generator.state = rng_state
        except (TypeError, ValueError, KeyError) as exc:
            raise ValueError(f"loader state holds an RNG state this generator cannot take ({exc})") from None
        self.epoch, self._position = epoch, position
        self._epoch_rng_state = self.rng.bit_generator.state if position else None
        return self



