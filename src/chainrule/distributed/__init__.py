"""Beyond one machine: data-parallel training on MPI and parallel hyper-parameter search on Dask.

* :class:`DataParallel` (:mod:`.mpi`, extra ``chainrule[mpi]``): synchronous data-parallel SGD,
  one ``Allreduce`` of a flat gradient buffer per step; used by ``cr.fit(..., distributed="mpi")``
  and ``chainrule train DATA --workers N``.
* :func:`search` (:mod:`.search`, extra ``chainrule[dask]``): grid or random search over recipe
  settings, one ``cr.fit`` per trial, on a Dask cluster.
* :func:`allreduce_cost` (:mod:`.cost`): what a ring Allreduce costs per step, to plan a cluster.

Example:
    >>> from chainrule.distributed import allreduce_cost
    >>> round(allreduce_cost(n_params=669_706, ranks=8, gbit_per_s=10).seconds * 1e3, 2)  # ms per step
    3.82
"""

from __future__ import annotations

from .._core import Registry
from .cost import AllreduceCost, allreduce_cost
from .mpi import DataParallel, require_mpi
from .search import SearchResult, sample_space, search

__all__ = ["DataParallel", "require_mpi", "search", "SearchResult", "sample_space", "allreduce_cost",
           "AllreduceCost", "PARALLEL", "resolve_parallel"]

#: ``fit(distributed=NAME)`` -> the class that runs it.
PARALLEL = Registry("distributed backend")
PARALLEL.register(DataParallel, name="mpi")


def resolve_parallel(distributed):
    """None, a :data:`PARALLEL` name or a ready object (anything with ``make_step`` and ``shard``)."""
    if distributed is None:
        return None
    if isinstance(distributed, str):
        return PARALLEL[distributed]()
    if hasattr(distributed, "make_step") and hasattr(distributed, "shard"):
        return distributed
    raise TypeError(f"distributed must be None, one of {sorted(PARALLEL)} or a DataParallel, got {distributed!r}")
