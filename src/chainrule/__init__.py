"""chainrule: neural networks trained by backpropagation, on NumPy.

Four ways to a gradient, one registry of primitives:

    >>> import chainrule as cr
    >>> x, y, z = (cr.tensor(v, requires_grad=True) for v in (-2.0, 5.0, -4.0))
    >>> f = (x + y) * z
    >>> f.backward()
    >>> float(f), float(x.grad), float(y.grad), float(z.grad)
    (-12.0, -4.0, -4.0, 3.0)
"""

from .autograd import enable_grad, is_grad_enabled, no_grad
from .compare import compare_gradients
from .forward import Dual, jvp
from .functions import *  # noqa: F401,F403
from .functions import __all__ as _functions_all
from .numeric import GradcheckError, gradcheck, numerical_grad, relative_error
from .ops import REGISTRY as ops_registry
from .reverse import grad, jacobian, value_and_grad
from .tensor import Tensor, get_default_dtype, set_default_dtype, tensor
from .trace import trace

from . import classic, data, nn, optim  # noqa: E402  (subpackages need the engine above)
from .explain import explain, mazur_network  # noqa: E402
from . import callbacks, metrics, viz  # noqa: E402
from .history import History  # noqa: E402
from .io import load, save  # noqa: E402
from .restarts import fit_restarts  # noqa: E402
from .train import evaluate, fit, predict  # noqa: E402

__version__ = "0.1.0"

__all__ = [
    "Tensor", "tensor", "set_default_dtype", "get_default_dtype", "no_grad", "enable_grad",
    "is_grad_enabled", "Dual", "jvp", "grad", "value_and_grad", "jacobian", "numerical_grad",
    "gradcheck", "GradcheckError", "relative_error", "ops_registry", "__version__",
    "compare_gradients", "trace", "explain", "mazur_network", "nn", "optim", "data", "classic",
    "fit", "evaluate", "predict", "fit_restarts", "History", "save", "load", "callbacks", "metrics", "viz",
    *_functions_all,
]
