"""Loading arrays saved with ``numpy.savez`` into a Dataset, never unpickling anything."""

from __future__ import annotations

import math
import os
import zipfile

import numpy as np

from .._core import as_path
from ..io import limits
from ._checks import check_float_dtype, check_fits_dtype
from .dataset import Dataset
from .targets import encode_targets

_ZIP_MAGIC = b"PK\x03\x04"
_NPY_MAGIC = b"\x93NUMPY"


def _open_archive(path):
    if not os.path.exists(path):
        raise FileNotFoundError(f"NPZ file not found: {path}")
    handle, _ = limits.open_regular(path, "NPZ file")  # regular files only, size checked first
    with handle:
        start = handle.read(6)
    if start.startswith(_NPY_MAGIC):
        raise ValueError(
            f"{path} is a single-array .npy file; expected an .npz archive saved with np.savez(path, X=X, y=y)"
        )
    if not start.startswith(_ZIP_MAGIC):
        raise ValueError(f"{path} is not a NumPy .npz archive (it does not start like a zip file)")
    try:
        archive = np.load(path, allow_pickle=False)
    except (zipfile.BadZipFile, ValueError, OSError) as exc:
        raise ValueError(f"{path} is a damaged .npz archive ({exc})") from None
    unpacked = sum(info.file_size for info in archive.zip.infolist())
    if unpacked > limits.get("file_bytes"):  # a zip bomb is refused before anything is inflated
        archive.close()
        raise limits.LimitError(f"{path} unpacks to {limits.human_bytes(unpacked)}, over "
                                f"{limits.describe('file_bytes')}")
    return archive


def _member(archive, key):
    return key + ".npy" if key + ".npy" in archive.zip.namelist() else key


def _claimed_bytes(archive, key):
    """The bytes an archive member's .npy header claims (its shape times its item size), read from the header only."""
    with archive.zip.open(_member(archive, key)) as member:
        version = np.lib.format.read_magic(member)
        reader = np.lib.format.read_array_header_1_0 if version == (1, 0) else np.lib.format.read_array_header_2_0
        shape, _, dtype = reader(member)
    return math.prod(shape) * dtype.itemsize


def _get(archive, path, key) -> np.ndarray:
    if key not in archive.files:
        raise ValueError(f"{path} has no array {key!r}; arrays present: {', '.join(archive.files) or 'none'}")
    try:
        claimed = _claimed_bytes(archive, key)
    except (ValueError, zipfile.BadZipFile, OSError, EOFError) as exc:
        raise ValueError(f"{path}: array {key!r} has a damaged header ({exc})") from None
    stored = archive.zip.getinfo(_member(archive, key)).file_size
    if claimed > stored:  # checked before numpy allocates what the header claims
        raise ValueError(f"{path}: array {key!r} claims {limits.human_bytes(claimed)} but the archive stores only "
                         f"{limits.human_bytes(stored)} for it; the file is damaged")
    try:
        return archive[key]
    except ValueError:
        # Raised for object arrays, which could only be read by unpickling.
        raise ValueError(
            f"{path}: array {key!r} holds Python objects, which are never unpickled; save it as a numeric or text array"
        ) from None
    except (zipfile.BadZipFile, OSError, EOFError) as exc:
        raise ValueError(f"{path}: array {key!r} is damaged ({exc})") from None


def _features(path, key, X) -> np.ndarray:
    if X.dtype.kind not in "biuf":
        raise ValueError(f"{path}: array {key!r} must be numeric, got dtype {X.dtype}")
    if X.ndim < 2:
        raise ValueError(f"{path}: array {key!r} must have shape (rows, features), got shape {X.shape}")
    # Images and other grids are flattened to one row per sample.
    X = X.reshape(len(X), -1)
    bad = np.argwhere(~np.isfinite(X.astype(np.float64)))
    if bad.size:
        row, col = (int(v) for v in bad[0])
        raise ValueError(
            f"{path}: array {key!r} holds {X[row, col]} at row {row}, column {col}; NaN and infinite values are not allowed"
        )
    return X


def _names(archive, path, key):
    if key not in archive.files:
        return None
    return tuple(str(v) for v in _get(archive, path, key).reshape(-1).tolist())


def load_npz(path, x_key="X", y_key="y", task=None, dtype=np.float32, class_names=None) -> Dataset:
    """Load features and targets from an ``.npz`` archive (``allow_pickle`` stays off).

    Args:
        path: archive written by ``np.savez(path, X=X, y=y)``; optional text
            arrays ``feature_names`` and ``class_names`` are used when present.
        x_key, y_key: names of the feature and target arrays.
        task: ``"classification"``, ``"regression"`` or ``None`` to infer it
            (same rules as :func:`load_csv`).
        dtype: floating dtype of ``X`` (and of ``y`` for regression).
        class_names: fixes the label of each class; overrides the archive's.

    Returns:
        A Dataset with ``X`` of shape ``(n, d)`` (arrays with more than two
        dimensions are flattened per row) and ``y`` of shape ``(n,)`` or ``(n, k)``.

    Example:
        >>> import tempfile, os
        >>> path = os.path.join(tempfile.mkdtemp(), "toy.npz")
        >>> np.savez(path, X=np.eye(4), y=np.array([0, 1, 1, 0]))
        >>> ds = load_npz(path)
        >>> ds.X.dtype, ds.task, ds.class_names
        (dtype('float32'), 'classification', ('0', '1'))
    """
    dtype = check_float_dtype(dtype)
    path = as_path("path", path)
    with _open_archive(path) as archive:
        X = _features(path, x_key, _get(archive, path, x_key))
        raw_y = _get(archive, path, y_key)
        feature_names = _names(archive, path, "feature_names")
        class_names = class_names if class_names is not None else _names(archive, path, "class_names")
    if raw_y.dtype.kind == "S":
        raw_y = raw_y.astype(str)
    if raw_y.ndim == 0 or len(raw_y) != len(X):
        got = "a scalar" if raw_y.ndim == 0 else f"{len(raw_y)} rows"
        raise ValueError(f"{path}: array {y_key!r} has {got} but {x_key!r} has {len(X)}")
    if raw_y.dtype.kind in "fc" and not np.all(np.isfinite(raw_y)):
        row = int(np.argwhere(~np.isfinite(raw_y))[0][0])
        raise ValueError(f"{path}: array {y_key!r} holds a NaN or infinite value at row {row}")
    y, task, names = encode_targets(raw_y, task, f"{path}: target {y_key!r}", dtype, class_names)
    check_fits_dtype(X, dtype, lambda i: f"{path}: array {x_key!r} at row {i // X.shape[1]}, column {i % X.shape[1]}")
    return Dataset(
        X.astype(dtype), y, task, name=os.path.splitext(os.path.basename(path))[0],
        feature_names=feature_names or (), class_names=names, description=f"loaded from {path}",
    )
