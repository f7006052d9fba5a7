"""Scoring: component weights and the friends terms read from neighbours' public flags."""

import numpy as np

from scsim.engine import Sim
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
