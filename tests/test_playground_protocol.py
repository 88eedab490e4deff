"""The playground server through starlette's TestClient: the protocol, validation, sessions, training, exports."""

import base64
import json
import os
import random
import subprocess
import sys

import numpy as np
import pytest

pytest.importorskip("starlette", reason="the playground extra (starlette) is not installed")
pytest.importorskip("httpx", reason="starlette's TestClient needs httpx")
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")
from starlette.testclient import TestClient  # noqa: E402

import chainrule as cr  # noqa: E402
from chainrule.playground.app import create_app  # noqa: E402
from chainrule.playground.frames import decode_grid  # noqa: E402
from chainrule.playground.exports import python_script  # noqa: E402
from chainrule.playground.settings import validate  # noqa: E402
from chainrule.playground.trainer import Trainer  # noqa: E402


def receive_until(ws, kind, limit=200, where=None):
    for _ in range(limit):
        message = json.loads(ws.receive_text())
        if message["type"] == kind and (where is None or where(message)):
            return message
    raise AssertionError(f"no {kind!r} message in {limit}")


@pytest.fixture()
def client():
    app = create_app(seed=1)
    with TestClient(app) as c:
        c.app_state = app.state
        yield c


def test_page_and_static_files_are_served(client):
    page = client.get("/")
    assert page.status_code == 200 and 'data-testid="play"' in page.text
    for name in ("playground.js", "playground.css"):
        assert client.get(f"/static/{name}").status_code == 200


def test_hello_state_then_step_advances_the_epoch(client):
    with client.websocket_connect("/ws") as ws:
        state = receive_until(ws, "state")
        assert state["settings"]["networkShape"] == [4, 2] and len(state["train"]) == 250
        frame = receive_until(ws, "frame")
        assert frame["epoch"] == 0 and len(decode_grid(frame["output"])) == 100 * 100
        assert [len(decode_grid(n)) for n in frame["neurons"]] == [4 * 100, 2 * 100]
        ws.send_text(json.dumps({"cmd": "step"}))
        assert receive_until(ws, "frame", where=lambda f: f["epoch"] == 1)["epoch"] == 1


def test_play_trains_until_pause_and_loss_falls(client):
    with client.websocket_connect("/ws") as ws:
        first = receive_until(ws, "frame")
        ws.send_text(json.dumps({"cmd": "set", "settings": {"learningRate": 0.1}}))
        ws.send_text(json.dumps({"cmd": "play"}))
        late = receive_until(ws, "frame", limit=2000, where=lambda f: f["epoch"] >= 150)
        ws.send_text(json.dumps({"cmd": "pause"}))
        assert late["test_loss"] < first["test_loss"] / 2
        assert late["metrics"]["test_accuracy"] > 0.9


def test_sessions_are_independent_and_freed_on_close(client):
    with client.websocket_connect("/ws") as a, client.websocket_connect("/ws") as b:
        receive_until(a, "frame")
        receive_until(b, "frame")
        assert len(client.app_state.sessions) == 2
        a.send_text(json.dumps({"cmd": "step"}))
        assert receive_until(a, "frame", where=lambda f: f["epoch"] == 1)
        b.send_text(json.dumps({"cmd": "set", "settings": {"networkShape": [3]}}))
        assert receive_until(b, "frame", where=lambda f: f["sizes"] == [2, 3, 1])["epoch"] == 0
    for _ in range(100):
        if not client.app_state.sessions:
            break
        import time
        time.sleep(0.02)
    assert client.app_state.sessions == {}


BAD_MESSAGES = [
    ("not json", "not valid JSON"),
    ("[1, 2]", "JSON object"),
    ('{"cmd": "rm -rf"}', "unknown command"),
    ('{"nocmd": 1}', "unknown command"),
    ('{"cmd": "set"}', "needs the field 'settings'"),
    ('{"cmd": "set", "settings": {"batchSize": 0}}', "batchSize must be an integer from 1 to 30"),
    ('{"cmd": "set", "settings": {"batchSize": "10"}}', "batchSize"),
    ('{"cmd": "set", "settings": {"learningRate": 0.5}}', "learningRate must be one of"),
    ('{"cmd": "set", "settings": {"networkShape": [4, 64]}}', "networkShape[1] must be an integer from 1 to 32"),
    ('{"cmd": "set", "settings": {"networkShape": [1, 1, 1, 1, 1, 1, 1, 1, 1]}}', "at most 8"),
    ('{"cmd": "set", "settings": {"activation": "__import__"}}', "activation must be one of"),
    ('{"cmd": "set", "settings": {"x": false, "y": false}}', "at least one input feature"),
    ('{"cmd": "set", "settings": {"dataset": "custom"}}', "needs own data"),
    ('{"cmd": "set", "settings": {"noise": 7}}', "noise must be an integer from 0 to 50 in steps of 5"),
    ('{"cmd": "set", "settings": {"seed": "a b"}}', "seed must be"),
    ('{"cmd": "set", "settings": {"eval": 1}}', "unknown setting 'eval'"),
    ('{"cmd": "edit", "layer": 9, "node": 0, "value": 1}', "layer must be an index"),
    ('{"cmd": "edit", "layer": 0, "node": 0, "value": NaN}', "value must be a number"),
    ('{"cmd": "step", "extra": 1}', "has no field 'extra'"),
    ('{"cmd": "upload", "csv": "1,2\\n3,4\\n"}', "3 columns"),
    ('{"cmd": "upload", "csv": "a,b,c\\n1,2,x\\n3,4,1\\n"}', "three numbers"),
    ('{"cmd": "add_point", "x": 7, "y": 0, "label": 1}', "x must be a number from -6.0 to 6.0"),
    ('{"cmd": "explain", "index": 100000}', "index must be a training point"),
    ('{"cmd": "export", "format": "pickle"}', "format must be one of"),
]


@pytest.mark.parametrize("text, expected", BAD_MESSAGES)
def test_bad_messages_get_an_error_naming_the_problem_and_the_session_carries_on(client, text, expected):
    with client.websocket_connect("/ws") as ws:
        receive_until(ws, "frame")
        ws.send_text(text)
        assert expected in receive_until(ws, "error")["message"]
        ws.send_text(json.dumps({"cmd": "step"}))
        assert receive_until(ws, "frame", where=lambda f: f["epoch"] == 1)


def test_oversized_messages_and_uploads_are_refused(client):
    with client.websocket_connect("/ws") as ws:
        receive_until(ws, "frame")
        ws.send_text("x" * 2_000_001)
        assert "larger than" in receive_until(ws, "error")["message"]
        ws.send_text(json.dumps({"cmd": "upload", "csv": "1,2,0\n" * 200_000}))
        assert "limit" in receive_until(ws, "error")["message"]
        ws.send_bytes(b"\x00\x01")
        assert "binary" in receive_until(ws, "error")["message"]


def _random_value(rng):
    return rng.choice([None, True, -1, 0, 1e308, -1e-9, 3.5, "", "x" * 300, [], [1, "a"], {"a": {}}, [[[]]], 31, 2**70])


def test_fuzz_of_malformed_and_out_of_range_messages_never_ends_the_session(client):
    rng = random.Random(0)
    commands = ["play", "pause", "step", "reset", "regenerate", "set", "edit", "upload", "add_point",
                "remove_point", "explain", "export", "nope", 7, None]
    fields = ["settings", "layer", "node", "source", "value", "csv", "x", "y", "label", "index", "format", "seed"]
    with client.websocket_connect("/ws") as ws:
        receive_until(ws, "frame")
        for _ in range(150):
            message = {"cmd": rng.choice(commands)}
            for f in rng.sample(fields, rng.randint(0, 3)):
                message[f] = _random_value(rng)
            if rng.random() < 0.3:
                message["settings"] = {rng.choice(["batchSize", "networkShape", "noise", "seed", "x", "bogus"]):
                                       _random_value(rng)}
            ws.send_text(json.dumps(message))
        ws.send_text(json.dumps({"cmd": "pause"}))
        ws.send_text(json.dumps({"cmd": "reset"}))
        ws.send_text(json.dumps({"cmd": "step"}))
        frame = receive_until(ws, "frame", limit=5000, where=lambda f: f["epoch"] == 1 and not f["playing"])
        assert frame["epoch"] == 1


def test_tf_playground_hash_settings_are_accepted():
    settings = {"activation": "relu", "batchSize": 10, "dataset": "xor", "regDataset": "reg-plane",
                "learningRate": 0.03, "regularizationRate": 0, "noise": 0, "networkShape": [4, 2], "seed": "0.12345",
                "showTestData": False, "discretize": False, "percTrainData": 50, "x": True, "y": True,
                "xTimesY": True, "xSquared": False, "ySquared": False, "cosX": False, "sinX": False, "cosY": False,
                "sinY": False, "collectStats": False, "problem": "classification", "initZero": False,
                "hideText": False, "dataset_hide": True}
    t = Trainer(validate(settings))
    assert t.net.sizes == [3, 4, 2, 1] and t.points.X.shape == (500, 2)


def test_reference_training_rule_initial_weights_and_l1_freezing():
    t = Trainer({"seed": "9", "networkShape": [8], "regularization": "L1", "regularizationRate": 0.3,
                 "learningRate": 0.3})
    w = t.net.linears[0].weight.data
    assert np.all(np.abs(w) <= 0.5) and np.all(t.net.linears[0].bias.data == 0.1)
    t.run_epochs(30)
    assert any(d.any() for d in t.dead)
    for lin, dead in zip(t.net.linears, t.dead):
        assert np.all(lin.weight.data[dead] == 0)


def test_multiclass_spiral_uses_softmax_and_reports_a_confusion_matrix(client):
    with client.websocket_connect("/ws") as ws:
        receive_until(ws, "frame")
        ws.send_text(json.dumps({"cmd": "set", "settings": {"dataset": "spiral3", "networkShape": [8, 8]}}))
        state = receive_until(ws, "state", where=lambda s: s["n_classes"] == 3)
        assert {row[2] for row in state["train"]} == {0, 1, 2}
        frame = receive_until(ws, "frame", where=lambda f: f["head"] == "softmax_ce")
        assert frame["sizes"][-1] == 3 and len(decode_grid(frame["classes"])) == 10000
        assert np.array(frame["metrics"]["confusion"]).shape == (3, 3)


def test_upload_add_and_remove_points(client):
    csv = "x1,x2,label\n" + "".join(f"{x},{y},{int(x > 0)}\n" for x, y in np.random.default_rng(0).uniform(-5, 5, (40, 2)))
    with client.websocket_connect("/ws") as ws:
        receive_until(ws, "frame")
        ws.send_text(json.dumps({"cmd": "upload", "csv": csv}))
        state = receive_until(ws, "state", where=lambda s: s["settings"]["dataset"] == "custom")
        assert len(state["train"]) + len(state["test"]) == 40 and "loaded 40 points" in state["notes"][0]
        ws.send_text(json.dumps({"cmd": "add_point", "x": 1.0, "y": 1.0, "label": 1}))
        state = receive_until(ws, "state", where=lambda s: len(s["train"]) + len(s["test"]) == 41)
        ws.send_text(json.dumps({"cmd": "remove_point", "x": 1.0, "y": 1.0}))
        receive_until(ws, "state", where=lambda s: len(s["train"]) + len(s["test"]) == 40)


def test_explain_view_matches_the_engine(client):
    with client.websocket_connect("/ws") as ws:
        receive_until(ws, "frame")
        ws.send_text(json.dumps({"cmd": "explain", "index": 3}))
        view = receive_until(ws, "explain")
    assert [len(layer["delta"]) for layer in view["layers"]] == [4, 2, 1]
    assert "Backward pass" in view["text"] and view["error"] >= 0


def test_explain_view_numbers_are_the_gradient_of_one_point():
    t = Trainer({"seed": "5"})
    from chainrule.playground.backprop import explain_point
    view = explain_point(t, 2)
    lin = t.net.linears[0]
    out = t.net.model(cr.Tensor(t.F_train[2:3]))
    t.head.loss(out, t.T_train[2:3]).backward()
    assert np.allclose(view["layers"][0]["weight_grads"], lin.weight.grad)
    assert np.allclose(view["layers"][0]["bias_grads"], lin.bias.grad)


def test_exported_model_loads_with_cr_load_and_predicts_like_the_session(client, tmp_path):
    with client.websocket_connect("/ws") as ws:
        receive_until(ws, "frame")
        for _ in range(3):
            ws.send_text(json.dumps({"cmd": "step"}))
        receive_until(ws, "frame", where=lambda f: f["epoch"] == 3)
        ws.send_text(json.dumps({"cmd": "export", "format": "model"}))
        reply = receive_until(ws, "export")
        ws.send_text(json.dumps({"cmd": "export", "format": "json"}))
        weights = json.loads(receive_until(ws, "export")["text"])
    path = tmp_path / reply["filename"]
    path.write_bytes(base64.b64decode(reply["base64"]))
    model, meta = cr.load(path, with_metadata=True)
    assert meta["features"] == ["x", "y"] and meta["epoch"] == 3
    assert np.allclose(model[0][0].weight.data, weights["layers"][0]["weight"])


def test_exported_python_script_reproduces_the_losses(tmp_path):
    t = Trainer({"seed": "0.3", "optimizer": "momentum", "dropout": 0.1, "xTimesY": True,
                 "regularization": "L2", "regularizationRate": 0.01, "dataset": "spiral3", "skip": True,
                 "networkShape": [5, 5], "layerActivations": ["relu", "tanh"], "schedule": "step"})
    t.run_epochs(5)
    script = tmp_path / "run.py"
    script.write_text(python_script(t))
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    code = f"import runpy; ns = runpy.run_path({str(script)!r}); print(repr((ns['train_loss'], ns['test_loss'])))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=60)
    train, test = t.losses()
    lines = out.stdout.strip().splitlines()
    assert lines[0] == f"epoch 5: train loss {train:.3f}, test loss {test:.3f}", out.stderr
    assert lines[1] == repr((train, test))  # the same numbers to the last bit


def _free_port():
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _start_cli(*args):
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    return subprocess.Popen([sys.executable, "-m", "chainrule", "playground", "--no-browser", *args],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)


def test_cli_serves_the_page_and_warns_off_loopback():
    import urllib.request
    port = _free_port()
    proc = _start_cli("--port", str(port), "--host", "127.0.0.2", "--seed", "3")
    try:
        line = proc.stdout.readline()
        assert f"http://127.0.0.2:{port}/" in line
        for _ in range(100):
            try:
                page = urllib.request.urlopen(f"http://127.0.0.2:{port}/", timeout=2).read().decode()
                break
            except OSError:
                import time
                time.sleep(0.05)
        assert 'data-testid="output-heatmap"' in page
    finally:
        proc.terminate()
        _, err = proc.communicate(timeout=10)
    assert err.startswith("warning: listening on 127.0.0.2")


def test_cli_reports_a_taken_port_in_one_line():
    import socket
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        proc = _start_cli("--port", str(taken.getsockname()[1]))
        out, err = proc.communicate(timeout=30)
    assert proc.returncode == 2 and err.startswith("error: cannot listen on 127.0.0.1:") and "Traceback" not in err


def test_a_slow_client_gets_only_the_latest_frame():
    from chainrule.playground.session import Session
    s = Session(seed="2")
    for _ in range(5):
        s.handle("step", {})
    s.handle("set", {"settings": {"bogus": 1}})
    messages = s.take()
    assert [m["type"] for m in messages] == ["error", "frame"] and messages[-1]["epoch"] == 5
    assert s.take() == []


def test_import_chainrule_needs_no_server_packages():
    code = ("import sys, chainrule, chainrule.cli, chainrule.playground.trainer; "
            "print(sorted(m for m in ('starlette', 'uvicorn', 'websockets') if m in sys.modules))")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=60)
    assert out.stdout.strip() == "[]", out.stderr


def test_static_files_are_package_data():
    tomllib = pytest.importorskip("tomllib", reason="tomllib needs Python 3.11")
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    with open(os.path.join(root, "pyproject.toml"), "rb") as f:
        data = tomllib.load(f)["tool"]["setuptools"]["package-data"]["chainrule.playground"]
    assert data == ["static/*"]
    static = os.path.join(root, "src", "chainrule", "playground", "static")
    assert sorted(os.listdir(static)) == ["index.html", "playground.css", "playground.js"]


def test_frame_rate_benchmark_runs():
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    sys.path.insert(0, os.path.join(root, "benchmarks"))
    try:
        import bench_playground
        fps, eps, size, gap, free = bench_playground.run({}, 0.2)
    finally:
        sys.path.pop(0)
    assert fps > 0 and eps >= fps and size > 10_000 and gap > 0 and free > 0


def test_regression_and_regenerate(client):
    with client.websocket_connect("/ws") as ws:
        receive_until(ws, "frame")
        ws.send_text(json.dumps({"cmd": "set", "settings": {"problem": "regression", "regDataset": "reg-gauss"}}))
        state = receive_until(ws, "state", where=lambda s: s["problem"] == "regression")
        assert len(state["train"]) == 600 and state["n_classes"] == 0
        frame = receive_until(ws, "frame", where=lambda f: f["head"] == "linear_mse")
        assert "test_rmse" in frame["metrics"] and "confusion" not in frame["metrics"]
        ws.send_text(json.dumps({"cmd": "regenerate", "seed": "0.777"}))
        again = receive_until(ws, "state", where=lambda s: s["settings"]["seed"] == "0.777")
        assert again["train"] != state["train"]
