"""fit / evaluate / predict / fit_restarts: behaviour, logs, dtypes and one-sentence errors."""

import doctest
import math
import re
import warnings

import numpy as np
import pytest

import chainrule as cr
from chainrule import nn, optim, restarts, train
from chainrule.callbacks import Callback
from chainrule.data import Dataset
from chainrule.train import evaluate, fit, predict
from chainrule.train.setup import prepare_inputs


def blobs(n=200, seed=0, d=2):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n)
    X = rng.normal(size=(n, d)) + 2.5 * y[:, None]
    return X, y


@pytest.fixture
def data():
    return blobs()


def net(seed=0, d=2, k=2, **kw):
    return nn.MLP([d, 8, k], activation="tanh", seed=seed, **kw)


def test_fit_learns_and_logs_every_epoch(data):
    h = fit(net(), "cross_entropy", ("adam", 0.05), data, validation_split=0.25, epochs=15,
            metrics=["accuracy", "recall"], seed=0, verbose=0)
    assert len(h) == 15 and h.epochs == list(range(15))
    assert h.keys() == ["loss", "accuracy", "recall", "val_loss", "val_accuracy", "val_recall", "lr", "time"]
    assert h["loss"][-1] < h["loss"][0] and h["val_accuracy"][-1] > 0.9
    assert h["recall"][-1].shape == (2,) and h.stop_reason is None


def test_dataset_inputs_and_explicit_val(data):
    X, y = data
    ds = Dataset(X[:150], y[:150], "classification")
    h = fit(net(), "cross_entropy", "adam", ds, val=Dataset(X[150:], y[150:], "classification"), epochs=2,
            seed=0, verbose=0)
    assert "val_loss" in h


def test_optimizer_object_name_pair_and_dict(data):
    model = net()
    for spec in (optim.SGD(model.parameters(), lr=0.1), "sgd", ("sgd", 0.1), {"name": "sgd", "lr": 0.1, "momentum": 0.9}):
        h = fit(model, "cross_entropy", spec, data, epochs=1, seed=0, verbose=0)
        assert np.isfinite(h["loss"][0])


def test_callable_loss_and_loss_module(data):
    ce = nn.CrossEntropyLoss()
    for loss in (ce, lambda out, t: nn.functional.cross_entropy(out, t)):
        assert np.isfinite(fit(net(), loss, "adam", data, epochs=1, seed=0, verbose=0)["loss"][0])


def test_same_seed_same_weights_different_seed_differs(data):
    def run(seed):
        m = net()
        fit(m, "cross_entropy", ("sgd", 0.1), data, epochs=3, batch_size=16, seed=seed, verbose=0)
        return m.output.weight.data.copy()

    np.testing.assert_array_equal(run(1), run(1))
    assert not np.array_equal(run(1), run(2))


def test_float64_data_is_cast_once_to_the_model_dtype(data):
    seen = []

    class Spy(nn.Module):
        def __init__(self, dtype):
            super().__init__()
            self.inner = nn.Linear(2, 2, seed=0, dtype=dtype)

        def forward(self, x):
            seen.append(x.dtype)
            return self.inner(x)

    X, y = data
    fit(Spy(np.float32), "cross_entropy", "sgd", (X.astype(np.float64), y), epochs=1, batch_size=50, verbose=0)
    assert set(seen) == {np.dtype(np.float32)}
    seen.clear()
    m = Spy(np.float64)
    fit(m, "cross_entropy", "sgd", (X.astype(np.float32), y), epochs=1, batch_size=50, verbose=0)
    assert set(seen) == {np.dtype(np.float64)} and m.inner.weight.dtype == np.float64


def test_regularization_is_logged_separately(data):
    h = fit(net(), "cross_entropy", "sgd", data, epochs=2, regularization={"l2": 0.01}, seed=0, verbose=0)
    plain = fit(net(), "cross_entropy", "sgd", data, epochs=1, seed=0, verbose=0)
    assert 0 < h["reg_loss"][0] < 1 and "reg_loss" not in plain
    # The data loss excludes the penalty: it differs from an unpenalised run only through the weights.
    assert abs(h["loss"][0] - plain["loss"][0]) < 0.01 * h["reg_loss"][0]
    weights = sum(float((p.data ** 2).sum()) for n, p in net().named_parameters() if n.endswith("weight"))
    assert h["reg_loss"][0] == pytest.approx(0.01 * weights, rel=0.05)


def test_regularization_shrinks_weights(data):
    big, small = net(), net()
    fit(big, "cross_entropy", ("sgd", 0.1), data, epochs=20, seed=0, verbose=0)
    fit(small, "cross_entropy", ("sgd", 0.1), data, epochs=20, seed=0, verbose=0, regularization=("l2", 0.05))
    assert np.abs(small.hidden[0].weight.data).sum() < np.abs(big.hidden[0].weight.data).sum()


def test_regression_targets_and_metrics():
    rng = np.random.default_rng(0)
    X = rng.uniform(-1, 1, size=(256, 1))
    y = np.sin(3 * X[:, 0])
    m = nn.MLP([1, 16, 1], activation="tanh", seed=0)
    h = fit(m, "mse", ("adam", 0.02), (X, y), validation_split=0.2, epochs=60, metrics=["r2", "mae"],
            seed=0, verbose=0)
    assert h["val_r2"][-1] > 0.9
    assert predict(m, X).shape == (256, 1)


def test_binary_logit_metrics_use_threshold_zero(data):
    X, y = data
    m = nn.MLP([2, 4, 1], seed=0)
    fit(m, "bce_with_logits", ("adam", 0.05), (X, y), epochs=20, seed=0, verbose=0)
    logits = predict(m, X)[:, 0]
    acc = evaluate(m, "bce_with_logits", (X, y), metrics=["accuracy"])["accuracy"]
    assert acc == pytest.approx(np.mean((logits > 0) == y)) and acc > 0.9


def test_evaluate_and_predict_match_manual_computation(data):
    X, y = data
    m = net()
    fit(m, "cross_entropy", "adam", data, epochs=3, seed=0, verbose=0)
    out = predict(m, X, batch_size=7)
    manual = nn.functional.cross_entropy(m(cr.tensor(X.astype(np.float32))), y).item()
    res = evaluate(m, "cross_entropy", (X, y), metrics=["accuracy", "confusion_matrix"], batch_size=64)
    assert res["loss"] == pytest.approx(manual, rel=1e-5)
    assert res["accuracy"] == pytest.approx(np.mean(out.argmax(1) == y))
    assert res["confusion_matrix"].sum() == len(y)


def test_model_ends_in_eval_mode_and_predict_ignores_dropout(data):
    X, y = data
    m = nn.Sequential(nn.Linear(2, 16, seed=0), nn.ReLU(), nn.Dropout(0.5, seed=0), nn.Linear(16, 2, seed=1))
    fit(m, "cross_entropy", "adam", data, epochs=2, seed=0, verbose=0)
    assert not m.training
    np.testing.assert_array_equal(predict(m, X), predict(m, X))


class Counter(Callback):
    def __init__(self, wants):
        self.wants_batches = wants
        self.calls = {"train_begin": 0, "epoch_begin": 0, "batch": 0, "epoch_end": 0, "train_end": 0}

    def on_train_begin(self, ctx):
        self.calls["train_begin"] += 1

    def on_epoch_begin(self, ctx, epoch):
        self.calls["epoch_begin"] += 1

    def on_batch_end(self, ctx, batch, loss):
        self.calls["batch"] += 1

    def on_epoch_end(self, ctx, epoch, logs):
        self.calls["epoch_end"] += 1

    def on_train_end(self, ctx):
        self.calls["train_end"] += 1


def test_batch_hooks_only_for_callbacks_that_ask(data):
    quiet, chatty = Counter(False), Counter(True)
    fit(net(), "cross_entropy", "sgd", data, epochs=3, batch_size=32, callbacks=[quiet, chatty], verbose=0)
    assert quiet.calls == {"train_begin": 1, "epoch_begin": 3, "batch": 0, "epoch_end": 3, "train_end": 1}
    assert chatty.calls["batch"] == 3 * 7  # ceil(200 / 32) batches per epoch


def test_batch_sizes_from_one_to_all(data):
    X, y = data
    for bs in (1, 7, 200):
        h = fit(net(), "cross_entropy", ("sgd", 0.05), (X, y), epochs=1, batch_size=bs, seed=0, verbose=0)
        assert np.isfinite(h["loss"][0])


def test_default_batch_size_is_capped_but_an_explicit_one_is_not():
    X, y = blobs(n=8)
    h = fit(net(), "cross_entropy", "sgd", (X, y), epochs=1, verbose=0)
    assert np.isfinite(h["loss"][0])
    with pytest.raises(ValueError, match="from 1 to the 8 training rows, got 32"):
        fit(net(), "cross_entropy", "sgd", (X, y), epochs=1, batch_size=32, verbose=0)


def test_shuffle_false_keeps_row_order():
    order = []

    class Record(nn.Module):
        def __init__(self):
            super().__init__()
            self.lin = nn.Linear(1, 1, seed=0)

        def forward(self, x):
            order.extend(x.ravel().tolist() if isinstance(x, np.ndarray) else x.data.ravel().tolist())
            return self.lin(x)

    X = np.arange(10.0)[:, None]
    fit(Record(), "mse", "sgd", (X, np.zeros(10)), epochs=1, batch_size=3, shuffle=False, verbose=0)
    assert order[2:] == list(range(10))  # the first two values are the shape probe


def test_diverging_loss_stops_with_a_warning(data):
    X, y = data
    with pytest.warns(RuntimeWarning, match="the training loss became"):
        with np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore", category=RuntimeWarning, append=True)
            h = fit(nn.MLP([2, 8, 1], seed=0), "mse", ("sgd", 1e6), (X * 1e3, y * 1e3), epochs=50, verbose=0)
    assert len(h) < 50 and "lower the learning rate" in h.stop_reason


def test_a_diverged_epoch_scores_nan_not_made_up_labels(data):
    # arg-max of nan outputs used to report an accuracy (and per-class values) for a model that predicts nothing
    X, y = data
    with pytest.warns(RuntimeWarning, match="training diverged"):
        with np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore", category=RuntimeWarning, append=True)
            h = fit(nn.MLP([2, 8, 2], seed=0), "cross_entropy", ("sgd", 1e30), (X * 1e30, y), val=(X * 1e30, y), epochs=3,
                    metrics=["accuracy", "recall", "confusion_matrix"], verbose=0)
    last = h.last()
    assert math.isnan(last["accuracy"]) and math.isnan(last["val_accuracy"])
    assert np.isnan(last["val_recall"]).all() and last["val_recall"].shape == (2,)
    assert np.isnan(last["val_confusion_matrix"]).all() and last["val_confusion_matrix"].shape == (2, 2)


def test_rows_beyond_float32_are_named_not_called_inf():
    model = nn.Linear(2, 1, seed=0)
    with pytest.raises(ValueError, match=r"X row 1 holds values beyond the float32 range of the model"):
        predict(model, np.array([[1.0, 2.0], [1e39, 0.0]]))
    with pytest.raises(ValueError, match=r"X contains nan or inf \(first in row 0\)"):
        predict(model, np.array([[np.inf, 2.0]]))


def test_verbose_lines_when_not_a_terminal(data, capsys):
    fit(net(), "cross_entropy", "adam", data, epochs=3, metrics=["accuracy"], verbose=1)
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 3 and lines[0].startswith("epoch 1/3: loss ") and "accuracy" in lines[0]
    fit(net(), "cross_entropy", "adam", data, epochs=3, verbose=0)
    assert capsys.readouterr().out == ""


# ---------------------------------------------------------------- bad arguments
@pytest.mark.parametrize("kwargs, error, words", [
    ({"epochs": 0}, ValueError, "epochs must be a positive integer, got 0"),
    ({"epochs": 2.5}, ValueError, "epochs must be a positive integer, got 2.5"),
    ({"batch_size": 0}, ValueError, "batch_size must be an integer from 1 to the 200 training rows, got 0"),
    ({"batch_size": 201}, ValueError, "got 201"),
    ({"validation_split": 1.0}, ValueError, "validation_split must be a fraction strictly between 0 and 1, got 1.0"),
    ({"validation_split": 0}, ValueError, "got 0"),
    ({"metrics": ["acc"]}, ValueError, "unknown metric 'acc'; expected one of: accuracy"),
    ({"callbacks": ["early_stop"]}, ValueError, "unknown callback 'early_stop'; expected one of: csv_logger"),
    ({"callbacks": ["csv_logger"]}, ValueError, "callback 'csv_logger' could not be built"),
    ({"regularization": {"l3": 0.1}}, ValueError, "unknown regularizer 'l3'; expected one of: l1, l2"),
    ({"seed": "x"}, TypeError, "seed must be an integer >= 0 or None"),
    ({"resume": True}, ValueError, "resume=True needs the checkpoint_dir"),
])
def test_bad_hyper_parameters(data, kwargs, error, words):
    with pytest.raises(error) as e:
        fit(net(), "cross_entropy", "sgd", data, **{"epochs": 1, "verbose": 0, **kwargs})
    assert words in str(e.value) and "\n" not in str(e.value)


@pytest.mark.parametrize("loss, optimizer, error, words", [
    ("crossentropy", "sgd", ValueError, "unknown loss 'crossentropy'; expected one of: bce"),
    (42, "sgd", TypeError, "loss must be a name from nn.LOSSES"),
    ("cross_entropy", "sgdd", ValueError, "unknown optimizer 'sgdd'; expected one of: adagrad"),
    ("cross_entropy", {"name": "sgd", "lrr": 1}, ValueError, "optimizer 'sgd' could not be built"),
    ("cross_entropy", 3.0, TypeError, "optimizer must be an optim.Optimizer"),
])
def test_bad_loss_and_optimizer(data, loss, optimizer, error, words):
    with pytest.raises(error, match=words):
        fit(net(), loss, optimizer, data, epochs=1, verbose=0)


def test_optimizer_for_another_model_is_refused(data):
    with pytest.raises(ValueError, match="does not update any parameter of this model"):
        fit(net(), "cross_entropy", optim.SGD(net(1).parameters(), lr=0.1), data, epochs=1, verbose=0)


@pytest.mark.parametrize("make, error, words", [
    (lambda X, y: (X, y[:-1]), ValueError, "X has 200 rows but y has 199; they must match"),
    (lambda X, y: (X[:, :1], y), ValueError, "X has 1 features per row but the model expects 2"),
    (lambda X, y: (np.where(np.arange(200)[:, None] == 5, np.nan, X), y), ValueError, "X contains nan or inf (first in row 5)"),
    (lambda X, y: (X, y + 1), ValueError, "y holds class label 2, but the model has 2 outputs (labels 0..1)"),
    (lambda X, y: (X, y - 3), ValueError, "y holds class label -3, but the model has 2 outputs (labels 0..1)"),
    (lambda X, y: (X, np.where(np.arange(200) == 7, 9, y - 1)), ValueError, "y holds class label 9, but"),  # both ends bad
    (lambda X, y: (X, np.where(np.arange(200) == 3, 0.5, y)), ValueError,
     "y holds 0.5 in row 3, which is not a class label: loss 'cross_entropy' over 2 outputs takes class labels 0..1"),
    (lambda X, y: (X, y + 1.0), ValueError, "y holds class label 2, but the model has 2 outputs (labels 0..1)"),
    # text labels are classes now (fit encodes them, see test_train_classify); text 2-D rows are not
    (lambda X, y: (X, np.stack([y.astype(str)] * 2, axis=1)), ValueError, "must be 1-D class labels"),
    (lambda X, y: (X[:, 0], y), ValueError, "X must have shape (n, features)"),
    (lambda X, y: [X], TypeError, "train must be an (X, y) pair or a chainrule.data.Dataset"),
])
def test_bad_data(data, make, error, words):
    with pytest.raises(error) as e:
        fit(net(), "cross_entropy", "sgd", make(*data), epochs=1, verbose=0)
    assert words in str(e.value)


def test_whole_number_float_labels_train_as_the_integer_labels_they_spell(data):
    # np.loadtxt and many CSV readers give 0.0, 1.0, ...: the same classes, the same run
    X, y = data
    a, b = net(), net()
    ha = fit(a, "cross_entropy", "sgd", (X, y), epochs=2, metrics=["accuracy"], seed=0, verbose=0)
    hb = fit(b, "cross_entropy", "sgd", (X, y.astype(np.float32)), epochs=2, metrics=["accuracy"], seed=0, verbose=0)
    assert ha["loss"] == hb["loss"] and ha["accuracy"] == hb["accuracy"]
    for p, q in zip(a.parameters(), b.parameters()):
        np.testing.assert_array_equal(p.data, q.data)


@pytest.mark.parametrize("loss", ["cross_entropy", "nll", "multiclass_hinge"])
@pytest.mark.parametrize("labels", [np.int64, np.float64])
def test_a_loss_over_classes_refuses_a_model_with_one_output(data, loss, labels):
    # its softmax (or margin sum) over one class is constant: training would silently learn nothing
    X, y = data
    with pytest.raises(ValueError, match=f"loss '{loss}' needs one model output per class, but the model has 1 output"):
        fit(net(k=1), loss, "sgd", (X, (y * 0).astype(labels)), epochs=1, verbose=0)


@pytest.mark.parametrize("columns, row, words", [
    (lambda y: np.stack([y, y], axis=1), 0, "is [1.0, 1.0], not class probabilities"),  # a label column twice
    (lambda y: np.eye(2)[y] * 2, 0, "is [0.0, 2.0], not class probabilities"),          # scores, not a distribution
    (lambda y: np.where(np.arange(200)[:, None] == 4, [[1.5, -0.5]], np.eye(2)[y]), 4, "is [1.5, -0.5]"),  # sums to 1
])
def test_cross_entropy_takes_label_columns_only_as_class_distributions(data, columns, row, words):
    X, y = data
    y = np.where(np.arange(200) == 0, 1, y)  # row 0 is class 1
    with pytest.raises(ValueError, match=re.escape(f"y row {row} {words}")):
        fit(net(), "cross_entropy", "sgd", (X, columns(y)), epochs=1, verbose=0)
    soft = np.eye(2)[y] * 0.8 + 0.1  # smoothed one-hot rows: accepted
    assert len(fit(net(), "cross_entropy", "sgd", (X, soft), epochs=1, verbose=0)) == 1


@pytest.mark.parametrize("loss", ["bce_with_logits", "hinge"])
def test_a_one_score_loss_refuses_a_model_with_several_outputs_for_one_label_column(data, loss):
    X, y = data
    with pytest.raises(ValueError, match=f"loss '{loss}' scores two classes with one output per row, but the model has 2"):
        fit(net(k=2), loss, "sgd", (X, y if loss != "hinge" else 2 * y - 1), epochs=1, verbose=0)


def test_training_labels_of_a_single_class_are_reported(data):
    X, y = data
    with pytest.warns(RuntimeWarning, match=r"y holds one class only \(label 1\) of the model's 2"):
        fit(net(), "cross_entropy", "sgd", (X, np.ones_like(y)), epochs=1, verbose=0)
    m = net()
    fit(m, "cross_entropy", "sgd", (X, y), epochs=1, verbose=0)
    with warnings.catch_warnings():  # a test set of one class is not suspicious
        warnings.simplefilter("error")
        cr.evaluate(m, "cross_entropy", (X[y == 1], y[y == 1]))


@pytest.mark.parametrize("bad", [np.inf, -np.inf, np.nan])
def test_one_bad_value_among_huge_finite_ones_is_found(bad):
    # Finite values near float32's limit overflow the screening sum: the exact search decides.
    X = np.full((6, 2), 3e38, np.float32)
    assert prepare_inputs(net(), X) is not None  # all finite: accepted, although their sum is inf
    X[4, 1] = bad
    with pytest.raises(ValueError, match=r"X contains nan or inf \(first in row 4\)"):
        prepare_inputs(net(), X)


@pytest.mark.parametrize("bad, finite", [(None, True), (np.inf, False), (np.nan, False)])
def test_the_weights_finiteness_screen_is_exact_next_to_huge_values(bad, finite):
    from chainrule.nn import Parameter
    from chainrule.train.run import _first_nonfinite

    huge = np.full(50, 3e38, np.float32)  # their sum overflows although each entry is finite
    if bad is not None:
        huge[17] = bad
    params = [Parameter(np.zeros(3)), Parameter(huge), Parameter(np.array([1.0, -np.inf]))]
    assert _first_nonfinite(params[:2]) is (None if finite else params[1])
    assert _first_nonfinite(params) is params[1 if not finite else 2]  # the first bad one, in order
    assert _first_nonfinite(params[:1]) is None and _first_nonfinite([]) is None


def test_loss_shape_mismatch_is_explained(data):
    X, y = data
    with pytest.raises(ValueError, match=r"loss 'mse' cannot compare the model's outputs of shape \(2,\)"):
        fit(net(), "mse", "sgd", (X, y), epochs=1, verbose=0)


def test_val_and_validation_split_together_is_an_error(data):
    with pytest.raises(ValueError, match="either val or validation_split"):
        fit(net(), "cross_entropy", "sgd", data, val=data, validation_split=0.2, epochs=1, verbose=0)


def test_bad_val_data_is_named(data):
    X, y = data
    with pytest.raises(ValueError, match="val X has 3 features per row but the model expects 2"):
        fit(net(), "cross_entropy", "sgd", data, val=(np.zeros((4, 3)), np.zeros(4, int)), epochs=1, verbose=0)


# ---------------------------------------------------------------- restarts
def test_fit_restarts_keeps_the_best_validation_score(data):
    res = restarts.fit_restarts(lambda s: net(s), 3, "cross_entropy", ("sgd", 0.05), data, validation_split=0.3,
                                monitor="val_loss", epochs=3, verbose=0)
    assert len(set(res.scores)) == 3 and res.score == min(res.scores) and res.seed == res.index
    X, y = restarts._validation(data, None, 0.3, 0)[1]
    assert evaluate(res.model, "cross_entropy", (X, y))["loss"] == pytest.approx(res.score)


def test_fit_restarts_refuses_a_shared_optimizer_and_needs_validation(data):
    with pytest.raises(TypeError, match="needs an optimizer spec"):
        restarts.fit_restarts(net, 2, "cross_entropy", optim.SGD(net().parameters(), lr=0.1), data, val=data)
    with pytest.raises(ValueError, match="needs val or validation_split"):
        restarts.fit_restarts(net, 2, "cross_entropy", "sgd", data)
    with pytest.raises(ValueError, match="monitor must be a validation key"):
        restarts.fit_restarts(net, 2, "cross_entropy", "sgd", data, val=data, monitor="loss")


def test_docstring_examples_run():
    for module in (train, restarts):
        assert doctest.testmod(module, optionflags=doctest.ELLIPSIS).failed == 0


def test_a_first_layer_that_takes_sequences_or_images_is_not_judged_by_a_later_dense_one():
    X, y = np.random.default_rng(0).normal(size=(10, 3)), np.arange(10) % 2
    with pytest.raises(ValueError, match=r"LSTM expects input of shape \(batch, time, features\) with features = 3"):
        fit(nn.Sequential(nn.LSTM(3, 4), nn.Linear(4, 2)), "cross_entropy", "sgd", (X, y), epochs=1, verbose=0)
    images = np.random.default_rng(0).normal(size=(10, 8, 8, 1))  # channels last
    cnn = nn.Sequential(nn.Conv2d(1, 2, 3), nn.Flatten(), nn.Linear(72, 2))
    with pytest.raises(ValueError, match=re.escape("images go channels first, (n, 1, height, width), and these look "
                                                   "channels last: pass X.transpose(0, 3, 1, 2)")):
        fit(cnn, "cross_entropy", "sgd", (images, y), epochs=1, verbose=0)
    assert len(fit(cnn, "cross_entropy", "sgd", (images.transpose(0, 3, 1, 2), y), epochs=1, verbose=0)) == 1


@pytest.mark.parametrize("compile", [False, "auto"])
def test_a_model_that_starts_with_an_embedding_trains_on_integer_tokens(compile):
    rng = np.random.default_rng(0)
    X = rng.integers(0, 5, (200, 2))
    y = (X[:, 0] > X[:, 1]).astype(int)
    model = nn.Sequential(nn.Embedding(5, 4, seed=0), nn.Flatten(), nn.Linear(8, 16, seed=0), nn.ReLU(),
                          nn.Linear(16, 2, seed=0))
    h = fit(model, "cross_entropy", ("adam", 0.05), (X, y), epochs=40, metrics=["accuracy"], compile=compile, seed=0,
            verbose=0)
    assert h["accuracy"][-1] == 1.0 and cr.predict_labels(model, X).tolist() == y.tolist()
