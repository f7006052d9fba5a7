"""Sanction tiers: durations, hidden score tiers, school bans on the children of the listed
(households from the population module), barred jobs. One fused kernel, stepped day by day so
the test can see everyone's state at the end of each day."""

import numpy as np
import pytest

from scsim.engine import Sim
from scsim.scenario import ScenarioError
from tests.conftest import event_days, small

N, DAYS = 4000, 40
TIERS = [
    {"name": "travel", "days": 4},
    {"name": "internet", "trigger": "score_below", "threshold": 560, "days": 3, "visible": False},
    {"name": "schools", "days": 1, "family": True},
]
DAYS_OF = {t["name"]: t["days"] for t in TIERS}


@pytest.fixture(scope="module")
def run():
    sc = small(n=N, days=DAYS, **{
        "modules.population": {},
        "modules.speech.enabled": False,
        "modules.infractions.kinds": [
            {"name": "fine", "rate": 0.03, "detect_prob": 1.0, "penalty": -100}
        ],
        "modules.sanctions": {"tiers": TIERS},  # replaces sc-core's ban_days
        "output.audit_sample": 10_000,
    })  # fmt: skip
    sim = Sim(sc).build()
    listed, until, score = [], [], []
    for day in range(DAYS):
        sim.step(day)
        listed.append(sim.people.listed.copy())
        until.append(sim.module("sanctions").state["sanction_until"].copy())
        score.append(sim.score)
    return sim, np.array(listed), np.array(until), np.array(score)


def test_each_sanction_lasts_exactly_its_days(run):
    """From the log: a sanction imposed on day t (by its own trigger or the family's) is next
    touched on day t + days, lifted or imposed again; never in between."""
    sim, *_ = run
    ev = sim.events.columns()
    kinds = [f"{m}.{k}" for m, k in sim.event_kinds]
    mine = np.isin(
        ev["kind"], [kinds.index(f"sanctions.{k}") for k in ("imposed", "lifted", "family")]
    )
    names = sim.module("sanctions").causes
    checked = 0
    for c in np.unique(ev["citizen"][mine]):
        sel = mine & (ev["citizen"] == c)
        for t, name in enumerate(names):
            s = sel & (ev["cause"] == t)
            days, what = ev["day"][s], [kinds[k] for k in ev["kind"][s]]
            for k in range(len(days)):
                if what[k] == "sanctions.lifted":
                    continue
                due = days[k] + DAYS_OF[name]
                if due >= DAYS:
                    assert k == len(days) - 1
                else:
                    assert days[k + 1] == due, (c, name)
                    checked += 1
    assert checked > 500
    for name in names:
        assert sim.record(f"sanction_{name}_imposed").sum() > 50, name


def test_held_counts_and_days_held_match_until(run):
    sim, _, until, _ = run
    sanctions = sim.module("sanctions")
    day = np.arange(DAYS)[:, None]
    for t, name in enumerate(sanctions.causes):
        held = until[:, t, :] > day  # held on day d iff until > d
        assert np.array_equal(sim.record(f"sanction_{name}"), held.sum(axis=1)), name
        assert np.array_equal(sim.people.fields[f"sanction_days_{name}"], held.sum(axis=0))
    any_held = (until > day[:, :, None]).any(axis=1)
    assert np.array_equal(sim.record("banned"), any_held.sum(axis=1))


def test_hidden_tier_is_not_visible(run):
    """Friends see only visible sanctions: SANCTIONED tomorrow iff travel or schools
    continue past today (the internet tier is hidden)."""
    sim, _, until, _ = run
    last = DAYS - 1
    visible = (until[-1, [0, 2], :] > last + 1).any(axis=0)
    assert np.array_equal(sim.sanctioned, visible)
    assert np.any((until[-1, 1, :] > last + 1) & ~visible)  # some hold only the hidden one


def test_school_ban_falls_on_exactly_the_children_of_listed_households(run):
    """Day d: children aged 6-17, not listed themselves on day d, in a household with a member
    listed at the end of day d - 1, are barred from schools (1-day tier, re-imposed daily),
    and no one else through the family."""
    sim, listed, _, _ = run
    p = sim.people
    child = (p.age >= 6) & (p.age <= 17)
    household = p.household.astype(np.int64)
    ev = sim.events.columns()
    kinds = [f"{m}.{k}" for m, k in sim.event_kinds]
    fam_ev = ev["kind"] == kinds.index("sanctions.family")
    total = 0
    for d in range(1, DAYS):
        hit = np.bincount(household, weights=listed[d - 1], minlength=household.max() + 1) > 0
        expected = child & ~listed[d] & hit[household]
        assert sim.record("sanction_schools_family")[d] == expected.sum(), d
        got = np.sort(ev["citizen"][fam_ev & (ev["day"] == d)])
        assert np.array_equal(got, np.flatnonzero(expected)), d
        total += expected.sum()
    assert total > 100
    assert np.all(ev["cause"][fam_ev] == 2)  # only the family tier spills over


def test_barred_jobs_are_counted(run):
    sim, listed, _, _ = run
    barred = sim.module("population").barred_occupations[sim.people.occupation]
    expected = (listed & barred[None, :]).sum(axis=1)
    assert np.array_equal(sim.record("barred_from_job"), expected)
    assert expected.max() > 0


@pytest.mark.parametrize(
    "value,message",
    [
        ([{"name": "travel", "days": 0}], "modules.sanctions.tiers[0].days: 0 is not allowed"),
        ([{"name": "net", "trigger": "score_below"}],
         "modules.sanctions.tiers[0]: threshold is required when trigger is score_below"),
        ([{"name": "pets"}, {"name": "pets"}], "the name 'pets' is used more than once"),
        ([{"name": "Bad Name"}], "modules.sanctions.tiers[0].name: \"Bad Name\" is not allowed"),
        ([{"name": "family"}], "modules.sanctions.tiers[0]: the name 'family' is reserved"),
    ],
)  # fmt: skip
def test_bad_tiers_name_the_field(value, message):
    with pytest.raises(ScenarioError) as err:
        small(**{"modules.sanctions": {"tiers": value}})
    assert message in str(err.value)


def test_ban_days_and_tiers_are_exclusive():
    with pytest.raises(ScenarioError, match="give ban_days"):
        small(**{"modules.sanctions.tiers": TIERS})  # sc-core sets ban_days


def test_tiers_dump_without_ban_days_so_a_timeline_can_revalidate():
    """The timeline validates each event against a dump of the modules; with tiers, the unused
    ban_days is left out of the dump (it would otherwise clash with tiers)."""
    sc = small(**{
        "modules.sanctions": {"tiers": TIERS},
        "timeline": [{"day": 5, "set": {"modules.sanctions.tiers.0.days": 9}}],
    })  # fmt: skip
    assert "ban_days" not in sc.modules.sanctions.model_dump()
    assert (
        sc.modules.sanctions.tier_list()
        == sc.modules.sanctions.model_validate(sc.modules.sanctions.model_dump()).tier_list()
    )
    with pytest.raises(ScenarioError, match="give ban_days"):
        small(**{
            "modules.sanctions": {"tiers": TIERS},
            "timeline": [{"day": 5, "set": {"modules.sanctions.ban_days": 9}}],
        })  # fmt: skip


def _released(while_triggered: bool):
    """Judgment defaulters only (a day-0 cohort performing late at 1 % a day), delisted 3 days
    after they perform, under a year's travel ban; everyone audited."""
    return small(n=3000, days=120, **{
        "modules.finance.enabled": False,
        "modules.courts": {"dispute_rate": 0.0, "initial_defaulters": 0.3, "late_rate": 0.01},
        "modules.lists": {"blacklist_below": 0, "court": True, "removal": "expiry",
                          "listing_days": 730, "release_days": 3},
        "modules.sanctions": {"tiers": [
            {"name": "travel", "days": 365, "while_triggered": while_triggered}]},
        "output.audit_sample": 10_000,
    })  # fmt: skip


def test_a_ban_while_triggered_ends_the_day_the_listing_ends():
    """while_triggered: every ban is lifted the day its holder is delisted (and only those);
    without it the bans run their year past the listing."""
    sim = Sim(_released(True)).run()
    delisted = event_days(sim, "lists.delisted")
    assert len(delisted) > 300
    assert event_days(sim, "sanctions.lifted") == delisted
    assert sim.record("banned")[-1] == sim.record("listed")[-1]
    running = Sim(_released(False)).run()
    assert not event_days(running, "sanctions.lifted")
    assert running.record("banned")[-1] > running.record("listed")[-1]


def test_family_ghosts_are_the_members_beyond_a_range_of_the_households_it_cuts(run):
    # over MPI ranks a rank's finish reads its households' members (scsim.ranks' halo)
    sim = run[0]
    sanctions, household = sim.module("sanctions"), sim.people.household
    for lo, hi in ((0, 1000), (1000, 2345), (2345, N), (17, 18)):
        cut = {household[lo], household[hi - 1]}
        beyond = [j for j in range(N) if not lo <= j < hi and household[j] in cut]
        assert sanctions.ghosts(lo, hi).tolist() == beyond
    assert sanctions.ghosts(1000, 2345).size > 0  # households of several members are cut
