"""Designs: how many points each kind makes, inside the box, rounded where the base value is an
integer, and the same points from the same seed."""

from __future__ import annotations

import numpy as np
import pytest

from scsim.experiments.design import points
from scsim.experiments.spec import load_sweep

TWO = {
    "modules.sanctions.ban_days": {"low": 30, "high": 365},
    "modules.speech.penalty": {"low": -60.0, "high": -10.0},
}


@pytest.mark.parametrize(
    ("design", "count"),
    [
        ({"kind": "random", "samples": 7}, 7),
        ({"kind": "latin", "samples": 8}, 8),
        ({"kind": "sobol", "samples": 8}, 8 * (2 + 2)),  # Saltelli, first and total order
        ({"kind": "morris", "samples": 5, "levels": 4}, 5 * (2 + 1)),
        ({"kind": "grid", "levels": 3}, 3 * 3),
    ],
)
def test_each_design_makes_its_points_inside_the_box(write_sweep, design, count):
    pts, _ = points(load_sweep(write_sweep(parameters=TWO, design=design)))
    assert len(pts) == count
    days = np.array([p["modules.sanctions.ban_days"] for p in pts])
    penalty = np.array([p["modules.speech.penalty"] for p in pts])
    assert days.min() >= 30 and days.max() <= 365 and penalty.min() >= -60 and penalty.max() <= -10
    assert all(isinstance(d, int) for d in days.tolist())  # ban_days is an integer field
    assert len(set(penalty.tolist())) > 1


def test_a_latin_hypercube_puts_one_point_in_each_stratum(write_sweep):
    latin = {"kind": "latin", "samples": 10}
    _, matrix = points(load_sweep(write_sweep(parameters=TWO, design=latin)))
    strata = np.floor((matrix[:, 1] - -60.0) / 5.0).astype(int)
    assert sorted(strata.tolist()) == list(range(10))


def test_a_grid_of_values_is_their_product(write_sweep):
    grid = {"modules.sanctions.ban_days": {"values": [30, 90]},
            "modules.lists.disclose": {"values": [True, False]}}  # fmt: skip
    pts, matrix = points(load_sweep(write_sweep(parameters=grid, design={"kind": "grid"})))
    assert matrix is None
    assert pts == [
        {"modules.sanctions.ban_days": d, "modules.lists.disclose": x}
        for d in (30, 90) for x in (True, False)
    ]  # fmt: skip


def test_the_same_seed_gives_the_same_points_and_another_seed_others(write_sweep):
    design = {"kind": "latin", "samples": 6}
    a, _ = points(load_sweep(write_sweep(parameters=TWO, design=design)))
    b, _ = points(load_sweep(write_sweep(parameters=TWO, design=design)))
    c, _ = points(load_sweep(write_sweep(parameters=TWO, design=design, seed=4)))
    assert a == b and a != c
