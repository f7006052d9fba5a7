"""The sweep report on results whose answer is known: outcomes made from the design points by a
formula (no simulation), so the intervals, heat maps and indices can be checked."""

from __future__ import annotations

import json

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from scsim.experiments.report import heat, point_stats, render
from scsim.experiments.spec import load_sweep
from scsim.experiments.sweep import RESULTS, plan, write_manifest

THREE = {
    "modules.speech.penalty": {"low": -60.0, "high": -10.0},
    "modules.scoring.friend_pull": {"low": 0.0, "high": 0.1},
    "modules.speech.detect_prob": {"low": 0.1, "high": 0.9},
}


def fake_sweep(tmp_path, write_sweep, design, formula, replicates=1, **changes):
    """A sweep directory whose outcome ``y`` is ``formula(penalty, pull, detect, replicate)``."""
    sweep = load_sweep(write_sweep(parameters=THREE, design=design, replicates=replicates,
                                   outcomes={"y": "SELECT 1"}, **changes))  # fmt: skip
    p = plan(sweep, tmp_path / "sweep")
    p.out.mkdir()
    write_manifest(p)
    rows = {"point": [], "replicate": [], "y": []}
    for t in p.tasks:
        v = [t.values[path] for path in THREE]
        rows["point"].append(t.point)
        rows["replicate"].append(t.replicate)
        rows["y"].append(formula(*v, t.replicate))
    pq.write_table(pa.table(rows), p.out / RESULTS)
    return p.out


def test_sobol_indices_find_the_parameter_the_outcome_depends_on(tmp_path, write_sweep):
    # y = penalty + tiny pull: penalty carries all the variance, detect_prob none
    out = fake_sweep(tmp_path, write_sweep, {"kind": "sobol", "samples": 256},
                     lambda pen, pull, det, r: pen + 5 * pull)  # fmt: skip
    path, skipped = render(out, png=False)
    s = json.loads((out / "indices.json").read_text())["y"]
    # SALib's estimators with N = 256 (1 280 points) and an additive model: first-order and
    # total indices agree within their bootstrap intervals; 0.05 bounds both estimates here
    assert s["S1"][0] == pytest.approx(1.0, abs=0.05) and s["ST"][0] == pytest.approx(1, abs=0.05)
    assert abs(s["ST"][2]) < 0.01 and abs(s["S1"][2]) < 0.05
    html = path.read_text()
    assert "Sobol indices of y" in html and "y against each parameter" in html
    assert skipped is None


def test_morris_ranks_parameters_by_their_effect(tmp_path, write_sweep):
    out = fake_sweep(tmp_path, write_sweep, {"kind": "morris", "samples": 10},
                     lambda pen, pull, det, r: 0.1 * pen + 100 * det)  # fmt: skip
    render(out, png=False)
    m = json.loads((out / "indices.json").read_text())["y"]
    # elementary effects over the unit-scaled range: |0.1 x 50| = 5 and 100 x 0.8 = 80; pull 0
    assert m["mu_star"] == pytest.approx([5.0, 0.0, 80.0], abs=1e-6)


def test_intervals_cover_the_replicate_spread():
    values = np.array([1.0, 3.0, 10.0, 10.0, 5.0])
    point = np.array([0, 0, 1, 1, 2])
    mean, half = point_stats(values, point, 3)
    assert mean.tolist() == [2.0, 10.0, 5.0]
    # two replicates: t(0.975, 1) = 12.706, sd = sqrt(2), so 12.706 x sqrt(2) / sqrt(2)
    assert half[0] == pytest.approx(12.7062, abs=1e-3) and half[1] == 0.0 and np.isnan(half[2])


def test_heat_maps_average_each_cell():
    x = np.array([1.0, 1.0, 2.0, 2.0])
    y = np.array([5.0, 6.0, 5.0, 5.0])
    z = np.array([1.0, 2.0, 3.0, 5.0])
    cx, cy, grid = heat(x, y, z)
    assert cx.tolist() == [1.0, 2.0] and cy.tolist() == [5.0, 6.0]
    assert grid[0].tolist() == [1.0, 4.0] and grid[1, 0] == 2.0 and np.isnan(grid[1, 1])


def test_a_boundary_inside_the_range_is_drawn(tmp_path, write_sweep):
    out = fake_sweep(tmp_path, write_sweep, {"kind": "grid", "levels": 3},
                     lambda pen, pull, det, r: det + r, replicates=2,
                     boundaries={"y": 0.9})  # fmt: skip
    html = render(out, png=False)[0].read_text()
    # y = detect_prob + replicate: the two pairs with detect_prob cross 0.9 (point means 0.6
    # to 1.4); over penalty x pull every cell averages detect_prob to 1.0, and has no line
    assert html.count("white line: y = 0.9") == 2
