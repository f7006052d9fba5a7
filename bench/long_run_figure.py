"""Draw the ten-year runs of bench/long_run.py: share listed and mean score per year and preset.

    python bench/long_run_figure.py         # bench/long_run.jsonl -> docs/long_run.png
    python bench/long_run_figure.py --before bench/long_run_before.jsonl --out docs/long_run.png

Takes the latest row of each preset (at the largest n) from the JSON lines written by
``long_run.py --json``; with ``--before``, the rows of an earlier code are drawn dashed beside
them. Needs Chromium for the PNG (``make browser``), as the reports' PNGs do.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from scsim.report.png import export_pngs

HERE = Path(__file__).resolve().parent
COLOURS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2",
           "#7f7f7f", "#bcbd22", "#17becf")  # fmt: skip


def latest(path: Path) -> dict[str, dict]:
    """The last row of each preset at the largest n in a long_run JSON-lines file."""
    rows: dict[str, dict] = {}
    for line in path.read_text().splitlines():
        row = json.loads(line)
        old = rows.get(row["preset"])
        if old is None or row["n"] >= old["n"]:
            rows[row["preset"]] = row
    return rows


def figure(after: dict[str, dict], before: dict[str, dict]) -> dict:
    """A plotly figure (a plain dict): listed share (log scale) and mean score by year."""
    traces = []
    for k, name in enumerate(sorted(after)):
        colour = COLOURS[k % len(COLOURS)]
        for rows, dash, label in ((after, "solid", ""), (before, "dash", " (before)")):
            row = rows.get(name)
            if row is None:
                continue
            years = list(range(1, len(row["mean"]) + 1))
            listed = [100 * v if v > 0 else None for v in row["listed"]]
            common = {"line": {"color": colour, "dash": dash}, "legendgroup": name}
            if any(v is not None for v in listed):
                traces.append({"type": "scatter", "x": years, "y": listed, "xaxis": "x",
                               "yaxis": "y", "name": name + label, "showlegend": False,
                               **common})  # fmt: skip
            traces.append({"type": "scatter", "x": years, "y": row["mean"], "xaxis": "x2",
                           "yaxis": "y2", "name": name + label, **common})  # fmt: skip
    n = max(r["n"] for r in after.values())
    return {
        "data": traces,
        "layout": {
            "height": 520,
            "title": {
                "text": f"Ten simulated years of every preset ({n:,} citizens; dashed: "
                "before the score had a memory)"
            },
            "xaxis": {"domain": [0, 0.45], "title": {"text": "year"}, "dtick": 1},
            "yaxis": {"type": "log", "title": {"text": "citizens on the blacklist (%, log)"}},
            "xaxis2": {"domain": [0.55, 1], "title": {"text": "year"}, "dtick": 1},
            "yaxis2": {"anchor": "x2", "title": {"text": "mean score"}},
            "legend": {"orientation": "h", "y": -0.2},
            "margin": {"t": 60},
        },
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--after", type=Path, default=HERE / "long_run.jsonl")
    ap.add_argument("--before", type=Path, default=HERE / "long_run_before.jsonl")
    ap.add_argument("--out", type=Path, default=HERE.parent / "docs" / "long_run.png")
    args = ap.parse_args()
    before = latest(args.before) if args.before.exists() else {}
    fig = figure(latest(args.after), before)
    staging = args.out.parent / f".{args.out.stem}-png"
    skipped = export_pngs([(args.out.stem, fig)], staging)
    if skipped:
        raise SystemExit(f"no PNG written: {skipped}")
    (staging / f"{args.out.stem}.png").replace(args.out)
    staging.rmdir()
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
