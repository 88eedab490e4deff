"""scikit-learn's 8 x 8 handwritten digits (1,797 images), an optional extra."""

from __future__ import annotations

import numpy as np

from ._checks import check_float_dtype
from .dataset import Dataset

DESCRIPTION = "8x8 handwritten digits from scikit-learn (1,797 images, 10 classes)"


def pixel_names(rows: int, cols: int) -> tuple:
    """Return feature names ``pixel_<row>_<col>`` in row-major order.

    Example:
        >>> pixel_names(2, 2)
        ('pixel_0_0', 'pixel_0_1', 'pixel_1_0', 'pixel_1_1')
    """
    return tuple(f"pixel_{r}_{c}" for r in range(rows) for c in range(cols))


def load_digits(dtype=np.float32) -> Dataset:
    """Return scikit-learn's handwritten digits as a 10-class Dataset.

    Needs scikit-learn (``pip install chainrule[sklearn]``); its copy of the
    data ships inside the package, so nothing is downloaded.

    Returns:
        ``X`` of shape ``(1797, 64)``, pixel intensities 0..16 as floats in
        row-major order, and int64 ``y`` of shape ``(1797,)`` with digits 0..9.

    Example:
        >>> ds = load_digits()  # doctest: +SKIP
        >>> ds.X.shape, float(ds.X.max())  # doctest: +SKIP
        ((1797, 64), 16.0)
    """
    dtype = check_float_dtype(dtype)
    try:
        from sklearn import datasets
    except ImportError:
        raise ImportError(
            "the digits data set needs scikit-learn; install it with `pip install chainrule[sklearn]`"
        ) from None
    bunch = datasets.load_digits()
    return Dataset(
        np.asarray(bunch.data, dtype=dtype), np.asarray(bunch.target, dtype=np.int64),
        "classification", name="digits", feature_names=pixel_names(8, 8),
        class_names=tuple(str(d) for d in range(10)), description=DESCRIPTION,
    )
