"""Ten simulated years: every preset settles, matches the figures it was tuned to, and the
friends feedback can still cascade.

Sizes are what the suite affords (10 000-20 000 citizens; bench/long_run.py runs 200 000). The
mean score is an average over all citizens and days of a year: its year-to-year noise at these
sizes is far below 1 %, so it is held to the issue's bar of 10 % directly. The listed share is
a stock of a few dozen citizens here: a year's average of a stock of ``c`` citizens varies by
about ``sqrt(c)`` (Poisson; listings last about two years, so the year's days are not
independent and the count's own noise is the honest scale). The change from year 5 to year 10
may therefore be 10 % plus three standard deviations of the difference of two such counts,
``3 sqrt(c5 + c10) / c5``.

court-blacklist, tuned by hand to a published inflow (its ``sources:``), is checked against it in
year 10 with the tolerance stated in ``CALIBRATED``; the presets fitted by scsim calibrate are
checked in tests/experiments/test_calibrated_presets.py. That file runs the presets fitted over
ten years at their calibration's size and seeds (``make test``: the first seed), and checks those
runs with this file's bars (``settled``), so they are not run twice.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from scsim.engine import Sim
from scsim.scenario import load_scenario, preset_names
from scsim.steady import YEAR, Yearly, yearly

YEARS = 10
SIZE = {"beijing-2020": 20_000, "china-2020": 20_000, "all-modules": 20_000}
"""Citizens per preset (10 000 unless named): the presets with ~0.5 % listed run at 20 000."""
NEVER_REMOVED = {"court-blacklist", "china-court-list"}
"""Lists whose share grows by the inflow: 'never removed' (seed 004), or removed only on
compliance at the slow rate fitted to the published removals (china-court-list: 3.51 M of 13 M
repaid in five years; its stock approaches inflow / removal rate over about twenty years, as the
real list grew every year to 2018)."""
REFERENCE = {"sc-core"}
"""The SC-core v1 throughput reference keeps lifetime sums by definition (see its sources)."""


def _court_list(sim: Sim) -> None:
    """About 0.2 % of the population newly listed a year (13 M in the court list's first five
    years, of 1.4 B people), within a factor of two: the tolerance of court-blacklist's fit by
    hand (its sources). The presets fitted by scsim calibrate (a targets file in
    src/scsim/data/targets) are checked against their targets in
    tests/experiments/test_calibrated_presets.py."""
    new = sim.record("newly_listed")[-YEAR:].sum() / sim.n
    assert 0.001 <= new <= 0.004, new


CALIBRATED = {"court-blacklist": _court_list}
FITTED_OVER_TEN_YEARS = {
    name
    for name in preset_names()
    if (block := load_scenario(name).calibration) and block["days"] >= YEARS * YEAR
}
"""Checked on their calibration's runs (tests/experiments/test_calibrated_presets.py)."""


def settled(y: Yearly, n: int) -> None:
    """The credibility issue's bars at ``n`` citizens: the mean score within 10 % from year 5
    to year 10, at most 5 % listed in year 10, and the listed share within 10 % plus the
    Poisson allowance (the module's docstring)."""
    assert abs(y.change("mean_score")) < 0.10, y.mean_score
    assert y.listed_share[-1] <= 0.05, y.listed_share
    c5, c10 = y.listed_share[4] * n, y.listed_share[9] * n
    if c5 > 0:
        tolerance = 0.10 + 3 * math.sqrt(c5 + c10) / c5
        assert abs(y.change("listed_share")) < tolerance, (y.listed_share, tolerance)


def _run(name: str, n: int, years: int = YEARS, **overrides) -> Sim:
    """Ten years of a preset, without its audit sample: these bars read the day's records,
    and a state preset audits 10 000 citizens (half of 20 000), which slows the run 2.6-fold."""
    days = years * YEAR
    sized = {"population.n": n, "days": days, "output.audit_sample": 0, **overrides}
    return Sim(load_scenario(name, sized)).run()


def test_the_presets_fitted_over_ten_years_are_checked_where_they_run():
    assert {"china-2020", "beijing-2020", "fico"} <= FITTED_OVER_TEN_YEARS
    assert not FITTED_OVER_TEN_YEARS & (NEVER_REMOVED | set(CALIBRATED))


@pytest.mark.parametrize(
    "name", sorted(set(preset_names()) - REFERENCE - FITTED_OVER_TEN_YEARS)
)
def test_preset_is_steady_over_ten_years(name):
    n = SIZE.get(name, 10_000)
    sim = _run(name, n)
    y = yearly(sim)
    if name in NEVER_REMOVED:
        # growth by a steady inflow, not a cascade: new listings in year 10 are no more than
        # in year 2 plus the same Poisson allowance (counts of new listings)
        assert abs(y.change("mean_score")) < 0.10, y.mean_score
        assert y.listed_share[-1] <= 0.05, y.listed_share
        new = sim.record("newly_listed")
        early, late = new[YEAR : 2 * YEAR].sum(), new[9 * YEAR :].sum()
        assert late <= early + 3 * math.sqrt(early + late) + 1, (early, late)
    else:
        settled(y, n)
    if name in CALIBRATED:
        CALIBRATED[name](sim)


def test_lifetime_sums_and_the_friends_penalty_cascade():
    """SC-core (lifetime sums, -3 a day per banned friend) bans almost everyone within five
    years; the same model with a one-year memory of the score and a 30-day memory of the
    friends term bans no more than 1 %."""
    cascade = yearly(_run("sc-core", 10_000, years=5))
    assert cascade.banned_share[4] > 0.9, cascade.banned_share
    steady = yearly(
        _run("sc-core", 10_000, years=5, **{
            "modules.scoring.half_life": 365, "modules.scoring.half_lives": {"friends": 30},
        })
    )  # fmt: skip
    assert steady.banned_share.max() < 0.01, steady.banned_share


def test_a_steady_preset_tips_into_the_cascade_when_friends_weigh_long():
    """beijing-2020 is steady with a 30-day memory of the friends term (under 1 % listed,
    test_preset_is_steady_over_ten_years); with the friends term remembered as long as the rest
    (365 days) and a heavier penalty per banned friend, each listing lowers the neighbours'
    scores enough to list more of them (docs/ODD.md: the friends feedback gain above 1), and
    within six years most citizens are listed."""
    tipped = yearly(
        _run("beijing-2020", 10_000, years=6, **{
            "modules.scoring.half_lives": {"friends": 365},
            "modules.scoring.friend_sanction_penalty": -1.0,
        })
    )  # fmt: skip
    assert tipped.listed_share[-1] > 0.5, tipped.listed_share
    assert np.all(np.diff(tipped.listed_share) >= 0), tipped.listed_share  # it only grows
