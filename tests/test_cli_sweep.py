"""``scsim sweep`` from the command line: on a scheduler and two workers started as separate
processes, and a clear message with exit 2 (and nothing written) for each mistake."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pyarrow.parquet as pq
import pytest
import yaml

from tests.conftest import scsim_cli
from tests.experiments.conftest import sweep_data

DASK = str(Path(sys.executable).with_name("dask"))


@pytest.fixture
def spec(tmp_path: Path) -> Path:
    path = tmp_path / "sweep.yaml"
    path.write_text(yaml.safe_dump(sweep_data(), sort_keys=False))
    return path


def test_a_sweep_runs_on_a_scheduler_and_two_worker_processes(spec, tmp_path):
    info = tmp_path / "scheduler.json"
    env = dict(os.environ, NUMBA_NUM_THREADS="1")
    scheduler = subprocess.Popen(
        [DASK, "scheduler", "--scheduler-file", str(info), "--port", "0",
         "--dashboard-address", ":0"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env,
    )  # fmt: skip
    workers = []
    try:
        deadline = time.monotonic() + 60
        while not info.exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        address = json.loads(info.read_text())["address"]
        workers = [
            subprocess.Popen(
                [DASK, "worker", address, "--nthreads", "1", "--name", f"w{i}"],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                env=env,
            )  # fmt: skip
            for i in range(2)
        ]
        out = tmp_path / "out"
        res = scsim_cli("sweep", str(spec), "--out", str(out), "--scheduler", address, "--no-png")
        assert res.returncode == 0, res.stderr
        assert "3 points x 2 replicates = 6 runs of 2,000 citizens x 40 days" in res.stdout
        assert "Dask dashboard: http://" in res.stdout
        table = pq.read_table(out / "results.parquet").to_pylist()
        assert len(table) == 6
        stored = [json.loads(p.read_text())["worker"] for p in (out / "tasks").glob("*.json")]
        assert len({w.split(":")[1] for w in stored}) == 2  # both worker processes ran tasks
        local = scsim_cli(
            "sweep", str(spec), "--out", str(tmp_path / "local"), "--workers", "1", "--no-png"
        )
        assert local.returncode == 0, local.stderr
        again = pq.read_table(tmp_path / "local" / "results.parquet").to_pylist()
        assert [r | {"run_s": 0} for r in again] == [r | {"run_s": 0} for r in table]
    finally:
        for p in [*workers, scheduler]:
            p.terminate()
        for p in [*workers, scheduler]:
            p.wait(timeout=30)


def test_a_sweep_directory_is_queried_like_a_run(spec, tmp_path):
    out = tmp_path / "out"
    res = scsim_cli("sweep", str(spec), "--out", str(out), "--workers", "1")
    assert res.returncode == 0 and f"report:   {out / 'report.html'}" in res.stdout
    assert "citizens banned against each parameter" in (out / "report.html").read_text()
    assert len(list((out / "plots").glob("*.png"))) == 2 + 2  # 2 outcomes x (against, 1 pair)
    res = scsim_cli("query", str(out), "SELECT count(*) AS runs, count(DISTINCT point) AS points "
                    "FROM results", "--json")  # fmt: skip
    assert json.loads(res.stdout) == [{"runs": 6, "points": 3}]
    res = scsim_cli("query", str(out), "SELECT name FROM parameters ORDER BY name", "--json")
    assert json.loads(res.stdout) == [{"name": "lists_blacklist_below"},
                                      {"name": "speech_penalty"}]  # fmt: skip
    again = scsim_cli("sweep", str(spec), "--out", str(out))
    assert again.returncode == 0 and "6 stored, 0 to run" in again.stdout


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"outcomes": {"x": "SELECT nope FROM timeseries"}}, "outcomes.x: Binder Error"),
        ({"outcomes": {"x": "SELECT day, listed FROM timeseries"}}, "x: returned 2 columns"),
        ({"parameters": {"modules.lists.nope": {"low": 1, "high": 2}}}, "'nope' is not a field"),
    ],
)  # fmt: skip
def test_a_bad_sweep_file_exits_2_and_writes_nothing(tmp_path, changes, message):
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(sweep_data(**changes)))
    res = scsim_cli("sweep", str(path), "--out", str(tmp_path / "out"))
    assert res.returncode == 2, res.stderr
    assert message in res.stderr and "Traceback" not in res.stderr
    assert not (tmp_path / "out").exists()


def test_flag_mistakes_exit_2(spec, tmp_path):
    busy = tmp_path / "busy"
    busy.mkdir()
    (busy / "notes.txt").write_text("mine")
    cases = [
        (["--out", str(busy)], "is not empty and is not a sweep directory"),
        (["--workers", "0"], "--workers: 0 is not allowed"),
        (["--replicates", "0"], "replicates: 0 is not allowed"),
        (["--scheduler", "tcp://127.0.0.1:9", "--workers", "2"], "with --scheduler"),
    ]
    for flags, message in cases:
        res = scsim_cli("sweep", str(spec), *flags)
        assert res.returncode == 2 and message in res.stderr, (flags, res.stderr)
    assert sorted(p.name for p in busy.iterdir()) == ["notes.txt"]


def test_an_unreachable_scheduler_is_named(spec, tmp_path):
    res = scsim_cli("sweep", str(spec), "--out", str(tmp_path / "o"), "--scheduler",
                    "tcp://127.0.0.1:9")  # fmt: skip
    assert res.returncode == 2
    assert "--scheduler: cannot reach a Dask scheduler at 'tcp://127.0.0.1:9'" in res.stderr
    assert not (tmp_path / "o").exists()
