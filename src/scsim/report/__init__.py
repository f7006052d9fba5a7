"""Render a run directory as one self-contained, offline HTML report, with a PNG of every
figure under ``<run>/plots/``. Helpers: ``html`` (building blocks), ``sections`` (what the report
shows), ``png`` (static images), ``comparison`` (the paired-comparison report)."""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from scsim.report import sections as s
from scsim.report import travel, who
from scsim.report.html import Embedder, document, get
from scsim.report.png import export_pngs
from scsim.report.records import Records
from scsim.report.summary import summary_section
from scsim.scale import represents


@dataclass(frozen=True)
class RunTables:
    """The tables a report shows: the run's timeseries, score histogram (distribution),
    timeseries by region and the people columns of "Who is hit", each None if the run has
    none."""

    timeseries: pa.Table
    distribution: pa.Table | None = None
    regions: pa.Table | None = None
    people: pa.Table | None = None


def read_tables(run_dir: Path) -> RunTables:
    """The report's tables of the run in ``run_dir``, read from its parquet files."""

    def read(name: str) -> pa.Table | None:
        path = run_dir / name
        # one file: ParquetFile reads it without loading pyarrow.dataset (0.1-0.2 s to import)
        return pq.ParquetFile(path).read() if path.exists() else None

    people = None
    if (run_dir / "people.parquet").exists():
        file = pq.ParquetFile(run_dir / "people.parquet")
        people = file.read(columns=[c for c in who.COLUMNS if c in file.schema_arrow.names])
    return RunTables(
        pq.ParquetFile(run_dir / "timeseries.parquet").read(),
        read("distribution.parquet"),
        read("timeseries_region.parquet"),
        people,
    )


@dataclass(frozen=True)
class ReportBody:
    """A run report's title and every section but the header, which shows the run's timings
    (a writer can render the body while it writes the run's files, and the header last)."""

    title: str
    html: str
    figures: list[tuple[str, Any]] = field(default_factory=list)
    """Every figure of the body by its file-safe name (``scsim.run(...).plot`` shows them)."""


def write_report(
    run_dir: Path, png: bool = True, tables: RunTables | None = None,
    body: ReportBody | None = None,
) -> Path:  # fmt: skip
    """Write ``run_dir/report.html`` atomically (and, with ``png``, ``run_dir/plots/*.png``);
    ``tables`` saves reading them back when the caller has just written them, ``body`` saves
    rendering it (and its PNGs) when the caller already has."""
    run_dir = Path(run_dir)
    text = render_report(run_dir, png=png, tables=tables, body=body)
    target = run_dir / "report.html"
    fd, tmp_name = tempfile.mkstemp(dir=run_dir, prefix=".report-", suffix=".html.tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.chmod(tmp_name, 0o644)  # mkstemp makes it private; a report is meant to be shared
        os.replace(tmp_name, target)
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise
    return target


def render_report(
    run_dir: Path, png: bool = False, tables: RunTables | None = None,
    body: ReportBody | None = None,
) -> str:  # fmt: skip
    """Return the HTML document for the run in ``run_dir`` (its tables read from there unless
    given; its body rendered unless given); with ``png``, also save every figure as
    ``run_dir/plots/<name>.png`` (the document says if that was skipped)."""
    run_dir = Path(run_dir)
    manifest = json.loads((run_dir / "manifest.json").read_text(encoding="utf-8"))
    if body is None:
        tables = read_tables(run_dir) if tables is None else tables
        body = render_body(manifest, tables, run_dir / "plots" if png else None, run_dir.name)
    header = s.header(manifest, body.title)
    return document(f"scsim report: {body.title}", f"{header}\n{body.html}")


def render_body(
    manifest: dict[str, Any], tables: RunTables, plots: Path | None, run_name: str
) -> ReportBody:
    """Every section of the report but the header, from the run's manifest (only its preset,
    scenario and region names) and tables; with ``plots``, also save every figure as
    ``plots/<name>.png`` (the body says if that was skipped). ``run_name`` is the title when
    there is neither a preset nor a scenario name."""
    series = numeric_columns(tables.timeseries)
    histogram = score_histogram(tables.distribution) if tables.distribution is not None else None
    region_series = numeric_columns(tables.regions) if tables.regions is not None else None
    embed = Embedder()
    scenario = manifest.get("scenario") or {}
    title = manifest.get("preset") or get(scenario, "name") or run_name
    records = Records.of(manifest)
    false = records.false(series)
    known = {*s.SCORE_COLUMNS, *s.BANNED_COLUMNS, *s.SPEECH_COLUMNS, *s.NETWORK_COLUMNS}
    known |= {s.SILENCED, *s.sanction_columns(series, records), *false}
    known |= {*records.where(series, section="perks"), *travel.columns(series)}
    silenced_absent = '<p class="absent">Silenced speech: not recorded in this run.</p>'
    n, factor = int(manifest.get("n") or 1), represents(manifest)
    parts = [
        summary_section(series, n, factor),
        s.headline(series, factor),
        who.who_is_hit(tables.people, manifest, embed),
        s.distribution(series, histogram, embed),
        s.line_section("banned", "Banned over time", series, list(s.BANNED_COLUMNS), embed,
                       records, s.NOTES["banned"]),
        s.sanctions_and_perks(series, embed, records),
        travel.bookings(series, n, factor, embed),
        s.line_section("false-records", "False records and wrongful listings", series, false,
                       embed, records, s.NOTES["false"]),
        s.line_section("speech", "Detected speech over time", series, list(s.SPEECH_COLUMNS),
                       embed, records, s.NOTES["speech"]),
        s.line_section("silenced", "Silenced speech", series, [s.SILENCED], embed, records,
                       s.NOTES["silenced"], silenced_absent),
        s.line_section("network", "Network fragmentation", series, list(s.NETWORK_COLUMNS),
                       embed, records, s.NOTES["network"]),
        s.regions(region_series, manifest.get("region_names"), embed),
        s.other(series, known, embed, records),
    ]  # fmt: skip
    if plots is not None:
        status = export_pngs(embed.figures, plots)
    else:
        status = "not requested (write_report(..., png=False))"
    parts += [s.plots(status, [name for name, _ in embed.figures]), s.scenario(scenario)]
    return ReportBody(title, "\n".join(parts), embed.figures)


def score_histogram(table: pa.Table) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return (days, bin edges, counts[bin, day]) from the long-format histogram table."""
    day = table.column("day").to_numpy()
    lo = table.column("bin_lo").to_numpy()
    hi = table.column("bin_hi").to_numpy()
    days, col = np.unique(day, return_inverse=True)
    # Edges are the union of all bin bounds, so bins that are empty on every day stay visible.
    edges = np.unique(np.concatenate([lo, hi]))
    row = np.searchsorted(edges, lo)
    counts = np.zeros((max(len(edges) - 1, 0), len(days)), dtype=np.int64)
    np.add.at(counts, (row, col), table.column("count").to_numpy())
    return days, edges.astype(np.float64), counts


def numeric_columns(table: pa.Table) -> dict[str, np.ndarray]:
    """The numeric columns of a table as numpy arrays."""
    numeric = (pa.types.is_integer, pa.types.is_floating)
    return {
        field.name: table.column(field.name).to_numpy()
        for field in table.schema
        if any(test(field.type) for test in numeric)
    }
