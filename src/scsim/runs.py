"""Run directories as data: open one (checked complete), read one citizen's rows, query many.

``open_run(path)`` returns a ``Run`` (its manifest, size, components, audit sample) or raises
``RunError`` naming the path, what is missing and what to do. ``connect(runs)`` returns an
in-memory DuckDB connection with one view per file over one or many runs, each row carrying a
``run`` column naming its run directory (several runs are stacked with UNION ALL BY NAME, so a
column missing from one run is NULL there), and a ``manifest`` table:

- ``timeseries``, ``distribution``, ``people``, ``events``, ``audit`` (the parquet files
  written by ``scsim.results``), ``timeseries_region`` (when some run has regions);
- ``timeseries_people`` (and ``timeseries_region_people``): ``timeseries`` with every count
  (its integer columns but ``day`` and ``region``) multiplied by the people each citizen stands
  for (``population.represents``, as DOUBLE); mean scores, quantiles and measures unchanged;
- ``manifest``: one row per run, the manifest flattened (``scenario_modules_speech_penalty``;
  lists of numbers or names stay lists, other lists and objects are JSON text), with
  ``represents`` (1.0 when the scenario does not set it).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

if TYPE_CHECKING:
    import duckdb

TABLES = ("timeseries", "distribution", "people", "events", "audit")
"""Parquet files every complete run directory holds (``<name>.parquet``)."""
OPTIONAL_TABLES = ("timeseries_region",)
"""Parquet files only some runs hold (``timeseries_region``: runs with regions)."""
PEOPLE_VIEWS = {"timeseries_people": "timeseries", "timeseries_region_people": "timeseries_region"}
"""Views of counts in people (each count times ``represents``) and the table each is built on."""
NOT_COUNTS = ("day", "region")
"""Integer columns of the timeseries that are not counts (every other integer column is one:
``scsim.results`` writes counts as int64 and measures as float64)."""
MANIFEST = "manifest.json"


class RunError(ValueError):
    """A run directory that does not exist, is incomplete or cannot be read."""


@dataclass(frozen=True)
class Run:
    """A complete run directory and its manifest."""

    path: Path
    manifest: dict[str, Any]

    @property
    def name(self) -> str:
        """The run directory's name."""
        return self.path.name

    @property
    def n(self) -> int:
        """Number of citizens."""
        return int(self.manifest["n"])

    @property
    def days(self) -> int:
        """Number of days simulated."""
        return int(self.manifest["days"])

    @property
    def components(self) -> list[str]:
        """Score components, in the order of the ``part_<component>`` columns."""
        return list(self.manifest.get("components", []))

    @property
    def scenario(self) -> dict[str, Any]:
        """The scenario as run (validated, with every default filled in)."""
        return self.manifest.get("scenario", {})

    @property
    def represents(self) -> float:
        """People each synthetic citizen stands for (``population.represents``; 1.0 when the
        scenario does not set it, as in runs from before it existed)."""
        from scsim.scale import represents

        return represents(self.manifest)

    @property
    def audit_stride(self) -> int:
        """Citizens 0, stride, 2 * stride, ... are audited (0: nobody is)."""
        return int(self.manifest.get("audit", {}).get("stride", 0))

    @property
    def audit_size(self) -> int:
        """Number of audited citizens."""
        return int(self.manifest.get("audit", {}).get("sample", 0))

    def audited(self, citizen: int) -> bool:
        """True if ``citizen`` is in the audit sample (its events and daily scores are kept)."""
        stride = self.audit_stride
        return stride > 0 and citizen % stride == 0 and citizen // stride < self.audit_size

    def file(self, table: str) -> Path:
        """Path of one of the run's parquet files."""
        return self.path / f"{table}.parquet"

    def has(self, table: str) -> bool:
        """True if the run holds ``<table>.parquet``."""
        return self.file(table).is_file()

    def citizen_rows(self, table: str, citizen: int) -> pa.Table:
        """The rows of ``table`` about one citizen, reading only the row groups whose
        ``citizen`` statistics can hold it."""
        return read_citizen(self.file(table), citizen)

    @cached_property
    def flat_manifest(self) -> dict[str, Any]:
        """The manifest as one flat row (``run`` first, then ``represents``), as in the
        ``manifest`` view."""
        return {"run": self.name, "represents": self.represents, **flatten(self.manifest)}


def _missing_message(path: Path) -> str | None:
    partial = path.with_name(path.name + ".partial")
    if path.name.endswith(".partial"):
        return (
            f"run directory {str(path)!r} is incomplete: a '.partial' directory is a run "
            "still being written or one that was interrupted; wait for it to finish or rerun it"
        )
    if not path.exists():
        if partial.is_dir():
            return (
                f"run directory {str(path)!r} is incomplete: only {str(partial)!r} exists (the "
                "run is still being written, or was interrupted); wait for it or rerun it"
            )
        return f"run directory {str(path)!r} does not exist; give the --out of a `scsim run`"
    if not path.is_dir():
        return f"{str(path)!r} is not a run directory (not a directory)"
    return None


def open_run(path: str | Path) -> Run:
    """Open a complete run directory, or raise ``RunError`` saying what is wrong."""
    path = Path(path)
    problem = _missing_message(path)
    if problem:
        raise RunError(problem)
    missing = [f for f in (MANIFEST, *(f"{t}.parquet" for t in TABLES)) if not (path / f).is_file()]
    if missing:
        raise RunError(
            f"run directory {str(path)!r} is incomplete: missing {', '.join(missing)}; "
            "rerun the scenario with `scsim run ... --out` into a new directory"
        )
    try:
        manifest = json.loads((path / MANIFEST).read_text())
        int(manifest["n"]), int(manifest["days"])
    except (OSError, ValueError, KeyError, TypeError) as e:
        raise RunError(
            f"run directory {str(path)!r}: {MANIFEST} cannot be read ({e}); rerun the scenario"
        ) from None
    return Run(path, manifest)


def citizen_row_groups(f: pq.ParquetFile, citizen: int) -> list[int]:
    """Row groups whose ``citizen`` min/max statistics can hold ``citizen`` (all of those
    without statistics)."""
    col = f.schema_arrow.get_field_index("citizen")
    groups = []
    for g in range(f.metadata.num_row_groups):
        stats = f.metadata.row_group(g).column(col).statistics
        if stats is None or not stats.has_min_max or stats.min <= citizen <= stats.max:
            groups.append(g)
    return groups


def read_citizen(path: Path, citizen: int) -> pa.Table:
    """Rows of a parquet file whose ``citizen`` equals ``citizen``, reading only the row groups
    that can hold it (files written by ``scsim.results`` are ordered by citizen)."""
    f = pq.ParquetFile(path)
    groups = citizen_row_groups(f, citizen)
    if not groups:
        return f.schema_arrow.empty_table()
    table = f.read_row_groups(groups)
    return table.filter(pc.equal(table["citizen"], citizen))


ERROR_LINES = 3
"""DuckDB's message is cut before its 'LINE 1: ...' excerpt and after this many lines."""


def short_message(error: Exception) -> str:
    """DuckDB's error message up to its first blank line or 'LINE n:' excerpt."""
    lines = []
    for line in str(error).splitlines():
        if not line.strip() or line.startswith("LINE "):
            break
        lines.append(line.rstrip())
    return "\n".join(lines[:ERROR_LINES]) or str(error).strip()


def differences(a: Any, b: Any, path: str) -> Iterator[tuple[str, Any, Any]]:
    """Every (dotted path, value in a, value in b) where two JSON-like values differ."""
    if isinstance(a, dict) and isinstance(b, dict):
        for key in [*a, *(k for k in b if k not in a)]:
            yield from differences(a.get(key), b.get(key), f"{path}.{key}" if path else key)
    elif isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        for k, (x, y) in enumerate(zip(a, b, strict=True)):
            yield from differences(x, y, f"{path}[{k}]")
    elif a != b:
        yield path, a, b


def first_difference(a: Any, b: Any, path: str) -> tuple[str, Any, Any] | None:
    """The first (dotted path, value in a, value in b) where two JSON-like values differ."""
    return next(differences(a, b, path), None)


def flatten(node: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """Nested dicts as one level (keys joined by ``_``); lists of scalars stay lists, lists of
    objects and mixed lists become JSON text."""
    flat: dict[str, Any] = {}
    for key, value in node.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict) and value:
            flat.update(flatten(value, name + "_"))
        elif isinstance(value, dict):
            flat[name] = None
        elif isinstance(value, list) and not _uniform_scalars(value):
            flat[name] = json.dumps(value)
        else:
            flat[name] = value
    return flat


def _uniform_scalars(values: list) -> bool:
    kinds = {str if isinstance(v, str) else float for v in values if not isinstance(v, bool)}
    return all(not isinstance(v, dict | list | bool) for v in values) and len(kinds) <= 1


def _as_runs(runs: Run | str | Path | Iterable[Run | str | Path]) -> list[Run]:
    if isinstance(runs, Run | str | Path):
        runs = [runs]
    opened = [r if isinstance(r, Run) else open_run(r) for r in runs]
    if not opened:
        raise RunError("no run directory given; give at least one")
    return opened


def run_labels(runs: Sequence[Run]) -> list[str]:
    """What the ``run`` column says for each run: its directory name, or its path as given
    when two runs share a name."""
    names = [r.name for r in runs]
    return names if len(set(names)) == len(names) else [str(r.path) for r in runs]


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _union(parts: list[str]) -> str:
    return "\nUNION ALL BY NAME\n".join(parts)


def in_people(run: Run, table: str) -> str:
    """The SELECT list of ``table`` with every count multiplied by ``run.represents``."""
    factor = f"{_quote(repr(run.represents))}::DOUBLE"
    columns = []
    for field in pq.read_schema(run.file(table)):
        name = _ident(field.name)
        count = pa.types.is_integer(field.type) and field.name not in NOT_COUNTS
        columns.append(f"{name} * {factor} AS {name}" if count else name)
    return ", ".join(columns)


def connect(runs: Run | str | Path | Iterable[Run | str | Path]) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB connection with the views ``timeseries``, ``timeseries_people``,
    ``distribution``, ``people``, ``events``, ``audit``, ``manifest`` (and ``timeseries_region``
    and ``timeseries_region_people`` when a run has regions) over one or many runs, each with a
    ``run`` column."""
    import duckdb

    opened = _as_runs(runs)
    labels = run_labels(opened)
    con = duckdb.connect(":memory:")
    for table in TABLES + OPTIONAL_TABLES:
        parts = [
            f"SELECT {_quote(label)} AS run, * FROM read_parquet({_quote(str(r.file(table)))})"
            for r, label in zip(opened, labels, strict=True)
            if r.has(table)
        ]
        if parts:
            con.execute(f"CREATE VIEW {table} AS {_union(parts)}")
    for view, table in PEOPLE_VIEWS.items():
        parts = [
            f"SELECT {_quote(label)} AS run, {in_people(r, table)} "
            f"FROM read_parquet({_quote(str(r.file(table)))})"
            for r, label in zip(opened, labels, strict=True)
            if r.has(table)
        ]
        if parts:
            con.execute(f"CREATE VIEW {view} AS {_union(parts)}")
    selects, values = [], []
    for r, label in zip(opened, labels, strict=True):
        row = {**r.flat_manifest, "run": label}
        selects.append("SELECT " + ", ".join(f"? AS {_ident(name)}" for name in row))
        values.extend(row.values())
    con.execute(f"CREATE TABLE manifest AS {_union(selects)}", values)
    return con
