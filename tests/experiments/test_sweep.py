"""Sweeps on a local Dask cluster: every (point, replicate) once, common random numbers, equal
to a serial run, and resumed after a lost client or a lost worker."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import cloudpickle
import pyarrow.parquet as pq
import pytest
from distributed.diagnostics.plugin import WorkerPlugin

from scsim.experiments.executor import dask_client
from scsim.experiments.spec import load_sweep
from scsim.experiments.sweep import RESULTS, execute, plan
from scsim.experiments.tasks import run_task

cloudpickle.register_pickle_by_value(sys.modules[__name__])  # the plugin below, on workers


@pytest.fixture(scope="module")
def client():
    with dask_client(workers=2) as c:
        yield c


def rows(out: Path) -> list[dict]:
    return pq.read_table(out / RESULTS).to_pylist()


def test_every_point_and_replicate_once_with_shared_seeds(client, write_sweep, tmp_path):
    sweep = load_sweep(write_sweep())
    p = plan(sweep, tmp_path / "out")
    assert execute(p, client) == []
    got = rows(p.out)
    assert sorted((r["point"], r["replicate"]) for r in got) == [
        (i, r) for i in range(3) for r in range(2)
    ]
    # common random numbers: replicate r runs with seed + r at every point
    assert {(r["replicate"], r["seed"]) for r in got} == {(0, 3), (1, 4)}
    for r in got:
        values = p.points[r["point"]]
        assert r["lists_blacklist_below"] == values["modules.lists.blacklist_below"]
        assert r["speech_penalty"] == values["modules.speech.penalty"]
    # the parameters matter: points differ, at least in the mean score
    assert len({r["mean_score"] for r in got if r["replicate"] == 0}) == 3


def test_each_result_equals_a_serial_run(client, write_sweep, tmp_path):
    sweep = load_sweep(write_sweep())
    p = plan(sweep, tmp_path / "out")
    execute(p, client)
    got = {(r["point"], r["replicate"]): r for r in rows(p.out)}
    for task in (p.tasks[0], p.tasks[-1]):
        serial = run_task(task.scenario, sweep.outcomes)["outcomes"]
        row = got[(task.point, task.replicate)]
        assert {k: row[k] for k in serial} == serial


def test_the_same_sweep_again_runs_only_what_is_missing(client, write_sweep, tmp_path):
    sweep = load_sweep(write_sweep())
    p = plan(sweep, tmp_path / "out")
    execute(p, client)
    before = rows(p.out)
    for task in p.tasks[1:3]:
        p.path(task).unlink()
    ran = []
    execute(p, client, on_done=lambda task, result: ran.append(task.key))
    assert sorted(ran) == sorted(t.key for t in p.tasks[1:3])
    after = rows(p.out)
    assert [r | {"run_s": 0} for r in after] == [r | {"run_s": 0} for r in before]


class KillFirstTask(WorkerPlugin):
    """Kills its worker process (SIGKILL) when the cluster's first task starts executing."""

    def __init__(self, marker: str) -> None:
        self.marker = marker

    def transition(self, key, start, finish, **kwargs) -> None:
        if finish == "executing" and not os.path.exists(self.marker):
            Path(self.marker).write_text(str(os.getpid()))
            os.kill(os.getpid(), signal.SIGKILL)


def test_a_task_whose_worker_dies_is_run_again_elsewhere(write_sweep, tmp_path):
    sweep = load_sweep(write_sweep(replicates=1))
    p = plan(sweep, tmp_path / "out")
    marker = tmp_path / "killed"
    with dask_client(workers=2) as c:
        c.register_plugin(KillFirstTask(str(marker)))
        assert execute(p, c) == []
    assert marker.exists()  # a worker did die mid-task
    got = rows(p.out)
    assert sorted(r["point"] for r in got) == [0, 1, 2]
    assert len(list((p.out / "tasks").iterdir())) == 3
    for task in p.tasks:
        stored = json.loads(p.path(task).read_text())["outcomes"]
        assert stored == run_task(task.scenario, sweep.outcomes)["outcomes"]


def _task_files(out: Path) -> list[Path]:
    return sorted((out / "tasks").glob("*.json")) if (out / "tasks").is_dir() else []


def test_kill_9_of_the_client_then_the_same_command_completes(write_sweep, tmp_path):
    spec = write_sweep(days=150, design={"kind": "latin", "samples": 8})
    out = tmp_path / "out"
    command = [sys.executable, "-m", "scsim", "sweep", str(spec), "--out", str(out)]
    client = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 300
    while len(_task_files(out)) < 2 and time.monotonic() < deadline and client.poll() is None:
        time.sleep(0.05)
    client.send_signal(signal.SIGKILL)
    client.wait()
    stored = len(_task_files(out))
    assert 2 <= stored < 16, "the client was not killed mid-sweep"
    again = subprocess.run(command, capture_output=True, text=True, timeout=600)
    assert again.returncode == 0, again.stderr
    assert f"{stored} stored, {16 - stored} to run" in again.stdout
    got = rows(out)
    assert sorted((r["point"], r["replicate"]) for r in got) == [
        (i, r) for i in range(8) for r in range(2)
    ]
    assert len(_task_files(out)) == 16 and not list((out / "tasks").glob(".*"))
    sweep = load_sweep(spec)
    task = plan(sweep, out).tasks[5]
    serial = run_task(task.scenario, sweep.outcomes)["outcomes"]
    row = next(r for r in got if (r["point"], r["replicate"]) == (task.point, task.replicate))
    assert {k: row[k] for k in serial} == serial


def test_kept_runs_are_complete_run_directories(client, write_sweep, tmp_path):
    from scsim.query import run_query

    sweep = load_sweep(write_sweep(keep_runs=True, replicates=1))
    p = plan(sweep, tmp_path / "out")
    execute(p, client)
    kept = sorted((p.out / "runs").iterdir())
    assert [k.name for k in kept] == sorted(t.key for t in p.tasks)
    for task in p.tasks:
        run = p.out / "runs" / task.key
        assert (run / "report.html").exists()
        [(mean,)] = run_query(run, "SELECT mean_score FROM timeseries WHERE day = 39").rows
        stored = json.loads(p.path(task).read_text())["outcomes"]
        assert stored["mean_score"] == mean
