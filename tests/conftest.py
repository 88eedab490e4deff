import os
import sys

import numpy as np
import pytest

sys.path.insert(0, os.path.dirname(__file__))

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SHARED = os.path.join(os.path.dirname(REPO), "shared")
MNIST_DIR = os.path.join(SHARED, "data", "mnist")


@pytest.fixture
def mnist_dir():
    if not os.path.exists(os.path.join(MNIST_DIR, "t10k-images-idx3-ubyte.gz")):
        pytest.skip(f"MNIST files not found in {MNIST_DIR} (the shared data folder is absent)")
    return MNIST_DIR


@pytest.fixture
def f64():
    """Run a test with float64 as the default dtype, restoring it afterwards."""
    import chainrule as cr

    old = cr.get_default_dtype()
    cr.set_default_dtype(np.float64)
    yield
    cr.set_default_dtype(old)


@pytest.fixture
def one_blas_thread():
    """Pin BLAS to one thread: on a shared 2-core machine OpenBLAS's second thread waits on busy
    cores and can make BLAS-bound training several times slower, which would make timings flaky."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        yield
        return
    with threadpool_limits(1, user_api="blas"):
        yield


@pytest.fixture(params=["numpy", "numba"])
def kernels(request):
    """Run a test once with NumPy's loops and once with the Numba kernels (skipped when numba is absent)."""
    import chainrule as cr

    if request.param == "numba":
        pytest.importorskip("numba", reason="the Numba kernels need the optional extra chainrule[numba]")
    old = cr.set_kernels(request.param)
    yield request.param
    cr.set_kernels(old)
