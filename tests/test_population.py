"""People: per-agent arrays, every citizen's or, on an MPI rank that keeps its own, theirs."""

import numpy as np
import pytest

from scsim.population import People


@pytest.mark.parametrize("fill", [0, -1, 2.5])
def test_a_kept_range_is_filled_and_the_rest_left_zero(fill):
    whole, own = People(10_000, 4), People(10_000, 4)
    own.keep(2_048, 6_144)
    a, b = whole.full(fill, np.float32), own.full(fill, np.float32)
    assert np.array_equal(b[2_048:6_144], a[2_048:6_144]) and (a == np.float32(fill)).all()
    assert not b[:2_048].any() and not b[6_144:].any()
    rows = own.full(fill, np.int16, rows=3)
    assert rows.shape == (3, 10_000) and (rows[:, 2_048:6_144] == np.int16(fill)).all()
    assert not rows[:, 6_144:].any()


def test_a_kept_ranges_traits_are_every_citizens_draws():
    # the draws are keyed by (seed, stream, citizen): a rank draws its own citizens' traits as
    # one process does, whatever the range
    whole, own = People(10_000, 4), People(10_000, 4)
    own.keep(4_096, 8_192)
    a = whole.uniform_trait("speech.dissent", 0.0, 0.1)
    b = own.uniform_trait("speech.dissent", 0.0, 0.1)
    assert b.dtype == np.float32 and np.array_equal(b[4_096:8_192], a[4_096:8_192])
    assert not b[:4_096].any() and not b[8_192:].any() and a[:4_096].all()
    assert not own.empty(np.float32).any()  # zeros beyond the kept citizens, to be filled
    record = own.ensure("listing_record", np.int16, -1)
    assert (record[4_096:8_192] == -1).all() and not record[:4_096].any()
