"""The audit sample: every event of a sample of citizens, and their daily score breakdown.

Citizens ``0, stride, 2 * stride, ...`` are audited, with ``stride = ceil(n / audit_sample)``
(everyone when ``audit_sample >= n``; nobody when it is 0). The stride spreads the sample over
every region, since regions are id ranges. Hooks append events of audited agents to their
block's buffer (``scsim.protocol.emit``); after each day the buffers are read in block
order, so the log is the same for any thread count. Each day the sample's score and score
components are also kept, so every change of an audited score can be explained: the change in
each component is the sum of that day's events of its module (friends terms and the clip are
components of their own).
"""

from __future__ import annotations

import math
import mmap
import warnings

import numpy as np

from scsim.fusion import BLOCK
from scsim.kernels.blocks import block_rows
from scsim.protocol import EVENT_FIELDS

EVENT_DTYPES = {
    "day": np.int32, "citizen": np.int64, "kind": np.int16, "cause": np.int16,
    "delta": np.float32, "source": np.int64,
}  # fmt: skip
"""The type of each of ``EVENT_FIELDS`` (the buffers hold them all as float64)."""

EVENTS_PER_AGENT_DAY = 16
"""Buffer room per audited agent per day, on top of one event per neighbour."""


MAPPED_FROM = 4 << 20
"""Bytes from which a day-major buffer is mapped, and its pages written, before day 0."""


def mapped_zeros(shape: tuple[int, ...], dtype: type) -> np.ndarray:
    """Zeros whose pages are all mapped now, in small pages (``MAP_POPULATE``), for an array
    the kernel fills a little more of each day. NumPy asks for transparent huge pages for a
    large array, and on this kind of machine (THP "madvise", defrag "madvise") each first
    write to one of its 2 MB pages waited for the kernel to compact memory: the audit sample's
    daily rows cost sc-core at 100 000 citizens about 0.5 ms a day inside the kernel, a quarter
    of its pass (bench/README.md, session 24). The run holds the whole array by its end
    anyway (the memory plan counts it whole)."""
    nbytes = math.prod(shape) * np.dtype(dtype).itemsize
    if nbytes < MAPPED_FROM or not hasattr(mmap, "MAP_POPULATE"):
        return np.zeros(shape, dtype=dtype)
    flags = mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS | mmap.MAP_POPULATE
    return np.ndarray(shape, dtype, mmap.mmap(-1, nbytes, flags=flags))


class EventLog:
    """Per-block event buffers of one run, and what was collected from them so far."""

    def __init__(self, n: int, audit_sample: int, n_blocks: int, days: int) -> None:
        self.n = n
        self.stride = -(-n // audit_sample) if audit_sample > 0 else 0
        self.citizens = np.arange(0, n, self.stride, dtype=np.int64) if self.stride else None
        self.size = 0 if self.citizens is None else self.citizens.size
        self.n_blocks = n_blocks
        self.days = days
        self.dropped = 0
        self._chunks: list[np.ndarray] = []

    def shapes(self, max_degree: int, n_components: int) -> dict[str, tuple[tuple, type]]:
        """Shape and dtype of each buffer ``allocate`` makes (the memory plan sizes them)."""
        per_block = -(-BLOCK // self.stride) if self.stride else 0
        room = per_block * (EVENTS_PER_AGENT_DAY + max_degree)
        rows = max(self.size, 1)  # a kernel argument even without a sample
        return {
            "buffer": ((self.n_blocks, room + 1, len(EVENT_FIELDS)), np.float64),
            "score_by_day": ((self.days, rows), np.float32),
            "parts_by_day": ((self.days, rows, n_components), np.float32),
        }

    def allocate(self, max_degree: int, n_components: int) -> None:
        # The fused kernel writes each audited citizen's end-of-day score and components in
        # *_by_day (while they are in cache), stored day-major: a day's writes are one
        # sequential stream. Stored citizen-major (the audit file's row order), each audited
        # citizen wrote a cache line and a page of its own per component and day: 16 % of
        # china-2020's pass at 20 000 citizens, half of them audited (bench/README.md).
        for name, (shape, dtype) in self.shapes(max_degree, n_components).items():
            day_major = name != "buffer"
            setattr(self, name, mapped_zeros(shape, dtype) if day_major else np.zeros(shape, dtype))
        self.score = self.score_by_day[:, : self.size]
        self.parts = self.parts_by_day[:, : self.size]

    def collect(self, blocks: tuple[int, int] | None = None) -> None:
        """Take the day's events out of the buffers of ``blocks`` (first, end; None: every
        block), the blocks this process ran (the fused kernel resets a block's count when it
        takes the block, so another rank's blocks may hold a checkpoint's old counts)."""
        if not self.size:
            return
        buffer = self.buffer if blocks is None else self.buffer[blocks[0] : blocks[1]]
        self.dropped += int(buffer[:, 0, 1].sum())
        rows = block_rows(buffer)
        if len(rows):
            self._chunks.append(rows)

    def rows(self) -> np.ndarray:
        """Every event collected so far, one row each (``EVENT_FIELDS``), in log order."""
        if not self._chunks:
            return np.zeros((0, len(EVENT_FIELDS)))
        return np.concatenate(self._chunks)

    def replace(self, rows: np.ndarray, dropped: int) -> None:
        """Take ``rows`` as the whole log (an MPI run's events of every rank, ``scsim.ranks``)."""
        self._chunks = [rows] if len(rows) else []
        self.dropped = dropped

    def columns(self, **types: type) -> dict[str, np.ndarray]:
        """The whole log as typed columns (``EVENT_DTYPES``, or a type given by field name), in
        (day, block, emission) order."""
        self._warn_dropped()
        rows = self.rows()
        types = {**EVENT_DTYPES, **types}
        return {name: rows[:, j].astype(types[name]) for j, name in enumerate(EVENT_FIELDS)}

    def by_citizen(self, **types: type) -> dict[str, np.ndarray]:
        """The whole log as typed columns (``EVENT_DTYPES``, or a type given by field name)
        ordered by citizen (a stable sort: then in (day, block, emission) order), built one
        column at a time through one reused buffer: fresh memory is costly (first-touch page
        faults were about half the time ``columns`` and a sort took for a 1 M-citizen year)."""
        total = sum(len(chunk) for chunk in self._chunks)
        if not total:
            return self.columns(**types)
        self._warn_dropped()
        buffer = np.empty(total * 8, dtype=np.uint8)  # room for any column's type

        def column(name: str, dtype: type = np.float64) -> np.ndarray:
            """One field of every event, in log order, cast to ``dtype`` (as ``astype`` does)."""
            out = buffer.view(dtype)[:total]
            j = EVENT_FIELDS.index(name)
            return np.concatenate([c[:, j] for c in self._chunks], out=out, casting="unsafe")

        # the audited citizen's index in the sample: numpy sorts 16-bit keys by radix, linear
        # in the number of events
        citizen = column("citizen")
        key = np.floor_divide(citizen, self.stride, out=citizen)
        order = np.argsort(
            key.astype(np.uint16 if self.size <= 1 << 16 else np.int64), kind="stable"
        )
        types = {**EVENT_DTYPES, **types}
        return {name: column(name, types[name]).take(order) for name in EVENT_FIELDS}

    def _warn_dropped(self) -> None:
        if self.dropped:
            warnings.warn(
                f"{self.dropped} audit events did not fit their block's buffer and were lost",
                RuntimeWarning,
                stacklevel=3,
            )
