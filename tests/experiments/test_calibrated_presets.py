"""Every shipped calibrated preset holds its calibration: at its own size and seeds, every target
of its targets file is within its stated tolerance, and its calibration block records the values
it runs with. The runs of a preset fitted over ten years also meet tests/test_steady.py's bars
(each seed run), so that file does not run it again.

``make test`` runs each calibration's first seed again and checks its outcomes against the values
the block records for that seed, bit for bit; the block's mean is that of the recorded seeds.
``make test-replicates`` (which .ci/run also runs) runs every seed again: the six calibrations'
replicates, two or three ten-year runs for five of them, took four of ``make test``'s ten minutes
on a slow 2-core machine."""

from __future__ import annotations

import copy
import os

import numpy as np
import pytest

from scsim.experiments.spec import lookup
from scsim.experiments.targets import load_targets
from scsim.experiments.tasks import run_task
from scsim.scenario import load_scenario, preset_names, validate
from scsim.steady import yearly
from tests.test_steady import FITTED_OVER_TEN_YEARS, settled

CALIBRATED = [name for name in preset_names() if load_scenario(name).calibration]
ALL_SEEDS = os.environ.get("SCSIM_TEST_ALL_SEEDS") == "1"
"""Run every seed of a calibration again (``make test-replicates``), not only its first."""


def test_the_calibrated_presets_are_the_ones_with_a_targets_file():
    assert {"china-court-list", "peer-rating", "china-2020", "beijing-2020"} <= set(CALIBRATED)


@pytest.mark.parametrize("name", CALIBRATED)
def test_the_calibration_block_matches_the_parameters(name):
    preset = load_scenario(name)
    block = preset.calibration
    assert block["targets_file"] == f"{name}.yaml"
    data = preset.model_dump(mode="json")
    horizon = validate(copy.deepcopy(data) | {"days": block["days"]})  # the calibration's days
    assert set(block["parameters"]) == {v.path for v in load_targets(name, horizon, name).varied}
    assert block["parameters"] == {path: lookup(data, path) for path in block["parameters"]}
    assert all(t["within"] for t in block["targets"].values())
    assert block["loss"] < 1
    for target, t in block["targets"].items():  # each seed's value, in seed order
        assert len(t["by_seed"]) == len(block["seeds"]) == block["replicates"], target
        assert float(np.mean(t["by_seed"])) == t["achieved"], target


@pytest.mark.parametrize("name", CALIBRATED)
def test_its_runs_reproduce_the_calibration_and_meet_every_target(name):
    # the calibration's replicates (its seeds; make test: the first) at its size (a preset may
    # run at another size by default): each run's outcomes equal the values the block records
    # for its seed bit for bit (runs are reproducible), and the mean of the recorded values is
    # within each target's tolerance (the targets file says why each tolerance)
    preset = load_scenario(name)
    block = preset.calibration
    sized = preset.model_dump(mode="json") | {"days": block["days"]}
    sized["population"]["n"] = block["n"]
    problem = load_targets(name, validate(copy.deepcopy(sized)), preset.name)
    ten_years = name in FITTED_OVER_TEN_YEARS  # then tests/test_steady.py's bars, here
    seeds = block["seeds"] if ALL_SEEDS else block["seeds"][:1]
    runs, years = [], []
    for seed in seeds:
        data = sized | {"seed": seed}
        done = run_task(data, problem.outcomes, inspect=yearly if ten_years else None)
        runs.append(done["outcomes"])
        years.append(done.get("inspected"))
    for target, t in problem.targets.items():
        recorded = block["targets"][target]["by_seed"]
        assert [r[target] for r in runs] == recorded[: len(runs)], target
        mean = float(np.mean(recorded))
        assert mean == block["targets"][target]["achieved"], target
        assert t.within(mean), (target, mean, t.bound, t.value)
    for y in years if ten_years else ():
        settled(y, block["n"])
