"""Components and clustering over active ties, against plain-numpy references."""

from __future__ import annotations

import numpy as np

from scsim.network.fragmentation import components, local_clustering, mean_clustering
from scsim.network.watts_strogatz import watts_strogatz


def masked_graph(n=300, k=6, p=0.05, seed=2, cut_share=0.35):
    """A small Watts-Strogatz graph with a symmetric random share of its ties cut."""
    g = watts_strogatz(n, k, p, seed)
    rows = np.repeat(np.arange(n), g.degree())
    cols = g.indices.astype(np.int64)
    lo, hi = np.minimum(rows, cols), np.maximum(rows, cols)
    rng = np.random.default_rng(seed)
    keep_pair = rng.random((n, n)) >= cut_share
    active = keep_pair[lo, hi].astype(np.uint8)  # the same draw for both sides of a tie
    return g, rows, cols, active


def dense(n, rows, cols, active):
    a = np.zeros((n, n), dtype=np.int64)
    on = active != 0
    a[rows[on], cols[on]] = 1
    return a


def reference_components(a):
    """Components by repeated boolean reachability (plain numpy)."""
    n = a.shape[0]
    reach = (a + np.eye(n, dtype=np.int64)) > 0
    while True:
        nxt = (reach.astype(np.int64) @ reach.astype(np.int64)) > 0
        if np.array_equal(nxt, reach):
            break
        reach = nxt
    labels = reach.argmax(axis=1)  # lowest id reachable: one label per component
    sizes = np.bincount(labels)
    return int(np.count_nonzero(sizes)), int(sizes.max())


def reference_clustering(a):
    """Local clustering: triangles through v (diag(A^3) / 2) over d (d - 1) / 2; 0 if d < 2."""
    d = a.sum(axis=1)
    tri = np.diag(a @ a @ a) / 2
    with np.errstate(invalid="ignore", divide="ignore"):
        c = np.where(d >= 2, tri / (d * (d - 1) / 2), 0.0)
    return c


def test_components_match_the_reference():
    g, rows, cols, active = masked_graph()
    got = components(g.indptr, g.indices, active)
    want = reference_components(dense(g.n, rows, cols, active))
    assert got == want
    assert want[0] > 1  # the cuts did fragment it: the test is not trivial


def test_components_without_a_mask_see_every_tie():
    g, rows, cols, _ = masked_graph()
    assert components(g.indptr, g.indices, np.ones(1, dtype=np.uint8)) == (1, g.n)


def test_clustering_matches_the_reference_exactly_per_agent_and_on_a_sample():
    g, rows, cols, active = masked_graph()
    want = reference_clustering(dense(g.n, rows, cols, active))
    got = np.array([local_clustering(g.indptr, g.indices, active, v) for v in range(g.n)])
    assert np.allclose(got, want, rtol=0, atol=1e-12)
    assert 0 < want.mean() < 0.6
    assert np.isclose(mean_clustering(g.indptr, g.indices, active, 7), want[::7].mean())


def test_clustering_of_an_unmasked_ring_lattice():
    """A ring lattice with k = 6 has clustering 3 (k - 2) / (4 (k - 1)) = 0.6 at every agent."""
    g = watts_strogatz(100, 6, 0.0, 1)
    c = mean_clustering(g.indptr, g.indices, np.ones(1, dtype=np.uint8), 1)
    assert np.isclose(c, 0.6)
