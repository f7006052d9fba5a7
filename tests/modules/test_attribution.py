"""Attribution of the friends terms: one event per friend who moved an audited score."""

import numpy as np

from scsim.engine import Sim
from scsim.modules.attribution import FRIEND_CAUSES
from tests.conftest import small

U32 = 2.0**-24
"""Unit roundoff of float32."""

ALL_TERMS = {
    "output.audit_sample": 2000,
    "modules.scoring.attribute_sample": 2000,
    "modules.lists.blacklist_below": 640,
    "modules.scoring.friend_listed_penalty": -1.0,
    "modules.scoring.friend_offence_penalty": -0.5,
}
"""sc-core with every friends term on and everyone audited; the blacklist at 640 lists (and
bans) a few citizens within days, so sanctioned and listed friends occur."""


def _friend_events(sim: Sim) -> dict[str, np.ndarray]:
    ev = sim.events.columns()
    kind = [f"{m}.{k}" for m, k in sim.event_kinds].index("scoring.friend")
    keep = ev["kind"] == kind
    return {name: values[keep] for name, values in ev.items()}


def check_friend_events_sum(sim: Sim) -> dict[str, np.ndarray]:
    """Assert the bound of the test below for every audited citizen-day; return the events."""
    assert sim.events.dropped == 0
    ev = _friend_events(sim)
    parts = sim.events.parts[:, :, sim.components.index("friends")].astype(np.float64)
    change = np.diff(parts, axis=0, prepend=0.0)
    summed = np.zeros_like(change)
    size = np.zeros_like(change)
    count = np.zeros(change.shape, dtype=np.int64)
    np.add.at(summed, (ev["day"], ev["citizen"]), ev["delta"].astype(np.float64))
    np.add.at(size, (ev["day"], ev["citizen"]), np.abs(ev["delta"].astype(np.float64)))
    np.add.at(count, (ev["day"], ev["citizen"]), 1)
    degree = sim.graph.degree()[None, :].astype(np.float64)
    hi = sim.score_range[1]
    bound = 2 * U32 * (0.05 * (degree + 2) * hi + 3 * np.abs(change) + np.abs(parts) + size)
    assert np.all(np.abs(summed - change) <= bound)
    assert np.all(count <= degree)  # at most one event per friend and day
    assert (summed != 0).mean() > 0.9  # the pull moves nearly everyone every day
    return ev


def test_friend_events_sum_to_the_friends_change_every_audited_day():
    """For every audited citizen and day, the friend events' deltas sum to the change of the
    ``friends`` component. The kernel sums the neighbours' float32 scores (error <= degree * u
    * degree * hi before dividing by degree), then rounds the mean, the gap and the product (a
    few u * |d|); the cumulative float32 component rounds by u * |part| a day; each event's
    delta is rounded to float32 (u * |share|). Bound: 2u * (pull * (degree + 2) * hi + 3|d| +
    |part| + sum |share|), the factor 2 covering the float64 sums of the check itself."""
    sim = Sim(small(n=2000, days=20, **ALL_TERMS)).run()
    ev = check_friend_events_sum(sim)
    names = np.array(FRIEND_CAUSES)[ev["cause"]]
    for term in ("sanctioned", "listed", "offended"):
        assert any(term in c for c in names), term


def test_a_friend_banned_on_day_t_is_named_with_the_sanction_penalty():
    """Make citizen 123 visibly sanctioned after day 0 (the sign of its published score):
    on day 1 each of its friends, and no one else, logs an event naming 123 as the source, with
    the sanction penalty (-3) on top of its pull share, 0.05 * (s_123 - s_i) / degree_i.
    The shares are computed in float64 and stored as float32: relative error <= u."""
    sim = Sim(small(n=2000, days=2, **ALL_TERMS)).build()
    sim.step(0)
    banned = 123
    packed = sim.packed[sim.current]
    public = sim.public[sim.current]
    assert public[banned] == 0 and not np.signbit(packed[banned])  # nothing else to attribute
    packed[banned] = -packed[banned]
    score = np.abs(packed).astype(np.float64)
    sim.step(1)
    ev = _friend_events(sim)
    named = (ev["day"] == 1) & (ev["source"] == banned)
    assert np.all(np.array(FRIEND_CAUSES)[ev["cause"][named]] == "sanctioned")
    friends = sim.graph.neighbours(banned).astype(np.int64)
    assert sorted(ev["citizen"][named]) == sorted(friends)
    sanctioned = named
    i = ev["citizen"][sanctioned]
    expected = 0.05 * (score[banned] - score[i]) / sim.graph.degree()[i] - 3.0
    got = ev["delta"][sanctioned].astype(np.float64)
    assert np.all(np.abs(got - expected) <= U32 * np.abs(expected))


def test_attribution_sample_is_a_stride_over_the_audit_sample():
    """attribute_sample 500 of 2000 audited: citizens 0, 4, 8, ... only; 0: nobody. Scores and
    records do not depend on it."""
    runs = {
        k: Sim(small(n=2000, days=5, **{**ALL_TERMS, "modules.scoring.attribute_sample": k}))
        for k in (2000, 500, 0)
    }
    for sim in runs.values():
        sim.run()
    every, some, none = (_friend_events(runs[k])["citizen"] for k in (2000, 500, 0))
    assert len(none) == 0 and set(np.unique(some)) == set(range(0, 2000, 4))
    assert np.array_equal(some, every[every % 4 == 0])
    for sim in (runs[500], runs[0]):
        assert np.array_equal(sim.score, runs[2000].score)
        assert np.array_equal(sim.records, runs[2000].records)
