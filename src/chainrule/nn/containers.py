"""Containers that hold sub-modules by position (:class:`ModuleList`) or by name (:class:`ModuleDict`).

Plain lists and dicts of modules held as attributes are found too; these add type checks, slicing,
and a config that rebuilds the whole container from JSON.

Example:
    >>> from chainrule import nn
    >>> [n for n, _ in nn.ModuleList([nn.Linear(1, 1, seed=0)]).named_parameters()]
    ['0.weight', '0.bias']
"""

from __future__ import annotations

from .module import LAYERS, Module, from_config

__all__ = ["ModuleList", "ModuleDict"]


@LAYERS.register
class ModuleList(Module):
    """A list of modules, named "0", "1", ... in parameter names.

    Example:
        >>> from chainrule import nn
        >>> layers = nn.ModuleList([nn.Linear(2, 2, seed=0), nn.ReLU()])
        >>> len(layers), [n for n, _ in layers.named_parameters()]
        (2, ['0.weight', '0.bias'])
    """

    def __init__(self, modules=()):
        super().__init__()
        self._items = []
        for m in modules:
            self.append(m)

    def append(self, module):
        if not isinstance(module, Module):
            raise TypeError(f"{type(self).__name__} holds Modules, got {type(module).__name__}")
        self._items.append(module)
        return self

    def _entries(self):
        return ((str(i), m) for i, m in enumerate(self._items))

    def __getitem__(self, i):
        return type(self)(self._items[i]) if isinstance(i, slice) else self._items[i]

    def __len__(self):
        return len(self._items)

    def __iter__(self):
        return iter(self._items)

    def _config_args(self):
        return {"modules": [m.config() for m in self._items]}

    @classmethod
    def _from_args(cls, args):
        return cls([from_config(c) for c in args["modules"]])


@LAYERS.register
class ModuleDict(Module):
    """A dict of modules keyed by name; the keys become parameter-name parts.

    Example:
        >>> from chainrule import nn
        >>> heads = nn.ModuleDict({"a": nn.Linear(2, 1, seed=0)})
        >>> [n for n, _ in heads.named_parameters()]
        ['a.weight', 'a.bias']
    """

    def __init__(self, modules=None):
        super().__init__()
        self._items = {}
        for k, m in dict(modules or {}).items():
            self[k] = m

    def __setitem__(self, key, module):
        if not isinstance(key, str) or not isinstance(module, Module):
            raise TypeError(f"{type(self).__name__} maps str keys to Modules, got {key!r}: {type(module).__name__}")
        self._items[key] = module

    def _entries(self):
        return iter(self._items.items())

    def __getitem__(self, key):
        return self._items[key]

    def __len__(self):
        return len(self._items)

    def __iter__(self):
        return iter(self._items)

    def __contains__(self, key):
        return key in self._items

    def keys(self):
        return self._items.keys()

    def values(self):
        return self._items.values()

    def items(self):
        return self._items.items()

    def _config_args(self):
        return {"modules": {k: m.config() for k, m in self._items.items()}}

    @classmethod
    def _from_args(cls, args):
        return cls({k: from_config(c) for k, c in args["modules"].items()})
