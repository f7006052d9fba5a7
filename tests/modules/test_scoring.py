"""Scoring: component weights and the friends terms read from neighbours' public flags."""

import numpy as np
import pytest

from scsim.engine import Sim
from scsim.scenario import ScenarioError
from tests.conftest import small

CRASH = {
    "modules.infractions.kinds": [
        {"name": "fine", "rate": 1.0, "detect_prob": 1.0, "penalty": -151}
    ],
    "modules.speech.enabled": False,
    "modules.purchases.enabled": False,
    "modules.scoring.range": [0, 950],
    "modules.scoring.friend_sanction_penalty": 0,
}


def test_listed_and_offending_friends_cost_exactly_their_penalty():
    """Everyone gets a -151 record daily: day 0 ends at 499, listed (disclosed) with a fresh
    record. Day 1: equal scores (no pull), so each ends at 499 - 151 - (2 + 0.5) * degree."""
    sc = small(n=2000, days=2, **CRASH, **{
        "modules.scoring.friend_listed_penalty": -2, "modules.scoring.friend_offence_penalty": -0.5,
    })  # fmt: skip
    sim = Sim(sc).run()
    assert sim.public is not None
    expected = 499.0 - 151.0 - 2.5 * sim.graph.degree()
    assert np.array_equal(sim.score, expected.astype(np.float32))


def test_undisclosed_lists_cost_nothing():
    sc = small(n=2000, days=2, **CRASH, **{
        "modules.scoring.friend_listed_penalty": -2, "modules.lists.disclose": False,
    })  # fmt: skip
    sim = Sim(sc).run()
    assert np.all(sim.score == np.float32(499.0 - 151.0))


def test_public_flags_are_not_kept_when_no_module_reads_them():
    assert Sim(small(n=1000, days=1)).run().public is None


def test_weights_scale_a_component():
    """Weight 0.5 on infractions halves every infraction penalty, and only those."""
    base = Sim(small(n=3000, days=20)).run()
    half = Sim(small(n=3000, days=20, **{"modules.scoring.weights": {"infractions": 0.5}})).run()
    committed = "infractions_committed"
    assert np.array_equal(base.record(committed), half.record(committed))
    ev = half.events.columns()
    kinds = [f"{m}.{k}" for m, k in half.event_kinds]
    recorded = ev["kind"] == kinds.index("infractions.recorded")
    assert np.all(ev["delta"][recorded] == -7.5)


ONLY_PURCHASES = {
    "modules.speech.enabled": False,
    "modules.infractions.enabled": False,
    "modules.lists.enabled": False,
    "modules.sanctions.enabled": False,
    "modules.scoring.friend_pull": 0,
    "modules.scoring.friend_sanction_penalty": 0,
    "modules.purchases.categories": [{"name": "gift", "rate": 0.05, "effect": 7}],
    "output.audit_sample": 50,
}


def test_memory_weights_each_change_by_its_age():
    """With a half-life H, a change of d on day s counts d * 0.5 ** ((T - 1 - s) / H) at the
    end of day T - 1: each audited citizen's purchases component equals that sum over its
    logged purchases (float32 fading each day: relative error ~1e-6 per day of age)."""
    days, half_life = 200, 30.0
    sim = Sim(small(n=500, days=days, **ONLY_PURCHASES, **{
        "modules.scoring.half_life": half_life,
    })).run()  # fmt: skip
    ev = sim.events.columns()
    keep = np.float64(np.float32(0.5 ** (1 / half_life)))
    part = sim.component("purchases")
    for citizen in np.unique(ev["citizen"]):
        mine = ev["citizen"] == citizen
        expected = (ev["delta"][mine] * keep ** (days - 1 - ev["day"][mine])).sum()
        assert abs(part[citizen] - expected) < 1e-4 * max(1.0, abs(expected))
    assert np.allclose(sim.score, 650 + sim.parts.sum(axis=0), atol=1e-2)


def test_a_component_without_memory_keeps_lifetime_sums():
    """half_lives.purchases: null keeps the purchases component a running sum (7 points per
    purchase, exactly) while half_life fades the others."""
    sim = Sim(small(n=500, days=100, **ONLY_PURCHASES, **{
        "modules.scoring.half_life": 10.0, "modules.scoring.half_lives": {"purchases": None},
    })).run()  # fmt: skip
    bought = sim.record("purchases_gift").sum()
    assert bought > 0
    assert sim.component("purchases").sum() == np.float32(7 * bought)


def test_memory_pulls_a_falling_population_back_to_a_steady_state():
    """SC-core's mean daily change is negative (about -0.08 points), so its lifetime sums fall
    without limit; with a 365-day half-life the mean settles near initial + drift x tau
    (tau = 365 / ln 2 = 527 days: about 610). Year 3 and year 4 means differ by < 1 %."""
    sc = small(n=2000, days=4 * 365, **{"modules.scoring.half_life": 365.0})
    mean = Sim(sc).run().record("score_sum") / 2000
    y3, y4 = mean[3 * 365 - 1], mean[4 * 365 - 1]
    assert 560 < y4 < 640
    assert abs(y4 - y3) / y3 < 0.01


@pytest.mark.parametrize(
    "overrides, message",
    [
        ({"modules.scoring.half_life": 0},
         "modules.scoring.half_life: 0 is not allowed; expected a number > 0"),
        ({"modules.scoring.half_lives": {"finance": 30}},
         "modules.scoring.half_lives.finance is not a score component of this scenario; "
         "expected one of ['bound', 'friends', 'infractions', 'purchases', 'speech']"),
        ({"modules.scoring.half_lives": {"speech": -5}},
         "modules.scoring: half_lives.speech (-5.0) must lie within (0, 36500] days"),
    ],
)  # fmt: skip
def test_a_bad_memory_is_refused_naming_the_field(overrides, message):
    with pytest.raises(ScenarioError) as err:
        small(**overrides)
    assert message in str(err.value)


def test_the_memory_cannot_change_mid_run():
    """The memory is part of the fused kernel: a timeline may not change it."""
    with pytest.raises(ScenarioError, match="half_life"):
        small(**{"timeline": [{"day": 5, "set": {"modules.scoring.half_life": 30}}]})
