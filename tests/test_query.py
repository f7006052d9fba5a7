"""`scsim query`: SQL over run directories, as a table, CSV or JSON; errors exit with 2."""

import csv
import io
import json
import shutil
from datetime import datetime, timedelta
from decimal import Decimal

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from scsim.cli import app
from scsim.query import QueryResult, plain, plain_json, run_query, short_message
from tests.conftest import make_run

runner = CliRunner()


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """Two runs: sc-core, and sc-core with seed 2 and a 'hotels' sanction tier instead of
    'travel' (so their people files have different columns)."""
    root = tmp_path_factory.mktemp("query")
    a = make_run(root / "a")
    tiers = [{"name": "hotels", "days": 30}]
    b = make_run(root / "b", seed=2, **{"modules.sanctions.ban_days": None,
                                        "modules.sanctions.tiers": tiers})  # fmt: skip
    return a, b


def query(*args: str):
    return runner.invoke(app, ["query", *map(str, args)])


def test_json_equals_the_parquet_numbers(runs):
    a, _ = runs
    res = query(a, "SELECT citizen, score, part_friends, listed FROM people ORDER BY citizen",
                "--json")  # fmt: skip
    assert res.exit_code == 0, res.output
    rows = json.loads(res.stdout)
    people = pq.read_table(a / "people.parquet").to_pydict()
    assert [r["citizen"] for r in rows] == people["citizen"]
    assert [r["score"] for r in rows] == people["score"]  # float32 -> double -> JSON: exact
    assert [r["part_friends"] for r in rows] == people["part_friends"]
    assert [r["listed"] for r in rows] == people["listed"]


def test_csv_equals_the_parquet_numbers(runs):
    a, _ = runs
    res = query(a, "SELECT day, mean_score, listed, banned FROM timeseries ORDER BY day", "--csv")
    assert res.exit_code == 0, res.output
    rows = list(csv.DictReader(io.StringIO(res.stdout)))
    ts = pq.read_table(a / "timeseries.parquet").to_pydict()
    assert [int(r["day"]) for r in rows] == ts["day"] == list(range(20))
    assert [float(r["mean_score"]) for r in rows] == ts["mean_score"]
    assert [int(r["banned"]) for r in rows] == ts["banned"]


def test_aggregates_equal_numpy(runs):
    a, _ = runs
    sql = ("SELECT count(*) AS n, sum(delta) AS total FROM events "
           "WHERE kind = 'infractions.recorded'")  # fmt: skip
    [row] = json.loads(query(a, sql, "--json").stdout)
    ev = pq.read_table(a / "events.parquet")
    mine = pc.equal(ev["kind"].cast("string"), "infractions.recorded")
    deltas = ev.filter(mine)["delta"].to_numpy()
    assert row["n"] == deltas.size > 0 and row["total"] == float(deltas.astype(np.float64).sum())


def test_many_runs_carry_a_run_column(runs):
    a, b = runs
    sql = ("SELECT run, count(*) AS n, count(sanction_until_travel) AS travel, "
           "count(sanction_until_hotels) AS hotels, avg(score) AS mean FROM people "
           "GROUP BY run ORDER BY run")  # fmt: skip
    res = query(a, b, sql, "--json")
    assert res.exit_code == 0, res.output
    rows = json.loads(res.stdout)
    scores = [pq.read_table(r / "people.parquet")["score"].to_numpy() for r in (a, b)]
    means = [float(np.mean(s, dtype=np.float64)) for s in scores]
    assert [(r["run"], r["n"], r["travel"], r["hotels"]) for r in rows] == [
        ("a", 2000, 2000, 0), ("b", 2000, 0, 2000),
    ]  # fmt: skip
    # duckdb sums in another order: a mean of 2000 values near 650 agrees to 1e-9 relative
    assert np.allclose([r["mean"] for r in rows], means, rtol=1e-9, atol=0)
    seeds = json.loads(query(a, b, "SELECT run, seed FROM manifest ORDER BY run", "--json").stdout)
    assert seeds == [{"run": "a", "seed": 1}, {"run": "b", "seed": 2}]


def test_table_is_limited_and_says_how_many_rows_were_left_off(runs):
    a, _ = runs
    res = query(a, "SELECT citizen, score FROM people ORDER BY citizen")
    assert res.exit_code == 0, res.output
    lines = res.stdout.strip().splitlines()
    assert lines[0].split() == ["citizen", "score"] and len(lines) == 51
    assert lines[1].split()[0] == "0" and lines[50].split()[0] == "49"
    assert "1,950 more rows not shown (--limit 0 shows all)" in res.stderr
    res = query(a, "SELECT citizen FROM people ORDER BY citizen", "--limit", "3", "--csv")
    assert res.stdout.split() == ["citizen", "0", "1", "2"]
    assert "1,997 more rows not shown" in res.stderr
    res = query(a, "SELECT citizen FROM people", "--limit", "0")
    assert len(res.stdout.strip().splitlines()) == 2001 and res.stderr == ""


def test_run_query_limits_without_reading_rows_into_python(runs):
    a, _ = runs
    result = run_query(a, "SELECT citizen FROM people ORDER BY citizen", limit=5)
    assert result == QueryResult(["citizen"], [(0,), (1,), (2,), (3,), (4,)], 1995)


BAD = [
    (["SELECT * FROM nope"], "Catalog Error: Table with name nope does not exist!"),
    (["selec 1"], 'Parser Error: syntax error at or near "selec"'),
    (["SELECT 'x'::INTEGER"], "Conversion Error: Could not convert string 'x' to INT32"),
    (["SELECT 1", "--limit", "-1"], "--limit: -1 is not allowed; expected an integer >= 0"),
    (["SELECT 1", "--csv", "--json"], "--csv and --json: choose one"),
]


@pytest.mark.parametrize("args,message", BAD, ids=[m[:30] for _, m in BAD])
def test_bad_sql_exits_2_with_duckdbs_first_lines(runs, args, message):
    res = query(runs[0], *args)
    assert res.exit_code == 2, res.output
    assert message in " ".join(res.stderr.split())
    assert "LINE 1" not in res.stderr and "Traceback" not in res.output + res.stderr


def test_bad_run_directories_exit_2(runs, tmp_path):
    res = query(tmp_path / "nope", "SELECT 1")
    assert res.exit_code == 2 and "does not exist" in res.stderr
    broken = shutil.copytree(runs[0], tmp_path / "broken")
    (broken / "manifest.json").unlink()
    res = query(runs[0], broken, "SELECT 1")
    assert res.exit_code == 2 and "is incomplete: missing manifest.json" in res.stderr
    shutil.copytree(runs[0], tmp_path / "p.partial")
    res = query(tmp_path / "p", "SELECT 1")
    assert res.exit_code == 2 and "is incomplete: only" in " ".join(res.stderr.split())
    res = query("SELECT 1")
    assert res.exit_code == 2 and "expected one or more RUN_DIR arguments" in res.stderr


def test_short_message_keeps_the_lines_before_the_excerpt():
    error = RuntimeError('Binder Error: x\nDid you mean "y"?\n\nLINE 1: SELECT x\n        ^')
    assert short_message(error) == 'Binder Error: x\nDid you mean "y"?'


def test_plain_makes_values_json_ready():
    from decimal import Decimal

    assert plain([float("nan"), Decimal("3"), Decimal("1.5"), {"a": (1,)}]) == [
        None, 3, 1.5, {"a": [1]},
    ]  # fmt: skip


@pytest.mark.parametrize(
    "value",
    [
        {"a": [1, 2.5, "x", None, True], "b": {"c": (1, 2)}},  # plain already: no walk needed
        {"n": [1.0, float("nan")], "i": {"x": float("-inf")}},  # JSON has null for these
        {"d": Decimal("3"), "e": Decimal("1.5"), "t": datetime(2026, 11, 30, 12, 0)},
        {"ü": "ß", "bytes": b"\x01\xff", "span": timedelta(days=1)},
    ],
)
def test_plain_json_is_json_of_plain(value):
    for options in ({}, {"ensure_ascii": False, "separators": (",", ":")}):
        assert plain_json(value, **options) == json.dumps(plain(value), **options)


def test_plain_json_refuses_what_plain_cannot_make_json():
    with pytest.raises(TypeError, match="object is not JSON serialisable"):
        plain_json({"x": object()})


# --- one citizen for many people: population.represents ---------------------------------------

SCALED = {
    "modules.lists.blacklist_below": 640,  # some citizens are listed and banned
    "modules.chilling": {},  # a measure (float64): chilling_risk
    "network": {"kind": "regional", "region_shares": [0.6, 0.4]},  # timeseries_region
}


@pytest.fixture(scope="module")
def scaled(tmp_path_factory):
    """The same run twice: each citizen standing for one person, and for 100."""
    root = tmp_path_factory.mktemp("scaled")
    one = make_run(root / "one", **SCALED)
    return one, make_run(root / "many", **SCALED, **{"population.represents": 100})


def test_represents_changes_no_result(scaled):
    one, many = scaled
    banned = pq.read_table(one / "timeseries.parquet")["banned"].to_numpy()
    assert banned.sum() > 0  # else equal files would prove little
    for table in ("timeseries", "timeseries_region", "distribution", "people", "events", "audit"):
        a, b = pq.read_table(one / f"{table}.parquet"), pq.read_table(many / f"{table}.parquet")
        assert a.schema == b.schema and a.num_rows == b.num_rows > 0, table
        for name in a.column_names:
            x, y = a[name].combine_chunks(), b[name].combine_chunks()
            if pa.types.is_floating(x.type):  # bit-identical: the same bytes, NaN where NaN
                assert x.to_numpy().tobytes() == y.to_numpy().tobytes(), (table, name)
            else:
                assert x.equals(y), (table, name)
    m_one, m_many = (json.loads((r / "manifest.json").read_text()) for r in scaled)
    assert "represents" not in m_one["scenario"]["population"]
    assert m_many["scenario"]["population"]["represents"] == 100
    assert m_one["scenario_hash"] != m_many["scenario_hash"]


def _is_count(field: pa.Field) -> bool:
    return pa.types.is_integer(field.type) and field.name not in ("day", "region")


@pytest.mark.parametrize("table", ["timeseries", "timeseries_region"])
def test_people_views_multiply_counts_only(scaled, table):
    one, many = scaled
    written = pq.read_table(many / f"{table}.parquet")
    counts = [f.name for f in written.schema if _is_count(f)]
    assert "banned" in counts and "chilling_exposed" in counts
    assert {"day", "mean_score", "score_p50", "chilling_risk"} & set(counts) == set()
    order = "run, day, region" if table == "timeseries_region" else "run, day"
    res = query(one, many, f"SELECT * FROM {table}_people ORDER BY {order}", "--json")
    assert res.exit_code == 0, res.output
    rows = json.loads(res.stdout)
    for run, factor in (("many", 100), ("one", 1)):
        mine = [r for r in rows if r["run"] == run]
        assert len(mine) == written.num_rows
        for name in written.column_names:
            want = written[name].to_pylist()
            if name in counts:
                want = [float(v * factor) for v in want]
            else:  # scores, quantiles, measures: as written (NaN as null in JSON)
                want = [None if v != v else v for v in want]
            assert [r[name] for r in mine] == want, (run, name)


def test_manifest_says_what_each_citizen_stands_for(scaled):
    sql = "SELECT run, represents, scenario_population_represents FROM manifest ORDER BY run"
    res = query(*scaled, sql, "--json")
    assert json.loads(res.stdout) == [
        {"run": "many", "represents": 100.0, "scenario_population_represents": 100.0},
        {"run": "one", "represents": 1.0, "scenario_population_represents": None},
    ]
