"""The layered network: household, friends and work layers in one CSR with a layer code."""

from __future__ import annotations

import numpy as np
import pytest

from scsim.modules.population import Population, PopulationParams
from scsim.network import build_network, complete_network
from scsim.network.graph import FRIENDS, HOUSEHOLD, WORK
from scsim.network.layered import (
    FIRST_OCCUPATION,
    MAX_HOUSEHOLD,
    MAX_TEAM,
    NO_TEAM,
    friend_strides,
    layered_fields,
    layered_graph,
    work_teams,
)
from scsim.network.regional import regional_households
from scsim.population import People
from scsim.scenario import Layered, ScenarioError, load_scenario

N, SHARES, MEAN, K, P = 20_003, (0.5, 0.3, 0.2), 2.62, 10, 0.1


def spec(**kw) -> Layered:
    base = dict(region_shares=list(SHARES), household_mean=MEAN, friends_k=K, long_tie_prob=P)
    return Layered(**{**base, **kw})


def edges(g):
    """(row, neighbour, layer) of every slot, as int64 arrays."""
    rows = np.repeat(np.arange(g.n), g.degree())
    return rows, g.indices.astype(np.int64), g.layer


def pair_keys(rows, cols):
    return rows * N + cols


@pytest.fixture(scope="module")
def no_population():
    s = spec()
    fields = layered_fields(s, N, seed=3)
    people = People(N, 3)
    for k, v in fields.items():
        people.add(k, v)
    return s, people, complete_network(s, None, people, 3)


@pytest.fixture(scope="module")
def with_population():
    """Occupations from the population module (one region: the 'uniform' table)."""
    s = spec(region_shares=[1.0])
    people = People(N, 5)
    for k, v in layered_fields(s, N, seed=5).items():
        people.add(k, v)

    class FakeSim:
        n, seed = N, 5

        def add_over_ranks(self, counts):
            return counts

    FakeSim.people = people
    Population(PopulationParams(regions="uniform"), FakeSim()).init()
    return s, people, complete_network(s, None, people, 5)


def test_without_work_and_long_ties_the_layers_are_cliques_and_a_strided_ring():
    """Household bit iff both ends share a household; the friends of x are exactly
    x +- j * stride (mod its region), j = 1..K/2, and never housemates in these large regions."""
    s = spec(work=False, long_tie_prob=0.0)
    fields = layered_fields(s, N, seed=3)
    region, household = fields["region"], fields["household"]
    g = layered_graph(s, N, 3, region, household, None)
    rows, cols, layer = edges(g)
    same = household[rows] == household[cols]
    assert np.array_equal((layer & HOUSEHOLD) != 0, same)
    assert not np.any(layer & WORK)
    assert not np.any(layer == HOUSEHOLD | FRIENDS)  # the layers are kept apart
    sizes = np.bincount(region)
    start = np.r_[0, np.cumsum(sizes)]
    stride = friend_strides(sizes)
    assert np.all(stride >= MAX_HOUSEHOLD)
    friends = (layer & FRIENDS) != 0
    r = region[rows[friends]].astype(np.int64)
    x = rows[friends] - start[r]
    d = (cols[friends] - start[r] - x) % sizes[r]  # ring offset of each friend
    step = np.stack([(j * stride[r]) % sizes[r] for j in range(1, K // 2 + 1)])
    back = np.stack([(-j * stride[r]) % sizes[r] for j in range(1, K // 2 + 1)])
    assert np.all(np.any(step == d, axis=0) | np.any(back == d, axis=0))
    assert np.array_equal(np.bincount(rows[friends], minlength=N), np.full(N, K))


def test_households_are_the_regional_generator_cliques():
    """The household layer is the regional graph's family cliques (same streams)."""
    s = spec(work=False)
    regional, fields = regional_households(N, SHARES, MEAN, K, P, seed=3)
    g = layered_graph(s, N, 3, fields["region"], fields["household"], None)
    rows, cols, layer = edges(g)
    fam = (layer & HOUSEHOLD) != 0
    sizes = np.bincount(fields["household"])
    assert np.array_equal(np.bincount(rows[fam], minlength=N), sizes[fields["household"]] - 1)


def test_fields_match_the_regional_generator():
    _, regional = regional_households(N, SHARES, MEAN, K, P, seed=3)
    fields = layered_fields(spec(), N, seed=3)
    for name in ("region", "household"):
        assert np.array_equal(fields[name], regional[name])


def test_simple_symmetric_graph_with_symmetric_codes(no_population):
    _, _, g = no_population
    rows, cols, layer = edges(g)
    assert not np.any(rows == cols)
    keys = pair_keys(rows, cols)
    assert np.unique(keys).size == keys.size
    order = np.argsort(keys)
    back = np.argsort(pair_keys(cols, rows))
    assert np.array_equal(keys[order], pair_keys(cols, rows)[back])
    assert np.array_equal(layer[order], layer[back]), "a tie's layer code differs by side"
    assert np.all(layer != 0) and np.all(layer < 8)


def test_work_ties_stay_in_teams_within_a_region_without_population(no_population):
    """Without occupations every citizen is in one team of its region; work ties are the
    team cliques: a citizen's work degree is its team size - 1 (<= MAX_TEAM - 1)."""
    s, people, g = no_population
    rows, cols, layer = edges(g)
    work = (layer & WORK) != 0
    assert np.array_equal(people.region[rows[work]], people.region[cols[work]])
    team_of, team_start, members = work_teams(people.region, None, s.work_team_mean, 3)
    assert np.all(team_of != NO_TEAM)
    sizes = np.diff(team_start)
    assert sizes.max() <= MAX_TEAM and sizes.sum() == N
    work_degree = np.bincount(rows[work], minlength=N)
    assert np.array_equal(work_degree, sizes[team_of] - 1)
    assert np.array_equal(team_of[rows[work]], team_of[cols[work]])


def test_team_sizes_follow_the_capped_poisson(no_population):
    """Team sizes are 1 + Poisson(4) (P(>= 16) ~ 1e-5, so the cap hardly matters) except the
    one cut short per region: the mean of the T ~ N / 5 others is within 5 sd = 5 * sqrt(4 / T)
    (~0.07) of 5."""
    s, people, _ = no_population
    _, team_start, members = work_teams(people.region, None, s.work_team_mean, 3)
    sizes = np.diff(team_start)
    team_region = people.region[members[team_start[:-1]]]
    last = np.r_[team_region[1:] != team_region[:-1], True]  # cut short by the region's end
    full = sizes[~last]
    assert abs(full.mean() - 5.0) < 5 * np.sqrt(4.0 / full.size)


def test_work_ties_join_colleagues_of_one_occupation(with_population):
    """With the population module, only citizens who work have work ties, and only to
    citizens of the same region and occupation."""
    _, people, g = with_population
    rows, cols, layer = edges(g)
    work = (layer & WORK) != 0
    occ = people.occupation
    assert work.sum() > N  # most adults work: many work ties
    assert np.all(occ[rows[work]] >= FIRST_OCCUPATION)
    assert np.array_equal(occ[rows[work]], occ[cols[work]])
    assert np.array_equal(people.region[rows[work]], people.region[cols[work]])
    idle = np.flatnonzero(occ < FIRST_OCCUPATION)
    assert idle.size > 0
    assert not np.any(np.isin(rows[work], idle))


def test_graph_is_a_function_of_the_seed():
    s = spec(work=True)
    fields = layered_fields(s, N, seed=3)
    a = layered_graph(s, N, 3, fields["region"], fields["household"], None)
    b = layered_graph(s, N, 3, fields["region"], fields["household"], None)
    c = layered_graph(s, N, 4, fields["region"], fields["household"], None)
    assert np.array_equal(a.indices, b.indices) and np.array_equal(a.layer, b.layer)
    assert not np.array_equal(a.indices, c.indices)


def test_build_network_defers_the_layered_graph():
    graph, fields = build_network(spec(), 1000, 1)
    assert graph is None and set(fields) == {"region", "household"}


def test_scenario_accepts_layered_and_names_bad_fields():
    sc = load_scenario(
        "sc-core", {"population.n": 1000, "network": {"kind": "layered", "work_team_mean": 3}}
    )
    assert sc.network.kind == "layered" and sc.network.work_team_mean == 3
    with pytest.raises(ScenarioError, match="network.work_team_mean: 40"):
        load_scenario("sc-core", {"network": {"kind": "layered", "work_team_mean": 40}})
