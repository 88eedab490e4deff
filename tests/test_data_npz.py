"""NPZ loading: arrays, names, task inference, and refusals that never unpickle."""

import re

import numpy as np
import pytest

from chainrule.data import load_npz


def save(tmp_path, name="data.npz", **arrays):
    path = tmp_path / name
    np.savez(path, **arrays)
    return path


def test_loads_arrays_and_names(tmp_path):
    X = np.arange(12, dtype=np.float64).reshape(6, 2)
    path = save(tmp_path, X=X, y=np.array(["b", "a", "b", "a", "b", "a"]),
                feature_names=np.array(["width", "height"]))
    ds = load_npz(path)
    assert ds.X.dtype == np.float32 and np.array_equal(ds.X, X)
    assert ds.feature_names == ("width", "height")
    assert ds.class_names == ("a", "b") and ds.y.tolist() == [1, 0, 1, 0, 1, 0]
    assert ds.name == "data"


def test_custom_keys_regression_and_dtype(tmp_path):
    path = save(tmp_path, inputs=np.ones((4, 3)), targets=np.array([0.1, 0.2, 0.3, 0.4]))
    ds = load_npz(path, x_key="inputs", y_key="targets", dtype=np.float64)
    assert ds.task == "regression" and ds.y.dtype == np.float64 and ds.X.dtype == np.float64


def test_two_dimensional_targets_are_regression(tmp_path):
    ds = load_npz(save(tmp_path, X=np.zeros((5, 2)), y=np.zeros((5, 3))))
    assert ds.task == "regression" and ds.y.shape == (5, 3)


def test_images_are_flattened_per_row(tmp_path):
    ds = load_npz(save(tmp_path, X=np.zeros((4, 3, 3), np.uint8), y=np.array([0, 1, 0, 1])))
    assert ds.X.shape == (4, 9)


def test_class_names_in_archive_and_argument(tmp_path):
    path = save(tmp_path, X=np.zeros((3, 1)), y=np.array([2, 2, 0]), class_names=np.array(["0", "1", "2"]))
    assert load_npz(path).class_names == ("0", "1", "2")
    with pytest.raises(ValueError, match="class_names must name at least two classes"):
        load_npz(path, class_names=["0"])


BAD_ARCHIVES = [
    ({"X": np.zeros((3, 2))}, {}, "{p} has no array 'y'; arrays present: X"),
    ({"X": np.zeros((3, 2)), "y": np.zeros(2)}, {}, "{p}: array 'y' has 2 rows but 'X' has 3"),
    ({"X": np.zeros(3), "y": np.zeros(3)}, {}, "{p}: array 'X' must have shape (rows, features), got shape (3,)"),
    ({"X": np.array([["a"], ["b"]]), "y": np.zeros(2)}, {}, "{p}: array 'X' must be numeric, got dtype <U1"),
    (
        {"X": np.array([[0.0, 1.0], [np.nan, 2.0]]), "y": np.zeros(2)}, {},
        "{p}: array 'X' holds nan at row 1, column 0; NaN and infinite values are not allowed",
    ),
    ({"X": np.zeros((2, 1)), "y": np.array([0.0, np.inf])}, {},
     "{p}: array 'y' holds a NaN or infinite value at row 1"),
    ({"X": np.zeros((4, 1)), "y": np.array([1, 1, 1, 1])}, {},
     "{p}: target 'y' has a single class ('1'); classification needs at least two"),
    ({"X": np.zeros((2, 1)), "y": np.zeros((2, 2))}, {"task": "classification"},
     "{p}: target 'y' must be 1-D class labels for classification, got shape (2, 2);"
     " convert one-hot rows with argmax or pass task='regression'"),
]


@pytest.mark.parametrize("arrays, kwargs, message", BAD_ARCHIVES)
def test_bad_archive_gives_one_clear_sentence(tmp_path, arrays, kwargs, message):
    path = save(tmp_path, **arrays)
    with pytest.raises(ValueError) as err:
        load_npz(path, **kwargs)
    assert str(err.value) == message.format(p=path)


def test_object_arrays_are_refused_not_unpickled(tmp_path):
    path = save(tmp_path, X=np.zeros((2, 1)), y=np.array([{"a": 1}, None], dtype=object))
    with pytest.raises(ValueError, match="array 'y' holds Python objects, which are never unpickled"):
        load_npz(path)


@pytest.mark.parametrize(
    "content, message",
    [
        (b"x,y\n1,2\n", "is not a NumPy .npz archive (it does not start like a zip file)"),
        (b"PK\x03\x04garbage", "is a damaged .npz archive"),
    ],
)
def test_not_an_archive(tmp_path, content, message):
    path = tmp_path / "bad.npz"
    path.write_bytes(content)
    with pytest.raises(ValueError, match=re.escape(message)):
        load_npz(path)


def test_npy_file_and_missing_file(tmp_path):
    npy = tmp_path / "single.npy"
    np.save(npy, np.zeros(3))
    with pytest.raises(ValueError, match=r"is a single-array \.npy file; expected an \.npz archive"):
        load_npz(npy)
    with pytest.raises(FileNotFoundError, match="NPZ file not found"):
        load_npz(tmp_path / "missing.npz")
