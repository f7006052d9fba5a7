"""Look-ups: friends and strangers looked up at their daily rates; listed citizens seen."""

import numpy as np

from scsim.engine import Sim
from tests.conftest import small

N, DAYS = 3000, 20
CRASH = {
    "modules.infractions.kinds": [
        {"name": "fine", "rate": 1.0, "detect_prob": 1.0, "penalty": -151}
    ],
    "modules.speech.enabled": False,
    "modules.purchases.enabled": False,
    "modules.lookups": {"friend_rate": 0.1, "stranger_rate": 0.05},
    "output.audit_sample": 500,
}
"""Everyone gets a -151 record daily: from day 0 on, every citizen is blacklisted."""


def _run(**overrides) -> Sim:
    return Sim(small(n=N, days=DAYS, **{**CRASH, **overrides})).run()


def test_lookup_counts_match_the_rates():
    """Each citizen-day is one Bernoulli(rate) draw per kind (every citizen has friends), so
    the total over N * DAYS draws has sd sqrt(N * DAYS * r * (1 - r)); allow 4 sd."""
    sim = _run()
    for name, rate in (("lookups_friends", 0.1), ("lookups_strangers", 0.05)):
        draws = N * DAYS
        total = sim.record(name).sum()
        assert abs(total - draws * rate) < 4 * np.sqrt(draws * rate * (1 - rate)), name


def test_listed_citizens_are_found_from_the_day_after_listing():
    """Nobody is listed before day 0 ends; from day 1 every target is listed and disclosed."""
    sim = _run()
    found = sim.record("lookups_listed_found")
    looked = sim.record("lookups_friends") + sim.record("lookups_strangers")
    assert found[0] == 0 and looked[0] > 0
    assert np.array_equal(found[1:], looked[1:])


def test_undisclosed_lists_are_not_seen():
    sim = _run(**{"modules.lists.disclose": False})
    assert sim.record("lookups_listed_found").sum() == 0
    assert sim.record("lookups_friends").sum() > 0


def test_events_name_the_target_a_friend_or_any_other_citizen():
    sim = _run()
    ev = sim.events.columns()
    kinds = [f"{m}.{k}" for m, k in sim.event_kinds]
    friend = ev["kind"] == kinds.index("lookups.friend")
    stranger = ev["kind"] == kinds.index("lookups.stranger")
    assert friend.sum() > 100 and stranger.sum() > 50
    for c, s in zip(ev["citizen"][friend], ev["source"][friend], strict=True):
        assert s in sim.graph.neighbours(c)
    assert np.all(ev["source"][stranger] != ev["citizen"][stranger])
    assert np.all((0 <= ev["source"][stranger]) & (ev["source"][stranger] < N))
    audited = sim.events.citizens
    expected = sim.record("lookups_friends").sum() * audited.size / N
    assert abs(friend.sum() - expected) < 4 * np.sqrt(expected)  # audited share of look-ups
    listed = ev["cause"][friend | stranger] == 1
    assert np.array_equal(listed, ev["day"][friend | stranger] > 0)


def test_lookups_change_no_score_and_no_other_draw():
    """Look-ups only read: switching them off leaves every score and record identical."""
    on = _run()
    off = _run(**{"modules.lookups": None})
    assert np.array_equal(on.score, off.score)
    for name in off.record_names:
        assert np.array_equal(on.record(name), off.record(name)), name
