"""The playground in a real browser (Debian's chromium through Playwright): play, layers, hashes, CSV, spiral, export."""

import os
import shutil
import socket
import threading
import time

import pytest

pytest.importorskip("starlette", reason="the playground extra (starlette) is not installed")
uvicorn = pytest.importorskip("uvicorn", reason="the playground extra (uvicorn) is not installed")
sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
CHROMIUM = shutil.which("chromium")
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed (apt-get install chromium)")

import chainrule as cr  # noqa: E402
from chainrule.playground.app import create_app  # noqa: E402

SHOTS = os.path.join(os.path.dirname(__file__), "..", "build", "playground-screenshots")


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server():
    port = _free_port()
    srv = uvicorn.Server(uvicorn.Config(create_app(seed=1), host="127.0.0.1", port=port, log_level="warning",
                                        ws="auto"))
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    for _ in range(200):
        if srv.started:
            break
        time.sleep(0.02)
    yield f"http://127.0.0.1:{port}/"
    srv.should_exit = True
    thread.join(5)


@pytest.fixture(scope="module")
def browser():
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
            "--disable-sync"])
        yield b
        b.close()


@pytest.fixture()
def page(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900}, accept_downloads=True)
    pg = context.new_page()
    yield pg
    context.close()


def shot(page, name):
    os.makedirs(SHOTS, exist_ok=True)
    page.screenshot(path=os.path.join(SHOTS, f"{name}.png"), full_page=True)


def epoch(page):
    return int(page.get_by_test_id("epoch").inner_text().replace(",", ""))


def open_page(page, url, hash_=""):
    page.goto(url + hash_)
    page.wait_for_function("document.getElementById('train-loss').textContent !== '0.000'")


def play_until(page, epochs, timeout=20):
    page.get_by_test_id("play").click()
    deadline = time.monotonic() + timeout
    while epoch(page) < epochs and time.monotonic() < deadline:
        time.sleep(0.1)
    page.get_by_test_id("play").click()


def test_play_on_circle_advances_the_epoch_and_the_test_loss_falls(server, page):
    open_page(page, server)
    first = float(page.get_by_test_id("test-loss").inner_text())
    page.get_by_test_id("learning-rate").select_option("0.1")
    play_until(page, 100, timeout=12)
    time.sleep(0.3)
    assert epoch(page) >= 40
    assert float(page.get_by_test_id("test-loss").inner_text()) < first / 2
    shot(page, "circle-trained")


def test_layers_and_activation_change_the_network(server, page):
    open_page(page, server)
    page.get_by_test_id("add-layer").click()
    page.wait_for_function("document.getElementById('layers-label').textContent.startsWith('3')")
    page.get_by_test_id("remove-layer").click()
    page.get_by_test_id("remove-layer").click()
    page.wait_for_function("document.getElementById('layers-label').textContent.startsWith('1 ')")
    page.get_by_test_id("activation").select_option("relu")
    page.wait_for_function("location.hash.includes('activation=relu') && location.hash.includes('networkShape=4&')")
    page.get_by_test_id("dataset-xor").click()
    page.wait_for_function("location.hash.includes('dataset=xor')")
    page.get_by_test_id("step").click()
    page.wait_for_function("document.getElementById('epoch').textContent.endsWith('001')")


def test_a_tf_playground_hash_opens_the_same_configuration(server, page):
    hash_ = ("#activation=sigmoid&batchSize=5&dataset=gauss&regDataset=reg-plane&learningRate=0.3&"
             "regularizationRate=0&noise=10&networkShape=3&seed=0.54321&showTestData=true&discretize=true&"
             "percTrainData=70&x=true&y=true&xTimesY=true&xSquared=false&ySquared=false&cosX=false&sinX=false&"
             "cosY=false&sinY=false&collectStats=false&problem=classification&initZero=false&hideText=false&"
             "noise_hide=true")
    open_page(page, server, hash_)
    page.wait_for_function("location.hash.includes('seed=0.54321') && location.hash.includes('activation=sigmoid')")
    assert page.get_by_test_id("activation").input_value() == "sigmoid"
    assert page.get_by_test_id("learning-rate").input_value() == "0.3"
    assert "xTimesY=true" in page.evaluate("location.hash") and "percTrainData=70" in page.evaluate("location.hash")
    assert not page.locator(".ui-noise").is_visible()
    shot(page, "tf-hash")


def test_upload_a_csv(server, page, tmp_path):
    rows = ["x1,x2,label"] + [f"{x / 4:.2f},{y / 4:.2f},{int(x * y > 0)}" for x in range(-20, 21, 3) for y in range(-20, 21, 3)]
    path = tmp_path / "mine.csv"
    path.write_text("\n".join(rows) + "\n")
    open_page(page, server)
    page.get_by_test_id("upload").set_input_files(str(path))
    page.wait_for_function("document.getElementById('message').textContent.includes('loaded 196 points')")
    assert "dataset=custom" in page.evaluate("location.hash")
    page.get_by_test_id("output-heatmap").click(position={"x": 60, "y": 60})
    page.wait_for_function("document.getElementById('epoch').textContent === '000,000'")


def test_three_class_spiral_trains_and_shows_a_confusion_matrix(server, page):
    open_page(page, server, "#dataset=spiral3&networkShape=8,8,6&activation=tanh&learningRate=0.03&loss=auto&"
                            "optimizer=adam&x=true&y=true&sinX=true&sinY=true")
    page.wait_for_function("document.querySelectorAll('#confusion tr').length === 4")
    start = float(page.get_by_test_id("train-loss").inner_text())
    play_until(page, 60, timeout=12)
    time.sleep(0.3)
    assert epoch(page) >= 20
    assert float(page.get_by_test_id("train-loss").inner_text()) < start
    assert "accuracy: test" in page.get_by_test_id("metrics").inner_text()
    shot(page, "spiral3")


def test_download_the_model_and_load_it(server, page, tmp_path):
    open_page(page, server)
    page.get_by_test_id("step").click()
    with page.expect_download() as info:
        page.get_by_test_id("export-model").click()
    path = tmp_path / info.value.suggested_filename
    info.value.save_as(str(path))
    model, meta = cr.load(path, with_metadata=True)
    assert meta["features"] == ["x", "y"] and meta["epoch"] >= 1
    with page.expect_download() as info:
        page.get_by_test_id("export-python").click()
    assert info.value.suggested_filename == "playground_run.py"
    page.get_by_test_id("explain").click()
    page.wait_for_function("document.getElementById('explain-text').textContent.includes('Backward pass')")
    shot(page, "backprop-view")


def test_click_a_bias_to_edit_it_and_hover_a_link_to_read_it(server, page):
    open_page(page, server)
    box = page.evaluate("(() => { const b = app.biases[0]; return [b.x + b.s / 2, b.y + b.s / 2]; })()")
    page.get_by_test_id("network").click(position={"x": box[0], "y": box[1]})
    page.locator("#hover-input").fill("0.777")
    page.locator("#hover-input").press("Enter")
    page.wait_for_function("Math.abs(floats(app.frame.biases[0])[0] - 0.777) < 1e-6")
    link = page.evaluate("app.links[0].samples[5]")
    page.get_by_test_id("network").hover(position={"x": link[0], "y": link[1]})
    assert page.locator("#hover-text").inner_text().startswith("Weight is ")


def test_a_diverging_run_pauses_shows_why_and_recovers_after_reset(server, page):
    page_errors = []
    page.on("pageerror", lambda exc: page_errors.append(str(exc)))
    open_page(page, server, "#problem=regression&regDataset=reg-plane&activation=relu&learningRate=10&networkShape=8,8")
    page.get_by_test_id("play").click()
    page.wait_for_function("document.getElementById('message').textContent.includes('training diverged')")
    page.wait_for_function("document.getElementById('train-loss').textContent === 'n/a'")
    assert page.evaluate("app.frame.playing") is False
    page.get_by_test_id("learning-rate").select_option("0.03")
    page.get_by_test_id("reset").click()
    page.get_by_test_id("step").click()
    page.wait_for_function("document.getElementById('epoch').textContent.endsWith('001')")
    assert page.get_by_test_id("train-loss").inner_text() != "n/a"
    assert page_errors == []
    shot(page, "diverged-then-reset")
