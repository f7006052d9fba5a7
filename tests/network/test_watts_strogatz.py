"""Watts-Strogatz CSR graphs: a simple undirected graph with the stated degree and rewiring."""

import numpy as np
import pytest

from scsim.network import watts_strogatz, watts_strogatz_ring
from scsim.network.graph import FAR_SLOTS, FAR_WINDOW

N, K, P = 20_000, 20, 0.1


@pytest.fixture(scope="module")
def graph():
    return watts_strogatz(N, K, P, seed=3)


def _edges(g):
    rows = np.repeat(np.arange(g.n), g.degree())
    return rows, g.indices.astype(np.int64)


def test_simple_undirected_graph(graph):
    rows, cols = _edges(graph)
    assert not np.any(rows == cols), "self-loop"
    keys = rows * N + cols
    assert np.unique(keys).size == keys.size, "duplicate edge"
    assert np.array_equal(np.sort(keys), np.sort(cols * N + rows)), "edge without its reverse"
    for i in (0, 1, N // 2, N - 1):  # rows are sorted
        nb = graph.neighbours(i)
        assert np.all(nb[:-1] < nb[1:])


def test_degree_and_rewiring_match_the_model(graph):
    """n*k/2 edges, each rewired w.p. p: rewired ~ Binomial(n*k/2, p); a rewired edge is at
    ring distance > k/2 at both ends. Allow 5 sd. Collapsed duplicates are O(k^2/n): tiny."""
    rows, cols = _edges(graph)
    d = np.abs(rows - cols)
    ring = np.minimum(d, N - d) <= K // 2
    rewired = (~ring).sum() / 2
    m = N * K / 2
    assert abs(rewired - m * P) < 5 * np.sqrt(m * P * (1 - P))
    assert abs(graph.n_edges - m) < 5  # only collapsed duplicates are lost
    assert abs(graph.degree().mean() - K) < 0.01


def test_deterministic_for_a_seed_and_seed_dependent():
    a = watts_strogatz(2000, 10, 0.2, seed=9)
    b = watts_strogatz(2000, 10, 0.2, seed=9)
    c = watts_strogatz(2000, 10, 0.2, seed=10)
    assert np.array_equal(a.indptr, b.indptr) and np.array_equal(a.indices, b.indices)
    assert not np.array_equal(a.indices, c.indices)


def test_no_rewiring_is_a_ring():
    g = watts_strogatz(100, 4, 0.0, seed=1)
    assert np.array_equal(g.neighbours(0), [1, 2, 98, 99])
    assert np.all(g.degree() == 4)


def test_far_table_lists_far_neighbours(graph):
    for i in range(0, N, 997):
        far = [int(j) for j in graph.neighbours(i) if abs(int(j) - i) > FAR_WINDOW]
        row = [int(x) for x in graph.far[i]]
        assert row[: min(len(far), FAR_SLOTS)] == far[:FAR_SLOTS]
        assert all(x == i for x in row[len(far) :])


@pytest.mark.parametrize("n,k", [(10, 20), (100, 7), (100, 40)])
def test_bad_parameters_are_refused(n, k):
    with pytest.raises(ValueError, match="network.k|population.n"):
        watts_strogatz(n, k, 0.1, seed=1)


@pytest.mark.parametrize("build", [watts_strogatz, watts_strogatz_ring])
@pytest.mark.parametrize(("lo", "hi"), [(0, 6_144), (6_144, 12_288), (14_336, N)])
def test_a_ranks_own_rows_are_the_whole_graphs_and_the_others_are_empty(graph, build, lo, hi):
    # an MPI rank that keeps only the citizens lo..hi-1 builds their rows as the whole graph
    # has them (ties to anyone, rewired ones included; the first and last ranges meet the ring's
    # wrap) from its own rewiring draws and everyone's into the range, and leaves every other
    # row empty, its pointers untouched
    whole = graph if build is watts_strogatz else watts_strogatz_ring(N, K, P, seed=3)
    own = build(N, K, P, seed=3, keep=(lo, hi))
    for i in (lo, lo + 1, (lo + hi) // 2, hi - 1):
        assert np.array_equal(own.neighbours(i), whole.neighbours(i))
    degree = own.degree()
    assert np.array_equal(degree[lo:hi], whole.degree()[lo:hi])
    assert not degree[:lo].any() and not degree[hi:].any()
    pointers = own.indptr if build is watts_strogatz else own.xptr
    assert not pointers[: lo + 1].any() and not pointers[hi + 1 :].any()  # left as zero pages
    assert own.max_degree == whole.degree()[lo:hi].max()
    assert own.tie_bytes < whole.tie_bytes * (hi - lo) / N * 1.05
    assert np.array_equal(own.ghosts(lo, hi), whole.ghosts(lo, hi))
    if build is watts_strogatz:
        assert np.array_equal(own.far[lo:hi], whole.far[lo:hi])
