"""Module and Parameter: parameters that register themselves, state dicts, train/eval.

A :class:`Module` finds its parameters by looking at its attributes: every
:class:`Parameter` and sub-``Module`` it holds, directly or inside lists,
tuples and dicts, is part of it, with a dotted name built from the attribute
names and positions (``hidden.0.weight``). Nothing needs registering, and
attribute access stays a plain Python lookup, so ``forward`` pays nothing.

Example:
    >>> import chainrule as cr
    >>> from chainrule import nn
    >>> class Affine(nn.Module):
    ...     def __init__(self):
    ...         super().__init__()
    ...         self.scale = nn.Parameter(cr.ones(2).data)
    ...         self.parts = [nn.Linear(2, 2, seed=0)]
    ...     def forward(self, x):
    ...         return self.parts[0](x) * self.scale
    >>> [name for name, _ in Affine().named_parameters()]
    ['scale', 'parts.0.weight', 'parts.0.bias']
"""

from __future__ import annotations

from collections import OrderedDict, namedtuple
import threading
from contextlib import contextmanager

import numpy as np

from ..autodiff.engine import GRAD_MODE
from ..autodiff.tensor import Tensor
from .._core import Registry

__all__ = ["Parameter", "Module", "ModuleList", "ModuleDict", "LAYERS", "from_config", "LoadResult", "evaluating"]

#: Built-in layer classes by name, so an architecture can be rebuilt from JSON.
LAYERS = Registry("layer")

LoadResult = namedtuple("LoadResult", ["missing_keys", "unexpected_keys"])


class Parameter(Tensor):
    """A Tensor that a Module owns and an optimiser updates (``requires_grad=True``).

    Args:
        data: array-like; copied.
        requires_grad: False freezes it (optimisers skip tensors without a gradient).
        dtype: force a dtype (default: the data's, or the default float dtype).

    Example:
        >>> Parameter([1.0, 2.0])
        Parameter(shape=(2,), dtype=float32)
    """

    __slots__ = ()

    def __init__(self, data, requires_grad=True, dtype=None):
        super().__init__(data, requires_grad=requires_grad, dtype=dtype)

    def __repr__(self):
        frozen = "" if self.requires_grad else ", requires_grad=False"
        return f"Parameter(shape={self.shape}, dtype={self.dtype}{frozen})"


def _flatten(prefix, value):
    """(dotted name, item) for every Parameter / Module inside ``value``."""
    if isinstance(value, (Parameter, Module)):
        yield prefix, value
        return
    items = enumerate(value) if isinstance(value, (list, tuple)) else value.items()
    for key, item in items:
        # Plain numbers and strings (layer sizes, options) are skipped without a recursive call:
        # traversal runs on every train()/eval()/parameters() call.
        if isinstance(item, _HELD):
            yield from _flatten(f"{prefix}.{key}", item)


def _all_plain(value):
    """True for a list, tuple or dict of plain values only (a layer's sizes or options): nothing to walk into."""
    items = value.values() if isinstance(value, dict) else value
    return all(type(item) in _PLAIN for item in items)


def _join(prefix, name):
    return f"{prefix}.{name}" if prefix else name


_PACKAGE = __name__.split(".")[0] + "."  # the layers defined in this package


class Module:
    """Base class of layers and models: override ``forward``; call the module to run it.

    Parameters and sub-modules are found automatically among the attributes
    (also inside lists, tuples and dicts). ``training`` is True until
    :meth:`eval`; layers such as Dropout read it.
    """

    training = True
    mode_changes = 0  # counts train()/eval() calls on any module
    #: True when ``forward`` does nothing but chainrule ops (no printing, counters or NumPy arithmetic
    #: on its inputs), so ``fit(compile="auto")`` may record it once and replay it. Every built-in
    #: layer is; a subclass defined elsewhere that writes its own ``forward`` is not until it says so.
    replayable = True

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if "forward" in cls.__dict__ and "replayable" not in cls.__dict__ and \
                not cls.__module__.startswith(_PACKAGE):
            cls.replayable = False

    def __init__(self):
        self.training = True

    def forward(self, *args, **kwargs):
        raise NotImplementedError(f"{type(self).__name__} must define forward()")

    def __call__(self, *args, **kwargs):
        return self.forward(*args, **kwargs)

    # traversal -------------------------------------------------------------
    # Traversal runs on every parameters()/train()/eval() call (fit makes several per call), so it
    # builds lists in one pass and recurses with generators only into the rare container attributes.
    def _entries(self):
        """(name, Parameter or Module) held by this module itself, in attribute order."""
        out = []
        for name, value in vars(self).items():
            if type(value) in _PLAIN:  # sizes, flags, names: most attributes, skipped by one set lookup
                continue
            if isinstance(value, _OWN):
                out.append((name, value))
            elif isinstance(value, _CONTAINERS) and value and not _all_plain(value):
                out.extend(_flatten(name, value))
        return out

    def named_children(self):
        """(name, module) for the direct sub-modules."""
        return iter([(name, value) for name, value in self._entries() if isinstance(value, Module)])

    def children(self):
        """The direct sub-modules."""
        return (m for _, m in self.named_children())

    def _named_module_list(self, prefix=""):
        cache = getattr(_HELD_STILL, "walks", None)
        if cache is not None:
            hit = cache.get(("modules", id(self), prefix))
            if hit is not None:
                return hit
        seen, out = set(), []
        stack = [(prefix, self)]
        while stack:
            name, mod = stack.pop()
            if id(mod) in seen:
                continue
            seen.add(id(mod))
            out.append((name, mod))
            kids = [(_join(name, n), m) for n, m in mod._entries() if isinstance(m, Module)]
            kids.reverse()
            stack.extend(kids)
        if cache is not None:
            cache[("modules", id(self), prefix)] = out
        return out

    def named_modules(self, prefix=""):
        """(dotted name, module) for this module (name ``prefix``) and every descendant, once each."""
        return iter(self._named_module_list(prefix))

    def modules(self):
        """This module and every descendant."""
        return (m for _, m in self.named_modules())

    def named_parameters(self, prefix=""):
        """(dotted name, Parameter) pairs; a parameter shared by two layers appears once."""
        cache = getattr(_HELD_STILL, "walks", None)
        out = None if cache is None else cache.get(("parameters", id(self), prefix))
        if out is None:
            seen, out = set(), []
            for mod_name, mod in self._named_module_list(prefix):
                for name, value in mod._entries():
                    if isinstance(value, Parameter) and id(value) not in seen:
                        seen.add(id(value))
                        out.append((_join(mod_name, name), value))
            if cache is not None:
                cache[("parameters", id(self), prefix)] = out
        return iter(out)

    def parameters(self):
        """Every Parameter, in a fixed order (the order optimisers and state dicts use)."""
        return (p for _, p in self.named_parameters())

    # buffers: state that is saved but never trained (e.g. BatchNorm's running statistics)
    def register_buffer(self, name, value):
        """Keep ``value`` (an array, or None) as the buffer ``name``: an attribute that
        :meth:`state_dict`, :func:`chainrule.save` and :func:`chainrule.load` include but that
        no optimiser sees. Layers update buffers in place.

        Example:
            >>> from chainrule import nn
            >>> m = nn.Module()
            >>> m.register_buffer("count", np.zeros(2))
            >>> [name for name, _ in m.named_buffers()], list(m.parameters())
            (['count'], [])
        """
        if not isinstance(name, str) or not name.isidentifier():
            raise ValueError(f"a buffer name must be a Python identifier, got {name!r}")
        if value is not None and not isinstance(value, np.ndarray):
            raise TypeError(f"buffer {name!r} must be a NumPy array or None, got {type(value).__name__}")
        names = self.__dict__.setdefault("_buffer_names", [])
        if name not in names:
            names.append(name)
        setattr(self, name, value)

    def named_buffers(self, prefix=""):
        """(dotted name, ndarray) for every buffer of this module and its descendants."""
        for mod_name, mod in self.named_modules(prefix):
            for name in mod.__dict__.get("_buffer_names", ()):
                value = getattr(mod, name)
                if value is not None:
                    yield _join(mod_name, name), value

    def buffers(self):
        """Every buffer array."""
        return (b for _, b in self.named_buffers())

    def num_parameters(self, trainable_only=False):
        """Total number of scalar parameters."""
        return sum(p.size for p in self.parameters() if p.requires_grad or not trainable_only)

    # modes and gradients ---------------------------------------------------
    def train(self, mode=True):
        """Put this module and all descendants in training mode (or eval mode if ``mode`` is False)."""
        mode = bool(mode)
        for _, m in self._named_module_list():
            m.training = mode
        Module.mode_changes += 1  # compiled steps re-read the flags only after a change
        return self

    def eval(self):
        """Evaluation mode: Dropout becomes the identity."""
        return self.train(False)

    def zero_grad(self):
        """Forget the gradients of all parameters (backward accumulates into ``.grad``)."""
        params = list(self.parameters())
        for p in params:
            p.grad = None
        if GRAD_MODE.recorder is not None:  # a compiled step replays this zero_grad
            GRAD_MODE.recorder.on_zero(params)

    # state -----------------------------------------------------------------
    def state_dict(self):
        """An ordered ``{dotted name: ndarray copy}`` of every parameter, then every buffer.

        Example:
            >>> from chainrule import nn
            >>> {name: array.shape for name, array in nn.Linear(2, 3, seed=0).state_dict().items()}
            {'weight': (3, 2), 'bias': (3,)}
        """
        state = OrderedDict((name, p.data.copy()) for name, p in self.named_parameters())
        state.update((name, b.copy()) for name, b in self.named_buffers())
        return state

    def load_state_dict(self, state, strict=True):
        """Copy arrays from ``state`` into the parameters, in place.

        Args:
            state: mapping of dotted names to arrays (as made by :meth:`state_dict`).
            strict: when True (default), missing or unexpected keys are an error.

        Returns:
            ``LoadResult(missing_keys, unexpected_keys)``.

        Raises:
            ValueError: listing every missing, unexpected and mis-shaped key; nothing
                is copied in that case.
        """
        own = OrderedDict(self.named_parameters())
        own.update(self.named_buffers())
        arrays = {k: np.asarray(v.data if isinstance(v, Tensor) else v) for k, v in state.items()}
        missing = [k for k in own if k not in arrays]
        unexpected = [k for k in arrays if k not in own]
        shapes = [f"{k}: expected {own[k].shape}, got {arrays[k].shape}"
                  for k in own if k in arrays and arrays[k].shape != own[k].shape]
        problems = []
        if strict and missing:
            problems.append("missing keys: " + ", ".join(missing))
        if strict and unexpected:
            problems.append("unexpected keys: " + ", ".join(unexpected))
        if shapes:
            problems.append("mis-shaped keys: " + "; ".join(shapes))
        if problems:
            raise ValueError(f"cannot load state into {type(self).__name__}: " + " | ".join(problems))
        for k, p in own.items():
            if k in arrays:
                np.copyto(p.data if isinstance(p, Tensor) else p, arrays[k], casting="same_kind")
        return LoadResult(missing, unexpected)

    # architecture as JSON --------------------------------------------------
    def _config_args(self):
        raise NotImplementedError(
            f"{type(self).__name__} has no config(); decorate the class with @nn.register to save it in full, "
            "or save its weights alone with chainrule.save_weights(model, path)"
        )

    def config(self):
        """A JSON-serialisable ``{"type": name, "args": {...}}`` that rebuilds this layer.

        Example:
            >>> from chainrule import nn
            >>> nn.Linear(2, 3, seed=0).config()["args"]["out_features"]
            3
        """
        name = LAYERS.name_of(type(self))
        if name is None:
            raise ValueError(f"{type(self).__name__} is not in nn.LAYERS, so from_config could not rebuild it; "
                             "decorate the class with @nn.register, or use chainrule.save_weights(model, path)")
        return {"type": name, "args": self._config_args()}

    @classmethod
    def _from_args(cls, args):
        return cls(**args)

    @classmethod
    def from_config(cls, config):
        """Build a layer from :meth:`config` output (weights are freshly initialised)."""
        if not isinstance(config, dict) or "type" not in config:
            raise ValueError(f"a layer config must be a dict with a 'type' key, got {config!r}")
        target = LAYERS[config["type"]]
        if not issubclass(target, cls):
            raise ValueError(f"config type {config['type']!r} is not a {cls.__name__}")
        return target._from_args(dict(config.get("args", {})))

    # printing --------------------------------------------------------------
    def extra_repr(self):
        """The text between the parentheses of this module's one-line repr."""
        return ""

    def __repr__(self):
        extra = self.extra_repr()
        lines = []
        for name, value in self._entries():
            if isinstance(value, Parameter) and extra:
                continue  # a layer that describes itself needs no parameter list
            body = repr(value).replace("\n", "\n  ")
            lines.append(f"  ({name}): {body}")
        head = f"{type(self).__name__}({extra}"
        count = self.num_parameters()
        note = f"  # {count:,} parameters" if count else ""
        if not lines:
            return head + ")" + note
        return head + "\n" + "\n".join(lines) + "\n)" + note


# Traversal results, remembered while a block promises not to change any module's structure.
_HELD_STILL = threading.local()


@contextmanager
def structure_held(model):
    """Inside the block, walks over modules and parameters are computed once and then remembered.

    For code that reads a model's structure many times but never changes it (``fit`` walks it a
    dozen times per call). Adding or removing a sub-module or parameter inside the block is not
    seen. Nested blocks share the outer one's memory; each thread has its own.

    Example:
        >>> from chainrule import nn
        >>> net = nn.MLP([2, 3, 1], seed=0)
        >>> with structure_held(net):
        ...     list(net.parameters()) == list(net.parameters())
        True
    """
    if getattr(_HELD_STILL, "walks", None) is not None:
        yield model
        return
    _HELD_STILL.walks = {}
    try:
        yield model
    finally:
        _HELD_STILL.walks = None


@contextmanager
def evaluating(model):
    """Eval mode for ``model`` and its descendants inside the block; each module's own flag is restored.

    Unlike ``model.eval()`` ... ``model.train()``, a module that was in eval mode before stays so.

    Example:
        >>> from chainrule import nn
        >>> net = nn.Sequential(nn.Linear(2, 2, seed=0), nn.Dropout(0.5))
        >>> net[1].eval()
        Dropout(p=0.5)
        >>> with nn.evaluating(net):
        ...     [m.training for m in net.modules()]
        [False, False, False]
        >>> [m.training for m in net.modules()]
        [True, True, False]
    """
    modules = [m for _, m in model._named_module_list()]
    flags = [m.training for m in modules]
    for m in modules:
        m.training = False
    Module.mode_changes += 1  # compiled steps re-read the flags only after a change
    try:
        yield model
    finally:
        for m, flag in zip(modules, flags):
            m.training = flag
        Module.mode_changes += 1


# What a module's attributes may hold that traversal must look into.
_OWN = (Parameter, Module)
_CONTAINERS = (list, tuple, dict)
#: Types that can never hold a Parameter or Module (exact types: a subclass of int may).
_PLAIN = frozenset({int, float, str, bool, bytes, complex, type(None), np.float32, np.float64, np.int64})
_HELD = _OWN + _CONTAINERS


def from_config(config):
    """Rebuild any registered layer or model from its :meth:`Module.config` dict.

    Example:
        >>> from chainrule import nn
        >>> nn.from_config(nn.MLP([2, 3, 1], seed=0).config())  # doctest: +ELLIPSIS
        MLP(...
    """
    return Module.from_config(config)


# The containers live in their own file; they stay importable from here, where they always were.
from .containers import ModuleDict, ModuleList  # noqa: E402
