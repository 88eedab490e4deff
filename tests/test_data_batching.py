"""Mini-batching: coverage, sizes, seeds, views, and exact resume from a saved loader state."""

import json
import tracemalloc

import numpy as np
import pytest

from chainrule.data import DataLoader, batches

X = np.arange(20.0).reshape(10, 2)
Y = np.arange(10)


def labels(iterable):
    return [yb.tolist() for _, yb in iterable]


@pytest.mark.parametrize(
    "batch_size, drop_last, sizes",
    [(1, False, [1] * 10), (3, False, [3, 3, 3, 1]), (3, True, [3, 3, 3]), (10, False, [10]), (25, False, [10])],
)
def test_batch_sizes_stochastic_to_full(batch_size, drop_last, sizes):
    out = list(batches(X, Y, batch_size, shuffle=True, rng=0, drop_last=drop_last))
    assert [len(xb) for xb, _ in out] == sizes
    seen = np.concatenate([yb for _, yb in out])
    if not drop_last:
        assert sorted(seen.tolist()) == list(range(10))
    for xb, yb in out:
        assert np.array_equal(xb, X[yb])


def test_shuffle_is_seeded_and_unshuffled_batches_are_views():
    assert labels(batches(X, Y, 4, rng=3)) == labels(batches(X, Y, 4, rng=3))
    assert labels(batches(X, Y, 4, rng=3)) != labels(batches(X, Y, 4, rng=4))
    ordered = list(batches(X, Y, 4, shuffle=False))
    assert labels(ordered) == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]
    assert np.shares_memory(ordered[0][0], X)


def test_an_epoch_never_copies_the_whole_set():
    big = np.zeros((200_000, 10))  # 16 MB
    tracemalloc.start()
    try:
        for xb, yb in batches(big, None, 100, rng=0):
            assert xb.shape == (100, 10)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    # The permutation (1.6 MB) and one batch may live at once; a copy would not fit.
    assert peak < 4_000_000


def test_y_none_and_bad_arguments():
    assert [yb for _, yb in batches(X, None, 5)] == [None, None]
    with pytest.raises(ValueError, match="batch_size must be a positive integer, got 0"):
        next(batches(X, Y, 0))
    with pytest.raises(ValueError, match="batch_size must be a positive integer, got 2.5"):
        next(batches(X, Y, 2.5))
    with pytest.raises(ValueError, match="X and y must have the same number of rows, got 10 and 3 rows"):
        next(batches(X, Y[:3], 2))
    with pytest.raises(ValueError, match="rng must be an integer >= 0, None or a numpy.random.Generator"):
        next(batches(X, Y, 2, rng=-1))


def test_loader_len_epochs_and_fresh_order_each_epoch():
    loader = DataLoader(X, Y, batch_size=4, seed=1)
    assert len(loader) == 3 and len(DataLoader(X, Y, batch_size=4, drop_last=True)) == 2
    first, second = labels(loader), labels(loader)
    assert loader.epoch == 2 and first != second
    assert sorted(sum(first, [])) == list(range(10))
    assert labels(DataLoader(X, Y, batch_size=4, seed=1)) == first


def test_state_between_epochs_round_trips_through_json():
    loader = DataLoader(X, Y, batch_size=3, seed=5)
    labels(loader)
    state = json.loads(json.dumps(loader.get_state()))
    expected = [labels(loader), labels(loader)]
    restored = DataLoader(X, Y, batch_size=3, seed=999).set_state(state)
    assert restored.epoch == 1
    assert [labels(restored), labels(restored)] == expected


def test_state_mid_epoch_resumes_remaining_batches_exactly():
    loader = DataLoader(X, Y, batch_size=3, seed=5)
    labels(loader)
    it = iter(loader)
    head = [next(it)[1].tolist() for _ in range(2)]
    state = json.loads(json.dumps(loader.get_state()))
    rest = [yb.tolist() for _, yb in it]
    after = labels(loader)
    restored = DataLoader(X, Y, batch_size=3, seed=0).set_state(state)
    assert state["epoch"] == 1 and state["batch"] == 2
    assert labels(restored) == rest and labels(restored) == after
    assert sorted(sum(head + rest, [])) == list(range(10))


def test_leaving_a_loop_early_resumes_that_epoch():
    loader = DataLoader(X, Y, batch_size=4, seed=2)
    full = labels(DataLoader(X, Y, batch_size=4, seed=2))
    for _, yb in loader:
        break
    assert labels(loader) == full[1:] and loader.epoch == 1


def test_state_with_mt19937_generator_is_json_safe():
    rng = np.random.Generator(np.random.MT19937(4))
    loader = DataLoader(X, Y, batch_size=4, seed=rng)
    state = json.loads(json.dumps(loader.get_state()))
    expected = labels(loader)
    fresh = DataLoader(X, Y, batch_size=4, seed=np.random.Generator(np.random.MT19937(0)))
    assert labels(fresh.set_state(state)) == expected


@pytest.mark.parametrize(
    "state, message",
    [
        ({"epoch": 0}, "loader state must be a dict with integer 'epoch' and 'batch' and an 'rng' entry"),
        ({"epoch": 0, "batch": 9, "rng": {}}, "loader state has epoch 0 and batch 9; expected epoch >= 0 and batch 0 to 3"),
        ({"epoch": 0, "batch": 0, "rng": {"bit_generator": "Nope"}}, "loader state holds an RNG state this generator cannot take"),
    ],
)
def test_bad_state(state, message):
    with pytest.raises(ValueError, match=message):
        DataLoader(X, Y, batch_size=4, seed=0).set_state(state)


def test_unshuffled_loader_keeps_order():
    assert labels(DataLoader(X, Y, batch_size=6, shuffle=False)) == [[0, 1, 2, 3, 4, 5], [6, 7, 8, 9]]


def test_a_loader_takes_a_dataset_as_its_arrays():
    from chainrule.data import Dataset

    ds = Dataset(np.arange(10.0).reshape(5, 2), np.arange(5) % 2, "classification")
    a = [(x.tolist(), y.tolist()) for x, y in DataLoader(ds, batch_size=2, seed=0)]
    b = [(x.tolist(), y.tolist()) for x, y in DataLoader(ds.X, ds.y, batch_size=2, seed=0)]
    assert a == b and len(a) == 3
