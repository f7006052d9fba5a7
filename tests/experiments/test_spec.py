"""The sweep file: what it accepts, and a message naming the entry for what it refuses."""

from __future__ import annotations

import pytest

from scsim.experiments.spec import SweepError, load_sweep


def test_a_valid_file_resolves_its_parameters_against_the_base(write_sweep):
    days = {"modules.sanctions.ban_days": {"values": [30, 90]}}
    sweep = load_sweep(write_sweep(parameters=days | {"modules.infractions.kinds.0.rate": {
        "low": 0.001, "high": 0.01}}))  # fmt: skip
    assert [v.name for v in sweep.varied] == ["sanctions_ban_days", "infractions_kinds_0_rate"]
    assert [v.integer for v in sweep.varied] == [True, False]
    assert sweep.base.population.n == 2000 and sweep.base.days == 40 and sweep.base.seed == 3
    assert sweep.outcomes["mean_score"].sql.startswith("SELECT mean_score")


def test_flags_override_size_replicates_and_seed(write_sweep):
    sweep = load_sweep(write_sweep(), n=1500, days=12, replicates=5, seed=9)
    assert (sweep.base.population.n, sweep.base.days, sweep.base.seed) == (1500, 12, 9)
    assert sweep.spec.replicates == 5


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"parameters": {"modules.lists.blacklist_belo": {"low": 1, "high": 2}}},
         "parameters.modules.lists.blacklist_belo: 'blacklist_belo' is not a field"),
        ({"parameters": {"modules.lists.blacklist_below": {"low": 600, "high": 600}}},
         "empty range: high (600.0) must be > low (600.0)"),
        ({"parameters": {"modules.speech.penalty": {"low": -1.0}}}, "a range needs both"),
        ({"parameters": {"modules.lists": {"low": 1, "high": 2}}}, "is a block"),
        ({"parameters": {"modules.lists.disclose": {"values": [True, 3]}}},
         "parameters.modules.lists.disclose: 3 does not make a valid scenario"),
        ({"parameters": {"seed": {"low": 1, "high": 9}}}, "set by the sweep itself"),
        ({"design": {"kind": "sobol", "samples": 6}}, "a power of 2, not 6"),
        ({"design": {"kind": "latin"}}, "a latin design needs samples"),
        ({"design": {"kind": "annealing"}}, "design.kind: \"annealing\" is not allowed"),
        ({"replicates": 0}, "replicates: 0 is not allowed; expected an integer >= 1"),
        ({"outcomes": {"Bad Name": "SELECT 1"}}, "outcomes.Bad Name"),
        ({"outcomes": {}}, "outcomes: is empty; expected at least 1 item"),
        ({"base": "no-such-preset"}, "base: scenario: 'no-such-preset' is neither a preset"),
        ({"extra": 1}, "extra: is not a known field"),
    ],
)  # fmt: skip
def test_bad_entries_are_named(write_sweep, changes, message):
    with pytest.raises(SweepError, match=None) as e:
        load_sweep(write_sweep(**changes))
    assert message in str(e.value)


def test_morris_and_sobol_need_ranges(write_sweep):
    grid = {"modules.lists.blacklist_below": {"values": [600, 620]}}
    with pytest.raises(SweepError, match="morris needs every parameter as a range"):
        load_sweep(write_sweep(parameters=grid, design={"kind": "morris", "samples": 2}))


def test_a_parameter_named_like_an_outcome_is_refused(write_sweep):
    named = {"modules.speech.penalty": {"low": -9.0, "high": -1.0, "name": "banned"}}
    with pytest.raises(SweepError, match="'banned' is used twice"):
        load_sweep(write_sweep(parameters=named))


def test_a_missing_or_broken_file_is_named(tmp_path):
    with pytest.raises(SweepError, match="does not exist"):
        load_sweep(tmp_path / "nope.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("base: [1,\n")
    with pytest.raises(SweepError, match="not valid YAML at line"):
        load_sweep(bad)
