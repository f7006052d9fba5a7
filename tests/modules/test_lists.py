"""Blacklists: removal rules (score, expiry, never), wrongful listings, appeals, the redlist.

Exact checks replayed from the audit log (everyone audited). Two fused kernels: with appeals
(the lists delta hook is fused) and without.
"""

import numpy as np
import pytest
import yaml

from scsim.engine import Sim
from scsim.scenario import ScenarioError, load_raw
from tests.conftest import event_days, small

N, DAYS = 1500, 60
FALL = {
    # scores fall ~4 points a day on average (rate 0.04 x -100), faster with banned friends:
    # many citizens drop below 500 within the 60 days
    "modules.infractions.kinds": [
        {"name": "fine", "rate": 0.04, "detect_prob": 1.0, "penalty": -100}
    ],
    "modules.speech.enabled": False,
    "output.audit_sample": 10_000,
}
DELAY, TERM = 5, 7


def _kinds(sim):
    return [f"{m}.{k}" for m, k in sim.event_kinds]


def _is(ev, sim, kind):
    return ev["kind"] == _kinds(sim).index(kind)


@pytest.fixture(scope="module")
def appeals_sim():
    """Removal never, appeals with success 1 if wrongful, 0 if rightful. Every third citizen
    starts with 1000 false points on file: their score listings are wrongful until an appeal
    is won (which clears the false points)."""
    sc = small(n=N, days=DAYS, **FALL, **{
        "modules.lists.removal": "never", "modules.lists.appeals": True,
        "modules.lists.appeal_rate": 0.2, "modules.lists.appeal_delay": DELAY,
        "modules.lists.success_if_wrongful": 1.0, "modules.lists.success_if_rightful": 0.0,
    })  # fmt: skip
    sim = Sim(sc).build()
    sim.people.false_points[::3] = -1000.0
    return sim.run()


def test_appeals_lift_exactly_the_wrongful_listings_after_the_delay(appeals_sim):
    sim = appeals_sim
    ev = sim.events.columns()
    filed = _is(ev, sim, "lists.appeal_filed")
    won, lost = _is(ev, sim, "lists.appeal_won"), _is(ev, sim, "lists.appeal_lost")
    delisted = _is(ev, sim, "lists.delisted")
    assert filed.sum() > 100 and won.sum() > 20 and lost.sum() > 20
    decisions = {(c, d): "won" for c, d in zip(ev["citizen"][won], ev["day"][won], strict=True)}
    decisions.update(
        {(c, d): "lost" for c, d in zip(ev["citizen"][lost], ev["day"][lost], strict=True)}
    )
    # a won appeal clears the false points: a later listing of the same citizen is rightful
    expected, cleared = {}, set()
    for c, d in zip(ev["citizen"][filed], ev["day"][filed], strict=True):  # in day order
        if d + DELAY < DAYS:
            wrongful = c % 3 == 0 and c not in cleared
            expected[(c, d + DELAY)] = "won" if wrongful else "lost"
            if wrongful:
                cleared.add(c)
    assert decisions == expected
    # a won appeal delists the same day (cause: appeal), and nothing else ever delists
    lifted = set(zip(ev["citizen"][delisted], ev["day"][delisted], strict=True))
    assert lifted == {k for k, v in expected.items() if v == "won"}
    cause = ev["cause"][delisted]
    assert np.all(np.array(sim.module("lists").causes)[cause] == "appeal")
    # records agree with the log; the false points of winners are cleared and restored
    assert sim.record("appeals_filed").sum() == filed.sum()
    assert sim.record("appeals_won").sum() == won.sum()
    assert sim.record("appeals_lost").sum() == lost.sum()
    assert np.all(ev["delta"][won] == 1000.0)
    winners = np.unique(ev["citizen"][won])
    assert np.all(sim.people.false_points[winners] == 0.0)


def test_wrongful_listings_are_counted(appeals_sim):
    sim = appeals_sim
    listed = sim.people.listed
    wrongful = sim.people.false_points < 0  # every third citizen, unless an appeal was won
    assert sim.record("wrongly_listed")[-1] == np.count_nonzero(listed & wrongful)
    assert np.array_equal(sim.people.wrongful, listed & wrongful)
    ev = sim.events.columns()
    new, won = _is(ev, sim, "lists.listed"), _is(ev, sim, "lists.appeal_won")
    first_won = {}
    for c, d in zip(ev["citizen"][won], ev["day"][won], strict=True):
        first_won.setdefault(c, d)
    wrong_new = [
        c % 3 == 0 and d <= first_won.get(c, DAYS)
        for c, d in zip(ev["citizen"][new], ev["day"][new], strict=True)
    ]
    assert sim.record("newly_wrongly_listed").sum() == sum(wrong_new) > 50


def test_never_removal_keeps_rightful_listings_forever(appeals_sim):
    sim = appeals_sim
    ev = sim.events.columns()
    delisted = _is(ev, sim, "lists.delisted")
    assert np.all(ev["citizen"][delisted] % 3 == 0)  # only won (wrongful) appeals delist
    rightful = np.arange(N) % 3 != 0  # never had false points
    ever = sim.people.days_listed > 0
    assert np.array_equal(sim.people.listed[rightful], ever[rightful])


@pytest.fixture(scope="module")
def expiry_sim():
    """Rare heavy fines (one drops a score from 650 below 500) and no friend penalty: the pull
    towards friends' scores lifts most listed citizens back above 500 within about a week, so
    some listings are renewed and some lapse."""
    sc = small(n=N, days=DAYS, **{
        **FALL,
        "modules.infractions.kinds": [
            {"name": "fine", "rate": 0.02, "detect_prob": 1.0, "penalty": -200}
        ],
        "modules.scoring.friend_sanction_penalty": 0,
        "modules.lists.removal": "expiry", "modules.lists.listing_days": TERM,
        "modules.lists.redlist_above": 530,
    })  # fmt: skip
    return Sim(sc).run()


def test_expiring_listing_ends_or_renews_on_exactly_its_last_day(expiry_sim):
    """A listing (or renewal) on day t is reviewed on day t + TERM: renewed if the score is
    then below 500, else delisted (cause: expired); no other lists event in between."""
    sim = expiry_sim
    ev = sim.events.columns()
    kinds = _kinds(sim)
    mine = np.isin(
        ev["kind"], [kinds.index(f"lists.{k}") for k in ("listed", "delisted", "renewed")]
    )
    scores = sim.events.score  # everyone's score at the end of each day
    assert sim.record("renewed").sum() > 20 and sim.record("delisted").sum() > 20
    checked = 0
    for c in np.unique(ev["citizen"][mine]):
        sel = mine & (ev["citizen"] == c)
        days, what = ev["day"][sel], [kinds[k] for k in ev["kind"][sel]]
        for k in range(len(days)):
            if what[k] == "lists.delisted":
                continue
            due = days[k] + TERM
            if due >= DAYS:
                assert k == len(days) - 1
                continue
            assert days[k + 1] == due, c
            below = scores[due, c] < 500
            assert what[k + 1] == ("lists.renewed" if below else "lists.delisted"), c
            checked += 1
    assert checked > 50
    assert sim.record("appeals_filed").sum() == 0  # no recourse by default (seed 004)


def test_redlist_holds_the_clean_above_the_threshold(expiry_sim):
    sim = expiry_sim
    p = sim.people
    expected = (sim.score >= 530) & ~p.listed & (p.days_listed == 0)
    assert np.array_equal(p.redlisted, expected)
    assert sim.record("redlisted")[-1] == expected.sum() > 0


def test_never_listed_never_leave():
    """Same kernel as expiry_sim (removal is a runtime argument)."""
    sc = small(n=N, days=DAYS, **FALL, **{
        "modules.lists.removal": "never", "modules.lists.redlist_above": 530,
    })  # fmt: skip
    sim = Sim(sc).run()
    assert sim.record("delisted").sum() == 0
    assert np.array_equal(sim.record("listed"), np.cumsum(sim.record("newly_listed")))
    assert np.array_equal(sim.people.listed, sim.people.days_listed > 0)
    assert sim.record("listed")[-1] > 100
    assert sim.record("appeals_filed").sum() == 0


ACT_DAYS = 5
LISTING_ACTS = {
    **FALL,
    "modules.infractions.kinds": [
        {"name": "fraud", "rate": 0.01, "detect_prob": 0.5, "penalty": -1, "lists": True},
        {"name": "petty", "rate": 0.03, "detect_prob": 1.0, "penalty": -1},
    ],
    "modules.lists.blacklist_below": 0,
    "modules.lists.act_days": ACT_DAYS,
}


def test_a_recorded_act_that_lists_lists_for_act_days_days():
    """Exact replay: with only the act rule, citizen c is listed on day d iff a 'fraud' (lists:
    true) was recorded against c on a day t with 0 <= d - t < ACT_DAYS; unrecorded frauds and
    recorded petty acts list nobody."""
    sim = Sim(small(n=N, days=DAYS, **LISTING_ACTS)).run()
    ev = sim.events.columns()
    recorded = _is(ev, sim, "infractions.recorded") & (ev["cause"] == 0)
    expected = np.zeros((DAYS, N), dtype=bool)
    for c, t in zip(ev["citizen"][recorded], ev["day"][recorded], strict=True):
        expected[t : t + ACT_DAYS, c] = True
    changes = sorted(
        (d, c, name == "lists.listed")
        for name in ("lists.listed", "lists.delisted")
        for c, d in zip(ev["citizen"][_is(ev, sim, name)], ev["day"][_is(ev, sim, name)],
                        strict=True)
    )  # fmt: skip
    observed = np.zeros((DAYS, N), dtype=bool)
    for d, c, listed in changes:  # in day order
        observed[d:, c] = listed
    assert np.array_equal(observed, expected)
    assert np.array_equal(sim.record("listed"), expected.sum(axis=1))
    assert np.array_equal(sim.people.listed, expected[-1])
    causes = ev["cause"][_is(ev, sim, "lists.listed")]
    assert causes.size > 100 and np.all(np.array(sim.module("lists").causes)[causes] == "act")
    last = np.full(N, -1)
    np.maximum.at(last, ev["citizen"][recorded], ev["day"][recorded])
    assert np.array_equal(sim.people.listing_record, last)
    unseen = _is(ev, sim, "infractions.unseen") & (ev["cause"] == 0)
    assert unseen.sum() > 100 and sim.record("wrongly_listed").sum() == 0


@pytest.mark.parametrize(
    "overrides, message",
    [
        ({"modules.lists.court": True},
         "modules.lists.court: true needs modules.courts (the court rule lists the judgment "
         "defaulters that courts keeps); enable modules.courts or set modules.lists.court to "
         "false"),
        ({"modules.lists.act_days": 5},
         "modules.lists.act_days: 5 needs an act that lists: an enabled modules.infractions "
         "with a kind marked lists: true"),
        ({**LISTING_ACTS, "modules.infractions.enabled": False},
         "modules.lists.act_days: 5 needs an act that lists"),
    ],
)  # fmt: skip
def test_a_rule_nothing_can_trigger_is_refused(overrides, message):
    with pytest.raises(ScenarioError) as err:
        small(n=100, **overrides)
    assert message in str(err.value)


def test_rules_that_can_trigger_are_accepted():
    assert small(n=100, **LISTING_ACTS).modules.lists.act_days == ACT_DAYS
    on = small(n=100, **{"modules.lists.court": True, "modules.courts": {}})
    assert on.modules.lists.court
    off = small(n=100, **{
        "modules.lists.court": True, "modules.lists.enabled": False,
        "modules.sanctions.enabled": False,
    })  # fmt: skip
    assert off.modules.lists.enabled is False


@pytest.mark.parametrize(
    "field,value,message",
    [
        ("removal", "forever", 'modules.lists.removal: "forever" is not allowed; expected one'),
        ("appeal_delay", 0, "modules.lists.appeal_delay: 0 is not allowed; expected an integer"),
        ("success_if_wrongful", 1.5, "modules.lists.success_if_wrongful: 1.5 is not allowed"),
        ("redlist_above", -1, "modules.lists.redlist_above: -1 is not allowed"),
    ],
)  # fmt: skip
def test_bad_values_name_the_field(field, value, message):
    with pytest.raises(ScenarioError) as err:
        small(**{f"modules.lists.{field}": value})
    assert message in str(err.value)


def test_lists_is_a_score_component_only_with_appeals():
    """A won appeal restores points through the ``lists`` component, which exists only then."""
    on = {"modules.lists.appeals": True, "modules.scoring.weights": {"lists": 1.0}}
    assert small(n=100, **on).modules.scoring.weights == {"lists": 1.0}
    with pytest.raises(ScenarioError, match="weights.lists is not a score component"):
        small(n=100, **{**on, "modules.lists.appeals": False})


def _court_list(**lists):
    """Judgment defaulters only (a day-0 cohort performing late at 1 % a day), listed with a
    two-year term; everyone audited."""
    return small(n=3000, days=120, **{
        "modules.finance.enabled": False,
        "modules.courts": {"dispute_rate": 0.0, "initial_defaulters": 0.3, "late_rate": 0.01},
        "modules.lists": {"blacklist_below": 0, "court": True, "removal": "expiry",
                          "listing_days": 730, **lists},
        "modules.sanctions.enabled": False, "output.audit_sample": 10_000,
    })  # fmt: skip


def test_a_listing_ends_release_days_after_the_defaulter_performs():
    """release_days 3: every judgment defaulter who performs late on day d is delisted on day
    d + 3 (cause 'released'), long before the two-year term; without it nobody is delisted."""
    sim = Sim(_court_list(release_days=3)).run()
    late, delisted = event_days(sim, "courts.late"), event_days(sim, "lists.delisted")
    listed = event_days(sim, "lists.listed")  # (who performed on day 0 was never listed)
    due = {c: d + 3 for c, d in late.items() if d + 3 < 120 and c in listed}
    assert len(due) > 300
    assert delisted == due
    ev = sim.events.columns()
    names = [f"{m}.{k}" for m, k in sim.event_kinds]
    causes = ev["cause"][ev["kind"] == names.index("lists.delisted")]
    assert set(causes.tolist()) == {sim.module("lists").causes.index("released")}
    assert Sim(_court_list()).run().record("delisted").sum() == 0


def test_aggravated_listings_get_one_to_three_more_years():
    """aggravated_share 0.4: about 40 % of the day-0 listings get a term of 3, 4 or 5 years,
    each about a third of them (binomial, 4 sd); the rest keep 2 years."""
    sim = Sim(_court_list(aggravated_share=0.4)).run()
    listed = sim.people.listed_since >= 0
    term = (sim.people.term_until - sim.people.listed_since)[listed]
    assert set(np.unique(term).tolist()) <= {730, 1095, 1460, 1825}
    n = term.size
    aggravated = int((term > 730).sum())
    assert abs(aggravated - 0.4 * n) < 4 * np.sqrt(n * 0.4 * 0.6)
    for years in (1, 2, 3):
        k = int((term == 730 + 365 * years).sum())
        assert abs(k - aggravated / 3) < 4 * np.sqrt(aggravated * 2 / 9)


@pytest.mark.parametrize("field, value", [("release_days", 3), ("aggravated_share", 0.2)])
def test_term_settings_need_a_term(field, value, run_cli, tmp_path):
    """release_days and aggravated_share shape a listing's term: with removal never they
    would do nothing, so the scenario is refused with exit 2 naming the field."""
    raw = load_raw("court-blacklist")
    raw["modules"]["lists"][field] = value
    spec = tmp_path / "court.yaml"
    spec.write_text(yaml.safe_dump(raw))
    res = run_cli("run", str(spec), "--n", "1000", "--days", "5", "--out", str(tmp_path / "r"))
    assert res.returncode == 2, res.stderr
    assert f"modules.lists: {field} acts only with removal: expiry" in res.stderr
    assert not (tmp_path / "r").exists() and not (tmp_path / "r.partial").exists()
