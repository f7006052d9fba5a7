"""Run directories as data: completeness checks, one citizen's rows, DuckDB views."""

import json
import shutil

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from scsim.runs import (
    Run,
    RunError,
    citizen_row_groups,
    connect,
    flatten,
    open_run,
    read_citizen,
    run_labels,
)
from tests.conftest import make_run


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    return make_run(tmp_path_factory.mktemp("runs") / "r1", **{"output.audit_sample": 500})


def test_open_run_reads_the_manifest(run_dir):
    run = open_run(run_dir)
    manifest = json.loads((run_dir / "manifest.json").read_text())
    assert run.manifest == manifest and run.path == run_dir and run.name == "r1"
    assert (run.n, run.days) == (2000, 20)
    assert run.components == ["purchases", "infractions", "speech", "friends", "bound"]
    assert (run.audit_size, run.audit_stride) == (500, 4)
    assert [c for c in range(12) if run.audited(c)] == [0, 4, 8]
    assert run.audited(1996) and not run.audited(1997)


def _copy(run_dir, dest):
    shutil.copytree(run_dir, dest)
    return dest


def test_nonexistent_directory(tmp_path):
    with pytest.raises(RunError, match="does not exist; give the --out of a `scsim run`"):
        open_run(tmp_path / "nope")


@pytest.mark.parametrize("gone", ["manifest.json", "people.parquet", "audit.parquet"])
def test_missing_file_is_incomplete(run_dir, tmp_path, gone):
    broken = _copy(run_dir, tmp_path / "broken")
    (broken / gone).unlink()
    with pytest.raises(RunError) as e:
        open_run(broken)
    assert str(e.value) == (
        f"run directory {str(broken)!r} is incomplete: missing {gone}; rerun the scenario with "
        "`scsim run ... --out` into a new directory"
    )


def test_partial_directory_is_incomplete(run_dir, tmp_path):
    partial = _copy(run_dir, tmp_path / "r.partial")
    with pytest.raises(RunError, match="is incomplete: only .*r.partial' exists"):
        open_run(tmp_path / "r")
    with pytest.raises(RunError, match="is incomplete: a '.partial' directory is a run still"):
        open_run(partial)


def test_unreadable_manifest(run_dir, tmp_path):
    broken = _copy(run_dir, tmp_path / "b")
    (broken / "manifest.json").write_text("{not json")
    with pytest.raises(RunError, match="manifest.json cannot be read"):
        open_run(broken)


def test_a_file_is_not_a_run_directory(tmp_path):
    (tmp_path / "f").write_text("x")
    with pytest.raises(RunError, match="is not a run directory"):
        open_run(tmp_path / "f")


def test_citizen_rows_equal_a_full_filter(run_dir):
    run = open_run(run_dir)
    for table in ("people", "events", "audit"):
        full = pq.read_table(run.file(table))
        for citizen in (0, 4, 1000, 1996, 1999):
            want = full.filter(pc.equal(full["citizen"], citizen))
            assert run.citizen_rows(table, citizen).equals(want), (table, citizen)
    assert run.citizen_rows("audit", 4).num_rows == 20
    assert run.citizen_rows("audit", 5).num_rows == 0  # not audited


def test_read_citizen_reads_only_the_row_groups_that_can_hold_it(tmp_path):
    path = tmp_path / "t.parquet"
    citizen = np.repeat(np.arange(100), 3)
    pq.write_table(pa.table({"citizen": citizen, "x": np.arange(300)}), path, row_group_size=30)
    f = pq.ParquetFile(path)
    assert f.metadata.num_row_groups == 10
    assert citizen_row_groups(f, 0) == [0] and citizen_row_groups(f, 55) == [5]
    assert citizen_row_groups(f, 100) == []
    assert read_citizen(path, 55)["x"].to_pylist() == [165, 166, 167]
    assert read_citizen(path, 100).num_rows == 0


def test_flatten_joins_keys_and_keeps_scalar_lists():
    flat = flatten({"a": {"b": 1, "c": {"d": "x"}, "e": {}}, "f": [1, 2.5], "g": [{"h": 1}]})
    assert flat == {"a_b": 1, "a_c_d": "x", "a_e": None, "f": [1, 2.5], "g": '[{"h": 1}]'}


def _rows(table: pa.Table) -> list[str]:
    """The rows as sorted text (a view need not keep the file's row order)."""
    return sorted(map(repr, zip(*(c.to_pylist() for c in table.columns), strict=True)))


def test_views_hold_the_parquet_files(run_dir):
    con = connect(run_dir)
    for table in ("timeseries", "distribution", "people", "events", "audit"):
        want = pq.read_table(run_dir / f"{table}.parquet")
        got = con.sql(f"SELECT * EXCLUDE (run) FROM {table}").to_arrow_table()
        assert got.column_names == want.column_names
        assert _rows(got) == _rows(want), table
        runs = con.sql(f"SELECT DISTINCT run FROM {table}").fetchall()
        assert runs == ([("r1",)] if want.num_rows else [])
    row = con.sql("SELECT run, n, days, scenario_seed, audit_stride, components FROM manifest")
    assert row.fetchall() == [("r1", 2000, 20, 1, 4, open_run(run_dir).components)]


def test_views_over_runs_sharing_a_name_use_their_paths(run_dir, tmp_path):
    other = _copy(run_dir, tmp_path / "r1")
    runs = [open_run(run_dir), open_run(other)]
    assert run_labels(runs) == [str(run_dir), str(other)]
    con = connect(runs)
    got = con.sql("SELECT run, count(*) FROM people GROUP BY run ORDER BY run").fetchall()
    assert got == sorted([(str(run_dir), 2000), (str(other), 2000)])
    assert con.sql("SELECT count(*) FROM manifest").fetchall() == [(2,)]


def test_connect_refuses_an_empty_list_and_bad_directories(tmp_path):
    with pytest.raises(RunError, match="no run directory given"):
        connect([])
    with pytest.raises(RunError, match="does not exist"):
        connect([tmp_path / "nope"])


def test_run_is_a_plain_value(run_dir):
    run = open_run(run_dir)
    assert isinstance(run, Run) and run.flat_manifest["run"] == "r1"
    assert run.flat_manifest["scenario_output_audit_sample"] == 500


def test_represents_is_one_unless_the_scenario_says(run_dir):
    run = open_run(run_dir)
    assert run.represents == 1.0 and run.flat_manifest["represents"] == 1.0
    assert "represents" not in run.scenario["population"]
    old = Run(run_dir, {"n": 2000, "days": 20})  # a manifest from before scenarios had it
    assert old.represents == 1.0
    scaled = Run(
        run_dir, {**run.manifest, "scenario": {"population": {"n": 2000, "represents": 50}}}
    )
    assert scaled.represents == 50.0 and scaled.flat_manifest["represents"] == 50.0
    con = connect(run_dir)
    assert con.sql("SELECT represents FROM manifest").fetchall() == [(1.0,)]
    got = con.sql("SELECT * EXCLUDE (run) FROM timeseries_people ORDER BY day").fetchall()
    want = pq.read_table(run_dir / "timeseries.parquet").to_pylist()
    assert got == [tuple(row.values()) for row in want]  # one person a citizen: as written
