"""Paired policy comparison on common random numbers (scsim.paired and `scsim compare`)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest
import yaml
from rich.console import Console
from typer.testing import CliRunner

from scsim.cli import app
from scsim.paired import CompareError, compare, for_replicate, run_sim, summarise
from scsim.report.comparison import render_comparison, terminal_table
from scsim.scenario import load_raw
from tests.conftest import small

runner = CliRunner()


def test_identical_scenarios_differ_by_exactly_zero():
    sc = small(n=2000, days=20)
    result = compare(sc, sc, replicates=3, seed=11)
    assert len({row["replicate"] for row in result.rows}) == 3
    assert {row["seed"] for row in result.rows} == {11, 12, 13}
    for row in result.rows:
        assert row["a"] == row["b"] and row["diff"] == 0.0, row
    for entry in summarise(result)["outcomes"]:
        assert entry["diff"] == 0.0 and entry["paired"]["width"] == 0.0, entry


# Policies that touch one module only. Reading the modules: purchases' sc-core category
# (good_deed) has no trait or life stage, so its draw `u < rate` never reads the score; the
# infractions catalogue has no chilling either; so both modules' acts, records and score
# components are the same in A and B on every day, whatever lists or sanctions do. Speech is
# chilled by the score, so it can feed back from day 1 on, but on day 0 everyone in both runs
# starts from the same initial score: its day-0 records must be equal.
POLICIES = [
    ({}, {"modules.lists.blacklist_below": 600}),
    ({"modules.lists.blacklist_below": 600},
     {"modules.lists.blacklist_below": 600, "modules.sanctions.ban_days": 5}),
]  # fmt: skip


@pytest.mark.parametrize("a_over,b_over", POLICIES, ids=["blacklist_below", "ban_days"])
def test_a_policy_leaves_other_modules_draws_identical(a_over, b_over):
    sim_a = run_sim(for_replicate(small(**a_over), 4))
    sim_b = run_sim(for_replicate(small(**b_over), 4))
    # the policy did something (else the test proves nothing)
    assert not np.array_equal(sim_a.record("banned"), sim_b.record("banned"))
    assert not np.array_equal(sim_a.score, sim_b.score)
    for name in ("purchases_good_deed", "infractions_committed", "infractions_detected"):
        assert sim_a.record(name).sum() > 0
        np.testing.assert_array_equal(sim_a.record(name), sim_b.record(name), err_msg=name)
    for component in ("purchases", "infractions"):  # per citizen, after every day
        np.testing.assert_array_equal(sim_a.component(component), sim_b.component(component))
    for name in ("speech_attempted", "speech_detected"):
        assert sim_a.record(name)[0] > 0
        assert sim_a.record(name)[0] == sim_b.record(name)[0], name


def test_paired_interval_is_narrower_on_the_stated_case():
    """sc-core, 3000 citizens, 30 days, speech penalty -25 (A) vs -35 (B), 5 replicates."""
    a = small(n=3000, days=30)
    b = small(n=3000, days=30, **{"modules.speech.penalty": -35})
    summary = summarise(compare(a, b, replicates=5, seed=1))
    entries = {e["outcome"]: e for e in summary["outcomes"]}
    # Why the pairing must help here: in one replicate A and B share every draw (network, dissent,
    # each day's speech, infraction and purchase draws); the penalty only changes how much a
    # detected act costs, which moves scores, which chills speech a little. So A's and B's
    # speech counts and mean scores move together from replicate to replicate (strong positive
    # correlation), and Var(B - A) = Var(A) + Var(B) - 2 Cov(A, B) is far below the
    # Var(A) + Var(B) the Welch interval assumes.
    for name in ("total_speech_attempted", "total_speech_detected", "final_mean_score"):
        e = entries[name]
        assert e["paired"]["width"] < e["unpaired"]["width"], e
        assert e["width_ratio"] < 0.5, e  # measured: 0.013, 0.017, 0.28
    # the harsher penalty lowers the mean score, and the paired interval excludes zero
    assert entries["final_mean_score"]["paired"]["high"] < 0


def _yaml(tmp_path: Path, name: str, **edits) -> str:
    raw = load_raw("sc-core")
    raw["name"] = name
    for dotted, value in edits.items():
        node = raw
        *parents, leaf = dotted.split(".")
        for key in parents:
            node = node[key]
        node[leaf] = value
    path = tmp_path / f"{name}.yaml"
    path.write_text(yaml.safe_dump(raw))
    return str(path)


def test_cli_writes_parquet_json_and_offline_html(tmp_path):
    b = _yaml(tmp_path, "harsh", **{"modules.speech.penalty": -35})
    out = tmp_path / "cmp"
    args = ["compare", "sc-core", b, "--replicates", "2", "--n", "2000", "--days", "10",
            "--seed", "7", "--out", str(out), "--threads", "1"]  # fmt: skip
    res = runner.invoke(app, args)
    assert res.exit_code == 0, res.output
    assert sorted(p.name for p in out.iterdir()) == [
        "comparison.html", "comparison.json", "comparison.parquet",
    ]  # fmt: skip
    assert not list(tmp_path.glob("*.partial"))
    summary = json.loads((out / "comparison.json").read_text())
    assert summary["seeds"] == [7, 8] and summary["n"] == 2000 and summary["days"] == 10
    outcomes = {e["outcome"] for e in summary["outcomes"]}
    assert {"final_banned", "final_mean_score", "final_score_spread"} <= outcomes
    assert len(summary["trajectories"]["mean_score"]["a"]) == 10
    rows = pq.read_table(out / "comparison.parquet").to_pylist()
    assert len(rows) == 2 * len(outcomes)
    for row in rows:
        assert row["diff"] == pytest.approx(row["b"] - row["a"], abs=1e-9)
    doc = (out / "comparison.html").read_text()
    assert doc.count("Plotly.newPlot(") == 2  # forest and trajectories
    assert not re.search(r"<script[^>]*\bsrc\s*=", doc, re.I)
    assert "modules.speech.penalty" in doc  # what differs
    assert "Final" in res.stdout and "paired" in res.stdout  # the table (wrapped at 80 cols)


def test_different_populations_exit_2(tmp_path):
    b = _yaml(tmp_path, "other-net", **{"network.k": 10})
    out = tmp_path / "cmp"
    res = runner.invoke(app, ["compare", "sc-core", b, "--replicates", "2", "--n", "2000",
                              "--out", str(out)])  # fmt: skip
    assert res.exit_code == 2
    assert "network.k: A has 20, B has 10" in " ".join(res.stderr.split())
    assert not out.exists() and not list(tmp_path.glob("*.partial"))


def test_different_sizes_named_without_override(tmp_path):
    a = _yaml(tmp_path, "small", **{"population.n": 2000})
    b = _yaml(tmp_path, "large", **{"population.n": 3000})
    res = runner.invoke(app, ["compare", a, b, "--replicates", "2"])
    assert res.exit_code == 2
    assert "population.n: A has 2000, B has 3000" in " ".join(res.stderr.split())


def test_one_replicate_exit_2(tmp_path):
    out = tmp_path / "cmp"
    res = runner.invoke(app, ["compare", "sc-core", "sc-core", "--replicates", "1", "--n",
                              "2000", "--out", str(out)])  # fmt: skip
    assert res.exit_code == 2
    assert "--replicates: 1 is not allowed; expected an integer >= 2" in res.stderr
    assert not out.exists()
    with pytest.raises(CompareError, match="replicates"):
        compare(small(), small(), replicates=1, seed=1)


def test_region_outcomes_add_up_to_the_whole():
    net = {"network": {"kind": "regional", "region_shares": [0.5, 0.3, 0.2]}}
    a = small(n=2000, days=10, **net)
    b = small(n=2000, days=10, **net, **{"modules.lists.blacklist_below": 640})
    result = compare(a, b, replicates=2, seed=3)
    assert result.regions == ["0", "1", "2"]
    counts = np.bincount(run_sim(for_replicate(a, 3)).region, minlength=3)
    listed = [row["b"] for row in result.rows if row["outcome"] == "final_listed"]
    assert max(listed) > 0  # the stricter blacklist lists someone: the sums are not all zero
    for r in (0, 1):
        rows = [row for row in result.rows if row["replicate"] == r]
        for name in {row["outcome"] for row in rows if row["region"] is not None}:
            whole = next(x for x in rows if x["outcome"] == name and x["region"] is None)
            parts = sorted((x for x in rows if x["outcome"] == name and x["region"] is not None),
                           key=lambda x: x["region"])  # fmt: skip
            for side in ("a", "b"):
                values = np.array([x[side] for x in parts])
                if name == "final_mean_score":  # a mean per region: weight by citizens
                    total = (values * counts).sum() / counts.sum()
                    assert total == pytest.approx(whole[side], rel=1e-9), name
                elif name == "peak_banned":  # regions may peak on different days
                    assert values.sum() >= whole[side]
                else:
                    assert values.sum() == whole[side], name


def test_outcomes_include_silenced_speech_and_every_perk_held():
    """A perk at 640 (held by whoever scores above it) and sc-core's speech with its linear
    chill: both are headline outcomes, read from the runs' own records."""
    permit = {"perks": [{"name": "permit", "min_score": 640}]}
    a = small(n=2000, days=10, **{"modules.perks": permit})
    result = compare(a, a, replicates=2, seed=4)
    rows = {row["outcome"]: row for row in result.rows if row["replicate"] == 0}
    sim = run_sim(for_replicate(a, 4))
    assert rows["total_speech_silenced"]["a"] == sim.record("speech_silenced").sum() > 0
    assert rows["final_perk_permit"]["a"] == sim.record("perk_permit")[-1] > 0
    labels = {e["outcome"]: e["label"] for e in summarise(result)["outcomes"]}
    assert labels["final_perk_permit"] == "Final citizens holding permit"


def test_different_represents_exit_2(tmp_path):
    a = _yaml(tmp_path, "scaled", **{"population.represents": 100})
    res = runner.invoke(app, ["compare", a, "sc-core", "--replicates", "2", "--n", "2000",
                              "--out", str(tmp_path / "cmp")])  # fmt: skip
    assert res.exit_code == 2
    assert "population.represents: A has 100.0, B has 1.0" in " ".join(res.stderr.split())


def test_counts_in_people_beside_citizens():
    scaled = {"population.represents": 100}
    a = small(n=2000, days=10, **scaled)
    b = small(n=2000, days=10, **scaled, **{"modules.lists.blacklist_below": 640})
    result = compare(a, b, replicates=2, seed=3)
    plain = compare(small(n=2000, days=10), small(n=2000, days=10, **{
        "modules.lists.blacklist_below": 640}), replicates=2, seed=3)  # fmt: skip
    assert result.rows == plain.rows  # standing for many people changes no outcome
    summary = summarise(result)
    assert summary["represents"] == 100.0 and summarise(plain)["represents"] == 1.0
    assert all(e["people"] is None for e in summarise(plain)["outcomes"])
    entries = {e["outcome"]: e for e in summary["outcomes"]}
    assert entries["final_listed"]["mean_b"] > 0  # the stricter blacklist lists someone
    for name, e in entries.items():
        if name in ("final_mean_score", "final_score_spread"):
            assert e["people"] is None, name
            continue
        people = e["people"]
        assert people["mean_a"] == e["mean_a"] * 100 and people["mean_b"] == e["mean_b"] * 100
        assert people["diff"] == e["diff"] * 100, name
        assert people["paired"] == {k: e["paired"][k] * 100 for k in ("low", "high")}
    doc = render_comparison(summary)
    assert "Each synthetic citizen stands for 100 people" in doc and "B - A, people" in doc
    assert "B - A, people" not in render_comparison(summarise(plain))
    console = Console(width=250, record=True)
    console.print(terminal_table(summary))
    rows = [[cell.strip() for cell in line.split("│" if "│" in line else "┃")[1:-1]]
            for line in console.export_text().splitlines()]  # fmt: skip
    cells = {row[0]: row[1:] for row in rows if row}
    assert cells["outcome"][-1] == "B - A, people"
    assert cells["Final listed"][-1] == f"+{entries['final_listed']['diff'] * 100:,.0f}"
    assert cells["Final mean score"][-1] == "-"
