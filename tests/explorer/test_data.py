"""The explorer's run adapter: rows by citizen id across row groups, searches by filter."""

from __future__ import annotations

import json

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from scsim.explorer.data import people_rows, search
from scsim.runs import open_run


def small_groups_run(tmp_path, n: int = 50, group: int = 7):
    """A synthetic run whose people.parquet has row groups of ``group`` rows."""
    rng = np.random.default_rng(0)
    listed = rng.random(n) < 0.3
    table = pa.table({"citizen": np.arange(n), "score": rng.random(n), "listed": listed})
    pq.write_table(table, tmp_path / "people.parquet", row_group_size=group)
    for name in ("timeseries", "distribution", "events", "audit"):
        pq.write_table(
            pa.table({"citizen": pa.array([], pa.int64())}), tmp_path / f"{name}.parquet"
        )
    manifest = {"n": n, "days": 1, "components": [], "audit": {"sample": 10, "stride": 5}}
    (tmp_path / "manifest.json").write_text(json.dumps(manifest))
    return open_run(tmp_path), table


def test_people_rows_reads_any_rows_across_row_groups(tmp_path):
    run, table = small_groups_run(tmp_path)
    assert pq.ParquetFile(run.file("people")).num_row_groups == 8  # 7 of 7 rows, 1 of 1
    for rows in ([0], [6, 7], [49], [3, 20, 21, 48], [13, 14, 27, 28, 41, 42, 49]):
        got = people_rows(run, np.array(rows), ["citizen", "score"])
        assert got["citizen"].to_pylist() == rows
        assert got["score"].to_pylist() == table["score"].take(rows).to_pylist()


def test_search_pages_filtered_citizens_in_id_order(tmp_path):
    run, table = small_groups_run(tmp_path)
    listed = np.flatnonzero(table["listed"].to_numpy(zero_copy_only=False))
    for page in range(4):
        got = search(run, {"listed": True}, page, 4)
        assert got["total"] == listed.size
        assert [c["citizen"] for c in got["citizens"]] == listed[page * 4 : page * 4 + 4].tolist()
    audited = search(run, {"listed": False, "audited": True}, 0, 20)
    ids = np.arange(50)
    want = ids[~table["listed"].to_numpy(zero_copy_only=False) & (ids % 5 == 0)]
    assert [c["citizen"] for c in audited["citizens"]] == want.tolist()
    assert all(c["audited"] for c in audited["citizens"])
