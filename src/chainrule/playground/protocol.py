"""The browser-to-server messages: one table of commands, each with the fields it takes, all checked here.

A message is one JSON object ``{"cmd": name, ...fields}``. :func:`parse`
returns ``(name, fields)`` with every field checked, or raises ``ValueError``
with one sentence naming the problem; nothing received is ever executed or
evaluated, and unknown fields are refused so typos do not pass silently.

Example:
    >>> parse('{"cmd": "edit", "layer": 0, "node": 1, "source": null, "value": 0.5}')
    ('edit', {'layer': 0, 'node': 1, 'source': None, 'value': 0.5})
    >>> parse('{"cmd": "fly"}')
    Traceback (most recent call last):
    ...
    ValueError: unknown command 'fly'; expected one of: play, pause, step, reset, regenerate, set, edit, upload, add_point, remove_point, explain, export
"""

from __future__ import annotations

import json
import math

from .._core import check_choice, check_int, is_real, short_repr
from .points import MAX_UPLOAD_BYTES
from .settings import number_check, validate

__all__ = ["COMMANDS", "parse", "MAX_MESSAGE_BYTES", "EXPORT_FORMATS"]

MAX_MESSAGE_BYTES = 2 * MAX_UPLOAD_BYTES  # a CSV upload, JSON-escaped, plus room
EXPORT_FORMATS = ("model", "python", "json")


def _index(high):
    def check(name, value):
        return check_int(name, value, 0, high)
    return check


def _optional_index(name, value):
    return None if value is None else check_int(name, value, 0, 1023)


def _text(name, value):
    if not isinstance(value, str):
        raise ValueError(f"{name} must be a string, got {type(value).__name__}")
    return value


def _label(name, value):
    # A class index (0-7) for classification, or a target in [-1, 1] for regression.
    if is_real(value) and math.isfinite(value) and -1 <= value <= 7:
        return value if isinstance(value, int) else float(value)
    raise ValueError(f"{name} must be a class index 0-7 or a regression target from -1 to 1, got {short_repr(value)}")


def _settings(name, value):
    return validate(value)


def _format(name, value):
    return check_choice(name, value, EXPORT_FORMATS)


def _seed(name, value):
    return validate({"seed": value})["seed"]


_COORD = number_check(-6.0, 6.0)

# Command -> {field: (check, required)}.
COMMANDS = {
    "play": {},
    "pause": {},
    "step": {},
    "reset": {},
    "regenerate": {"seed": (_seed, False)},
    "set": {"settings": (_settings, True)},
    "edit": {"layer": (_index(64), True), "node": (_index(1023), True), "source": (_optional_index, False),
             "value": (number_check(-1e3, 1e3), True)},
    "upload": {"csv": (_text, True)},
    "add_point": {"x": (_COORD, True), "y": (_COORD, True), "label": (_label, True)},
    "remove_point": {"x": (_COORD, True), "y": (_COORD, True)},
    "explain": {"index": (_index(10**6), False)},
    "export": {"format": (_format, True)},
}


def _decode(text):
    if isinstance(text, (bytes, bytearray)):
        raise ValueError("messages must be JSON text, not binary frames")
    if len(text) > MAX_MESSAGE_BYTES:
        raise ValueError(f"message of {len(text):,} characters is larger than the {MAX_MESSAGE_BYTES:,} allowed")
    try:
        message = json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise ValueError(f"message is not valid JSON ({str(exc)[:80]})") from None
    if not isinstance(message, dict):
        raise ValueError(f"message must be a JSON object with a 'cmd' field, got {type(message).__name__}")
    return message


def parse(text):
    """Decode and check one message; returns ``(command, fields)``."""
    message = _decode(text)
    name = message.pop("cmd", None)
    if not isinstance(name, str) or name not in COMMANDS:
        shown = repr(name) if isinstance(name, (str, int, float, type(None))) else type(name).__name__
        raise ValueError(f"unknown command {shown[:40]}; expected one of: {', '.join(COMMANDS)}")
    spec = COMMANDS[name]
    extra = [k for k in message if k not in spec]
    if extra:
        allowed = ", ".join(spec) or "none"
        raise ValueError(f"command {name!r} has no field {str(extra[0])[:40]!r}; its fields are: {allowed}")
    fields = {}
    for field, (check, required) in spec.items():
        if field in message:
            fields[field] = check(field, message[field])
        elif required:
            raise ValueError(f"command {name!r} needs the field {field!r}")
    return name, fields
