"""Purchases: a catalogue decided by one draw per citizen-day (``scsim.modules.catalogue``).

The lifestyle catalogue on a generated population (traits and ages), everyone audited: each
category occurs at its trait- and age-shaped rate, nobody buys twice a day, nobody outside a
category's age band buys it.
"""

import numpy as np
import pytest

from scsim.engine import Sim
from scsim.modules.catalogue import Entry, pick
from scsim.modules.purchases import LIFESTYLE
from scsim.scenario import ScenarioError
from tests.conftest import small

N, DAYS = 6000, 40


@pytest.fixture(scope="module")
def sim():
    sc = small(n=N, days=DAYS, **{
        "modules.population": {}, "modules.speech.enabled": False,
        "modules.infractions.enabled": False, "modules.lists.enabled": False,
        "modules.sanctions.enabled": False, "output.audit_sample": N,
        "modules.purchases.categories": [c.model_dump() for c in LIFESTYLE],
    })  # fmt: skip
    return Sim(sc).build().run()


def _expected_rate(c: Entry, people) -> np.ndarray:
    """Each citizen's daily rate of category ``c``, computed here in plain numpy."""
    rate = np.full(people.n, c.rate)
    if c.trait:
        rate *= 1.0 + c.trait_weight * (2.0 * getattr(people, c.trait).astype(np.float64) - 1.0)
    return rate * ((people.age >= c.min_age) & (people.age <= c.max_age))


def test_each_category_occurs_at_its_shaped_rate(sim):
    for c in LIFESTYLE:
        p = _expected_rate(c, sim.people)
        expected = DAYS * p.sum()
        sd = np.sqrt(DAYS * (p * (1 - p)).sum())  # a sum of independent Bernoulli draws
        got = sim.record(f"purchases_{c.name}").sum()
        assert abs(got - expected) <= 5 * sd + 1, (c.name, got, expected, sd)


def test_at_most_one_purchase_per_citizen_and_day_within_age_bands(sim):
    ev = sim.events.columns()
    kinds = [f"{m}.{k}" for m, k in sim.event_kinds]
    bought = ev["kind"] == kinds.index("purchases.purchase")
    key = ev["citizen"][bought] * DAYS + ev["day"][bought]
    assert bought.sum() > 1000 and np.unique(key).size == key.size
    age = sim.people.age[ev["citizen"][bought]]
    for k, c in enumerate(LIFESTYLE):
        of_c = ev["cause"][bought] == k
        assert of_c.any() and ((age[of_c] >= c.min_age) & (age[of_c] <= c.max_age)).all()
    # every event's delta is its category's effect, and the component is their sum
    effects = np.array([c.effect for c in LIFESTYLE], dtype=np.float32)
    assert np.array_equal(ev["delta"][bought], effects[ev["cause"][bought]])
    total = np.bincount(ev["citizen"][bought], weights=ev["delta"][bought], minlength=N)
    assert np.allclose(sim.component("purchases"), total, atol=1e-3)


def test_pick_walks_the_cumulative_rates():
    rates = np.array([0.1, 0.0, 0.2, 0.3])
    none_i = np.zeros((1, 1), np.float32), np.array([-1, -1, -1, -1]), np.zeros(4)
    ages, age = np.zeros((4, 2), np.int64), np.zeros(1, np.uint8)
    picks = [pick(u, 0, rates, *none_i, ages, age) for u in (0.05, 0.1, 0.29, 0.31, 0.59)]
    assert picks == [0, 2, 2, 3, 3]  # the zero-rate entry is never picked
    assert pick(0.7, 0, rates, *none_i, ages, age) == 3  # above the total: the last entry


def test_rates_above_one_per_day_are_refused():
    too_many = [{"name": f"c{k}", "rate": 0.3, "effect": 1} for k in range(4)]
    with pytest.raises(ScenarioError, match="sum to 1.2; expected at most 1"):
        small(**{"modules.purchases.categories": too_many})
