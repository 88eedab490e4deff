"""Synthetic roads for ALVINN: a 30 x 32 "retina" image of the road ahead and the steering direction.

ALVINN (Pomerleau 1989), the network that steered CMU's Navlab ("MLPs in
Action", seed 000), saw the road through a 30 x 32 retina and answered with 30
output units from sharp left to sharp right. This generator draws such
images with a pinhole camera over a flat road:

* the road's centre at distance z ahead is ``x(z) = offset + curvature * z^2 / 2``
  (metres to the right of the car), its ``width`` 5-9 m;
* image row r looks at distance ``z`` from 4 m (bottom row) to 40 m (top
  row); column ``15.5 + f x / z`` with a 60-degree field of view, so the road
  narrows towards the horizon and bends with the curvature;
* road and verge brightness, overall ``lighting``, a shadow gradient across
  the image, and pixel ``noise`` vary from image to image;
* the target is the steering direction, in degrees (right positive), towards
  the road's centre 15 m ahead: ``atan(x(15) / 15)``.

:func:`steering_bump` and :func:`steering_from_outputs` are ALVINN's output
code: a Gaussian bump over the output units centred on the direction, read
back as the bump's centre of mass.

Example:
    >>> ds = make_roads(n=4, seed=0)
    >>> ds.X.shape, ds.y.shape, ds.task
    ((4, 960), (4,), 'regression')
    >>> bool(abs(steering_from_outputs(steering_bump(ds.y)) - ds.y).max() < 0.01)
    True
"""

from __future__ import annotations

import math

import numpy as np

from .._core import as_generator, check_int
from ._checks import check_float_dtype, check_noise
from .dataset import Dataset

__all__ = ["make_roads", "steering_bump", "steering_from_outputs", "ROWS", "COLS", "MAX_STEER", "DESCRIPTION"]

ROWS, COLS = 30, 32                      # ALVINN's retina
MAX_STEER = 20.0                         # degrees at the outermost output units
LOOK_AHEAD = 15.0                        # metres: where the steering aims
_FOCAL = (COLS / 2) / math.tan(math.radians(30))      # 60-degree horizontal field of view
_DEPTH = np.linspace(40.0, 4.0, ROWS)    # distance seen by each row, top (far) to bottom (near)
DESCRIPTION = "synthetic 30x32 road images (curvature, lane position, width, lighting, noise); target: steering degrees"


def _road_parameters(rng, n):
    return {
        "curvature": rng.uniform(-0.012, 0.012, n),    # 1/m: radius of 83 m at the extremes
        "offset": rng.uniform(-2.0, 2.0, n),           # the car's lane position, relative to the road centre
        "width": rng.uniform(5.0, 9.0, n),
        "road": rng.uniform(0.55, 0.9, n),             # brightness of the tarmac
        "verge": rng.uniform(0.05, 0.4, n),            # and of the grass beside it
        "lighting": rng.uniform(0.6, 1.2, n),
        "shadow": rng.uniform(-0.25, 0.25, n),         # brightness change from the left to the right edge
    }


def _render(p, rng, noise):
    z = _DEPTH[None, :, None]
    centre = p["offset"][:, None, None] + 0.5 * p["curvature"][:, None, None] * z ** 2
    col_centre = (COLS - 1) / 2 + _FOCAL * centre / z
    half = _FOCAL * (p["width"][:, None, None] / 2) / z
    cols = np.arange(COLS)[None, None, :]
    # Fraction of each pixel covered by the road: soft, anti-aliased edges.
    cover = np.clip(half - np.abs(cols - col_centre) + 0.5, 0.0, 1.0)
    image = p["verge"][:, None, None] + cover * (p["road"] - p["verge"])[:, None, None]
    ramp = np.linspace(-0.5, 0.5, COLS)[None, None, :]
    image = image * p["lighting"][:, None, None] * (1 + p["shadow"][:, None, None] * 2 * ramp)
    image = image + noise * rng.standard_normal(image.shape)
    return np.clip(image, 0.0, 1.0)


def make_roads(n=1000, noise=0.05, seed=0, dtype=np.float32) -> Dataset:
    """Road images as 960 pixel features (row-major) and the steering direction in degrees.

    Args:
        n: number of images.
        noise: standard deviation of the pixel noise (pixels are in [0, 1]).
        seed: int, None or numpy Generator.
        dtype: floating dtype of ``X``.

    Returns:
        A regression Dataset: ``X`` (n, 960) pixel brightness (reshape rows to (30, 32)),
        ``y`` (n,) steering degrees, right positive, within about +-16.

    Example:
        >>> ds = make_roads(n=200, seed=1)
        >>> ds.X.reshape(-1, 30, 32).shape, bool(ds.X.min() >= 0 and ds.X.max() <= 1)
        ((200, 30, 32), True)
        >>> bool(abs(ds.y).max() < MAX_STEER)
        True
    """
    n = check_int("n", n)
    noise = check_noise(noise)
    dtype = check_float_dtype(dtype)
    rng = as_generator(seed)
    p = _road_parameters(rng, n)
    X = _render(p, rng, noise).reshape(n, ROWS * COLS)
    aim = p["offset"] + 0.5 * p["curvature"] * LOOK_AHEAD ** 2
    y = np.degrees(np.arctan(aim / LOOK_AHEAD))
    names = tuple(f"pixel_{r}_{c}" for r in range(ROWS) for c in range(COLS))
    return Dataset(X.astype(dtype), y.astype(dtype), "regression", name="roads", feature_names=names,
                   description=DESCRIPTION)


def _unit_angles(units):
    return np.linspace(-MAX_STEER, MAX_STEER, check_int("units", units, 2))


def steering_bump(angles, units=30, width=2.0):
    """ALVINN's training targets: a Gaussian bump over ``units`` outputs centred on each angle.

    Args:
        angles: steering directions in degrees, shape (n,).
        units: output units, spread evenly from -MAX_STEER (sharp left) to +MAX_STEER.
        width: the bump's standard deviation in degrees.

    Returns:
        (n, units) array with peak 1 at the unit nearest the angle.

    Example:
        >>> steering_bump([0.0], units=5, width=10.0).round(2)
        array([[0.14, 0.61, 1.  , 0.61, 0.14]])
    """
    centres = _unit_angles(units)
    a = np.asarray(angles, dtype=np.float64).reshape(-1, 1)
    if not (isinstance(width, (int, float)) and width > 0):
        raise ValueError(f"width must be a positive number of degrees, got {width!r}")
    return np.exp(-0.5 * ((centres[None, :] - a) / width) ** 2)


def steering_from_outputs(outputs, around_peak=None):
    """The steering direction read from output activations: their centre of mass over the units' angles.

    Negative activations count as zero.

    Args:
        outputs: (n, units) activations, units from -MAX_STEER to +MAX_STEER.
        around_peak: None uses every unit; an int k uses only the units within k of each
            row's most active one, so a low, flat background does not pull the estimate
            towards straight ahead.

    Returns:
        degrees, shape (n,).

    Example:
        >>> round(float(steering_from_outputs([[0.0, 1.0, 1.0, 0.0]])[0]), 9)   # between units 2 and 3
        0.0
        >>> out = [[0.2, 0.2, 0.2, 0.2, 1.0]]
        >>> steering_from_outputs(out).round(1), steering_from_outputs(out, around_peak=0)
        (array([8.9]), array([20.]))
    """
    out = np.clip(np.asarray(outputs, dtype=np.float64), 0.0, None)
    if out.ndim != 2:
        raise ValueError(f"outputs must have shape (n, units), got {out.shape}")
    if around_peak is not None:
        k = check_int("around_peak", around_peak, 0)
        distance = np.abs(np.arange(out.shape[1])[None, :] - out.argmax(axis=1)[:, None])
        out = np.where(distance <= k, out, 0.0)
    weights = out.sum(axis=1)
    centres = _unit_angles(out.shape[1])
    return np.where(weights > 0, out @ centres / np.maximum(weights, 1e-300), 0.0)
