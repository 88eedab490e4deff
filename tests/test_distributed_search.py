"""Hyper-parameter search: the same table on a Dask cluster as one by one; failures reported, not fatal."""

import json
import math
import os
import subprocess
import sys

import numpy as np
import pytest

from chainrule import nn
from chainrule.distributed import sample_space, search

RNG = np.random.default_rng(0)
X = RNG.normal(size=(160, 2))
Y = (X[:, 0] * X[:, 1] > 0).astype(int)
SPACE = {"hidden": [[4], [16]], "lr": [0.01, 0.1]}


def _strip(rows):
    return [{k: v for k, v in r.items() if k != "seconds"} for r in rows]


def test_grid_is_the_product_in_order():
    trials = sample_space({"a": [1, 2], "b": ["x", "y", "z"]})
    assert len(trials) == 6 and trials[0] == {"a": 1, "b": "x"} and trials[-1] == {"a": 2, "b": "z"}
    assert len(sample_space({"a": [1, 2], "b": [3]}, n_trials=1)) == 1


def test_random_space_draws_inside_its_bounds_and_is_seeded():
    space = {"lr": {"log_uniform": [1e-4, 1e-1]}, "units": {"int": [2, 5]}, "act": ["relu", "tanh"]}
    a, b = sample_space(space, 50, "random", seed=1), sample_space(space, 50, "random", seed=1)
    assert a == b
    assert all(1e-4 <= t["lr"] <= 1e-1 and 2 <= t["units"] <= 5 and t["act"] in ("relu", "tanh") for t in a)
    assert {t["units"] for t in a} == {2, 3, 4, 5}


@pytest.mark.parametrize("space, message", [
    ({}, "space must be a non-empty dict"),
    ({"lr": []}, "space['lr'] must be a non-empty list of choices or a distribution, got []"),
    ({"lr": {"log_uniform": [0, 1]}}, "space['lr'] log_uniform needs [low, high] with low < high and low > 0"),
    ({"lr": {"gamma": [1, 2]}}, "unknown distribution 'gamma'; expected one of: int, log_uniform, uniform"),
    ({"lr": {"uniform": [0, 1], "int": [1, 2]}}, "space['lr'] must be one distribution"),
])
def test_bad_spaces_are_one_sentence(space, message):
    with pytest.raises(ValueError) as e:
        sample_space(space, 3, "random")
    assert message in str(e.value) and "\n" not in str(e.value)


def test_grid_refuses_distributions_and_random_needs_a_count():
    with pytest.raises(ValueError, match="grid search needs lists of choices"):
        sample_space({"lr": {"uniform": [0, 1]}})
    with pytest.raises(ValueError, match="random search needs n_trials"):
        sample_space({"lr": [1]}, method="random")


def test_sequential_search_sorts_best_first_and_keeps_the_best_model():
    r = search(None, SPACE, (X, Y), epochs=15, patience=3, scheduler="sequential", seed=0)
    scores = [row["score"] for row in r.rows]
    assert scores == sorted(scores) and len(r.rows) == 4
    assert isinstance(r.best_model, nn.Module) and r.best == {k: r.rows[0][k] for k in SPACE}
    assert "trial" in r.table().splitlines()[0]


def test_a_failing_trial_is_reported_and_the_search_goes_on():
    def model_fn(hidden):
        if hidden == [4]:
            raise ValueError("this architecture is not allowed")
        return nn.MLP([2, *hidden, 2], seed=0)

    r = search(model_fn, {"hidden": [[4], [8]]}, (X, Y), epochs=3, scheduler="sequential")
    assert [row.get("error") for row in r.rows] == [None, "this architecture is not allowed"]
    assert math.isnan(r.rows[-1]["score"]) and r.best == {"hidden": [8]}


def test_a_setting_no_trial_can_take_fails_before_any_trial():
    with pytest.raises(ValueError, match="space sets 'dropout', which neither fit nor the default MLP takes; expected "
                                         "settings among lr, optimizer, batch_size, epochs, l1, l2, hidden, activation"):
        search(None, {"dropout": [0.1]}, (X, Y), epochs=1, scheduler="sequential")


def test_a_search_whose_every_trial_failed_says_so():
    with pytest.warns(RuntimeWarning, match="every one of the 2 trials failed; the first: lr must be > 0, got -1"):
        r = search(None, {"lr": [-1, -2]}, (X, Y), epochs=1, scheduler="sequential")
    assert r.best_model is None and all(math.isnan(row["score"]) for row in r.rows)


def test_dask_cluster_gives_the_sequential_table():
    pytest.importorskip("distributed", reason="the Dask tests need the extra chainrule[dask]")
    one = search(None, SPACE, (X, Y), epochs=10, patience=3, scheduler="sequential", seed=5)
    many = search(None, SPACE, (X, Y), epochs=10, patience=3, scheduler="processes", n_workers=2, seed=5)
    assert _strip(many.rows) == _strip(one.rows)
    for key, value in one.best_model.state_dict().items():
        np.testing.assert_array_equal(many.best_model.state_dict()[key], value)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_sklearn_estimators_under_joblibs_dask_backend():
    pytest.importorskip("distributed", reason="the Dask tests need the extra chainrule[dask]")
    pytest.importorskip("sklearn")
    import joblib
    from dask.distributed import Client, LocalCluster
    from sklearn.model_selection import GridSearchCV

    from chainrule.sklearn import MLPClassifier

    grid = {"hidden_layer_sizes": [(4,), (8,)], "learning_rate_init": [0.01, 0.05]}
    make = lambda: GridSearchCV(MLPClassifier(max_iter=20, random_state=0), grid, cv=2)
    local = make().fit(X, Y)
    with LocalCluster(n_workers=2, threads_per_worker=1, dashboard_address=None) as cluster, Client(cluster):
        with joblib.parallel_backend("dask"):
            remote = make().fit(X, Y)
    np.testing.assert_allclose(remote.cv_results_["mean_test_score"], local.cv_results_["mean_test_score"])
    assert remote.best_params_ == local.best_params_


def test_ctrl_c_cancels_the_remaining_trials_and_closes_the_cluster():
    distributed = pytest.importorskip("distributed", reason="the Dask tests need the extra chainrule[dask]")
    seen = []

    def interrupt(row):
        seen.append(row)
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        search(None, {"hidden": [[4], [8], [16], [32]], "lr": [0.01, 0.1]}, (X, Y), epochs=30,
               scheduler="processes", on_result=interrupt)
    assert len(seen) == 1
    with pytest.raises(ValueError):  # no client is left behind as the default
        distributed.get_client()


def test_bad_scheduler_is_one_sentence():
    with pytest.raises(ValueError, match="scheduler must be None or 'processes'"):
        search(None, SPACE, (X, Y), scheduler="threads")


def test_cli_search_writes_results_and_best_model(tmp_path):
    space = tmp_path / "space.json"
    space.write_text(json.dumps({"hidden": [[8], [16]], "lr": [0.01]}))
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    cmd = [sys.executable, "-m", "chainrule", "search", "circle", "--space", str(space), "--epochs", "5",
           "--scheduler", "sequential", "-o", str(tmp_path / "s")]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=120, env=env, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "s" / "results.csv").read_text().count("\n") == 3
    assert (tmp_path / "s" / "best_model.safetensors").exists() and "best:" in done.stdout
    space.write_text("{nope")
    done = subprocess.run(cmd[:-2] + ["-o", str(tmp_path / "t")], capture_output=True, text=True, timeout=60,
                          env=env, cwd=tmp_path)
    assert done.returncode == 2 and done.stderr.startswith("error: ") and done.stderr.count("\n") == 1
    assert not (tmp_path / "t").exists()
