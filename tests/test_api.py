"""The notebook API (``scsim.run``, ``scsim.compare``, ``scsim.sweep``, ``scsim.load``): the same
numbers as the command line, frames without copies, overrides, figures, look-ups, save, and an
``import scsim`` that stays cheap."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import plotly.graph_objects as go
import polars as pl
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

import scsim
from scsim.cli import app
from scsim.paired import CompareError
from scsim.query import plain_json
from scsim.runs import open_run
from scsim.scenario import ScenarioError
from tests.conftest import scsim_cli
from tests.experiments.conftest import sweep_data

ROOT = Path(__file__).resolve().parents[1]
SIZE = {"n": 3000, "days": 60, "seed": 1}
AUDIT = {"output__audit_sample": 1000}
"""Every third citizen audited: look-ups of audited and unaudited citizens."""


@pytest.fixture(scope="module")
def result() -> scsim.Result:
    return scsim.run("sc-core", threads=1, **SIZE, **AUDIT)


@pytest.fixture(scope="module")
def saved(result, tmp_path_factory) -> Path:
    return result.save(tmp_path_factory.mktemp("api") / "run")


def test_a_run_gives_the_cli_runs_numbers_bit_for_bit(result, tmp_path):
    scenario = tmp_path / "scenario.yaml"
    scenario.write_text(scsim.load("sc-core", **SIZE, **AUDIT).to_yaml())
    out = tmp_path / "cli"
    res = scsim_cli("run", str(scenario), "--out", str(out), "--threads", "1")
    assert res.returncode == 0, res.stderr
    for name in ("timeseries", "people", "events", "audit"):
        written = pq.read_table(out / f"{name}.parquet")
        assert result.arrow(name).equals(written), name
        assert result.frame(name).equals(pl.from_arrow(written)), name


def test_people_share_the_sims_arrays_and_are_built_once(result):
    people = result.people
    assert people is result.people and result.arrow("people") is result.arrow("people")
    sim = result.sim
    friends = people["part_friends"].to_numpy()
    assert friends.ctypes.data == sim.component("friends").ctypes.data
    assert people["dissent"].to_numpy().ctypes.data == sim.people.fields["dissent"].ctypes.data
    score = result.arrow("people").column("score").chunk(0).buffers()[1].address
    assert people["score"].to_arrow().buffers()[1].address == score
    assert people.height == 3000 and result.to_pandas("people").shape == people.shape


def test_the_result_describes_its_run(result):
    assert (result.n, result.days, result.seed) == (3000, 60, 1)
    assert result.scenario.population.n == 3000 and result.timings["step_s"] > 0
    assert result.timeseries.height == 60 and "listed" in result.timeseries.columns
    assert repr(result).startswith("<scsim.Result sc-core: 3,000 citizens x 60 days, seed 1")
    assert "listed" in repr(result) and "banned" in repr(result)


def test_overrides_apply_in_either_spelling(result):
    stricter = scsim.run("sc-core", threads=1, modules__lists__blacklist_below=640, **SIZE)
    assert stricter.final("listed") > result.final("listed")
    dotted = scsim.load("sc-core", **{"modules.lists.blacklist_below": 640})
    assert dotted == scsim.load("sc-core", modules__lists__blacklist_below=640)
    assert scsim.load(dotted, days=5).days == 5 and scsim.load(dotted) is dotted
    kinds = scsim.load("sc-core", modules__infractions__kinds__0__rate=0.5).modules.infractions
    assert kinds.kinds[0].rate == 0.5


@pytest.mark.parametrize(
    ("given", "message"),
    [
        (
            {"modules__lists__blacklist_bellow": 600},
            "modules.lists.blacklist_bellow: is not a known",
        ),
        ({"modules__lists__blacklist_below": "low"}, 'modules.lists.blacklist_below: "low" is not'),
        ({"n": 0}, "population.n: 0 is not allowed; expected an integer >= 1"),
        ({"days__x": 1}, "days.x: 'days' is 365, not a block"),
        ({"modules__infractions__kinds__7__rate": 0.1}, "expected an index from 0 to"),
        ({"modules____lists": 1}, "modules____lists: is not a field path"),
        ({"n": 5, "population__n": 6}, "population.n: given twice"),
    ],
)
def test_a_bad_override_names_the_field(given, message):
    with pytest.raises(ScenarioError, match=message.replace(".", r"\.")):
        scsim.run("sc-core", threads=1, **given)


def test_other_mistakes_say_what_is_allowed():
    with pytest.raises(ScenarioError, match="'nowhere' is neither a preset"):
        scsim.run("nowhere")
    with pytest.raises(ValueError, match="threads: 0 is not allowed; expected an integer from 1"):
        scsim.run("sc-core", n=100, days=2, threads=0)


def test_plot_gives_the_reports_figures_by_name(result):
    names = result.figure_names
    assert {"score_heatmap", "score_percentiles", "banned"} <= set(names)
    assert isinstance(result.plot("banned"), go.Figure)
    everything = result.plot()
    assert list(everything) == names and all(isinstance(f, go.Figure) for f in everything.values())
    with pytest.raises(ValueError, match="'nope' is not a figure of this run; expected one of"):
        result.plot("nope")


def test_lookup_matches_scsim_lookup_on_the_saved_run(result, saved):
    low = result.people.filter(pl.col("citizen") % 3 == 0).sort("score")["citizen"][0]
    for citizen in (int(low), 1):  # audited (stride 3), then not
        mine = result.lookup(citizen)
        assert mine["audited"] == (citizen % 3 == 0)
        cli = CliRunner().invoke(app, ["lookup", str(saved), str(citizen), "--json"])
        assert cli.exit_code == 0, cli.output
        assert json.loads(plain_json(mine)) == json.loads(cli.stdout)
    person = result.lookup(int(low))
    assert person.history_frame.height == 60 and person.events_frame.height > 0
    assert f"citizen {low} of run" in person.text()
    with pytest.raises(ValueError, match="citizen: 3000 is not allowed; expected an integer"):
        result.lookup(3000)


def test_a_saved_run_opens_like_any_other(result, saved):
    run = open_run(saved)
    assert (run.n, run.days, run.manifest["preset"]) == (3000, 60, "sc-core")
    assert (saved / "report.html").is_file() and result.path == saved
    with pytest.raises(ValueError, match="already exists"):
        result.save(saved)


def test_compare_pairs_replicates_and_gives_frames(tmp_path):
    stricter = scsim.load("sc-core", modules__lists__blacklist_below=600)
    paired = scsim.compare("sc-core", stricter, replicates=2, n=1000, days=20, threads=1)
    assert paired.comparison.names == ("A", "B")  # both are called sc-core
    rows = paired.rows
    assert set(rows["replicate"].to_list()) == {0, 1} and set(rows["seed"].to_list()) == {1, 2}
    listed = paired.outcomes.filter(pl.col("outcome") == "final_listed")
    assert listed["mean_b"][0] >= listed["mean_a"][0]
    assert paired.trajectories.height == 20 and isinstance(paired.verdict, str)
    assert isinstance(paired.plot("trajectories"), go.Figure)
    assert (paired.save(tmp_path / "cmp") / "comparison.html").is_file()
    with pytest.raises(CompareError, match="replicates: 1 is not allowed"):
        scsim.compare("sc-core", stricter, replicates=1, n=1000, days=20)
    with pytest.raises(CompareError, match="population.n: A has 1000, B has 1200"):
        scsim.compare(scsim.load("sc-core", n=1000), scsim.load(stricter, n=1200), replicates=2)


def test_a_sweep_runs_on_a_local_cluster(tmp_path):
    data = sweep_data(n=500, days=10, replicates=1, design={"kind": "grid", "levels": 2})
    swept = scsim.sweep(data, tmp_path / "sweep", workers=1)
    assert swept.results.height == 4 and not swept.failures and swept.report.is_file()
    assert {"banned", "mean_score", "lists_blacklist_below"} <= set(swept.results.columns)


def test_import_scsim_stays_cheap_and_its_functions_stay_functions():
    code = (
        "import scsim, sys; heavy = {'numba', 'dask', 'optuna', 'pyarrow', 'polars'}"
        " & set(sys.modules); assert not heavy, heavy; assert callable(scsim.run)"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)
    import scsim.paired  # the comparison's machinery: importing it shadows nothing

    assert scsim.compare is scsim.api.compare and scsim.paired.compare is not scsim.compare


def test_the_example_notebook_runs(tmp_path):
    env = dict(os.environ, SCSIM_EXAMPLE_N="2000", SCSIM_EXAMPLE_DAYS="60",
               SCSIM_EXAMPLE_OUT=str(tmp_path))  # fmt: skip
    script = ROOT / "examples" / "notebook_walkthrough.py"
    res = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, env=env, timeout=300
    )
    assert res.returncode == 0, res.stderr
    assert "the penalty adds" in res.stdout
    assert open_run(tmp_path / "friends-penalty").n == 2000
