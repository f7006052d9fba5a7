"""Render a paired comparison summary (``scsim.paired.summarise``) as one offline HTML file."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import plotly.graph_objects as go
import yaml
from plotly.subplots import make_subplots

from scsim.report.html import Embedder, document, esc, fmt, grid, section, table
from scsim.scale import number as fmt_number
from scsim.scale import people, stands_for

if TYPE_CHECKING:
    from rich.table import Table

COLOURS = {"paired": "#1f77b4", "unpaired": "#aaaaaa", "A": "#636efa", "B": "#ef553b"}


def _ci(ci: dict[str, float]) -> str:
    return f"[{fmt(ci['low'])}, {fmt(ci['high'])}]"


def signed_people(entry: dict[str, Any]) -> str:
    """B - A of a count in people (``+2.5 million``), ``-`` for a score."""
    if entry.get("people") is None:
        return "-"
    diff = entry["people"]["diff"]
    return ("+" if diff > 0 else "") + people(diff)


def _rows(entries: list[dict[str, Any]], with_region: bool, scaled: bool) -> list[list[str]]:
    rows = []
    for e in entries:
        label = f"{e['label']} ({e['region_name']})" if with_region else e["label"]
        rows.append(
            [
                esc(label), esc(fmt(e["mean_a"])), esc(fmt(e["mean_b"])), esc(fmt(e["diff"])),
                esc(_ci(e["paired"])), esc(_ci(e["unpaired"])), esc(fmt(e["width_ratio"])),
                *([esc(signed_people(e))] if scaled else []),
            ]
        )  # fmt: skip
    return rows


def _change(summary: dict[str, Any]) -> str:
    """What B changes, in a phrase: its one differing setting, or how many differ."""
    from scsim.runs import differences

    changed = [
        (p, x, y)
        for p, x, y in differences(summary["a"]["scenario"], summary["b"]["scenario"], "")
        if p not in ("name", "description") and not p.startswith("sources")
    ]
    if not changed:
        return f"{summary['b']['name']} (the same scenario as {summary['a']['name']})"
    if len(changed) == 1:
        path, x, y = changed[0]
        return f"{path} from {json.dumps(x)} to {json.dumps(y)}"
    return f"{summary['b']['name']} ({len(changed)} settings differ from {summary['a']['name']})"


def verdict(summary: dict[str, Any], most: int = 3) -> str:
    """What the policy changed and how sure we are, in one sentence: the outcomes whose paired
    interval excludes no change, largest relative to their interval first."""
    level = f"{summary['level']:.0%}"
    whole = [e for e in summary["outcomes"] if e["region"] is None]
    clear = [e for e in whole if e["paired"]["low"] > 0 or e["paired"]["high"] < 0]
    half = {id(e): (e["paired"]["high"] - e["paired"]["low"]) / 2 or 1.0 for e in clear}
    clear.sort(key=lambda e: abs(e["diff"]) / half[id(e)], reverse=True)
    start = f"Over {summary['replicates']} paired replicates, changing {_change(summary)}"
    if not clear:
        return f"{start} changed no outcome clearly: every paired {level} interval includes 0."
    said = []
    for e in clear[:most]:
        way = "raised" if e["diff"] > 0 else "lowered"
        label = e["label"][:1].lower() + e["label"][1:]
        text = (
            f"{way} {label} from {fmt(e['mean_a'])} to {fmt(e['mean_b'])} "
            f"({e['diff']:+,.4g}, {level} interval {_ci(e['paired'])}"
        )
        people_diff = f", {signed_people(e)} people" if e.get("people") is not None else ""
        said.append(text + people_diff + ")")
    rest = len(whole) - len(said)
    tail = f"; {rest} other outcomes changed less clearly or not at all" if rest else ""
    return f"{start} {'; '.join(said)}{tail}. Each interval excludes 0: the change is clear."


def terminal_table(summary: dict[str, Any]) -> Table:
    """The whole-population outcomes as a rich table for ``scsim compare`` (with B - A in
    people when each citizen stands for many)."""
    from rich.markup import escape
    from rich.table import Table

    level, scaled = f"{summary['level']:.0%}", summary.get("represents", 1.0) > 1
    a, b = (escape(summary[side]["name"]) for side in ("a", "b"))
    title = f"B - A over {summary['replicates']} paired replicates (A: {a}, B: {b})"
    columns = ["outcome", "mean A", "mean B", "B - A", f"paired {level} CI"]
    columns += [f"unpaired {level} CI", "width ratio", *(["B - A, people"] if scaled else [])]
    table = Table(*columns, title=title)
    for e in summary["outcomes"]:
        if e["region"] is not None:
            continue
        ratio = e["width_ratio"]
        table.add_row(
            e["label"], f"{e['mean_a']:,.2f}", f"{e['mean_b']:,.2f}", f"{e['diff']:+,.2f}",
            f"[{e['paired']['low']:,.2f}, {e['paired']['high']:,.2f}]",
            f"[{e['unpaired']['low']:,.2f}, {e['unpaired']['high']:,.2f}]",
            "n/a" if ratio is None else f"{ratio:.3f}", *([signed_people(e)] if scaled else []),
        )  # fmt: skip
    return table


def _forest(entries: list[dict[str, Any]], level: float) -> go.Figure:
    """One panel per outcome (each on its own scale): paired vs unpaired interval of B - A."""
    fig = make_subplots(
        rows=len(entries), cols=1, subplot_titles=[e["label"] for e in entries],
        vertical_spacing=min(0.08, 0.6 / max(len(entries), 1)),
    )  # fmt: skip
    for k, e in enumerate(entries):
        for kind in ("paired", "unpaired"):
            ci = e[kind]
            fig.add_trace(
                go.Scatter(
                    x=[e["diff"]], y=[kind], mode="markers",
                    marker=dict(color=COLOURS[kind], size=9),
                    error_x=dict(type="data", symmetric=False, array=[ci["high"] - e["diff"]],
                                 arrayminus=[e["diff"] - ci["low"]], color=COLOURS[kind]),
                    name=f"{kind} {level:.0%} CI", showlegend=k == 0,
                ),
                row=k + 1, col=1,
            )  # fmt: skip
        fig.add_vline(x=0, line=dict(color="#888", dash="dot"), row=k + 1, col=1)
    fig.update_layout(height=100 + 130 * len(entries))
    return fig


def _trajectories(trajectories: dict[str, dict[str, list[float]]], names: tuple[str, str]):
    """Per-day means over replicates of A and B, one panel per quantity."""
    keys = list(trajectories)
    fig = make_subplots(rows=len(keys), cols=1, subplot_titles=keys, vertical_spacing=0.12)
    for k, key in enumerate(keys):
        for side, name in zip(("a", "b"), names, strict=True):
            values = trajectories[key][side]
            fig.add_trace(
                go.Scatter(
                    x=list(range(len(values))), y=values, mode="lines",
                    name=f"{side.upper()}: {name}", showlegend=k == 0,
                    line=dict(color=COLOURS[side.upper()]),
                ),
                row=k + 1, col=1,
            )  # fmt: skip
        fig.update_xaxes(title_text="day", row=k + 1, col=1)
    fig.update_layout(height=80 + 300 * len(keys))
    return fig


def render_comparison(summary: dict[str, Any]) -> str:
    """The comparison report: what was compared, paired differences, forest plot, trajectories."""
    from scsim.runs import differences

    a, b = summary["a"], summary["b"]
    names = (a["name"], b["name"])
    level = summary["level"]
    factor = summary.get("represents", 1.0)
    scaled = factor > 1
    embed = Embedder()
    changed = list(differences(a["scenario"], b["scenario"], ""))
    changes = "".join(
        f"<li><code>{esc(p)}</code>: A {esc(json.dumps(x))}, B {esc(json.dumps(y))}</li>"
        for p, x, y in changed
    )
    facts = [
        ("A", esc(f"{a['name']} (scenario {a['scenario_hash']})")),
        ("B", esc(f"{b['name']} (scenario {b['scenario_hash']})")),
        ("citizens", esc(fmt(summary["n"]))),
        *([("people", esc(stands_for(factor)))] if scaled else []),
        ("days", esc(fmt(summary["days"]))),
        ("replicates", esc(fmt(summary["replicates"]))),
        ("seeds", esc(f"{summary['seeds'][0]} to {summary['seeds'][-1]} (seed + replicate)")),
        ("scsim_version", esc(summary["scsim_version"])),
        ("created", esc(summary["created"])),
    ]
    said = esc(verdict(summary))
    head = (
        f'<header id="run"><h1>scsim comparison: {esc(names[0])} vs {esc(names[1])}</h1>'
        f'<p class="summary">{said}</p>'
        f"<details><summary>How it was run</summary>{table(facts)}</details>"
        "<h3>What differs (B vs A)</h3>"
        f"<ul>{changes or '<li>nothing: the scenarios are identical</li>'}</ul></header>"
    )
    whole = [e for e in summary["outcomes"] if e["region"] is None]
    regional = [e for e in summary["outcomes"] if e["region"] is not None]
    header = [
        "outcome", "mean A", "mean B", "B - A", f"paired {level:.0%} CI",
        f"unpaired {level:.0%} CI", "width ratio", *(["B - A, people"] if scaled else []),
    ]  # fmt: skip
    note = (
        "<p>Replicate r runs A and B with the same seed, so they share every random draw the "
        "policy does not touch. The paired interval is a t interval over the replicate "
        "differences; the unpaired (Welch) one ignores the pairing. Width ratio: paired width / "
        "unpaired width (below 1: the pairing removed noise)."
        + (" B - A, people: the difference of a count in people (each synthetic citizen "
           f"standing for {fmt_number(factor)})." if scaled else "")
        + "</p>"
    )  # fmt: skip
    paired = note + grid(header, _rows(whole, False, scaled))
    parts = [head, section("differences", "Paired differences", paired)]
    if regional:
        parts.append(section("regions", "By region", grid(header, _rows(regional, True, scaled))))
    forest_note = "<p>B - A with its paired and unpaired interval, one panel per outcome.</p>"
    if whole:
        forest = forest_note + embed(_forest(whole, level), "forest")
        parts.append(section("forest", "Intervals", forest))
    parts.append(
        section("trajectories", "Trajectories (mean over replicates, per day)",
                embed(_trajectories(summary["trajectories"], names), "trajectories"))
    )  # fmt: skip
    for side, label in ((a, "A"), (b, "B")):
        text = yaml.safe_dump(side["scenario"], sort_keys=False, allow_unicode=True)
        parts.append(section(f"scenario-{label.lower()}", f"Scenario {label}: {side['name']}",
                             f"<pre>{esc(text)}</pre>"))  # fmt: skip
    return document(f"scsim comparison: {names[0]} vs {names[1]}", "\n".join(parts))
