"""A halo's gathers and scatters by uint32 ids are numpy's fancy indexing, for every dtype a
published or shared array has."""

import numpy as np
import pytest

from scsim.kernels.halo import gather, scatter
from scsim.ranks import ids_dtype


@pytest.mark.parametrize("dtype", [np.float32, np.uint8, np.uint16, np.int32, np.bool_])
def test_gather_and_scatter_by_uint32_ids_are_fancy_indexing(dtype):
    rng = np.random.default_rng(5)
    row = (rng.random(1000) * 200).astype(dtype)
    ids = np.sort(rng.choice(1000, 300, replace=False)).astype(np.uint32)
    out = np.empty(ids.size, dtype=dtype)
    gather(row, ids, out)
    assert np.array_equal(out, row[ids.astype(np.int64)])
    values = (rng.random(ids.size) * 200).astype(dtype)
    expected = row.copy()
    expected[ids.astype(np.int64)] = values
    scatter(row, ids, values)
    assert np.array_equal(row, expected)


def test_halo_ids_are_uint32_while_every_id_fits():
    assert ids_dtype(1_400_000_000) is np.uint32  # China
    assert ids_dtype(2**32) is np.uint32  # ids 0 .. 2**32 - 1
    assert ids_dtype(2**32 + 1) is np.int64
