"""Bookings: every day's bookings and refusals by mode are exactly those the citizens' draws,
rates, ages, incomes and bans give (rebuilt here in numpy from the same counter-based draws);
per-citizen refusals add up; a bad mode is refused with the field named."""

import numpy as np
import pytest

from scsim.engine import Sim
from scsim.rng import _uniforms_into
from scsim.scenario import ScenarioError, load_scenario
from tests.conftest import small

MODES = [
    {"name": "flight", "rate": 0.05, "ban": "travel", "banned_tries": 2.0},
    {"name": "rail", "rate": 0.1, "ban": "travel", "banned_tries": 0.5},
    {"name": "hotel", "rate": 0.02},
]


def expected(sim, day: int) -> tuple[np.ndarray, np.ndarray]:
    """Each citizen's booked mode on ``day`` (-1: none) and whether it was refused, from the
    stream's uniforms and the bans held that day (the module docstring's rule)."""
    m, n = sim.module("bookings"), sim.n
    u, spare = np.empty(n), np.empty(n)
    _uniforms_into(m.day_key("trips", day), u, spare)
    cls = m.income_class.astype(np.int64) if m.by_income else np.zeros(n, dtype=np.int64)
    age = sim.people.fields.get("age")
    sanctions = [x for x in sim.modules if x.name == "sanctions"]
    until = sanctions[0].state["sanction_until"] if sanctions else None
    choice, refused = np.full(n, -1), np.zeros(n, dtype=bool)
    acc = np.zeros(n)
    for k, mode in enumerate(m.params.modes):
        ok = np.ones(n, dtype=bool)
        if age is not None:
            ok = (age >= mode.min_age) & (age <= mode.max_age)
        banned = until[m.tier[k]] > day if mode.ban else np.zeros(n, dtype=bool)
        rate = m.rates[k, cls]
        acc = np.where(ok, acc + np.where(banned, rate * mode.banned_tries, rate), acc)
        hit = (choice < 0) & ok & (u < acc)
        choice[hit] = k
        refused[hit] = banned[hit]
    return choice, refused


def check_days(sim, days: int) -> dict[str, int]:
    """Step ``days`` days; assert each day's records equal the rebuilt bookings; return totals."""
    modes = [m.name for m in sim.module("bookings").params.modes]
    ever = np.zeros((len(modes), sim.n), dtype=bool)
    totals = dict.fromkeys(["booked", "refused"], 0)
    for day in range(days):
        sim.step(day)
        choice, refused = expected(sim, day)
        for k, name in enumerate(modes):
            booked = choice == k
            assert sim.record(f"bookings_{name}")[day] == booked.sum(), (name, day)
            assert sim.record(f"refused_{name}")[day] == (booked & refused).sum(), (name, day)
            first = booked & refused & ~ever[k]
            assert sim.record(f"newly_refused_{name}")[day] == first.sum(), (name, day)
            ever[k] |= booked & refused
            totals["booked"] += int(booked.sum())
            totals["refused"] += int((booked & refused).sum())
    mask = sim.people.fields["refused_modes"]
    for k, name in enumerate(modes):
        assert np.array_equal((mask >> k) & 1, ever[k]), name
        count = sim.people.fields[f"refusals_{name}"]
        assert count.sum() == sim.record(f"refused_{name}").sum(), name
    return totals


@pytest.fixture(scope="module")
def core():
    """SC-core plus frequent fines: many citizens are listed and banned within days, so every
    mode with a ban has refusals; the hotel mode has no ban and is never refused."""
    sc = small(n=3000, days=40, **{
        "modules.infractions.kinds": [
            {"name": "fine", "rate": 0.02, "detect_prob": 1.0, "penalty": -100}
        ],
        "modules.bookings": {"modes": MODES},
        "output.audit_sample": 10_000,
    })  # fmt: skip
    sim = Sim(sc).build()
    return sim, check_days(sim, 40)


def test_bookings_and_refusals_follow_draws_and_bans(core):
    sim, totals = core
    assert totals["refused"] > 100  # the rule was exercised, not vacuously equal
    assert sim.record("refused_hotel").sum() == 0
    assert sim.record("bookings_hotel").sum() > 0


def test_refusals_are_logged_with_their_mode(core):
    sim, _ = core
    ev = sim.events.columns()
    kinds = [f"{m}.{k}" for m, k in sim.event_kinds]
    at = ev["kind"] == kinds.index("bookings.refused")
    for k, name in enumerate(("flight", "rail")):
        logged = int((ev["cause"][at] == k).sum())
        assert logged == sim.record(f"refused_{name}").sum(), name


def test_rates_by_income_and_age_over_a_census_population():
    """china-court-list's population (ages, incomes, households, enrolment): the mean rate over
    all citizens is the mode's rate, the richest tenth books ``income_gradient`` times as often
    as the poorest, nobody outside the ages books, and citizens outside the system book too."""
    modes = [
        {"name": "flight", "rate": 0.05, "ban": "flights", "income_gradient": 10, "min_age": 18},
        {"name": "rail", "rate": 0.02, "ban": "rail", "banned_tries": 0.2, "max_age": 70},
    ]
    sc = load_scenario("china-court-list", {
        "population.n": 20_000, "days": 45, "modules.bookings.modes": modes,
        "modules.courts.dispute_rate": 0.01, "modules.courts.comply_prob": 0.5,
        "modules.population.enrolled_share": 0.5,
    })  # fmt: skip
    sim = Sim(sc).build()
    b = sim.module("bookings")
    cls = b.income_class.astype(np.int64)
    adult = sim.people.fields["age"] >= 18
    mean = (b.rates[0, cls] * adult).sum() / sim.n
    assert mean == pytest.approx(0.05, rel=1e-12)
    assert b.rates[0, 9] / b.rates[0, 0] == pytest.approx(10.0, rel=1e-12)
    household = sim.people.fields["household"]
    same = household[1:] == household[:-1]
    assert np.array_equal(cls[1:][same], cls[:-1][same])  # a household travels on one income
    income = sim.people.fields["income"]
    means = [income[cls == c].mean() for c in range(10) if (cls == c).any()]
    assert np.all(np.diff(means) > 0)
    assert not sim.people.fields["enrolled"].all()
    totals = check_days(sim, 45)
    assert totals["refused"] > 0


def test_a_ban_must_name_a_sanctions_tier():
    with pytest.raises(ScenarioError, match=r"modules\.bookings\.modes\[0\]\.ban: 'plane'"):
        small(**{"modules.bookings": {"modes": [{"name": "flight", "rate": 0.01, "ban": "plane"}]}})


def test_each_mode_has_its_own_name():
    modes = [{"name": "flight", "rate": 0.001}, {"name": "flight", "rate": 0.002}]
    with pytest.raises(ScenarioError, match="the name 'flight' is used more than once"):
        small(**{"modules.bookings": {"modes": modes}})


def test_ages_and_incomes_need_the_population_module():
    with pytest.raises(ScenarioError, match="modules.bookings needs modules.population"):
        small(**{"modules.bookings": {"modes": [{"name": "f", "rate": 0.01, "min_age": 18}]}})


def test_more_than_one_booking_a_day_is_refused():
    mode = {"name": "flight", "rate": 0.2, "income_gradient": 10}
    with pytest.raises(ScenarioError, match="at most one booking per citizen and day"):
        load_scenario("china-court-list", {"modules.bookings.modes": [mode]})


def test_ages_that_concentrate_the_rate_past_one_a_day_exit_2(tmp_path, run_cli):
    """Only the built population knows how few citizens a mode's ages hold."""
    scenario = tmp_path / "old.yaml"
    scenario.write_text(
        "name: old-fliers\npopulation: {n: 2000}\nmodules:\n  population: {}\n"
        "  bookings: {modes: [{name: flight, rate: 0.5, min_age: 90}]}\n"
    )
    res = run_cli("run", str(scenario), "--days", "2", "--out", str(tmp_path / "out"))
    assert res.returncode == 2, res.stderr
    assert "modules.bookings.modes" in res.stderr and "at most 1" in res.stderr
    assert "Traceback" not in res.stderr
    assert not (tmp_path / "out").exists()
