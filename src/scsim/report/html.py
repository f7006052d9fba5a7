"""HTML building blocks shared by the run report and the comparison report."""

from __future__ import annotations

import html
import math
import re
from typing import Any

import numpy as np
import plotly.graph_objects as go

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
        self.figures: list[tuple[str, go.Figure]] = []

    def __call__(self, fig: go.Figure, name: str) -> str:
        fig.update_layout(
            template="plotly_white",
            margin=dict(l=60, r=20, t=50, b=50),
            legend=dict(orientation="h", yanchor="bottom", y=1.02, x=0),
        )
        self.count += 1
        slug = re.sub(r"[^a-z0-9_]+", "_", name.lower()).strip("_") or "figure"
        self.figures.append((f"{self.count:02d}_{slug}", fig))
        return fig.to_html(
            full_html=False,
            include_plotlyjs=self.count == 1,
            config={"displaylogo": False, "responsive": True},
        )


def lines(day: np.ndarray, series: dict[str, np.ndarray], columns: list[str], title: str,
          y_title: str = "agents") -> go.Figure:  # fmt: skip
    """One overlay line figure of ``columns`` over days."""
    fig = go.Figure([go.Scatter(x=day, y=series[c], mode="lines", name=c) for c in columns])
    fig.update_layout(height=360, title=title, xaxis_title="day", yaxis_title=y_title)
    return fig
