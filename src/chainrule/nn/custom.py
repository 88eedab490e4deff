"""``@nn.register``: make a user's Module subclass savable in full (architecture + weights).

A registered class remembers the arguments each instance was built with; its
``config()`` is ``{"type": name, "args": those arguments}``, so
:func:`chainrule.load` rebuilds it by calling the class again and then
loads the weights. The arguments must be JSON values (numbers, strings,
lists, dicts, None); a model built from other objects can still be saved
weights-only with :func:`chainrule.save_weights`.

Example:
    >>> import os, tempfile
    >>> import chainrule as cr
    >>> from chainrule import nn
    >>> @nn.register
    ... class TwoLayer(nn.Module):
    ...     def __init__(self, width, seed=0):
    ...         super().__init__()
    ...         self.a, self.b = nn.Linear(3, width, seed=seed), nn.Linear(width, 1, seed=seed + 1)
    ...     def forward(self, x):
    ...         return self.b(self.a(x).relu())
    >>> path = os.path.join(tempfile.mkdtemp(), "two.safetensors")
    >>> cr.save(TwoLayer(4), path)
    >>> again = cr.load(path)
    >>> type(again).__name__, again.config()["args"]
    ('TwoLayer', {'width': 4, 'seed': 0})
    >>> del nn.LAYERS["TwoLayer"]
"""

from __future__ import annotations

import functools
import inspect

from .._core import to_jsonable
from .module import LAYERS, Module

__all__ = ["register"]


def _recorded_config_args(self):
    return to_jsonable(self._init_args, f"the arguments of {type(self).__name__}")


def _recording_init(cls):
    init = cls.__init__
    signature = inspect.signature(init)
    if any(p.kind is p.VAR_POSITIONAL for p in signature.parameters.values()):
        raise TypeError(f"@nn.register needs named constructor arguments; {cls.__name__}.__init__ takes *args")

    @functools.wraps(init)
    def __init__(self, *args, **kwargs):
        bound = signature.bind(self, *args, **kwargs)
        bound.apply_defaults()
        arguments = dict(list(bound.arguments.items())[1:])  # without self
        for name, p in signature.parameters.items():
            if p.kind is p.VAR_KEYWORD:
                arguments.update(arguments.pop(name, {}))
        init(self, *args, **kwargs)
        if type(self) is cls:  # the outermost registered class decides how the instance is rebuilt
            self._init_args = arguments

    return __init__


def register(cls=None, *, name=None):
    """Class decorator: add a Module subclass to ``nn.LAYERS`` and record its constructor arguments.

    Args:
        cls: the class (when used as ``@nn.register``).
        name: the name saved in model files (default the class name); must be unique in ``nn.LAYERS``.
            Registering the same class again (re-running a notebook cell) replaces the entry.

    Returns:
        The class, unchanged apart from recording its arguments (unless it defines ``_config_args`` itself).

    Raises:
        TypeError: ``cls`` is not a Module subclass, or its ``__init__`` takes ``*args``.
        ValueError: ``name`` is taken by a different class.
    """
    if cls is None:
        return lambda c: register(c, name=name)
    if not (isinstance(cls, type) and issubclass(cls, Module)):
        raise TypeError(f"@nn.register decorates nn.Module subclasses, got {cls!r}")
    key = name or cls.__name__
    held = LAYERS.get(key)
    if held is not None and (held.__module__, held.__qualname__) != (cls.__module__, cls.__qualname__):
        raise ValueError(f"a layer named {key!r} is already registered ({held.__module__}.{held.__qualname__}); "
                         "pass @nn.register(name=...) to choose another")
    if "_config_args" not in cls.__dict__:
        cls.__init__ = _recording_init(cls)
        cls._config_args = _recorded_config_args
    LAYERS[key] = cls
    return cls
