"""Which implementation runs the ops that have two: NumPy (always there) or Numba (the extra ``chainrule[numba]``).

Today two ops have a Numba implementation: ``lstm_seq`` and ``gru_seq`` in
float32, whose time steps run their element-wise work as one compiled call each,
forward and backward, beside NumPy's matrix products (:mod:`.recurrent_numba`).
Their results agree with the NumPy loops to float32 rounding (sigmoid and tanh
within 3 ulp), and every other op and dtype runs NumPy.

The choice is one name in :data:`KERNELS`:

* ``"auto"`` (the default): Numba's when numba is installed, else NumPy's;
* ``"numpy"``: always NumPy's;
* ``"numba"``: Numba's, and an error at the first use when numba is absent.

Set it with :func:`set_kernels` or, before the first use, the environment
variable ``CHAINRULE_KERNELS``. Numba compiles the functions at their first
call and caches them on disk (about 8 s once; a later process loads them in
about a second).

Example:
    >>> import chainrule as cr
    >>> previous = cr.set_kernels("numpy")      # NumPy's loops everywhere
    >>> cr.set_kernels(previous)
    'numpy'
"""

from __future__ import annotations

import importlib.util
import os
import warnings

from ..._core import Registry

__all__ = ["KERNELS", "set_kernels", "get_kernels", "numba_kernels"]


def _numba():
    from . import recurrent_numba  # imports numba: only here, at the first op that asks
    return recurrent_numba


def _numba_if_installed():
    if importlib.util.find_spec("numba") is None:
        return None
    try:
        return _numba()
    except ImportError as exc:   # e.g. a numba built for another NumPy: slower, not wrong, so say so and go on
        warnings.warn(f"kernels 'auto': numba is installed but cannot be imported ({exc}); "
                      "running NumPy's loops", stacklevel=4)
        return None


def _numba_required():
    if importlib.util.find_spec("numba") is None:
        raise ValueError("kernels 'numba' need numba, which is not installed: pip install 'chainrule[numba]', "
                         "or use set_kernels('auto') or 'numpy'")
    return _numba()


#: kernel choice -> a loader returning the Numba kernel module, or None for NumPy's loops.
KERNELS = Registry("kernels")
KERNELS["auto"] = _numba_if_installed
KERNELS["numpy"] = lambda: None
KERNELS["numba"] = _numba_required

_UNLOADED = object()
_state = {"choice": os.environ.get("CHAINRULE_KERNELS", "auto").strip() or "auto", "module": _UNLOADED}


def set_kernels(name):
    """Choose the kernels for the ops that have a Numba implementation; returns the previous choice.

    Args:
        name: "auto", "numpy" or "numba" (see :mod:`chainrule.autodiff.ops.kernels`).

    Example:
        >>> import chainrule as cr
        >>> cr.set_kernels("gpu")
        Traceback (most recent call last):
        ...
        chainrule._core.UnknownNameError: unknown kernels 'gpu'; expected one of: auto, numba, numpy
    """
    if not isinstance(name, str):
        raise TypeError(f"set_kernels: expected a name (auto, numba or numpy), got {type(name).__name__}")
    KERNELS[name]  # noqa: B018 - the lookup names the valid choices when this one is not among them
    previous, _state["choice"], _state["module"] = _state["choice"], name, _UNLOADED
    return previous


def get_kernels():
    """The current choice: "auto", "numpy" or "numba"."""
    return _state["choice"]


def numba_kernels():
    """The Numba kernel module when the current choice uses it, else None (loaded once per choice)."""
    module = _state["module"]
    if module is _UNLOADED:
        try:
            loader = KERNELS[_state["choice"]]
        except KeyError:
            raise ValueError(f"CHAINRULE_KERNELS={_state['choice']!r} is not a kernel choice; "
                             "expected one of: auto, numba, numpy") from None
        module = _state["module"] = loader()
    return module
