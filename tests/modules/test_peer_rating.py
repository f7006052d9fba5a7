"""Peer rating: ratings by contacts, weighted by the raters' scores; the score follows them."""

import math

import numpy as np
import pyarrow.parquet as pq
import pytest
import yaml

from scsim.engine import Sim
from scsim.modules.peer_rating import draw_stars, rated
from scsim.scenario import load_raw, validate
from tests.conftest import small

N = 2000
LO, HI = 350.0, 950.0
ONLY_PEERS = {
    "modules.purchases.enabled": False,
    "modules.infractions.enabled": False,
    "modules.speech.enabled": False,
    "modules.lists.enabled": False,
    "modules.sanctions.enabled": False,
    "modules.scoring.friend_pull": 0.0,
    "modules.scoring.friend_sanction_penalty": 0.0,
    "modules.perks": {},
    "output.audit_sample": N,
}
"""A peer-rating society: no other score change; default perks (650, 700, 750)."""


def _peers(days: int, **rating) -> Sim:
    params = {"interact_prob": 1.0, "contacts": 2, "status_bias": 0.0, **rating}
    return Sim(small(n=N, days=days, **ONLY_PEERS, **{"modules.peer_rating": params})).run()


def test_a_weight_w_rating_counts_as_w_ratings_of_weight_one():
    log_keep = math.log1p(-0.1)
    assert rated(3.0, 5.0, 1.0, log_keep) == 3.0 + 0.1 * 2.0
    twice = rated(rated(3.0, 1.0, 1.0, log_keep), 1.0, 1.0, log_keep)
    assert abs(rated(3.0, 1.0, 2.0, log_keep) - twice) < 1e-15
    assert rated(3.0, 5.0, 7.5, -math.inf) == 5.0  # smoothing 1: the last rating decides


def test_stars_are_one_plus_binomial_four():
    """Likability 0 gives 1 star, 1 gives 5; at 0.5 each of four 16-bit lanes is below the cut
    with chance 1/2: over 20 000 hashes the mean is 3 with sd 1/sqrt(20 000); allow 4 sd."""
    rng = np.random.default_rng(1)
    hashes = rng.integers(0, 2**63, 20_000, dtype=np.uint64) * np.uint64(2) + np.uint64(1)
    assert all(draw_stars(h, 0.0) == 1 and draw_stars(h, 1.0) == 5 for h in hashes[:100])
    mean = np.mean([draw_stars(h, 0.5) for h in hashes])
    assert abs(mean - 3.0) < 4 / np.sqrt(20_000)


def test_all_five_stars_lift_everyone_to_the_top():
    """Likability 1, no status bias: every rating is 5 stars. With equal weights (rater_weight
    0) and two ratings a day, P after day t is 5 - 2 * 0.9^(2(t + 1)) (from P0 = 3: 650 on
    [350, 950]) and the score follows: 350 + 150 (P - 1). Float32 P rounds by <= 2^-22 (half
    an ulp of 5) a day, and the score's float32 arithmetic by <= 4 half-ulps of 950 (2^-15
    each). P stalls once 0.1 of the gap to 5 is below half an ulp: within 5 ulps (2^-21), so
    the score ends within 150 * 5 * 2^-21 + 2^-13 of 950. From day 0 (P = 3.38, score 707)
    every score perk is held by everyone."""
    days = 160
    sim = _peers(days, likability={"low": 1.0, "high": 1.0}, smoothing=0.1, rater_weight=0.0)
    t = np.arange(days)
    p = 5.0 - 2.0 * 0.9 ** (2 * (t + 1))
    scores = sim.events.score.astype(np.float64)  # days x audited (= everyone)
    expected = (LO + 150.0 * (p - 1.0))[:, None]
    assert np.all(np.abs(scores - expected) <= 150.0 * (t[:, None] + 1) * 2.0**-22 + 2.0**-13)
    assert np.all(HI - sim.score <= 150.0 * 5 * 2.0**-21 + 2.0**-13)
    assert np.all(sim.people.peer_rating <= 5.0)
    assert sim.record("peer_ratings")[-1] == 2 * N
    assert sim.record("peer_star_sum")[-1] == 5 * 2 * N
    for perk in ("perk_singapore_permit", "perk_better_visa", "perk_easy_credit"):
        assert sim.record(perk)[-1] == N
    assert np.all(sim.record("peer_below_perks") == 0)


def test_one_star_from_smoothing_one_drops_everyone_to_the_floor_at_once():
    """Smoothing 1: the last rating is the average; all ratings 1 star put every score at
    350 on day 0 exactly, below every perk."""
    sim = _peers(2, likability={"low": 0.0, "high": 0.0}, smoothing=1.0)
    assert np.all(sim.events.score == LO)
    assert np.all(sim.record("peer_below_perks") == N)
    assert sim.record("perk_easy_credit").sum() == 0


def test_high_scored_raters_count_more():
    """Deterministic case: before day 0, give even citizens 950 and odd ones 350. Each rating
    (1 star) of day 0 then has weight 1 + 3 * (s - 350) / 600: 4 from an even rater, 1 from an
    odd one. Replaying each citizen's day-0 ratings in order (the audit events name the rater
    and the stars) gives its new peer rating; a citizen rated only by even raters falls
    further than one rated only by odd raters."""
    sc = small(n=N, days=1, **ONLY_PEERS, **{"modules.peer_rating": {
        "interact_prob": 1.0, "contacts": 2, "status_bias": 0.0, "smoothing": 0.1,
        "rater_weight": 3.0, "likability": {"low": 0.0, "high": 0.0}}})  # fmt: skip
    sim = Sim(sc).build()
    sim.packed[0] = np.where(np.arange(N) % 2 == 0, HI, LO).astype(np.float32)
    sim.step(0)
    ev = sim.events.columns()
    kinds = [f"{m}.{k}" for m, k in sim.event_kinds]
    rated_ev = ev["kind"] == kinds.index("peer_rating.rated")
    assert np.all(ev["cause"][rated_ev] == 0)  # 1 star
    log_keep = math.log1p(-0.1)
    replay = np.full(N, 3.0)
    raters: dict[int, list[int]] = {}
    for c, s in zip(ev["citizen"][rated_ev], ev["source"][rated_ev], strict=True):
        weight = 4.0 if s % 2 == 0 else 1.0
        replay[c] = replay[c] + (1.0 - math.exp(weight * log_keep)) * (1.0 - replay[c])
        raters.setdefault(int(c), []).append(int(s) % 2)
    assert all(len(r) == 2 for r in raters.values()) and len(raters) == N
    got = sim.people.peer_rating.astype(np.float64)
    assert np.all(np.abs(got - replay) <= 2.0**-22 * 5)  # float32 storage of P
    by_even = [c for c, r in raters.items() if r == [0, 0]]
    by_odd = [c for c, r in raters.items() if r == [1, 1]]
    assert by_even and by_odd
    assert np.allclose(got[by_even], 1.0 + 2.0 * 0.9**8, atol=1e-6)
    assert np.allclose(got[by_odd], 1.0 + 2.0 * 0.9**2, atol=1e-6)


def test_ratings_counts_and_stars_match_the_model():
    """interact_prob 0.5, 3 contacts: ratings a day = 3 x Binomial(N, 0.5); likability
    Uniform(0.5, 1) with no status bias: E[stars] = 1 + 4 * 0.75 = 4, sd of one rating
    <= 2 (range 1..5), so the mean over R ratings has sd <= 2 / sqrt(R); allow 4 sd."""
    days = 10
    sim = _peers(days, interact_prob=0.5, contacts=3, likability={"low": 0.5, "high": 1.0})
    ratings = sim.record("peer_ratings")
    assert np.all(ratings % 3 == 0)
    assert np.all(np.abs(ratings / 3 - N / 2) < 4 * np.sqrt(N * 0.25))
    mean = sim.record("peer_star_sum").sum() / ratings.sum()
    assert abs(mean - 4.0) < 4 * 2 / np.sqrt(ratings.sum())


def _sc_core_with(peer: bool) -> dict:
    raw = load_raw("sc-core")
    raw["population"]["n"], raw["days"] = 3000, 30
    raw["modules"]["lists"]["blacklist_below"] = 640
    raw["modules"]["lookups"] = {}
    raw["modules"]["perks"] = {}
    if peer:
        raw["modules"]["peer_rating"] = {}
    raw["output"] = {"audit_sample": 300}
    return raw


def test_switching_peer_rating_off_leaves_other_draws_identical():
    """Good deeds, infractions and look-ups do not depend on the score: with and without peer
    rating they fall on exactly the same citizens and days."""
    on = Sim(validate(_sc_core_with(True))).run()
    off = Sim(validate(_sc_core_with(False))).run()
    assert "peer_ratings" not in off.record_names
    for name in ("purchases_good_deed", "infractions_committed", "infractions_detected",
                 "lookups_friends", "lookups_strangers"):  # fmt: skip
        assert np.array_equal(on.record(name), off.record(name)), name
    assert not np.array_equal(on.score, off.score)
    assert on.record("peer_ratings").sum() > 0


def test_bit_identical_for_1_and_2_threads(tmp_path, run_cli):
    """Attribution, look-ups and peer rating together, in separate processes with 1 and 2
    threads: every output table is identical."""
    scenario = tmp_path / "peers.yaml"
    scenario.write_text(yaml.safe_dump(_sc_core_with(True)))
    tables = []
    for threads in (1, 2):
        out = tmp_path / f"t{threads}"
        res = run_cli("run", str(scenario), "--out", str(out), threads=threads)
        assert res.returncode == 0, res.stderr
        tables.append({f.name: pq.read_table(f) for f in sorted(out.glob("*.parquet"))})
    assert set(tables[0]) >= {"events.parquet", "people.parquet", "timeseries.parquet"}
    for name, table in tables[0].items():
        assert table.equals(tables[1][name]), name
    kinds = set(tables[0]["events.parquet"]["kind"].to_pylist())
    assert {"scoring.friend", "peer_rating.rated", "lookups.friend"} <= kinds


def test_generosity_moves_every_rating_towards_five_stars():
    """Likability 0, no status bias: stars are 1 + Binomial(4, generosity); generosity 1 gives
    5 stars always, 0.5 a mean of 3 (sd of one rating 1, so of the mean over R ratings
    1 / sqrt(R); allow 4 sd)."""
    none = {"low": 0.0, "high": 0.0}
    top = _peers(3, likability=none, generosity=1.0)
    assert np.all(top.record("peer_star_sum") == 5 * top.record("peer_ratings"))
    half = _peers(3, likability=none, generosity=0.5)
    ratings = half.record("peer_ratings").sum()
    assert abs(half.record("peer_star_sum").sum() / ratings - 3.0) < 4 / np.sqrt(ratings)


def test_the_public_mean_follows_the_stars_given_with_its_half_life():
    """The public mean rating M starts at the initial rating (3 stars) and closes
    1 - 0.5^(1/h) of the gap to each day's mean stars given; the same float64 steps here."""
    sim = _peers(20, generosity=0.2, norm_pressure=1.0, norm_half_life=7.0)
    given = sim.record("peer_star_sum") / sim.record("peer_ratings")
    norm = 3.0
    for day in range(20):
        norm += (1.0 - 0.5 ** (1.0 / 7.0)) * (given[day] - norm)
    assert sim.module("peer_rating").norm == norm
    assert norm > 3.5  # the ratings (about 4 stars) pulled it up


def test_ratings_inflate_only_under_norm_pressure():
    """Over three years the mean rating climbs by more than 0.2 star under norm_pressure 1 and
    a 180-day memory, and moves by less than 0.05 without it. The mean over 2 000 citizens of
    ratings with a spread below 1 star has sampling sd below 1 / sqrt(2 000) = 0.022, so
    0.05 is more than 2 sd of a difference of two such means."""

    def rise(pressure: float) -> float:
        sim = _peers(3 * 365, interact_prob=0.5, contacts=3, status_bias=0.25,
                     likability={"low": 0.3, "high": 0.9}, generosity=0.1,
                     norm_pressure=pressure, norm_half_life=180.0)  # fmt: skip
        mean = sim.record("peer_rating_sum") / N
        return float(mean[3 * 365 - 1] - mean[364])

    assert rise(1.0) > 0.2
    assert abs(rise(0.0)) < 0.05


def test_rating_records_sum_and_count_the_citizens_ratings():
    sim = _peers(5, likability={"low": 0.5, "high": 1.0}, top_stars=4.0)
    rating = sim.people.peer_rating
    assert sim.record("peer_rating_sum")[-1] == pytest.approx(rating.astype(float).sum(), 1e-12)
    assert sim.record("peer_top_rated")[-1] == (rating >= np.float32(4.0)).sum()
    assert 0 < (rating >= np.float32(4.0)).sum() < N
