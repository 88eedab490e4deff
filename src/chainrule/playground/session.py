"""One browser tab's session: a worker thread that owns a :class:`Trainer`, and a latest-frame mailbox.

The event loop only parses messages (:mod:`.protocol`) and forwards them to
the worker's queue, so it never waits for training. The worker trains in
chunks of whole epochs sized to about 20 ms, then publishes a frame into a
one-slot mailbox: an unread frame is simply replaced, so a slow client never
builds a backlog. Replies that must not be lost (state, errors, exports,
backprop traces) go through a separate queue, sent before the next frame.

Example:
    >>> s = Session(seed="7")
    >>> s.handle("step", {})
    >>> [m["type"] for m in s.take()]
    ['frame']
"""

from __future__ import annotations

import collections
import queue
import secrets
import threading
import time

import numpy as np

from . import backprop, exports
from .frames import build_frame, dataset_previews, input_maps
from .points import FEATURE_FUNCTIONS, MAX_POINTS, parse_csv
from .settings import ACTIVATIONS, FEATURES, LEARNING_RATES, MAX_LAYERS, MAX_NEURONS, REGULARIZATION_RATES
from .trainer import Trainer

__all__ = ["Session", "FRAME_BUDGET"]

FRAME_BUDGET = 0.020     # seconds of training per frame while playing
MIN_FRAME_GAP = 1 / 60   # never more frames than a display shows


class Session:
    """State and worker of one WebSocket connection.

    Args:
        seed: initial seed string (None: a fresh random one, like the reference).
        settings: initial settings (e.g. from a URL hash); invalid ones raise ValueError.
        notify: called (from any thread) when something is ready to send.
    """

    def __init__(self, seed=None, settings=None, notify=None):
        seed = str(seed) if seed is not None else _random_seed()
        self.trainer = Trainer({"seed": seed, **(settings or {})})
        self.playing = False
        self.notify = notify or (lambda: None)
        self._lock = threading.Lock()
        self._frame = None
        self._replies = collections.deque()
        self._commands = queue.Queue()
        self._thread = None
        self._closed = False
        self._epoch_seconds = 0.002

    # the mailbox ----------------------------------------------------------
    def _reply(self, message):
        with self._lock:
            self._replies.append(message)
        self.notify()

    def _publish(self):
        frame = build_frame(self.trainer)
        frame["playing"] = self.playing
        with self._lock:
            self._frame = frame
        self.notify()

    def take(self):
        """Everything ready to send: queued replies first, then the latest frame (if any)."""
        with self._lock:
            out = list(self._replies)
            self._replies.clear()
            if self._frame is not None:
                out.append(self._frame)
                self._frame = None
        return out

    # commands -------------------------------------------------------------
    def submit(self, name, fields):
        """Queue a parsed command for the worker thread."""
        self._commands.put((name, fields))

    def handle(self, name, fields):
        """Run one command now (in the worker); errors become error replies and the session carries on."""
        try:
            getattr(self, f"_cmd_{name}")(**fields)
        except (ValueError, TypeError) as exc:
            self._reply({"type": "error", "message": str(exc)})
        except Exception as exc:  # noqa: BLE001  (a bug must not end the tab's session)
            self._reply({"type": "error", "message": f"internal error in {name!r}: {type(exc).__name__}: {exc}"})

    def _cmd_play(self):
        self.playing = True
        self._publish()

    def _cmd_pause(self):
        self.playing = False
        self._publish()

    def _cmd_step(self):
        self.playing = False
        self._train(1)
        self._publish()

    def _train(self, count):
        """Train ``count`` epochs; a refusal (no points, divergence) pauses the run and still sends a frame."""
        try:
            self.trainer.run_epochs(count)
        except ValueError:
            self.playing = False
            self._publish()
            raise

    def _cmd_reset(self):
        self.trainer.reset()
        self._publish()

    def _cmd_regenerate(self, seed=None):
        self.trainer.regenerate(seed if seed is not None else _random_seed())
        self.send_state()

    def _cmd_set(self, settings):
        self.trainer.apply(settings)
        self.send_state()

    def _cmd_edit(self, layer, node, value, source=None):
        self.trainer.edit(layer, node, source, value)
        self._publish()

    def _cmd_upload(self, csv):
        X, y, problem, notes = parse_csv(csv)
        self.trainer.use_own_data(X, y, problem)
        self.trainer.notes = [f"loaded {len(X)} points ({problem})", *notes]
        self.send_state()

    def _cmd_add_point(self, x, y, label):
        t = self.trainer
        X, Y, problem = _own_points(t)
        if len(X) >= MAX_POINTS:
            raise ValueError(f"own data holds at most {MAX_POINTS} points")
        if problem == "classification" and (not isinstance(label, int) or label < 0):
            raise ValueError(f"label must be a class index 0-7 for classification, got {label!r}")
        if problem == "regression" and label > 1:
            raise ValueError(f"label must be a target from -1 to 1 for regression, got {label!r}")
        t.use_own_data(np.vstack([X, [[x, y]]]), np.append(Y, label), problem)
        self.send_state()

    def _cmd_remove_point(self, x, y):
        t = self.trainer
        X, Y, problem = _own_points(t)
        if len(X) == 0:
            raise ValueError("there is no point to remove")
        nearest = int(np.argmin(np.hypot(X[:, 0] - x, X[:, 1] - y)))
        if np.hypot(*(X[nearest] - (x, y))) > 0.5:
            raise ValueError(f"no point within 0.5 of ({x:.2f}, {y:.2f}) to remove")
        t.use_own_data(np.delete(X, nearest, axis=0), np.delete(Y, nearest), problem)
        self.send_state()

    def _cmd_explain(self, index=0):
        self._reply(backprop.explain_point(self.trainer, index))

    def _cmd_export(self, format):
        self._reply(exports.export(self.trainer, format))

    def send_state(self):
        """Queue the full state (settings, points, input maps, limits) and a frame."""
        t = self.trainer
        self._reply({
            "type": "state", "settings": t.settings, "playing": self.playing, "notes": t.notes,
            "problem": t.problem, "n_classes": t.points.n_classes,
            "train": t.points.rows("train"), "test": t.points.rows("test"),
            "features": t.features, "input_maps": input_maps(FEATURES), "previews": dataset_previews(),
            "feature_labels": {f: FEATURE_FUNCTIONS[f][0] for f in FEATURES},
            "limits": {"layers": MAX_LAYERS, "neurons": MAX_NEURONS, "learning_rates": LEARNING_RATES,
                       "regularization_rates": REGULARIZATION_RATES, "activations": ACTIVATIONS,
                       "points": MAX_POINTS},
        })
        t.notes = []
        self._publish()

    # the worker -----------------------------------------------------------
    def start(self):
        """Start the worker thread (sends the initial state first)."""
        self.send_state()
        self._thread = threading.Thread(target=self._run, name="playground-session", daemon=True)
        self._thread.start()

    def close(self, timeout=5.0):
        """Stop the worker and drop the state."""
        self._closed = True
        self._commands.put(None)
        if self._thread is not None:
            self._thread.join(timeout)

    def _run(self):
        while not self._closed:
            try:
                item = self._commands.get(timeout=None if not self.playing else 0)
            except queue.Empty:
                item = ()
            if item is None:
                break
            if item:
                self.handle(*item)
                continue
            self._play_chunk()

    def _play_chunk(self):
        started = time.perf_counter()
        count = max(1, int(FRAME_BUDGET / max(self._epoch_seconds, 1e-5)))
        try:
            self._train(count)
        except ValueError as exc:
            self._reply({"type": "error", "message": str(exc)})
            return
        self._epoch_seconds = (time.perf_counter() - started) / count
        self._publish()
        rest = MIN_FRAME_GAP - (time.perf_counter() - started)
        if rest > 0:
            time.sleep(rest)


def _own_points(trainer):
    """The own-data points to edit: the custom set, or a copy of the current points to start from."""
    if trainer.custom is not None and trainer.custom[2] == trainer.problem:
        return trainer.custom
    pts = trainer.points
    return pts.X.copy(), pts.y.copy(), pts.problem


def _random_seed():
    return f"0.{secrets.randbelow(100000):05d}"
