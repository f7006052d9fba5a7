"""Population: citizens' regions, households, ages, work, income and traits.

Built on a minimal stand-in for the simulation (``n``, ``seed``, ``people``) so the tests do
not depend on the engine. Tolerances on sampled statistics are 5 standard deviations of the
statistic under the model (derived in each test), so a correct generator fails them with
probability well below 1e-5 per assertion; the seeds are fixed, so results are reproducible.
"""

from __future__ import annotations

import hashlib
import math
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from pydantic import ValidationError

from scsim.modules import REGISTRY
from scsim.modules.population import TRAITS, Population, PopulationParams
from scsim.modules.population_tables import (
    EDUCATION_NAMES,
    OCC_NONE,
    OCC_RETIRED,
    OCC_STUDENT,
    ROLE_CHILD,
    ROLE_GRANDCHILD,
    ROLE_HEAD,
    ROLE_OTHER,
    ROLE_PARENT,
    ROLE_SPOUSE,
    load_region_table,
    region_shares,
    region_table_names,
)
from scsim.network.regional import region_sizes, regional_households
from scsim.population import People
from scsim.scenario import Modules, ScenarioError, load_scenario

N = 200_000
ROOT = Path(__file__).resolve().parents[2]
DTYPES = {
    "region": np.uint16, "household": np.uint32, "role": np.uint8, "age": np.uint8,
    "sex": np.uint8, "education": np.uint8, "occupation": np.uint8, "income": np.float32,
    "enrolled": np.bool_, **{t: np.float32 for t in TRAITS},
}  # fmt: skip


class FakeSim:
    """What Population reads from the engine: n, seed, people and sums over ranks (one)."""

    def __init__(self, n: int, seed: int, fields: dict | None = None) -> None:
        self.n, self.seed, self.people = n, seed, People(n, seed)
        for name, values in (fields or {}).items():
            self.people.add(name, values)

    def add_over_ranks(self, counts: np.ndarray) -> np.ndarray:
        return counts


def make(n: int = N, seed: int = 7, fields: dict | None = None, **params) -> Population:
    m = Population(PopulationParams(**params), FakeSim(n, seed, fields))
    m.init()
    return m


def digest(n: int, seed: int, **params) -> str:
    """sha256 of every field (used across processes with different thread counts)."""
    people = make(n, seed, **params).sim.people
    h = hashlib.sha256()
    for name in sorted(people.fields):
        h.update(name.encode() + people.fields[name].tobytes())
    return h.hexdigest()


@pytest.fixture(scope="module")
def china() -> Population:
    return make()


@pytest.fixture(scope="module")
def uniform() -> Population:
    return make(regions="uniform", seed=11)


def _head_of(household: np.ndarray) -> np.ndarray:
    """Index of each citizen's household head = lowest id in the household (any id order)."""
    order = np.argsort(household, kind="stable")
    hs = household[order]
    first = np.r_[True, hs[1:] != hs[:-1]]
    start = order[np.flatnonzero(first)]
    head = np.empty(household.size, dtype=np.int64)
    head[order] = start[np.cumsum(first) - 1]
    return head


def _check_families(people) -> None:
    role, age, sex = people.role, people.age.astype(np.int64), people.sex
    head = _head_of(people.household)
    is_head = head == np.arange(head.size)
    assert np.array_equal(is_head, role == ROLE_HEAD), "head = lowest id of each household"
    hh = people.household.astype(np.int64)
    _, inverse = np.unique(hh, return_inverse=True)
    for r, most in ((ROLE_SPOUSE, 1), (ROLE_PARENT, 2)):
        assert np.bincount(inverse[role == r]).max(initial=0) <= most
    spouse = role == ROLE_SPOUSE
    assert np.all(age[spouse] >= 20) and np.all(age[is_head] >= 20)
    assert np.all(sex[spouse] != sex[head[spouse]]), "spouses are a man and a woman"
    child, grand, parent = role == ROLE_CHILD, role == ROLE_GRANDCHILD, role == ROLE_PARENT
    assert np.all(age[child] <= age[head[child]] - 20), "a generation younger than the head"
    assert np.all(age[grand] <= age[head[grand]] - 40), "two generations younger"
    assert np.all(age[parent] > age[head[parent]]), "parents older than the head"
    pairs = np.flatnonzero(np.bincount(inverse[parent]) == 2)
    both = np.flatnonzero(parent & np.isin(inverse, pairs))
    by_household = both[np.argsort(inverse[both], kind="stable")]
    assert np.all(sex[by_household[0::2]] != sex[by_household[1::2]])


# ---------------------------------------------------------------- module and fields


def test_module_protocol_and_registry():
    m = make(n=50, regions="uniform")
    assert (m.name, m.phase, m.records, m.delta, m.after) == (
        "population",
        "behaviour",
        (),
        None,
        None,
    )
    assert m.kernel_args(0) == () and m.kernel_fields() == () and m.fields == ()
    assert next(iter(REGISTRY)) == "population" and REGISTRY["population"] is Population
    assert next(iter(Modules.model_fields)) == "population"


class RankSim(FakeSim):
    """One process (``own`` None), or an MPI rank that keeps the citizens ``own``: it records
    the counts it adds over the ranks and gets back ``totals``, one process's sums in the same
    order."""

    def __init__(self, n: int, seed: int, own: tuple | None = None, totals: list = ()) -> None:
        super().__init__(n, seed)
        if own is not None:
            self.people.keep(*own)
        self.sent: list[np.ndarray] = []
        self.totals = iter(totals)

    def add_over_ranks(self, counts: np.ndarray) -> np.ndarray:
        self.sent.append(counts.copy())
        return counts if self.people.kept is None else next(self.totals)


@pytest.mark.parametrize("cuts", [(0, 6144, 12288, 20_000), (0, 2048, 20_000)])
def test_a_rank_that_keeps_its_own_citizens_draws_them_as_one_process_does(cuts):
    # ranks cut on blocks of 2 048; households straddle the cuts. Each rank draws its own
    # citizens and the other members of their households, and leaves everyone else's entries
    # untouched (zero) beyond the few households around its range; the counts it adds over the
    # ranks (citizens in couples, adults by lowest education) add up to one process's
    n = cuts[-1]
    whole = RankSim(n, 7)
    Population(PopulationParams(), whole).init()
    assert len(whole.sent) == 2
    ranks = []
    for lo, hi in zip(cuts, cuts[1:], strict=False):
        rank = RankSim(n, 7, (lo, hi), whole.sent)
        Population(PopulationParams(), rank).init()
        ranks.append(rank)
        for name, values in whole.people.fields.items():
            mine = rank.people.fields[name]
            assert np.array_equal(mine[lo:hi], values[lo:hi]), name
            far = np.r_[0 : max(lo - 16, 0), min(hi + 16, n) : n]
            assert not mine[far].any(), name
    for k, total in enumerate(whole.sent):
        assert np.array_equal(sum(r.sent[k] for r in ranks), total)
    household = whole.people.household
    assert any(household[c - 1] == household[c] for c in cuts[1:-1])  # one cut by the ranks


def test_dtypes_and_ranges(china):
    people = china.sim.people
    assert {name: a.dtype for name, a in people.fields.items()} == {
        name: np.dtype(t) for name, t in DTYPES.items()
    }
    assert people.region.max() < 31 and people.age.max() <= 100 and people.role.max() <= 5
    assert people.sex.max() <= 1 and people.education.max() <= 4
    assert people.occupation.max() < len(china.occupation_names)
    assert np.all(np.isfinite(people.income)) and people.income.min() >= 0
    for t in TRAITS:
        assert 0 <= people.fields[t].min() and people.fields[t].max() <= 1, t


def test_region_tables_shipped_and_exposed(china):
    assert set(region_table_names()) >= {"beijing", "china", "uniform"}
    assert [load_region_table(t)["name"].size for t in ("china", "beijing", "uniform")] == [
        31,
        16,
        1,
    ]
    table = china.region_table()
    assert list(table) == ["name", "share", "urban_share", "income_level", "camera_density"]
    assert table["name"][18] == "guangdong"
    assert abs(table["share"][18] - 126_012_510 / 1_409_778_724) < 1e-7  # 2020 census
    assert abs(table["share"].sum() - 1) < 1e-12
    # cameras: proportional to urban share, population-weighted mean 1 (SOURCES.md)
    urban_mean = table["share"] @ table["urban_share"]
    assert np.allclose(table["camera_density"], table["urban_share"] / urban_mean, atol=1e-4)
    assert china.occupation_names[:3] == ("none", "student", "retired")
    barred = {china.occupation_names[k] for k in np.flatnonzero(china.barred_occupations)}
    assert barred == {"official", "reporter", "company_head", "statistician"}


def test_regions_are_exact_contiguous_ranges_by_share(china):
    region = china.sim.people.region.astype(np.int64)
    assert np.all(np.diff(region) >= 0)
    assert np.array_equal(np.bincount(region, minlength=31), region_sizes(N, china.region_share))


def test_households_are_capped_poisson_blocks_within_regions(china):
    """Sizes 1 + Poisson(1.62) capped at 8, as in the regional network: the mean of the
    households not cut short by a region's end is within 5 sd of the capped mean."""
    hh = china.sim.people.household.astype(np.int64)
    region = china.sim.people.region.astype(np.int64)
    assert hh[0] == 0 and set(np.unique(np.diff(hh)).tolist()) <= {0, 1}
    sizes = np.bincount(hh)
    assert sizes.max() <= 8
    first = np.flatnonzero(np.r_[True, hh[1:] != hh[:-1]])
    assert np.all(region[first] == region[first + sizes - 1]), "household crosses a region"
    cut = hh[np.r_[np.flatnonzero(np.diff(region)), N - 1]]
    complete = np.delete(sizes, cut)
    lam = 1.62
    pmf = [math.exp(-lam) * lam**k / math.factorial(k) for k in range(7)]
    pmf.append(1 - sum(pmf))
    mean = sum((1 + k) * q for k, q in enumerate(pmf))
    var = sum((1 + k - mean) ** 2 * q for k, q in enumerate(pmf))
    assert abs(complete.mean() - mean) < 5 * math.sqrt(var / complete.size)


def test_household_roles_and_ages_are_consistent(china):
    _check_families(china.sim.people)
    role = china.sim.people.role
    assert all(np.any(role == r) for r in (ROLE_SPOUSE, ROLE_CHILD, ROLE_PARENT, ROLE_OTHER))


def test_age_structure_near_the_2020_census(china):
    """Ages come from the household model (heads from the census bands, children and parents
    a generation away), calibrated by grandchild_share; the realised bands stay within one
    percentage point of the census (a model property, not sampling noise: the sd of a band
    share at N = 200 000 is < 0.12 points)."""
    age = china.sim.people.age
    census = [17.95, 63.35, 5.20, 10.96, 2.54]
    got = [
        100 * np.mean((age >= a) & (age < b))
        for a, b in ((0, 15), (15, 60), (60, 65), (65, 80), (80, 101))
    ]
    assert np.allclose(got, census, atol=1.0), got


def test_male_share(china):
    """Couples are exactly one man and one woman, the others male w.p. the adjusted share, so
    the count of men has variance below the binomial N p (1 - p): 5 binomial sd bound it."""
    p = 0.5124
    assert abs(china.sim.people.sex.mean() - p) < 5 * math.sqrt(p * (1 - p) / N)


# ---------------------------------------------------------------- work, education, income


def test_occupations_by_age(china):
    people = china.sim.people
    age, occ = people.age.astype(np.int64), people.occupation
    assert np.all(occ[age < 6] == OCC_NONE) and np.all(occ[(age >= 6) & (age < 18)] == OCC_STUDENT)
    retire = np.where(people.sex == 1, 60, 55)
    assert np.all(occ[age >= retire] == OCC_RETIRED)
    assert np.all(occ[(age >= 23) & (age < retire)] != OCC_STUDENT)
    assert np.all(people.income[(occ == OCC_NONE) | (occ == OCC_STUDENT)] == 0)


def test_employed_occupation_shares_follow_the_catalogue(uniform):
    """One region (no rural scaling): among working-age adults not studying, employed w.p.
    0.85; the employed pick catalogue entry k w.p. share_k. Each is a binomial proportion;
    allow 5 sd."""
    people, params = uniform.sim.people, uniform.params
    age, occ = people.age.astype(np.int64), people.occupation.astype(np.int64)
    working_age = (age >= 18) & (age < np.where(people.sex == 1, 60, 55)) & (occ != OCC_STUDENT)
    employed = occ[working_age] >= 3
    p = params.employment_rate
    assert abs(employed.mean() - p) < 5 * math.sqrt(p * (1 - p) / employed.size)
    codes = occ[working_age][employed] - 3
    share = np.array([o.share for o in params.occupations])
    share /= share.sum()
    got = np.bincount(codes, minlength=share.size) / codes.size
    assert np.all(np.abs(got - share) < 5 * np.sqrt(share * (1 - share) / codes.size))


def test_rural_occupations_scale_with_the_rural_share(china):
    """Farmer share of the employed in each region vs the region's expected share from
    ``occupation_cdf`` (binomial, 5 sd); Tibet's is far above Shanghai's."""
    people = china.sim.people
    occ, region = people.occupation.astype(np.int64), people.region.astype(np.int64)
    expected = np.diff(china.occupation_cdf(), axis=1, prepend=0.0)[:, 0]  # farmer first
    employed = occ >= 3
    n_emp = np.bincount(region[employed], minlength=31)
    farmers = np.bincount(region[occ == 3], minlength=31)
    got = farmers / n_emp
    assert np.all(np.abs(got - expected) < 5 * np.sqrt(expected * (1 - expected) / n_emp))
    assert expected[25] > 2 * expected[8]  # tibet, shanghai


def test_education_of_adults_matches_the_shares_and_occupation_minimums(china):
    """Adults' education: the draw shares are solved so the adults' expected shares equal the
    scenario's; each level count is then a sum of independent Bernoullis with variance at most
    n p (1 - p): 5 sd. No adult is below their occupation's minimum level."""
    people, params = china.sim.people, china.params
    adult = people.age >= 18
    edu = people.education[adult]
    target = np.array([getattr(params.education, k) for k in EDUCATION_NAMES])
    target /= target.sum()
    got = np.bincount(edu, minlength=5) / edu.size
    assert np.all(np.abs(got - target) < 5 * np.sqrt(target * (1 - target) / edu.size)), got
    minimum = np.array([0, 4, 0] + [o.min_education for o in params.occupations])
    assert np.all(edu >= minimum[people.occupation[adult]])
    pupils = (people.age >= 6) & (people.age < 12)
    assert np.all(people.education[pupils] == 1)


def test_income_medians_by_region_and_occupation(china):
    """log income of an earner in region r, occupation k is Normal(log(median x level_r x
    mult_k), sigma). The sample median of m normal draws has sd ~ 1.2533 sigma / sqrt(m)
    (asymptotic); cells with >= 200 earners must be within 5 such sd in log terms."""
    people, params = china.sim.people, china.params
    occ, region = people.occupation.astype(np.int64), people.region.astype(np.int64)
    income = people.income.astype(np.float64)
    mult = {OCC_RETIRED: params.pension_multiplier}
    mult.update({3 + k: o.income_multiplier for k, o in enumerate(params.occupations)})
    checked = 0
    for k, mk in mult.items():
        for r in range(31):
            cell = income[(occ == k) & (region == r)]
            if cell.size < 200:
                continue
            assert np.all(cell > 0)
            expect = math.log(params.income_median * china.income_level[r] * mk)
            sd = 1.2533 * params.income_sigma / math.sqrt(cell.size)
            assert abs(math.log(np.median(cell)) - expect) < 5 * sd, (k, r)
            checked += 1
    assert checked >= 100


def test_enrolled_share():
    m = make(n=100_000, regions="uniform", enrolled_share=0.3)
    p = 0.3
    assert abs(m.sim.people.enrolled.mean() - p) < 5 * math.sqrt(p * (1 - p) / 100_000)


# ---------------------------------------------------------------- traits


def _beta_cdf_integer(x: np.ndarray, a: int, b: int) -> np.ndarray:
    """I_x(a, b) for whole a, b: P(Binomial(a + b - 1, x) >= a)."""
    m = a + b - 1
    return sum(math.comb(m, j) * x**j * (1 - x) ** (m - j) for j in range(a, m + 1))


def test_traits_follow_their_beta_distributions(china):
    """Mean within 5 sd (sd = sqrt(var / N)); sample variance within 5 sqrt(var / N) (for
    values in [0, 1], mu4 <= var, so Var(s^2) <= var / N); for these whole shapes the
    Kolmogorov-Smirnov distance to the exact CDF is below 1.95 / sqrt(N) (0.1 % level)."""
    for trait in TRAITS:
        dist = getattr(china.params, trait)
        x = china.sim.people.fields[trait].astype(np.float64)
        a, b = dist.a, dist.b
        mean, var = a / (a + b), a * b / ((a + b) ** 2 * (a + b + 1))
        assert abs(x.mean() - mean) < 5 * math.sqrt(var / N), trait
        assert abs(x.var() - var) < 5 * math.sqrt(var / N), trait
        xs = np.sort(x)
        cdf = _beta_cdf_integer(xs, int(a), int(b))
        ks = max(np.max(np.arange(1, N + 1) / N - cdf), np.max(cdf - np.arange(N) / N))
        assert ks < 1.95 / math.sqrt(N), (trait, ks)


@pytest.mark.parametrize(("a", "b"), [(0.5, 2.5), (1.7, 3.3), (30.0, 0.8)])
def test_fractional_beta_shapes(a, b):
    """Non-integer shapes take the Marsaglia-Tsang path (and its boost below 1)."""
    n = 100_000
    x = make(n=n, regions="uniform", dissent={"a": a, "b": b}).sim.people.dissent.astype(float)
    mean, var = a / (a + b), a * b / ((a + b) ** 2 * (a + b + 1))
    assert abs(x.mean() - mean) < 5 * math.sqrt(var / n)
    assert abs(x.var() - var) < 5 * math.sqrt(var / n)


# ---------------------------------------------------------------- reproducibility


def test_same_seed_same_people_other_seed_differs():
    a, b, c = (make(n=20_000, seed=s).sim.people.fields for s in (3, 3, 4))
    assert all(np.array_equal(a[k], b[k]) for k in a)
    assert all(not np.array_equal(a[k], c[k]) for k in a if k not in ("region", "enrolled"))


def test_identical_for_1_and_2_threads():
    code = (
        "from tests.modules.test_population import digest; "
        "print(digest(30011, 5)); "
        "print(digest(3001, 6, regions='beijing', dissent={'a': 0.7, 'b': 2.2}))"
    )
    out = []
    for threads in (1, 2):
        env = {**os.environ, "NUMBA_NUM_THREADS": str(threads)}
        res = subprocess.run(
            [sys.executable, "-c", code],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert res.returncode == 0, res.stderr
        out.append(res.stdout)
    assert out[0] == out[1] and len(out[0].split()) == 2


# ---------------------------------------------------------------- with a network


def test_network_regions_and_households_are_kept():
    n = 30_000
    _, fields = regional_households(n, region_shares("china"), 2.62, 10, 0.05, seed=2)
    m = make(n=n, seed=2, fields=fields)
    assert m.sim.people.region is fields["region"] and m.sim.people.household is fields["household"]
    _check_families(m.sim.people)


def test_shuffled_household_ids_still_make_families():
    """Households given as any ids (members not in id blocks): roles by rank within each."""
    n = 20_000
    _, fields = regional_households(n, [1.0], 2.62, 4, 0.0, seed=4)
    hh = fields["household"]
    perm = np.random.default_rng(0).permutation(int(hh.max()) + 1).astype(np.uint32)
    shuffled = perm[hh][np.random.default_rng(1).permutation(n)]
    m = make(n=n, regions="uniform", fields={"region": fields["region"], "household": shuffled})
    _check_families(m.sim.people)


def test_a_network_with_other_regions_is_refused():
    _, fields = regional_households(5000, [1.0], 2.62, 4, 0.0, seed=1)
    with pytest.raises(ValueError, match="modules.population.regions: table 'china' has 31"):
        make(n=5000, fields=fields)


# ---------------------------------------------------------------- parameters


def test_bad_parameters_name_the_field():
    with pytest.raises(ValidationError, match=r"regions[\s\S]*beijing, china, uniform"):
        PopulationParams(regions="mars")
    cases = {
        "modules.population.regions": ("mars", "expected one of the shipped region tables"),
        "modules.population.male_share": (1.5, "1.5 is not allowed; expected a number <= 1"),
        "modules.population.income_sigma": (-1, "-1 is not allowed; expected a number >= 0"),
        "modules.population.dissent.a": (0, "0 is not allowed; expected a number > 0"),
        "modules.population.occupations": (
            [{"name": "student", "share": 1, "income_multiplier": 1}],
            "'student': expected unique",
        ),
        "modules.population.age_bands": ([{"below": 50, "share": 1}], "the last band below 101"),
    }
    for field, (value, message) in cases.items():
        with pytest.raises(ScenarioError) as err:
            load_scenario("sc-core", {"modules.population": {}, field: value})
        assert str(err.value).startswith(f"{field}: ") and message in str(err.value), str(err.value)
    ok = load_scenario("sc-core", {"modules.population": {"regions": "beijing"}})
    assert ok.modules.population.regions == "beijing"
