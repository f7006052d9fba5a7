"""Atomic claims: every value of the counter goes to exactly one caller, on any thread."""

from concurrent.futures import ThreadPoolExecutor

import numpy as np
from numba import njit

from scsim.kernels.claim import claim


@njit(nogil=True)
def _claim_all(counter, stop, owner, me):
    """Claim values until ``stop``, marking each claimed value with ``me``."""
    taken = 0
    while True:
        k = claim(counter)
        if k >= stop:
            return taken
        owner[k] += me
        taken += 1


def test_claims_return_successive_values():
    counter = np.zeros(1, dtype=np.int64)
    owner = np.zeros(5, dtype=np.int64)
    assert _claim_all(counter, 5, owner, 1) == 5
    assert owner.tolist() == [1, 1, 1, 1, 1]
    assert counter[0] == 6  # the failed claim that ended the loop counts too


def test_threads_claim_every_value_exactly_once():
    stop, threads = 2_000_000, 4
    counter = np.zeros(1, dtype=np.int64)
    owner = np.zeros(stop, dtype=np.int64)
    with ThreadPoolExecutor(threads) as pool:
        # thread t adds 2**t: a value claimed twice (or never) would not be a power of two
        taken = list(pool.map(lambda t: _claim_all(counter, stop, owner, 2**t), range(threads)))
    assert sum(taken) == stop
    assert np.all((owner > 0) & (owner & (owner - 1) == 0))
