"""Run directories: manifest.json, timeseries.parquet, distribution.parquet, report.html.

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
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import numba
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

import scsim
from scsim.engine import ENGINE_RECORDS, Sim

QUANTILES = (0.05, 0.25, 0.5, 0.75, 0.95)


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
    for name in sim.record_names:
        if name not in ENGINE_RECORDS:
            columns[name] = sim.record(name).astype(np.int64)
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
        "timings": dict(sim.timings),
        "agent_steps_per_s": sim.n * sim.days / sim.timings["step_s"],
        "memory_bytes_per_agent": (sim.people.nbytes + sim.graph.nbytes + sim.packed.nbytes)
        / sim.n,
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


def write_run(sim: Sim, out: Path, preset: str | None, threads: int) -> Path:
    """Write a finished simulation's run directory (and its HTML report) to ``out``."""
    from scsim.report import write_report

    t0 = time.perf_counter()
    with staged(out) as tmp:
        pq.write_table(timeseries_table(sim), tmp / "timeseries.parquet")
        pq.write_table(distribution_table(sim), tmp / "distribution.parquet")
        sim.timings["write_s"] = time.perf_counter() - t0
        (tmp / "manifest.json").write_text(json.dumps(manifest(sim, preset, threads), indent=2))
        write_report(tmp)
    return out
