"""The sections of a run report. Timeseries columns are read generically: every column a module
records shows up in the section its name belongs to (``sanction_*``, ``perk*``, ``false_*``,
...) or, failing that, under "Other records"."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import yaml

from scsim.report.figures import (
    VIRIDIS,
    axes,
    figure,
    line_figure,
    scatter,
    subplot_grid,
    title_dict,
)  # fmt: skip
from scsim.report.html import NOT_RECORDED, Embedder, esc, fmt, get, grid, section, table
from scsim.report.records import Records
from scsim.scale import people, represents, stands_for

PERCENTILES = ("score_p05", "score_p25", "score_p50", "score_p75", "score_p95")
SCORE_COLUMNS = ("day", "mean_score", *PERCENTILES)
BANNED_COLUMNS = ("banned", "listed", "newly_banned")
SPEECH_COLUMNS = ("speech_attempted", "speech_detected")
SANCTION_GROUPS = ("sanction", "sanction_imposed", "sanction_family")
NETWORK_COLUMNS = ("ties_cut", "largest_component")
SILENCED = "speech_silenced"
NOTES = {
    "banned": "At the end of each day: citizens under any sanction and on the blacklist; and "
    "the citizens newly sanctioned that day.",
    "false": "Records of acts a citizen did not commit (misidentified, misattributed) and "
    "citizens listed although the true record would not have listed them.",
    "speech": "Political speech acts each day, and those the authorities detected.",
    "silenced": "Speech acts citizens held back each day for fear of being scored, against "
    "the same citizens with no fear (common random numbers).",
    "network": "Friendship ties cut each day, and the size of the largest connected group.",
}
"""One sentence per figure on how to read it."""

# (label, column, reduction) rows of the headline table; absent columns are skipped.
HEADLINES = (
    ("Final mean score", "mean_score", "final"),
    ("Final median score", "score_p50", "final"),
    ("Final banned", "banned", "final"),
    ("Peak banned", "banned", "peak"),
    ("Final listed", "listed", "final"),
    ("Total newly banned", "newly_banned", "total"),
    ("Final wrongly listed", "wrongly_listed", "final"),
    ("Total newly wrongly listed", "newly_wrongly_listed", "total"),
    ("Total speech attempted", "speech_attempted", "total"),
    ("Total speech detected", "speech_detected", "total"),
    ("Total speech silenced", SILENCED, "total"),
    ("Total ties cut", "ties_cut", "total"),
    ("Total infractions committed", "infractions_committed", "total"),
    ("Total infractions detected", "infractions_detected", "total"),
    ("Total good acts", "good_acts", "total"),
)

Series = dict[str, np.ndarray]


def sanction_columns(series: Series, records: Records) -> list[str]:
    """Every sanction tier's records (held, imposed, on family)."""
    return [c for g in SANCTION_GROUPS for c in records.where(series, group=g)]


def header(manifest: dict[str, Any], title: str) -> str:
    """What was run, where, and how fast."""
    n, days = manifest.get("n"), manifest.get("days")
    timings = manifest.get("timings") or {}
    machine = manifest.get("machine") or {}
    step_s = timings.get("step_s")
    rate = n * days / step_s if isinstance(n, int) and isinstance(days, int) and step_s else None
    rows = [(key, esc(fmt(manifest.get(key, "n/a")))) for key in ("n", "days", "threads")]
    rows += [
        (key, esc(manifest.get(key, "n/a")))
        for key in ("seed", "scsim_version", "scenario_hash", "created")
    ]
    rows.append(("machine", esc(", ".join(f"{k}: {v}" for k, v in machine.items()))))
    spent = ", ".join(f"{k.removesuffix('_s')} {fmt(v)} s" for k, v in timings.items())
    rows.append(("timings", esc(spent)))
    rows.append(("agent-steps/s", esc(f"{rate:,.0f}" if rate else "n/a")))
    description = get(manifest.get("scenario"), "description")
    desc = f'<p class="description">{esc(description)}</p>' if description else ""
    factor = represents(manifest)
    if factor > 1:
        desc += (
            f'<p class="represents">{esc(stands_for(factor))} Figures and tables count synthetic '
            "citizens; the headline numbers also give each count in the full population.</p>"
        )
    details = f"<details><summary>How it was run</summary>{table(rows)}</details>"
    return f'<header id="run"><h1>scsim run: {esc(title)}</h1>{desc}{details}</header>'


def headline(series: Series, factor: float = 1.0) -> str:
    """The headline numbers table from the timeseries; with ``factor`` > 1 (people each
    citizen stands for), every count (an integer column) also in the full population."""
    rows = []
    for label, column, how in HEADLINES:
        values = series.get(column)
        if values is None or len(values) == 0:
            continue
        count = factor > 1 and np.issubdtype(values.dtype, np.integer)
        if how == "peak":
            peak = int(np.nanargmax(values))
            value, day = values[peak], series["day"][peak] if "day" in series else peak
        else:
            value, day = (values[-1] if how == "final" else values.sum()), None
        # a final or peak count is of citizens; a total counts acts or events (speech, new bans)
        unit = "in the full population" if how == "total" else "people"
        notes = [f"{people(float(value) * factor)} {unit}"] if count else []
        notes += [f"day {fmt(day)}"] if day is not None else []
        rows.append((label, esc(fmt(value) + (f" ({'; '.join(notes)})" if notes else ""))))
    content = table(rows, numeric=True) if rows else NOT_RECORDED
    return section("headline", "Headline numbers", content)


def distribution(
    series: Series, histogram: tuple[np.ndarray, np.ndarray, np.ndarray] | None, embed: Embedder
) -> str:
    """The score heatmap with percentile lines, and the interquartile band."""
    parts = []
    day = series.get("day")
    if histogram is not None and histogram[2].size:
        days, edges, counts = histogram
        with np.errstate(divide="ignore"):
            z = np.where(counts > 0, np.log10(counts), np.nan)
        top = max(int(np.ceil(np.nanmax(z))), 1)
        heatmap = {
            "type": "heatmap", "x": days, "y": edges, "z": z, "customdata": counts,
            "colorscale": VIRIDIS,
            "colorbar": {
                "title": title_dict("agents"),
                "tickvals": list(range(top + 1)),
                "ticktext": [f"{10**k:,}" for k in range(top + 1)],
            },
            "hovertemplate": "day %{x}<br>score %{y}<br>agents %{customdata}<extra></extra>",
        }  # fmt: skip
        traces = [heatmap]
        for column, dash in (("score_p05", "dot"), ("score_p50", "solid"), ("score_p95", "dot")):
            if day is not None and column in series:
                traces.append(
                    scatter(
                        day, series[column], mode="lines", name=column.removeprefix("score_"),
                        line={"color": "white", "dash": dash, "width": 1.5},
                    )
                )  # fmt: skip
        fig = figure(
            traces, height=480, title=title_dict("Agents per score bin (log colour scale)"),
            xaxis={"title": title_dict("day")}, yaxis={"title": title_dict("score")},
        )  # fmt: skip
        parts.append(embed(fig, "score_heatmap"))
    if day is not None and {"score_p25", "score_p75"} <= series.keys():
        traces = [
            scatter(day, series["score_p75"], mode="lines", line={"width": 0},
                    showlegend=False, hoverinfo="skip"),
            scatter(day, series["score_p25"], mode="lines", line={"width": 0},
                    fill="tonexty", fillcolor="rgba(99,110,250,0.25)", name="p25–p75"),
        ]  # fmt: skip
        for column, name in (("score_p50", "median"), ("mean_score", "mean")):
            if column in series:
                traces.append(scatter(day, series[column], mode="lines", name=name))
        fig = figure(
            traces, height=360, title=title_dict("Score percentiles"),
            xaxis={"title": title_dict("day")}, yaxis={"title": title_dict("score")},
        )  # fmt: skip
        parts.append(embed(fig, "score_percentiles"))
    return section("score-distribution", "Score distribution", "".join(parts) or NOT_RECORDED)


def line_section(
    section_id: str, title: str, series: Series, columns: list[str], embed: Embedder,
    records: Records, note: str = "", absent: str = NOT_RECORDED,
) -> str:  # fmt: skip
    """One overlay line figure of those ``columns`` that are present (``absent`` if none),
    after ``note`` (one sentence on how to read it)."""
    present = [c for c in columns if c in series]
    if "day" not in series or not present:
        return section(section_id, title, absent)
    fig = line_figure(series["day"], series, present, title, records)
    return section(section_id, title, _note(note, present) + embed(fig, section_id))


def _note(note: str, columns: list[str]) -> str:
    """A figure's reading note and, in small print, the columns it draws."""
    names = ", ".join(f"<code>{esc(c)}</code>" for c in columns)
    text = f"<p>{esc(note)}</p>" if note else ""
    return f'{text}<p class="columns">Columns of timeseries.parquet: {names}</p>'


def sanctions_and_perks(series: Series, embed: Embedder, records: Records) -> str:
    """Every sanction (held, imposed, on family) and every perk over time."""
    if "day" not in series:
        return section("sanctions-perks", "Sanctions and perks", NOT_RECORDED)
    day, parts = series["day"], []
    groups = (
        ("Sanctions held", records.where(series, group="sanction"),
         "Citizens under each sanction at the end of each day."),
        ("Sanctions imposed per day", records.where(series, group="sanction_imposed"),
         "Citizens on whom each sanction was imposed that day."),
        ("Sanctions on family members", records.where(series, group="sanction_family"),
         "Children under a sanction because of a family member's listing, each day."),
        ("Perks held", records.where(series, section="perks"),
         "Citizens holding each perk at the end of each day."),
    )  # fmt: skip
    for title, columns, note in groups:
        if columns:
            fig = line_figure(day, series, columns, title, records)
            parts.append(f"<h3>{esc(title)}</h3>{_note(note, columns)}{embed(fig, title)}")
    return section("sanctions-perks", "Sanctions and perks", "".join(parts) or NOT_RECORDED)


def regions(region_series: Series | None, names: list[str] | None, embed: Embedder) -> str:
    """Final outcomes by region (table) and mean score and banned by region over time."""
    title = "Outcomes by region"
    if not region_series or "region" not in region_series or "day" not in region_series:
        return section("regions", title, '<p class="absent">No regions in this run.</p>')
    region, day = region_series["region"], region_series["day"]
    ids = np.unique(region)
    label = {int(k): (names[int(k)] if names and int(k) < len(names) else str(k)) for k in ids}
    last = day == day.max()
    columns = [c for c in region_series if c not in ("day", "region")]
    finals = [c for c in ("mean_score", "banned", "listed", "wrongly_listed") if c in columns]
    totals = [c for c in ("newly_banned", "speech_detected", SILENCED) if c in columns]
    rows = []
    for k in ids:
        mine = region == k
        row = [esc(label[int(k)])]
        row += [esc(fmt(region_series[c][mine & last][0])) for c in finals]
        row += [esc(fmt(region_series[c][mine].sum())) for c in totals]
        rows.append(row)
    header = ["region", *(f"final {c}" for c in finals), *(f"total {c}" for c in totals)]
    parts = [grid(header, rows)]
    for column in ("mean_score", "banned"):
        if column not in columns:
            continue
        traces = [
            scatter(day[region == k], region_series[column][region == k], mode="lines",
                    name=label[int(k)])
            for k in ids
        ]  # fmt: skip
        fig = figure(
            traces, height=400, title=title_dict(f"{column} by region"),
            xaxis={"title": title_dict("day")}, yaxis={"title": title_dict(column)},
        )  # fmt: skip
        parts.append(embed(fig, f"region_{column}"))
    return section("regions", title, "".join(parts))


def other(series: Series, known: set[str], embed: Embedder, records: Records) -> str:
    """Small multiples of every record column not plotted elsewhere."""
    others = [c for c in series if c not in known]
    if "day" not in series or not others:
        return section("other-records", "Other records", NOT_RECORDED)
    cols = 1 if len(others) == 1 else 2
    rows = math.ceil(len(others) / cols)
    titles = [f"{records.label(c)} ({records.unit(c)})" for c in others]
    fig = subplot_grid(rows, cols, titles, vertical_spacing=min(0.12, 0.5 / rows))
    fig["data"] = [
        scatter(series["day"], series[column], mode="lines", name=records.label(column),
                showlegend=False, **axes(i))
        for i, column in enumerate(others)
    ]  # fmt: skip
    fig["layout"]["height"] = 80 + 240 * rows
    note = _note("Every other record the modules keep, one panel each, by day.", others)
    return section("other-records", "Other records", note + embed(fig, "other_records"))


def plots(status: str | None, names: list[str]) -> str:
    """Where the PNG copies of the figures are, or why they were skipped."""
    if status is None and names:
        files = ", ".join(f"<code>plots/{esc(n)}.png</code>" for n in names)
        content = f"<p>Every figure is also saved as a PNG: {files}.</p>"
    elif status is None:
        content = '<p class="absent">No figures.</p>'
    else:
        content = f'<p class="absent">PNGs were skipped: {esc(status)}</p>'
    return section("plots", "Static images", content)


def scenario(scenario: Any) -> str:
    """The scenario as run (YAML) and its cited sources."""
    text = yaml.safe_dump(scenario, sort_keys=False, allow_unicode=True, default_flow_style=False)
    sources = get(scenario, "sources")
    listing = ""
    if isinstance(sources, dict) and sources:
        items = "".join(f"<li><strong>{esc(k)}</strong>: {esc(v)}</li>" for k, v in sources.items())
        listing = f"<h3>Sources</h3><ul>{items}</ul>"
    elif isinstance(sources, list) and sources:
        listing = "<h3>Sources</h3><ul>" + "".join(f"<li>{esc(s)}</li>" for s in sources) + "</ul>"
    return section("scenario", "Scenario as run", f"<pre>{esc(text)}</pre>{listing}")
