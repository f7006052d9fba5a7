"""Courts: orders from defaults and disputes, deadlines, compliance, apologies judged with an
error rate, judgment defaulters listed by the lists module (lists.court: true).

Exact checks replay every citizen's cases from the audit log (everyone audited); statistical
checks compare counts with the chances the parameters imply, within 4 standard deviations (a
false alarm rate of ~6e-5 per check). Kernels: sc-core + finance + courts, and the same with
the population module (shared with tests/modules/test_finance.py).
"""

import math
from collections import defaultdict

import numpy as np
import pytest

from scsim.days import NEVER
from scsim.engine import Sim
from scsim.scenario import ScenarioError
from tests.conftest import small

N, DAYS, DEADLINE = 3000, 200, 7
COMPLY, COMPLY_DEFAULT, SINCERE, APOLOGY, EFFECT = 0.6, 0.3, 0.7, 0.5, -30.0
FINANCE = {  # many defaults: every need is approved, two misses in a row default
    "shock_rate": 0.0, "recovery_rate": 0.0, "loan_rate": 0.02, "term": 6, "cycle": 10,
    "miss_prob": 0.3, "miss_again_prob": 0.8, "default_after": 2, "repay_rate": 0.05,
    "min_score": 0, "score_ramp": 0, "initial_share": 0.0,
}  # fmt: skip
COURTS = {
    "dispute_rate": 0.003, "apology_share": APOLOGY, "deadline_days": DEADLINE,
    "comply_prob": COMPLY, "comply_prob_default": COMPLY_DEFAULT, "sincere_prob": SINCERE,
    "error_rate": 0.3, "late_rate": 0.05, "defaulter_effect": EFFECT,
}  # fmt: skip


def _scenario(courts=None, **overrides):
    return small(n=N, days=DAYS, **{
        "modules.finance": FINANCE, "modules.courts": {**COURTS, **(courts or {})},
        "modules.lists.court": True, "modules.lists.blacklist_below": 0,
        "output.audit_sample": 10_000, **overrides,
    })  # fmt: skip


def _histories(sim):
    """Each citizen's finance, courts and lists events as (day, 'module.kind', cause, delta)."""
    ev = sim.events.columns()
    names = [f"{m}.{k}" for m, k in sim.event_kinds]
    causes = {m.name: m.causes for m in sim.modules}
    out = defaultdict(list)
    for c, d, k, cause, x in zip(
        ev["citizen"], ev["day"], ev["kind"], ev["cause"], ev["delta"], strict=True
    ):
        name = names[k]
        module = name.split(".")[0]
        if module in ("finance", "courts", "lists"):
            why = causes[module][cause] if cause >= 0 else None
            out[int(c)].append((int(d), name, why, float(x)))
    return out


def _within(count, expected, variance, k=4.0):
    """``count`` lies within ``k`` standard deviations of ``expected``."""
    return abs(count - expected) <= k * np.sqrt(variance)


def _outcomes(sim):
    """Replay every case, asserting its rules: orders open only without an open case (a
    payment order on the day of a finance default), resolve exactly DEADLINE days later; return
    the resolved orders as (kind, outcome) and the apologies made as [sincere, judged
    insincere]."""
    orders, apologies = [], []
    for c, events in _histories(sim).items():
        case, deadline, defaults = None, None, []
        for day, name, cause, delta in events:
            if name == "finance.default":
                defaults.append(day)
            elif name == "courts.order":
                assert case is None, c
                if cause == "default":
                    assert defaults and defaults[-1] == day, c
                case = {"default": "pay", "dispute": "perform"}.get(cause, cause)
                deadline = day + DEADLINE
            elif name == "courts.joined":
                assert case is not None and defaults[-1] == day, c
            elif name == "courts.apology":
                assert case == "apology" and day == deadline, (c, day)
                apologies.append([cause == "sincere", False])
            elif name in ("courts.complied", "courts.defaulted"):
                assert case in ("pay", "perform", "apology") and day == deadline, (c, day)
                assert name == "courts.complied" or delta == EFFECT, c
                orders.append((case, name))
                case = "listed" if name == "courts.defaulted" else None
            elif name == "courts.judged_insincere":
                apologies[-1][1] = True
                assert cause == ("sincere" if apologies[-1][0] else "insincere"), c
            elif name == "courts.late":
                assert case == "listed", c
                case = None
            elif name == "lists.listed":
                assert cause == "court", c
        # every finance default opened an order or joined an open case the same day
        opened = [d for d, n, why, _ in events if n in ("courts.order", "courts.joined")
                  and why == "default"]  # fmt: skip
        assert opened == defaults, c
    return orders, apologies


@pytest.fixture(scope="module")
def sim():
    return Sim(_scenario()).run()


def test_orders_resolve_exactly_at_their_deadline(sim):
    orders, apologies = _outcomes(sim)
    kinds = [k for k, _ in orders]
    assert kinds.count("pay") > 300 and kinds.count("perform") > 300 and len(apologies) > 200
    assert sim.record("court_orders_from_default").sum() == kinds.count("pay") + np.count_nonzero(
        sim.people.court_case == 1
    )


def test_compliance_matches_the_configured_chances(sim):
    """Without the population module the chance is comply_prob (comply_prob_default for
    payment orders); an apology counts as carried out when it is made (judged or not)."""
    orders, apologies = _outcomes(sim)
    pay = [o for k, o in orders if k == "pay"]
    n, got = len(pay), pay.count("courts.complied")
    assert _within(got, COMPLY_DEFAULT * n, n * COMPLY_DEFAULT * (1 - COMPLY_DEFAULT))
    dispute = [o for k, o in orders if k in ("perform", "apology")]
    n = len(dispute)
    made = sim.record("apologies_made").sum()
    carried = sum(o == "courts.complied" for k, o in orders if k == "perform") + made
    assert n > 500 and _within(carried, COMPLY * n, n * COMPLY * (1 - COMPLY))


def test_apologies_are_misjudged_at_the_error_rate(sim):
    """Sincere with chance SINCERE; a sincere apology is judged insincere (a wrong judgement)
    with the error rate 0.3, an insincere one with 1 - 0.3: Binomial counts."""
    _, apologies = _outcomes(sim)
    made = len(apologies)
    sincere = sum(s for s, _ in apologies)
    assert made == sim.record("apologies_made").sum() and made > 200
    assert sincere == sim.record("apologies_sincere").sum()
    assert _within(sincere, SINCERE * made, made * SINCERE * (1 - SINCERE))
    wrong = sum(s and j for s, j in apologies)
    assert wrong == sim.record("apologies_wrongly_judged").sum()
    assert _within(wrong, 0.3 * sincere, sincere * 0.3 * 0.7)
    insincere = made - sincere
    caught = sum(j and not s for s, j in apologies)
    assert _within(caught, 0.7 * insincere, insincere * 0.3 * 0.7)
    assert sim.record("apologies_judged_insincere").sum() == wrong + caught


def test_judgment_defaulters_are_listed_with_cause_court(sim):
    """lists.court true, no score rule: the blacklist is exactly the court list, every court
    default is a new listing, and each wrong judgement is a new wrongful listing."""
    p = sim.people
    assert np.array_equal(p.listed, p.court_listed) and p.listed.sum() > 50
    assert sim.record("newly_listed").sum() == sim.record("judgment_defaulters_new").sum()
    assert sim.record("newly_wrongly_listed").sum() == sim.record("apologies_wrongly_judged").sum()
    assert sim.record("wrongly_listed")[-1] == np.count_nonzero(p.court_listed & p.court_wrongful)
    assert np.array_equal(p.wrongful, p.court_listed & p.court_wrongful)
    # the penalty of each wrong judgement is filed as false points (restored by a won appeal)
    wrong = np.zeros(N)
    for c, events in _histories(sim).items():
        wrong[c] = sum(
            n == "courts.judged_insincere" and why == "sincere" for _, n, why, _ in events
        )
    assert np.array_equal(p.false_points, (EFFECT * wrong).astype(np.float32))
    assert sim.record("court_performed_late").sum() > 50


def test_open_orders_are_a_stock(sim):
    case = sim.people.court_case
    open_now = np.count_nonzero((case >= 1) & (case <= 3))
    assert sim.record("court_orders_open")[-1] == open_now > 0


def test_error_rate_zero_lists_nobody_wrongly():
    sim = Sim(_scenario(courts={"error_rate": 0.0})).run()
    assert sim.record("apologies_made").sum() > 200
    assert sim.record("apologies_wrongly_judged").sum() == 0
    assert sim.record("newly_wrongly_listed").sum() == 0 and not sim.people.court_wrongful.any()
    made, sincere = sim.record("apologies_made").sum(), sim.record("apologies_sincere").sum()
    assert sim.record("apologies_judged_insincere").sum() == made - sincere
    assert not sim.people.false_points.any()


def test_population_shapes_compliance():
    """With the population module the chance is the logistic of logit(base) + conformity and
    income terms: compliance counts are sums of Bernoulli draws with those chances."""
    sim = Sim(_scenario(**{"modules.population": {}, "modules.speech.enabled": False})).run()
    p, courts = sim.people, sim.module("courts")
    median = courts.probs[-1]
    chances, complied = [], 0
    for c, events in _histories(sim).items():
        case = None
        for _, name, cause, _ in events:
            if name == "courts.order":
                case = cause
            elif name in ("courts.complied", "courts.defaulted", "courts.apology"):
                if case is None:
                    continue  # the judgement of an apology already counted
                base = COMPLY_DEFAULT if case == "default" else COMPLY
                ratio = min(max(float(p.income[c]) / median, 1 / 8), 8)
                x = math.log(base / (1 - base)) + (2 * float(p.conformity[c]) - 1)
                x += 0.5 * math.log(ratio)
                chances.append(1 / (1 + math.exp(-x)))
                complied += name in ("courts.complied", "courts.apology")
                case = None
    chances = np.array(chances)
    assert chances.size > 500 and np.std(chances) > 0.05
    assert _within(complied, chances.sum(), (chances * (1 - chances)).sum())
    assert np.all(p.court_day[p.age < 18] == NEVER)


def _watched(pooled=True, cover=1.0):
    """Surveillance on: the bank sees half of finance's acts, the courts department a share
    ``cover`` of the new judgment defaulters (place court)."""
    sources = [
        {"name": "bank", "sees": {"finance": 0.5}},
        {"name": "courts", "sees": {"court": cover}, "pooled": pooled},
    ]
    return _scenario(**{"modules.surveillance": {"sources": sources}})


def _court_events(sim):
    """Every courts event as (citizen, day, kind, cause, delta), sorted."""
    return sorted(
        (c, d, n, why, x) for c, h in _histories(sim).items() for d, n, why, x in h
        if n.startswith("courts.")
    )  # fmt: skip


def test_a_pooled_courts_department_changes_nothing(sim):
    """Coverage 1, pooled: every judgment defaulter is recorded as without surveillance. Court
    decisions do not depend on the score, and finance's lenders approve everyone here, so the
    cases, their effects and the false points are exactly those of the run without it."""
    on = Sim(_watched()).run()
    assert _court_events(on) == _court_events(sim)
    assert on.record("surveillance_seen_courts").sum() == on.record("judgment_defaulters_new").sum()
    assert np.array_equal(on.component("courts"), sim.component("courts"))
    assert np.array_equal(on.people.false_points, sim.people.false_points)
    assert np.array_equal(on.people.listed, sim.people.listed)


@pytest.mark.parametrize("pooled, cover", [(False, 1.0), (True, 0.0)])
def test_unpooled_or_blind_courts_keep_defaulters_off_the_score(sim, pooled, cover):
    """The court still lists its judgment defaulters (and lists.court blacklists them), but
    the defaulter effect and the false points of wrong judgements reach no score."""
    on = Sim(_watched(pooled=pooled, cover=cover)).run()
    new = on.record("judgment_defaulters_new").sum()
    assert new == sim.record("judgment_defaulters_new").sum() > 100
    assert on.record("surveillance_seen_courts").sum() == (new if cover else 0)
    assert not on.component("courts").any() and not on.people.false_points.any()
    defaulted = [x for *_, n, _, x in _court_events(on) if n == "courts.defaulted"]
    assert len(defaulted) == new and not any(defaulted)
    assert np.array_equal(on.people.listed, on.people.court_listed) and on.people.listed.any()
    assert on.record("newly_listed").sum() == new


@pytest.mark.parametrize(
    "field,value,message",
    [
        ("error_rate", -0.1, "modules.courts.error_rate: -0.1 is not allowed; expected a number"),
        ("deadline_days", 0, "modules.courts.deadline_days: 0 is not allowed"),
        ("defaulter_effect", 1, "modules.courts.defaulter_effect: 1 is not allowed"),
        ("apology_share", 2, "modules.courts.apology_share: 2 is not allowed"),
    ],
)  # fmt: skip
def test_bad_values_name_the_field(field, value, message):
    with pytest.raises(ScenarioError) as err:
        small(**{f"modules.courts.{field}": value})
    assert message in str(err.value)


STOCK = {"dispute_rate": 0.0, "initial_defaulters": 0.2, "late_rate": 0.01}
"""A cohort of judgment defaulters on day 0 and nothing else reaching the courts."""


def _cohort(courts: dict, days: int, **lists):
    return small(n=N, days=days, **{
        "modules.finance.enabled": False, "modules.courts": {**COURTS, **courts},
        "modules.lists.court": True, "modules.lists.blacklist_below": 0,
        **{f"modules.lists.{k}": v for k, v in lists.items()},
    })  # fmt: skip


def test_a_stock_of_judgment_defaulters_is_listed_on_day_0():
    """About a fifth of the citizens (every one an adult without the population module) are
    judgment defaulters on day 0 (binomial, 4 sd), and the court rule lists each that day but
    those who perform late on day 0 itself."""
    sim = Sim(_cohort(STOCK, days=1)).run()
    still = int(sim.people.court_listed.sum())
    assert _within(still + int(sim.record("court_performed_late")[0]), 0.2 * N, N * 0.2 * 0.8)
    assert sim.record("newly_listed")[0] == still


@pytest.mark.parametrize("effect", [1.0, 3.0])
def test_the_public_list_speeds_up_late_performance(effect):
    """listing_effect multiplies the daily chance to perform late while the list shows the
    defaulters: after 60 days a share (1 - 0.01 x effect)^60 of the day-0 cohort is still a
    judgment defaulter (0.547 with no effect, 0.160 with 3; binomial, 4 sd)."""
    courts = {**STOCK, "listing_effect": effect}
    sim = Sim(_cohort(courts, days=60)).run()
    cohort = int(sim.people.court_listed.sum()) + int(sim.record("court_performed_late").sum())
    left = (1 - 0.01 * effect) ** 60
    assert _within(int(sim.people.court_listed.sum()), left * cohort, cohort * left * (1 - left))


def test_the_list_has_no_effect_when_it_does_not_list_judgment_defaulters():
    """Without lists.court the court's mark is not published: listing_effect does nothing."""
    courts = {**STOCK, "listing_effect": 3.0}
    a = Sim(_cohort(courts, days=60, court=False, blacklist_below=500)).run()
    b = Sim(_cohort({**STOCK, "listing_effect": 1.0}, days=60, court=False,
                    blacklist_below=500)).run()  # fmt: skip
    assert np.array_equal(a.people.court_listed, b.people.court_listed)


ROLLOUT = 100
"""Days over which the courts join the list in the rollout tests."""


def test_courts_join_the_list_over_the_rollout():
    """A court lists the defaulters it judges from the day it joins: before day 100 a defaulter
    judged on day t is listed with chance t / 100 (so about half of those judged in days 0-99,
    binomial, 4 sd), from day 100 on every one, the day they are judged."""
    courts = {"dispute_rate": 0.003, "late_rate": 1e-9, "rollout_days": ROLLOUT}
    sim = Sim(_cohort(courts, days=2 * ROLLOUT)).run()
    new, judged = sim.record("newly_listed"), sim.record("judgment_defaulters_new")
    assert np.array_equal(new[ROLLOUT:], judged[ROLLOUT:])
    days = np.arange(ROLLOUT)
    expected = float((judged[:ROLLOUT] * days / ROLLOUT).sum())
    variance = float((judged[:ROLLOUT] * days / ROLLOUT * (1 - days / ROLLOUT)).sum())
    assert _within(int(new[:ROLLOUT].sum()), expected, variance)


def test_defaulters_judged_before_their_court_joined_stay_off_the_list():
    """A day-0 stock is listed only where the court lists from day 0: half of it with a two-day
    rollout (binomial, 4 sd). The rest are judgment defaulters all the same: after 60 days a
    share 0.99^60 of the whole stock has not performed (late_rate 0.01, binomial, 4 sd), and
    every one who performed, listed or not, is counted; the listed are exactly the listed cases."""
    sim = Sim(_cohort({**STOCK, "rollout_days": 2}, days=60)).run()
    listed = int(sim.record("newly_listed").sum())
    waiting = int(np.isin(sim.people.court_case, [4, 5]).sum())
    stock = waiting + int(sim.record("court_performed_late").sum())
    assert _within(stock, 0.2 * N, N * 0.2 * 0.8)
    assert _within(listed, 0.5 * stock, stock * 0.25)
    left = 0.99**60
    assert _within(waiting, left * stock, stock * left * (1 - left))
    assert sim.people.court_listed.sum() == (sim.people.court_case == 4).sum()


def test_rollout_days_must_be_a_whole_number_of_days():
    with pytest.raises(ScenarioError, match=r"modules\.courts\.rollout_days.*-1"):
        small(**{"modules.courts.rollout_days": -1})
