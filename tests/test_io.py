"""Model and optimiser files: round trips, refusal to clobber, and one-sentence errors for bad files."""

import doctest
import json
import os
import pickle
import sys

import numpy as np
import pytest

import chainrule as cr
from chainrule import _bundle, io, nn, optim

st = pytest.importorskip("safetensors.numpy")


@pytest.fixture
def model():
    return nn.MLP([3, 5, 2], activation="tanh", seed=0)


@pytest.fixture
def path(tmp_path):
    return str(tmp_path / "model.safetensors")


def _raw(path, arrays, **meta):
    with open(path, "wb") as f:
        f.write(st.save(arrays, metadata=meta or None))


def _one_sentence(excinfo, path, *words):
    msg = str(excinfo.value)
    assert path in msg and "\n" not in msg, msg
    for w in words:
        assert w in msg, msg


def test_round_trip_keeps_weights_architecture_and_metadata(model, path):
    meta = {"scaler": {"mean": np.arange(3.0), "n": np.int64(4)}, "classes": ("a", "b")}
    io.save(model, path, metadata=meta)
    again, got = io.load(path, with_metadata=True)
    assert type(again) is nn.MLP and again.config() == model.config()
    for (n1, p1), (n2, p2) in zip(model.named_parameters(), again.named_parameters()):
        assert n1 == n2 and p1.dtype == p2.dtype
        np.testing.assert_array_equal(p1.data, p2.data)
    assert got == {"scaler": {"mean": [0.0, 1.0, 2.0], "n": 4}, "classes": ["a", "b"]}
    assert io.read_metadata(path) == got
    x = cr.tensor(np.ones((2, 3), np.float32))
    np.testing.assert_array_equal(model(x).data, again(x).data)


def test_float64_sequential_round_trip(path):
    model = nn.Sequential(nn.Linear(2, 3, seed=1, dtype=np.float64), nn.ReLU(), nn.Linear(3, 1, seed=2, dtype=np.float64))
    io.save(model, path)
    again = io.load(path)
    assert again[0].weight.dtype == np.float64
    np.testing.assert_array_equal(again[2].weight.data, model[2].weight.data)


def test_file_is_plain_safetensors_with_documented_metadata(model, path):
    io.save(model, path, metadata={"note": "hi"})
    with open(path, "rb") as f:
        arrays = st.load(f.read())
    assert set(arrays) == {n for n, _ in model.named_parameters()}
    from safetensors import safe_open

    with safe_open(path, "numpy") as f:
        meta = f.metadata()
    assert meta["format"] == "chainrule.model" and meta["format_version"] == "1"
    assert json.loads(meta["document"])["config"] == model.config()


def test_refuses_to_overwrite_unless_asked(model, path):
    io.save(model, path)
    before = open(path, "rb").read()
    with pytest.raises(FileExistsError, match="already exists; pass overwrite=True"):
        io.save(nn.MLP([3, 5, 2], seed=9), path)
    assert open(path, "rb").read() == before
    io.save(nn.MLP([3, 5, 2], seed=9), path, overwrite=True)
    assert open(path, "rb").read() != before
    assert os.listdir(os.path.dirname(path)) == ["model.safetensors"]  # no temp files left behind


def test_an_unwritable_target_is_named_before_anything_is_written(model, tmp_path):
    missing = tmp_path / "no_such_folder" / "m.safetensors"
    with pytest.raises(FileNotFoundError, match=f"cannot write {missing}: the folder {missing.parent} does not exist"):
        io.save(model, missing)
    with pytest.raises(IsADirectoryError, match=f"cannot write {tmp_path}: it is a folder; give a file name such as"):
        io.save(model, tmp_path)
    assert os.listdir(tmp_path) == []
    assert doctest.testmod(_bundle, optionflags=doctest.ELLIPSIS).failed == 0


def test_unserialisable_metadata_is_a_type_error(model, path):
    with pytest.raises(TypeError, match="metadata must hold only JSON types"):
        io.save(model, path, metadata={"f": object()})
    assert not os.path.exists(path)


@pytest.mark.parametrize("cut", [0, 5, 20, -10])
def test_truncated_files(model, path, cut):
    io.save(model, path)
    raw = open(path, "rb").read()
    open(path, "wb").write(raw[:cut])
    with pytest.raises(ValueError) as e:
        io.load(path)
    _one_sentence(e, path, "empty" if cut == 0 else "truncated")


def test_flipped_data_byte_fails_the_checksum(model, path):
    io.save(model, path)
    raw = bytearray(open(path, "rb").read())
    raw[-3] ^= 0xFF
    open(path, "wb").write(bytes(raw))
    with pytest.raises(ValueError) as e:
        io.load(path)
    _one_sentence(e, path, "corrupt", "checksum")


def test_garbled_header_is_corrupt(model, path):
    io.save(model, path)
    raw = bytearray(open(path, "rb").read())
    raw[9:14] = b"\x00\xff!!\x01"
    open(path, "wb").write(bytes(raw))
    with pytest.raises(ValueError) as e:
        io.load(path)
    _one_sentence(e, path, "not valid JSON")


@pytest.mark.parametrize("content, words", [
    (pickle.dumps({"w": 1}), "pickle"),
    (b"PK\x03\x04" + b"\x00" * 40, "ZIP"),
    (b"\x93NUMPY" + b"\x00" * 40, ".npy"),
    (os.urandom(64), "not a safetensors file"),
])
def test_foreign_formats_are_named_and_never_unpickled(path, monkeypatch, content, words):
    open(path, "wb").write(content)
    monkeypatch.setattr(pickle, "loads", lambda *a, **k: pytest.fail("unpickled"))
    monkeypatch.setattr(pickle, "load", lambda *a, **k: pytest.fail("unpickled"))
    with pytest.raises(ValueError) as e:
        io.load(path)
    msg = str(e.value)
    assert path in msg and "\n" not in msg
    assert words in msg or "not a safetensors file" in msg


def test_npz_file_is_reported_as_zip(path):
    with open(path, "wb") as f:
        np.savez(f, w=np.ones(3))
    with pytest.raises(ValueError, match="ZIP archive"):
        io.load(path)


def test_safetensors_without_our_metadata_is_not_a_model(path):
    _raw(path, {"w": np.ones(3, np.float32)})
    with pytest.raises(ValueError) as e:
        io.load(path)
    _one_sentence(e, path, "not a chainrule file")


def test_optimizer_file_is_not_a_model(model, path):
    opt = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    io.save_optimizer(opt, path)
    with pytest.raises(ValueError) as e:
        io.load(path)
    _one_sentence(e, path, "'chainrule.optimizer'", "not a 'chainrule.model'")


def test_newer_format_version_asks_for_an_upgrade(model, path):
    _bundle.write_bundle(path, model.state_dict(), io.MODEL_FORMAT, io.MODEL_VERSION + 1,
                         {"config": model.config(), "metadata": {}})
    with pytest.raises(ValueError) as e:
        io.load(path)
    _one_sentence(e, path, "format version 2", "upgrade chainrule")


def test_what_fit_learnt_about_labels_survives_a_save(path):
    X, y = np.array([[-2.0], [-1.0], [1.0], [2.0]]), np.array(["neg", "neg", "pos", "pos"])
    model = nn.MLP([1, 2], seed=0)
    cr.fit(model, "cross_entropy", ("adam", 0.1), (X, y), epochs=60, verbose=0, seed=0)
    io.save(model, path)
    again = io.load(path)
    assert again.classes_ == ("neg", "pos") and again.loss_ == "cross_entropy"
    assert cr.predict_labels(again, X).tolist() == cr.predict_labels(model, X).tolist() == y.tolist()
    np.testing.assert_array_equal(cr.predict_proba(again, X), cr.predict_proba(model, X))
    _write_model(path, model.config(), model.state_dict())  # a file without them loads as before
    assert not hasattr(io.load(path), "classes_")


@pytest.mark.parametrize("facts, words", [([1], "training facts are not a JSON object"),
                                          ({"classes": "ab"}, "lists its classes as 'ab'; expected a list of names")])
def test_malformed_training_facts_are_one_sentence(model, path, facts, words):
    _bundle.write_bundle(path, model.state_dict(), io.MODEL_FORMAT, io.MODEL_VERSION,
                         {"config": model.config(), "metadata": {}, "trained": facts})
    with pytest.raises(ValueError, match=words):
        io.load(path)


def _write_model(path, config, arrays):
    _bundle.write_bundle(path, arrays, io.MODEL_FORMAT, io.MODEL_VERSION, {"config": config, "metadata": {}},
                         overwrite=True)


def test_mismatched_shape_dtype_and_names(model, path):
    state = model.state_dict()
    bad = dict(state, **{"output.weight": np.zeros((2, 4), np.float32)})
    _write_model(path, model.config(), bad)
    with pytest.raises(ValueError) as e:
        io.load(path)
    _one_sentence(e, path, "'output.weight'", "shape (2, 4)", "(2, 5)")
    _write_model(path, model.config(), dict(state, **{"output.bias": np.zeros(2, np.float64)}))
    with pytest.raises(ValueError) as e:
        io.load(path)
    _one_sentence(e, path, "dtype float64", "float32")
    _write_model(path, model.config(), {k: v for k, v in state.items() if k != "output.bias"})
    with pytest.raises(ValueError) as e:
        io.load(path)
    _one_sentence(e, path, "missing output.bias")


def test_non_finite_weights_are_refused(model, path):
    state = model.state_dict()
    state["output.bias"][0] = np.nan
    _write_model(path, model.config(), state)
    with pytest.raises(ValueError, match="non-finite"):
        io.load(path)


def test_unknown_layer_type_is_not_executed(model, path):
    _write_model(path, {"type": "os.system", "args": {"command": "echo hi"}}, model.state_dict())
    with pytest.raises(ValueError) as e:
        io.load(path)
    _one_sentence(e, path, "cannot rebuild", "unknown layer 'os.system'")


def test_document_without_config_is_incomplete(model, path):
    _bundle.write_bundle(path, model.state_dict(), io.MODEL_FORMAT, io.MODEL_VERSION, {"metadata": {}})
    with pytest.raises(ValueError, match="lacks an architecture config"):
        io.load(path)


def test_missing_file_and_folder(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        io.load(str(tmp_path / "nope.safetensors"))
    with pytest.raises(IsADirectoryError, match="is a folder"):
        io.load(str(tmp_path))


def test_missing_safetensors_gives_install_hint(model, path, monkeypatch):
    monkeypatch.setitem(sys.modules, "safetensors.numpy", None)
    with pytest.raises(ImportError, match=r"pip install chainrule\[io\]"):
        io.save(model, path)


def test_optimizer_state_round_trip_continues_identically(model, path):
    x = cr.tensor(np.random.default_rng(0).normal(size=(8, 3)).astype(np.float32))
    y = np.array([0, 1] * 4)

    def step(m, opt):
        opt.zero_grad()
        nn.functional.cross_entropy(m(x), y).backward()
        opt.step()

    opt = optim.Adam(model.parameters(), lr=0.01)
    for _ in range(3):
        step(model, opt)
    twin = nn.MLP([3, 5, 2], activation="tanh", seed=0)
    twin.load_state_dict(model.state_dict())
    io.save_optimizer(opt, path)
    opt2 = io.load_optimizer(optim.Adam(twin.parameters(), lr=0.5), path)
    assert opt2.lr == 0.01
    step(model, opt)
    step(twin, opt2)
    for p, q in zip(model.parameters(), twin.parameters()):
        np.testing.assert_array_equal(p.data, q.data)


def test_optimizer_state_for_another_rule_is_refused(model, path):
    io.save_optimizer(optim.Adam(model.parameters()), path)
    with pytest.raises(ValueError) as e:
        io.load_optimizer(optim.SGD(model.parameters(), lr=0.1), path)
    _one_sentence(e, path, "does not fit this optimizer")


def test_docstring_examples_run():
    assert doctest.testmod(io, optionflags=doctest.ELLIPSIS).failed == 0


def test_saved_file_permissions_follow_the_umask(model, path):
    old = os.umask(0o022)
    try:
        io.save(model, path)
    finally:
        os.umask(old)
    assert os.stat(path).st_mode & 0o777 == 0o644


def test_deeply_nested_json_is_corrupt_not_a_crash(model, path):
    nested = "[" * 100_000 + "]" * 100_000
    _raw(path, {"w": np.ones(1, np.float32)}, format=io.MODEL_FORMAT, format_version="1", document=nested)
    with pytest.raises(ValueError, match="is corrupt: its JSON document does not parse"):
        io.load(path)
    _write_model(path, {"type": "Sequential", "args": {"layers": [{"type": "Sequential", "args": {}}] * 2}},
                 model.state_dict())
    with pytest.raises(ValueError, match="cannot rebuild"):
        io.load(path)


def test_random_damage_always_ends_in_a_value_error(model, path, tmp_path):
    io.save(model, path)
    good = open(path, "rb").read()
    rng = np.random.default_rng(0)
    bad = str(tmp_path / "bad.safetensors")
    for trial in range(300):
        raw = bytearray(good)
        if trial % 3 == 0:
            raw = raw[: rng.integers(0, len(raw))]
        else:
            for i in rng.integers(0, len(raw), size=rng.integers(1, 4)):
                raw[i] = rng.integers(0, 256)
        open(bad, "wb").write(bytes(raw))
        try:
            io.load(bad)
        except ValueError as e:
            assert bad in str(e) and "\n" not in str(e)


@pytest.mark.parametrize("call, message", [
    (lambda tmp: cr.load(5), "path must be a file name (str or os.PathLike), got 5"),
    (lambda tmp: cr.save(nn.Linear(2, 1, seed=0), 5), "path must be a file name (str or os.PathLike), got 5"),
    (lambda tmp: cr.save("model", tmp / "m.safetensors"), "model must be a chainrule Module, got 'model'"),
    (lambda tmp: cr.io.save_weights([1, 2], tmp / "w.safetensors"), "model must be a chainrule Module, got [1, 2]"),
    (lambda tmp: cr.io.load_weights(None, tmp / "w.safetensors"), "model must be a chainrule Module, got None"),
    (lambda tmp: cr.io.read_metadata(None), "path must be a file name"),
    (lambda tmp: cr.data.load_csv(5), "path must be a file name (str or os.PathLike), got 5"),
    (lambda tmp: cr.data.load_npz(["a.npz"]), "path must be a file name (str or os.PathLike), got ['a.npz']"),
    (lambda tmp: cr.data.load_idx(None), "path must be a file name (str or os.PathLike), got None"),
    (lambda tmp: cr.data.load_mnist(5), "images_path must be a file name (str or os.PathLike), got 5"),
])
def test_a_wrong_type_of_path_or_model_is_one_type_error(tmp_path, call, message):
    with pytest.raises(TypeError) as info:
        call(tmp_path)
    assert str(info.value) == message or message in str(info.value)
    assert not list(tmp_path.iterdir())
