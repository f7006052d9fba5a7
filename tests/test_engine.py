"""The engine: determinism across threads, common random numbers, and the day-loop contract."""

import numpy as np
import pyarrow.parquet as pq
import pytest

from scsim.engine import Sim
from scsim.modules import REGISTRY
from scsim.modules.population_tables import region_shares
from scsim.scenario import Scenario, load_raw, validate
from tests.conftest import small

FILES = ("timeseries.parquet", "distribution.parquet", "people.parquet", "events.parquet",
         "audit.parquet")  # fmt: skip


def test_bit_identical_for_1_and_2_threads(tmp_path, run_cli):
    """Same seed, separate processes with NUMBA_NUM_THREADS=1 and 2: identical results."""
    tables = []
    for threads in (1, 2):
        out = tmp_path / f"t{threads}"
        args = ("run", "sc-core", "--n", "30000", "--days", "40", "--seed", "5", "--out", str(out))
        res = run_cli(*args, threads=threads)
        assert res.returncode == 0, res.stderr
        for name in FILES:
            tables.append(pq.read_table(out / name))
    for k, name in enumerate(FILES):
        assert tables[k].equals(tables[k + len(FILES)]), name


def test_different_seeds_differ():
    a = Sim(small(seed=1)).run()
    b = Sim(small(seed=2)).run()
    assert not np.array_equal(a.records, b.records)
    assert not np.array_equal(a.score, b.score)


def test_rerun_is_identical():
    a = Sim(small()).run()
    b = Sim(small()).run()
    assert np.array_equal(a.records, b.records) and np.array_equal(a.score, b.score)


def test_switching_a_module_off_leaves_other_draws_alone():
    """Common random numbers: without speech, good acts and infractions (whose rates do not
    depend on the score) happen to exactly the same agents on the same days."""
    raw = load_raw("sc-core")
    raw["population"]["n"], raw["days"] = 3000, 30
    with_speech = Sim(validate(raw)).run()
    raw["modules"]["speech"]["enabled"] = False
    without = Sim(validate(raw)).run()
    assert "speech_attempted" not in without.record_names
    for name in ("purchases_good_deed", "infractions_committed", "infractions_detected"):
        assert np.array_equal(with_speech.record(name), without.record(name)), name
    assert not np.array_equal(with_speech.score, without.score)


def test_ban_lasts_exactly_ban_days():
    """Everyone's score crashes on day 0 and stays listed: bans of 3 days restart on days
    0, 3, 6, 9 (banned on day t iff ban_until > t)."""
    sc = small(
        n=500, days=10,
        **{"modules.infractions.kinds": [
            {"name": "crash", "rate": 1.0, "detect_prob": 1.0, "penalty": -1000}
        ], "modules.sanctions.ban_days": 3},
    )  # fmt: skip
    sim = Sim(sc).run()
    newly = sim.record("newly_banned")
    assert np.array_equal(np.nonzero(newly)[0], [0, 3, 6, 9])
    assert np.all(newly[[0, 3, 6, 9]] == 500)
    assert np.all(sim.record("banned") == 500)
    assert np.all(sim.record("listed") == 500)
    assert np.all(sim.score == 350.0)  # clipped at the floor


def test_friend_sanction_penalty_is_exact_per_neighbour():
    """Everyone loses 151 points a day (no good deeds, no speech): day 0 ends at 499, listed and
    banned. On day 1 every neighbour is sanctioned and all scores are equal (no pull), so each
    agent ends at exactly 499 - 151 - 3 * degree (all values exact in float32)."""
    sc = small(
        n=2000, days=2,
        **{"modules.infractions.kinds": [
            {"name": "fine", "rate": 1.0, "detect_prob": 1.0, "penalty": -151}
        ], "modules.speech.enabled": False, "modules.purchases.enabled": False,
           "modules.scoring.range": [100, 950]},
    )  # fmt: skip
    sim = Sim(sc).run()
    assert sim.record("newly_banned")[0] == 2000
    expected = 499.0 - 151.0 - 3.0 * sim.graph.degree()
    assert np.array_equal(sim.score, expected.astype(np.float32))


def test_day_one_mean_change_matches_the_spec():
    """Day 0 from 650 with no bans and neighbour mean = own score: E[change] =
    0.02*2 - 0.005*0.6*15 - E[dissent]*0.5*0.6*25 = 0.04 - 0.045 - 0.075 = -0.08.
    Per-agent variance: 4*.02*.98 + 225*.003*.997 + 625*(.003 - .09*E[d^2]) = 2.62
    (E[d^2] = .02^2/3), so the mean over N has sd sqrt(2.62/N); allow 4 sd."""
    n = 200_000
    sim = Sim(small(n=n, days=1)).run()
    change = sim.record("score_sum")[0] / n - 650.0
    assert abs(change - (-0.08)) < 4 * np.sqrt(2.62 / n)


def test_speech_rates_match_dissent_and_chill():
    """Day 0: attempted ~ sum of Bernoulli(d_i * 0.5), E = N * 0.01 * 0.5; detected given
    attempted ~ Binomial(attempted, 0.6); silenced (would have spoken unchilled: the chill at
    650 halves the propensity) ~ sum of Bernoulli(d_i * 0.5) too. Allow 4 sd for each."""
    n = 200_000
    sim = Sim(small(n=n, days=1)).run()
    attempted = sim.record("speech_attempted")[0]
    detected = sim.record("speech_detected")[0]
    expected = n * 0.01 * 0.5
    assert abs(attempted - expected) < 4 * np.sqrt(expected)
    assert abs(detected - 0.6 * attempted) < 4 * np.sqrt(attempted * 0.6 * 0.4)
    assert abs(sim.record("speech_silenced")[0] - expected) < 4 * np.sqrt(expected)


@pytest.mark.parametrize("threads", [1, 2])
def test_sim_respects_thread_setting(threads):
    import numba

    numba.set_num_threads(threads)
    try:
        sim = Sim(small(n=2000, days=3)).run()
    finally:
        numba.set_num_threads(numba.config.NUMBA_NUM_THREADS)
    assert sim.records.shape == (3, 1, len(sim.record_names))


def test_regional_network_runs_and_adds_region_and_household():
    raw = load_raw("sc-core")
    raw["population"]["n"], raw["days"] = 5000, 10
    raw["network"] = {"kind": "regional", "region_shares": [0.6, 0.4], "household_mean": 2.62,
                      "friends_k": 10, "long_tie_prob": 0.05}  # fmt: skip
    sim = Sim(validate(raw)).run()
    assert np.array_equal(np.bincount(sim.people.region), [3000, 2000])
    assert sim.people.household.max() > 1000  # ~5000 / 2.62 households
    assert sim.records.shape[0] == 10 and sim.record("speech_attempted").sum() > 0


def every_module(n: int = 8000, days: int = 30) -> Scenario:
    """Every module of issues 4 and 5 on at once: all-modules on a layered network, plus
    chilling, look-ups, peer rating, shunning and the policy timeline (60 % enrolled, mandatory
    from day 15)."""
    raw = load_raw("all-modules")
    raw["population"]["n"], raw["days"], raw["seed"] = n, days, 9
    raw["network"] = {"kind": "layered", "region_shares": region_shares("china")}
    m = raw["modules"]
    m["population"]["enrolled_share"] = 0.6
    m["lists"]["disclose"] = True
    m["chilling"], m["lookups"], m["peer_rating"] = {}, {}, {}
    m["shunning"] = {"cut_prob": 0.2, "form_rate": 0.1}
    m["policy"] = {"enrolment": {"mandatory": False}}
    raw["timeline"] = [{"day": 15, "set": {"modules.policy.enrolment.mandatory": True}}]
    return validate(raw)


def test_every_module_on_is_bit_identical_for_1_and_2_threads():
    import numba

    runs = []
    try:
        for threads in (1, 2):
            numba.set_num_threads(threads)
            runs.append(Sim(every_module()).run())
    finally:
        numba.set_num_threads(numba.config.NUMBA_NUM_THREADS)
    one, two = runs
    assert len(one.modules) == len(REGISTRY)  # every module, bookings included
    assert np.array_equal(one.records, two.records) and np.array_equal(one.parts, two.parts)
    assert np.array_equal(one.packed, two.packed) and np.array_equal(one.graph.mask, two.graph.mask)
    for name, values in one.people.fields.items():
        assert np.array_equal(values, two.people.fields[name]), name
    for name, values in one.events.columns().items():
        assert np.array_equal(values, two.events.columns()[name]), name
    for record in ("speech_silenced", "infractions_deterred", "ties_cut", "newly_listed"):
        assert one.record(record).sum() > 0, record


def test_a_day_run_in_waves_of_blocks_is_the_day_run_at_once(monkeypatch):
    # one process folds the records of each wave of blocks as it ends (scsim.ranks.passes):
    # waves of two of the seven blocks hold two blocks' records, and make the run one pass does,
    # bit for bit (the records are added in block order either way)
    import scsim.ranks

    scenario = every_module(n=7 * 2048 - 100, days=8)
    once = Sim(scenario).run()
    assert once.ranks.passes == [(0, 7)] and once.rec.shape[0] == 7
    monkeypatch.setattr(scsim.ranks, "WAVE_BLOCKS", 2)
    waves = Sim(scenario).run()
    assert waves.ranks.passes == [(0, 2), (2, 4), (4, 6), (6, 7)] and waves.rec.shape[0] == 2
    assert np.array_equal(once.records, waves.records) and once.records.any()
    assert np.array_equal(once.histograms, waves.histograms)
    assert np.array_equal(once.packed, waves.packed) and np.array_equal(once.parts, waves.parts)
    for name, values in once.people.fields.items():
        assert np.array_equal(values, waves.people.fields[name]), name
    for name, values in once.events.columns().items():
        assert np.array_equal(values, waves.events.columns()[name]), name


def test_releasing_the_network_frees_it_and_the_results_are_the_same(tmp_path):
    # scsim run frees the network before writing (scsim.plan counts on it): no reference to its
    # arrays may survive (the modules' kernel values, shunning's reverse slots), and the files
    # written after it are those written with the network held
    import gc
    import weakref

    from scsim.results import write_run
    from tests.run_files import same_run_files

    kept, released = Sim(every_module(8000, 5)).run(), Sim(every_module(8000, 5)).run()
    arrays = [weakref.ref(a) for a in vars(released.graph).values() if isinstance(a, np.ndarray)]
    arrays.append(weakref.ref(released.module("shunning").rev))
    state_bytes = released.state_bytes
    released.release_network()
    gc.collect()
    assert released.graph is None and all(ref() is None for ref in arrays)
    assert released.state_bytes == state_bytes
    write_run(kept, tmp_path / "kept", None, 1, report=False)
    write_run(released, tmp_path / "released", None, 1, report=False)
    same_run_files(tmp_path / "kept", tmp_path / "released")
