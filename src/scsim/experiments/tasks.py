"""One run of a sweep: a (point, replicate) pair named by a hash of what defines it.

The key hashes the scenario as run (its digest: every parameter, the size and the seed) and the
outcomes' SQL, so the same run asked twice, by a resumed sweep or by another sweep file, has the
same key and its stored result is reused. ``run_task`` is what a Dask worker executes: build,
run, write the run's tables (to a scratch directory unless the run is kept), measure the
outcomes, return one row. A run that is not kept and whose outcomes read neither the ``events``
nor the ``audit`` view runs without the audit sample: its outcomes are the same, and a state
preset's calibration run at 20 000 citizens (half of them audited) takes 2.6 times less.
"""

from __future__ import annotations

import gc
import hashlib
import json
import os
import shutil
import socket
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from scsim.experiments.spec import Outcome

if TYPE_CHECKING:
    from collections.abc import Callable


@dataclass(frozen=True)
class Task:
    point: int
    replicate: int
    seed: int
    values: dict[str, Any]
    """Parameter path -> value at this point."""
    scenario: dict[str, Any]
    """The scenario to run, as a mapping (validated, defaults filled in)."""
    key: str


def task_key(scenario_digest: str, outcomes: dict[str, Outcome]) -> str:
    """Hash of the scenario as run and of the outcomes measured on it."""
    sqls = {name: o.sql for name, o in sorted(outcomes.items())}
    blob = json.dumps({"scenario": scenario_digest, "outcomes": sqls}, sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()[:20]


AUDITED_VIEWS = frozenset({"events", "audit"})
"""The views of a run (``scsim.runs.connect``) that the audit sample fills."""


def reads_audit(outcomes: dict[str, Outcome]) -> bool:
    """Whether an outcome's SQL reads a view the audit sample fills (True when DuckDB cannot
    parse it: the run then keeps its sample, and the outcome's error comes from ``measure``)."""
    import duckdb

    for outcome in outcomes.values():
        try:
            tables = duckdb.get_table_names(outcome.sql)
        except duckdb.Error:
            return True
        if {t.lower() for t in tables} & AUDITED_VIEWS:
            return True
    return False


def without_audit(scenario: dict[str, Any]) -> dict[str, Any]:
    """The scenario with its audit sample off (a shallow copy: the input is not changed)."""
    return {**scenario, "output": {**scenario.get("output", {}), "audit_sample": 0}}


def write_atomic(path: Path, text: str) -> None:
    """Write ``text`` to a temporary file beside ``path``, then rename it into place."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "w") as f:
            f.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def result_path(out: Path, key: str) -> Path:
    """Where a task's result is stored under a sweep or calibration directory."""
    return out / "tasks" / f"{key}.json"


def save_result(out: Path, task: Task, result: dict[str, Any]) -> None:
    """Store a task's result atomically under its key."""
    write_atomic(result_path(out, task.key), json.dumps({"key": task.key, **result}))


def run_task(
    scenario: dict[str, Any],
    outcomes: dict[str, Outcome],
    keep: str | None = None,
    threads: int = 1,
    allow_empty: bool = False,
    inspect: Callable[[Any], Any] | None = None,
) -> dict[str, Any]:
    """Run one scenario on ``threads`` numba threads (one on a worker: many runs, not one fast
    run) and return its outcomes (and where and how long it ran); ``allow_empty`` as for
    ``measure``; ``inspect(sim)``, if given, is returned too (as ``inspected``). Unless the
    run is kept or an outcome reads the audit sample's views, it runs without the sample
    (``reads_audit``), so ``inspect`` sees no audit sample then."""
    import numba

    from scsim.engine import Sim
    from scsim.experiments.measures import measure
    from scsim.results import write_run
    from scsim.scenario import validate

    t0 = time.perf_counter()
    if not keep and not reads_audit(outcomes):
        scenario = without_audit(scenario)
    sc = validate(scenario)
    numba.set_num_threads(threads)
    sim = Sim(sc)
    sim.build()
    sim.run()
    run_s = time.perf_counter() - t0
    scratch = None if keep else tempfile.mkdtemp(prefix="scsim-task-")
    out = Path(keep) if keep else Path(scratch) / "run"
    try:
        if keep and out.exists():  # kept by an earlier attempt that died before reporting
            shutil.rmtree(out)
        write_run(sim, out, None, threads, report=bool(keep))
        values = measure(out, outcomes, allow_empty=allow_empty)
        inspected = {"inspected": inspect(sim)} if inspect is not None else {}
    finally:
        if scratch:
            shutil.rmtree(scratch, ignore_errors=True)
        # a Sim is a reference cycle (its modules hold it), freed only by a full collection:
        # without one a worker grew by a run's arrays per task (2.2 GB after 6 court-list runs)
        del sim
        gc.collect()
    return {
        "outcomes": values,
        "run_s": round(run_s, 3),
        "total_s": round(time.perf_counter() - t0, 3),
        "worker": f"{socket.gethostname()}:{os.getpid()}",
        **inspected,
    }
