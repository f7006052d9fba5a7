"""Chilling: perceived risk from friends' sanctions and disclosures holds back speech and
infractions, and the acts held back are counted against the same counterfactual."""

from __future__ import annotations

import numpy as np
import pytest
from numba import njit

from scsim.engine import Sim
from scsim.modules.chilling import AFRAID, chilling_delta
from scsim.protocol import Agent
from scsim.scenario import ScenarioError, load_raw, validate

R_RISK, R_EXPOSED, R_AFRAID = range(3)  # the record columns ``_step`` gives the hook

GRAVE = {"name": "grave", "rate": 0.002, "detect_prob": 1.0, "penalty": -200}
MINOR = {"name": "minor", "rate": 0.005, "detect_prob": 0.6, "penalty": -15}


def chilled(n=3000, days=60, speech=None, chilling=None, ban_days=365):
    """SC-core with chilling and a grave act (0.2 % a day, always recorded, -200: listed at
    once, disclosed, banned for ``ban_days``), so a steady stream of citizens is sanctioned and
    their friends see it (news of listings off unless given: at 0.2 % a day it would make
    everyone afraid at once); friends' sanctions cost -0.3 a day (not SC-core's -3, which makes
    listings cascade through the network). Every variant below changes only parameters, never
    the module set: one fused kernel serves the whole file."""
    raw = load_raw("sc-core")
    raw["population"]["n"], raw["days"], raw["seed"] = n, days, 11
    m = raw["modules"]
    m["infractions"]["kinds"] = [GRAVE, MINOR]
    m["scoring"]["friend_sanction_penalty"] = -0.3
    m["lists"]["disclose"] = True
    m["sanctions"]["ban_days"] = ban_days
    m["speech"].update(speech or {})
    m["chilling"] = {"news_weight": 0.0, **(chilling or {})}
    return validate(raw)


@pytest.fixture(scope="module")
def base():
    return Sim(chilled()).run()


@njit
def _step(risk, nb_sanctioned, nb_listed, region, keep, sw, dw, news):
    a = Agent(np.uint64(0), 0, 0, region, False, np.float32(600.0), np.uint8(0),
              np.float32(600.0), nb_sanctioned, nb_listed, 0, 10, np.float32(0.0))  # fmt: skip
    rec = np.zeros((2, 3))
    ev = np.zeros((4, 6))
    chilling_delta(a, rec, ev, risk, keep, sw, dw, news, R_RISK, R_EXPOSED, R_AFRAID, 0, 1)
    return rec


def test_risk_decays_and_closes_the_gap_to_one_with_exposure():
    risk = np.array([0.2], dtype=np.float32)
    news = np.array([0.0, 0.3], dtype=np.float32)
    rec = _step(risk, 3, 1, 1, np.float32(0.98), np.float32(0.05), np.float32(0.02), news)
    exposure = 0.05 * 3 + 0.02 * 1 + 0.3
    expected = 1.0 - (1.0 - 0.2 * 0.98) * np.exp(-exposure)
    assert risk[0] == pytest.approx(expected, rel=1e-6)
    assert rec[1, R_EXPOSED] == 1 and rec[1, R_RISK] == pytest.approx(expected, rel=1e-6)
    assert rec[1, R_AFRAID] == (expected >= AFRAID) and rec[0].sum() == 0
    rec = _step(risk, 0, 0, 0, np.float32(0.98), np.float32(0.05), np.float32(0.02), news)
    assert risk[0] == pytest.approx(expected * 0.98, rel=1e-6) and rec[0, R_EXPOSED] == 0


def test_chilling_silences_speech_and_deters_infractions(base):
    free = Sim(chilled(chilling={"speech_effect": 0.0, "infraction_effect": 0.0})).run()
    assert base.record("chilling_exposed").sum() > 0
    # with the effects at 0 only the linear chill by score silences speech (measured: 933
    # acts; with chilling 1 174, and 246 infractions deterred)
    assert base.record("speech_silenced").sum() > free.record("speech_silenced").sum()
    assert base.record("infractions_deterred").sum() > 0
    assert free.record("infractions_deterred").sum() == 0


def test_acts_happened_plus_held_back_is_the_unchilled_count():
    """Without the linear chill, speech's propensity ignores the score, and infractions' always
    does: acts that happened plus acts held back is exactly the same whatever the chill (the
    chill only ever turns an act of the same draw into a held-back one)."""
    totals = []
    for effect in (0.0, 0.5, 1.0):
        sim = Sim(
            chilled(speech={"chill": "none"},
                    chilling={"speech_effect": effect, "infraction_effect": effect})
        ).run()  # fmt: skip
        speech = sim.record("speech_attempted") + sim.record("speech_silenced")
        acts = sim.record("infractions_committed") + sim.record("infractions_deterred")
        totals.append((speech, acts, sim.record("speech_silenced").sum()))
    for speech, acts, _ in totals[1:]:
        assert np.array_equal(speech, totals[0][0]) and np.array_equal(acts, totals[0][1])
    assert totals[0][2] == 0 < totals[1][2] < totals[2][2]


def test_silenced_speech_grows_with_sanctions_seen():
    """The same acts with bans of 5 days instead of 365, over 90 days: friends see fewer
    sanctions (measured: 2.5 times fewer exposed citizen-days), fear less and hold back less
    speech (measured with seed 11: 1 725 against 1 941 silenced acts; a count near 1 800 has
    a Poisson sd near 42, so the gap is ~3.6 sd of a difference)."""
    base = Sim(chilled(days=90)).run()
    mild = Sim(chilled(days=90, ban_days=5)).run()
    seen = [s.record("chilling_exposed").sum() for s in (mild, base)]
    silenced = [s.record("speech_silenced").sum() for s in (mild, base)]
    assert seen[1] > seen[0] and silenced[1] > silenced[0]


def test_without_anything_to_see_risk_stays_zero(base):
    blind = Sim(
        chilled(chilling={"sanction_weight": 0, "disclosure_weight": 0, "news_weight": 0})
    ).run()
    free = Sim(chilled(chilling={"speech_effect": 0.0, "infraction_effect": 0.0})).run()
    assert not blind.people.perceived_risk.any()
    # no fear and no effect act alike: every record but chilling's own, and every score
    others = [k for k, name in enumerate(blind.record_names) if not name.startswith("chilling")]
    assert np.array_equal(blind.records[:, :, others], free.records[:, :, others])
    assert np.array_equal(blind.score, free.score)


def test_risk_is_bounded_and_recorded_as_a_decimal_sum(base):
    risk = base.people.perceived_risk
    assert risk.min() >= 0 and risk.max() <= 1 and risk.max() > AFRAID
    assert base.record("chilling_risk")[-1] == pytest.approx(float(risk.sum(dtype=np.float64)))


@pytest.mark.parametrize(
    "change, message",
    [
        ({"speech": None, "infractions": None}, "enable modules.speech or modules.infractions"),
        ({"sanctions": None, "lists": None}, "enable modules.sanctions or modules.lists"),
    ],
)
def test_idle_chilling_is_refused(change, message):
    raw = load_raw("sc-core")
    raw["modules"]["chilling"] = {}
    raw["modules"].update(change)
    with pytest.raises(ScenarioError, match=message):
        validate(raw)


def test_bad_parameter_names_the_field():
    raw = load_raw("sc-core")
    raw["modules"]["chilling"] = {"decay": 1.5}
    with pytest.raises(ScenarioError, match=r"modules.chilling.decay.*1.5"):
        validate(raw)
