"""Plotly figures as plain JSON-ready dicts (``{"data": [...], "layout": {...}}``).

Building ``plotly.graph_objects`` figures validates every property and deep-copies the template
per figure: that was most of the report's rendering time (0.4 s of 0.45 s for a run's report).
plotly.js takes the same JSON, so the report builds it directly, in the form plotly.py would
have produced (titles as ``{"text": ...}``, named colour scales expanded, numpy arrays as
base64 typed arrays).
"""

from __future__ import annotations

import base64
import functools
import importlib.util
import json
import math
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from scsim.report.records import Records

Figure = dict[str, Any]
"""A plotly figure as JSON-ready data: ``{"data": [trace, ...], "layout": {...}}``."""

VIRIDIS = [
    [k / 9, colour]
    for k, colour in enumerate(
        ("#440154", "#482878", "#3e4989", "#31688e", "#26828e",
         "#1f9e89", "#35b779", "#6ece58", "#b5de2b", "#fde725")
    )
]  # fmt: skip
"""plotly's "Viridis" as plotly.py expands it (plotly.js's built-in one has other stops)."""

TYPED = {
    "int8": "i1", "uint8": "u1", "int16": "i2", "uint16": "u2",
    "int32": "i4", "uint32": "u4", "float32": "f4", "float64": "f8",
}  # fmt: skip
"""numpy dtypes plotly.js reads as typed arrays, and their short names."""


def plotly_data(name: str) -> Path:
    """A file of plotly's ``package_data``, found without importing plotly (which costs more
    than the whole report)."""
    spec = importlib.util.find_spec("plotly")
    if spec is None or spec.origin is None:
        raise ModuleNotFoundError("plotly is not installed")
    return Path(spec.origin).parent / "package_data" / name


@functools.cache
def template(name: str) -> dict[str, Any]:
    """One of plotly's bundled layout templates (e.g. ``plotly_white``) as a dict."""
    return json.loads(plotly_data(f"templates/{name}.json").read_text(encoding="utf-8"))


@functools.cache
def plotly_js() -> str:
    """The plotly.js bundle that comes with plotly (what ``plotly.io.to_html`` inlines)."""
    return plotly_data("plotly.min.js").read_text(encoding="utf-8")


def title_dict(text: str) -> dict[str, str]:
    """A plotly title (of a figure, axis or colour bar)."""
    return {"text": text}


def figure(traces: list[dict[str, Any]], **layout: Any) -> Figure:
    """A figure of ``traces``; ``layout`` keys are plotly layout attributes."""
    return {"data": traces, "layout": layout}


def scatter(x: Any, y: Any, **props: Any) -> dict[str, Any]:
    """A scatter trace (``mode``, ``name``, ``line``, ... in ``props``)."""
    return {"type": "scatter", "x": x, "y": y, **props}


def line_figure(
    day: np.ndarray, series: dict[str, np.ndarray], columns: list[str], text: str,
    records: Records | None = None,
) -> Figure:  # fmt: skip
    """One overlay line figure of ``columns`` over days, each line named by its record's
    label and the y axis by their unit (``records``; else by column name, in agents)."""
    name = records.label if records is not None else str
    traces = [scatter(day, series[c], mode="lines", name=name(c)) for c in columns]
    y_title = records.units(columns) if records is not None else "agents"
    return figure(
        traces, height=360, title=title_dict(text),
        xaxis={"title": title_dict("day")}, yaxis={"title": title_dict(y_title)},
    )  # fmt: skip


def subplot_grid(rows: int, cols: int, titles: list[str], vertical_spacing: float) -> Figure:
    """An empty figure of ``rows`` x ``cols`` panels (filled row by row from the top), with
    panel ``k``'s axes ``x{k+1}``/``y{k+1}`` and ``titles`` above the panels, laid out as
    ``plotly.subplots.make_subplots`` does with its default spacing between columns."""
    spacing = 0.2 / cols
    width = (1.0 - spacing * (cols - 1)) / cols
    height = (1.0 - vertical_spacing * (rows - 1)) / rows
    layout: dict[str, Any] = {}
    annotations = []
    for k in range(rows * cols):
        row, col = divmod(k, cols)
        below = rows - 1 - row
        # sums, not products, as make_subplots computes them (the same floats to the last bit)
        x0 = sum([width] * col) + col * spacing
        y0 = sum([height] * below) + below * vertical_spacing
        x, y = (x0, x0 + width), (min(max(y0, 0.0), 1.0), min(max(y0 + height, 0.0), 1.0))
        suffix = "" if k == 0 else str(k + 1)
        layout[f"xaxis{suffix}"] = {"anchor": f"y{suffix}", "domain": list(x)}
        layout[f"yaxis{suffix}"] = {"anchor": f"x{suffix}", "domain": list(y)}
        if k < len(titles):
            annotations.append(
                {
                    "font": {"size": 16}, "showarrow": False, "text": titles[k],
                    "x": (x[0] + x[1]) / 2, "xanchor": "center", "xref": "paper",
                    "y": y[1], "yanchor": "bottom", "yref": "paper",
                }
            )  # fmt: skip
    layout["annotations"] = annotations
    return figure([], **layout)


def axes(k: int) -> dict[str, str]:
    """The trace properties that put a trace on panel ``k`` of a ``subplot_grid``."""
    suffix = "" if k == 0 else str(k + 1)
    return {"xaxis": f"x{suffix}", "yaxis": f"y{suffix}"}


def typed_array(values: np.ndarray) -> Any:
    """A numpy array as a plotly.js typed-array spec (base64 data), as plotly.py encodes it:
    64-bit integers narrowed to the smallest type that holds them; others left as they are."""
    if values.size == 0:
        return values.tolist()
    if values.dtype == np.int64 or values.dtype == np.uint64:
        lo, hi = values.min(), values.max()
        signed = values.dtype == np.int64
        for small in (np.int8, np.int16, np.int32) if signed else (np.uint8, np.uint16, np.uint32):
            info = np.iinfo(small)
            if info.min <= lo and hi <= info.max:
                values = values.astype(small)
                break
    short = TYPED.get(str(values.dtype))
    if short is None:
        return values.tolist()
    spec = {"dtype": short, "bdata": base64.b64encode(np.ascontiguousarray(values)).decode()}
    if values.ndim > 1:
        spec["shape"] = ", ".join(str(s) for s in values.shape)
    return spec


def encoded(value: Any) -> Any:
    """``value`` with every numpy array a typed-array spec, every numpy scalar a Python one and
    non-finite floats None: plain JSON data."""
    if isinstance(value, np.ndarray):
        return typed_array(value)
    if isinstance(value, dict):
        return {key: encoded(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [encoded(item) for item in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None  # plotly's JSON encoder writes NaN and infinities as null too
    return value
