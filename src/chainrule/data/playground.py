"""Two-dimensional toy sets in the style of the TensorFlow Playground.

The generators follow the Playground's published description of its data:
points live in the square [-6, 6] x [-6, 6], ``noise`` is the Playground's
noise slider as a fraction (its 0-50 % range is ``0.0``-``0.5``), and the
default sizes are the Playground's 500 points for classification and 1,200
for regression. Labels are 0/1 where the Playground uses -1/+1 (its positive
class is label 1). ``moons`` is not a Playground set; it is drawn to the same
scale so that it can be swapped in freely.

Every generator takes ``seed`` (int, ``None`` or a numpy Generator) and
``dtype`` (floating dtype of ``X``; regression targets use it too).
"""

from __future__ import annotations

import numpy as np

from .._core import as_generator, check_int
from ._checks import check_float_dtype, check_noise
from .dataset import Dataset

HALF_WIDTH = 6.0
CLASSIFY_SAMPLES = 500
REGRESS_SAMPLES = 1200
_BINARY = ("negative", "positive")


def _halves(n: int) -> tuple[int, int]:
    n = check_int("n", n)
    if n < 2:
        raise ValueError(f"n must be at least 2 so that both classes get a point, got {n}")
    return n - n // 2, n // 2


def _classification(name, points, positive, dtype, description, class_names=_BINARY):
    dtype = check_float_dtype(dtype)
    # Gaussian tails can leave the Playground square; clipping keeps the
    # documented domain exact at the cost of a few points on its border.
    X = np.clip(points, -HALF_WIDTH, HALF_WIDTH).astype(dtype)
    return Dataset(
        X, np.asarray(positive, dtype=np.int64), "classification", name=name,
        feature_names=("x1", "x2"), class_names=class_names, description=description,
    )


def _regression(name, points, target, dtype, description):
    dtype = check_float_dtype(dtype)
    return Dataset(
        points.astype(dtype), target.astype(dtype), "regression", name=name,
        feature_names=("x1", "x2"), description=description,
    )


def _polar(radius, angle):
    return np.stack([radius * np.sin(angle), radius * np.cos(angle)], axis=1)


def _label_jitter(rng, n, noise, scale):
    # The Playground perturbs the position used to compute a label, not the
    # stored point, so noise shows up as mislabelled points near boundaries.
    return rng.uniform(-scale, scale, size=(n, 2)) * noise


def make_circle(n=CLASSIFY_SAMPLES, noise=0.0, seed=0, dtype=np.float32) -> Dataset:
    """Points inside a disc of radius 2.5 (label 1) and in a ring from 3.5 to 5 (label 0).

    Returns a classification Dataset with ``X`` of shape ``(n, 2)``.

    Example:
        >>> ds = make_circle(n=100, seed=1)
        >>> ds.X.shape, sorted(set(ds.y.tolist()))
        ((100, 2), [0, 1])
    """
    n_in, n_out = _halves(n)
    noise, rng, radius = check_noise(noise), as_generator(seed), 5.0
    r = np.concatenate([rng.uniform(0, radius * 0.5, n_in), rng.uniform(radius * 0.7, radius, n_out)])
    points = _polar(r, rng.uniform(0, 2 * np.pi, n_in + n_out))
    seen = points + _label_jitter(rng, len(points), noise, radius)
    inside = np.hypot(seen[:, 0], seen[:, 1]) < radius * 0.5
    return _classification("circle", points, inside, dtype, DESCRIPTIONS["circle"])


def make_xor(n=CLASSIFY_SAMPLES, noise=0.0, seed=0, dtype=np.float32) -> Dataset:
    """Points in the four quadrants, label 1 where x1 and x2 share a sign.

    Coordinates are drawn from [-5, 5] and pushed 0.3 away from the axes, as
    in the Playground, so that the classes do not touch when ``noise`` is 0.

    Example:
        >>> ds = make_xor(n=200, seed=0)
        >>> bool(((ds.X[:, 0] * ds.X[:, 1] > 0) == (ds.y == 1)).all())
        True
    """
    n = check_int("n", n)
    noise, rng, padding = check_noise(noise), as_generator(seed), 0.3
    points = rng.uniform(-5, 5, size=(n, 2))
    points += np.where(points > 0, padding, -padding)
    seen = points + _label_jitter(rng, n, noise, 5.0)
    return _classification("xor-playground", points, seen[:, 0] * seen[:, 1] >= 0, dtype,
                           DESCRIPTIONS["xor-playground"])


def make_gaussian(n=CLASSIFY_SAMPLES, noise=0.0, seed=0, dtype=np.float32) -> Dataset:
    """Two Gaussian blobs centred on (2, 2) (label 1) and (-2, -2) (label 0).

    The variance grows linearly with ``noise``, from 0.5 at 0 to 4 at 0.5.

    Example:
        >>> ds = make_gaussian(n=1000, seed=0)
        >>> ds.X[ds.y == 1].mean(axis=0).round().tolist()
        [2.0, 2.0]
    """
    n_pos, n_neg = _halves(n)
    noise, rng = check_noise(noise), as_generator(seed)
    std = np.sqrt(0.5 + 3.5 * noise / 0.5)
    points = np.concatenate([
        rng.normal(2.0, std, size=(n_pos, 2)), rng.normal(-2.0, std, size=(n_neg, 2))
    ])
    labels = np.arange(n_pos + n_neg) < n_pos
    return _classification("gaussian", points, labels, dtype, DESCRIPTIONS["gaussian"])


def make_spiral(n=CLASSIFY_SAMPLES, noise=0.0, seed=0, dtype=np.float32) -> Dataset:
    """Two interleaved spirals of 1.75 turns out to radius 5; label 1 is the first arm.

    ``noise`` moves each point by up to ``noise`` in each coordinate.

    Example:
        >>> ds = make_spiral(n=300, noise=0.1, seed=0)
        >>> ds.X.shape, int(ds.y.sum())
        ((300, 2), 150)
    """
    n_a, n_b = _halves(n)
    noise, rng = check_noise(noise), as_generator(seed)
    arms = []
    for count, offset in ((n_a, 0.0), (n_b, np.pi)):
        fraction = np.arange(count) / count
        angle = 1.75 * fraction * 2 * np.pi + offset
        arms.append(_polar(5 * fraction, angle) + rng.uniform(-1, 1, size=(count, 2)) * noise)
    labels = np.arange(n_a + n_b) < n_a
    return _classification("spiral", np.concatenate(arms), labels, dtype, DESCRIPTIONS["spiral"])


def make_moons(n=CLASSIFY_SAMPLES, noise=0.0, seed=0, dtype=np.float32) -> Dataset:
    """Two interleaving half circles, scaled to the Playground square.

    Label 0 is the upper moon, label 1 the lower one. ``noise`` is the standard
    deviation of Gaussian jitter in units of the moon radius (3.5).

    Example:
        >>> ds = make_moons(n=100, seed=0)
        >>> ds.class_names
        ('upper', 'lower')
    """
    n_up, n_down = _halves(n)
    noise, rng, scale = check_noise(noise), as_generator(seed), 3.5
    t_up, t_down = rng.uniform(0, np.pi, n_up), rng.uniform(0, np.pi, n_down)
    upper = np.stack([np.cos(t_up), np.sin(t_up)], axis=1)
    lower = np.stack([1 - np.cos(t_down), 0.5 - np.sin(t_down)], axis=1)
    # Centre the unit-radius pair on the origin before scaling to radius 3.5.
    points = (np.concatenate([upper, lower]) - [0.5, 0.25]) * scale
    points += rng.normal(0.0, noise * scale, size=points.shape)
    labels = np.arange(n_up + n_down) >= n_up
    return _classification("moons", points, labels, dtype, DESCRIPTIONS["moons"],
                           class_names=("upper", "lower"))


def make_plane(n=REGRESS_SAMPLES, noise=0.0, seed=0, dtype=np.float32) -> Dataset:
    """Uniform points with target (x1 + x2) / 10, a tilted plane (about -1.2 to 1.2).

    Example:
        >>> ds = make_plane(n=50, seed=0)
        >>> bool(abs(ds.y - ds.X.sum(axis=1) / 10).max() < 1e-6)
        True
    """
    n = check_int("n", n)
    noise, rng = check_noise(noise), as_generator(seed)
    points = rng.uniform(-HALF_WIDTH, HALF_WIDTH, size=(n, 2))
    seen = points + _label_jitter(rng, n, noise, HALF_WIDTH)
    return _regression("plane", points, seen.sum(axis=1) / 10.0, dtype, DESCRIPTIONS["plane"])


_BUMPS = np.array([
    [-4.0, 2.5, 1.0], [0.0, 2.5, -1.0], [4.0, 2.5, 1.0],
    [-4.0, -2.5, -1.0], [0.0, -2.5, 1.0], [4.0, -2.5, -1.0],
])


def make_multi_gaussian(n=REGRESS_SAMPLES, noise=0.0, seed=0, dtype=np.float32) -> Dataset:
    """Uniform points whose target comes from six signed bumps on a 3 x 2 grid.

    Each bump falls linearly from +-1 at its centre to 0 at distance 2; the
    target is the bump value of largest magnitude, so it lies in [-1, 1].

    Example:
        >>> ds = make_multi_gaussian(n=400, seed=0)
        >>> bool(ds.y.min() >= -1 and ds.y.max() <= 1)
        True
    """
    n = check_int("n", n)
    noise, rng = check_noise(noise), as_generator(seed)
    points = rng.uniform(-HALF_WIDTH, HALF_WIDTH, size=(n, 2))
    seen = points + _label_jitter(rng, n, noise, HALF_WIDTH)
    distance = np.linalg.norm(seen[:, None, :] - _BUMPS[None, :, :2], axis=2)
    values = _BUMPS[:, 2] * np.clip(1.0 - distance / 2.0, 0.0, 1.0)
    strongest = np.abs(values).argmax(axis=1)
    target = values[np.arange(n), strongest]
    return _regression("multi-gaussian", points, target, dtype, DESCRIPTIONS["multi-gaussian"])


def _thirds(n: int) -> list:
    n = check_int("n", n)
    if n < 3:
        raise ValueError(f"n must be at least 3 so that each of the three classes gets a point, got {n}")
    return [n // 3 + (1 if k < n % 3 else 0) for k in range(3)]


_CLASS_NAMES_3 = ("class 0", "class 1", "class 2")


def make_spiral3(n=CLASSIFY_SAMPLES, noise=0.0, seed=0, dtype=np.float32) -> Dataset:
    """Three interleaved spiral arms (labels 0, 1, 2), the two-arm spiral's rule with arms 2pi/3 apart.

    Each arm makes 1.75 turns out to radius 5; ``noise`` moves each point by up
    to ``noise`` in each coordinate, as in :func:`make_spiral`.

    Example:
        >>> ds = make_spiral3(n=300, seed=0)
        >>> ds.X.shape, [int((ds.y == k).sum()) for k in range(3)]
        ((300, 2), [100, 100, 100])
    """
    counts = _thirds(n)
    noise, rng = check_noise(noise), as_generator(seed)
    arms = []
    for k, count in enumerate(counts):
        fraction = np.arange(count) / count
        angle = 1.75 * fraction * 2 * np.pi + k * 2 * np.pi / 3
        arms.append(_polar(5 * fraction, angle) + rng.uniform(-1, 1, size=(count, 2)) * noise)
    labels = np.repeat(np.arange(3), counts)
    return _classification("spiral-3", np.concatenate(arms), labels, dtype, DESCRIPTIONS["spiral-3"],
                           class_names=_CLASS_NAMES_3)


def make_blobs3(n=CLASSIFY_SAMPLES, noise=0.0, seed=0, dtype=np.float32) -> Dataset:
    """Three Gaussian blobs (labels 0, 1, 2) centred 3.5 from the origin, 120 degrees apart.

    The variance grows with ``noise`` as in :func:`make_gaussian`: 0.5 at 0, 4 at 0.5.

    Example:
        >>> ds = make_blobs3(n=900, seed=0)
        >>> [round(float(v), 1) for v in ds.X[ds.y == 0].mean(axis=0)]
        [-0.1, 3.5]
    """
    counts = _thirds(n)
    noise, rng = check_noise(noise), as_generator(seed)
    std = np.sqrt(0.5 + 3.5 * noise / 0.5)
    centres = _polar(np.full(3, 3.5), np.arange(3) * 2 * np.pi / 3)
    points = np.concatenate([rng.normal(c, std, size=(count, 2)) for c, count in zip(centres, counts)])
    labels = np.repeat(np.arange(3), counts)
    return _classification("gaussian-3", points, labels, dtype, DESCRIPTIONS["gaussian-3"], class_names=_CLASS_NAMES_3)


DESCRIPTIONS = {
    "circle": "TensorFlow Playground circle: a disc of one class inside a ring of the other",
    "xor-playground": "TensorFlow Playground XOR: 2-D points labelled by whether x1 and x2 share a sign",
    "gaussian": "TensorFlow Playground Gaussian: two blobs at (2, 2) and (-2, -2)",
    "spiral": "TensorFlow Playground spiral: two interleaved spiral arms",
    "moons": "two interleaving half circles in the Playground square",
    "plane": "TensorFlow Playground plane: regression on (x1 + x2) / 10",
    "multi-gaussian": "TensorFlow Playground multi-Gaussian: regression on six signed bumps",
    "spiral-3": "three interleaved spiral arms, one class each (multi-class Playground set)",
    "gaussian-3": "three Gaussian blobs 120 degrees apart, one class each (multi-class Playground set)",
}

GENERATORS = {
    "circle": make_circle,
    "xor-playground": make_xor,
    "gaussian": make_gaussian,
    "spiral": make_spiral,
    "moons": make_moons,
    "plane": make_plane,
    "multi-gaussian": make_multi_gaussian,
    "spiral-3": make_spiral3,
    "gaussian-3": make_blobs3,
}
