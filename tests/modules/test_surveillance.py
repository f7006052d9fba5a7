"""Surveillance: coverage by source and place, pooling, misidentification and false points.

Every run here is SC-core at small N with surveillance on (one fused kernel; the parameters
change, the kernel does not), everyone audited. Statistical checks use 5 binomial standard
deviations: with fixed seeds they are deterministic, and a correct model fails them with
probability ~6e-7 per check.
"""

import numba
import numpy as np
import pytest

from scsim.engine import Sim
from scsim.modules import surveillance as sv
from scsim.scenario import ScenarioError
from tests.conftest import small

N, DAYS, PENALTY = 3000, 30, -15.0


def watched(sources, kinds=None, **overrides):
    """SC-core with surveillance watching ``sources``; one street infraction a day with
    probability 0.05 unless ``kinds`` are given; speech off unless overridden."""
    kinds = kinds or [
        {"name": "act", "rate": 0.05, "detect_prob": 0.0, "penalty": PENALTY, "place": "street"}
    ]
    return small(n=N, days=DAYS, **{
        "modules.surveillance": {"sources": sources},
        "modules.infractions.kinds": kinds,
        "modules.speech.enabled": False,
        "output.audit_sample": 10_000,
        **overrides,
    })  # fmt: skip


def cameras(mis, cover=0.5):
    return [{"name": "cameras", "sees": {"street": cover}, "camera": True,
             "misidentification": mis}]  # fmt: skip


def within(count, trials, p, sds=5.0):
    """``count`` successes of ``trials`` Bernoulli(p) lie within ``sds`` binomial sd."""
    return abs(count - trials * p) <= sds * np.sqrt(trials * p * (1 - p)) + 1e-9


def events(sim, kind):
    ev = sim.events.columns()
    kinds = [f"{m}.{k}" for m, k in sim.event_kinds]
    return {k: v[ev["kind"] == kinds.index(kind)] for k, v in ev.items()}


@pytest.fixture(scope="module")
def by_mis():
    return {m: Sim(watched(cameras(m))).run() for m in (0.0, 0.05, 0.3)}


def test_no_misidentification_no_false_records(by_mis):
    sim = by_mis[0.0]
    assert sim.record("surveillance_seen_cameras").sum() > 1000
    assert sim.record("surveillance_false_cameras").sum() == 0
    assert sim.record("surveillance_false_delivered").sum() == 0
    assert not sim.people.false_points.any() and not sim.component("surveillance").any()


@pytest.mark.parametrize("mis", [0.05, 0.3])
def test_misidentification_rate_and_delivery(by_mis, mis):
    sim = by_mis[mis]
    seen = sim.record("surveillance_seen_cameras")
    false = sim.record("surveillance_false_cameras")
    acts = sim.record("surveillance_acts").sum()
    assert acts == sim.record("infractions_committed").sum()
    assert within(seen.sum(), acts, 0.5)  # coverage 0.5 x camera density 1 (no population)
    assert within(false.sum(), seen.sum(), mis)  # misidentified, given seen
    # the actor is named by the other sightings only: detected = seen correctly (one source)
    assert sim.record("infractions_detected").sum() == seen.sum() - false.sum()
    # every false record of days 0..D-2 is delivered the next day (the last day's after the run)
    delivered = sim.record("surveillance_false_delivered")
    assert delivered[0] == 0 and np.array_equal(delivered[1:], false[:-1])
    fp = sim.people.false_points
    assert np.array_equal(fp, sim.component("surveillance"))
    assert fp.sum(dtype=np.float64) == PENALTY * delivered.sum()


def test_higher_misidentification_raises_false_records_and_points(by_mis):
    false = [by_mis[m].record("surveillance_false_cameras").sum() for m in (0.0, 0.05, 0.3)]
    points = [by_mis[m].people.false_points.sum(dtype=np.float64) for m in (0.0, 0.05, 0.3)]
    wrongly = [np.count_nonzero(by_mis[m].people.false_points) for m in (0.0, 0.05, 0.3)]
    assert false[0] < false[1] < false[2]
    assert points[0] > points[1] > points[2]
    assert wrongly[0] < wrongly[1] < wrongly[2]


def test_each_false_record_pairs_the_true_actor_with_the_accused(by_mis):
    sim = by_mis[0.3]
    mis = events(sim, "surveillance.misattributed")  # on the actor, source = the accused
    got = events(sim, "surveillance.false_record")  # on the accused, source = the actor
    sent = sorted(zip(mis["day"] + 1, mis["source"], mis["citizen"], strict=True))
    received = sorted(zip(got["day"], got["citizen"], got["source"], strict=True))
    assert sent[: len(received)] == received and all(d == DAYS for d, _, _ in sent[len(received) :])
    assert np.all(mis["source"] != mis["citizen"]) and np.all(got["delta"] == PENALTY)
    # the actor's own act stays on record as the actor's: an 'unseen' infraction here
    unseen = events(sim, "infractions.unseen")
    actors = set(zip(mis["day"], mis["citizen"], strict=True))
    assert actors <= set(zip(unseen["day"], unseen["citizen"], strict=True))


def test_zero_coverage_of_a_place_means_no_record_of_it_from_that_source():
    sources = [
        {"name": "transport", "sees": {"train": 0.0, "bus_metro": 0.6}},
        {"name": "police", "sees": {"train": 0.4, "street": 0.0}},
    ]
    kinds = [
        {"name": "on_train", "rate": 0.03, "detect_prob": 0, "penalty": -1, "place": "train"},
        {"name": "on_street", "rate": 0.03, "detect_prob": 0, "penalty": -1, "place": "street"},
    ]
    sim = Sim(watched(sources, kinds)).run()
    trains = sim.record("infractions_on_train").sum()
    assert sim.record("surveillance_seen_transport").sum() == 0
    assert within(sim.record("surveillance_seen_police").sum(), trains, 0.4)
    ev = events(sim, "surveillance.seen")
    assert set(ev["cause"]) == {1}  # police only; street acts are seen by nobody


def test_pooling_off_keeps_records_out_of_the_score():
    sim = Sim(watched(cameras(0.2, cover=0.8), **{"modules.surveillance.pooling": False})).run()
    seen = sim.record("surveillance_seen_cameras").sum()
    assert seen > 1000 and sim.record("surveillance_unpooled").sum() == seen
    assert sim.record("surveillance_pooled").sum() == 0
    assert sim.record("infractions_detected").sum() == 0
    assert sim.record("surveillance_false_cameras").sum() > 0
    assert sim.record("surveillance_false_delivered").sum() == 0
    assert not sim.component("infractions").any() and not sim.people.false_points.any()


def test_pool_from_day_and_unpooled_departments():
    start = 10
    sources = [
        *cameras(0.2, cover=0.5),
        {"name": "police", "sees": {"street": 0.5}, "pooled": False},
    ]
    sim = Sim(watched(sources, **{"modules.surveillance.pool_from_day": start})).run()
    detected = sim.record("infractions_detected")
    pooled, unpooled = sim.record("surveillance_pooled"), sim.record("surveillance_unpooled")
    cams, police = sim.record("surveillance_seen_cameras"), sim.record("surveillance_seen_police")
    assert not detected[:start].any() and detected[start:].all()
    assert not pooled[:start].any()
    assert np.array_equal(unpooled[:start], cams[:start] + police[:start])
    assert np.array_equal(pooled[start:], cams[start:]) and np.array_equal(
        unpooled[start:], police[start:]
    )
    delivered = sim.record("surveillance_false_delivered")
    assert not delivered[: start + 1].any() and delivered.sum() > 0


def test_switching_surveillance_off_leaves_the_act_draws_alone():
    """Common random numbers: acts come from the behaviour modules' own streams."""
    speech = {
        "modules.speech.enabled": True, "modules.speech.chill": "none",
        "modules.speech.topics": [{"name": "a", "share": 0.5, "penalty": -5},
                                  {"name": "b", "share": 0.5, "penalty": -9}],
        "modules.speech.channels": [
            {"name": "post", "share": 0.3, "detect_prob": 0.5, "place": "online"},
            {"name": "chat", "share": 0.7, "detect_prob": 0.1, "place": "private_chat"}],
    }  # fmt: skip
    sources = [{"name": "platforms", "sees": {"online": 0.7, "private_chat": 0.2}},
               *cameras(0.1)]  # fmt: skip
    on = Sim(watched(sources, **speech)).run()
    off = Sim(watched(sources, **speech, **{"modules.surveillance.enabled": False})).run()
    acts = [n for n in off.record_names if n.startswith(("infractions_", "speech_"))]
    acts = [n for n in acts if not n.endswith("detected")]
    assert len(acts) == 9  # committed, deterred, 2 kinds; attempted, silenced, 2 topics, 2 channels
    for name in acts:
        assert np.array_equal(on.record(name), off.record(name)), name
    for kind in ("infractions", "speech"):
        both = [
            sorted(
                (d, c, k)
                for e in (events(s, f"{kind}.unseen"), events(s, f"{kind}.recorded"))
                for d, c, k in zip(e["day"], e["citizen"], e["cause"], strict=True)
            )
            for s in (on, off)
        ]
        assert both[0] == both[1] and len(both[0]) > 500
    assert on.record("infractions_detected").sum() != off.record("infractions_detected").sum()


def test_wrongly_accused_listed_only_by_false_points_is_a_wrongful_listing():
    """Exact: a listing (score rule, removal by score) is wrongful on day t iff the score is
    below the threshold but score - false_points is not; false_points = the surveillance
    component (no appeals), both read from the audit sample (everyone)."""
    kinds = [{"name": "act", "rate": 0.05, "detect_prob": 0, "penalty": -60, "place": "street"}]
    sim = Sim(watched(cameras(0.5, cover=0.8), kinds)).run()
    score = sim.events.score  # days x citizens, end of day
    fp = sim.events.parts[:, :, sim.components.index("surveillance")]
    below = score < np.float32(500.0)
    wrongful = below & (score - fp >= np.float32(500.0))
    assert np.array_equal(sim.record("wrongly_listed"), wrongful.sum(axis=1))
    new = below & ~np.vstack([np.zeros((1, N), dtype=bool), below[:-1]])
    assert np.array_equal(sim.record("newly_wrongly_listed"), (new & wrongful).sum(axis=1))
    assert wrongful.sum() > 20 and (below & ~wrongful).sum() > 20


def test_results_do_not_depend_on_the_thread_count():
    sc = watched(cameras(0.3))
    runs = []
    for threads in (1, 2):
        numba.set_num_threads(threads)
        sim = Sim(sc).run()
        runs.append((sim.records.copy(), sim.people.false_points.copy(), sim.score))
    numba.set_num_threads(numba.config.NUMBA_NUM_THREADS)
    for a, b in zip(*runs, strict=True):
        assert np.array_equal(a, b)


@pytest.mark.parametrize(
    "field, value, message",
    [
        ("modules.surveillance.sources",
         [{"name": "x", "sees": {"moon": 0.5}}], "modules.surveillance.sources[0].sees.moon"),
        ("modules.surveillance.sources",
         [{"name": "x", "sees": {"street": 1.5}}], "expected a number <= 1"),
        ("modules.surveillance.sources",
         [{"name": "x", "sees": {}, "misidentification": -0.1}], "expected a number >= 0"),
        ("modules.surveillance.sources",
         [{"name": "x", "sees": {}}, {"name": "x", "sees": {}}], "expected unique source names"),
        ("modules.surveillance.pool_from_day", -1, "expected an integer >= 0"),
    ],
)  # fmt: skip
def test_bad_values_name_the_field(field, value, message):
    with pytest.raises(ScenarioError, match=message.replace("[", r"\[").replace("]", r"\]")):
        small(**{"modules.surveillance": {}, field: value})


def test_cameras_see_by_region_camera_density_and_blame_a_citizen_of_the_same_region():
    """Population's China table: camera coverage 0.5 x the province's density (capped at 1),
    checked province by province; a misidentification names someone of the actor's region."""
    sc = watched(cameras(0.2), **{
        "modules.population": {}, "modules.speech.enabled": True,
        "modules.speech.dissent": None,
    })  # fmt: skip
    sim = Sim(sc).run()
    density = sim.module("population").camera_density.astype(np.float64)
    acts = sim.record_by_region("infractions_committed").sum(axis=0)
    seen = sim.record_by_region("surveillance_seen_cameras").sum(axis=0)
    assert acts.size == density.size == 31 and acts.min() > 5
    for g in range(density.size):
        assert within(seen[g], acts[g], min(1.0, 0.5 * density[g])), g
    high = density > np.median(density)
    assert seen[high].sum() / acts[high].sum() > seen[~high].sum() / acts[~high].sum()
    mis = events(sim, "surveillance.misattributed")
    region = sim.people.region
    assert mis["day"].size > 100
    assert np.array_equal(region[mis["citizen"]], region[mis["source"]])


def test_sight_counts_in_the_order_of_the_records_and_events():
    """Other modules call ``sight`` with surveillance's first record column and event kind
    (``sv_col``, ``sv_evk``): its offsets must follow ``records`` and ``events``."""
    sim = Sim(watched(cameras(0.1) + [{"name": "police", "sees": {"street": 0.1}}])).build()
    m = sim.module("surveillance")
    first = m.column("surveillance_acts")
    assert m.column("surveillance_pooled") == first + sv.R_POOLED
    assert m.column("surveillance_unpooled") == first + sv.R_UNPOOLED
    for s, name in enumerate(("cameras", "police")):
        assert m.column(f"surveillance_seen_{name}") == first + sv.R_SOURCES + 2 * s
        assert m.column(f"surveillance_false_{name}") == first + sv.R_SOURCES + 2 * s + 1
    assert m.column("surveillance_sources") == first + sv.R_SOURCES and sv.R_ACTS == 0
    kind = m.kinds["kind_seen"]
    assert (sv.E_SEEN, m.kinds["kind_misattributed"]) == (0, kind + sv.E_MISATTRIBUTED)
    given = m.sight("infractions", 0)
    assert (given["sv_col"], given["sv_evk"]) == (first, kind)
