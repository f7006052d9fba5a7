"""Render a run directory as one self-contained, offline HTML report."""

from __future__ import annotations

import html
import json
import math
import os
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import plotly.graph_objects as go
import pyarrow as pa
import pyarrow.parquet as pq
import yaml
from plotly.subplots import make_subplots

PERCENTILES = ("score_p05", "score_p25", "score_p50", "score_p75", "score_p95")
SCORE_COLUMNS = ("day", "mean_score", *PERCENTILES)
BANNED_COLUMNS = ("banned", "listed", "newly_banned")
SPEECH_COLUMNS = ("speech_attempted", "speech_detected")
NOT_RECORDED = '<p class="absent">Not recorded in this run.</p>'

# (label, column, reduction) rows of the headline table; absent columns are skipped.
HEADLINES = (
    ("Final mean score", "mean_score", "final"),
    ("Final median score", "score_p50", "final"),
    ("Final banned", "banned", "final"),
    ("Peak banned", "banned", "peak"),
    ("Final listed", "listed", "final"),
    ("Total newly banned", "newly_banned", "total"),
    ("Total speech attempted", "speech_attempted", "total"),
    ("Total speech detected", "speech_detected", "total"),
    ("Total infractions committed", "infractions_committed", "total"),
    ("Total infractions detected", "infractions_detected", "total"),
    ("Total good acts", "good_acts", "total"),
)

CSS = """
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif;
       max-width: 1100px; margin: 2em auto; padding: 0 1em; color: #222; }
h1 { margin-bottom: 0.2em; } h2 { border-bottom: 1px solid #ddd; padding-bottom: 0.2em; }
table { border-collapse: collapse; } td, th { padding: 0.2em 0.8em; text-align: left; }
th { color: #555; font-weight: 600; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
pre { background: #f6f6f6; padding: 1em; overflow-x: auto; font-size: 0.85em; }
.absent { color: #888; font-style: italic; } .description { color: #444; }
"""


def write_report(run_dir: Path) -> Path:
    """Write ``run_dir/report.html`` atomically and return its path."""
    run_dir = Path(run_dir)
    document = render_report(run_dir)
    target = run_dir / "report.html"
    fd, tmp_name = tempfile.mkstemp(dir=run_dir, prefix=".report-", suffix=".html.tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(document)
        os.chmod(tmp_name, 0o644)  # mkstemp makes it private; a report is meant to be shared
        os.replace(tmp_name, target)
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise
    return target


def render_report(run_dir: Path) -> str:
    """Return the full HTML document for the run in ``run_dir``."""
    manifest = json.loads((run_dir / "manifest.json").read_text(encoding="utf-8"))
    series = _read_columns(run_dir / "timeseries.parquet")
    distribution = run_dir / "distribution.parquet"
    histogram = score_histogram(pq.read_table(distribution)) if distribution.exists() else None
    embed = _Embedder()
    scenario = manifest.get("scenario") or {}
    title = manifest.get("preset") or _get(scenario, "name") or run_dir.name
    body = "\n".join(
        [
            _header(manifest, title),
            _headline(series),
            _distribution_section(series, histogram, embed),
            _lines_section("banned", "Banned over time", series, BANNED_COLUMNS, embed),
            _lines_section("speech", "Detected speech over time", series, SPEECH_COLUMNS, embed),
            _other_section(series, embed),
            _scenario_section(scenario),
        ]
    )
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f"<title>scsim report: {_esc(title)}</title>\n<style>{CSS}</style>\n</head>\n"
        f"<body>\n{body}\n</body>\n</html>\n"
    )


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


class _Embedder:
    """Turn figures into HTML divs, inlining plotly.js with the first one only."""

    def __init__(self) -> None:
        self.count = 0

    def __call__(self, fig: go.Figure) -> str:
        fig.update_layout(
            template="plotly_white",
            margin=dict(l=60, r=20, t=50, b=50),
            legend=dict(orientation="h", yanchor="bottom", y=1.02, x=0),
        )
        self.count += 1
        return fig.to_html(
            full_html=False,
            include_plotlyjs=self.count == 1,
            config={"displaylogo": False, "responsive": True},
        )


def _read_columns(path: Path) -> dict[str, np.ndarray]:
    """Read the numeric columns of a parquet file as numpy arrays."""
    table = pq.read_table(path)
    numeric = (pa.types.is_integer, pa.types.is_floating)
    return {
        field.name: table.column(field.name).to_numpy()
        for field in table.schema
        if any(test(field.type) for test in numeric)
    }


def _esc(value: Any) -> str:
    """HTML-escape the string form of any value."""
    return html.escape(str(value))


def _get(mapping: Any, key: str, default: Any = None) -> Any:
    """Return ``mapping[key]`` if mapping is a dict, else the default."""
    return mapping.get(key, default) if isinstance(mapping, dict) else default


def _fmt(value: Any) -> str:
    """Format a number for humans: thousands separators, few decimals."""
    if isinstance(value, (int, np.integer)):
        return f"{int(value):,}"
    if isinstance(value, (float, np.floating)):
        if not math.isfinite(value):
            return "n/a"
        return f"{value:,.2f}" if abs(value) >= 1 else f"{value:.4g}"
    return str(value)


def _table(rows: list[tuple[str, str]], numeric: bool = False) -> str:
    """Render (label, already-escaped value) rows as a two-column table."""
    cls = ' class="num"' if numeric else ""
    cells = "".join(f"<tr><th>{_esc(k)}</th><td{cls}>{v}</td></tr>" for k, v in rows)
    return f"<table>{cells}</table>"


def _header(manifest: dict[str, Any], title: str) -> str:
    """Render what was run, where, and how fast."""
    n, days = manifest.get("n"), manifest.get("days")
    timings = manifest.get("timings") or {}
    machine = manifest.get("machine") or {}
    step_s = timings.get("step_s")
    rate = n * days / step_s if isinstance(n, int) and isinstance(days, int) and step_s else None
    rows = [(key, _esc(_fmt(manifest.get(key, "n/a")))) for key in ("n", "days", "threads")]
    rows += [
        (key, _esc(manifest.get(key, "n/a")))
        for key in ("seed", "scsim_version", "scenario_hash", "created")
    ]
    rows.append(("machine", _esc(", ".join(f"{k}: {v}" for k, v in machine.items()))))
    spent = ", ".join(f"{k.removesuffix('_s')} {_fmt(v)} s" for k, v in timings.items())
    rows.append(("timings", _esc(spent)))
    rows.append(("agent-steps/s", _esc(f"{rate:,.0f}" if rate else "n/a")))
    description = _get(manifest.get("scenario"), "description")
    desc = f'<p class="description">{_esc(description)}</p>' if description else ""
    return f'<header id="run"><h1>scsim run: {_esc(title)}</h1>{desc}{_table(rows)}</header>'


def _headline(series: dict[str, np.ndarray]) -> str:
    """Render the headline numbers table from the timeseries."""
    rows = []
    for label, column, how in HEADLINES:
        values = series.get(column)
        if values is None or len(values) == 0:
            continue
        if how == "final":
            rows.append((label, _esc(_fmt(values[-1]))))
        elif how == "total":
            rows.append((label, _esc(_fmt(values.sum()))))
        else:
            peak = int(np.nanargmax(values))
            day = series["day"][peak] if "day" in series else peak
            rows.append((label, _esc(f"{_fmt(values[peak])} (day {_fmt(day)})")))
    content = _table(rows, numeric=True) if rows else NOT_RECORDED
    return f'<section id="headline"><h2>Headline numbers</h2>{content}</section>'


def _distribution_section(
    series: dict[str, np.ndarray],
    histogram: tuple[np.ndarray, np.ndarray, np.ndarray] | None,
    embed: _Embedder,
) -> str:
    """Render the score heatmap with percentile lines, and the interquartile band."""
    parts = []
    day = series.get("day")
    if histogram is not None and histogram[2].size:
        days, edges, counts = histogram
        with np.errstate(divide="ignore"):
            z = np.where(counts > 0, np.log10(counts), np.nan)
        top = max(int(np.ceil(np.nanmax(z))), 1)
        fig = go.Figure(
            go.Heatmap(
                x=days,
                y=edges,
                z=z,
                customdata=counts,
                colorscale="Viridis",
                colorbar=dict(
                    title="agents",
                    tickvals=list(range(top + 1)),
                    ticktext=[f"{10**k:,}" for k in range(top + 1)],
                ),
                hovertemplate="day %{x}<br>score %{y}<br>agents %{customdata}<extra></extra>",
            )
        )
        for column, dash in (("score_p05", "dot"), ("score_p50", "solid"), ("score_p95", "dot")):
            if day is not None and column in series:
                fig.add_trace(
                    go.Scatter(
                        x=day,
                        y=series[column],
                        mode="lines",
                        name=column.removeprefix("score_"),
                        line=dict(color="white", dash=dash, width=1.5),
                    )
                )
        fig.update_layout(
            height=480,
            title="Agents per score bin (log colour scale)",
            xaxis_title="day",
            yaxis_title="score",
        )
        parts.append(embed(fig))
    if day is not None and {"score_p25", "score_p75"} <= series.keys():
        fig = go.Figure(
            [
                go.Scatter(
                    x=day,
                    y=series["score_p75"],
                    mode="lines",
                    line=dict(width=0),
                    showlegend=False,
                    hoverinfo="skip",
                ),
                go.Scatter(
                    x=day,
                    y=series["score_p25"],
                    mode="lines",
                    line=dict(width=0),
                    fill="tonexty",
                    fillcolor="rgba(99,110,250,0.25)",
                    name="p25–p75",
                ),
            ]
        )
        for column, name in (("score_p50", "median"), ("mean_score", "mean")):
            if column in series:
                fig.add_trace(go.Scatter(x=day, y=series[column], mode="lines", name=name))
        fig.update_layout(
            height=360, title="Score percentiles", xaxis_title="day", yaxis_title="score"
        )
        parts.append(embed(fig))
    content = "".join(parts) or NOT_RECORDED
    return f'<section id="score-distribution"><h2>Score distribution</h2>{content}</section>'


def _lines_section(
    section_id: str,
    title: str,
    series: dict[str, np.ndarray],
    columns: tuple[str, ...],
    embed: _Embedder,
) -> str:
    """Render one overlay line figure of those ``columns`` that are present."""
    present = [c for c in columns if c in series]
    if "day" not in series or not present:
        return f'<section id="{section_id}"><h2>{_esc(title)}</h2>{NOT_RECORDED}</section>'
    fig = go.Figure(
        [go.Scatter(x=series["day"], y=series[c], mode="lines", name=c) for c in present]
    )
    fig.update_layout(height=360, xaxis_title="day", yaxis_title="agents")
    return f'<section id="{section_id}"><h2>{_esc(title)}</h2>{embed(fig)}</section>'


def _other_section(series: dict[str, np.ndarray], embed: _Embedder) -> str:
    """Render small multiples of every record column not plotted elsewhere."""
    known = {*SCORE_COLUMNS, *BANNED_COLUMNS, *SPEECH_COLUMNS}
    others = [c for c in series if c not in known]
    heading = "<h2>Other records</h2>"
    if "day" not in series or not others:
        return f'<section id="other-records">{heading}{NOT_RECORDED}</section>'
    cols = 1 if len(others) == 1 else 2
    rows = math.ceil(len(others) / cols)
    fig = make_subplots(
        rows=rows, cols=cols, subplot_titles=others, vertical_spacing=min(0.12, 0.5 / rows)
    )
    for i, column in enumerate(others):
        fig.add_trace(
            go.Scatter(
                x=series["day"], y=series[column], mode="lines", name=column, showlegend=False
            ),
            row=i // cols + 1,
            col=i % cols + 1,
        )
    fig.update_layout(height=80 + 240 * rows)
    names = ", ".join(f"<code>{_esc(c)}</code>" for c in others)
    return f'<section id="other-records">{heading}<p>Columns: {names}</p>{embed(fig)}</section>'


def _scenario_section(scenario: Any) -> str:
    """Render the scenario as run (YAML) and its cited sources."""
    text = yaml.safe_dump(scenario, sort_keys=False, allow_unicode=True, default_flow_style=False)
    sources = _get(scenario, "sources")
    listing = ""
    if isinstance(sources, dict) and sources:
        items = "".join(
            f"<li><strong>{_esc(k)}</strong>: {_esc(v)}</li>" for k, v in sources.items()
        )
        listing = f"<h3>Sources</h3><ul>{items}</ul>"
    elif isinstance(sources, list) and sources:
        listing = "<h3>Sources</h3><ul>" + "".join(f"<li>{_esc(s)}</li>" for s in sources) + "</ul>"
    return (
        f'<section id="scenario"><h2>Scenario as run</h2><pre>{_esc(text)}</pre>{listing}</section>'
    )
