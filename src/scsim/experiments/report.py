"""The sweep report (``report.html``, PNG copies under ``plots/``): each outcome against each
parameter with replicate intervals, heat maps over pairs of parameters (with a named outcome
level drawn as a boundary), and Sobol or Morris indices with confidence intervals (SALib).

Point means average the replicates; an interval is the mean +- t(0.975, R - 1) x sd / sqrt(R)
over the R replicates of a point (none with one replicate). Indices are computed on the point
means, so replicate noise does not count as parameter influence.
"""

from __future__ import annotations

import json
from itertools import combinations
from pathlib import Path
from typing import Any

import numpy as np
import plotly.graph_objects as go
import pyarrow.parquet as pq
from plotly.subplots import make_subplots

from scsim.report.html import Embedder, document, esc, fmt, grid, section, table
from scsim.report.png import export_pngs

MAX_CELLS = 8
"""Bins per axis of a heat map when a parameter takes more distinct values than this."""


def point_stats(values: np.ndarray, point: np.ndarray, count: int) -> tuple[np.ndarray, ...]:
    """Per point: mean over replicates, and the half-width of its 95 % interval (NaN for one
    replicate)."""
    from scipy import stats

    mean = np.full(count, np.nan)
    half = np.full(count, np.nan)
    for i in range(count):
        y = values[point == i]
        y = y[np.isfinite(y)]
        if len(y):
            mean[i] = y.mean()
        if len(y) > 1:
            half[i] = stats.t.ppf(0.975, len(y) - 1) * y.std(ddof=1) / np.sqrt(len(y))
    return mean, half


def _axis(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Cell index of every value and the cells' centres: the distinct values, or equal bins."""
    distinct = np.unique(x)
    if len(distinct) <= MAX_CELLS:
        return np.searchsorted(distinct, x), distinct
    edges = np.linspace(x.min(), x.max(), MAX_CELLS + 1)
    return np.clip(np.digitize(x, edges[1:-1]), 0, MAX_CELLS - 1), (edges[:-1] + edges[1:]) / 2


def heat(x: np.ndarray, y: np.ndarray, z: np.ndarray) -> tuple[np.ndarray, ...]:
    """Mean of ``z`` per (x cell, y cell): centres along x, along y, and the (y, x) grid."""
    ix, cx = _axis(x)
    iy, cy = _axis(y)
    total = np.zeros((len(cy), len(cx)))
    count = np.zeros((len(cy), len(cx)))
    ok = np.isfinite(z)
    np.add.at(total, (iy[ok], ix[ok]), z[ok])
    np.add.at(count, (iy[ok], ix[ok]), 1)
    with np.errstate(invalid="ignore"):
        return cx, cy, total / count


def indices(kind: str, manifest: dict, means: dict[str, np.ndarray], matrix: np.ndarray) -> dict:
    """Sobol (S1, ST) or Morris (mu*, sigma) indices of every outcome, each with its 95 %
    confidence half-width; empty for other designs."""
    if kind not in ("sobol", "morris"):
        return {}
    from SALib.analyze import morris, sobol

    spec = manifest["spec"]
    params = manifest["parameters"]
    problem = {
        "num_vars": len(params),
        "names": [p["name"] for p in params],
        "bounds": [[spec["parameters"][p["path"]][k] for k in ("low", "high")] for p in params],
    }
    out = {}
    seed = spec["seed"]
    for name, y in means.items():
        if not np.isfinite(y).all() or np.ptp(y) == 0:
            out[name] = None  # constant or missing: no variance to apportion
            continue
        if kind == "sobol":
            s = sobol.analyze(problem, y, calc_second_order=False, seed=seed)
            out[name] = {k: np.asarray(s[k]).tolist() for k in ("S1", "S1_conf", "ST", "ST_conf")}
        else:
            levels = spec["design"]["levels"]
            s = morris.analyze(problem, matrix, y, num_levels=levels, seed=seed)
            out[name] = {k: np.asarray(s[k]).tolist() for k in ("mu_star", "mu_star_conf", "sigma")}
    return out


def _against(label, params, means, halves, points) -> go.Figure:
    fig = make_subplots(rows=1, cols=len(params), shared_yaxes=True, horizontal_spacing=0.04)
    for c, p in enumerate(params, start=1):
        x = np.array([pt[p["path"]] for pt in points], dtype=float)
        order = np.argsort(x, kind="stable")
        error = None
        if np.isfinite(halves).any():
            error = {"type": "data", "array": np.nan_to_num(halves[order]).tolist()}
        fig.add_trace(go.Scatter(x=x[order], y=means[order], mode="markers", error_y=error,
                                 name=label, showlegend=False, marker={"size": 7}),
                      row=1, col=c)  # fmt: skip
        fig.update_xaxes(title_text=p["name"], row=1, col=c)
    fig.update_layout(title=f"{label} against each parameter (point means, 95 % intervals)",
                      height=380)  # fmt: skip
    return fig


def _pair(label, a, b, x, y, z, boundary) -> go.Figure:
    cx, cy, grid_ = heat(x, y, z)
    fig = go.Figure(go.Heatmap(x=cx, y=cy, z=grid_, colorscale="Viridis",
                               colorbar={"title": {"text": label}}))  # fmt: skip
    title = f"{label} over {a} x {b}"
    if boundary is not None and np.nanmin(grid_) < boundary < np.nanmax(grid_):
        fig.add_trace(go.Contour(x=cx, y=cy, z=grid_, showscale=False, contours={
            "start": boundary, "end": boundary, "coloring": "lines", "showlabels": True},
            colorscale=[[0, "white"], [1, "white"]], line={"width": 3},
            name=f"boundary {fmt(boundary)}"))  # fmt: skip
        title += f"; white line: {label} = {fmt(boundary)}"
    fig.update_layout(title=title, xaxis_title=a, yaxis_title=b, height=480)
    return fig


def _indices_figure(kind, label, names, values) -> go.Figure:
    fig = go.Figure()
    pairs = [("S1", "S1_conf", "first order"), ("ST", "ST_conf", "total")]
    if kind == "morris":
        pairs = [("mu_star", "mu_star_conf", "mu* (mean |effect|)"), ("sigma", None, "sigma")]
    for key, conf, title in pairs:
        error = {"type": "data", "array": values[conf]} if conf else None
        fig.add_trace(go.Bar(x=names, y=values[key], error_y=error, name=title))
    what = "Sobol indices" if kind == "sobol" else "Morris elementary effects"
    fig.update_layout(title=f"{what} of {label} (95 % confidence)", barmode="group", height=400)
    return fig


def render(sweep_dir: Path, png: bool = True) -> tuple[Path, str | None]:
    """Write ``report.html`` (and PNGs) for a sweep directory; return its path and why PNGs
    were skipped (None when written or not asked)."""
    manifest = json.loads((sweep_dir / "sweep.json").read_text())
    data = pq.read_table(sweep_dir / "results.parquet").to_pydict()
    params, points = manifest["parameters"], manifest["points"]
    spec = manifest["spec"]
    kind = spec["design"]["kind"]
    point = np.asarray(data["point"])
    embed = Embedder()
    parts = [f"<h1>Sweep: {esc(manifest['name'])}</h1>"]
    if spec.get("description"):
        parts.append(f'<p class="description">{esc(spec["description"])}</p>')
    parts.append(table([
        ("base scenario", esc(spec["base"])),
        ("citizens per run", fmt(manifest["n"])), ("days", fmt(manifest["days"])),
        ("design", esc(kind)), ("points", fmt(len(points))),
        ("replicates per point (seeds shared by every point)", fmt(spec["replicates"])),
        ("runs with a result", f"{fmt(len(point))} of {fmt(manifest['tasks'])}"),
    ]))  # fmt: skip
    rows = [[esc(p["name"]), esc(p["path"]), esc(_range(spec["parameters"][p["path"]]))]
            for p in params]  # fmt: skip
    parts.append(section("parameters", "What was varied", grid(["name", "path", "range"], rows)))
    labels = {k: o["label"] or k for k, o in manifest["outcomes"].items()}
    means, figures = {}, []
    for name, label in labels.items():
        values = np.asarray(data[name], dtype=float)
        means[name], halves = point_stats(values, point, len(points))
        figures.append(embed(_against(label, params, means[name], halves, points),
                             f"{name}_against_parameters"))  # fmt: skip
        boundary = spec.get("boundaries", {}).get(name)
        for a, b in combinations(params, 2):
            x = np.array([pt[a["path"]] for pt in points], dtype=float)
            y = np.array([pt[b["path"]] for pt in points], dtype=float)
            fig = _pair(label, a["name"], b["name"], x, y, means[name], boundary)
            figures.append(embed(fig, f"{name}_{a['name']}_{b['name']}"))
    parts.append(section("outcomes", "Outcomes", "".join(figures)))
    if kind in ("sobol", "morris"):
        matrix = np.array([[pt[p["path"]] for p in params] for pt in points], dtype=float)
        found = indices(kind, manifest, means, matrix)
        names = [p["name"] for p in params]
        body = [
            embed(_indices_figure(kind, labels[k], names, v), f"indices_{k}")
            if v else f"<p>{esc(labels[k])}: constant over the sweep; no indices.</p>"
            for k, v in found.items()
        ]  # fmt: skip
        (sweep_dir / "indices.json").write_text(json.dumps(found, indent=2))
        parts.append(section("sensitivity", "Which parameters matter", "".join(body)))
    return write_page(sweep_dir / "report.html", f"scsim sweep {manifest['name']}", parts, embed,
                      png)  # fmt: skip


def write_page(
    target: Path, title: str, parts: list[str], embed: Embedder, png: bool
) -> tuple[Path, str | None]:
    """Write an HTML page atomically and its figures as PNGs under ``plots/`` beside it;
    return its path and why the PNGs were skipped (None when written or not asked)."""
    tmp = target.with_name(f".{target.name}.partial")
    tmp.write_text(document(title, "\n".join(parts)))
    tmp.replace(target)
    skipped = export_pngs(embed.figures, target.parent / "plots") if png else None
    return target, skipped


def _range(p: dict[str, Any]) -> str:
    if p.get("values") is not None:
        return ", ".join(map(str, p["values"]))
    return f"{fmt(p['low'])} to {fmt(p['high'])}"
