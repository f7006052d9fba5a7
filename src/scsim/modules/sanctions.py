"""Sanctions (mission row 13): tiers of restrictions on the listed, their families and jobs.

Seed 004: citizens "will be unable to travel via plane or train for up to a year". Seed 002:
punishments "are also believed to include slowing internet speeds, reducing access to good
schools for individuals or their children, banning people from certain jobs, preventing
booking at certain hotels and losing the right to own pets"; seed 003: barred "from serving in
certain high-status and influential positions, like government official, reporter, CEO,
statistician".

A tier is a sanction with a trigger and a duration: its trigger is the blacklist (``lists``'
``listed``) or a score below ``threshold``. A citizen whose trigger holds on day t and who does
not hold the tier's sanction that day gets it for ``days`` days: held on day t iff
``until > t`` (SC-core's travel ban, ``ban_days``). A ``family`` tier also falls on the
school-age children (``school_age_min``..``school_age_max`` from population's ``age``, else
role ``child``) of a household with a member whose trigger held at the end of yesterday (seed
002: "reducing access to good schools for individuals or their children"). A ``visible`` tier
publishes the ``SANCTIONED`` flag friends see (the friend penalty). Listed citizens working in an
occupation the population module marks ``barred_when_listed`` are counted (seed 003).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

import numpy as np
from numba import njit, prange
from pydantic import Field, model_serializer, model_validator

from scsim.days import DAY
from scsim.kernels.waiting import day_at
from scsim.modules.population_tables import MAX_HOUSEHOLD, ROLE_CHILD
from scsim.params import ModuleParams, Name, Strict
from scsim.protocol import SANCTIONED, Module, PerAgent, Record, Scalar, Table, emit

MAX_TIERS = 8
"""Tiers held by a citizen are a uint8 bit mask."""

MAX_DAYS = np.uint16(65535)
"""Per-tier days held saturate here."""

GROUPS = ("imposed", "family")
"""A tier may not take these names: ``sanction_<name>`` would name a group of records."""


class Tier(Strict):
    fixed = {
        "name": "a tier's name names its record columns",
        "family": "family tiers keep household state from day 0",
    }

    name: Name = Field(description="the sanction (travel, internet, hotels, pets, schools ...)")
    trigger: Literal["blacklist", "score_below"] = Field(
        default="blacklist", description="imposed on the blacklisted, or below a score"
    )
    threshold: Annotated[float, Field(ge=0, le=100_000)] | None = Field(
        default=None, description="score below which the sanction is imposed (score_below)"
    )
    days: int = Field(
        default=365, ge=1, le=36500, description="duration (seed 004: travel bans up to a year)"
    )
    family: bool = Field(
        default=False,
        description="also imposed on the school-age children of the household (seed 002)",
    )
    visible: bool = Field(
        default=True, description="friends see it (SANCTIONED flag, the friend penalty)"
    )
    while_triggered: bool = Field(
        default=False,
        description="the sanction is lifted the day its trigger stops holding (delisted, or "
        "no listed household member for a family tier), before its days run out (the SPC's "
        "restrictions end when a defaulter leaves the list); false: it runs its days",
    )

    @model_validator(mode="after")
    def _free_name(self) -> Tier:
        if self.name in GROUPS:
            raise ValueError(
                f"the name {self.name!r} is reserved: sanction_{self.name} names the records of "
                "every tier; choose another name"
            )
        return self

    @model_validator(mode="after")
    def _threshold(self) -> Tier:
        if self.trigger == "score_below" and self.threshold is None:
            raise ValueError("threshold is required when trigger is score_below")
        if self.trigger == "blacklist" and self.threshold is not None:
            raise ValueError("threshold applies only with trigger: score_below")
        return self


class SanctionsParams(ModuleParams):
    fixed = {
        "school_age_min": "school-age children are found once, before day 0",
        "school_age_max": "school-age children are found once, before day 0",
        "bar_jobs": "it adds a record column",
    }

    ban_days: int = Field(
        default=365,
        ge=1,
        le=36500,
        description="length of a flight and train ban (seed 004); the single 'travel' tier "
        "used when tiers is not given",
    )
    tiers: list[Tier] | None = Field(
        default=None,
        min_length=1,
        max_length=MAX_TIERS,
        description="sanction tiers; default: one visible 'travel' tier on the blacklist "
        "lasting ban_days (SC-core)",
    )
    school_age_min: int = Field(
        default=6, ge=0, le=30, description="youngest school-age child (China: school from 6)"
    )
    school_age_max: int = Field(
        default=17,
        ge=0,
        le=30,
        description="oldest school-age child (end of senior secondary school)",
    )
    bar_jobs: bool = Field(
        default=True,
        description="count listed citizens in occupations barred to them (seed 003; needs the "
        "population module)",
    )

    @model_validator(mode="after")
    def _consistent(self) -> SanctionsParams:
        if self.tiers is not None:
            if "ban_days" in self.model_fields_set:
                raise ValueError("give ban_days (a single travel tier) or tiers, not both")
            names = [t.name for t in self.tiers]
            for name in names:
                if names.count(name) > 1:
                    raise ValueError(f"tiers: the name {name!r} is used more than once")
        if self.school_age_max < self.school_age_min:
            raise ValueError(
                f"school_age_max ({self.school_age_max}) must be >= school_age_min "
                f"({self.school_age_min})"
            )
        return self

    @model_serializer(mode="wrap")
    def _without_unused_ban_days(self, handler) -> dict[str, Any]:
        """With tiers, ban_days is unused: leave it out so a dump validates again (timeline)."""
        data = handler(self)
        if self.tiers is not None:
            data.pop("ban_days", None)
        return data

    def tier_list(self) -> list[Tier]:
        """The tiers as run (the default travel tier when none are given)."""
        if self.tiers is not None:
            return list(self.tiers)
        return [Tier(name="travel", days=self.ban_days)]


@njit(inline="always", cache=True)
def sanctions_after(
    a, score, rec, ev, listed, sanction_until, sanction_days, sanctions_held, sanctions_family,
    fam_hit, school_age, occupation, barred, tier_days, by_list, below, family, visible, fam_col,
    max_below, any_family, jobs_on, jobs_col, lift, col_banned, col_newly_banned, col_sanction,
    col_sanction_imposed, kind_imposed, kind_lifted, kind_family,
):  # fmt: skip
    i = a.i
    day = a.day
    lst = listed[i]
    fam = np.int64(fam_hit[i]) if any_family else np.int64(0)
    mask = np.int64(sanctions_held[i])
    # An agent neither listed, below a score trigger, in a listed household, nor holding a
    # sanction since yesterday has nothing to change or count (most agents, SC-core).
    if not (lst or score < max_below or fam != 0 or mask != 0):
        return np.uint8(0)
    fmask = np.int64(sanctions_family[i]) if any_family else np.int64(0)
    new_fmask = fmask
    new_mask = np.int64(0)
    child = any_family and school_age[i]
    imposed = False
    out = np.uint8(0)
    for t in range(tier_days.size):
        bit = np.int64(1) << t
        own = lst if by_list[t] else score < below[t]
        via = (not own) and family[t] and child and (fam & bit) != 0
        u = sanction_until[t, i]
        if lift[t] and u > day and not (own or via):  # the trigger ended: lifted today
            u = day_at(day)
            sanction_until[t, i] = u
        if (own or via) and u <= day:
            u = day_at(day + tier_days[t])
            sanction_until[t, i] = u
            imposed = True
            rec[a.region, col_sanction_imposed + t] += 1.0
            if via:
                new_fmask |= bit
                emit(ev, a, kind_family, t, 0.0, -1)
            else:
                new_fmask &= ~bit
                emit(ev, a, kind_imposed, t, 0.0, -1)
        if u > day:
            new_mask |= bit
            rec[a.region, col_sanction + t] += 1.0
            if (new_fmask & bit) != 0:
                rec[a.region, fam_col[t]] += 1.0
            d = sanction_days[t, i]
            if d < MAX_DAYS:
                sanction_days[t, i] = d + np.uint16(1)
            if visible[t] and u > day + 1:
                out = SANCTIONED
        elif (mask & bit) != 0:  # held yesterday, not today
            new_fmask &= ~bit
            emit(ev, a, kind_lifted, t, 0.0, -1)
    if new_mask != 0:
        rec[a.region, col_banned] += 1.0
    if imposed:
        rec[a.region, col_newly_banned] += 1.0
    if new_mask != mask:
        sanctions_held[i] = np.uint8(new_mask)
    if new_fmask != fmask:
        sanctions_family[i] = np.uint8(new_fmask)
    if jobs_on and lst and barred[occupation[i]]:
        rec[a.region, jobs_col] += 1.0
    return out


@njit(parallel=True, cache=True)
def household_hits(households, starts, school_age, listed, packed, tiers, by_list, below, out):
    """``out[i]`` bit t, for each school-age ``i`` of ``households``: a member of i's
    household met family tier t's trigger at the end of the day (``tiers``: the family tiers;
    households are the contiguous id ranges ``starts[h]..starts[h + 1]``). Only a school-age
    citizen's bits are read, so only households with one are visited."""
    for k in prange(households.size):
        h = households[k]
        lo, hi = starts[h], starts[h + 1]
        m = np.uint8(0)
        for j in range(lo, hi):
            for t in tiers:
                if listed[j] if by_list[t] else abs(packed[j]) < below[t]:
                    m |= np.uint8(1 << t)
        for j in range(lo, hi):
            if school_age[j] and out[j] != m:
                out[j] = m


class Sanctions(Module):
    """Sanction tiers on the blacklisted, below thresholds, and on their children; see the
    module docstring and docs/odd_sanctions.md."""


    name = "sanctions"
    phase = "sanctions"
    reach = "own"  # and, with family tiers, household members (ghosts)
    after = sanctions_after
    events = ("imposed", "lifted", "family")
    requires = ("lists",)
    fields = (
        PerAgent("listed", np.bool_, doc="on the blacklist (lists module)"),
        PerAgent("sanction_until", DAY, fill=-1, rows="tier_names", doc="held iff > day"),
        PerAgent("sanction_days", np.uint16, fill=0, rows="tier_names", doc="days held"),
        PerAgent("sanctions_held", np.uint8, fill=0, doc="bit t: holds tier t today"),
        PerAgent("sanctions_family", np.uint8, optional=True, doc="bit t: held via the family"),
        PerAgent("fam_hit", np.uint8, optional=True, doc="bit t: the household met t's trigger"),
        PerAgent("school_age", np.bool_, optional=True, doc="a school-age child"),
        PerAgent("occupation", np.uint8, optional=True, doc="occupation (population module)"),
        Table("barred", np.bool_, doc="occupations barred to the listed, by code"),
        Table("tier_days", np.int64, doc="each tier's duration"),
        Table("by_list", np.bool_, doc="each tier's trigger is the blacklist"),
        Table("below", np.float32, doc="each tier's score threshold (-1: none)"),
        Table("family", np.bool_, doc="each tier also falls on school-age children"),
        Table("visible", np.bool_, doc="each tier sets the SANCTIONED flag"),
        Table("fam_col", np.int64, doc="each tier's sanction_<name>_family column (-1: none)"),
        Scalar("max_below", np.float32, doc="the highest threshold"),
        Scalar("any_family", np.bool_, doc="family tiers fall on someone"),
        Scalar("jobs_on", np.bool_, doc="barred jobs are counted"),
        Scalar("jobs_col", np.int64, doc="the barred_from_job column (-1: none)"),
        Table("lift", np.bool_, doc="each tier is lifted when its trigger ends"),
    )

    def __init__(self, params: SanctionsParams, sim) -> None:
        super().__init__(params, sim)
        self.tiers = params.tier_list()
        self.jobs_on = False

    def ghosts(self, lo: int, hi: int) -> np.ndarray:
        """With family tiers, the members beyond ``[lo, hi)`` of the households it cuts:
        ``finish`` reads every member's listing and score (households are id ranges)."""
        if not self.any_family:
            return super().ghosts(lo, hi)
        first = self.starts[np.searchsorted(self.starts, lo, side="right") - 1]
        last = self.starts[np.searchsorted(self.starts, hi - 1, side="right")]
        return np.r_[first:lo, hi:last].astype(np.int64)

    def rebuilt_arrays(self) -> list[np.ndarray]:
        """With family tiers, ``fam_hit``: over MPI ranks each one's ``finish`` gets it right
        for its own households (their members' listing and score come with the halo)."""
        return [self.fam_hit] if self.any_family else []

    @property
    def tier_names(self) -> tuple[str, ...]:
        return tuple(t.name for t in self.tiers)

    @property
    def causes(self) -> tuple[str, ...]:
        return self.tier_names

    @property
    def records(self) -> tuple[Record, ...]:
        """banned, newly_banned, then a group per kind of count: each tier held, imposed, on
        family members (family tiers only), then barred_from_job."""
        held, imposed, family = [], [], []
        for t in self.tiers:
            name, what = f"sanction_{t.name}", t.name.replace("_", " ")
            on = {"section": "sanctions", "meta": {"tier": t.name}}
            held.append(Record(name, f"citizens banned: {what}", group="sanction", **on))
            label = f"citizens newly banned: {what}"
            imposed.append(
                Record(f"{name}_imposed", label, kind="flow", group="sanction_imposed", **on)
            )
            if t.family:
                label = f"children banned for a relative: {what}"
                family.append(Record(f"{name}_family", label, group="sanction_family", **on))
        jobs = Record(
            "barred_from_job", "blacklisted citizens in a barred job", section="sanctions"
        )
        return (
            Record("banned", "citizens under any sanction", section="sanctions", headline=True),
            Record("newly_banned", "citizens newly sanctioned", kind="flow", section="sanctions"),
            *held,
            *imposed,
            *family,
            *((jobs,) if self.jobs_on else ()),
        )

    def init(self) -> None:
        self.family = np.array([t.family for t in self.tiers], dtype=np.bool_)
        self.refresh()
        self._init_family(self.sim.people)
        self._init_jobs(self.sim.people)

    def refresh(self) -> None:
        """Durations, triggers, thresholds and visibility from the parameters in force."""
        tiers = self.tiers = self.params.tier_list()
        self.tier_days = np.array([t.days for t in tiers], dtype=np.int64)
        self.by_list = np.array([t.trigger == "blacklist" for t in tiers], dtype=np.bool_)
        self.below = np.array(
            [t.threshold if t.threshold is not None else -1.0 for t in tiers], dtype=np.float32
        )
        self.visible = np.array([t.visible for t in tiers], dtype=np.bool_)
        self.lift = np.array([t.while_triggered for t in tiers], dtype=np.bool_)
        self.max_below = np.float32(self.below.max())

    def _init_family(self, people) -> None:
        """School-age children and the households (id ranges) of this process's citizens:
        everyone's, or an MPI rank's own (``people.own``; their households lie within
        MAX_HOUSEHOLD of them)."""
        p, n, (lo, hi) = self.params, self.sim.n, people.own
        first, last = people.around(MAX_HOUSEHOLD)
        household = people.fields.get("household")
        age, role = people.fields.get("age"), people.fields.get("role")
        school = None
        if age is not None or role is not None:
            school = people.empty(np.bool_)
            near = slice(first, last)
            if age is not None:
                school[near] = (age[near] >= p.school_age_min) & (age[near] <= p.school_age_max)
            else:
                school[near] = role[near] == ROLE_CHILD
        children = 0 if school is None else np.count_nonzero(school[lo:hi])
        children = self.sim.add_over_ranks(np.array([children], dtype=np.int64))[0]
        self.any_family = bool(self.family.any() and household is not None and children > 0)
        if not self.any_family:  # the family state is absent (one-element stand-ins)
            return
        self.school_age = school
        people.add("sanctions_family", np.zeros(n, dtype=np.uint8))
        self.fam_hit = np.zeros(n, dtype=np.uint8)  # school-age citizens' rebuilt daily
        self.starts = starts = people.own_households(MAX_HOUSEHOLD)
        with_child = np.add.reduceat(school[: starts[-1]], starts[:-1]) > 0 if hi > lo else []
        self.with_child = np.flatnonzero(with_child).astype(np.int64)
        self.family_tiers = np.flatnonzero(self.family).astype(np.int64)

    def _init_jobs(self, people) -> None:
        occupation = people.fields.get("occupation")
        barred = None
        if any(m.name == "population" for m in self.sim.modules):
            barred = getattr(self.sim.module("population"), "barred_occupations", None)
        self.jobs_on = bool(self.params.bar_jobs and occupation is not None and barred is not None)
        self.barred = np.zeros(256 if self.jobs_on else 1, dtype=np.bool_)
        if self.jobs_on:  # any uint8 code indexes safely
            self.barred[: len(barred)] = barred

    def kernel_values(self, day: int) -> dict:
        fam_col = [self.column(f"sanction_{t.name}_family") if t.family else -1 for t in self.tiers]
        values = {
            "barred": self.barred, "tier_days": self.tier_days, "by_list": self.by_list,
            "below": self.below, "family": self.family, "visible": self.visible,
            "fam_col": np.array(fam_col, dtype=np.int64), "max_below": self.max_below,
            "any_family": self.any_family, "jobs_on": self.jobs_on,
            "jobs_col": self.column("barred_from_job") if self.jobs_on else -1, "lift": self.lift,
        }  # fmt: skip
        if self.any_family:
            values |= {"fam_hit": self.fam_hit, "school_age": self.school_age}
        return values

    def finish(self, day: int) -> None:
        """Which households have a member meeting a family tier's trigger (read tomorrow)."""
        if self.any_family:
            sim = self.sim
            household_hits(
                self.with_child, self.starts, self.school_age, sim.people.listed,
                sim.published_scores(), self.family_tiers, self.by_list, self.below, self.fam_hit,
            )  # fmt: skip
