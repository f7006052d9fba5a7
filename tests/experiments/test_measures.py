"""Outcomes measured on a run directory: one number each, or an error naming the outcome."""

from __future__ import annotations

import math

import pyarrow.parquet as pq
import pytest

from scsim.experiments.measures import MeasureError, measure
from scsim.experiments.spec import Outcome
from tests.conftest import make_run


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    return make_run(tmp_path_factory.mktemp("m") / "run", n=1500, days=15)


def test_outcomes_equal_the_same_numbers_read_from_the_files(run_dir):
    ts = pq.read_table(run_dir / "timeseries.parquet").to_pydict()
    got = measure(run_dir, {
        "mean_end": Outcome(sql="SELECT mean_score FROM timeseries WHERE day = 14"),
        "detected": Outcome(sql="SELECT sum(speech_detected) FROM timeseries"),
        "nothing": Outcome(sql="SELECT avg(mean_score) FROM timeseries WHERE day > 99"),
    })  # fmt: skip
    assert got["mean_end"] == ts["mean_score"][14]
    assert got["detected"] == sum(ts["speech_detected"])
    assert math.isnan(got["nothing"])  # NULL: a mean over no rows


@pytest.mark.parametrize(
    ("sql", "message"),
    [
        ("SELECT listed_forever FROM timeseries", "outcomes.x: Binder Error"),
        ("SELECT * FROM timeseries_nope", "outcomes.x: Catalog Error"),
        ("SELECT day, mean_score FROM timeseries", "returned 2 columns (day, mean_score)"),
        ("SELECT day FROM timeseries", "returned several rows"),
        ("SELECT day FROM timeseries WHERE day > 99", "returned no row"),
        ("SELECT 'high'", "returned str 'high'; expected a number"),
    ],
)
def test_bad_outcomes_are_named(run_dir, sql, message):
    with pytest.raises(MeasureError) as e:
        measure(run_dir, {"x": Outcome(sql=sql)})
    assert message in str(e.value)


def test_no_row_is_allowed_on_a_pilot(run_dir):
    got = measure(run_dir, {"x": Outcome(sql="SELECT day FROM timeseries WHERE day > 99")},
                  allow_empty=True)  # fmt: skip
    assert math.isnan(got["x"])
