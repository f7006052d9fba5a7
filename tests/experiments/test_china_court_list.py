"""The shipped china-court-list preset holds its calibration: at its own size and seed, every
target of its targets file is within its stated tolerance, and its calibration block records
the values it runs with."""

from __future__ import annotations

import numpy as np
import pytest

from scsim.experiments.spec import lookup
from scsim.experiments.targets import load_targets
from scsim.experiments.tasks import run_task
from scsim.scenario import load_scenario


@pytest.fixture(scope="module")
def preset():
    return load_scenario("china-court-list")


def test_the_calibration_block_matches_the_parameters(preset):
    block = preset.calibration
    assert block["targets_file"] == "china-court-list.yaml"
    data = preset.model_dump(mode="json")
    assert set(block["parameters"]) == {
        v.path for v in load_targets("china-court-list", preset, "x").varied
    }
    assert block["parameters"] == {path: lookup(data, path) for path in block["parameters"]}
    assert all(t["within"] for t in block["targets"].values())
    assert block["loss"] < 1


def test_its_runs_reproduce_the_calibration_and_meet_every_target(preset):
    # the calibration's three replicates (seeds 1-3) at the calibrated size: their means equal
    # the block's achieved values bit for bit (runs are reproducible), and each mean is within
    # the target's tolerance (the targets file says why each tolerance)
    problem = load_targets("china-court-list", preset, preset.name)
    seeds = preset.calibration["seeds"]
    runs = []
    for seed in seeds:
        data = preset.model_dump(mode="json") | {"seed": seed}
        runs.append(run_task(data, problem.outcomes)["outcomes"])
    for name, t in problem.targets.items():
        mean = float(np.mean([r[name] for r in runs]))
        assert mean == preset.calibration["targets"][name]["achieved"], name
        assert abs(mean - t.value) <= t.tolerance, (name, mean, t.value)
