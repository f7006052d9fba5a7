"""The report's "Who is hit" section: blacklisting, bans and wrongful listings by income, age,
occupation and region, from every citizen's final state (``people.parquet``)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pyarrow as pa

from scsim.report.figures import axes, subplot_grid, title_dict
from scsim.report.html import Embedder, esc, fmt, grid, section

COLUMNS = ("listed", "days_listed", "wrongful", "sanctions_held", "score", "age", "income",
           "occupation", "region")  # fmt: skip
"""The people columns this section reads (those a run lacks are left out)."""
AGES = ((0, 18, "under 18"), (18, 30, "18–29"), (30, 45, "30–44"), (45, 60, "45–59"),
        (60, 200, "60 and over"))  # fmt: skip
RESERVED_OCCUPATIONS = ("none", "student", "retired")
"""Occupation codes 0-2 (the population module's); the scenario's catalogue follows."""
MAX_REGIONS = 40
"""More regions than this are left to the regions section's map of shares."""


CHUNK = 1 << 20
"""Citizens grouped at a time: the section's memory stays a few megabytes at any population."""

Coder = Callable[[slice], np.ndarray]
"""A grouping's codes for a slice of citizens."""


def _groups(people: dict[str, np.ndarray], manifest: dict[str, Any]) -> dict[str, tuple]:
    """Grouping -> (group labels, a function giving each citizen's group code for a slice of
    citizens), for the groupings the run's people table allows."""
    out: dict[str, tuple[list[str], Coder]] = {}
    if "income" in people:
        income = people["income"]
        labels = ["no income of their own"]
        earners = income[income > 0]
        edges = None
        if earners.size >= 5:
            edges = np.quantile(earners, [0.2, 0.4, 0.6, 0.8])
            labels += ["poorest fifth", "second fifth", "middle fifth", "fourth fifth",
                       "richest fifth"]  # fmt: skip

        def income_codes(part: slice) -> np.ndarray:
            x = income[part]
            if edges is None:
                return np.zeros(x.size, dtype=np.int64)
            return np.where(x > 0, 1 + np.searchsorted(edges, x, side="right"), 0)

        out["income (of earners)"] = (labels, income_codes)
    if "age" in people:
        bounds = np.array([hi for _, hi, _ in AGES[:-1]])
        out["age"] = (
            [name for *_, name in AGES],
            lambda part: np.searchsorted(bounds, people["age"][part], "right"),
        )
    if "occupation" in people:
        catalogue = (manifest.get("scenario") or {}).get("modules", {}).get("population") or {}
        names = RESERVED_OCCUPATIONS + tuple(o["name"] for o in catalogue.get("occupations") or [])
        occupation = people["occupation"]
        count = max(len(names), int(occupation.max()) + 1) if occupation.size else len(names)
        out["occupation"] = ([names[c] if c < len(names) else f"occupation {c}"
                              for c in range(count)],
                             lambda part: occupation[part].astype(np.int64))  # fmt: skip
    regions = manifest.get("region_names") or []
    if "region" in people and 1 < len(regions) <= MAX_REGIONS:
        out["region"] = (list(regions), lambda part: people["region"][part].astype(np.int64))
    return out


def _outcomes(people: dict[str, np.ndarray]) -> dict[str, Callable[[slice], np.ndarray]]:
    """Each outcome's citizens (a boolean mask) for a slice of citizens."""
    out: dict[str, Callable[[slice], np.ndarray]] = {}
    if "listed" in people:
        out["listed at the end"] = lambda part: people["listed"][part]
    if "days_listed" in people:
        out["ever listed"] = lambda part: people["days_listed"][part] > 0
    if "wrongful" in people:
        out["wrongly listed"] = lambda part: people["wrongful"][part]
    if "sanctions_held" in people:
        out["banned at the end"] = lambda part: people["sanctions_held"][part] > 0
    return out


def rates(people: dict[str, np.ndarray], manifest: dict[str, Any]) -> dict[str, list[dict]]:
    """Per grouping, per group: its size and, per 1 000 of its citizens, those listed at the
    end, ever listed, wrongly listed at the end and holding a ban at the end; its mean score.
    Citizens are counted ``CHUNK`` at a time."""
    n = len(next(iter(people.values()))) if people else 0
    outcomes = _outcomes(people)
    result: dict[str, list[dict]] = {}
    for grouping, (labels, codes_of) in _groups(people, manifest).items():
        k = len(labels)
        size = np.zeros(k, dtype=np.int64)
        sums = {name: np.zeros(k, dtype=np.int64) for name in outcomes}
        score = np.zeros(k, dtype=np.float64)
        for start in range(0, n, CHUNK):
            part = slice(start, start + CHUNK)
            codes = codes_of(part)
            size += np.bincount(codes, minlength=k)
            for name, hit in outcomes.items():
                sums[name] += np.bincount(codes[hit(part)], minlength=k)
            if "score" in people:
                score += np.bincount(codes, people["score"][part], k)
        rows = []
        for g, label in enumerate(labels):
            if size[g] == 0:
                continue
            row = {"group": label, "citizens": int(size[g])}
            row |= {name: f"{1000 * total[g] / size[g]:.1f}" for name, total in sums.items()}
            if "score" in people:
                row["mean score"] = f"{score[g] / size[g]:.0f}"
            rows.append(row)
        result[grouping] = rows
    return result


def _chart(by: dict[str, list[dict]], panels: list[str]) -> dict[str, Any]:
    """Bars of those listed at the end per 1 000, one panel per grouping in ``panels``."""
    fig = subplot_grid(1, len(panels), [f"Listed at the end, by {p}" for p in panels], 0.1)
    for k, grouping in enumerate(panels):
        rows = by[grouping]
        values = [float(r["listed at the end"]) for r in rows]
        fig["data"].append({"type": "bar", "x": [r["group"] for r in rows], "y": values,
                            "showlegend": False, **axes(k)})  # fmt: skip
        suffix = "" if k == 0 else str(k + 1)
        fig["layout"].setdefault(f"yaxis{suffix}", {})["title"] = title_dict("per 1 000 citizens")
    fig["layout"]["height"] = 380
    return fig


def who_is_hit(table: pa.Table | None, manifest: dict[str, Any], embed: Embedder) -> str:
    """The section: a table per grouping and a bar chart of those listed per 1 000."""
    if table is None or "listed" not in table.column_names:
        return ""
    people = {c: table[c].to_numpy() for c in COLUMNS if c in table.column_names}
    by = rates(people, manifest)
    if not any(by.values()):
        return ""
    tables, panels = [], [g for g in ("income (of earners)", "age") if by.get(g)]
    for grouping, rows in by.items():
        if not rows:
            continue
        header = [grouping] + [k for k in rows[0] if k != "group"]
        body = [
            [esc(r["group"])]
            + [esc(fmt(v) if isinstance(v, int) else v) for v in list(r.values())[1:]]
            for r in rows
        ]
        tables.append(f"<h3>By {esc(grouping)}</h3>" + grid(header, body))
    text = (
        "<p>Who pays: among each group of citizens at the end of the run, how many per 1 000 "
        "were on a blacklist, had ever been listed, were listed wrongly and held a ban, and the "
        "group's mean score. Income groups are fifths of those with an income of their own; "
        "children, students and most retired people have none. A group of a few hundred citizens "
        "varies by several per 1 000 from one seed to the next: compare seeds before reading a "
        "difference.</p>"
    )
    plot = embed(_chart(by, panels), "who_is_hit") if panels else ""
    return section("who", "Who is hit", text + plot + "".join(tables))
