"""Political speech (mission rows 5, 11): acts from each agent's dissent, chilled by low scores,
on topics and channels.

Seeds 000, 001: "posting political opinions without prior permission, or posting information
that the regime does not like" (the Tiananmen massacre, the Shanghai stock market collapse);
seed 003: "describing a different history than the official one, or even publishing accurate
up-to-date news". A citizen speaks out with daily probability ``propensity x chill``; the
propensity is the citizen's own ``dissent`` (drawn here without population) or, with
population, ``dissent_rate x`` population's ``dissent`` trait. An act has a topic (its penalty)
and a channel (its visibility: own ``detect_prob`` without surveillance, its place with it; and
a penalty factor). Without topics and channels (SC-core) there is one implicit topic with
``penalty`` and one channel with ``detect_prob``. ``TOPICS`` and ``CHANNELS`` are the default
catalogues for presets.

``speech_silenced`` counts the acts a citizen would have made without any chill: those the
linear chill by score suppressed (the same uniform, below the unchilled propensity) and, with
the chilling module, those held back by perceived risk (a second hash, on the path of an act
only). Switching either chill never moves another draw, so silenced speech is measured against
the same counterfactual days.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
from numba import njit
from pydantic import Field, field_validator

from scsim.modules.chilling import CHILL, chill_values
from scsim.modules.surveillance import PLACES, SIGHT, Place, sight, sight_values
from scsim.params import ModuleParams, Name, Probability, Strict, Uniform
from scsim.protocol import Module, PerAgent, Record, Scalar, Table, emit
from scsim.rng import agent_hash, agent_hash_k, u_hi, u_lo

DEFAULT_DISSENT = Uniform(low=0.0, high=0.02)
"""SC-core's propensity (bench/SC_CORE.md), drawn by speech when population is off."""


class Topic(Strict):
    name: Name
    share: float = Field(gt=0, le=1, description="share of speech acts on this topic (normalised)")
    penalty: float = Field(le=0, ge=-1000, description="score change when recorded")


class Channel(Strict):
    name: Name
    share: float = Field(gt=0, le=1, description="share of speech acts on this channel")
    detect_prob: Probability = Field(description="chance an act is recorded (no surveillance)")
    penalty_factor: float = Field(
        default=1.0, ge=0, le=10, description="the topic's penalty x this on this channel"
    )
    place: Place = Field(default="online", description="who can see it (with surveillance)")


TOPICS = [
    Topic(name="opinion_without_permission", share=0.6, penalty=-25.0),
    Topic(name="alternative_history", share=0.2, penalty=-40.0),
    Topic(name="embarrassing_news", share=0.2, penalty=-30.0),
]
"""Seeds 000, 001, 003 name the topics; shares and penalties are assumptions (-25: SC-core)."""

CHANNELS = [
    Channel(name="public_post", share=0.4, detect_prob=0.6, penalty_factor=1.0, place="online"),
    Channel(name="private_chat", share=0.6, detect_prob=0.05, penalty_factor=0.5,
            place="private_chat"),
]  # fmt: skip
"""Assumptions: public posts are watched like SC-core's speech (0.6); private chats rarely,
and are punished less."""


class SpeechParams(ModuleParams):
    fixed = {"dissent": "traits are drawn once, before day 0"}

    dissent: Uniform | None = Field(
        default=None,
        description="daily propensity drawn once per agent when population is off "
        "(unset: Uniform(0, 0.02), SC-core); with population leave unset",
    )
    dissent_rate: float = Field(
        default=0.1,
        ge=0,
        le=1,
        description="with population: propensity = dissent_rate x population's dissent "
        "(assumption: mean trait 0.1 gives SC-core's mean 0.01 a day)",
    )
    detect_prob: Probability = Field(
        default=0.6, description="chance an act is recorded when no channels are given"
    )
    penalty: float = Field(
        default=-25.0, le=0, ge=-1000, description="penalty when no topics are given"
    )
    chill: Literal["linear", "none"] = Field(
        default="linear",
        description="linear: propensity x (score - min) / (max - min); none: no chilling",
    )
    topics: list[Topic] | None = Field(
        default=None, min_length=1, max_length=32, description="unset: one topic, `penalty`"
    )
    channels: list[Channel] | None = Field(
        default=None, min_length=1, max_length=8, description="unset: one, `detect_prob`"
    )

    @field_validator("topics", "channels")
    @classmethod
    def _unique(cls, items: list | None) -> list | None:
        names = [x.name for x in items or []]
        dup = [n for n in names if names.count(n) > 1]
        if dup:
            raise ValueError(f"{dup[0]!r}: expected unique names")
        return items

    def clashes(self, enabled: set[str]) -> str | None:
        """With population on, dissent is population's trait: speech must not draw its own."""
        if "population" in enabled and self.dissent is not None:
            return (
                "modules.speech.dissent: population draws the dissent trait when it is on; "
                "unset speech.dissent and use population.dissent and speech.dissent_rate"
            )
        return None


K_TOPIC, K_CHILL = range(2)  # second draws of an agent-day (``agent_hash_k``)


@njit(inline="always", cache=True)
def _pick(cdf, u):
    """The first index whose cumulative share exceeds ``u`` (the last ends at exactly 1)."""
    for k in range(cdf.size - 1):
        if u < cdf[k]:
            return k
    return cdf.size - 1


@njit(inline="always", cache=True)
def _silenced(rec, ev, a, col_speech_silenced, kind_silenced):
    """Count an act the citizen would have made without the chill."""
    rec[a.region, col_speech_silenced] += 1.0
    emit(ev, a, kind_silenced, -1, 0.0, -1)
    return np.float32(0.0)


@njit(inline="always", cache=True)
def speech_delta(
    a, rec, ev, dkey, dissent, scale, lo, inv_span, chill, pick, topic_cdf, channel_cdf,
    detect, penalties, places, detail, sv_on, sv_key, sv_cover, sv_src, sv_region, sv_buf,
    sv_col, sv_evk, ch_risk, ch_effect, col_speech_attempted, col_speech_detected,
    col_speech_silenced, col_speech_topic, col_speech_channel, kind_unseen, kind_recorded,
    kind_silenced,
):  # fmt: skip
    h = agent_hash(dkey, a.i)
    unchilled = np.float64(dissent[a.i]) * scale
    propensity = unchilled
    if chill:
        propensity *= (a.score - lo) * inv_span
    u = u_hi(h)
    if u >= propensity:
        if u < unchilled:  # would have spoken at a higher score
            return _silenced(rec, ev, a, col_speech_silenced, kind_silenced)
        return np.float32(0.0)
    if ch_effect > 0 and u_hi(agent_hash_k(dkey, a.i, K_CHILL)) < ch_effect * ch_risk[a.i]:
        # held back by fear (chilling)
        return _silenced(rec, ev, a, col_speech_silenced, kind_silenced)
    t = 0
    c = 0
    if pick:  # topic and channel from a second hash, only on the path of an act
        h2 = agent_hash_k(dkey, a.i, K_TOPIC)
        t = _pick(topic_cdf, u_hi(h2))
        c = _pick(channel_cdf, u_lo(h2))
    g = a.region
    rec[g, col_speech_attempted] += 1.0
    cause = -1
    at = col_speech_channel + 2 * c  # this channel's (attempted, detected)
    if detail:
        rec[g, col_speech_topic + t] += 1.0
        rec[g, at] += 1.0
        cause = t * channel_cdf.size + c
    penalty = penalties[t, c]
    if sv_on:
        seen = sight(
            a, rec, ev, places[c], penalty, sv_key, sv_cover, sv_src, sv_region, sv_buf,
            sv_col, sv_evk,
        )  # fmt: skip
    else:
        seen = u_lo(h) < detect[c]
    if seen:
        rec[g, col_speech_detected] += 1.0
        if detail:
            rec[g, at + 1] += 1.0
        emit(ev, a, kind_recorded, cause, penalty, -1)
        return penalty
    emit(ev, a, kind_unseen, cause, 0.0, -1)
    return np.float32(0.0)


class Speech(Module):
    """Speech acts happen with probability propensity x chill; a recorded act costs its
    topic's penalty x its channel's factor. See the module docstring."""
    reach = "own"

    name = "speech"
    phase = "behaviour"
    delta = speech_delta
    events = ("unseen", "recorded", "silenced")
    offence = True
    fields = (
        Scalar("dkey", np.uint64, doc="the day's key of the act stream"),
        PerAgent("dissent", np.float32, doc="daily propensity to speak out (or population's)"),
        Scalar("scale", np.float64, doc="propensity per unit of dissent"),
        Scalar("lo", np.float32, doc="lowest score"),
        Scalar("inv_span", np.float64, doc="1 / (highest - lowest score)"),
        Scalar("chill", np.bool_, doc="the propensity falls linearly with the score"),
        Scalar("pick", np.bool_, doc="more than one topic or channel: draw them"),
        Table("topic_cdf", np.float64, doc="cumulative shares of the topics"),
        Table("channel_cdf", np.float64, doc="cumulative shares of the channels"),
        Table("detect", np.float64, doc="each channel's detection chance (no surveillance)"),
        Table("penalties", np.float32, ndim=2, doc="penalty by topic and channel (weighted)"),
        Table("places", np.int64, doc="each channel's place (surveillance)"),
        Scalar("detail", np.bool_, doc="records per topic and channel are kept"),
        *SIGHT,
        *CHILL,
        Scalar("col_speech_topic", np.int64, doc="without detail records: -1 (never read)"),
        Scalar("col_speech_channel", np.int64, doc="without detail records: -1 (never read)"),
    )

    @property
    def detail(self) -> bool:
        """Topics or channels are given: records and causes per topic and channel."""
        return self.params.topics is not None or self.params.channels is not None

    def _topics(self) -> list[Topic]:
        p = self.params
        return p.topics or [Topic(name="speech", share=1.0, penalty=p.penalty)]

    def _channels(self) -> list[Channel]:
        p = self.params
        return p.channels or [Channel(name="any", share=1.0, detect_prob=p.detect_prob)]

    @property
    def records(self) -> tuple[Record, ...]:
        def acts(name: str, label: str, **kw) -> Record:
            return Record(name, label, unit="acts", kind="flow", section="speech", **kw)

        out = [
            acts("speech_attempted", "speech acts made"),
            acts("speech_detected", "speech acts detected"),
            Record(
                "speech_silenced", "citizens silenced", kind="flow", section="speech",
                headline=True,
            ),
        ]  # fmt: skip
        if self.detail:
            for t in self._topics():
                words = t.name.replace("_", " ")
                out.append(
                    acts(f"speech_topic_{t.name}", f"speech acts on {words}", group="speech_topic",
                         meta={"topic": t.name})
                )  # fmt: skip
            for c in self._channels():
                words, meta = c.name.replace("_", " "), {"channel": c.name}
                out += [
                    acts(f"speech_channel_{c.name}", f"speech acts by {words}",
                         group="speech_channel", meta=meta),
                    acts(f"speech_channel_{c.name}_detected", f"speech acts by {words} detected",
                         group="speech_channel", meta=meta),
                ]  # fmt: skip
        return tuple(out)

    @property
    def causes(self) -> tuple[str, ...]:
        if not self.detail:
            return ()
        return tuple(f"{t.name}.{c.name}" for t in self._topics() for c in self._channels())

    def init(self) -> None:
        p, people = self.params, self.sim.people
        self.from_population = any(m.name == "population" for m in self.sim.modules)
        if self.from_population:
            self.dissent = people.dissent
        else:
            d = p.dissent or DEFAULT_DISSENT
            self.dissent = people.add(
                "dissent", people.uniform_trait("speech.dissent", d.low, d.high)
            )
        self.refresh()

    def refresh(self) -> None:
        """Daily rate, topic and channel tables from the parameters in force."""
        self.scale = float(self.params.dissent_rate) if self.from_population else 1.0
        topics, channels = self._topics(), self._channels()
        self.topic_cdf = _cdf([t.share for t in topics])
        self.channel_cdf = _cdf([c.share for c in channels])
        self.detect = np.array([c.detect_prob for c in channels], dtype=np.float64)
        self.penalties = np.array(
            [[t.penalty * c.penalty_factor * self.weight for c in channels] for t in topics],
            dtype=np.float32,
        )
        self.places = np.array([PLACES.index(c.place) for c in channels], dtype=np.int64)

    def kernel_values(self, day: int) -> dict:
        lo, hi = self.sim.score_range
        absent = {} if self.detail else {"col_speech_topic": -1, "col_speech_channel": -1}
        return {
            "dkey": self.day_key("act", day), "scale": self.scale,
            "lo": np.float32(lo), "inv_span": 1.0 / (hi - lo),
            "chill": self.params.chill == "linear",
            "pick": self.topic_cdf.size > 1 or self.channel_cdf.size > 1,
            "topic_cdf": self.topic_cdf, "channel_cdf": self.channel_cdf, "detect": self.detect,
            "penalties": self.penalties, "places": self.places, "detail": self.detail,
            **sight_values(self, day), **chill_values(self, "speech_effect"), **absent,
        }  # fmt: skip


def _cdf(shares: list[float]) -> np.ndarray:
    """Cumulative normalised shares, the last exactly 1."""
    cdf = np.cumsum(np.array(shares, dtype=np.float64) / sum(shares))
    cdf[-1] = 1.0
    return cdf
