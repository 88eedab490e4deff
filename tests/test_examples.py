"""Every example in examples/ runs in quick mode and shows what its slide says it shows."""

import importlib.util
import pathlib
import subprocess
import sys

import numpy as np
import pytest

EXAMPLES = pathlib.Path(__file__).resolve().parents[1] / "examples"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"

pytest.importorskip("matplotlib")


def load(stem):
    """Import examples/<stem>.py as a module (file names start with digits, so no plain import)."""
    if str(EXAMPLES) not in sys.path:
        sys.path.insert(0, str(EXAMPLES))  # for `from _common import ...`
    path = EXAMPLES / f"{stem}.py"
    spec = importlib.util.spec_from_file_location(f"example_{stem}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def run(stem, tmp_path):
    result = load(stem).main(tmp_path, quick=True)
    assert isinstance(result, dict)
    figures = [pathlib.Path(p) for p in result["figures"]]
    assert figures, f"{stem} wrote no figure"
    for path in figures:
        assert path.parent == pathlib.Path(tmp_path)
        assert path.suffix == ".png"
        data = path.read_bytes()
        assert data.startswith(PNG_SIGNATURE), f"{path} is not a PNG file"
        assert len(data) > 1000
    return result


def test_every_example_is_tested():
    scripts = sorted(p.stem for p in EXAMPLES.glob("[0-9][0-9]_*.py"))
    tested = sorted(name[len("test_"):] for name in globals() if name.startswith("test_") and name[5:7].isdigit())
    assert [s[:2] for s in scripts] == [t[:2] for t in tested]


def test_01_threshold_perceptron_xor(tmp_path):
    r = run("01_threshold_perceptron_xor", tmp_path)
    assert r["and_unit_outputs"] == [0, 0, 0, 1]
    assert r["perceptron_and_converged"] and r["perceptron_or_converged"]
    assert 1 <= r["perceptron_and_epochs"] < 50 and 1 <= r["perceptron_or_epochs"] < 50
    assert not r["perceptron_xor_converged"]
    assert r["perceptron_xor_separable"] is False
    assert "not linearly separable" in r["perceptron_xor_message"]
    assert r["xor_hand_wired"] == [0, 1, 1, 0]
    assert r["mlp_xor_accuracy"] == 1.0
    solved, starts = r["mlp_xor_solved_starts"]
    assert 1 <= solved <= starts


def test_02_circuits(tmp_path):
    r = run("02_circuits", tmp_path)
    assert r["add_mul"] == {"f": -12.0, "dx": -4.0, "dy": -4.0, "dz": 3.0}
    neuron = r["neuron"]
    assert neuron["f"] == pytest.approx(0.7311, abs=1e-4)
    np.testing.assert_allclose(neuron["grads"], [-0.1966, -0.3932, 0.1966, 0.3932, -0.5898], atol=1e-4)
    assert neuron["same_as_gates"]
    g = r["gormley"]
    assert g["dJdx"] == pytest.approx(g["by_hand"], rel=1e-12)
    errors = [err for err in g["methods"].values() if err is not None]  # SymPy may be absent
    assert len(errors) >= 3 and max(errors) < 1e-6
    for path in r["dot_files"]:
        text = pathlib.Path(path).read_text()
        assert text.startswith("digraph") and "->" in text


def test_03_numerical_gradient(tmp_path):
    r = run("03_numerical_gradient", tmp_path)
    assert r["gradcheck_passed"]
    np.testing.assert_allclose(r["numeric_first"], r["analytic_first"], atol=1e-4)
    assert r["numeric_first"][1] == 0.0  # the blank pixel's weight
    assert r["max_abs_error_forward"] < 1e-4
    assert r["seconds_analytic"] < r["seconds_numeric"]
    # forward differences are O(h): their best h is smaller than the central one's
    assert r["best_h"]["forward"] < r["best_h"]["central"]


def test_04_mazur_step_by_step(tmp_path):
    r = run("04_mazur_step_by_step", tmp_path)
    assert r["first_error"] == pytest.approx(0.298371109, abs=1e-9)
    assert r["out_h1"] == pytest.approx(0.593269992, abs=1e-9)
    assert r["out_o1"] == pytest.approx(0.75136507, abs=1e-8)
    assert r["out_o2"] == pytest.approx(0.772928465, abs=1e-9)
    assert r["dE_dw5"] == pytest.approx(0.082167041, abs=1e-9)
    assert r["w5_updated"] == pytest.approx(0.35891648, abs=1e-8)
    assert r["error_after_first_update"] == pytest.approx(0.291027924, abs=5e-7)
    # The article's 10,000-iteration error, with its fixed biases and lr 0.5.
    assert f"{r['error_10000_biases_fixed']:.10f}" == "0.0000351085"
    assert r["error_by_hand"] == pytest.approx(r["error_10000_biases_fixed"], rel=1e-9)
    assert r["error_10000_biases_updated"] < r["error_10000_biases_fixed"]
    o1, o2 = r["outputs_biases_fixed"]
    assert o1 == pytest.approx(0.015912196, abs=5e-6) and o2 == pytest.approx(0.984065734, abs=5e-6)


def test_05_logistic_digits_4(tmp_path):
    r = run("05_logistic_digits_4", tmp_path)
    assert r["test_accuracy"] > 0.95
    assert r["test_accuracy"] > r["baseline_accuracy"] + 0.03   # beats "always non-4"
    assert r["precision_4"] > 0.8 and r["recall_4"] > 0.8


def test_06_digits_softmax(tmp_path):
    r = run("06_digits_softmax", tmp_path)
    assert r["test_accuracy"] > 0.9 and r["val_accuracy"] > 0.9
    assert r["train_accuracy"] >= r["val_accuracy"] - 0.02
    h = r["history"]
    assert h["loss"][-1] < h["loss"][0] / 5 and h["val_loss"][-1] < h["val_loss"][0]


def test_07_optimizers(tmp_path):
    r = run("07_optimizers", tmp_path)
    bowl, net = r["bowl_final_loss"], r["net_final_loss"]
    assert set(bowl) == set(net) == {"SGD", "momentum", "Nesterov", "Adagrad", "RMSProp", "Adam"}
    # On the ill-conditioned bowl plain SGD crawls along the flat direction.
    for name in ("momentum", "Nesterov", "Adam", "RMSProp", "Adagrad"):
        assert bowl[name] < bowl["SGD"] / 10, name
    for name in ("momentum", "Adam"):
        assert net[name] < net["SGD"], name


def test_08_learning_rate(tmp_path):
    r = run("08_learning_rate", tmp_path)
    low, good, high = (np.array(r[k]["loss"]) for k in ("too low", "good", "too high"))
    assert low[0] == good[0] == high[0]                  # same start
    assert low[-1] > 0.8 * low[0]                        # too low: barely moves
    assert good[-1] < 0.1 * good[0]                      # good: falls fast
    assert high[-1] > high[0] or np.any(np.diff(high) > 0)   # too high: diverges or oscillates
    assert high[-1] > 10 * good[-1]
    assert r["good"]["accuracy"] > 0.95


def test_09_batch_sizes(tmp_path):
    r = run("09_batch_sizes", tmp_path)
    sizes = [r[k]["batch_size"] for k in ("batch", "mini-batch (16)", "stochastic (1)")]
    assert sizes[0] > sizes[1] > sizes[2] == 1
    for name in ("batch", "mini-batch (16)", "stochastic (1)"):
        loss = r[name]["loss"]
        assert loss[-1] < 0.3 * loss[0], name           # all three converge
        assert r[name]["accuracy"] > 0.9, name
    assert r["stochastic (1)"]["updates"] > r["mini-batch (16)"]["updates"] > r["batch"]["updates"]


def test_10_shuffling(tmp_path):
    r = run("10_shuffling", tmp_path)
    acc = r["accuracy"]
    assert acc["shuffled"] > 0.75
    assert acc["shuffled"] > acc["random-first"] + 0.2
    assert acc["shuffled"] > acc["parabola-first"] + 0.2


def test_11_overfitting(tmp_path):
    r = run("11_overfitting", tmp_path)
    train_err, test_err = r["train_error"], r["test_error"]
    assert train_err[-1] == 0.0 and test_err[-1] > 0.03   # memorised, yet errs on new images
    assert test_err[0] > test_err[-1]                     # one hidden unit underfits
    assert all(te >= tr for tr, te in zip(train_err, test_err))
    # The training loss keeps falling after the validation loss bottoms out.
    assert r["best_val_epoch"] < r["epochs"]
    assert r["val_loss"][-1] > min(r["val_loss"])
    assert r["train_loss"][-1] < r["train_loss"][r["best_val_epoch"] - 1]
    assert r["early_stopped_epochs"] < r["epochs"]
    assert r["early_test_loss"] < r["final_test_loss"]


def test_12_skip_layer(tmp_path):
    r = run("12_skip_layer", tmp_path)
    assert all(a == 1.0 for a in r["skip-layer"]["accuracies"])
    assert all(a <= 0.75 for a in r["plain"]["accuracies"])
    assert max(r["skip-layer"]["final_losses"]) < min(r["plain"]["final_losses"])
    assert r["skip-layer"]["parameters"] == r["plain"]["parameters"] + 2



def test_13_trask_11_lines(tmp_path):
    r = run("13_trask_11_lines", tmp_path)
    assert r["max_difference"] < 1e-12                     # same weights, same outputs
    out = np.array(r["numpy_outputs"])
    assert (out[[0, 3]] < 0.05).all() and (out[[1, 2]] > 0.95).all()


def test_14_universal_approximation(tmp_path):
    r = run("14_universal_approximation", tmp_path)["rmse"]
    for name in ("sin(x)", "|x|"):
        assert min(r[name][8], r[name][32]) < r[name][1] / 10, name
    assert r["step"][32] < r["step"][1]
    assert all(r[name][32] < 0.1 for name in r)


def test_15_vanishing_gradients(tmp_path):
    r = run("15_vanishing_gradients", tmp_path)
    sig = [r["init_ratio"][f"sigmoid, Xavier init {d}"] for d in (2, 4, 8, 16)]
    assert all(a > b for a, b in zip(sig, sig[1:])) and sig[-1] < 1e-6   # shrinks towards the input
    assert all(0.1 < r["init_ratio"][f"ReLU, He init {d}"] < 10 for d in (2, 4, 8, 16))
    assert r["val_accuracy"]["ReLU, He init 2"] > 0.8
    assert r["val_accuracy"]["sigmoid, Xavier init 16"] < 0.2


def test_16_alvinn(tmp_path):
    r = run("16_alvinn", tmp_path)
    assert r["mean_error_degrees"] < 2.0
    assert r["mean_error_degrees"] < 0.5 * r["straight_ahead_error_degrees"]
    assert r["all_units_error_degrees"] > r["mean_error_degrees"]


def test_17_elman_temporal_xor(tmp_path):
    r = run("17_elman_temporal_xor", tmp_path)
    assert r["error_xor"] < 0.1                                   # the predictable bit
    assert 0.4 < r["error_random_1"] < 0.6 and 0.4 < r["error_random_2"] < 0.6   # coin flips stay at chance


def test_18_noisy_sine(tmp_path):
    r = run("18_noisy_sine", tmp_path)
    assert set(r["scores"]) == {"Elman", "Jordan", "LSTM"}
    for name, score in r["scores"].items():
        assert score["clean"] < r["persistence"] / 2, name        # every net beats "repeat the last value"
    assert r["scores"]["Elman"]["clean"] < 0.03 and r["scores"]["LSTM"]["clean"] < 0.03


def test_19_jordan_plan(tmp_path):
    r = run("19_jordan_plan", tmp_path)
    assert r["accuracy_decay_0.5"] == 1.0       # the fading sum tells the visits of "A" apart
    assert r["accuracy_decay_0.0"] < 0.8        # the last output alone cannot


def test_20_hessians_newton(tmp_path):
    r = run("20_hessians_newton", tmp_path)
    np.testing.assert_allclose(r["neuron_gradient"][:2], [-0.197, -0.393], atol=1e-3)  # the slides' dw0 = -0.2
    assert r["mode_error"] < 1e-14 and r["hand_error"] < 1e-14 and r["hvp_error"] < 1e-14
    assert r.get("sympy_error", 0.0) < 1e-14
    assert len(r["newton_norms"]) <= 8 and r["newton_norms"][-1] < 1e-12
    assert r["descent_norms"][-1] > 1e-4  # gradient descent is still far off after 100 steps
    assert r.get("sklearn_difference", 0.0) < 1e-6


def test_script_runs_as_a_program(tmp_path):
    """The scripts are real programs: `python examples/01_....py OUTDIR --quick`."""
    script = EXAMPLES / "01_threshold_perceptron_xor.py"
    out = subprocess.run([sys.executable, str(script), str(tmp_path / "out"), "--quick"],
                         capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert "not linearly separable" in out.stdout
    assert (tmp_path / "out" / "01_perceptron_and_xor.png").read_bytes().startswith(PNG_SIGNATURE)
