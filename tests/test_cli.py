"""The command line: bad input gets one clear message, exit code 2, and no run directory."""

import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from scsim.cli import app
from scsim.scenario import load_raw

runner = CliRunner()


def _scenario(tmp_path: Path, edit) -> str:
    raw = load_raw("sc-core")
    raw["population"]["n"] = 1000
    edit(raw)
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(raw))
    return str(path)


def _set(path, value):
    def edit(raw):
        node = raw
        *parents, leaf = path
        for key in parents:
            node = node[key]
        node[leaf] = value

    return edit


BAD_FILES = [
    (_set(("population", "n"), -5), "population.n: -5 is not allowed; expected an integer >= 1"),
    (_set(("days",), 0), "days: 0 is not allowed; expected an integer >= 1"),
    (_set(("days",), 32767), "days: 32767 is not allowed; expected an integer <= 32766"),
    (_set(("seed",), "abc"), 'seed: "abc" is not allowed; expected an integer'),
    (_set(("network", "k"), 7), "network.k: 7 is not allowed; expected an even integer"),
    (_set(("network", "rewire_prob"), 1.5), "network.rewire_prob: 1.5 is not allowed; expected a number <= 1"),
    (_set(("network", "kind"), "random"), "network.kind: \"random\" is not allowed; expected one of 'watts-strogatz'"),
    (_set(("modules", "speech", "detect_prob"), -0.1), "modules.speech.detect_prob: -0.1 is not allowed; expected a number >= 0"),
    (_set(("modules", "speech", "chill"), "cubic"), "modules.speech.chill: \"cubic\" is not allowed; expected one of 'linear' or 'none'"),
    (_set(("modules", "infractions", "kinds", 0, "rate"), 2), "modules.infractions.kinds[0].rate: 2 is not allowed; expected a number <= 1"),
    (_set(("modules", "infractions", "kinds", 0, "name"), "Bad Name"), "modules.infractions.kinds[0].name: \"Bad Name\" is not allowed; expected lowercase letters"),
    (_set(("modules", "scoring", "initial"), 1000), "initial (1000.0) must lie within range [350.0, 950.0]"),
    (_set(("modules", "sanctions", "ban_days"), 0), "modules.sanctions.ban_days: 0 is not allowed; expected an integer >= 1"),
    (_set(("modules", "speech", "loudness"), 3),
     "modules.speech.loudness: is not a known field; check its spelling (scsim schema lists"),
    (_set(("modules", "lists"), None), "modules.sanctions needs modules.lists"),
    (lambda raw: raw.pop("population"), "population: is required but missing"),
    (_set(("modules", "scoring", "weights"), {"courage": 2}), "modules.scoring.weights.courage is not a score component of this scenario; expected one of ['friends', 'infractions', 'purchases', 'speech']"),
    (_set(("modules", "scoring", "weights"), {"speech": -1}), "weights.speech (-1.0) must lie within [0, 100]"),
    (_set(("modules", "purchases", "categories", 0, "trait"), "thrift"), "modules.purchases needs modules.population"),
    (_set(("modules", "purchases", "categories", 0), {"name": "x", "rate": 0.1, "effect": 1, "min_age": 70, "max_age": 60}), "min_age (70) must be <= max_age (60)"),
    (_set(("modules", "expiry"), {"after_days": 0}), "modules.expiry.after_days: 0 is not allowed; expected an integer >= 1"),
    (_set(("population", "represents"), 0.5), "population.represents: 0.5 is not allowed; expected a number >= 1"),
    (_set(("population", "represents"), 0), "population.represents: 0 is not allowed; expected a number >= 1"),
    (_set(("population", "represents"), True), "population.represents: true is not allowed; expected a number >= 1"),
    (_set(("population", "represents"), float("inf")), "population.represents: Infinity is not allowed; expected a finite number"),
    (_set(("population", "represents"), "many"), 'population.represents: "many" is not allowed; expected a number'),
]  # fmt: skip


@pytest.mark.parametrize("edit,message", BAD_FILES, ids=[m[:40] for _, m in BAD_FILES])
def test_bad_scenario_file(tmp_path, edit, message):
    out = tmp_path / "run"
    res = runner.invoke(app, ["run", _scenario(tmp_path, edit), "--out", str(out)])
    assert res.exit_code == 2, res.output
    assert message in " ".join(res.stderr.split()), res.stderr
    assert "Traceback" not in res.output + res.stderr
    assert not out.exists() and not list(tmp_path.glob("run*"))


BAD_FLAGS = [
    (["--n", "-5"], "population.n: -5 is not allowed; expected an integer >= 1"),
    (["--n", "10"], "population.n (10) must be at least network.k + 2 (22)"),
    (["--days", "0"], "days: 0 is not allowed; expected an integer >= 1"),
    (["--seed", "-1"], "seed: -1 is not allowed; expected an integer >= 0"),
    (["--threads", "99"], "--threads: 99 is not allowed; expected an integer from 1 to"),
]


@pytest.mark.parametrize("flags,message", BAD_FLAGS, ids=[" ".join(f) for f, _ in BAD_FLAGS])
def test_bad_flag(tmp_path, flags, message):
    out = tmp_path / "run"
    res = runner.invoke(app, ["run", "sc-core", *flags, "--out", str(out)])
    assert res.exit_code == 2
    assert message in " ".join(res.stderr.split()), res.stderr
    assert not out.exists()


def test_unknown_scenario_and_bad_yaml(tmp_path):
    res = runner.invoke(app, ["run", "no-such-preset"])
    message = " ".join(res.stderr.split())
    assert res.exit_code == 2 and "neither a preset (all-modules, beijing-2020," in message
    assert "sc-core, sesame," in message and "nor a readable YAML file" in message
    broken = tmp_path / "broken.yaml"
    broken.write_text("population: {n: 5\nseed: [")
    res = runner.invoke(app, ["run", str(broken), "--out", str(tmp_path / "r")])
    assert res.exit_code == 2 and "not valid YAML at line" in res.stderr
    assert not (tmp_path / "r").exists()
    latin1 = tmp_path / "latin1.yaml"
    latin1.write_bytes("name: caf\xe9\npopulation: {n: 100}\n".encode("latin-1"))
    res = runner.invoke(app, ["run", str(latin1), "--out", str(tmp_path / "r")])
    message = " ".join(res.stderr.split())
    assert res.exit_code == 2 and "not UTF-8 text (byte 0xe9 at offset 9)" in message, message
    assert "Traceback" not in res.output + res.stderr and not (tmp_path / "r").exists()


def test_existing_output_directory_is_refused(tmp_path):
    out = tmp_path / "run"
    out.mkdir()
    (out / "keep.txt").write_text("mine")
    res = runner.invoke(app, ["run", "sc-core", "--n", "1000", "--days", "2", "--out", str(out)])
    assert res.exit_code == 2 and "already exists" in res.stderr
    assert (out / "keep.txt").read_text() == "mine"


def test_run_writes_a_complete_run_directory(tmp_path):
    out = tmp_path / "run"
    res = runner.invoke(app, ["run", "sc-core", "--n", "5000", "--days", "20", "--seed", "3",
                              "--out", str(out), "--png"])  # fmt: skip
    assert res.exit_code == 0, res.output
    assert (
        f"report:        {out / 'report.html'}" in " ".join(res.stdout.split())
        or str(out / "report.html") in res.stdout
    )
    assert sorted(p.name for p in out.iterdir()) == [
        "audit.parquet", "distribution.parquet", "events.parquet", "manifest.json",
        "people.parquet", "plots", "report.html", "timeseries.parquet",
    ]  # fmt: skip
    assert list((out / "plots").glob("*.png"))  # every report figure as a PNG (kaleido)
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["seed"] == 3 and manifest["n"] == 5000 and manifest["days"] == 20
    assert manifest["preset"] == "sc-core" and len(manifest["scenario_hash"]) == 16
    assert manifest["scenario"]["population"]["n"] == 5000
    assert set(manifest["timings"]) >= {"build_s", "jit_s", "step_s", "write_s"}
    assert not list(tmp_path.glob("*.partial"))


def test_bench_prints_one_json_line():
    res = runner.invoke(app, ["bench", "sc-core", "--n", "5000", "--days", "10", "--seed", "2",
                              "--threads", "1"])  # fmt: skip
    assert res.exit_code == 0, res.output
    lines = res.stdout.strip().splitlines()
    assert len(lines) == 1
    row = json.loads(lines[0])
    keys = {"n", "days", "seed", "threads", "build_s", "step_s", "agent_steps_per_s",
            "peak_rss_mb", "final_mean_score", "final_banned", "total_speech_detected"}  # fmt: skip
    assert keys <= set(row)
    assert row["n"] == 5000 and row["days"] == 10 and row["threads"] == 1
    assert row["agent_steps_per_s"] > 0 and row["peak_rss_mb"] > 0
    assert 350 <= row["final_mean_score"] <= 950


def test_presets_lists_sc_core():
    res = runner.invoke(app, ["presets"])
    assert res.exit_code == 0 and "sc-core" in res.stdout and "SC-core v1" in res.stdout


def test_regional_network_errors_name_the_field(tmp_path):
    def regional(raw, **kw):
        raw["network"] = {"kind": "regional", **kw}

    cases = [
        ({"household_mean": 0.5}, "network.household_mean: 0.5 is not allowed; expected a number >= 1"),
        ({"friends_k": 3}, "network.friends_k: 3 is not allowed; expected an even integer"),
        ({"region_shares": [1, -2]}, "network.region_shares[1]: -2 is not allowed; expected a number > 0"),
        ({"region_shares": [1] * 200}, "leaves a region with 5 citizens; every region needs more than network.friends_k (10)"),
    ]  # fmt: skip
    for kw, message in cases:
        path = _scenario(tmp_path, lambda raw, kw=kw: regional(raw, **kw))
        res = runner.invoke(app, ["run", path, "--out", str(tmp_path / "r")])
        assert res.exit_code == 2 and message in res.stderr, (kw, res.stderr)


# --- scsim explore (issue 6) -------------------------------------------------------------


def _tiny_run(path: Path) -> Path:
    """A one-citizen run directory with the files `scsim explore` checks."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    path.mkdir()
    (path / "manifest.json").write_text(json.dumps({"n": 1, "days": 1, "components": []}))
    pq.write_table(pa.table({"citizen": [0], "score": [650.0]}), path / "people.parquet")
    for name in ("timeseries", "distribution", "events", "audit"):
        pq.write_table(pa.table({"day": pa.array([], pa.int32())}), path / f"{name}.parquet")
    return path


def test_explore_refuses_missing_and_incomplete_run_directories(tmp_path):
    half = _tiny_run(tmp_path / "half")
    (half / "people.parquet").unlink()
    (tmp_path / "cut.partial").mkdir()
    cases = [
        (tmp_path / "nowhere", "RUN_DIR: run directory '{p}' does not exist"),
        (half, "RUN_DIR: run directory '{p}' is incomplete: missing people.parquet"),
        (tmp_path / "cut", "RUN_DIR: run directory '{p}' is incomplete: only '{p}.partial' exists"),
    ]
    for path, message in cases:
        res = runner.invoke(app, ["explore", str(path)])
        assert res.exit_code == 2 and message.format(p=path) in res.stderr, res.stderr


def test_explore_refuses_a_bad_or_busy_port(tmp_path):
    import socket

    run = str(_tiny_run(tmp_path / "tiny"))
    res = runner.invoke(app, ["explore", run, "--port", "0"])
    assert res.exit_code == 2
    assert "--port: 0 is not allowed; expected an integer from 1 to 65535" in res.stderr
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        res = runner.invoke(app, ["explore", run, "--port", str(port)])
    assert res.exit_code == 2 and f"--port: {port} is in use on 127.0.0.1" in res.stderr


def test_run_says_what_the_citizens_stand_for(tmp_path):
    path = _scenario(tmp_path, _set(("population", "represents"), 10_000))
    res = runner.invoke(app, ["run", path, "--days", "5", "--out", str(tmp_path / "run")])
    assert res.exit_code == 0, res.output
    text = " ".join(res.stdout.split())
    assert "Each synthetic citizen stands for 10,000 people" in text
    assert "The run stands for 10 million people." in text  # 1000 citizens
    manifest = json.loads((tmp_path / "run" / "manifest.json").read_text())
    assert manifest["scenario"]["population"] == {"n": 1000, "represents": 10_000.0}


def test_the_command_line_starts_without_numba():
    # numba's import costs a start-up every command pays (presets, validate, --help); only the
    # commands that build a Sim import it (scsim.mpi's launcher questions must not)
    code = "import sys, scsim.cli; print('numba' in sys.modules)"
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert res.returncode == 0, res.stderr
    assert res.stdout.strip() == "False"
