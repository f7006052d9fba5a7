"""Shunning: cutting ties to friends who hurt your score, forming new ones, score visibility."""

from __future__ import annotations

import numpy as np
import pyarrow.parquet as pq
import pytest
import yaml

from scsim.engine import Sim
from scsim.kernels.row import nth_neighbour
from scsim.modules.shunning import widen
from scsim.network import watts_strogatz
from scsim.scenario import ScenarioError, load_raw, validate

CRASH = {"name": "crash", "rate": 1.0, "detect_prob": 1.0, "penalty": -151}


def crash(n=2000, days=3, **shunning):
    """Everyone loses 151 points a day (no good deeds, no speech, no pull), so all are listed
    and banned from the end of day 0, and from day 1 on every neighbour is sanctioned. The
    score range starts at 0: no clip in three days (197 - 3 * two degrees stays above 0)."""
    raw = load_raw("sc-core")
    raw["population"]["n"], raw["days"], raw["seed"] = n, days, 4
    raw["modules"]["infractions"]["kinds"] = [CRASH]
    raw["modules"]["speech"]["enabled"] = False
    raw["modules"]["purchases"]["enabled"] = False
    raw["modules"]["scoring"]["range"] = [0, 950]
    raw["modules"]["scoring"]["friend_pull"] = 0.0
    raw["modules"]["shunning"] = {"form_rate": 0.0, **shunning}
    return validate(raw)


def mixed(n=3000, days=40, **shunning):
    """About 1 % a day lose 200 points (listed and banned: offending), 10 % lose 10; friends
    of the offenders cut ties and seek new friends among the others, whose scores spread."""
    raw = load_raw("sc-core")
    raw["population"]["n"], raw["days"], raw["seed"] = n, days, 7
    raw["modules"]["infractions"]["kinds"] = [
        {"name": "grave", "rate": 0.01, "detect_prob": 1.0, "penalty": -200},
        {"name": "minor", "rate": 0.1, "detect_prob": 1.0, "penalty": -10},
    ]
    raw["modules"]["purchases"]["categories"] = [{"name": "good", "rate": 0.1, "effect": 10}]
    raw["modules"]["scoring"]["friend_pull"] = 0.0
    raw["modules"]["shunning"] = {"cut_prob": 0.3, "form_rate": 0.3, "candidates": 16, **shunning}
    return validate(raw)


def test_without_shunning_the_graph_never_changes():
    sc = crash(days=3)
    raw = sc.model_dump(mode="json")
    raw["modules"]["shunning"] = None
    sim = Sim(validate(raw)).run()
    fresh = watts_strogatz(sim.n, 20, 0.1, sim.seed)
    assert sim.graph.active is None
    for name in ("indptr", "indices", "far"):
        assert np.array_equal(getattr(sim.graph, name), getattr(fresh, name)), name


def test_with_zero_rates_the_csr_and_mask_stay_as_built():
    sim = Sim(crash(days=3, cut_prob=0.0, form_rate=0.0)).run()
    wide, rev = widen(watts_strogatz(sim.n, 20, 0.1, sim.seed), 4)
    for name in ("indptr", "indices", "active"):
        assert np.array_equal(getattr(sim.graph, name), getattr(wide, name)), name
    assert np.array_equal(sim.module("shunning").rev, rev)
    assert sim.record("ties_cut").sum() == 0 and sim.record("ties_formed").sum() == 0


def test_cut_ties_are_symmetric_and_never_read_by_the_gather():
    """Day 1: every neighbour is sanctioned; each side cuts with chance 1/2. On day 2 all
    neighbours are still sanctioned, so the change is exactly -151 - 3 * (ties still active):
    a cut neighbour adds no penalty."""
    sim = Sim(crash(days=3, cut_prob=0.5)).build()
    sim.step(0)
    sim.step(1)
    g, rev = sim.graph, sim.module("shunning").rev
    degree = g.active_degree()
    before = sim.score.copy()
    sim.step(2)
    assert np.array_equal(sim.score, before - 151 - 3 * degree.astype(np.float32))
    # symmetric: a slot and its reverse are both active or both cut, and point at each other
    rows = np.repeat(np.arange(sim.n), g.degree())
    assert np.array_equal(g.active, g.active[rev])
    on = g.active == 1
    assert np.array_equal(g.indices[rev[on]].astype(np.int64), rows[on])
    assert np.array_equal(sim.module("shunning").degree, g.active_degree())
    # after day 1 a tie survives both sides' coins with chance 1/4: Binomial(ties, 1/4)
    ties = (g.degree().sum() - 4 * sim.n) // 2
    kept = degree.sum() // 2
    assert abs(kept - ties / 4) < 4 * np.sqrt(ties * 0.25 * 0.75)


@pytest.mark.parametrize("cut_prob", [0.02, 0.1, 0.3])
def test_ties_cut_follow_the_cut_chance(cut_prob):
    """On day 1 every tie joins two sanctioned-neighbour readers; it is cut unless both coins
    fail: Binomial(E, 1 - (1 - p)^2) with E the undirected ties. Allow 4 sd."""
    sim = Sim(crash(days=2, cut_prob=cut_prob)).run()
    cut = sim.record("ties_cut")
    ties = sim.graph.degree().sum() // 2 - sim.n * 2  # minus the 4 spare slots per agent
    q = 1 - (1 - cut_prob) ** 2
    assert cut[0] == 0
    assert abs(cut[1] - ties * q) < 4 * np.sqrt(ties * q * (1 - q))
    assert sim.record("active_ties")[1] == ties - cut[1]


def test_ties_cut_grow_with_the_cut_chance():
    cuts = [Sim(crash(days=2, cut_prob=p)).run().record("ties_cut")[1] for p in (0.05, 0.2, 0.6)]
    assert cuts[0] < cuts[1] < cuts[2]


def friend_scores(sim):
    formed = sim.record("ties_formed").sum()
    chosen = sim.record("new_friend_score_sum").sum() / formed
    pool = sim.record("pool_score_sum").sum() / formed
    return formed, chosen, pool


@pytest.fixture(scope="module")
def hidden():
    return Sim(mixed(visible=False)).run()


@pytest.fixture(scope="module")
def shown():
    return Sim(mixed(visible=True, score_seeking=40.0)).run()


def test_hidden_scores_new_friends_are_like_the_candidates(hidden):
    """With scores hidden the pick is uniform among a proposer's eligible candidates, so a new
    friend's score has the mean of the proposer's pool: the sum over ties formed of (friend -
    pool mean) has mean 0 and variance below F * var(score); allow 4 sd / sqrt(F)."""
    formed, chosen, pool = friend_scores(hidden)
    assert formed > 300
    sd = float(np.std(hidden.score))
    assert abs(chosen - pool) < 4 * sd / np.sqrt(formed)


def test_visible_scores_draw_new_friends_upwards(hidden, shown):
    formed, chosen, pool = friend_scores(shown)
    assert formed > 300
    sd = float(np.std(shown.score))
    assert chosen - pool > 4 * sd / np.sqrt(formed)
    assert chosen > friend_scores(hidden)[1]


def test_records_of_isolation_and_fragmentation(shown):
    """Listed citizens lose ties faster than others; fragmentation is measured every 7 days
    and carried forward in between."""
    iso = shown.module("shunning").isolation()
    assert np.nanmean(iso[-10:]) < 0.8
    largest = shown.record("largest_component")
    assert np.all(largest[1:7] == largest[0]) and largest[0] == shown.n
    assert largest[-1] < shown.n
    assert shown.record("ties_cut").sum() > 0 and shown.record("isolated")[-1] > 0
    c = shown.record("clustering")
    assert 0 < c[-1] < c[0]


def test_same_results_with_1_and_2_threads(tmp_path, run_cli):
    """A layered network with shunning, run in separate processes with 1 and 2 threads."""
    raw = load_raw("sc-core")
    raw["network"] = {"kind": "layered", "region_shares": [0.5, 0.5]}
    raw["modules"]["lists"]["blacklist_below"] = 630
    raw["modules"]["shunning"] = {"cut_prob": 0.2, "form_rate": 0.2}
    path = tmp_path / "shun.yaml"
    path.write_text(yaml.safe_dump(raw))
    tables = {}
    for threads in (1, 2):
        out = tmp_path / f"t{threads}"
        args = ("run", str(path), "--n", "20000", "--days", "30", "--seed", "3", "--out", str(out))
        res = run_cli(*args, threads=threads)
        assert res.returncode == 0, res.stderr
        tables[threads] = {
            f: pq.read_table(out / f) for f in ("timeseries.parquet", "people.parquet")
        }
    for name, table in tables[1].items():
        assert table.equals(tables[2][name]), name
    ts = tables[1]["timeseries.parquet"]
    assert (
        sum(ts.column("ties_cut").to_pylist()) > 0 and sum(ts.column("ties_formed").to_pylist()) > 0
    )


def test_bad_parameters_name_the_field():
    raw = load_raw("sc-core")
    raw["modules"]["shunning"] = {"triggers": ["sanctioned", "gossip"]}
    with pytest.raises(ScenarioError, match="modules.shunning.triggers"):
        validate(raw)
    raw["modules"]["shunning"] = {"cut_prob": 1.5}
    with pytest.raises(ScenarioError, match="modules.shunning.cut_prob: 1.5"):
        validate(raw)


def test_friend_attribution_and_picks_skip_cut_ties():
    """With ties cut and formed, per-friend attribution still sums to the friends component
    (cut ties and empty spare slots carry no share: the gather skips them, so must the
    attribution walk), and look-ups and peer ratings pick only tied neighbours."""
    from tests.modules.test_attribution import check_friend_events_sum

    raw = mixed(n=2000, days=25).model_dump(mode="json")
    raw["modules"]["scoring"].update(friend_pull=0.05, attribute_sample=2000)
    raw["modules"]["lookups"] = {"friend_rate": 0.3}
    raw["modules"]["peer_rating"] = {}
    raw["output"]["audit_sample"] = 2000
    sim = Sim(validate(raw)).run()
    assert sim.record("ties_cut").sum() > 100 and sim.record("ties_formed").sum() > 100
    check_friend_events_sum(sim)


def test_nth_neighbour_counts_only_active_slots():
    indptr = np.array([0, 5], dtype=np.uint32)
    indices = np.array([10, 11, 12, 13, 14], dtype=np.uint32)
    active = np.array([0, 1, 0, 1, 1], dtype=np.uint8)
    csr = np.zeros(1, np.uint32), 0  # no ring: a CSR graph
    picks = [nth_neighbour(0, k, indptr, indices, active, *csr) for k in range(3)]
    assert picks == [11, 13, 14]
    every = [nth_neighbour(0, k, indptr, indices, np.ones(1, np.uint8), *csr) for k in range(5)]
    assert every == [10, 11, 12, 13, 14]


def test_daily_records_land_in_their_own_columns(shown):
    """The finish kernels count into the columns named by the records: counts that must agree
    do (each citizen listed or not, each tie counted at both ends, a tie formed from an
    eligible candidate); the national values sit in region 0's row."""
    rec = shown.record
    assert np.all(rec("listed_citizens") + rec("unlisted_citizens") == shown.n)
    assert np.array_equal(rec("tie_ends"), 2 * rec("active_ties"))
    assert np.array_equal(rec("tie_ends"), rec("listed_ties") + rec("unlisted_ties"))
    assert np.all(rec("candidates") >= rec("ties_formed")) and rec("candidates").sum() > 0
    lo, hi = shown.score_range
    for name in ("pool_score_sum", "new_friend_score_sum"):
        assert np.all(rec(name) >= lo * rec("ties_formed") - 1), name
        assert np.all(rec(name) <= hi * rec("ties_formed") + 1), name
    for name in ("active_ties", "components", "largest_component", "clustering"):
        assert np.all(shown.record_by_region(name)[:, 1:] == 0), name
