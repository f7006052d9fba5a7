"""Peer rating (mission row 22): a Nosedive-style society where citizens rate each other.

Seed 001 compares China's system with a peer-rating society (The Orville's "Majority Rule",
Black Mirror's "Nosedive"): every interaction is rated one to five stars, ratings from the
well-rated count more, and the running average decides what a citizen may do. Each day a
citizen meets ``contacts`` neighbours (drawn with replacement from its friends) with chance
``interact_prob``; each contact rates it 1 + Binomial(4, L) stars, where L mixes the citizen's
likability (population's sociability and conformity when that module is on, else drawn per
citizen) with its visible score (``status_bias``). A rating of weight w moves the citizen's
peer rating P (in [1, 5]) by ``1 - (1 - smoothing)^w`` of the way to the stars given: a rating
of weight w counts as w ratings of weight 1. A rater's weight is ``1 + rater_weight x`` its
score's position in the score range. The score follows P mapped onto the score range (the
``peer_rating`` component closes ``follow`` of the gap daily), so perks (``modules.perks``)
follow the ratings. Reputation inflation (Filippas, Horton & Golden, 2018: raters feel
pressure to leave "above average" ratings, which pushes the average higher): every rater
moves L a share ``generosity + norm_pressure x (M - 3) / 2`` (clipped to [0, 1]) of the way to
1, where M is the public mean rating in stars; M follows the stars given with a half-life of
``norm_half_life`` days. Model, parameters and assumptions: ``docs/odd_peer_rating.md``.
"""

from __future__ import annotations

import numpy as np
from numba import njit
from pydantic import Field, model_validator

from scsim.kernels.row import nth_neighbour
from scsim.modules.neighbours import graph_fields, graph_values
from scsim.params import ModuleParams, Probability, Uniform
from scsim.protocol import Module, PerAgent, Record, Scalar, emit
from scsim.protocol.declare import Field as Declared
from scsim.rng import agent_hash, agent_hash_k, below, u_hi

STARS = 5
_LANE = np.uint64(0xFFFF)
_LANES = 65536.0


class PeerRatingParams(ModuleParams):
    interact_prob: Probability = Field(
        default=0.5, description="chance a citizen meets contacts (and is rated) on a day"
    )
    contacts: int = Field(
        default=3, ge=1, le=16, description="neighbours met on such a day (with replacement)"
    )
    smoothing: float = Field(
        default=0.05, gt=0, le=1, description="share of the gap a rating of weight 1 closes"
    )
    rater_weight: float = Field(
        default=4.0, ge=0, le=100,
        description="extra weight of a rater at the top of the score range (1 at the bottom)",
    )  # fmt: skip
    status_bias: Probability = Field(
        default=0.25, description="weight of the rated citizen's visible score in its stars"
    )
    likability: Uniform = Field(
        default_factory=lambda: Uniform(low=0.5, high=1.0),
        description="drawn per citizen when the population module is off",
    )
    follow: float = Field(
        default=1.0, gt=0, le=1, description="share of the gap to the peer rating closed daily"
    )
    generosity: Probability = Field(
        default=0.0,
        description="share of the way to 5 stars by which every rater shades a rating up",
    )
    norm_pressure: float = Field(
        default=0.0,
        ge=0,
        le=10,
        description="further shading per unit of the public mean rating's height above 3 stars "
        "(in units of 2 stars): ratings rise with the mean (reputation inflation); 0: none",
    )
    norm_half_life: float = Field(
        default=365.0,
        gt=0,
        le=36500,
        description="half-life in days of the public mean rating's memory of the stars given",
    )
    top_stars: float = Field(
        default=4.5, ge=1, le=5, description="count the citizens rated at least this (top rated)"
    )

    @model_validator(mode="after")
    def _unit(self) -> PeerRatingParams:
        if not 0 <= self.likability.low <= self.likability.high <= 1:
            raise ValueError("likability must lie within [0, 1]")
        return self


FIELDS = (
    Scalar("dkey", np.uint64, doc="the day's key of the meeting stream"),
    Scalar("interact_prob", np.float64, doc="chance of meeting contacts today"),
    Scalar("contacts", np.int64, doc="neighbours met on such a day"),
    PerAgent("likability", np.float32, doc="how likable the citizen is, in [0, 1]"),
    PerAgent("peer_rating", np.float32, doc="peer rating, in stars [1, 5]"),
    Scalar("status_bias", np.float64, doc="weight of the visible score in the stars"),
    Scalar("log_keep", np.float64, doc="log(1 - smoothing)"),
    Scalar("rater_weight", np.float64, doc="extra weight of a rater at the top of the range"),
    Scalar("lo", np.float32, doc="lowest score"),
    Scalar("inv_span", np.float64, doc="1 / (highest - lowest score)"),
    Scalar("star_span", np.float32, doc="score points per star"),
    Scalar("follow", np.float32, doc="share of the gap to the rating closed daily (weighted)"),
    Scalar("shade", np.float64, doc="share of the way to 5 stars raters shade today"),
    Scalar("top_stars", np.float32, doc="rated at least this: top rated"),
    Scalar("perk_floor", np.float32, doc="the lowest perk threshold"),
    Scalar("count_below", np.bool_, doc="perks are given: count the citizens below them"),
    Scalar("col_peer_below_perks", np.int64, doc="without perks: -1 (never read)"),
)
"""The fields of the peer rating, beside ``graph_fields``."""


@njit(inline="always", cache=True)
def rated(p, stars, weight, log_keep):
    """Peer rating ``p`` after a rating of ``stars`` with ``weight``: the step of a weight-1
    rating, ``1 - exp(log_keep)``, compounded ``weight`` times."""
    return p + (1.0 - np.exp(weight * log_keep)) * (stars - p)


@njit(inline="always", cache=True)
def draw_stars(h, like):
    """1 + Binomial(4, like) stars from the four 16-bit lanes of one hash."""
    cut = np.uint64(like * _LANES)
    stars = 1
    for q in range(STARS - 1):
        if (h >> np.uint64(16 * q)) & _LANE < cut:
            stars += 1
    return stars


@njit(inline="always", cache=True)
def peer_rating_delta(
    a, rec, ev, dkey, interact_prob, contacts, indptr, indices, active, ring, ring_half, packed,
    likability, peer_rating, status_bias, log_keep, rater_weight, lo, inv_span, star_span,
    follow, shade, col_peer_ratings, col_peer_star_sum, kind_rated, kind_followed,
):  # fmt: skip
    i = a.i
    if a.degree > 0 and u_hi(agent_hash(dkey, i)) < interact_prob:
        own = np.float64(a.score - lo) * inv_span
        like = (1.0 - status_bias) * np.float64(likability[i]) + status_bias * own
        like += (1.0 - like) * shade
        p = np.float64(peer_rating[i])
        given = 0.0
        for c in range(contacts):
            pick = below(agent_hash_k(dkey, i, 2 * c), a.degree)
            j = nth_neighbour(i, pick, indptr, indices, active, ring, ring_half)
            stars = draw_stars(agent_hash_k(dkey, i, 2 * c + 1), like)
            weight = 1.0 + rater_weight * np.float64(abs(packed[j]) - lo) * inv_span
            p = rated(p, np.float64(stars), weight, log_keep)
            given += stars
            emit(ev, a, kind_rated, stars - 1, 0.0, np.float64(j))
        peer_rating[i] = np.float32(p)
        rec[a.region, col_peer_ratings] += contacts
        rec[a.region, col_peer_star_sum] += given
    target = lo + (peer_rating[i] - np.float32(1.0)) * star_span
    d = follow * (target - a.score)
    if d != 0:
        emit(ev, a, kind_followed, -1, d, -1)
    return d


@njit(inline="always", cache=True)
def peer_rating_after(
    a, score, rec, ev, peer_rating, top_stars, perk_floor, count_below, col_peer_rating_sum,
    col_peer_top_rated, col_peer_below_perks,
):  # fmt: skip
    p = peer_rating[a.i]
    rec[a.region, col_peer_rating_sum] += p
    if p >= top_stars:
        rec[a.region, col_peer_top_rated] += 1.0
    if count_below and score < perk_floor:
        rec[a.region, col_peer_below_perks] += 1.0
    return np.uint8(0)


class PeerRating(Module):
    """Ratings from contacts, weighted by the raters' scores; see the module docstring."""
    reach = "ties"  # neighbours' published state

    name = "peer_rating"
    phase = "behaviour"
    delta = peer_rating_delta
    after = peer_rating_after
    events = ("rated", "followed")

    @property
    def fields(self) -> tuple[Declared, ...]:
        return (*FIELDS, *graph_fields(self.sim))

    @property
    def causes(self) -> tuple[str, ...]:
        return tuple(f"{k}_star{'s' if k > 1 else ''}" for k in range(1, STARS + 1))

    @property
    def records(self) -> tuple[Record, ...]:
        below = (
            (Record("peer_below_perks", "citizens scored below every perk", section="scoring"),)
            if self.count_below
            else ()
        )
        return (
            Record(
                "peer_ratings", "ratings given", unit="ratings", kind="flow", section="scoring"
            ),
            Record("peer_star_sum", "stars given", unit="stars", kind="flow", section="scoring"),
            Record(
                "peer_rating_sum", "peer ratings, summed over citizens", unit="stars",
                kind="measure", section="scoring",
            ),
            Record(
                "peer_top_rated", f"citizens rated at least {self.params.top_stars:g} stars",
                section="scoring",
            ),
            *below,
        )  # fmt: skip

    def init(self) -> None:
        sim, p = self.sim, self.params
        people, (lo, hi) = sim.people, sim.score_range
        if "sociability" in people.fields and "conformity" in people.fields:
            like = 0.5 * people.sociability + 0.5 * people.conformity
        else:
            like = people.uniform_trait("peer_rating.likability", p.likability.low,
                                        p.likability.high)  # fmt: skip
        self.likability = people.add("likability", like.astype(np.float32, copy=False))
        start = 1.0 + (STARS - 1) * (sim.scenario.modules.scoring.initial - lo) / (hi - lo)
        self.rating = people.add("peer_rating", people.full(start, np.float32))
        perks = sim.scenario.modules.perks
        floors = [
            q.min_score for q in (perks.perks if perks is not None and perks.enabled else [])
            if q.min_score is not None
        ]  # fmt: skip
        self.count_below = bool(floors)
        self.below = np.float32(min(floors) if floors else 0.0)
        self.norm = float(start)  # the public mean rating, in stars

    def finish(self, day: int) -> None:
        """The public mean rating follows the day's mean stars given (summed over regions in
        order, so it is the same for any thread count)."""
        records = self.sim.day_records(day)
        today = records[:, self.column("peer_ratings")].sum()
        if today > 0:
            given = records[:, self.column("peer_star_sum")].sum() / today
            self.norm += (1.0 - 0.5 ** (1.0 / self.params.norm_half_life)) * (given - self.norm)

    def kernel_values(self, day: int) -> dict:
        sim, p = self.sim, self.params
        lo, hi = sim.score_range
        log_keep = np.log1p(-p.smoothing) if p.smoothing < 1 else -np.inf
        absent = {} if self.count_below else {"col_peer_below_perks": -1}
        return {
            "dkey": self.day_key("meet", day), "interact_prob": p.interact_prob,
            "contacts": p.contacts, **graph_values(sim), "status_bias": p.status_bias,
            "log_keep": log_keep, "rater_weight": p.rater_weight, "lo": np.float32(lo),
            "inv_span": 1.0 / (hi - lo), "star_span": np.float32((hi - lo) / (STARS - 1)),
            "follow": np.float32(p.follow * self.weight),
            "shade": min(1.0, max(0.0, p.generosity + p.norm_pressure * (self.norm - 3.0) / 2.0)),
            "top_stars": np.float32(p.top_stars), "perk_floor": self.below,
            "count_below": self.count_below, **absent,
        }  # fmt: skip
