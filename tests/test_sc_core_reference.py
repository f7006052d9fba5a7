"""Cross-check scsim's fused engine against the plain SC-core reference
(tests/reference_sc_core.py).

Both use the same graph and the same counter-based draws, so they must agree agent by agent:
every per-day count exactly, every agent's score every day up to float32 rounding.

Score tolerance (``score_tolerance``). The two implementations round differently:
the engine sums neighbours' scores in float32 (two interleaved chains), the reference sums them
in float64 and rounds the mean once; the score terms are also added in a different order.
With u = 2**-24 (float32 unit roundoff) and every score in [350, 950] (so every rounded
quantity is below 1024 in magnitude), for one day, given equal yesterday's scores and equal
events:

- neighbour mean of D <= max_degree scores: recursive float32 summation errs by at most
  (D - 1) u * 950 after dividing by D, plus u * 950 for the division; the reference errs by at
  most u * 950. Difference <= (D + 1) u 950. The pull multiplies it by 0.05, and its own
  subtraction (nb_mean - score) adds at most u * 1024 per side before that factor.
- adding up the terms and the score: at most 6 roundings per side, each <= u * 1024.

So one day adds at most e1 = 0.05 ((D + 1) u 950 + 2 u 1024) + 12 u 1024 (~8e-4 for D = 25).
The update score <- clip(0.95 score + 0.05 nb_mean + c) is non-expansive in the max norm
(0.95 + 0.05 = 1; clipping is 1-Lipschitz), so after t days the difference is <= t * e1
(~0.04 after 45 days). That is far below the smallest discrete effect (a good act, +2; a
friend penalty, -3), so any event that differed between the two would still be caught.
Observed differences are ~1e-4 (two float32 ulps).
"""

from __future__ import annotations

import numpy as np
import pytest

from scsim import rng
from scsim.engine import Sim
from scsim.scenario import load_scenario
from tests.reference_sc_core import COUNT_RECORDS, agent_hashes, run_reference, u_hi, u_lo

# Scores fall faster than in SC-core so that listing, bans and friend penalties happen within
# the days run (bans start around day 5 and reach most of the population by day 45).
STRESS_REF = dict(speech_penalty=-120.0, infraction_rate=0.03, infraction_penalty=-60.0)
STRESS_SIM = {
    "modules.speech.penalty": -120,
    "modules.infractions.kinds": [
        {"name": "infraction", "rate": 0.03, "detect_prob": 0.6, "penalty": -60}
    ],
}

CASES = {
    # id: (n, days, seed, reference keywords, scenario overrides)
    "sc-core-defaults": (3000, 30, 1, {}, {}),
    "stressed": (4000, 45, 3, STRESS_REF, STRESS_SIM),
    # Bans of 5 days expire and restart: exercises "banned on day t iff ban_until > t" for the
    # agent and for its neighbours' friend penalty at the boundary day.
    "stressed-short-bans": (
        4000, 45, 3, {**STRESS_REF, "ban_days": 5}, {**STRESS_SIM, "modules.sanctions.ban_days": 5}
    ),
}  # fmt: skip


def score_tolerance(days_done: int, max_degree: int) -> float:
    """Bound on |engine score - reference score| after ``days_done`` days (module docstring)."""
    u = 2.0**-24
    per_day = 0.05 * ((max_degree + 1) * u * 950.0 + 2 * u * 1024.0) + 12 * u * 1024.0
    return days_done * per_day


@pytest.fixture(scope="module", params=list(CASES))
def pair(request):
    """(case id, days, n, reference output, engine sim, engine scores at the end of each day)."""
    n, days, seed, ref_kw, overrides = CASES[request.param]
    ref = run_reference(n, days, seed, keep_scores=True, **ref_kw)
    sc = load_scenario("sc-core", {"population.n": n, "days": days, "seed": seed, **overrides})
    sim = Sim(sc).build()
    scores = np.empty((days, n), dtype=np.float32)
    for day in range(days):
        sim.step(day)
        scores[day] = sim.score
    return request.param, n, days, ref, sim, scores


def test_vectorised_hash_matches_scsim_rng():
    """The reference's numpy splitmix64 is scsim.rng's, bit for bit (wrapping uint64)."""
    n = 5000
    for stream, day in (("purchases.good_deed", 0), ("speech.act", 17), ("infractions.x", 364)):
        dkey = rng.stream_day_key(7, stream, day)
        h = agent_hashes(dkey, n)
        for i in (0, 1, 2, 1234, n - 1):
            assert h[i] == rng.agent_hash(dkey, i)
            assert u_hi(h)[i] == rng.u_hi(h[i]) and u_lo(h)[i] == rng.u_lo(h[i])
        hi, lo = np.empty(n), np.empty(n)
        rng._uniforms_into(dkey, hi, lo)
        assert np.array_equal(u_hi(h), hi) and np.array_equal(u_lo(h), lo)


def test_counts_equal_every_day(pair):
    case, n, days, ref, sim, _ = pair
    for name in COUNT_RECORDS:
        got = sim.record(name)
        bad = np.nonzero(got != ref[name])[0]
        assert bad.size == 0, (
            f"{case}: record {name!r} first differs on day {bad[0]}: "
            f"engine {got[bad[0]]:g}, reference {ref[name][bad[0]]}"
        )


def test_scores_agree_every_day(pair):
    case, n, days, ref, sim, scores = pair
    for day in range(days):
        tol = score_tolerance(day + 1, ref["max_degree"])
        diff = np.abs(scores[day].astype(np.float64) - ref["scores"][day])
        worst = int(np.argmax(diff))
        assert diff[worst] <= tol, (
            f"{case}: day {day}, agent {worst}: engine {scores[day][worst]}, "
            f"reference {ref['scores'][day][worst]} (tolerance {tol:.2e})"
        )
    assert np.array_equal(sim.score, scores[-1])
    tol = score_tolerance(days, ref["max_degree"])
    assert np.max(np.abs(sim.score.astype(np.float64) - ref["score"])) <= tol


def test_mean_score_every_day(pair):
    case, n, days, ref, sim, _ = pair
    tol = score_tolerance(np.arange(1, days + 1), ref["max_degree"])
    diff = np.abs(sim.record("score_sum") / n - ref["mean_score"])
    assert np.all(diff <= tol), f"{case}: mean score differs on days {np.nonzero(diff > tol)[0]}"


def test_sanctioned_tomorrow_matches_bans(pair):
    """Agent by agent: the engine's 'visibly sanctioned tomorrow' flag is ban_until > days."""
    case, n, days, ref, sim, _ = pair
    assert np.array_equal(sim.sanctioned, ref["ban_until"] > days)


def test_stressed_cases_exercise_bans_and_friend_penalties(pair):
    """Guard against a vacuous comparison: in the stressed cases bans and friend penalties
    happen, and with 5-day bans some expire and restart."""
    case, n, days, ref, sim, _ = pair
    assert ref["speech_detected"].sum() > 0 and ref["infractions_detected"].sum() > 0
    if case == "sc-core-defaults":  # from 650, nobody falls below 500 within 30 days
        assert ref["banned"].max() == 0 and ref["listed"].max() == 0
        return
    assert ref["banned"].max() > 0 and ref["newly_banned"].sum() > 0
    assert ref["listed"].max() > 0
    assert ref["friend_penalised"].max() > 0
    assert ref["speech_detected"].sum() > 0 and ref["infractions_detected"].sum() > 0
    if case == "stressed-short-bans":
        assert np.any(ref["banned"] < np.cumsum(ref["newly_banned"]))  # some bans expired
        assert ref["newly_banned"].sum() > np.count_nonzero(ref["ban_until"] >= 0)  # re-bans
