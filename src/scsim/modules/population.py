"""Population (mission rows 1 and 20): who the synthetic citizens are.

Adds to ``sim.people``: ``region`` and ``household`` (unless the network already assigned
them), ``role``, ``age``, ``sex``, ``education``, ``occupation``, ``income``, ``enrolled`` and
five behavioural traits. Initialisation only: no hooks, no records. The model, its sources and
its assumptions are in ``docs/odd_population.md`` and ``scsim/data/regions/SOURCES.md``; the
kernels are in ``population_kernels.py``, codes and region tables in ``population_tables.py``.
"""

from __future__ import annotations

import numpy as np
from pydantic import Field, field_validator, model_validator

from scsim.modules import population_kernels as K
from scsim.modules.population_tables import (
    EDUCATION_NAMES,
    MAX_AGE,
    MAX_HOUSEHOLD,
    RESERVED_OCCUPATIONS,
    education_draw_shares,
    load_region_table,
    region_table_names,
)
from scsim.network.regional import region_sizes
from scsim.params import ModuleParams, Name, Probability, Strict
from scsim.protocol import Module

TRAITS = ("dissent", "conformity", "risk_aversion", "sociability", "thrift")
"""Behavioural traits in [0, 1], one float32 field each."""


class Beta(Strict):
    """A trait drawn once per citizen from Beta(a, b) (mean a / (a + b))."""

    a: float = Field(gt=0, le=1000, description="first shape parameter")
    b: float = Field(gt=0, le=1000, description="second shape parameter")

    def mean(self) -> float:
        return self.a / (self.a + self.b)


class AgeBand(Strict):
    below: int = Field(ge=1, le=MAX_AGE + 1, description="ages below this (and >= the last band)")
    share: float = Field(ge=0, le=100, description="share of the population (any unit)")


class EducationShares(Strict):
    """Highest level attained by adults (18+), shares in any unit, in code order."""

    none: float = Field(default=4.6, ge=0)
    primary: float = Field(default=22.0, ge=0)
    junior_secondary: float = Field(default=39.0, ge=0)
    senior_secondary: float = Field(default=14.6, ge=0)
    tertiary: float = Field(default=19.7, ge=0)

    @model_validator(mode="after")
    def _some(self) -> EducationShares:
        if sum(getattr(self, k) for k in EDUCATION_NAMES) <= 0:
            raise ValueError("expected at least one education share > 0")
        return self


class Occupation(Strict):
    name: Name
    share: float = Field(ge=0, le=1, description="share of the employed (normalised)")
    income_multiplier: float = Field(gt=0, le=100, description="median income x this")
    barred_when_listed: bool = Field(default=False, description="closed to blacklisted people")
    min_education: int = Field(default=0, ge=0, le=4, description="lowest education code")
    rural: bool = Field(default=False, description="share scales with the region's rural share")


def _occ(name, share, mult, barred=False, min_edu=0, rural=False) -> Occupation:
    return Occupation(
        name=name, share=share, income_multiplier=mult, barred_when_listed=barred,
        min_education=min_edu, rural=rural,
    )  # fmt: skip


def default_occupations() -> list[Occupation]:
    """Employment by sector 2020 (NBS: primary 23.6 %, secondary 28.7 %, tertiary 47.7 %);
    the barred jobs of seeds 002-004 carved out of the tertiary share. See SOURCES.md."""
    return [
        _occ("farmer", 0.236, 0.50, rural=True),
        _occ("worker", 0.287, 0.85),
        _occ("service", 0.3387, 0.75),
        _occ("professional", 0.10, 1.30, min_edu=4),
        _occ("official", 0.0095, 1.07, barred=True, min_edu=3),
        _occ("reporter", 0.0003, 1.15, barred=True, min_edu=4),
        _occ("company_head", 0.028, 2.00, barred=True, min_edu=2),
        _occ("statistician", 0.0005, 1.07, barred=True, min_edu=4),
    ]


def default_age_bands() -> list[AgeBand]:
    """2020 census: 0-14 17.95 %, 15-59 63.35 %, 60-64 5.20 %, 65-79 10.96 %, 80+ 2.54 %."""
    bands = ((15, 17.95), (60, 63.35), (65, 5.20), (80, 10.96), (MAX_AGE + 1, 2.54))
    return [AgeBand(below=b, share=s) for b, s in bands]


class PopulationParams(ModuleParams):
    fixed = {"*": "the population is generated once, before day 0"}

    regions: str = Field(default="china", description="shipped region table (data/regions)")
    household_mean: float = Field(
        default=2.62, ge=1, le=8, description="mean household size when the network assigns "
        "none (China, 2020 census: 2.62)",
    )  # fmt: skip
    spouse_share: Probability = Field(
        default=0.8, description="households of 2+ where the head lives with a spouse"
    )
    parents_share: Probability = Field(
        default=0.15, description="households with room where a parent of the head lives"
    )
    other_share: Probability = Field(
        default=0.1, description="non-head members who are not spouse, child or parent"
    )
    grandchild_share: Probability = Field(
        default=0.4, description="other members of a head aged 50+ who are grandchildren"
    )
    age_bands: list[AgeBand] = Field(default_factory=default_age_bands, min_length=1)
    male_share: Probability = Field(default=0.5124, description="2020 census: 51.24 %")
    education: EducationShares = Field(default_factory=EducationShares)
    tertiary_enrolment: Probability = Field(
        default=0.544, description="share of 18-22 year-olds studying (2020 gross rate: 54.4 %)"
    )
    employment_rate: Probability = Field(
        default=0.85, description="employed share of adults below retirement, not studying"
    )
    retirement_age_male: int = Field(default=60, ge=18, le=MAX_AGE + 1)
    retirement_age_female: int = Field(default=55, ge=18, le=MAX_AGE + 1)
    occupations: list[Occupation] = Field(
        default_factory=default_occupations, min_length=1, max_length=253
    )
    income_median: float = Field(
        default=4000.0, gt=0, le=1e7, description="monthly yuan, multiplier 1, income level 1"
    )
    income_sigma: float = Field(default=0.6, ge=0, le=3, description="sd of log income")
    pension_multiplier: float = Field(default=0.5, ge=0, le=100, description="retirees' multiplier")
    enrolled_share: Probability = Field(default=1.0, description="citizens enrolled in the system")
    dissent: Beta = Field(default_factory=lambda: Beta(a=1.0, b=9.0))
    conformity: Beta = Field(default_factory=lambda: Beta(a=5.0, b=2.0))
    risk_aversion: Beta = Field(default_factory=lambda: Beta(a=3.0, b=2.0))
    sociability: Beta = Field(default_factory=lambda: Beta(a=2.0, b=2.0))
    thrift: Beta = Field(default_factory=lambda: Beta(a=4.0, b=3.0))

    @field_validator("regions")
    @classmethod
    def _known_table(cls, name: str) -> str:
        if name not in region_table_names():
            names = ", ".join(region_table_names())
            raise ValueError(f"expected one of the shipped region tables: {names}")
        return name

    @field_validator("age_bands")
    @classmethod
    def _bands(cls, bands: list[AgeBand]) -> list[AgeBand]:
        tops = [b.below for b in bands]
        if any(b >= c for b, c in zip(tops, tops[1:], strict=False)) or tops[-1] != MAX_AGE + 1:
            raise ValueError(f"expected 'below' increasing, the last band below {MAX_AGE + 1}")
        if sum(b.share for b in bands if b.below > 20) <= 0:  # heads are adults
            raise ValueError("expected a share > 0 for some band above age 20")
        return bands

    @field_validator("occupations")
    @classmethod
    def _catalogue(cls, occupations: list[Occupation]) -> list[Occupation]:
        names = [o.name for o in occupations]
        clash = [n for n in names if n in RESERVED_OCCUPATIONS or names.count(n) > 1]
        if clash:
            raise ValueError(f"{clash[0]!r}: expected unique names other than none/student/retired")
        if sum(o.share for o in occupations) <= 0:
            raise ValueError("expected at least one occupation share > 0")
        return occupations


class Population(Module):
    """Generates the citizens once, before day 0; see the module docstring."""
    reach = "own"

    name = "population"
    phase = "behaviour"
    makes_people = True

    def __init__(self, params: PopulationParams, sim) -> None:
        super().__init__(params, sim)
        t = load_region_table(params.regions)
        self.region_names: np.ndarray = t["name"]
        self.region_share: np.ndarray = t["share"]
        self.urban_share: np.ndarray = t["urban_share"]
        self.income_level: np.ndarray = t["income_level"]
        self.camera_density: np.ndarray = t["camera_density"]
        occs = params.occupations
        self.occupation_names: tuple[str, ...] = RESERVED_OCCUPATIONS + tuple(o.name for o in occs)
        self.barred_occupations = np.array(
            [False] * K.FIRST_CODE + [o.barred_when_listed for o in occs], dtype=np.bool_
        )
        self.male_draw_share = float(params.male_share)

    def region_table(self) -> dict[str, np.ndarray]:
        """The region table by region id: name, share, urban_share, income_level,
        camera_density (relative; national or city mean 1)."""
        return {
            "name": self.region_names, "share": self.region_share,
            "urban_share": self.urban_share, "income_level": self.income_level,
            "camera_density": self.camera_density,
        }  # fmt: skip

    def occupation_cdf(self) -> np.ndarray:
        """Cumulative catalogue shares by region (rows) for the employed: rural occupations
        scale by the region's rural share relative to the table's mean rural share."""
        occs = self.params.occupations
        share = np.array([o.share for o in occs])
        rural = np.array([o.rural for o in occs])
        mean_rural = 1.0 - float(self.region_share @ self.urban_share)
        factor = (
            (1.0 - self.urban_share) / mean_rural
            if mean_rural > 0
            else np.ones_like(self.urban_share)
        )
        w = np.where(rural[None, :], share[None, :] * factor[:, None], share[None, :])
        w[w.sum(axis=1) <= 0] = share  # a fully urban region with only rural jobs: no scaling
        cdf = np.cumsum(w / w.sum(axis=1, keepdims=True), axis=1)
        cdf[:, -1] = 1.0
        return cdf

    def init(self) -> None:
        people = self.sim.people
        region, household, fill = self._regions_and_households(people)
        role, age, sex = self._families(household, fill)
        occupation, income, enrolled = self._work(age, sex, region, fill)
        education = self._schooling(age, occupation, fill)
        for name, values in (
            ("role", role), ("age", age), ("sex", sex), ("education", education),
            ("occupation", occupation), ("income", income), ("enrolled", enrolled),
        ):  # fmt: skip
            people.add(name, values)
        for trait in TRAITS:
            dist = getattr(self.params, trait)
            values = people.empty(np.float32)
            lo, hi = people.own
            K.beta_fill(self.day_key(f"trait.{trait}", 0), dist.a, dist.b, values, lo, hi)
            people.add(trait, values)

    def _regions_and_households(self, people) -> tuple[np.ndarray, np.ndarray, tuple[int, int]]:
        """Region and household of every citizen (``_region``, ``_household``), and the
        citizens the other fields are drawn for: everyone, or on an MPI rank that keeps only
        its own citizens, theirs and the other members of their households (households are
        id ranges of at most MAX_HOUSEHOLD, so a module reading a household finds it whole)."""
        if people.kept is None:
            region = self._region(people)
            return region, self._household(people, region), (0, people.n)
        if "region" in people.fields or "household" in people.fields:
            raise ValueError("population: a rank keeping its own citizens cuts the households")
        (lo, hi), cut = people.own, people.around(2 * MAX_HOUSEHOLD)
        ends = np.cumsum(region_sizes(people.n, self.region_share))
        household = people.empty(np.uint32)
        K.cut_households(self.day_key("household_size", 0), self.params.household_mean - 1.0,
                         ends, *cut, household)  # fmt: skip
        first, last = lo, hi  # widened to the households of citizens lo and hi - 1
        while lo < hi and first > cut[0] and household[first - 1] == household[lo]:
            first -= 1
        while lo < hi and last < cut[1] and household[last] == household[hi - 1]:
            last += 1
        region = people.empty(np.uint16)
        region[first:last] = np.searchsorted(ends, np.arange(first, last), side="right")
        return people.add("region", region), people.add("household", household), (first, last)

    def _families(self, household: np.ndarray, fill: tuple[int, int]) -> tuple[np.ndarray, ...]:
        """Role, age and sex of the citizens ``fill`` (``roles`` then ``ages_and_sexes``)."""
        p, people = self.params, self.sim.people
        order = (
            np.empty(0, dtype=np.int64) if K.nondecreasing(household[fill[0] : fill[1]])
            else np.argsort(household, kind="stable")
        )  # fmt: skip
        tops = np.array([b.below for b in p.age_bands], dtype=np.float64)
        shares = np.array([b.share for b in p.age_bands], dtype=np.float64)
        edges = np.concatenate([[0.0], tops])
        cdf = np.concatenate([[0.0], np.cumsum(shares) / shares.sum()])
        cdf[-1] = 1.0
        kin = np.array([p.spouse_share, p.parents_share, p.other_share, p.grandchild_share])
        hkey = self.day_key("household", 0)
        role = people.empty(np.uint8)
        paired = K.roles(
            household, order, hkey, self.day_key("other", 0), kin, edges, cdf, role, fill,
            people.own,
        )  # fmt: skip
        # a couple is one man and one woman; everyone else is male with the share that makes
        # the expected share of men ``male_share``
        c = int(self.sim.add_over_ranks(np.array([paired], dtype=np.int64))[0]) / people.n
        if c < 1:
            self.male_draw_share = min(max((p.male_share - c / 2) / (1 - c), 0.0), 1.0)
        keys = np.array([hkey, self.day_key("age", 0), self.day_key("sex", 0)], dtype=np.uint64)
        age = people.empty(np.uint8)
        sex = people.empty(np.uint8)
        K.ages_and_sexes(
            household, order, role, keys, kin, self.male_draw_share, edges, cdf, age, sex, fill
        )
        return role, age, sex

    def _work(self, age, sex, region, fill: tuple[int, int]) -> tuple[np.ndarray, ...]:
        """Occupation, monthly income and enrolment of the citizens ``fill`` (``work``)."""
        p, people = self.params, self.sim.people
        tables = (
            self.occupation_cdf(),
            np.array([o.income_multiplier for o in p.occupations], dtype=np.float64),
            self.income_level.astype(np.float64),
        )
        knobs = np.array([
            p.tertiary_enrolment, p.employment_rate, p.pension_multiplier, p.income_median,
            p.income_sigma, p.retirement_age_male, p.retirement_age_female, p.enrolled_share,
        ], dtype=np.float64)  # fmt: skip
        keys = np.array([self.day_key(s, 0) for s in ("occupation", "income", "enrolled")])
        occupation = people.empty(np.uint8)
        income = people.empty(np.float32)
        enrolled = people.empty(np.bool_)
        K.work(age, sex, region, keys, tables, knobs, occupation, income, enrolled, fill)
        return occupation, income, enrolled

    def _schooling(self, age, occupation, fill: tuple[int, int]) -> np.ndarray:
        """Education of the citizens ``fill``: by age for pupils; for adults from the shares
        that make the adults' expected shares the scenario's (every citizen's), given their
        occupations' minimum levels."""
        p, people = self.params, self.sim.people
        floor_of = np.array(
            [0] * K.FIRST_CODE + [o.min_education for o in p.occupations], dtype=np.uint8
        )
        target = np.array([getattr(p.education, k) for k in EDUCATION_NAMES], dtype=np.float64)
        floors = self.sim.add_over_ranks(K.floor_counts(age, occupation, floor_of, *people.own))
        self.education_draw_shares = education_draw_shares(target, floors)
        cdf = np.cumsum(self.education_draw_shares)
        cdf[-1] = 1.0
        education = people.empty(np.uint8)
        K.schooling(age, occupation, floor_of, self.day_key("education", 0), cdf, education, fill)
        return education

    def _region(self, people) -> np.ndarray:
        """The network's regions if it assigned them (checked against the table), else
        contiguous id ranges sized by the table's shares (``region_sizes``)."""
        n, count = people.n, self.region_share.size
        if "region" not in people.fields:
            sizes = region_sizes(n, self.region_share)
            return people.add("region", np.repeat(np.arange(count, dtype=np.uint16), sizes))
        region = people.region
        top = int(region.max())
        if top >= count or region_sizes(n, self.region_share)[top + 1 :].sum() > 0:
            raise ValueError(
                f"modules.population.regions: table {self.params.regions!r} has {count} "
                f"regions but the network assigned {top + 1}; set network.region_shares to the "
                f"table's shares (scsim.modules.population_tables.region_shares)"
            )
        return region

    def _household(self, people, region: np.ndarray) -> np.ndarray:
        """The network's households if it assigned them, else consecutive id blocks of size
        1 + Poisson(household_mean - 1), capped at 8, cut at region boundaries."""
        if "household" in people.fields:
            return people.household
        household = np.empty(people.n, dtype=np.uint32)
        ends = np.append(np.flatnonzero(np.diff(region)) + 1, people.n)  # region runs
        K.cut_households(self.day_key("household_size", 0), self.params.household_mean - 1.0,
                         ends, 0, people.n, household)  # fmt: skip
        return people.add("household", household)
