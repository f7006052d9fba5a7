"""Speech: topics, channels (visibility and penalty), propensity from dissent, surveillance.

Counts are checked against their binomial expectation within 5 standard deviations (fixed
seeds make them deterministic; a correct model fails one with probability ~6e-7). SC-core's
speech (no topics) is checked exactly, draw by draw, in tests/test_sc_core_reference.py.
"""

import numpy as np
import pytest

from scsim.engine import Sim
from scsim.modules.speech import CHANNELS, TOPICS
from scsim.scenario import ScenarioError
from tests.conftest import small

N, DAYS = 3000, 30
CATALOGUES = {
    "modules.speech.topics": [t.model_dump() for t in TOPICS],
    "modules.speech.channels": [c.model_dump() for c in CHANNELS],
    "modules.speech.chill": "none",
    "output.audit_sample": 10_000,
}


def within(count, trials, p):
    return abs(count - trials * p) <= 5 * np.sqrt(trials * p * (1 - p))


def events(sim, kind):
    ev = sim.events.columns()
    kinds = [f"{m}.{k}" for m, k in sim.event_kinds]
    return {k: v[ev["kind"] == kinds.index(kind)] for k, v in ev.items()}


@pytest.fixture(scope="module")
def plain():
    sc = small(
        n=N, days=DAYS, **CATALOGUES, **{"modules.speech.dissent": {"low": 0.05, "high": 0.15}}
    )
    return Sim(sc).run()


def test_acts_follow_each_citizens_dissent(plain):
    """No chill: citizen i speaks with probability dissent_i each day."""
    p = plain.people.dissent.astype(np.float64)
    mean, sd = DAYS * p.sum(), np.sqrt(DAYS * (p * (1 - p)).sum())
    assert abs(plain.record("speech_attempted").sum() - mean) <= 5 * sd


def test_topics_and_channels_take_their_shares(plain):
    acts = plain.record("speech_attempted").sum()
    for t in TOPICS:
        assert within(plain.record(f"speech_topic_{t.name}").sum(), acts, t.share), t.name
    for c in CHANNELS:
        assert within(plain.record(f"speech_channel_{c.name}").sum(), acts, c.share), c.name


def test_channels_detection_rates_match(plain):
    for c in CHANNELS:
        acts = plain.record(f"speech_channel_{c.name}").sum()
        seen = plain.record(f"speech_channel_{c.name}_detected").sum()
        assert within(seen, acts, c.detect_prob), c.name
    detected = [plain.record(f"speech_channel_{c.name}_detected") for c in CHANNELS]
    assert np.array_equal(np.sum(detected, axis=0), plain.record("speech_detected"))


def test_a_recorded_act_costs_its_topics_penalty_times_its_channels_factor(plain):
    rec = events(plain, "speech.recorded")
    causes = plain.module("speech").causes
    assert len(causes) == len(TOPICS) * len(CHANNELS)
    for k, name in enumerate(causes):
        topic, channel = name.split(".")
        t = next(x for x in TOPICS if x.name == topic)
        c = next(x for x in CHANNELS if x.name == channel)
        assert np.all(rec["delta"][rec["cause"] == k] == np.float32(t.penalty * c.penalty_factor))
    assert len(set(rec["cause"])) == len(causes)


def test_with_surveillance_a_channel_is_seen_by_the_sources_of_its_place():
    """Only platforms watch: public posts (online) with 0.7, private chats with 0.1; the
    channels' own detect_prob no longer applies."""
    sc = small(n=N, days=DAYS, **CATALOGUES, **{
        "modules.speech.dissent": {"low": 0.05, "high": 0.15},
        "modules.surveillance": {"sources": [
            {"name": "platforms", "sees": {"online": 0.7, "private_chat": 0.1}}]},
    })  # fmt: skip
    sim = Sim(sc).run()
    for channel, cover in (("public_post", 0.7), ("private_chat", 0.1)):
        acts = sim.record(f"speech_channel_{channel}").sum()
        assert within(sim.record(f"speech_channel_{channel}_detected").sum(), acts, cover)
    assert sim.record("surveillance_seen_platforms").sum() == sim.record("speech_detected").sum()


def test_with_population_speech_reads_its_dissent_trait():
    rate = 0.2
    sc = small(n=N, days=DAYS, **{
        "modules.population": {}, "modules.surveillance": {}, "modules.speech.dissent": None,
        "modules.speech.dissent_rate": rate, "modules.speech.chill": "none",
    })  # fmt: skip
    sim = Sim(sc).build()
    assert sim.module("speech").dissent is sim.people.dissent  # population's, not a second one
    sim.run()
    p = rate * sim.people.dissent.astype(np.float64)
    mean, sd = DAYS * p.sum(), np.sqrt(DAYS * (p * (1 - p)).sum())
    assert abs(sim.record("speech_attempted").sum() - mean) <= 5 * sd


def test_population_and_a_second_dissent_are_refused():
    with pytest.raises(ScenarioError, match="modules.speech.dissent: population draws"):
        small(**{"modules.population": {}, "modules.speech.dissent": {"low": 0, "high": 0.1}})
    assert (
        small(**{"modules.population": {}}).modules.speech.dissent is None
    )  # sc-core + population


def test_without_topics_speech_keeps_sc_core_records():
    sim = Sim(small())
    sim.modules = sim._make_modules()
    speech = sim.module("speech")
    expected = ("speech_attempted", "speech_detected", "speech_silenced")
    assert tuple(r.name for r in speech.records) == expected and speech.causes == ()


@pytest.mark.parametrize(
    "field, value, message",
    [
        ("modules.speech.topics", [], "expected at least 1 item"),
        ("modules.speech.topics", [{"name": "a", "share": 0.0, "penalty": -1}],
         "expected a number > 0"),
        ("modules.speech.topics", [{"name": "a", "share": 1, "penalty": 1.5}],
         "expected a number <= 0"),
        ("modules.speech.channels", [{"name": "a", "share": 1, "detect_prob": 0.5},
                                     {"name": "a", "share": 1, "detect_prob": 0.5}], "unique"),
        ("modules.speech.channels", [{"name": "a", "share": 1, "detect_prob": 0.5,
                                      "place": "moon"}], "place"),
        ("modules.speech.dissent_rate", 2, "expected a number <= 1"),
    ],
)  # fmt: skip
def test_bad_values_name_the_field(field, value, message):
    with pytest.raises(ScenarioError, match=message):
        small(**{field: value})
