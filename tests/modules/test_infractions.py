"""Infractions: the catalogue by place, one draw per agent-day, detection, trait-shaped rates.

Counts are checked against their binomial expectation within 5 standard deviations (fixed
seeds make them deterministic; a correct model fails one with probability ~6e-7). SC-core's
single kind is checked exactly, draw by draw, in tests/test_sc_core_reference.py.
"""

import numpy as np
import pytest

from scsim.engine import Sim
from scsim.modules.infractions import CATALOGUE
from scsim.scenario import ScenarioError
from tests.conftest import small

N, DAYS = 3000, 30
SCALE = 10  # the default catalogue's rates x 10 (sum 0.061), for enough acts of each kind


def catalogue(traits: bool) -> list[dict]:
    kinds = [k.model_dump() for k in CATALOGUE]
    for k in kinds:
        k["rate"] *= SCALE
        if not traits:
            k["trait"], k["trait_weight"] = None, 0.0
    return kinds


def events(sim, kind):
    ev = sim.events.columns()
    kinds = [f"{m}.{k}" for m, k in sim.event_kinds]
    return {k: v[ev["kind"] == kinds.index(kind)] for k, v in ev.items()}


@pytest.fixture(scope="module")
def plain():
    sc = small(n=N, days=DAYS, **{
        "modules.infractions.kinds": catalogue(traits=False), "output.audit_sample": 10_000,
    })  # fmt: skip
    return Sim(sc).run()


def test_each_kind_occurs_at_its_rate(plain):
    trials = N * DAYS
    for k in catalogue(traits=False):
        count = plain.record(f"infractions_{k['name']}").sum()
        p = k["rate"]
        assert abs(count - trials * p) <= 5 * np.sqrt(trials * p * (1 - p)), k["name"]
    kinds = [plain.record(f"infractions_{k.name}") for k in CATALOGUE]
    assert np.array_equal(np.sum(kinds, axis=0), plain.record("infractions_committed"))


def test_each_kind_is_detected_at_its_own_rate(plain):
    """Without surveillance: the act's low uniform against the kind's detect_prob."""
    rec, unseen = events(plain, "infractions.recorded"), events(plain, "infractions.unseen")
    assert rec["day"].size == plain.record("infractions_detected").sum()
    for c, k in enumerate(CATALOGUE):
        seen = np.count_nonzero(rec["cause"] == c)
        acts = seen + np.count_nonzero(unseen["cause"] == c)
        p = k.detect_prob
        assert acts == plain.record(f"infractions_{k.name}").sum()
        assert abs(seen - acts * p) <= 5 * np.sqrt(acts * p * (1 - p)), k.name
        assert np.all(rec["delta"][rec["cause"] == c] == np.float32(k.penalty))


def test_at_most_one_infraction_per_citizen_and_day(plain):
    ev = events(plain, "infractions.recorded"), events(plain, "infractions.unseen")
    pairs = np.concatenate([e["day"].astype(np.int64) * N + e["citizen"] for e in ev])
    assert np.unique(pairs).size == pairs.size == plain.record("infractions_committed").sum()


@pytest.fixture(scope="module")
def shaped():
    """Population on (its traits shape the rates), surveillance on with its default sources."""
    sc = small(n=N, days=DAYS, **{
        "modules.population": {}, "modules.surveillance": {},
        "modules.infractions.kinds": catalogue(traits=True),
        "modules.speech.dissent": None, "modules.speech.chill": "none",
    })  # fmt: skip
    return Sim(sc).run()


def test_trait_shaped_rates_match_each_citizens_rate(shaped):
    """Expected count of kind c: days x sum_i rate_c (1 + w_c (2 trait_i - 1)); sd from the
    same per-citizen probabilities."""
    people = shaped.people
    for k in catalogue(traits=True):
        trait = getattr(people, k["trait"]).astype(np.float64)
        p = k["rate"] * (1.0 + k["trait_weight"] * (2.0 * trait - 1.0))
        mean, sd = DAYS * p.sum(), np.sqrt(DAYS * (p * (1 - p)).sum())
        count = shaped.record(f"infractions_{k['name']}").sum()
        assert abs(count - mean) <= 5 * sd, k["name"]
    # population's mean conformity (Beta(5, 2): 5/7) lowers every conformity-shaped kind
    assert people.conformity.mean() > 0.6


def test_places_decide_who_sees_an_infraction(shaped):
    """Default sources: unpaid social insurance (workplace) is seen only by the employer,
    false information (online) by police and platforms; nothing is seen by the bank."""
    seen = {s: shaped.record(f"surveillance_seen_{s}").sum() for s in ("employer", "bank")}
    assert seen["employer"] > 0 and seen["bank"] == 0
    assert (
        shaped.record("surveillance_acts").sum()
        == shaped.record("infractions_committed").sum() + shaped.record("speech_attempted").sum()
    )


@pytest.mark.parametrize(
    "kinds, message",
    [
        ([{"name": "a", "rate": 0.6, "detect_prob": 0, "penalty": -1},
          {"name": "b", "rate": 0.5, "detect_prob": 0, "penalty": -1}], "sum to 1.1"),
        ([{"name": "a", "rate": 0.4, "detect_prob": 0, "penalty": -1, "trait": "conformity",
           "trait_weight": 1.0},
          {"name": "b", "rate": 0.3, "detect_prob": 0, "penalty": -1}], "sum to 1.1"),
        ([{"name": "a", "rate": 0.1, "detect_prob": 0, "penalty": -1},
          {"name": "a", "rate": 0.1, "detect_prob": 0, "penalty": -1}], "'a': expected unique"),
        ([{"name": "detected", "rate": 0.1, "detect_prob": 0, "penalty": -1}], "unique names"),
        ([{"name": "a", "rate": 0.1, "detect_prob": 0, "penalty": -1, "place": "moon"}],
         "place"),
        ([{"name": "a", "rate": 0.1, "detect_prob": 0, "penalty": -1, "trait": "conformity"}],
         "needs modules.population"),
    ],
)  # fmt: skip
def test_bad_catalogues_are_refused(kinds, message):
    with pytest.raises(ScenarioError, match=message):
        small(**{"modules.infractions.kinds": kinds})
