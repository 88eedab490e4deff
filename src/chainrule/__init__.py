"""chainrule: neural networks trained by backpropagation, on NumPy.

Four ways to a gradient, one registry of primitives:

    >>> import chainrule as cr
    >>> x, y, z = (cr.tensor(v, requires_grad=True) for v in (-2.0, 5.0, -4.0))
    >>> f = (x + y) * z
    >>> f.backward()
    >>> float(f), float(x.grad), float(y.grad), float(z.grad)
    (-12.0, -4.0, -4.0, 3.0)

The package reads like the course: :mod:`.autodiff` (the engine), :mod:`.nn`, :mod:`.optim`,
:mod:`.train`, :mod:`.callbacks`, :mod:`.data`, :mod:`.classic`, :mod:`.io`, plus
:mod:`.metrics`, :mod:`.explain`, :mod:`.viz` and the command line in :mod:`.cli`.
"""

import sys as _sys

from ._version import __version__
from .autodiff import *  # noqa: F401,F403
from .autodiff import __all__ as _autodiff_all
from . import autodiff

from . import classic, data, nn, optim  # noqa: E402  (subpackages need the engine above)
from . import metrics, train  # noqa: E402  (train imports the callbacks it runs)
from . import callbacks, io, viz  # noqa: E402
from .explain import explain, mazur_network  # noqa: E402
from .io import load, save  # noqa: E402
from .io.models import load_weights, save_weights  # noqa: E402
from .train import predict_labels, predict_proba  # noqa: E402
from .train import History, evaluate, fit, fit_restarts, predict  # noqa: E402

# Module paths from before the package was grouped into subpackages: each old name is the
# moved module itself (not a copy), so isinstance checks and monkeypatching still hold.
_OLD_PATHS = {
    "autograd": "autodiff.engine", "tensor": "autodiff.tensor", "dtypes": "autodiff.dtypes",
    "functions": "autodiff.functions", "ops": "autodiff.ops", "reverse": "autodiff.reverse",
    "forward": "autodiff.forward", "numeric": "autodiff.numeric", "symbolic": "autodiff.symbolic",
    "trace": "autodiff.trace", "compare": "autodiff.compare", "history": "train.history",
    "checkpoint": "train.checkpoint", "restarts": "train.restarts", "_fit_setup": "train.setup",
    "_callback_base": "callbacks.base", "_callbacks_files": "callbacks.files", "_bundle": "io.bundle",
    "onnx": "io.onnx", "main_job": "train.main_job",
}


def _alias_old_paths():
    import importlib

    for old, new in _OLD_PATHS.items():
        module = importlib.import_module(f"{__name__}.{new}")
        _sys.modules.setdefault(f"{__name__}.{old}", module)
        if old not in globals():  # cr.tensor and cr.trace stay the functions they always were
            globals()[old] = module
        for sub in [k for k in list(_sys.modules) if k.startswith(f"{__name__}.{new}.")]:
            _sys.modules.setdefault(f"{__name__}.{old}{sub[len(__name__) + len(new) + 1:]}", _sys.modules[sub])


_alias_old_paths()

__all__ = [
    *_autodiff_all, "__version__", "explain", "mazur_network", "nn", "optim", "data", "classic",
    "fit", "evaluate", "predict", "fit_restarts", "History", "save", "load", "callbacks", "metrics", "viz",
    "train", "io", "autodiff",
    "save_weights", "load_weights", "predict_proba", "predict_labels",
]
