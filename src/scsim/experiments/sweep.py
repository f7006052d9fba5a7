"""A sweep directory: what was asked, every task's result, and one table of them all.

    <out>/sweep.json        the spec, its hash, scsim's version, the seeds, the points
    <out>/tasks/<key>.json  one result per (point, replicate), written atomically
    <out>/results.parquet   (point, replicate, seed, parameters..., outcomes..., seconds)
    <out>/runs/<key>/       every run directory, only with keep_runs: true

The same command on an existing directory runs only the tasks whose file is missing; tasks are
named by a hash of what defines them, so each is present exactly once however often the sweep
was interrupted.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

import scsim
from scsim.experiments.design import points
from scsim.experiments.executor import Failure, run_missing
from scsim.experiments.measures import MeasureError
from scsim.experiments.spec import Outcome, Sweep, SweepError
from scsim.experiments.tasks import (
    Task,
    result_path,
    run_task,
    save_result,
    task_key,
    write_atomic,
)  # fmt: skip
from scsim.scenario import Scenario, ScenarioError, validate

MANIFEST = "sweep.json"
RESULTS = "results.parquet"
PILOT_N = 2_000
"""Citizens in the pilot run that checks every outcome's SQL before the sweep starts."""


@dataclass(frozen=True)
class Plan:
    sweep: Sweep
    out: Path
    points: list[dict[str, Any]]
    tasks: list[Task]

    @property
    def seeds(self) -> list[int]:
        return [self.sweep.spec.seed + r for r in range(self.sweep.spec.replicates)]

    def path(self, task: Task) -> Path:
        return result_path(self.out, task.key)

    def run_dir(self, task: Task) -> str | None:
        return str(self.out / "runs" / task.key) if self.sweep.spec.keep_runs else None

    def missing(self) -> list[Task]:
        """Tasks without a stored result, one per key (equal points share a run)."""
        seen: set[str] = set()
        out = []
        for task in self.tasks:
            if task.key not in seen and not self.path(task).exists():
                seen.add(task.key)
                out.append(task)
        return out


def plan(sweep: Sweep, out: Path) -> Plan:
    """Every (point, replicate) task of a sweep, replicate r with seed ``seed + r`` at every
    point (common random numbers)."""
    pts, _ = points(sweep)
    tasks = []
    for i, values in enumerate(pts):
        for r in range(sweep.spec.replicates):
            seed = sweep.spec.seed + r
            try:
                scenario = sweep.scenario(values, seed)
            except Exception as e:  # a combination the parts allowed but the whole refuses
                raise SweepError(f"point {i} ({shown(values)}): {e}") from None
            key = task_key(scenario.digest(), sweep.outcomes)
            tasks.append(Task(i, r, seed, values, scenario.model_dump(mode="json"), key))
    return Plan(sweep, out, pts, tasks)


def shown(values: dict[str, Any]) -> str:
    """A point's values as path=value, comma-separated."""
    return ", ".join(f"{k}={v}" for k, v in values.items())


def check_outcomes(base: Scenario, outcomes: dict[str, Outcome]) -> None:
    """Run ``base`` small (``PILOT_N`` citizens, every day) and measure every outcome on it:
    unknown views or columns and failing SQL stop the work before it starts."""
    import numba

    data = base.model_dump(mode="json")
    data["population"]["n"] = min(base.population.n, PILOT_N)
    try:
        validate(data)
    except ScenarioError:  # too small for its regions or network: check at full size
        data = base.model_dump(mode="json")
    try:
        run_task(data, outcomes, threads=numba.get_num_threads(), allow_empty=True)
    except MeasureError as e:
        raise SweepError(str(e)) from None


def write_manifest(p: Plan) -> None:
    spec = p.sweep.spec
    write_atomic(
        p.out / MANIFEST,
        json.dumps(
            {
                "scsim_version": scsim.__version__,
                "name": p.sweep.name,
                "spec": spec.model_dump(mode="json"),
                "spec_hash": p.sweep.digest(),
                "base_scenario": p.sweep.base.model_dump(mode="json"),
                "n": p.sweep.base.population.n,
                "days": p.sweep.base.days,
                "seeds": p.seeds,
                "parameters": [
                    {"path": v.path, "name": v.name, "integer": v.integer} for v in p.sweep.varied
                ],
                "outcomes": {k: o.model_dump() for k, o in p.sweep.outcomes.items()},
                "points": p.points,
                "tasks": len(p.tasks),
                "created": datetime.now(UTC).isoformat(timespec="seconds"),
            },
            indent=2,
        ),
    )


def results_table(p: Plan) -> pa.Table:
    """One row per (point, replicate) with a stored result."""
    columns: dict[str, list] = {"point": [], "replicate": [], "seed": []}
    for v in p.sweep.varied:
        columns[v.name] = []
    for name in p.sweep.outcomes:
        columns[name] = []
    columns["run_s"] = []
    for task in p.tasks:
        path = p.path(task)
        if not path.exists():
            continue
        row = json.loads(path.read_text())
        columns["point"].append(task.point)
        columns["replicate"].append(task.replicate)
        columns["seed"].append(task.seed)
        for v in p.sweep.varied:
            columns[v.name].append(task.values[v.path])
        for name in p.sweep.outcomes:
            value = row["outcomes"][name]
            columns[name].append(math.nan if value is None else float(value))
        columns["run_s"].append(float(row["run_s"]))
    return pa.table(columns)


def write_results(p: Plan) -> pa.Table:
    table = results_table(p)
    tmp = p.out / f".{RESULTS}.partial"
    pq.write_table(table, tmp)
    os.replace(tmp, p.out / RESULTS)
    return table


def execute(
    p: Plan,
    client: Any,
    on_done: Callable[[Task, dict[str, Any] | None], None] = lambda task, result: None,
) -> list[Failure]:
    """Run the plan's missing tasks on ``client`` and write ``results.parquet``."""
    (p.out / "tasks").mkdir(parents=True, exist_ok=True)
    for leftover in (p.out / "tasks").glob(".*"):  # a write cut short by kill -9
        leftover.unlink(missing_ok=True)
    write_manifest(p)
    failures = run_missing(
        client,
        p.missing(),
        p.sweep.outcomes,
        partial(save_result, p.out),
        keep=p.run_dir,
        on_done=on_done,
    )
    write_results(p)
    return failures


def is_sweep(path: str | Path) -> bool:
    return (Path(path) / MANIFEST).is_file()


def connect_sweep(path: str | Path) -> Any:
    """A DuckDB connection with the view ``results`` (one row per run) and the tables
    ``parameters`` (path, name) and ``outcomes`` (name, label, sql) of a sweep directory."""
    import duckdb

    path = Path(path)
    if not (path / RESULTS).is_file():
        raise SweepError(
            f"{path}: has no {RESULTS} yet; run the sweep (the same command resumes it)"
        )
    manifest = json.loads((path / MANIFEST).read_text())
    con = duckdb.connect(":memory:")
    where = str(path / RESULTS).replace("'", "''")
    con.execute(f"CREATE VIEW results AS SELECT * FROM read_parquet('{where}')")
    con.execute("CREATE TABLE parameters (path VARCHAR, name VARCHAR)")
    con.executemany(
        "INSERT INTO parameters VALUES (?, ?)",
        [(p["path"], p["name"]) for p in manifest["parameters"]],
    )
    con.execute("CREATE TABLE outcomes (name VARCHAR, label VARCHAR, sql VARCHAR)")
    con.executemany(
        "INSERT INTO outcomes VALUES (?, ?, ?)",
        [(k, o["label"] or k, o["sql"]) for k, o in manifest["outcomes"].items()],
    )
    return con


def write_failed(p: Plan, failures: list[Failure]) -> list[Path]:
    """Each failed run's scenario as ``failed/<key>.yaml``, to run alone with ``scsim run``."""
    import yaml

    paths = []
    for f in failures:
        path = p.out / "failed" / f"{f.task.key}.yaml"
        write_atomic(path, yaml.safe_dump(f.task.scenario, sort_keys=False))
        paths.append(path)
    return paths
