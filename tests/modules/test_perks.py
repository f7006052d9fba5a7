"""Perks: holders are exactly the citizens at or above each threshold (or on the redlist) and
not blacklisted, every day; days held per citizen add up. One fused kernel, stepped daily."""

import numpy as np
import pytest

from scsim.engine import Sim
from scsim.scenario import ScenarioError
from tests.conftest import small

N, DAYS = 3000, 30
PERKS = [
    {"name": "singapore_permit", "min_score": 700},
    {"name": "better_visa", "min_score": 750},
    {"name": "easy_credit", "min_score": 650},
    {"name": "green_channel", "redlist": True},
    {"name": "deposit_free_rental", "min_score": 500},
]


@pytest.fixture(scope="module")
def run():
    """SC-core plus frequent good deeds (+20) and fines (-100): scores spread both ways from
    650, so every threshold has holders, losers and blacklisted citizens."""
    sc = small(n=N, days=DAYS, **{
        "modules.purchases.categories": [{"name": "good_deed", "rate": 0.1, "effect": 20}],
        "modules.infractions.kinds": [
            {"name": "fine", "rate": 0.02, "detect_prob": 1.0, "penalty": -100}
        ],
        "modules.lists.redlist_above": 720,
        "modules.lists.removal": "never",
        "modules.perks": {"perks": PERKS},
        "output.audit_sample": 10_000,
    })  # fmt: skip
    sim = Sim(sc).build()
    score, listed, red = [], [], []
    for day in range(DAYS):
        sim.step(day)
        score.append(sim.score)
        listed.append(sim.people.listed.copy())
        red.append(sim.people.redlisted.copy())
    return sim, np.array(score), np.array(listed), np.array(red)


def test_holders_are_exactly_those_at_the_threshold_and_not_listed(run):
    sim, score, listed, red = run
    for perk in PERKS:
        if perk.get("redlist"):
            holds = red & ~listed
        else:
            holds = (score >= np.float32(perk["min_score"])) & ~listed
        got = sim.record(f"perk_{perk['name']}")
        assert np.array_equal(got, holds.sum(axis=1)), perk["name"]
        assert np.array_equal(sim.people.fields[f"perk_days_{perk['name']}"], holds.sum(axis=0))
        assert holds.sum(axis=1).max() > 0, perk["name"]
    # the blacklisted above a threshold are denied (removal never keeps some of them listed)
    assert np.any(listed & (score >= 500))


def test_grants_and_losses_are_logged(run):
    sim, score, listed, _ = run
    ev = sim.events.columns()
    kinds = [f"{m}.{k}" for m, k in sim.event_kinds]
    k = 2  # easy_credit
    holds = (score >= np.float32(650)) & ~listed
    before = np.vstack([np.zeros((1, N), dtype=bool), holds[:-1]])
    for kind, change in (("granted", holds & ~before), ("lost", before & ~holds)):
        sel = (ev["kind"] == kinds.index(f"perks.{kind}")) & (ev["cause"] == k)
        assert sel.sum() == change.sum() > 0, kind


def test_perks_do_not_feed_the_score(run):
    sim, *_ = run
    assert "perks" not in sim.components


@pytest.mark.parametrize(
    "overrides,message",
    [
        ({"modules.perks": {"perks": [{"name": "visa", "min_score": -5}]}},
         "modules.perks.perks[0].min_score: -5 is not allowed"),
        ({"modules.perks": {"perks": [{"name": "visa", "min_score": 700, "redlist": True}]}},
         "modules.perks.perks[0]: give either min_score or redlist"),
        ({"modules.perks": {"perks": [{"name": "green_channel", "redlist": True}]},
          "modules.lists": None, "modules.sanctions": None},
         "modules.perks needs modules.lists"),
    ],
)  # fmt: skip
def test_bad_perks_name_the_field(overrides, message):
    with pytest.raises(ScenarioError) as err:
        small(**overrides)
    assert message in str(err.value)


def test_redlist_perk_without_a_redlist_is_refused():
    sc = small(**{"modules.perks": {"perks": [{"name": "green_channel", "redlist": True}]}})
    with pytest.raises(ValueError, match=r"modules.perks.perks\[0\].redlist: needs a redlist"):
        Sim(sc).build()
