"""Shunning and score visibility (mission rows 10, 21): citizens drop friends who hurt their
score and seek new friends, by score when scores are visible.

Seed 003: "If you don't conform to the state's ideology, people will have to shun you or they
will be economically ruined. The state doesn't have to do anything; every member of the
community becomes a secret policeman by default." Seeds 000 and 001: people brag about their
scores, and scores become a measure of social worth (friendship and partner choice).

Each day, after the fused pass (``finish``):

1. *cut*: a citizen whose score was hurt today by a friend (a neighbour it read as visibly
   sanctioned, disclosed on a blacklist or, optionally, with a fresh record: ``triggers``)
   cuts each tie to such a neighbour with chance ``cut_prob`` (a draw keyed by day, citizen
   and edge slot). A cut is symmetric: the tie disappears from both rows' active mask, so
   neither side reads the other from the next day on (the fused gather skips inactive slots).
2. *form*: a citizen with fewer active ties than it started with, and a free spare slot,
   seeks a new friend with chance ``form_rate``: it draws ``candidates`` citizens of its
   region and picks one of the eligible (not itself, not offending, not yet a friend, with a
   free slot). With ``visible: true`` the pick is weighted by ``exp(score_seeking * (score -
   max) / (max - min))`` (score-seeking); with ``visible: false`` it ignores scores. Proposals
   are drawn in parallel and linked in citizen order (first come, first served for a slot).
3. *records*: ties cut and formed, tie ends and active ties, isolated citizens, listed and unlisted
   citizens' active ties, eligible candidates seen, and over the ties formed the new friends'
   scores and the mean score of the candidates each proposer could pick from; every
   ``measure_every`` days the number of connected components, the largest one and the mean
   clustering of a sample (national values are held in region 0's row; measures are carried
   forward between measurements).

New ties go into ``spare_slots`` extra slots at the end of every CSR row (allocated at
``init``), so the graph never reallocates. Model, parameters and assumptions:
``docs/odd_shunning.md``.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
from numba import njit
from pydantic import Field, field_validator

from scsim.fusion import BLOCK
from scsim.modules import shunning_kernels as K
from scsim.network.fragmentation import components, mean_clustering
from scsim.network.graph import FRIENDS, Graph, indptr_from_degree
from scsim.params import ModuleParams, Probability
from scsim.protocol import LISTED, OFFENDED, SANCTIONED, Module, PerAgent, Record, Scalar

TRIGGERS = {"sanctioned": SANCTIONED, "listed": LISTED, "offended": OFFENDED}

NETWORK_MEASURES = ("components", "largest_component", "clustering")
"""The records of the national network measures taken every ``measure_every`` days (region 0's
row), in the order ``finish`` takes them."""

NATIONAL = {"national": True}
"""National values, held in region 0's row (the other regions' rows are 0)."""


class ShunningParams(ModuleParams):
    cut_prob: Probability = Field(
        default=0.05,
        description="daily chance a citizen cuts its tie to a friend who hurt its score that "
        "day (assumption: about half such ties are cut within two weeks)",
    )
    triggers: list[Literal["sanctioned", "listed", "offended"]] = Field(
        default_factory=lambda: ["sanctioned", "listed"],
        min_length=1,
        description="what makes a friend hurt your score: visibly sanctioned, disclosed on a "
        "blacklist, a record of misconduct made yesterday (seed 003)",
    )
    spare_slots: int = Field(
        default=4, ge=0, le=32, description="new ties a citizen can hold beyond its first row"
    )
    form_rate: Probability = Field(
        default=0.05,
        description="daily chance a citizen who lost ties seeks a new friend (assumption)",
    )
    candidates: int = Field(
        default=8, ge=1, le=64, description="citizens of the region considered per search"
    )
    visible: bool = Field(
        default=True,
        description="scores are visible to others (seeds 000, 001: people brag about scores); "
        "off: new friends are chosen without regard to score",
    )
    score_seeking: float = Field(
        default=5.0,
        ge=0,
        le=100,
        description="strength of the pull towards high scores when choosing a new friend "
        "(weight exp(s * (score - max) / (max - min)); 0: none)",
    )
    measure_every: int = Field(
        default=7, ge=1, le=36500, description="days between measures of fragmentation"
    )
    clustering_sample: int = Field(
        default=2000, ge=1, le=1_000_000, description="citizens in the clustering sample"
    )

    @field_validator("triggers")
    @classmethod
    def _unique(cls, triggers: list[str]) -> list[str]:
        if len(set(triggers)) != len(triggers):
            raise ValueError("expected each trigger at most once")
        return triggers


@njit(inline="always", cache=True)
def shunning_after(a, score, rec, ev, hurt, trigger):
    """Remember whether a friend hurt the citizen today (read by ``finish``)."""
    n = np.int64(0)
    if trigger & SANCTIONED:
        n += a.nb_sanctioned
    if trigger & LISTED:
        n += a.nb_listed
    if trigger & OFFENDED:
        n += a.nb_offended
    hurt[a.i] = np.uint8(1) if n > 0 else np.uint8(0)
    return np.uint8(0)


def widen(graph: Graph, spare: int) -> tuple[Graph, np.ndarray]:
    """The graph with ``spare`` inactive slots at the end of every row, its ``active`` mask
    set, and ``rev`` (the slot of each tie in the other endpoint's row)."""
    degree = np.diff(graph.indptr.astype(np.int64)) + spare
    indptr = indptr_from_degree(degree)
    size = int(indptr[-1])
    indices = np.empty(size, dtype=np.uint32)
    active = np.empty(size, dtype=np.uint8)
    layer = np.empty(size if graph.layer is not None else 0, dtype=np.uint8)
    old_layer = graph.layer if graph.layer is not None else layer
    K.widen_rows(graph.indptr, graph.indices, old_layer, indptr, indices, layer, active, spare)
    rev = np.empty(size, dtype=indptr.dtype)
    K.reverse_slots(indptr, indices, spare, rev)
    wide = Graph(
        indptr=indptr, indices=indices, far=graph.far,
        layer=layer if graph.layer is not None else None, active=active,
    )  # fmt: skip
    return wide, rev


class Shunning(Module):
    """Tie cutting and tie formation after each day; see the module docstring."""
    reach = "anyone"  # finish cuts and forms ties over every citizen

    name = "shunning"
    phase = "sanctions"
    shared = ("hurt",)  # every rank's finish cuts ties over every citizen (docs/design/mpi.md)
    edits_ties = True
    fields = (
        PerAgent("hurt", np.uint8, doc="a friend hurt the citizen's score today (1)"),
        Scalar("trigger", np.uint8, doc="the public flags that hurt a friend's score"),
    )
    records = (
        Record(
            "ties_cut", "friendship ties cut", unit="ties", kind="flow", section="network",
            headline=True,
        ),
        Record(
            "ties_formed", "friendship ties formed", unit="ties", kind="flow", section="network",
        ),
        Record(
            "tie_ends", "friends citizens have (each tie counted at both ends)", unit="ties",
            section="network",
        ),
        Record("isolated", "citizens left without any friend", section="network"),
        Record(
            "listed_ties", "friends of blacklisted citizens (ties summed over them)",
            unit="ties", section="network",
        ),
        Record(
            "listed_citizens", "blacklisted citizens (whose friends are counted)",
            section="network",
        ),
        Record(
            "unlisted_ties", "friends of citizens not blacklisted (ties summed over them)",
            unit="ties", section="network",
        ),
        Record(
            "unlisted_citizens", "citizens not blacklisted (whose friends are counted)",
            section="network",
        ),
        Record(
            "candidates", "possible new friends considered", kind="flow", section="network",
        ),
        Record(
            "pool_score_sum", "mean score of the possible new friends, summed over ties formed",
            unit="points", kind="flow", section="network",
        ),
        Record(
            "new_friend_score_sum", "score of the new friends, summed over ties formed",
            unit="points", kind="flow", section="network",
        ),
        Record(
            "active_ties", "friendship ties", unit="ties", section="network", meta=NATIONAL,
        ),
        Record(
            "components", "separate parts of the friendship network", unit="parts",
            section="network", meta=NATIONAL,
        ),
        Record(
            "largest_component", "citizens in the largest connected part of the network",
            section="network", meta=NATIONAL,
        ),
        Record(
            "clustering", "share of pairs of friends who are friends themselves (sample mean)",
            unit="share", kind="measure", section="network", meta=NATIONAL,
        ),
    )  # fmt: skip
    after = shunning_after

    @property
    def reads_public(self) -> bool:
        return any(t != "sanctioned" for t in self.params.triggers)

    def init(self) -> None:
        sim, p = self.sim, self.params
        wide, self.rev = widen(sim.graph, p.spare_slots)
        sim.replace_graph(wide)
        n = sim.n
        self.degree = np.empty(n, dtype=np.int32)
        K.active_degrees(sim.graph.indptr, sim.graph.active, self.degree)
        self.hurt = np.zeros(n, dtype=np.uint8)
        self.proposal = np.empty(n, dtype=np.int64)
        self.pool = np.zeros(n, dtype=np.float64)
        self.trigger = np.uint8(sum(int(TRIGGERS[t]) for t in p.triggers))
        region = sim.people.fields.get("region")
        contiguous = region is not None and bool(np.all(region[1:] >= region[:-1]))
        if contiguous:
            self.region_start = np.searchsorted(region, np.arange(int(region[-1]) + 2)).astype(
                np.int64
            )
            self.cand_region = region
        else:  # candidates from anywhere
            self.region_start = np.array([0, n], dtype=np.int64)
            self.cand_region = np.zeros(1, dtype=np.uint16)
        self.measured = np.zeros(len(NETWORK_MEASURES))
        self._none = np.zeros(1, dtype=np.uint8)

    def kernel_values(self, day: int) -> dict:
        return {"hurt": self.hurt, "trigger": self.trigger}

    def release(self) -> None:
        """Also drop ``rev``, a slot per tie slot of the network (``Sim.release_network``)."""
        super().release()
        self.rev = None

    def finish(self, day: int) -> None:
        """Cut and form ties, then complete the day's records (the kernels count straight
        into the day's record table, at this module's columns)."""
        sim, p, g = self.sim, self.params, self.sim.graph
        col = self.column
        region = sim.region if sim.region is not None else np.zeros(1, dtype=np.uint16)
        rec = sim.day_records(day)
        rec[:, [col(r.name) for r in self.records]] = 0.0
        if p.cut_prob > 0:
            key = self.day_key("cut", day)
            public = sim.published_flags(yesterday=True)
            K.mark_cuts(
                key, g.indptr, g.indices, g.active, self.hurt,
                sim.published_scores(yesterday=True),
                public if public is not None else self._none, self.trigger, p.cut_prob,
            )  # fmt: skip
            K.apply_cuts(
                g.indptr, g.indices, g.active, self.rev, self.hurt, self.degree, region, rec,
                col("ties_cut"),
            )  # fmt: skip
        if p.form_rate > 0 and p.spare_slots > 0:
            self._form(day, region, rec)
        listed = sim.people.fields.get("listed", self._none)
        K.degree_records(
            self.degree, listed, region, rec, col("tie_ends"), col("isolated"),
            col("listed_ties"), col("listed_citizens"), col("unlisted_ties"),
            col("unlisted_citizens"),
        )  # fmt: skip
        if day % p.measure_every == 0 or day == sim.days - 1:
            stride = -(-sim.n // p.clustering_sample)
            count, largest = components(g.indptr, g.indices, g.active)
            clustering = mean_clustering(g.indptr, g.indices, g.active, stride)
            self.measured[:] = (count, largest, clustering)
        rec[0, col("active_ties")] = rec[:, col("tie_ends")].sum() / 2
        for name, value in zip(NETWORK_MEASURES, self.measured, strict=True):
            rec[0, col(name)] = value

    def _form(self, day: int, region: np.ndarray, rec: np.ndarray) -> None:
        sim, p, g = self.sim, self.params, self.sim.graph
        lo, hi = sim.score_range
        keys = np.array([self.day_key("form", day), self.day_key("candidate", day)])
        seeking = p.score_seeking if p.visible else 0.0
        knobs = np.array([p.form_rate, p.candidates, seeking, lo, hi], dtype=np.float64)
        candidates = np.zeros((-(-sim.n // BLOCK), sim.n_regions), dtype=np.float64)
        packed = sim.published_scores()
        public = sim.published_flags()
        public = public if public is not None else self._none
        K.propose(
            keys, knobs, g.indptr, g.indices, g.active, self.degree, p.spare_slots, packed,
            public, self.trigger, self.cand_region, self.region_start, self.proposal, self.pool,
            candidates,
        )  # fmt: skip
        col = self.column("candidates")
        for b in range(candidates.shape[0]):  # block order: the same sums for any thread count
            rec[:, col] += candidates[b]
        layer = g.layer if g.layer is not None else self._none[:0]
        K.form_ties(
            self.proposal, self.pool, g.indptr, g.indices, g.active, self.rev, layer, FRIENDS,
            self.degree, p.spare_slots, packed, region, rec, self.column("ties_formed"),
            self.column("new_friend_score_sum"), self.column("pool_score_sum"),
        )  # fmt: skip

    def isolation(self) -> np.ndarray:
        """Per day: listed citizens' mean active ties over unlisted citizens' (nan if none)."""
        sim = self.sim
        with np.errstate(invalid="ignore", divide="ignore"):
            listed = sim.record("listed_ties") / sim.record("listed_citizens")
            others = sim.record("unlisted_ties") / sim.record("unlisted_citizens")
            return listed / others
