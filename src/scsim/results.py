"""Run directories: manifest.json, timeseries.parquet (per day; per day and region in
timeseries_region.parquet when the population has regions), distribution.parquet,
people.parquet (every citizen's final state and score components), events.parquet and
audit.parquet (the audit sample's events, daily scores and components), report.html.

people, events and audit are ordered by citizen (events keep their day and emission order
within a citizen; audit rows are citizen-major) and written in row groups of ``ROW_GROUP``
rows, so reading one citizen's rows (``scsim lookup``) reads one row group.

A run is written into ``<out>.partial`` and renamed to ``<out>`` only when complete, so an
interrupted or failed run never leaves a directory that looks finished.
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import socket
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import numba
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

import scsim
from scsim.days import widen
from scsim.engine import ENGINE_RECORDS, Sim
from scsim.protocol import Record

QUANTILES = (0.05, 0.25, 0.5, 0.75, 0.95)
ROW_GROUP = 65_536
"""Rows per row group of the per-citizen files (people, events, audit)."""


def quantiles_from_histogram(counts: np.ndarray, edges: np.ndarray, qs=QUANTILES) -> np.ndarray:
    """Quantiles of a binned distribution, linear within a bin (error at most one bin width)."""
    cum = np.cumsum(counts, dtype=np.float64)
    total = cum[-1]
    out = np.empty(len(qs))
    for k, q in enumerate(qs):
        target = q * total
        b = int(np.searchsorted(cum, target, side="left"))
        b = min(b, counts.size - 1)
        before = cum[b - 1] if b > 0 else 0.0
        inside = counts[b]
        frac = (target - before) / inside if inside > 0 else 0.0
        out[k] = edges[b] + frac * (edges[b + 1] - edges[b])
    return out


def timeseries_table(sim: Sim) -> pa.Table:
    """One row per day: mean score, score quantiles and every module's records."""
    days = sim.records.shape[0]
    columns: dict[str, np.ndarray] = {"day": np.arange(days, dtype=np.int32)}
    columns["mean_score"] = sim.record("score_sum") / sim.n
    qs = np.array([quantiles_from_histogram(h, sim.bin_edges) for h in sim.histograms])
    for k, q in enumerate(QUANTILES):
        columns[f"score_p{round(q * 100):02d}"] = qs[:, k]
    for r in module_records(sim):
        columns[r.name] = _typed(r, sim.record(r.name))
    return pa.table(columns)


def module_records(sim: Sim) -> list[Record]:
    """The modules' records (the engine's own are written as mean scores)."""
    return [r for r in sim.record_specs if r not in ENGINE_RECORDS]


def _typed(record: Record, values: np.ndarray) -> np.ndarray:
    """A record column as written: counts as int64, measures as float64."""
    return values.astype(np.int64) if record.integer else values


def region_table(sim: Sim) -> pa.Table:
    """One row per day and region: mean score and every module's records."""
    days, regions = sim.records.shape[:2]
    columns: dict[str, np.ndarray] = {
        "day": np.repeat(np.arange(days, dtype=np.int32), regions),
        "region": np.tile(np.arange(regions, dtype=np.int32), days),
    }
    counts = np.bincount(sim.region, minlength=regions).astype(np.float64)
    columns["mean_score"] = (sim.record_by_region("score_sum") / counts).ravel()
    for r in module_records(sim):
        columns[r.name] = _typed(r, sim.record_by_region(r.name).ravel())
    return pa.table(columns)


def _people_columns(sim: Sim, score: np.ndarray | None = None) -> dict[str, np.ndarray]:
    """The people table's columns but the citizen id: score (a copy, or ``score``), each score
    component and every per-agent field (views, the day fields two-byte)."""
    columns = {"score": sim.score if score is None else score}
    columns.update((f"part_{name}", sim.component(name)) for name in sim.components)
    columns.update(sim.people.fields)
    return columns


def people_table(
    sim: Sim, start: int = 0, stop: int | None = None, columns: dict | None = None
) -> pa.Table:
    """The final state of citizens ``start`` to ``stop`` (every one by default): score, each
    score component, and every per-agent field, the day fields as int32 (``scsim.days``);
    ``columns``: ``_people_columns(sim)`` when made already."""
    columns = _people_columns(sim) if columns is None else columns
    stop = sim.n if stop is None else min(stop, sim.n)
    table = {"citizen": np.arange(start, stop, dtype=np.int64)}
    table.update((name, widen(a[start:stop])) for name, a in columns.items())
    return pa.table(table)


def events_table(sim: Sim) -> pa.Table:
    """The audit sample's events, with kind and cause by name, ordered by citizen (then day
    and emission order)."""
    cols = sim.events.by_citizen(kind=np.int32)  # int32: arrow's dictionary indices
    kinds = [f"{module}.{kind}" for module, kind in sim.event_kinds]
    kind = cols["kind"]
    names, code = _cause_code(sim, kind, cols["cause"])
    return pa.table(
        {
            "day": cols["day"],
            "citizen": cols["citizen"],
            "kind": pa.DictionaryArray.from_arrays(kind, pa.array(kinds, pa.string())),
            "cause": pa.DictionaryArray.from_arrays(
                pa.array(code, mask=code < 0), pa.array(names, pa.string())
            ),
            "delta": cols["delta"],
            "source": pa.array(cols["source"], mask=cols["source"] < 0),
        }
    )


def _cause_code(sim: Sim, kind: np.ndarray, cause: np.ndarray) -> tuple[list[str], np.ndarray]:
    """Every cause name once, and each event's cause as an index among them (-1: none), from
    its kind and its module's own cause index, through one lookup table of (kind, cause)."""
    names: list[str] = []
    widest = max((len(m.causes) for m in sim.modules), default=0)
    by_module: dict[str, list[int]] = {}
    for m in sim.modules:
        by_module[m.name] = []
        for name in m.causes:
            if name not in names:
                names.append(name)
            by_module[m.name].append(names.index(name))
    # row: the event kind; column 0: no cause (negative), column c + 1: the module's cause c
    table = np.full((max(len(sim.event_kinds), 1), widest + 1), -1, dtype=np.int32)
    for k, (module, _) in enumerate(sim.event_kinds):
        table[k, 1 : len(by_module[module]) + 1] = by_module[module]
    if cause.size and cause.max() >= widest:
        raise ValueError(f"an event's cause index {cause.max()} is past every module's causes")
    index = kind * np.int32(widest + 1)
    index += np.maximum(cause, -1, out=cause)  # cause: this function's to change
    index += 1
    return names, table.ravel().take(index, out=index)


def audit_table(sim: Sim, start: int = 0, stop: int | None = None) -> pa.Table:
    """The audit sample's score and score components at the end of every day (citizen-major:
    one citizen's days are consecutive rows), rows ``start`` to ``stop`` of them."""
    log = sim.events
    days = log.score.shape[0]
    stop = log.size * days if stop is None else min(stop, log.size * days)
    citizen, day = np.divmod(np.arange(start, stop), days)
    first, end = start // days, -(-stop // days)  # the citizens of these rows
    rows = slice(start - first * days, stop - first * days)

    def by_citizen(by_day: np.ndarray) -> np.ndarray:
        """These rows of a days x citizens array (the log stores it day-major)."""
        return by_day[:, first:end].T.ravel()[rows]

    columns: dict[str, np.ndarray] = {
        "day": day.astype(np.int32),
        "citizen": log.citizens[citizen] if log.size else np.zeros(0, np.int64),
        "score": by_citizen(log.score),
    }
    for k, name in enumerate(sim.components):
        columns[f"part_{name}"] = by_citizen(log.parts[:, :, k])
    return pa.table(columns)


def distribution_table(sim: Sim) -> pa.Table:
    """The daily score histogram in long form (non-empty bins only)."""
    day, bin_ = np.nonzero(sim.histograms)
    return pa.table(
        {
            "day": day.astype(np.int32),
            "bin_lo": sim.bin_edges[bin_].astype(np.float32),
            "bin_hi": sim.bin_edges[bin_ + 1].astype(np.float32),
            "count": sim.histograms[day, bin_],
        }
    )


def machine() -> dict[str, object]:
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next(line.split(":", 1)[1].strip() for line in f if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    return {
        "hostname": socket.gethostname(),
        "cpu": cpu,
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "numba": numba.__version__,
        "numpy": np.__version__,
    }


def region_names(sim: Sim) -> list[str]:
    """Names of the Sim's regions (the population module's table, else their numbers)."""
    names = None
    if any(m.name == "population" for m in sim.modules):
        names = getattr(sim.module("population"), "region_names", None)
    if names is not None and len(names) == sim.n_regions:
        return [str(x) for x in names]
    return [str(k) for k in range(sim.n_regions)]


def manifest(sim: Sim, preset: str | None, threads: int) -> dict[str, object]:
    return {
        "scsim_version": scsim.__version__,
        "preset": preset,
        "scenario": sim.scenario.model_dump(mode="json"),
        "scenario_hash": sim.scenario.digest(),
        "seed": sim.seed,
        "n": sim.n,
        "days": sim.days,
        "threads": threads,
        "ranks": sim.ranks.comm.size,
        "timings": dict(sim.timings),
        "agent_steps_per_s": sim.n * sim.days / sim.timings["step_s"],
        "memory_bytes_per_agent": sim.state_bytes / sim.n,
        "components": sim.components,
        "records": {r.name: r.describe() for r in module_records(sim)},
        "false_events": [f"{m.name}.{e}" for m in sim.modules for e in m.false_events],
        "region_names": region_names(sim) if sim.n_regions > 1 else None,
        "audit": {"sample": sim.events.size, "stride": sim.events.stride},
        "machine": machine(),
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
    }


@contextmanager
def staged(out: Path) -> Iterator[Path]:
    """Yield ``<out>.partial``; rename it to ``out`` on success, delete it on any failure."""
    partial = out.with_name(out.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir(parents=True)
    try:
        yield partial
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise
    os.replace(partial, out)


def _write_per_citizen(table: Callable[[Sim], pa.Table], sim: Sim, path: Path) -> None:
    # dictionary pages only for the event names: tried on every float column, parquet's
    # dictionary encoding tripled the writing time of the audit and people files (1 M citizens,
    # a year: 0.50 -> 0.17 s and 0.33 -> 0.12 s) and made them larger
    pq.write_table(table(sim), path, row_group_size=ROW_GROUP, use_dictionary=["kind", "cause"])


def _write_tables(path: Path, tables: Iterator[pa.Table]) -> None:
    """Write a parquet file of one row group per table of ``tables`` (``ROW_GROUP`` rows
    each but the last), each made when its turn comes."""
    first = next(tables)
    with pq.ParquetWriter(path, first.schema, use_dictionary=False) as writer:
        writer.write_table(first, row_group_size=ROW_GROUP)
        del first
        for table in tables:
            writer.write_table(table, ROW_GROUP)
            del table  # before the next is made


def _write_groups(path: Path, rows: int, group: Callable[[int, int], pa.Table]) -> None:
    """Write a parquet file of ``rows`` rows one row group at a time, ``group(start, stop)``
    making each group's table for it alone."""
    starts = range(0, max(rows, 1), ROW_GROUP)
    _write_tables(path, (group(start, min(start + ROW_GROUP, rows)) for start in starts))


def _write_people(sim: Sim, columns: dict[str, np.ndarray], path: Path) -> None:
    """Write people.parquet one row group at a time, each group's citizen ids and int32 days
    made for it alone: whole, they were 8 bytes a citizen and 4 more per day field (a dozen
    with every module on)."""
    _write_groups(path, sim.n, lambda start, stop: people_table(sim, start, stop, columns))


def _streams_people(sim: Sim) -> bool:
    """True over MPI ranks that each kept only their own citizens: no rank holds everyone's
    final state, so rank 0 writes people.parquet from rows the owners send (``_stream_people``)."""
    return sim.people.kept is not None and not sim.ranks.alone


def _stream_people(sim: Sim, path: Path | None) -> None:
    """Every rank: people.parquet written by rank 0 to ``path`` (None on other ranks), each row
    group's rows sent by the ranks that own them; rank 0 is left holding the whole of the
    columns the report reads, and no more."""
    from scsim.report import who

    columns = _people_columns(sim, score=sim.packed[sim.current])  # signed: abs per group
    names = list(columns)
    keep = frozenset(k for k, name in enumerate(names) if name in who.COLUMNS)
    groups = sim.ranks.rows_to_root(list(columns.values()), ROW_GROUP, keep)
    if path is None:
        for _ in groups:
            pass
        return

    def table(start: int, stop: int, rows: list[np.ndarray]) -> pa.Table:
        got = dict(zip(names, rows, strict=True))
        got["score"] = np.abs(got["score"])
        citizen = np.arange(start, stop, dtype=np.int64)
        return pa.table({"citizen": citizen} | {name: widen(a) for name, a in got.items()})

    _write_tables(path, (table(*group) for group in groups))


def _write_audit(sim: Sim, path: Path) -> None:
    """Write audit.parquet one row group at a time, each group's day and citizen columns made
    for it alone: whole, they were 44 MB of fresh memory (10 000 citizens x 365 days), whose
    first-touch page faults were ~7 % of the CPU time of writing a 1 M-citizen year."""
    rows = sim.events.size * sim.events.score.shape[0]
    _write_groups(path, rows, lambda start, stop: audit_table(sim, start, stop))


def write_run(
    sim: Sim, out: Path, preset: str | None, threads: int, png: bool = False, report: bool = True
) -> Path:
    """Write a finished simulation's run directory (and, unless ``report`` is false, its HTML
    report) to ``out``. Over MPI ranks every rank calls it and rank 0 writes."""
    from scsim.report import RunTables, render_body, who, write_report

    streamed = _streams_people(sim)
    if sim.ranks.comm.rank > 0:
        if streamed:
            _stream_people(sim, None)
        return out
    t0 = time.perf_counter()
    with staged(out) as tmp:
        if streamed:  # first: it fills in the columns the report reads
            _stream_people(sim, tmp / "people.parquet")
        people = _people_columns(sim)
        tables = RunTables(
            timeseries_table(sim),
            distribution_table(sim),
            region_table(sim) if sim.n_regions > 1 else None,
            pa.table({c: a for c, a in people.items() if c in who.COLUMNS}),
        )
        pq.write_table(tables.timeseries, tmp / "timeseries.parquet")
        pq.write_table(tables.distribution, tmp / "distribution.parquet")
        if tables.regions is not None:
            pq.write_table(tables.regions, tmp / "timeseries_region.parquet")
        # the three large files are built and written side by side (pyarrow and numpy's
        # sorts release the GIL): their sum was ~90 % of the writing time of a 1 M-citizen year;
        # the report's body (all but its header, which shows the timings) is rendered meanwhile
        # from the tables in memory
        with ThreadPoolExecutor(max_workers=4) as pool:
            body = report and pool.submit(
                render_body, manifest(sim, preset, threads), tables,
                tmp / "plots" if png else None, out.name,
            )  # fmt: skip
            jobs = [
                pool.submit(_write_per_citizen, events_table, sim, tmp / "events.parquet"),
                pool.submit(_write_audit, sim, tmp / "audit.parquet"),
            ]
            if not streamed:
                jobs.append(pool.submit(_write_people, sim, people, tmp / "people.parquet"))
            for job in jobs:
                job.result()
            sim.timings["write_s"] = time.perf_counter() - t0
            (tmp / "manifest.json").write_text(json.dumps(manifest(sim, preset, threads), indent=2))
            if body:
                write_report(tmp, body=body.result())
    return out
