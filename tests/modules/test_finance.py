"""Finance: loans by need and access, instalments on each borrower's due day, misses, defaults
after K consecutive misses, repayment, income shocks.

Exact checks replay every citizen's loan history from the audit log (everyone audited); the
statistical checks compare counts with the chances the parameters imply, within 4 standard
deviations (a false alarm rate of ~6e-5 per check). Kernels: sc-core + finance + courts (most
tests), sc-core + courts (finance off), and the same with the population module.
"""

from collections import defaultdict

import numpy as np
import pytest

from scsim.engine import Sim
from scsim.results import people_table, timeseries_table
from scsim.scenario import ScenarioError
from tests.conftest import small

N, DAYS = 3000, 240
TERM, CYCLE, K = 6, 10, 3
MISS, AGAIN = 0.1, 0.5
MIN_SCORE, RAMP = 600.0, 100.0
FINANCE = {
    "shock_rate": 0.0, "recovery_rate": 0.0, "loan_rate": 0.01, "term": TERM, "cycle": CYCLE,
    "miss_prob": MISS, "miss_again_prob": AGAIN, "default_after": K, "repay_rate": 0.02,
    "min_score": MIN_SCORE, "score_ramp": RAMP, "initial_share": 0.0,
}  # fmt: skip
POPULATION = {"modules.population": {}, "modules.speech.enabled": False}  # speech adds dissent
BASE = {"modules.courts": {"dispute_rate": 0.002}, "output.audit_sample": 10_000}


def _scenario(n=N, days=DAYS, finance=None, **overrides):
    modules = {"modules.finance": {**FINANCE, **(finance or {})}} if finance is not False else {}
    return small(n=n, days=days, **BASE, **modules, **overrides)


def _histories(sim, module="finance"):
    """Each citizen's events of one module as (day, kind, delta), in log order."""
    ev = sim.events.columns()
    names = [f"{m}.{k}" for m, k in sim.event_kinds]
    out = defaultdict(list)
    for c, d, k, x in zip(ev["citizen"], ev["day"], ev["kind"], ev["delta"], strict=True):
        m, kind = names[k].split(".")
        if m == module:
            out[int(c)].append((int(d), kind, float(x)))
    return out


def _within(count, expected, variance, k=4.0):
    """``count`` lies within ``k`` standard deviations of ``expected``."""
    return abs(count - expected) <= k * np.sqrt(variance)


@pytest.fixture(scope="module")
def stepped():
    """No shocks, no loans on day 0; stepped day by day to read the stocks each day."""
    sim = Sim(_scenario()).build()
    p = sim.people
    levels = []
    for day in range(DAYS):
        sim.step(day)
        levels.append(
            [
                np.count_nonzero(p.instalments_left),
                np.count_nonzero(p.in_default),
                p.income_shock.sum(),
            ]
        )
    return sim, np.array(levels)


def test_loans_replay_exactly_from_the_log(stepped):
    """Instalments fall due every CYCLE days from the loan; a default comes exactly with the
    K-th consecutive miss; a loan completes with its TERM-th payment; a defaulted debt gets no
    instalment until it is repaid."""
    sim, _ = stepped
    checked = defaults = 0
    for c, events in _histories(sim).items():
        state, due, paid, run = "none", None, 0, 0
        for day, kind, _ in events:
            if kind == "loan":
                assert state == "none", c
                state, due, paid, run = "loan", day + CYCLE, 0, 0
            elif kind == "refused":
                assert state == "none", c
            elif kind in ("paid", "missed"):
                assert state == "loan" and day == due and run < K, (c, day, due)
                due = day + CYCLE
                paid, run = (paid + 1, 0) if kind == "paid" else (paid, run + 1)
            elif kind == "default":
                assert state == "loan" and run == K and day == due - CYCLE, c
                state, defaults = "default", defaults + 1
            elif kind == "completed":
                assert state == "loan" and paid == TERM and day == due - CYCLE, c
                state = "none"
            elif kind == "repaid":
                assert state == "default", c
                state = "none"
        checked += 1
        # what the log implies matches the final state
        assert sim.people.in_default[c] == (state == "default"), c
        if state == "loan":
            assert sim.people.instalments_left[c] == TERM - paid, c
            assert sim.people.finance_next_day[c] == due, c
            assert sim.people.missed_run[c] == run, c
    assert checked > 2000 and defaults > 50


def test_missed_share_matches_the_configured_chances(stepped):
    """Without shocks or population, a first miss has chance MISS, a miss after a miss AGAIN:
    counts are Binomial(dues, p)."""
    sim, _ = stepped
    dues = {True: 0, False: 0}
    misses = {True: 0, False: 0}
    for events in _histories(sim).values():
        run = 0
        for _, kind, _ in events:
            if kind in ("paid", "missed"):
                dues[run > 0] += 1
                misses[run > 0] += kind == "missed"
                run = run + 1 if kind == "missed" else 0
            elif kind in ("default", "loan"):
                run = 0
    for after, p in ((False, MISS), (True, AGAIN)):
        assert dues[after] > 300
        assert _within(misses[after], p * dues[after], dues[after] * p * (1 - p)), after


def test_lender_approves_with_the_score_ramp(stepped):
    """A need on day d is approved with chance (score_{d-1} - MIN_SCORE) / RAMP clipped to [0, 1]:
    approvals are a sum of Bernoulli draws with those chances."""
    sim, _ = stepped
    score = sim.events.score  # everyone's score at the end of each day
    chances, approved = [], 0
    for c, events in _histories(sim).items():
        for day, kind, _ in events:
            if kind in ("loan", "refused"):
                s = score[day - 1, c] if day > 0 else sim.scenario.modules.scoring.initial
                chances.append(min(max((s - MIN_SCORE) / RAMP, 0.0), 1.0))
                approved += kind == "loan"
    chances = np.array(chances)
    assert chances.size > 1000 and 0.1 < chances.mean() < 0.9
    assert _within(approved, chances.sum(), (chances * (1 - chances)).sum())


def test_records_stocks_and_score_agree_with_the_log(stepped):
    sim, levels = stepped
    ev = sim.events.columns()
    names = [f"{m}.{k}" for m, k in sim.event_kinds]
    count = {k: np.count_nonzero(ev["kind"] == names.index(f"finance.{k}")) for k in sim.module(
        "finance").events}  # fmt: skip
    for record, kind in (
        ("loans_taken", "loan"), ("loans_refused", "refused"), ("instalments_paid", "paid"),
        ("instalments_missed", "missed"), ("defaults", "default"),
        ("repaid_after_default", "repaid"), ("loans_completed", "completed"),
    ):  # fmt: skip
        assert sim.record(record).sum() == count[kind], record
    assert np.array_equal(
        sim.record("instalments_due"),
        sim.record("instalments_paid") + sim.record("instalments_missed"),
    )
    assert np.array_equal(sim.record("loans_active"), levels[:, 0])
    assert np.array_equal(sim.record("in_default"), levels[:, 1])
    assert np.all(sim.record("in_shock") == 0) and sim.record("job_losses").sum() == 0
    # each citizen's finance component is the sum of its events' deltas, which are the effects
    total = np.zeros(N, dtype=np.float64)
    fin = np.isin(ev["kind"], [names.index(f"finance.{k}") for k in count])
    np.add.at(total, ev["citizen"][fin], ev["delta"][fin])
    assert np.allclose(sim.component("finance"), total, atol=1e-3)
    p = sim.scenario.modules.finance
    for kind, effect in (("paid", p.paid_effect), ("missed", p.missed_effect),
                         ("default", p.default_effect), ("repaid", p.repaid_effect)):  # fmt: skip
        assert np.all(ev["delta"][ev["kind"] == names.index(f"finance.{kind}")] == effect)


def test_results_show_records_and_state(stepped):
    sim, _ = stepped
    ts, people = timeseries_table(sim), people_table(sim)
    for record in sim.module("finance").records:
        assert record.name in ts.column_names
    for name in ("income_shock", "instalments_left", "in_default", "default_day", "missed_run"):
        assert name in people.column_names


def test_income_shocks_hold_their_stationary_share():
    """Shock on with hazard a, off with hazard b: on day 0 each adult is in shock with the
    stationary chance a / (a + b), which the dynamics keep: each day's count is
    Binomial(N, a / (a + b)). Misses during a shock are multiplied by shock_multiplier."""
    a, b, mult, miss = 0.004, 0.04, 4.0, 0.05
    sim = Sim(_scenario(finance={
        "shock_rate": a, "recovery_rate": b, "shock_multiplier": mult, "miss_prob": miss,
        "miss_again_prob": miss, "initial_share": None,
    })).run()  # fmt: skip
    share = a / (a + b)
    in_shock = sim.record("in_shock")
    assert in_shock[-1] == sim.people.income_shock.sum()
    for day in (0, DAYS // 2, DAYS - 1):
        assert _within(in_shock[day], N * share, N * share * (1 - share)), day
    # replay each citizen's shock state; the first event says the state on day 0
    dues = {True: 0, False: 0}
    misses = {True: 0, False: 0}
    for events in _histories(sim).values():
        flips = [k for _, k, _ in events if k in ("shock", "recovery")]
        shocked = bool(flips) and flips[0] == "recovery"
        for _, kind, _ in events:
            if kind in ("shock", "recovery"):
                shocked = kind == "shock"
            elif kind in ("paid", "missed"):
                dues[shocked] += 1
                misses[shocked] += kind == "missed"
    for shocked, p in ((False, miss), (True, miss * mult)):
        assert dues[shocked] > 200
        assert _within(misses[shocked], p * dues[shocked], dues[shocked] * p * (1 - p)), shocked
    assert sim.record("loans_active")[0] > 0.2 * N  # stationary share of loans on day 0


def test_no_access_below_the_minimum_score():
    sim = Sim(_scenario(n=600, days=40, finance={"min_score": 900, "score_ramp": 0})).run()
    assert sim.record("loans_taken").sum() == 0 and sim.record("loans_refused").sum() > 50


def test_switching_finance_off_leaves_other_draws_identical(stepped):
    """The same scenario without finance: purchases and infractions happen to the same citizens
    on the same days; courts' dispute draws are unchanged for citizens who never defaulted."""
    on, _ = stepped
    off = Sim(_scenario(finance=False)).run()

    def acts(sim, module):
        ev = sim.events.columns()
        names = [f"{m}.{k}" for m, k in sim.event_kinds]
        mine = np.array([names[k].startswith(module + ".") for k in ev["kind"]], dtype=bool)
        return sorted(zip(ev["day"][mine], ev["citizen"][mine], ev["cause"][mine], strict=True))

    for module in ("purchases", "infractions"):
        assert acts(on, module) == acts(off, module) and len(acts(on, module)) > 1000
    defaulted = on.people.default_day >= 0
    court_on, court_off = _histories(on, "courts"), _histories(off, "courts")
    same = [c for c in range(N) if not defaulted[c]]
    assert all(court_on[c] == court_off[c] for c in same)
    assert sum(len(court_off[c]) for c in same) > 50


def test_population_shapes_need_and_misses():
    """With the population module: minors never borrow; the need is loan_rate x the capped
    income factor x the thrift factor; a first miss has chance MISS x (1 + w (1 - 2 thrift))."""
    w = 1.0
    sim = Sim(_scenario(finance={"thrift_weight": w}, **POPULATION)).run()
    p, fin = sim.people, sim.module("finance")
    adult = p.age >= 18
    earners = p.income[adult & (p.income > 0)]
    with np.errstate(divide="ignore"):
        factor = np.minimum((np.median(earners) / p.income.astype(np.float64)) ** 0.5, 4.0)
    expected = np.where(adult, 0.01 * factor * (1 + w * (1 - 2 * p.thrift.astype(np.float64))), 0)
    assert np.allclose(fin.need, expected, rtol=1e-5)
    assert np.all(p.instalments_left[~adult] == 0) and np.all(p.default_day[~adult] == -1)
    chances, misses = [], 0
    for c, events in _histories(sim).items():
        run = 0
        for _, kind, _ in events:
            if kind in ("paid", "missed"):
                if run == 0:
                    chances.append(MISS * (1 + w * (1 - 2 * float(p.thrift[c]))))
                    misses += kind == "missed"
                run = run + 1 if kind == "missed" else 0
    chances = np.array(chances)
    assert chances.size > 500
    assert _within(misses, chances.sum(), (chances * (1 - chances)).sum())


# ---------------------------------------------------------------- with surveillance
# Lenders approve every need (min_score 0, ramp 0), so a citizen's loans follow finance's own
# draws only, whatever the score: surveillance changes the score effects, not the loans.
OPEN = {"min_score": 0, "score_ramp": 0}
COVER = 0.6


def _watched(pooled=True, cover=COVER):
    bank = {"name": "bank", "sees": {"finance": cover}, "pooled": pooled}
    return _scenario(finance=OPEN, **{"modules.surveillance": {"sources": [bank]}})


def _sightings(sim):
    """(citizen, day) -> number of 'seen' events by the bank (its index 0) that day."""
    ev = sim.events.columns()
    names = [f"{m}.{k}" for m, k in sim.event_kinds]
    seen = (ev["kind"] == names.index("surveillance.seen")) & (ev["cause"] == 0)
    out = defaultdict(int)
    for c, d in zip(ev["citizen"][seen], ev["day"][seen], strict=True):
        out[(int(c), int(d))] += 1
    return out


@pytest.fixture(scope="module")
def watched():
    return Sim(_watched()).run()


def test_the_bank_sees_misses_and_defaults_with_its_coverage(watched):
    """A miss and a default are acts at place finance: each is seen by the bank with chance
    COVER, independently (a default is sighted on its own stream), and its effect reaches the
    score exactly when it is seen (one pooled source, no misidentification)."""
    sim = watched
    p = sim.scenario.modules.finance
    acts = recorded = differ = defaults = 0
    expected = defaultdict(int)  # (citizen, day) -> acts whose effect reached the score
    for c, events in _histories(sim).items():
        for k, (day, kind, delta) in enumerate(events):
            if kind not in ("missed", "default"):
                continue
            effect = p.missed_effect if kind == "missed" else p.default_effect
            assert delta in (0.0, effect), (c, day, kind)
            acts += 1
            recorded += delta != 0
            expected[(c, day)] += delta != 0
            if kind == "default":  # follows the miss of the same day in the log
                miss = events[k - 1]
                assert miss[:2] == (day, "missed"), c
                defaults += 1
                differ += (miss[2] == 0) != (delta == 0)
    assert {k: v for k, v in expected.items() if v} == _sightings(sim)
    assert acts == sim.record("instalments_missed").sum() + sim.record("defaults").sum()
    assert recorded == sim.record("surveillance_seen_bank").sum()
    assert _within(recorded, COVER * acts, acts * COVER * (1 - COVER)) and acts > 1000
    # independent sightings of the miss and the default: they differ with 2 c (1 - c)
    q = 2 * COVER * (1 - COVER)
    assert defaults > 100 and _within(differ, q * defaults, defaults * q * (1 - q))


def test_surveillance_leaves_the_loans_alone(watched):
    """Common random numbers: the same loans, dues, misses and defaults as without
    surveillance; only the effects of unseen misses and defaults are missing."""
    off = Sim(_scenario(finance=OPEN)).run()
    on_h, off_h = _histories(watched), _histories(off)
    assert on_h.keys() == off_h.keys()
    for c in off_h:
        assert [e[:2] for e in on_h[c]] == [e[:2] for e in off_h[c]], c
    ev = watched.events.columns()
    names = [f"{m}.{k}" for m, k in watched.event_kinds]
    fin = np.array([names[k].startswith("finance.") for k in ev["kind"]], dtype=bool)
    total = np.zeros(N, dtype=np.float64)
    np.add.at(total, ev["citizen"][fin], ev["delta"][fin])
    assert np.allclose(watched.component("finance"), total, atol=1e-3)
    assert watched.component("finance").sum() > off.component("finance").sum()


@pytest.mark.parametrize("pooled, cover", [(False, COVER), (True, 0.0)])
def test_unpooled_or_blind_bank_keeps_misses_and_defaults_off_the_score(pooled, cover):
    """An unpooled bank records what it sees in its own files; a bank with coverage 0 sees
    nothing: either way no miss or default changes a score, payments still do."""
    sim = Sim(_watched(pooled=pooled, cover=cover)).run()
    p = sim.scenario.modules.finance
    missed, defaults = sim.record("instalments_missed").sum(), sim.record("defaults").sum()
    seen = sim.record("surveillance_seen_bank").sum()
    assert missed > 1000 and defaults > 100
    if cover > 0:
        assert _within(seen, cover * (missed + defaults), (missed + defaults) * cover * (1 - cover))
    else:
        assert seen == 0
    for kind in ("missed", "default"):
        ev = [x for h in _histories(sim).values() for _, k, x in h if k == kind]
        assert len(ev) > 100 and not any(ev), kind
    expected = (
        p.paid_effect * sim.record("instalments_paid").sum()
        + p.repaid_effect * sim.record("repaid_after_default").sum()
    )
    assert sim.component("finance").min() >= 0
    assert sim.component("finance").sum(dtype=np.float64) == pytest.approx(expected, abs=1e-2)


@pytest.mark.parametrize(
    "field,value,message",
    [
        ("miss_prob", 1.5, "modules.finance.miss_prob: 1.5 is not allowed; expected a number <= 1"),
        ("default_after", 0, "modules.finance.default_after: 0 is not allowed; expected an"),
        ("missed_effect", 5, "modules.finance.missed_effect: 5 is not allowed"),
        ("term", 241, "modules.finance.term: 241 is not allowed"),
        ("shock_multiplier", 0.5, "modules.finance.shock_multiplier: 0.5 is not allowed"),
    ],
)  # fmt: skip
def test_bad_values_name_the_field(field, value, message):
    with pytest.raises(ScenarioError) as err:
        small(**{f"modules.finance.{field}": value})
    assert message in str(err.value)
