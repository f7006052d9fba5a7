"""The agent view over a network held by its ring is the view over its CSR form, bit for bit."""

import numpy as np
import pytest
from numba import njit

from scsim.kernels.agent import agent_view
from scsim.kernels.bits import ctpop, cttz, py_ctpop, py_cttz
from scsim.kernels.ring_view import ring_view
from scsim.network import watts_strogatz, watts_strogatz_ring
from scsim.protocol import LISTED, OFFENDED, REDLISTED

FIELDS = ("score", "flags", "nb_mean", "nb_sanctioned", "nb_listed", "nb_offended", "degree")


@njit
def _views(g_indptr, g_indices, ring, xptr, xind, half, packed, public, with_public):
    n = packed.size
    csr = np.empty((n, 7), dtype=np.float64)
    rings = np.empty((n, 7), dtype=np.float64)
    stand_in = np.ones(1, dtype=np.uint8)
    for v in range(n):
        i = np.uint64(v)
        a = agent_view(i, 0, 0, 0, False, g_indptr, g_indices, packed, public, with_public,
                       stand_in, False)  # fmt: skip
        b = ring_view(i, 0, 0, 0, False, xptr, xind, ring, half, packed, public, with_public)
        _row(csr[v], a)
        _row(rings[v], b)
    return csr, rings


@njit(inline="always")
def _row(out, a):
    out[0], out[1], out[2], out[3] = a.score, a.flags, a.nb_mean, a.nb_sanctioned
    out[4], out[5], out[6] = a.nb_listed, a.nb_offended, a.degree


@pytest.mark.parametrize("n, k, p", [(3000, 20, 0.1), (60, 4, 0.3), (2000, 32, 0.5), (500, 2, 0)])
@pytest.mark.parametrize("with_public", [True, False])
def test_every_citizens_view_is_the_csr_view(n, k, p, with_public):
    # scores with sanctioned citizens' sign bit set, public flags of every kind: every field of
    # every citizen's view (the wrap rows included), the neighbours' mean to the last bit
    rng = np.random.default_rng(n + k)
    packed = rng.uniform(350, 950, n).astype(np.float32)
    packed[rng.random(n) < 0.2] *= -1
    public = rng.choice(np.array([0, LISTED, OFFENDED, LISTED | OFFENDED, REDLISTED], np.uint8), n)
    csr, ring = watts_strogatz(n, k, p, seed=4), watts_strogatz_ring(n, k, p, seed=4)
    a, b = _views(csr.indptr, csr.indices, ring.ring, ring.xptr, ring.xind, ring.half, packed,
                  public, with_public)  # fmt: skip
    for f, name in enumerate(FIELDS):
        assert np.array_equal(a[:, f], b[:, f]), name
    assert (a[:, 3] > 0).any() and (with_public == (a[:, 4] > 0).any())


@njit
def _bits(x):
    return cttz(x), ctpop(x)


def test_bit_counts_and_their_python_twins():
    cases = {1: (0, 1), 12: (2, 2), 0b1011000: (3, 3), 2**40 + 2**33: (33, 2),
             2**63 - 1: (0, 63), -(2**62): (62, 2)}  # fmt: skip
    for x, (zeros, ones) in cases.items():
        assert _bits(x) == (py_cttz(x), py_ctpop(x)) == (zeros, ones), x
