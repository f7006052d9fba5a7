"""One population over MPI ranks: the few collective steps scsim needs, and a one-rank stand-in.

A run launched by ``mpiexec -n R`` splits its agents over R ranks by whole blocks (``BLOCK``
agents, the unit of the fused kernel's partial records): rank r owns blocks ``cuts[r]`` to
``cuts[r + 1]``, contiguous and increasing with r (``partition``). Records must come out bit for
bit as one process makes them, which adds the blocks' partial records in block order
(``scsim.kernels.blocks.sum_blocks``); ``Comm.fold_blocks`` keeps that order across ranks with a
chained fold: rank 0 starts from its first block, each rank adds its own blocks in order and
passes the running sum on, and the last rank broadcasts it. Plan and status:
docs/design/mpi.md.

``world()`` gives a ``SerialComm`` unless the launcher says there are several ranks, so nothing
imports mpi4py for an ordinary run. mpi4py and an MPI runtime come from PyPI wheels
(``pip install -e '.[mpi]'``, which ``make test`` installs); a cluster's own MPI works too.
"""

from __future__ import annotations

import os
import time
from typing import Any

import numpy as np

from scsim.params import ScenarioError

LAUNCHER_SIZE = ("PMI_SIZE", "OMPI_COMM_WORLD_SIZE")
"""Environment variables by which MPICH's and Open MPI's launchers give the number of ranks."""
LAUNCHER_RANK = ("PMI_RANK", "OMPI_COMM_WORLD_RANK")
"""... and this process's rank."""
LAUNCHER_HERE = ("MPI_LOCALNRANKS", "OMPI_COMM_WORLD_LOCAL_SIZE")
"""... and the number of ranks on this machine."""

POLL_S = 1e-4
"""How long a rank waiting for a message sleeps between checks: MPICH spins in blocking calls,
and with more ranks than cores a spinning rank takes the core the rank it waits for needs."""


def partition(cost_at_block: np.ndarray, ranks: int) -> np.ndarray:
    """Block cuts (``ranks + 1`` of them, from 0 to the number of blocks): rank r owns blocks
    ``cuts[r]`` to ``cuts[r + 1]``, whole and contiguous, with about the same work each.
    ``cost_at_block[b]`` is the work before block b (say, agents plus the graph's edges before
    its first agent), the total last. Rank 0 owns at least one block; with fewer blocks than
    ranks, some own none (they pass the running sum on)."""
    if ranks < 1:
        raise ScenarioError(f"ranks: {ranks} is not allowed; expected at least 1")
    cost = np.asarray(cost_at_block, dtype=np.float64)
    blocks = cost.size - 1
    if blocks < 1 or np.any(np.diff(cost) <= 0):
        raise ValueError("cost_at_block must increase: one entry per block, then the total")
    goals = cost[-1] * np.arange(1, ranks) / ranks
    above = np.searchsorted(cost, goals).clip(1, blocks)  # the first boundary at or past a goal
    below = above - 1
    nearest = np.where(goals - cost[below] < cost[above] - goals, below, above)
    inner = np.maximum.accumulate(nearest.clip(1, blocks))  # rank 0 owns a block
    return np.concatenate([[0], inner, [blocks]]).astype(np.int64)


class SerialComm:
    """One rank: every collective is a copy or nothing."""

    rank = 0
    size = 1

    def fold_blocks(
        self, own: np.ndarray, out: np.ndarray, spans: np.ndarray | None = None
    ) -> None:
        """``out[...]``: the blocks of every rank added in block order (here: ``own``'s; with
        ``spans``, only each block's rows of them, ``sum_blocks``)."""
        from scsim.kernels.blocks import sum_blocks  # numba: not for the launcher's questions

        sum_blocks(own, out, spans=spans)

    def sum_ints(self, values: np.ndarray) -> np.ndarray:
        """Integer arrays added over the ranks."""
        return values

    def bcast(self, value: Any, root: int = 0) -> Any:
        return value

    def gather(self, value: Any, root: int = 0) -> list | None:
        """Every rank's ``value``, in rank order, on ``root`` (None elsewhere)."""
        return [value]

    def allgather(self, value: Any) -> list:
        """Every rank's ``value`` (any picklable object), in rank order, on every rank."""
        return [value]

    def share(self, flat: np.ndarray, counts: np.ndarray, starts: np.ndarray) -> None:
        """In place: rank r's piece ``flat[starts[r] : starts[r] + counts[r]]`` (bytes of a
        contiguous array) copied to every rank."""

    def collect(self, flat: np.ndarray, counts: np.ndarray, starts: np.ndarray) -> None:
        """In place on rank 0: rank r's piece ``flat[starts[r] : starts[r] + counts[r]]``
        (bytes of a contiguous array) copied from every rank (``share`` to rank 0 only)."""

    def alltoall(self, values: list) -> list:
        """``values[r]`` (any picklable object) sent to rank r; what every rank sent this one,
        in rank order."""
        return list(values)

    def exchange(
        self, send: np.ndarray, send_counts: np.ndarray, recv: np.ndarray, recv_counts: np.ndarray
    ) -> None:
        """``send`` (bytes, ``send_counts[r]`` for rank r, in rank order) to the ranks; into
        ``recv`` what each rank sent this one (``recv_counts[r]`` from rank r, in rank order)."""
        recv[...] = send

    def barrier(self) -> None:
        """Nothing to wait for."""


class MpiComm(SerialComm):
    """Several ranks, over mpi4py's ``COMM_WORLD``."""

    def __init__(self, comm: Any) -> None:
        self.comm = comm
        self.rank = comm.Get_rank()
        self.size = comm.Get_size()

    def _wait(self, request: Any) -> None:
        while not request.Test():
            time.sleep(POLL_S)

    def fold_blocks(
        self, own: np.ndarray, out: np.ndarray, spans: np.ndarray | None = None
    ) -> None:
        """The chained fold (module docstring): every rank gets the sum one process makes."""
        from scsim.kernels.blocks import sum_blocks

        flat = out.reshape(-1)  # the running sum, received, carried on and passed on in place
        if self.rank == 0:
            if own.shape[0] == 0:
                raise ValueError("rank 0 owns no block: the partition gives it the first")
            sum_blocks(own, out, spans=spans)
        else:
            self._wait(self.comm.Irecv(flat, source=self.rank - 1, tag=1))
            sum_blocks(own, out, onto=True, spans=spans)
        if self.rank < self.size - 1:
            self._wait(self.comm.Isend(flat, dest=self.rank + 1, tag=1))
        self._wait(self.comm.Ibcast(flat, root=self.size - 1))

    def sum_ints(self, values: np.ndarray) -> np.ndarray:
        from mpi4py import MPI

        out = np.empty_like(values)
        self._wait(self.comm.Iallreduce(values, out, op=MPI.SUM))
        return out

    def bcast(self, value: Any, root: int = 0) -> Any:
        return self.comm.bcast(value, root=root)

    def gather(self, value: Any, root: int = 0) -> list | None:
        return self.comm.gather(value, root=root)

    def allgather(self, value: Any) -> list:
        return self.comm.allgather(value)

    def share(self, flat: np.ndarray, counts: np.ndarray, starts: np.ndarray) -> None:
        from mpi4py import MPI

        self._wait(self.comm.Iallgatherv(MPI.IN_PLACE, [flat, (counts, starts), MPI.BYTE]))

    def alltoall(self, values: list) -> list:
        return self.comm.alltoall(values)

    def collect(self, flat: np.ndarray, counts: np.ndarray, starts: np.ndarray) -> None:
        from mpi4py import MPI

        if self.rank == 0:
            got = [flat, (counts, starts), MPI.BYTE]
            self._wait(self.comm.Igatherv(MPI.IN_PLACE, got, root=0))
        else:
            mine = flat[starts[self.rank] : starts[self.rank] + counts[self.rank]]
            self._wait(self.comm.Igatherv([mine, MPI.BYTE], None, root=0))

    def exchange(
        self, send: np.ndarray, send_counts: np.ndarray, recv: np.ndarray, recv_counts: np.ndarray
    ) -> None:
        from mpi4py import MPI

        send_at = np.concatenate([[0], np.cumsum(send_counts)[:-1]])
        recv_at = np.concatenate([[0], np.cumsum(recv_counts)[:-1]])
        self._wait(self.comm.Ialltoallv(
            [send, (send_counts, send_at), MPI.BYTE], [recv, (recv_counts, recv_at), MPI.BYTE]
        ))  # fmt: skip

    def barrier(self) -> None:
        self._wait(self.comm.Ibarrier())


def _launcher(names: tuple[str, ...], default: int) -> int:
    for name in names:
        if os.environ.get(name, "").isdigit():
            return int(os.environ[name])
    return default


def launched_ranks() -> int:
    """The number of ranks the launcher started (1 when not started by ``mpiexec``)."""
    return _launcher(LAUNCHER_SIZE, 1)


def launched_rank() -> int:
    """This process's rank (0 when not started by ``mpiexec``)."""
    return _launcher(LAUNCHER_RANK, 0) if launched_ranks() > 1 else 0


def ranks_here() -> int:
    """Ranks the launcher started on this machine (all of them, if it does not say)."""
    return _launcher(LAUNCHER_HERE, launched_ranks())


def world() -> SerialComm:
    """This process's ranks: ``SerialComm`` for one, ``MpiComm`` under ``mpiexec -n R``."""
    if launched_ranks() <= 1:
        return SerialComm()
    try:
        from mpi4py import MPI
    except ImportError as e:
        raise ScenarioError(
            f"mpiexec started {launched_ranks()} ranks, but mpi4py cannot be imported ({e}); "
            "install it with: pip install -e '.[mpi]'"
        ) from None
    return MpiComm(MPI.COMM_WORLD)
