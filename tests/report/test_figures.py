"""The report's figures are built as plain dicts: they must be what plotly.py would have built."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import plotly.graph_objects as go
import pytest
from plotly.subplots import make_subplots

from scsim import report
from scsim.report.figures import axes, encoded, subplot_grid, typed_array
from scsim.report.html import Embedder
from tests.test_report import MODULE_COLUMNS, add_regions, make_run


class Recording(Embedder):
    """An Embedder that remembers itself, so a test can look at the figures of a report."""

    last: Embedder | None = None

    def __init__(self) -> None:
        super().__init__()
        Recording.last = self


def test_every_report_figure_is_plotlys_own_form(tmp_path: Path, monkeypatch) -> None:
    # plotly validates a figure and writes it back in canonical form (titles as {"text": ...},
    # named colour scales expanded, arrays as typed arrays): a dict that comes back unchanged
    # is exactly the figure graph_objects would have built, so nothing was lost
    run_dir = make_run(tmp_path / "run", extra=(*MODULE_COLUMNS, "widgets_made", "speech_silenced"))
    add_regions(run_dir)
    monkeypatch.setattr(report, "Embedder", Recording)
    report.render_report(run_dir)
    figures = Recording.last.figures
    assert len(figures) == 14  # every section with a figure, regions included
    for name, fig in figures:
        assert go.Figure(fig).to_dict() == fig, name
    heatmap = figures[0][1]["data"][0]
    assert heatmap["type"] == "heatmap" and heatmap["z"]["shape"] == "10, 30"  # bins x days


@pytest.mark.parametrize(
    "rows,cols,n_titles", [(1, 1, 1), (2, 2, 3), (6, 2, 11), (3, 2, 6), (38, 2, 75)]
)
def test_subplot_grid_is_make_subplots(rows: int, cols: int, n_titles: int) -> None:
    titles = [f"panel {k}" for k in range(n_titles)]
    spacing = min(0.12, 0.5 / rows)
    theirs = make_subplots(rows=rows, cols=cols, subplot_titles=titles, vertical_spacing=spacing)
    mine = subplot_grid(rows, cols, titles, vertical_spacing=spacing)
    for k in range(n_titles):
        theirs.add_trace(go.Scatter(x=[0, 1], y=[k, k]), row=k // cols + 1, col=k % cols + 1)
        mine["data"].append({"type": "scatter", "x": [0, 1], "y": [k, k], **axes(k)})
    expected = theirs.to_dict()
    expected["layout"].pop("template")
    assert mine == expected  # the same floats too: the same arithmetic in the same order


@pytest.mark.parametrize(
    "values",
    [
        np.arange(10, dtype=np.int64),  # narrowed to int8
        np.array([0, 40_000], dtype=np.int64),  # to int32
        np.array([0, 2**40], dtype=np.int64),  # too wide for plotly.js: a plain list
        np.array([0, 70_000], dtype=np.uint64),  # to uint32
        np.linspace(0, 1, 7, dtype=np.float32),
        np.array([[1.0, np.nan], [3.0, 4.0], [5.0, 6.0]]),  # 2-D with a gap, as the heatmap
        np.zeros(0),
    ],
)
def test_typed_arrays_as_plotly_encodes_them(values: np.ndarray) -> None:
    theirs = go.Figure(go.Heatmap(z=values) if values.ndim == 2 else go.Scatter(y=values))
    key = "z" if values.ndim == 2 else "y"
    expected = theirs.to_dict()["data"][0].get(key)
    if isinstance(expected, np.ndarray):  # left as an array, which plotly's JSON encoder lists
        expected = expected.tolist()
    assert typed_array(values) == expected


def test_encoded_makes_plain_json_data() -> None:
    value = {"a": (np.int64(3), np.float32(0.5)), "b": [float("nan"), np.inf, 1.0], "c": "x"}
    assert encoded(value) == {"a": [3, 0.5], "b": [None, None, 1.0], "c": "x"}
