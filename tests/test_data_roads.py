"""The synthetic road retina and ALVINN's output code."""

import numpy as np
import pytest

from chainrule.data import load_dataset, make_roads, steering_bump, steering_from_outputs


def test_images_are_retinas_and_the_target_is_the_steering_direction():
    ds = load_dataset("roads", n=300, noise=0.0, seed=0)
    assert ds.X.shape == (300, 960) and ds.X.dtype == np.float32 and ds.task == "regression"
    img = ds.X.reshape(-1, 30, 32)
    # The road is brighter than its verge. Row 20 sees about 15 m ahead, where the steering aims:
    # the middle of its bright pixels lies right of the image centre by f * tan(steering).
    row = img[:, 20]
    centre_of_road = np.array([np.mean(np.flatnonzero(r > (r.max() + r.min()) / 2)) for r in row])
    assert np.corrcoef(centre_of_road, np.tan(np.radians(ds.y)))[0, 1] > 0.98
    assert -20 < ds.y.min() < -8 and 8 < ds.y.max() < 20


def test_reproducible_and_noisy():
    a, b = make_roads(n=5, seed=3), make_roads(n=5, seed=3)
    np.testing.assert_array_equal(a.X, b.X)
    clean, noisy = make_roads(n=50, noise=0.0, seed=1), make_roads(n=50, noise=0.2, seed=1)
    np.testing.assert_array_equal(clean.y, noisy.y)
    assert np.abs(clean.X - noisy.X).mean() > 0.05


def test_bump_peaks_at_the_angle_and_the_centre_of_mass_reads_it_back():
    angles = np.array([-15.0, -3.3, 0.0, 7.7, 16.0])
    bumps = steering_bump(angles, units=30, width=2.0)
    assert bumps.shape == (5, 30) and bumps.max() <= 1.0
    centres = np.linspace(-20, 20, 30)
    np.testing.assert_allclose(centres[bumps.argmax(axis=1)], angles, atol=40 / 29 / 2 + 1e-9)
    np.testing.assert_allclose(steering_from_outputs(bumps)[1:4], angles[1:4], atol=1e-6)
    np.testing.assert_allclose(steering_from_outputs(bumps), angles, atol=0.05)   # cut bumps at the edges
    assert steering_from_outputs(np.zeros((1, 30)))[0] == 0.0
    background = bumps + 0.1                      # a flat floor pulls the plain centre of mass inwards
    assert abs(steering_from_outputs(background)[0]) < 12
    np.testing.assert_allclose(steering_from_outputs(background, around_peak=4)[1:4], angles[1:4], atol=0.2)


@pytest.mark.parametrize("call, message", [
    (lambda: make_roads(n=0), "n"),
    (lambda: make_roads(noise=-1), "noise"),
    (lambda: steering_bump([0.0], width=0), "width"),
    (lambda: steering_from_outputs(np.zeros(30)), r"\(n, units\)"),
    (lambda: steering_from_outputs(np.zeros((1, 30)), around_peak=-1), "around_peak"),
])
def test_bad_input(call, message):
    with pytest.raises(ValueError, match=message):
        call()
