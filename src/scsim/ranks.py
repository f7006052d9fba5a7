"""The part of a run this process steps, and what it exchanges with the other MPI ranks.

One process runs every block. Under ``mpiexec -n R`` (``scsim.mpi.world``), rank r runs the
fused kernel over its own contiguous blocks only (``scsim.mpi.partition``, balanced by agents
plus friendship ties), and every rank keeps the whole population: after each day's pass the
ranks copy each other's part of the state that citizens read across ranks (published scores
and flags, and the people fields modules declare in ``Module.shared``), fold the day's records
in block order and add the histograms, so every rank starts the next day, and runs each
module's serial ``finish``, on the same values one process has. At the end every rank gathers
the whole final state, the audit sample and its events, so the outputs are byte for byte one
process's (docs/design/mpi.md, §5.3; tests/test_mpi_run.py).

When no module reaches beyond its citizens' ties (``Module.reach``), the day's copy is a halo:
each rank receives only the published state (and the shared fields) of the citizens its own
citizens are tied to (``Halo``), not everyone's. On a Watts-Strogatz network such a rank can
then build and keep only its own citizens (``keeping_ranks``, ``Sim.keep_own``): its arrays stay
indexed by national ID, written only at its own citizens and the halo's, so the rest of each is
zero pages that use no memory; at the end rank 0 writes the people file group by group, each
group's rows sent by their owners (``rows_to_root``), and keeps whole only the columns the
report reads. With
``SCSIM_MPI_SYNC_ALL=1`` the ranks copy every per-agent array each day instead: a check that no
module reads another citizen's private state without declaring it. With ``SCSIM_MPI_POISON=1`` a
rank's copies of the citizens it neither runs nor receives are filled with 0xFF bytes after each
halo (NaN scores, every flag set): a check that no module reads beyond its declared reach.

A checkpoint (``Sim.save_checkpoint``) is one process's: before it, every rank gets every
citizen's state and the whole audit log (``whole``), rank 0 writes it, and each rank goes back
to its own log. So any number of ranks resumes it (``own_events`` keeps each rank's share of the
log it reads).
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import numpy as np

from scsim.events import EventLog
from scsim.fusion import BLOCK
from scsim.kernels.blocks import block_rows, sum_blocks
from scsim.kernels.halo import gather, scatter
from scsim.mpi import SerialComm, partition
from scsim.params import ScenarioError
from scsim.protocol import EVENT_FIELDS, Module

Sim = Any
"""A ``scsim.engine.Sim``, which holds its ``Ranks`` (so it is not imported here)."""

WAVE_BLOCKS = 1024
"""Blocks one process runs in a pass before it folds their records (``Ranks.passes``): the
per-block records are held for so many blocks (2 M citizens), not for every one (at 100 M
citizens and 31 regions of 105 records, 1.3 GB)."""

SYNC_ALL = "SCSIM_MPI_SYNC_ALL"
"""Environment variable: copy every per-agent array between ranks each day (a check)."""
POISON = "SCSIM_MPI_POISON"
"""Environment variable: fill what a rank neither runs nor receives with 0xFF (a check)."""


def keeping_ranks(
    comm: SerialComm, n: int, network: str, modules: list[Module]
) -> Ranks | None:
    """The ranks, cut by citizens alone, when this one can build and keep only its own
    citizens (``Ranks.keeps_own``), else None."""
    ranks = Ranks(comm, None, n)
    return ranks if ranks.keeps_own(network, modules) else None


def _syncing_all() -> bool:
    return os.environ.get(SYNC_ALL, "") not in ("", "0")


def halo_exchange(modules: list[Module]) -> bool:
    """Whether the day's exchange over several ranks can be a halo: no module reaching
    "anyone" (``Module.reach``), no ``SCSIM_MPI_SYNC_ALL``."""
    return not (_syncing_all() or any(m.reach == "anyone" for m in modules))


def keeps_own_possible(network: str, modules: list[Module]) -> bool:
    """Whether ranks can each build and keep only their own citizens: on a Watts-Strogatz
    network (whose rows a rank builds alone), when the day's exchange will be a halo
    (``halo_exchange``)."""
    return network == "watts-strogatz" and halo_exchange(modules)


def whole_arrays(sim: Sim) -> list[np.ndarray]:
    """The per-citizen arrays a rank that keeps only its own citizens still holds for every
    citizen: the published scores and flags and the arrays modules share (the halo writes
    them at ids scattered over the whole population). ``tests/test_mpi_run.py`` checks the
    list against the pages a rank writes; ``scsim.plan`` counts them in full on every rank."""
    return [*_published(sim), *(a for m in sim.modules for a in m.shared_arrays())]


def ids_dtype(n: int) -> type:
    """The narrowest type that holds every citizen id of a population of ``n``: uint32 up to
    4.29 billion citizens (a halo's ids then take half the memory of int64 ones)."""
    return np.uint32 if n <= np.iinfo(np.uint32).max + 1 else np.int64


@dataclass
class Halo:
    """A rank's part of the day's halo: the ids of its own citizens other ranks read, grouped
    by the rank that reads them, and the ids it reads of other ranks' citizens (ascending, so
    grouped by their rank), with the count for each rank."""

    gives: np.ndarray
    give_counts: np.ndarray
    takes: np.ndarray
    take_counts: np.ndarray
    seen: np.ndarray | None = None
    """With ``SCSIM_MPI_POISON``: True where the rank runs or receives the citizen."""


class Ranks:
    """This process's share of a run: its blocks and citizens, and the exchanges with the
    other ranks (nothing to exchange for one process)."""

    def __init__(self, comm: SerialComm, graph: Any, n: int) -> None:
        """``graph`` None: the ranks are cut by citizens alone (before a rank builds only its
        own citizens' ties, ``keeps_own``), else by citizens plus ties."""
        self.comm = comm
        self.n = n
        n_blocks = -(-n // BLOCK)
        starts = np.minimum(np.arange(n_blocks + 1, dtype=np.int64) * BLOCK, n)
        cost = starts if graph is None else starts + graph.ties_before(starts)
        self.cuts = partition(cost.astype(np.float64), comm.size)
        self.starts = starts[self.cuts]
        """First citizen of each rank's range, then n."""
        r = comm.rank
        self.first_block, self.end_block = int(self.cuts[r]), int(self.cuts[r + 1])
        self.lo, self.hi = int(self.starts[r]), int(self.starts[r + 1])
        self.sync_all = _syncing_all()
        self.halo: Halo | None = None
        """The day's exchange when it is a halo (``plan_halo``); None: everyone's state."""
        self.received_bytes = 0
        """Bytes this rank received in the days' exchanges so far (``share_day``)."""

    def refuse(self, modules: list[Module]) -> None:
        """Refuse modules that cannot yet run over several ranks (``Module.splits``)."""
        whole = [m.name for m in modules if not m.splits]
        if whole and not self.alone:
            raise ScenarioError(
                f"modules.{whole[0]}: cannot run over {self.comm.size} MPI ranks yet "
                "(docs/design/mpi.md); run it in one process"
            )

    def keeps_own(self, network: str, modules: list[Module]) -> bool:
        """Whether this rank can build and keep only its own citizens: over several ranks,
        when ``keeps_own_possible``."""
        return not self.alone and keeps_own_possible(network, modules)

    def halo_possible(self, modules: list[Module]) -> bool:
        """Whether the day's exchange can be a halo: over several ranks, ``halo_exchange``."""
        return not (self.alone or self.sync_all) and halo_exchange(modules)

    def largest(self, value: int) -> int:
        """The largest of every rank's ``value``."""
        return value if self.alone else max(self.comm.allgather(int(value)))

    def add_counts(self, counts: np.ndarray) -> np.ndarray:
        """Integer-valued ``counts`` (any dtype) added over the ranks, exactly."""
        if self.alone:
            return counts
        return self.comm.sum_ints(np.asarray(counts, dtype=np.int64)).astype(counts.dtype)

    def network_bytes(self, graph: Any) -> int:
        """Bytes of the network as one process holds it, when each rank built only its own
        citizens' ties: the arrays of an entry per citizen once, every rank's ties."""
        ties = sum(self.comm.allgather(int(graph.tie_bytes)))
        return graph.nbytes - graph.tie_bytes + ties

    def plan_halo(self, graph: Any, modules: list[Module]) -> None:
        """Make the day's exchange a halo (``Halo``) when no module reaches "anyone"
        (``Module.reach``): each rank tells each other which of its citizens it reads."""
        self.halo = None
        if not self.halo_possible(modules):
            return
        takes = np.unique(np.concatenate(
            [graph.ghosts(self.lo, self.hi), *(m.ghosts(self.lo, self.hi) for m in modules)]
        )).astype(ids_dtype(self.n))  # fmt: skip
        owner = np.searchsorted(self.starts, takes, side="right") - 1
        asked = self.comm.alltoall([takes[owner == r] for r in range(self.comm.size)])
        self.halo = Halo(
            gives=np.concatenate(asked).astype(takes.dtype, copy=False),
            give_counts=np.array([a.size for a in asked], dtype=np.int64),
            takes=takes,
            take_counts=np.bincount(owner, minlength=self.comm.size).astype(np.int64),
        )
        if os.environ.get(POISON, "") not in ("", "0"):
            self.halo.seen = np.zeros(self.n, dtype=np.bool_)
            self.halo.seen[self.lo : self.hi] = True
            self.halo.seen[takes] = True

    @property
    def exchange(self) -> str:
        """What the day's exchange copies: "none" (one process), "halo" or "everyone"."""
        return "none" if self.alone else "halo" if self.halo is not None else "everyone"

    def share_day(self, sim: Sim) -> None:
        """After a day's pass: copy what citizens read across ranks (the published scores and
        flags and the people fields modules declare ``shared``: the halo's, or everyone's;
        with ``sync_all``, every per-agent array)."""
        if self.alone:
            return
        if self.sync_all:
            self.share(_every_array(sim))
            return
        arrays = whole_arrays(sim)
        if self.halo is None:
            self.share(arrays)
            own = (self.hi - self.lo) / self.n
            self.received_bytes += round(sum(a.nbytes for a in arrays) * (1 - own))
            return
        for a in arrays:
            for row in a.reshape(-1, self.n):
                self._halo_row(row)

    def _halo_row(self, row: np.ndarray) -> None:
        """The halo of one row of a per-agent array, in place (then the poison, if asked)."""
        h, width = self.halo, row.itemsize
        sent = np.empty(h.gives.size, dtype=row.dtype)
        gather(row, h.gives, sent)
        got = np.empty(h.takes.size, dtype=row.dtype)
        self.comm.exchange(
            sent.view(np.uint8), h.give_counts * width, got.view(np.uint8), h.take_counts * width
        )
        scatter(row, h.takes, got)
        self.received_bytes += got.nbytes
        if h.seen is not None:
            row.view(np.uint8).reshape(self.n, width)[~h.seen] = 0xFF

    def share_start(self, sim: Sim) -> None:
        """Before the first day, on a rank that built only its own citizens (``keeps_own``):
        the initial published state and shared fields of the citizens its halo receives."""
        received = self.received_bytes
        self.share_day(sim)
        self.received_bytes = received

    def share_end(self, sim: Sim) -> None:
        """After the last day: every rank gets the whole final state, audit sample and events
        (not the state when each rank kept only its own citizens: ``rows_to_root`` sends it to
        rank 0 a row group at a time as rank 0 writes it)."""
        if self.alone:
            return
        if sim.people.kept is None:
            self.share(_state(sim))
        self.gather_events(sim.events)

    def rows_to_root(
        self, columns: list[np.ndarray], group: int, keep: frozenset[int] = frozenset()
    ) -> Iterator[tuple[int, int, list[np.ndarray] | None]]:
        """Every rank walks the citizens ``group`` at a time, yielding (start, stop, rows):
        on rank 0 ``rows`` holds each of the 1-D per-agent ``columns``' entries of citizens
        ``start`` to ``stop``, sent by the ranks that own them (None on other ranks). The
        columns numbered in ``keep`` get them in place on rank 0 too: whole at the end."""
        root = self.comm.rank == 0
        for start in range(0, self.n, group):
            stop = min(start + group, self.n)
            lo = self.starts[:-1].clip(start, stop)
            counts = self.starts[1:].clip(start, stop) - lo
            rows = []
            for k, a in enumerate(columns):
                part = a[start:stop]
                if root and k not in keep:  # a fresh group, holding rank 0's own entries
                    own = slice(lo[0] - start, lo[0] - start + counts[0])
                    part = np.empty_like(part)
                    part[own] = a[lo[0] : lo[0] + counts[0]]
                if not self.alone:
                    flat = part.view(np.uint8)
                    self.comm.collect(flat, counts * a.itemsize, (lo - start) * a.itemsize)
                rows.append(part)
            yield start, stop, rows if root else None

    @contextmanager
    def whole(self, sim: Sim) -> Iterator[None]:
        """While a checkpoint is taken: every rank holds every citizen's state and the whole
        audit log, as one process does; afterwards this rank's own log is put back (a resumed
        run gathers each rank's events once)."""
        if self.alone:
            yield
            return
        events = sim.events
        own = events.rows(), events.dropped
        self.share(_every_array(sim))
        self.gather_events(events)
        try:
            yield
        finally:
            events.replace(*own)

    def own_events(self, events: EventLog) -> None:
        """After loading a checkpoint: keep the events of this rank's citizens only (rank 0
        counts the events dropped so far), so the end's gather makes the log once."""
        if self.alone or not events.size:
            return
        rows = events.rows()
        citizen = rows[:, EVENT_FIELDS.index("citizen")]
        mine = (citizen >= self.lo) & (citizen < self.hi)
        events.replace(rows[mine], events.dropped if self.comm.rank == 0 else 0)

    @property
    def alone(self) -> bool:
        """True when this process runs the whole population."""
        return self.comm.size == 1

    @property
    def blocks(self) -> tuple[int, int] | None:
        """The kernel's block range: this rank's, or None (every block) for one process."""
        return None if self.alone else (self.first_block, self.end_block)

    @property
    def passes(self) -> list[tuple[int, int]]:
        """The block ranges of a day, each run and then folded (``fold``): one process runs its
        blocks in waves of ``WAVE_BLOCKS``; a rank runs its own at once, as its fold is chained
        to the ranks before it."""
        if not self.alone:
            return [(self.first_block, self.end_block)]
        return [
            (first, min(first + WAVE_BLOCKS, self.end_block))
            for first in range(0, self.end_block, WAVE_BLOCKS)
        ]

    def fold(self, own: np.ndarray, out: np.ndarray, first: int, spans: np.ndarray) -> None:
        """``out``: the records of the day's blocks added in block order, over every rank;
        ``own``: those of this pass, from block ``first`` (one process adds them to the
        passes before it; a rank, to the ranks before it), each block's rows of ``spans``
        (every block's, ``region_spans``)."""
        mine = spans[first : first + own.shape[0]]
        if self.alone:
            sum_blocks(own, out, onto=first > 0, spans=mine)
        else:
            self.comm.fold_blocks(own, out, mine)

    def add_histograms(self, hist: np.ndarray, out: np.ndarray) -> None:
        """``out``: the day's per-block score counts added over every rank."""
        sum_blocks(hist[self.first_block : self.end_block], out)
        if not self.alone:
            out[...] = self.comm.sum_ints(out)

    def rows(self, buffer: np.ndarray) -> np.ndarray:
        """The rows every block wrote to ``buffer`` (``scsim.kernels.blocks.block_rows``), in
        block order over every rank."""
        if self.alone:
            return block_rows(buffer)
        mine = block_rows(buffer[self.first_block : self.end_block])
        return np.concatenate(self.comm.allgather(mine))

    def share(self, arrays: Iterable[np.ndarray]) -> None:
        """Copy each rank's citizens' entries of per-agent ``arrays`` (citizens on the last
        axis, C-contiguous) to every rank, in place."""
        if self.alone:
            return
        for a in arrays:
            if not a.flags.c_contiguous:
                raise ValueError("shared per-agent arrays must be C-contiguous")
            for row in a.reshape(-1, self.n):
                self.share_rows(row, self.starts)

    def share_rows(self, a: np.ndarray, starts: np.ndarray) -> None:
        """Copy rank r's rows ``a[starts[r] : starts[r + 1]]`` (rows on the first axis) to every
        rank, in place."""
        if self.alone:
            return
        width = a.nbytes // max(a.shape[0], 1)
        self.comm.share(a.reshape(-1).view(np.uint8), np.diff(starts) * width, starts[:-1] * width)

    def gather_events(self, events: EventLog) -> None:
        """Every rank's audit events and audit sample rows, on every rank, in the order one
        process logs them: by day, then block, then emission."""
        if self.alone or not events.size:
            return
        starts = -(-self.starts // events.stride)  # each rank's first audited row, then the end
        for by_day in (events.score_by_day, events.parts_by_day):
            by_citizen = np.ascontiguousarray(np.moveaxis(by_day, 1, 0))  # citizens first
            self.share_rows(by_citizen, starts)
            by_day[...] = np.moveaxis(by_citizen, 0, 1)
        rows = np.concatenate(self.comm.allgather(events.rows()))
        order = np.argsort(rows[:, 0], kind="stable")  # day; the ranks hold blocks in order
        dropped = self.comm.sum_ints(np.array([events.dropped], dtype=np.int64))
        events.replace(rows[order], int(dropped[0]))


def _per_agent(a: object, n: int) -> bool:
    return isinstance(a, np.ndarray) and a.shape[-1:] == (n,) and a.flags.c_contiguous


def _published(sim: Sim) -> list[np.ndarray]:
    flags = sim.published_flags()
    return [sim.published_scores(), *([] if flags is None else [flags])]


def _state(sim: Sim) -> list[np.ndarray]:
    """Every per-agent array the outputs read: published state, score components, people."""
    return [*_published(sim), sim.parts, *sim.people.fields.values()]


def _every_array(sim: Sim) -> list[np.ndarray]:
    """Every per-agent array: ``_state``, each module's declared state and the arrays it
    shares or rebuilds (shunning's ``hurt``, sanctions' ``fam_hit``: not declared state)."""
    arrays = _state(sim)
    arrays += [a for m in sim.modules for a in m.state.values() if _per_agent(a, sim.n)]
    known = {id(a) for a in arrays}
    extra = [a for m in sim.modules for a in (*m.shared_arrays(), *m.rebuilt_arrays())]
    return arrays + [a for a in extra if id(a) not in known]
