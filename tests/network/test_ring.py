"""Watts-Strogatz graphs held by their ring (``RingGraph``) are the CSR graphs, tie for tie and
in the same order, in a sixth of the memory."""

import numpy as np
import pytest
from numba import njit

from scsim.network import watts_strogatz, watts_strogatz_ring
from scsim.network.ring import ring_degree, ring_row

CASES = [  # (n, k, p): a bare ring, the smallest n, wrap rows of every width, k = 32
    (100, 4, 0.0), (22, 20, 0.5), (2000, 10, 0.2), (20_000, 20, 0.1), (3000, 32, 0.3),
    (5000, 2, 0.9),
]  # fmt: skip


@pytest.mark.parametrize("n, k, p", CASES)
def test_the_ring_form_is_the_csr_graph_bit_for_bit(n, k, p):
    csr = watts_strogatz(n, k, p, seed=5)
    ring = watts_strogatz_ring(n, k, p, seed=5)
    again = ring.csr()
    assert again.indptr.dtype == csr.indptr.dtype
    for name in ("indptr", "indices", "far"):
        assert np.array_equal(getattr(again, name), getattr(csr, name)), name
    assert np.array_equal(ring.degree(), csr.degree())
    assert (ring.n, ring.n_edges, ring.max_degree) == (csr.n, csr.n_edges, csr.max_degree)
    for i in (0, 1, k // 2 - 1, k // 2, n // 2, n - k // 2 - 1, n - k // 2, n - 1):
        assert np.array_equal(ring.neighbours(i), csr.neighbours(i)), i


@njit
def _rows(n, half, ring, xptr, xind, width):
    """Every row through the kernels' functions, padded with n, and each row's degree."""
    out = np.full((n, width), n, dtype=np.int64)
    degree = np.empty(n, dtype=np.int64)
    row = np.empty(width, dtype=np.int64)
    for v in range(n):
        size = ring_row(v, n, half, ring, xptr, xind, row)
        out[v, :size] = row[:size]
        degree[v] = ring_degree(v, ring, xptr)
    return out, degree


def test_the_kernels_walk_every_row_in_the_csr_order():
    # every citizen's row, the first and last k/2 (whose ring wraps around the ids) included
    n, k = 4000, 20
    csr = watts_strogatz(n, k, 0.1, seed=8)
    g = watts_strogatz_ring(n, k, 0.1, seed=8)
    rows, degree = _rows(n, g.half, g.ring, g.xptr, g.xind, csr.max_degree)
    assert np.array_equal(degree, csr.degree())
    for v in range(n):
        row = csr.indices[csr.indptr[v] : csr.indptr[v + 1]]
        assert np.array_equal(rows[v, : row.size], row) and (rows[v, row.size :] == n).all(), v


def test_the_ring_form_holds_a_sixth_of_the_bytes():
    # k = 20, p = 0.1: 4 bytes of ring bits, 4 of row start and ~2 ties off the ring of 4 bytes
    # each (n k p / 2 rewired ties, both ends) against 20 ties, a row start and 4 far slots
    n = 100_000
    ring, csr = watts_strogatz_ring(n, 20, 0.1, seed=2), watts_strogatz(n, 20, 0.1, seed=2)
    assert ring.nbytes / n == pytest.approx(4 + 4 + 4 * 2 + 4 / n, rel=0.02)
    assert csr.nbytes / n == pytest.approx(100, rel=0.01)


@pytest.mark.parametrize("n, k, p", CASES)
def test_ghosts_are_the_ties_that_leave_a_range(n, k, p):
    # Graph.ghosts: exactly the citizens outside [lo, hi) tied to one inside (scsim.ranks'
    # halo); the ring's are those and at most the 2 h ring ids beyond the range's ends
    csr = watts_strogatz(n, k, p, seed=5)
    ring = watts_strogatz_ring(n, k, p, seed=5)
    for lo, hi in ((0, n // 3), (n // 3, n // 2 + 1), (n - n // 4, n), (0, n)):
        inside = set(range(lo, hi))
        tied = {int(j) for i in inside for j in csr.neighbours(i)} - inside
        assert csr.ghosts(lo, hi).tolist() == sorted(tied)
        more = set(ring.ghosts(lo, hi).tolist())
        assert tied <= more and not more & inside
        assert len(more - tied) <= 2 * (k // 2)
