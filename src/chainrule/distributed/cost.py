"""The cost model of a ring Allreduce: how long the gradient exchange of one step takes.

In a ring Allreduce over ``N`` ranks each rank sends and receives ``2(N-1)/N`` times the
gradient's bytes per step, in ``2(N-1)`` messages (a reduce-scatter, then an all-gather;
Patarasuk & Yuan 2009, the algorithm Horovod and NCCL use). So the time is about
``2(N-1) * latency + 2(N-1)/N * bytes / bandwidth``: the bandwidth term barely grows with
``N``, the latency term grows linearly and dominates for small models on many ranks.
"""

from __future__ import annotations

from typing import NamedTuple

from .._core import check, check_int

__all__ = ["AllreduceCost", "allreduce_cost"]


class AllreduceCost(NamedTuple):
    """One step's exchange: bytes each rank sends, and the bandwidth, latency and total seconds."""

    bytes_per_rank: float
    bandwidth_seconds: float
    latency_seconds: float

    @property
    def seconds(self):
        return self.bandwidth_seconds + self.latency_seconds


def allreduce_cost(n_params, ranks, gbit_per_s, latency_us=5.0, bytes_per_value=4):
    """The ring Allreduce cost of one step for a model of ``n_params`` parameters.

    Args:
        n_params: number of gradient values exchanged (all parameters: one flat buffer).
        ranks: number of ranks N (>= 1).
        gbit_per_s: link bandwidth per rank, Gbit/s.
        latency_us: one message's latency, microseconds (a few on a fast LAN, less with RDMA).
        bytes_per_value: 4 for float32 gradients.

    Example:
        >>> c = allreduce_cost(1_000_000, ranks=2, gbit_per_s=100, latency_us=0)
        >>> c.bytes_per_rank, round(c.seconds * 1e6)  # 4 MB sent once: 320 us at 12.5 GB/s
        (4000000.0, 320)
    """
    n_params, ranks = check_int("n_params", n_params), check_int("ranks", ranks)
    check("gbit_per_s", gbit_per_s, ">0")
    check("latency_us", latency_us, ">=0")
    sent = 2 * (ranks - 1) / ranks * n_params * check_int("bytes_per_value", bytes_per_value)
    bandwidth = sent * 8 / (gbit_per_s * 1e9)
    latency = 2 * (ranks - 1) * latency_us * 1e-6
    return AllreduceCost(float(sent), bandwidth, latency)
