"""Policy: voluntary enrolment driven by perks, mandatory enrolment from a date, the system
ignoring the unenrolled, and amnesties, replayed exactly from daily snapshots (everyone
audited; one fused kernel: sc-core + expiry + perks + policy, gated by enrolment)."""

import numpy as np
import pytest

from scsim.engine import Sim
from scsim.rng import _uniforms_into, stream_day_key
from scsim.scenario import ScenarioError
from tests.conftest import small

N, DAYS, MANDATORY, AMNESTY = 2000, 30, 18, 24
BASE_RATE, PER_PERK = 0.002, 0.01
THRESHOLD = 640.0  # listed below this: many citizens fall below it within days


def scenario(**overrides):
    return small(n=N, days=DAYS, **{
        "modules.lists.blacklist_below": THRESHOLD,
        "modules.scoring.friend_sanction_penalty": 0,  # no cascade of listings
        "modules.expiry": {"after_days": 365},
        "modules.perks": {},  # default perks: 650, 650, 700, 750
        "modules.policy": {"enrolment": {
            "initial_share": 0.2, "base_rate": BASE_RATE, "per_perk": PER_PERK,
        }},
        "output.audit_sample": 10_000,
        "timeline": [
            {"day": MANDATORY, "set": {"modules.policy.enrolment.mandatory": True}},
            {"day": AMNESTY, "amnesty": {"listings": True, "records": True}},
        ],
        **overrides,
    })  # fmt: skip


@pytest.fixture(scope="module")
def run():
    """The run stepped day by day, with the state at the start of each day."""
    sim = Sim(scenario()).build()
    p = sim.people
    start = {k: [] for k in ("score", "enrolled", "listed", "record_points")}
    end = {k: [] for k in ("score", "enrolled", "listed", "perks", "sanctions")}
    for day in range(DAYS):
        for k, v in (("score", sim.score), ("enrolled", p.enrolled), ("listed", p.listed),
                     ("record_points", p.record_points)):  # fmt: skip
            start[k].append(v.copy())
        sim.step(day)
        for k, v in (("score", sim.score), ("enrolled", p.enrolled), ("listed", p.listed),
                     ("perks", p.perks_held), ("sanctions", p.sanctions_held)):  # fmt: skip
            end[k].append(v.copy())
    return sim, {k: np.array(v) for k, v in start.items()}, {k: np.array(v) for k, v in end.items()}


def _kinds(sim):
    return [f"{m}.{k}" for m, k in sim.event_kinds]


def test_voluntary_uptake_replays_exactly_from_perks_at_yesterdays_score(run):
    """Before the mandate, an unenrolled citizen enrols on day t iff u < base_rate + per_perk x k,
    u the policy.enrol draw of (t, citizen), k the perks held at the score ending day t-1."""
    sim, start, end = run
    perk_at = np.array([650, 650, 700, 750], dtype=np.float32)
    u_hi, u_lo = np.empty(N), np.empty(N)
    for day in range(MANDATORY):
        _uniforms_into(stream_day_key(sim.seed, "policy.enrol", day), u_hi, u_lo)
        k = (start["score"][day][:, None] >= perk_at[None, :]).sum(axis=1)
        p = np.full(N, BASE_RATE)
        for j in range(1, 5):
            p[k >= j] += PER_PERK  # the kernel adds per_perk once per perk, in float64
        joined = end["enrolled"][day] & ~start["enrolled"][day]
        assert np.array_equal(joined, ~start["enrolled"][day] & (u_hi < p)), day
        assert sim.record("newly_enrolled")[day] == joined.sum()
        assert sim.record("enrolled")[day] == end["enrolled"][day].sum()


def test_voluntary_uptake_grows_with_perks(run):
    """Daily enrolment hazard by perks held at yesterday's score: k = 0 and k = 2 (650-699)
    both occur thousands of times; each observed hazard lies within 4 binomial standard
    errors of base_rate + per_perk x k, and k = 2 enrols about 11 times as often as k = 0."""
    sim, start, end = run
    perk_at = np.array([650, 650, 700, 750], dtype=np.float32)
    exposed = np.zeros(5)
    joins = np.zeros(5)
    for day in range(MANDATORY):
        out = ~start["enrolled"][day]
        k = (start["score"][day][out, None] >= perk_at[None, :]).sum(axis=1)
        joined = end["enrolled"][day][out]
        exposed += np.bincount(k, minlength=5)
        joins += np.bincount(k, weights=joined, minlength=5)
    assert exposed[0] > 2000 and exposed[2] > 2000
    for k in (0, 2):
        p = BASE_RATE + PER_PERK * k
        se = np.sqrt(p * (1 - p) / exposed[k])
        assert abs(joins[k] / exposed[k] - p) < 4 * se, (k, joins[k], exposed[k])
    assert joins[2] / exposed[2] > 5 * joins[0] / exposed[0]


def test_mandatory_enrolment_enrols_everyone_from_its_day(run):
    sim, start, end = run
    enrolled = sim.record("enrolled")
    assert np.all(enrolled[:MANDATORY] < N) and np.all(enrolled[MANDATORY:] == N)
    newly = sim.record("newly_enrolled")
    assert newly[MANDATORY] == N - enrolled[MANDATORY - 1] > 500
    assert np.all(newly[MANDATORY + 1 :] == 0)
    ev = sim.events.columns()
    mandated = (ev["kind"] == _kinds(sim).index("policy.enrolled")) & (ev["cause"] == 1)
    assert set(ev["day"][mandated]) == {MANDATORY} and mandated.sum() == newly[MANDATORY]


def test_the_system_ignores_the_unenrolled(run):
    """Every day: the enrolled are listed exactly when their score is below the threshold
    (removal: score); the unenrolled are never listed, sanctioned or rewarded, although many
    of them have shadow scores below the threshold or above perk thresholds."""
    sim, start, end = run
    shadow_low = 0
    for day in range(DAYS):
        enrolled, score = end["enrolled"][day], end["score"][day]
        if day == AMNESTY:
            continue  # checked in the amnesty test
        assert np.array_equal(end["listed"][day], enrolled & (score < THRESHOLD)), day
        assert not end["perks"][day][~enrolled].any() and not end["sanctions"][day][~enrolled].any()
        assert end["perks"][day][enrolled & (score >= 650)].all()
        shadow_low += int((~enrolled & (score < THRESHOLD)).sum())
    assert shadow_low > 500


def test_amnesty_clears_exactly_the_listed_and_restores_their_records(run):
    """On the amnesty day, exactly the citizens listed at its start are amnestied; every record
    on file is restored (event delta = points on file = the policy component); by the end of
    the day the listed are exactly those whose new score is still below the threshold."""
    sim, start, end = run
    ev = sim.events.columns()
    amnestied = ev["kind"] == _kinds(sim).index("policy.amnestied")
    assert set(ev["day"][amnestied]) == {AMNESTY}
    listing = amnestied & (ev["cause"] == 2)
    was_listed = start["listed"][AMNESTY]
    assert was_listed.sum() > 100
    assert np.array_equal(np.sort(ev["citizen"][listing]), np.flatnonzero(was_listed))
    assert sim.record("amnestied_listings")[AMNESTY] == sim.record("listed")[AMNESTY - 1]
    records = amnestied & (ev["cause"] == 3)
    on_file = start["record_points"][AMNESTY]
    assert np.array_equal(np.sort(ev["citizen"][records]), np.flatnonzero(on_file < 0))
    assert np.array_equal(ev["delta"][records], -on_file[ev["citizen"][records]])
    assert np.array_equal(sim.component("policy"), -on_file)
    score = end["score"][AMNESTY]
    assert np.array_equal(end["listed"][AMNESTY], score < THRESHOLD)
    relisted = sim.record("newly_listed")[AMNESTY]
    assert relisted == (score < THRESHOLD).sum() < was_listed.sum()


def test_initial_share_is_refused_beside_the_population_module():
    with pytest.raises(ScenarioError, match="remove initial_share"):
        scenario(**{"modules.population": {"regions": "uniform"}})
