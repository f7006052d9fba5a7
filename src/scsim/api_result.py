"""A finished run in memory (what ``scsim.run`` returns): its tables as Polars (or pandas)
frames, the report's figures, citizen look-ups, and ``save`` to a standard run directory.

Frames are built on first use and kept. The people frame is made from the Sim's own arrays
without a copy (numpy -> Arrow -> Polars share the buffers of numeric columns); only ``score``
(the engine keeps it sign-packed) and ``citizen`` are made fresh, as for a written run.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from scsim.runs import Run

if TYPE_CHECKING:
    import pandas as pd
    import plotly.graph_objects as go
    import polars as pl
    import pyarrow as pa

    from scsim.engine import Sim
    from scsim.scenario import Scenario

TABLES = ("timeseries", "people", "events", "audit", "distribution", "timeseries_region")
"""The tables of a run, as in a run directory (``timeseries_region``: runs with regions)."""
IN_MEMORY = "<in memory>"
"""What a look-up names as the run's path before ``save``."""


class Figures(dict):
    """The report's figures by name; a notebook shows every one of them."""

    def _ipython_display_(self) -> None:
        from IPython.display import display

        for fig in self.values():
            display(fig)


class Lookup(dict):
    """One citizen's look-up (the dict ``scsim lookup --json`` prints), with frames of its
    daily history and its events."""

    @property
    def history_frame(self) -> pl.DataFrame:
        """Day, score and every score component (audited citizens; empty otherwise)."""
        import polars as pl

        rows = [
            {
                "day": h["day"],
                "score": h["score"],
                **{f"part_{c}": v for c, v in h["parts"].items()},
            }
            for h in self.get("history") or []
        ]
        return pl.DataFrame(rows)

    @property
    def events_frame(self) -> pl.DataFrame:
        """Every event of the citizen, one row each (audited citizens; empty otherwise)."""
        import polars as pl

        rows = [e for day in self.get("events_by_day") or [] for e in day["events"]]
        return pl.DataFrame(rows)

    def text(self) -> str:
        """The look-up as ``scsim lookup`` prints it."""
        from rich.console import Console

        from scsim.lookup_view import render

        console = Console(record=True, width=100, file=io.StringIO())
        render(self, console)
        return console.export_text()

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        printer.text(self.text())


@dataclass(frozen=True)
class MemoryRun(Run):
    """A ``Run`` whose rows come from a ``Result`` in memory, for ``scsim.lookup``."""

    result: Result = field(repr=False, compare=False)

    def has(self, table: str) -> bool:
        """True if the run has ``table``."""
        return table in self.result.tables

    def citizen_rows(self, table: str, citizen: int) -> pa.Table:
        """The rows of ``table`` about one citizen (people, events and audit are by citizen)."""
        return self.result.citizen_rows(table, citizen)


class Result:
    """A finished run in memory: ``timeseries``, ``people``, ``events``, ``audit`` frames,
    ``plot()``, ``lookup(citizen)`` and ``save(path)``."""

    def __init__(self, sim: Sim, preset: str | None, threads: int) -> None:
        self.sim = sim
        self.preset = preset
        self.threads = threads
        self.path: Path | None = None
        """Where ``save`` last wrote the run (None before)."""
        self._arrow: dict[str, pa.Table] = {}
        self._frames: dict[str, pl.DataFrame] = {}
        self._figures: list[tuple[str, dict[str, Any]]] | None = None

    @property
    def scenario(self) -> Scenario:
        """The scenario as run."""
        return self.sim.scenario

    @property
    def n(self) -> int:
        """Number of citizens."""
        return self.sim.n

    @property
    def days(self) -> int:
        """Days simulated."""
        return self.sim.days

    @property
    def seed(self) -> int:
        """The run's seed."""
        return self.sim.seed

    @property
    def timings(self) -> dict[str, float]:
        """Seconds spent building (``build_s``), compiling (``jit_s``), stepping (``step_s``)."""
        return dict(self.sim.timings)

    @property
    def tables(self) -> tuple[str, ...]:
        """Names of this run's tables (``timeseries_region`` only with regions)."""
        return tuple(t for t in TABLES if t != "timeseries_region" or self.sim.n_regions > 1)

    def arrow(self, name: str) -> pa.Table:
        """One table as a pyarrow Table, built once (as ``save`` would write it)."""
        from scsim import results as r

        if name not in self.tables:
            raise ValueError(
                f"table: {name!r} is not a table of this run; expected one of "
                f"{', '.join(self.tables)}"
            )
        if name not in self._arrow:
            build = {
                "timeseries": r.timeseries_table, "people": r.people_table,
                "events": r.events_table, "audit": r.audit_table,
                "distribution": r.distribution_table, "timeseries_region": r.region_table,
            }[name]  # fmt: skip
            self._arrow[name] = build(self.sim)
        return self._arrow[name]

    def frame(self, name: str) -> pl.DataFrame:
        """One table as a Polars DataFrame, sharing the Arrow table's buffers where it can."""
        import polars as pl

        if name not in self._frames:
            self._frames[name] = pl.from_arrow(self.arrow(name), rechunk=False)
        return self._frames[name]

    @property
    def timeseries(self) -> pl.DataFrame:
        """One row per day: mean score, score quantiles and every module's records."""
        return self.frame("timeseries")

    @property
    def people(self) -> pl.DataFrame:
        """Every citizen's final state: score, score components and per-citizen fields."""
        return self.frame("people")

    @property
    def events(self) -> pl.DataFrame:
        """The audit sample's events (day, citizen, kind, cause, delta, source)."""
        return self.frame("events")

    @property
    def audit(self) -> pl.DataFrame:
        """The audit sample's score and score components at the end of every day."""
        return self.frame("audit")

    def to_pandas(self, name: str) -> pd.DataFrame:
        """One table as a pandas DataFrame (``timeseries``, ``people``, ``events``, ...)."""
        return self.arrow(name).to_pandas()

    @property
    def figure_names(self) -> list[str]:
        """Names of the report's figures for this run, in the report's order."""
        return [name for name, _ in self._report_figures()]

    def plot(self, name: str | None = None) -> go.Figure | Figures:
        """The report's figure ``name`` as a plotly Figure; without a name, all of them."""
        import plotly.graph_objects as go

        figures = dict(self._report_figures())
        if name is None:
            return Figures({k: go.Figure(fig) for k, fig in figures.items()})
        if name not in figures:
            raise ValueError(
                f"plot: {name!r} is not a figure of this run; expected one of "
                f"{', '.join(figures) or '(none)'}"
            )
        return go.Figure(figures[name])

    def _report_figures(self) -> list[tuple[str, dict[str, Any]]]:
        """The figures the report draws, by name without its number (built once)."""
        if self._figures is None:
            figures = report_figures(self._manifest(), self._run_tables())
            names = [re.sub(r"^\d+_", "", name) for name, _ in figures]
            self._figures = [
                (short if names.count(short) == 1 else full, fig)
                for short, (full, fig) in zip(names, figures, strict=True)
            ]
        return self._figures

    def _run_tables(self) -> Any:
        from scsim.report import RunTables

        regions = self.arrow("timeseries_region") if self.sim.n_regions > 1 else None
        return RunTables(
            self.arrow("timeseries"), self.arrow("distribution"), regions, self.arrow("people")
        )

    def _manifest(self) -> dict[str, Any]:
        from scsim.results import manifest

        return manifest(self.sim, self.preset, self.threads)

    def citizen_rows(self, table: str, citizen: int) -> pa.Table:
        """The rows of ``people``, ``events`` or ``audit`` about one citizen."""
        from scsim.results import audit_table

        if table == "people":
            return self.arrow("people").slice(citizen, 1)
        if table == "events":
            events = self.arrow("events")
            ids = events.column("citizen").to_numpy()
            lo, hi = np.searchsorted(ids, [citizen, citizen + 1])
            return events.slice(int(lo), int(hi - lo))
        if table == "audit":
            log = self.sim.events
            audited = log.stride and citizen % log.stride == 0 and citizen // log.stride < log.size
            if not audited:
                return audit_table(self.sim, 0, 0)
            days = log.score.shape[0]
            k = citizen // log.stride
            return audit_table(self.sim, k * days, (k + 1) * days)
        raise ValueError(f"table: {table!r} has no rows by citizen; expected people, events, audit")

    def lookup(self, citizen: int) -> Lookup:
        """Everything the run kept about one citizen, as ``scsim lookup --json`` shows it."""
        from scsim.lookup import lookup

        if isinstance(citizen, bool) or not isinstance(citizen, int | np.integer):
            raise ValueError(
                f"citizen: {citizen!r} is not allowed; expected an integer from 0 to {self.n - 1}"
            )
        if not 0 <= citizen < self.n:
            raise ValueError(
                f"citizen: {citizen} is not allowed; expected an integer from 0 to "
                f"{self.n - 1} (the run has {self.n:,} citizens)"
            )
        run = MemoryRun(self.path or Path(IN_MEMORY), self._manifest(), self)
        return Lookup(lookup(run, int(citizen)))

    def save(self, path: str | Path, *, report: bool = True, png: bool = False) -> Path:
        """Write the standard run directory (``scsim report``, ``query``, ``lookup`` and
        ``explore`` read it) and return its path; ``path`` must not exist yet."""
        from scsim.results import write_run

        out = Path(path)
        if out.exists():
            raise ValueError(
                f"path: {str(out)!r} already exists; choose a new directory or remove it"
            )
        write_run(self.sim, out, self.preset, self.threads, png=png, report=report)
        self.path = out
        return out

    def final(self, record: str) -> float | None:
        """A record's value on the last day (None when the run does not record it)."""
        if record not in self.sim.record_names:
            return None
        return float(self.sim.record(record)[-1])

    def __repr__(self) -> str:
        name = self.preset or self.scenario.name
        end = [
            f"{value:,.0f} {record}"
            for record in ("listed", "banned")
            if (value := self.final(record)) is not None
        ]
        tail = f"; on the last day {', '.join(end)}" if end else ""
        return (
            f"<scsim.Result {name}: {self.n:,} citizens x {self.days:,} days, seed {self.seed}"
            f"{tail}>"
        )


def report_figures(manifest: dict[str, Any], tables: Any) -> list[tuple[str, dict[str, Any]]]:
    """The (name, figure) pairs the run report draws from ``tables``."""
    from scsim.report import render_body

    return render_body(manifest, tables, None, manifest.get("preset") or "run").figures
