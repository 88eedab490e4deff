"""Reader for the IDX format of the MNIST files, raw or gzip-compressed."""

from __future__ import annotations

import os
import zlib

import numpy as np

from .._core import as_path
from ..io import limits
from ._checks import check_float_dtype
from .dataset import Dataset
from .digits import pixel_names

# The third header byte names the element type, always big-endian on disk.
_IDX_TYPES = {
    0x08: np.dtype("u1"), 0x09: np.dtype("i1"), 0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"), 0x0D: np.dtype(">f4"), 0x0E: np.dtype(">f8"),
}
IMAGES_MAGIC = 2051
LABELS_MAGIC = 2049
_GZIP_MAGIC = b"\x1f\x8b"


def _read_bytes(path) -> bytes:
    if not os.path.exists(path):
        raise FileNotFoundError(f"IDX file not found: {path}")
    raw = limits.read_limited(path, "IDX file")  # regular files only, size checked first
    # Decide on the content, not the suffix: renamed files are common.
    if not raw.startswith(_GZIP_MAGIC):
        return raw
    cap = limits.get("file_bytes")
    try:
        # Inflate at most one byte past the limit: a gzip bomb stops there.
        stream = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
        out = stream.decompress(raw, cap + 1)
    except (OSError, EOFError, zlib.error) as exc:
        raise ValueError(f"{path} is a damaged or truncated gzip file ({exc})") from None
    if len(out) > cap:
        raise limits.LimitError(f"{path} unpacks to more than {limits.human_bytes(cap)}, over "
                                f"{limits.describe('file_bytes')}")
    if not stream.eof:
        raise ValueError(f"{path} is a damaged or truncated gzip file (the compressed stream ends early)")
    return out


def _parse_header(path, raw: bytes) -> tuple[int, np.dtype, tuple]:
    if len(raw) < 4:
        raise ValueError(f"{path} is too short to be an IDX file ({len(raw)} bytes, need a 4-byte header)")
    magic = int.from_bytes(raw[:4], "big")
    type_code, ndim = raw[2], raw[3]
    if raw[:2] != b"\x00\x00" or type_code not in _IDX_TYPES or ndim == 0:
        raise ValueError(f"{path} does not start with an IDX magic number (got 0x{magic:08x})")
    header_size = 4 + 4 * ndim
    if len(raw) < header_size:
        raise ValueError(f"{path} is truncated inside its header: {ndim} dimensions need {header_size} bytes, file has {len(raw)}")
    dims = tuple(int.from_bytes(raw[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim))
    return magic, _IDX_TYPES[type_code], dims


def load_idx(path, expected_magic: int | None = None) -> np.ndarray:
    """Read one IDX file (``.gz`` or raw) into an array of the shape its header gives.

    Args:
        path: file path; gzip compression is detected from the content.
        expected_magic: if given, the header's magic number must equal it
            (2051 for MNIST images, 2049 for MNIST labels).

    Returns:
        An array in native byte order, e.g. ``(10000, 28, 28)`` uint8 images.

    Raises:
        FileNotFoundError: the file does not exist.
        ValueError: the file is damaged: bad gzip stream, unknown magic number,
            wrong magic number, or a byte count that disagrees with the header.

    Example:
        >>> import tempfile, os
        >>> path = os.path.join(tempfile.mkdtemp(), "tiny-idx1-ubyte")
        >>> _ = open(path, "wb").write(bytes([0, 0, 8, 1, 0, 0, 0, 3, 7, 8, 9]))
        >>> load_idx(path, expected_magic=2049).tolist()
        [7, 8, 9]
    """
    path = as_path("path", path)
    raw = _read_bytes(path)
    magic, dtype, dims = _parse_header(path, raw)
    if expected_magic is not None and magic != expected_magic:
        raise ValueError(f"{path} has IDX magic number {magic}, expected {expected_magic}")
    offset = 4 + 4 * len(dims)
    expected = int(np.prod(dims, dtype=np.int64)) * dtype.itemsize
    if len(raw) - offset != expected:
        shape = "x".join(map(str, dims))
        raise ValueError(
            f"{path} should hold {expected} data bytes for shape {shape} but holds {len(raw) - offset}"
        )
    data = np.frombuffer(raw, dtype=dtype, offset=offset).reshape(dims)
    return data.astype(dtype.newbyteorder("="))


def _guess_labels_path(images_path: str) -> str:
    folder, filename = os.path.split(images_path)
    if "images-idx3" not in filename:
        raise ValueError(
            f"cannot guess the labels file for {images_path} (its name has no 'images-idx3'); pass labels_path"
        )
    return os.path.join(folder, filename.replace("images-idx3", "labels-idx1"))


def load_mnist(images_path, labels_path=None, dtype=np.float32, normalize: bool = False) -> Dataset:
    """Read an MNIST images/labels pair into a 10-class Dataset.

    Args:
        images_path: IDX images file (magic 2051), e.g. ``t10k-images-idx3-ubyte.gz``.
        labels_path: IDX labels file (magic 2049); by default the images
            path with ``images-idx3`` replaced by ``labels-idx1``.
        dtype: floating dtype of ``X``.
        normalize: divide pixels by 255 to get [0, 1] instead of 0..255.

    Returns:
        ``X`` of shape ``(n, rows * cols)`` (row-major pixels) and int64 ``y``
        of shape ``(n,)`` with digits 0..9.

    Example:
        >>> ds = load_mnist("mnist/t10k-images-idx3-ubyte.gz")  # doctest: +SKIP
        >>> ds.X.shape, ds.y[:5].tolist()  # doctest: +SKIP
        ((10000, 784), [7, 2, 1, 0, 4])
    """
    dtype = check_float_dtype(dtype)
    images_path = as_path("images_path", images_path)
    labels_path = _guess_labels_path(images_path) if labels_path is None else as_path("labels_path", labels_path)
    images = load_idx(images_path, expected_magic=IMAGES_MAGIC)
    labels = load_idx(labels_path, expected_magic=LABELS_MAGIC)
    if images.ndim != 3 or labels.ndim != 1:
        raise ValueError(
            f"MNIST images must be 3-D and labels 1-D, got {images.ndim}-D in {images_path} and {labels.ndim}-D in {labels_path}"
        )
    if len(images) != len(labels):
        raise ValueError(f"{images_path} holds {len(images)} images but {labels_path} holds {len(labels)} labels")
    if labels.size and labels.max() > 9:
        raise ValueError(f"{labels_path} holds label {int(labels.max())}; MNIST labels are the digits 0 to 9")
    X = images.reshape(len(images), -1).astype(dtype)
    if normalize:
        X /= dtype.type(255)
    rows, cols = images.shape[1:]
    return Dataset(
        X, labels.astype(np.int64), "classification", name="mnist",
        feature_names=pixel_names(rows, cols), class_names=tuple(str(d) for d in range(10)),
        description=f"MNIST handwritten digits, {len(images)} images of {rows}x{cols}",
    )
