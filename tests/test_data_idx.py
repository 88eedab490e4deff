"""IDX/MNIST reading: synthetic files for every failure, the real test set when present."""

import gzip
import re
from pathlib import Path

import numpy as np
import pytest

from chainrule.data import load_idx, load_mnist

MNIST_DIR = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "mnist"
MNIST_IMAGES = MNIST_DIR / "t10k-images-idx3-ubyte.gz"
needs_mnist = pytest.mark.skipif(
    not MNIST_IMAGES.exists(), reason=f"MNIST test files not found in {MNIST_DIR.resolve()}"
)


def idx_bytes(array: np.ndarray, type_code=0x08) -> bytes:
    header = bytes([0, 0, type_code, array.ndim]) + b"".join(d.to_bytes(4, "big") for d in array.shape)
    return header + array.astype(array.dtype.newbyteorder(">")).tobytes()


def write(tmp_path, name, data: bytes, compress=False):
    path = tmp_path / name
    path.write_bytes(gzip.compress(data) if compress else data)
    return path


def fake_mnist(tmp_path, n=5, compress=True):
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, size=(n, 4, 3), dtype=np.uint8)
    labels = rng.integers(0, 10, size=n, dtype=np.uint8)
    suffix = ".gz" if compress else ""
    write(tmp_path, f"fake-images-idx3-ubyte{suffix}", idx_bytes(images), compress)
    write(tmp_path, f"fake-labels-idx1-ubyte{suffix}", idx_bytes(labels), compress)
    return tmp_path / f"fake-images-idx3-ubyte{suffix}", images, labels


@pytest.mark.parametrize("compress", [False, True])
def test_round_trip_raw_and_gzip(tmp_path, compress):
    images_path, images, labels = fake_mnist(tmp_path, compress=compress)
    assert np.array_equal(load_idx(images_path, expected_magic=2051), images)
    ds = load_mnist(images_path)
    assert ds.X.shape == (5, 12) and ds.X.dtype == np.float32
    assert np.array_equal(ds.X, images.reshape(5, -1)) and np.array_equal(ds.y, labels)
    assert ds.feature_names[3] == "pixel_1_0" and ds.class_names == tuple("0123456789")


def test_normalize_and_explicit_labels_path(tmp_path):
    images_path, images, labels = fake_mnist(tmp_path)
    ds = load_mnist(images_path, tmp_path / "fake-labels-idx1-ubyte.gz", dtype=np.float64, normalize=True)
    assert ds.X.dtype == np.float64 and np.allclose(ds.X * 255, images.reshape(5, -1))


@pytest.mark.parametrize(
    "type_code, dtype", [(0x09, np.int8), (0x0B, np.int16), (0x0C, np.int32), (0x0D, np.float32), (0x0E, np.float64)]
)
def test_other_element_types_come_back_native(tmp_path, type_code, dtype):
    array = np.arange(-3, 3).astype(dtype).reshape(2, 3)
    out = load_idx(write(tmp_path, "a.idx", idx_bytes(array, type_code)))
    assert out.dtype == np.dtype(dtype) and np.array_equal(out, array)


LABELS_2 = idx_bytes(np.array([1, 2], np.uint8))
BAD_IDX = [
    (b"", "{p} is too short to be an IDX file (0 bytes, need a 4-byte header)"),
    (b"\x01\x02\x08\x01" + b"\x00" * 8, "{p} does not start with an IDX magic number (got 0x01020801)"),
    (b"\x00\x00\x07\x01" + b"\x00" * 8, "{p} does not start with an IDX magic number (got 0x00000701)"),
    (b"\x00\x00\x08\x03\x00\x00", "{p} is truncated inside its header: 3 dimensions need 16 bytes, file has 6"),
    (LABELS_2[:-1], "{p} should hold 2 data bytes for shape 2 but holds 1"),
    (LABELS_2 + b"\x00", "{p} should hold 2 data bytes for shape 2 but holds 3"),
]


@pytest.mark.parametrize("content, message", BAD_IDX)
def test_corrupt_idx_names_file_and_fault(tmp_path, content, message):
    path = write(tmp_path, "bad-idx1-ubyte", content)
    with pytest.raises(ValueError) as err:
        load_idx(path)
    assert str(err.value) == message.format(p=path)


def test_truncated_and_damaged_gzip(tmp_path):
    packed = gzip.compress(LABELS_2 * 50)
    for name, data in [("cut.gz", packed[: len(packed) // 2]), ("bad.gz", packed[:10] + b"\xff" * 30)]:
        path = write(tmp_path, name, data)
        with pytest.raises(ValueError, match=re.escape(f"{path} is a damaged or truncated gzip file")):
            load_idx(path)


def test_wrong_magic_for_role(tmp_path):
    images_path, _, _ = fake_mnist(tmp_path)
    labels_path = tmp_path / "fake-labels-idx1-ubyte.gz"
    with pytest.raises(ValueError, match=re.escape(f"{labels_path} has IDX magic number 2049, expected 2051")):
        load_mnist(labels_path, labels_path)


def test_count_mismatch_and_bad_labels(tmp_path):
    images_path, _, _ = fake_mnist(tmp_path)
    short = write(tmp_path, "short-labels", idx_bytes(np.array([1, 2], np.uint8)))
    with pytest.raises(ValueError, match=re.escape(f"{images_path} holds 5 images but {short} holds 2 labels")):
        load_mnist(images_path, short)
    eleven = write(tmp_path, "eleven-labels", idx_bytes(np.array([1, 2, 11, 0, 0], np.uint8)))
    with pytest.raises(ValueError, match="holds label 11; MNIST labels are the digits 0 to 9"):
        load_mnist(images_path, eleven)


def test_missing_files_and_unguessable_labels(tmp_path):
    with pytest.raises(FileNotFoundError, match="IDX file not found"):
        load_idx(tmp_path / "nothing")
    images_path, _, _ = fake_mnist(tmp_path)
    renamed = images_path.rename(tmp_path / "pictures.gz")
    with pytest.raises(ValueError, match="cannot guess the labels file for .*pictures.gz .*; pass labels_path"):
        load_mnist(renamed)


@needs_mnist
def test_real_mnist_test_set():
    ds = load_mnist(MNIST_IMAGES)
    assert ds.X.shape == (10000, 784) and ds.X.dtype == np.float32
    assert ds.X.min() == 0 and ds.X.max() == 255
    assert np.bincount(ds.y).tolist() == [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]
    assert ds.y[:5].tolist() == [7, 2, 1, 0, 4]
