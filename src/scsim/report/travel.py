"""The report's "Flights and trains" section: bookings refused under a ban, by mode."""

from __future__ import annotations

import re

import numpy as np

from scsim.report.figures import figure, scatter, title_dict
from scsim.report.html import Embedder, esc, fmt, grid, section
from scsim.scale import people

REFUSED = re.compile(r"^refused_([a-z][a-z0-9_]*)$")


def modes(series: dict[str, np.ndarray]) -> list[str]:
    """The travel modes the bookings module recorded (``bookings_<mode>`` and its refusals)."""
    found = [m.group(1) for c in series if (m := REFUSED.match(c))]
    return [m for m in found if f"bookings_{m}" in series and f"newly_refused_{m}" in series]


def columns(series: dict[str, np.ndarray]) -> set[str]:
    """Every column this section shows."""
    return {
        f"{kind}_{m}" for m in modes(series) for kind in ("bookings", "refused", "newly_refused")
    }


def bookings(series: dict[str, np.ndarray], n: int, factor: float, embed: Embedder) -> str:
    """Per mode: bookings tried, refused (and their share), citizens ever refused (per 1 000
    citizens, and in people with ``factor`` > 1); refusals and citizens refused over time."""
    found = modes(series)
    if "day" not in series or not found:
        return ""
    rows, traces = [], []
    for mode in found:
        tried = float(series[f"bookings_{mode}"].sum())
        refused = float(series[f"refused_{mode}"].sum())
        ever = np.cumsum(series[f"newly_refused_{mode}"])
        share = f"{100 * refused / tried:.2f} %" if tried else "n/a"
        whom = f"{fmt(int(ever[-1]))} ({1000 * ever[-1] / n:.2f} per 1 000)"
        if factor > 1:
            whom += f"; {people(ever[-1] * factor)} people"
        rows.append([esc(mode), esc(fmt(int(tried))), esc(f"{fmt(int(refused))} ({share})"),
                     esc(whom)])  # fmt: skip
        traces.append(scatter(series["day"], np.cumsum(series[f"refused_{mode}"]),
                              mode="lines", name=f"{mode}: bookings refused so far"))  # fmt: skip
        traces.append(scatter(series["day"], ever, mode="lines", line={"dash": "dot"},
                              name=f"{mode}: citizens refused at least once"))  # fmt: skip
    header = [
        "mode",
        "bookings tried",
        "refused (share of tries)",
        "citizens refused at least once",
    ]
    fig = figure(
        traces, height=380, title=title_dict("Bookings refused under a travel ban, so far"),
        xaxis={"title": title_dict("day")}, yaxis={"title": title_dict("synthetic citizens")},
    )  # fmt: skip
    text = (
        "<p>Citizens book trips at the published rates; a citizen who holds a mode's ban has "
        "every try refused. Solid lines count refused bookings, dotted lines the citizens who "
        "have been refused at least once.</p>"
    )
    return section("travel", "Flights and trains", text + grid(header, rows) + embed(fig, "travel"))
