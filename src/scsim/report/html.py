"""HTML building blocks shared by the run report and the comparison report."""

from __future__ import annotations

import html
import json
import math
import re
from typing import Any

import numpy as np

from scsim.report.figures import Figure, encoded, plotly_js, template

MARGIN = {"l": 60, "r": 20, "t": 50, "b": 50}
LEGEND = {"orientation": "h", "yanchor": "bottom", "y": 1.02, "x": 0}

PLOTLY_CONFIG = {"displaylogo": False, "responsive": True}
PLOTLY_WINDOW_CONFIG = "window.PlotlyConfig = {MathJaxConfig: 'local'};"

NOT_RECORDED = '<p class="absent">Not recorded in this run.</p>'

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


def esc(value: Any) -> str:
    """HTML-escape the string form of any value."""
    return html.escape(str(value))


def get(mapping: Any, key: str, default: Any = None) -> Any:
    """Return ``mapping[key]`` if mapping is a dict, else the default."""
    return mapping.get(key, default) if isinstance(mapping, dict) else default


def fmt(value: Any) -> str:
    """Format a number for humans: thousands separators, few decimals."""
    if isinstance(value, (int, np.integer)):
        return f"{int(value):,}"
    if isinstance(value, (float, np.floating)):
        if not math.isfinite(value):
            return "n/a"
        return f"{value:,.2f}" if abs(value) >= 1 else f"{value:.4g}"
    if value is None:
        return "n/a"
    return str(value)


def table(rows: list[tuple[str, str]], numeric: bool = False) -> str:
    """Render (label, already-escaped value) rows as a two-column table."""
    cls = ' class="num"' if numeric else ""
    cells = "".join(f"<tr><th>{esc(k)}</th><td{cls}>{v}</td></tr>" for k, v in rows)
    return f"<table>{cells}</table>"


def grid(header: list[str], rows: list[list[str]]) -> str:
    """Render a table with a header row; cells are already escaped, all but the first numeric."""
    head = "".join(f"<th>{esc(h)}</th>" for h in header)
    body = "".join(
        "<tr>" + f"<th>{row[0]}</th>" + "".join(f'<td class="num">{c}</td>' for c in row[1:])
        + "</tr>"
        for row in rows
    )  # fmt: skip
    return f"<table><tr>{head}</tr>{body}</table>"


def section(section_id: str, title: str, content: str) -> str:
    """A report section with its heading."""
    return f'<section id="{section_id}"><h2>{esc(title)}</h2>{content}</section>'


def document(title: str, body: str) -> str:
    """A complete HTML document with the shared style."""
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f"<title>{esc(title)}</title>\n<style>{CSS}</style>\n</head>\n"
        f"<body>\n{body}\n</body>\n</html>\n"
    )


class Embedder:
    """Turn figures into HTML divs, inlining plotly.js with the first one only; keep every
    figure by a file-safe name so it can also be saved as a PNG."""

    def __init__(self) -> None:
        self.count = 0
        self.figures: list[tuple[str, Figure]] = []

    def __call__(self, fig: Figure | Any, name: str) -> str:
        """The HTML of ``fig`` (a ``figures.Figure`` dict, or anything with ``to_dict`` such as
        a ``plotly.graph_objects.Figure``) in the report's style."""
        if hasattr(fig, "to_dict"):
            fig = fig.to_dict()
        layout = dict(fig.get("layout", {}))
        layout["template"] = template("plotly_white")
        layout["margin"] = {**layout.get("margin", {}), **MARGIN}
        layout["legend"] = {**layout.get("legend", {}), **LEGEND}
        fig = encoded({**fig, "layout": layout})
        self.count += 1
        slug = re.sub(r"[^a-z0-9_]+", "_", name.lower()).strip("_") or "figure"
        self.figures.append((f"{self.count:02d}_{slug}", fig))
        return plotly_div(fig, f"figure-{self.count:02d}_{slug}", self.count == 1)


def script_json(value: Any) -> str:
    """Compact JSON that is safe inside a ``<script>`` element (as plotly.io writes it)."""
    text = json.dumps(value, separators=(",", ":"), allow_nan=False)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("/", "\\u002f")


def plotly_div(fig: Figure, div_id: str, with_library: bool) -> str:
    """A figure's div and the script that draws it, laid out as ``plotly.io.to_html`` does
    (``full_html=False``); with ``with_library``, plotly.js itself is inlined before it."""
    height = fig["layout"].get("height")
    library = f"<script>{PLOTLY_WINDOW_CONFIG}</script><script>{plotly_js()}</script>"
    return (
        f'<div style="height:{f"{height}px" if height else "100%"}; width:100%;">'
        f"{library if with_library else ''}"
        f'<div id="{div_id}" class="plotly-graph-div" style="height:100%; width:100%;"></div>'
        "<script>window.PLOTLYENV=window.PLOTLYENV || {};"
        f'if (document.getElementById("{div_id}")) {{Plotly.newPlot("{div_id}", '
        f"{script_json(fig.get('data', []))}, {script_json(fig['layout'])}, "
        f"{script_json(PLOTLY_CONFIG)})}};</script></div>"
    )
