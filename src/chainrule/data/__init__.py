"""Data for chainrule: built-in data sets, file loaders, batching, splits and scaling.

Pure NumPy; scikit-learn is needed only for the ``digits`` set.

Example:
    >>> from chainrule.data import load_dataset, split_dataset, StandardScaler, DataLoader
    >>> parts = split_dataset(load_dataset("moons", n=200, noise=0.1), test=0.25, stratify=True)
    >>> scaler = StandardScaler().fit(parts.train.X)
    >>> loader = DataLoader(scaler.transform(parts.train.X), parts.train.y, batch_size=32, seed=0)
    >>> len(loader)
    5
"""

from .batching import DataLoader, batches
from .boolean import truth_table
from .csv_io import load_csv
from .dataset import Dataset
from .digits import load_digits
from .idx import load_idx, load_mnist
from .npz_io import load_npz
from .parabola import make_parabola, parabola_orderings
from .playground import (
    make_circle,
    make_gaussian,
    make_moons,
    make_multi_gaussian,
    make_plane,
    make_spiral,
    make_xor,
)
from .playground import make_blobs3, make_spiral3
from .registry import DATASETS, DatasetSpec, list_datasets, load_dataset, register_dataset
from .scaling import MinMaxScaler, StandardScaler, scaler_from_dict
from .splits import Split, split, split_dataset, split_indices, train_test_split
from .targets import one_hot

__all__ = [
    "DATASETS",
    "DataLoader",
    "Dataset",
    "DatasetSpec",
    "MinMaxScaler",
    "Split",
    "StandardScaler",
    "batches",
    "list_datasets",
    "load_csv",
    "load_dataset",
    "load_digits",
    "load_idx",
    "load_mnist",
    "load_npz",
    "make_circle",
    "make_gaussian",
    "make_moons",
    "make_multi_gaussian",
    "make_parabola",
    "make_plane",
    "make_spiral",
    "make_xor",
    "one_hot",
    "parabola_orderings",
    "register_dataset",
    "scaler_from_dict",
    "split",
    "split_dataset",
    "split_indices",
    "train_test_split",
    "truth_table",
    "make_spiral3",
    "make_blobs3",
]
