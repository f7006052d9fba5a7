"""Scenario fields that change no simulation: ``population.represents`` (one synthetic citizen
for many people) is reporting only, and scenarios without it dump and hash as before it."""

import pytest
import yaml

from scsim.scale import number, people, ratio, represents, stands_for
from scsim.scenario import ScenarioError, load_raw, load_scenario, preset_names, validate

STAND_FOR_THEMSELVES = [p for p in preset_names() if "represents" not in load_raw(p)["population"]]
"""Presets whose citizens stand for themselves (china-court-list stands for 1.4 billion)."""


@pytest.mark.parametrize("preset", STAND_FOR_THEMSELVES)
def test_presets_dump_and_hash_as_before_represents(preset):
    sc = load_scenario(preset)
    assert sc.population.represents == 1.0
    assert "represents" not in sc.model_dump(mode="json")["population"]
    same = load_scenario(preset, {"population.represents": 1})
    assert same.digest() == sc.digest()


def test_represents_is_part_of_the_scenario_as_run():
    sc = load_scenario("sc-core", {"population.represents": 10_000})
    assert sc.population.represents == 10_000.0
    assert sc.model_dump(mode="json")["population"] == {"n": 100_000, "represents": 10_000.0}
    assert sc.digest() != load_scenario("sc-core").digest()
    again = validate(yaml.safe_load(sc.to_yaml()))
    assert again == sc and again.digest() == sc.digest()


@pytest.mark.parametrize("value", [0.5, 0, -3, True, float("nan"), "many", None])
def test_represents_below_one_or_not_a_number_is_refused(value):
    with pytest.raises(ScenarioError, match=r"^population\.represents: .* is not allowed"):
        load_scenario("sc-core", {"population.represents": value})


def test_scale_words():
    assert represents({}) == 1.0 and represents({"scenario": {"population": {"n": 5}}}) == 1.0
    assert represents({"scenario": {"population": {"represents": 10_000}}}) == 10_000.0
    assert number(10_000.0) == "10,000" and number(10_083.5) == "10,083.50"
    assert people(25_391) == "25,391" and people(253_910_000) == "253.9 million"
    assert people(1_411_750_000) == "1.412 billion" and people(-2_500_000) == "-2.5 million"
    assert ratio(10_000) == "1 : 10,000"
    assert stands_for(100) == (
        "Each synthetic citizen stands for 100 people (population.represents, 1 : 100)."
    )
