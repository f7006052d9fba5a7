"""Checkpoints: a run saved after a day and continued from the file gives the outputs of the
same run made in one go, for every preset; a run killed with SIGKILL and resumed writes the
same files; bad checkpoints get one clear message and exit code 2."""

from __future__ import annotations

import json
import mmap
import os
import signal
import subprocess
import sys
from pathlib import Path

import numba
import numpy as np
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from scsim import results
from scsim.checkpoint import META, SMALL, CheckpointError, _copied, directory_of, read_trailer
from scsim.checkpoint_writer import Checkpoints
from scsim.cli import app
from scsim.engine import Sim
from scsim.scenario import load_raw, load_scenario, preset_names, validate
from tests.run_files import same_run_files, wait_for_checkpoint

runner = CliRunner()
N, DAYS, CUT = 2500, 60, 25
"""Citizens, days, and the day after which a run is saved (not a multiple of shunning's
measure_every, so carried-forward measures are in flight)."""


def _scenario(name: str):
    """A preset at small N; china-2020's mandate moved to after the cut."""
    raw = load_raw(name)
    raw["population"]["n"], raw["days"], raw["seed"] = N, DAYS, 5
    if name == "china-2020":
        raw["timeline"][0]["day"] = 40
    return validate(raw)


def _shunning():
    """sc-core with regions, shunning (the graph edited daily), expiry, perks and enrolment,
    and a timeline that changes a threshold and grants an amnesty before and after the cut."""
    raw = load_raw("sc-core")
    raw["population"]["n"], raw["days"], raw["seed"] = N, DAYS, 6
    raw["network"] = {"kind": "layered", "region_shares": [0.5, 0.5]}
    raw["modules"]["lists"]["blacklist_below"] = 630
    raw["modules"]["shunning"] = {"cut_prob": 0.2, "form_rate": 0.2, "measure_every": 7}
    raw["modules"]["expiry"] = {"after_days": 20}
    raw["modules"]["perks"] = {}
    raw["modules"]["policy"] = {"enrolment": {"initial_share": 0.5, "base_rate": 0.01}}
    raw["output"] = {"audit_sample": 500}
    raw["timeline"] = [
        {"day": 10, "set": {"modules.lists.blacklist_below": 640}},
        {"day": 20, "amnesty": {"listings": True, "records": True}},
        {"day": 32, "amnesty": {"listings": True, "records": False}},
        {"day": 40, "set": {"modules.lists.blacklist_below": 620}},
    ]
    return validate(raw)


def tables(sim: Sim) -> dict:
    """Every table a run directory holds, from the Sim."""
    out = {
        "timeseries": results.timeseries_table(sim),
        "people": results.people_table(sim),
        "events": results.events_table(sim),
        "audit": results.audit_table(sim),
        "distribution": results.distribution_table(sim),
    }
    if sim.n_regions > 1:
        out["regions"] = results.region_table(sim)
    return out


def assert_same(a: dict, b: dict) -> None:
    assert a.keys() == b.keys()
    for name, table in a.items():
        assert table.column_names == b[name].column_names, name
        for column in table.column_names:
            assert table.column(column).equals(b[name].column(column)), f"{name}.{column}"


def _saved(sc, path: Path, cut: int = CUT) -> Sim:
    """The run stepped to ``cut`` and saved to the file ``path``."""
    sim = Sim(sc).build()
    for day in range(cut):
        sim.step(day)
    sim.save_checkpoint(path)
    return sim


def resumed(sc, cut: int, path: Path) -> Sim:
    """The run stepped to ``cut``, saved, dropped, and loaded from the file."""
    _saved(sc, path, cut)
    return Sim.load_checkpoint(path)


# in reverse order: tests/test_presets.py runs the presets at the same time on the other
# worker, in order, so each kernel is compiled once (by the first worker to need it)
@pytest.mark.parametrize("name", ["shunning", *reversed(preset_names())])
def test_a_resumed_run_is_the_run_made_in_one_go(name, tmp_path):
    sc = _shunning() if name == "shunning" else _scenario(name)
    whole = Sim(sc).run()
    sim = resumed(sc, CUT, tmp_path / "state.bin")
    assert sim.day == CUT and sim.built
    assert_same(tables(whole), tables(sim.run()))


def test_people_fields_stay_views_of_module_state(tmp_path):
    """Rows of a module's 2-D state are people fields (one array, two names), and the audit
    log's scores are a transposed view: after loading they share memory again."""
    sc = _scenario("all-modules")
    before = Sim(sc).build()
    sim = resumed(sc, 3, tmp_path / "state.bin")

    def shared(s: Sim) -> set:
        return {
            (m.name, key, field)
            for m in s.modules
            for key, array in m.state.items()
            for field, values in s.people.fields.items()
            if np.shares_memory(array, values)
        }

    pairs = shared(before)
    assert ("sanctions", "sanction_until", "sanction_until_rail") in pairs
    assert shared(sim) == pairs
    sim.module("sanctions").state["sanction_until"][1, 7] = 12345
    assert sim.people.fields["sanction_until_rail"][7] == 12345
    assert np.shares_memory(sim.events.score, sim.events.score_by_day)
    assert np.shares_memory(sim.events.parts, sim.events.parts_by_day)


def test_any_arrays_that_share_memory_share_it_after_loading(tmp_path):
    """Views through a memoryview too; memory shared otherwise cannot be kept: refused."""
    sim = Sim(load_scenario("sc-core", {"population.n": 500, "days": 3})).build()
    a = np.arange(10.0)
    sim.module("scoring").extra = (a[::-1], np.frombuffer(memoryview(a)[2:], np.float64))
    sim.save_checkpoint(tmp_path / "s.bin")
    back, through = Sim.load_checkpoint(tmp_path / "s.bin").module("scoring").extra
    back[0] = -1.0
    assert through[7] == -1.0 and through[0] == 2.0
    raw = bytearray(80)
    sim.module("scoring").extra = (np.frombuffer(raw), np.frombuffer(raw, offset=8))
    with pytest.raises(CheckpointError, match="share memory, but neither is a view"):
        sim.save_checkpoint(tmp_path / "t.bin")
    assert not (tmp_path / "t.bin").exists()


def test_copy_buffers_keep_order_values_and_are_reused():
    """A checkpoint's copy: big blocks in anonymous memory (no huge-page advice), C and Fortran
    order kept, values equal, and the same buffers filled again at the next checkpoint."""
    rows = SMALL // 8 + 1  # 2 x rows float64: above SMALL
    roots = [np.arange(2.0 * rows).reshape(2, rows), np.asfortranarray(np.ones((rows, 2))),
             np.arange(10, dtype=np.int32)]  # fmt: skip
    into: list[np.ndarray] = []
    first = _copied(roots, into)
    for root, copy in zip(roots, first, strict=True):
        assert np.array_equal(copy, root) and copy.flags.f_contiguous == root.flags.f_contiguous
        assert not np.shares_memory(copy, root)
    assert [isinstance(c.base, mmap.mmap) for c in first] == [True, True, False]
    roots[0][1, -1] = -5.0
    again = _copied(roots, into)
    assert all(a is b for a, b in zip(first, again, strict=True)) and again[0][1, -1] == -5.0


def test_resumed_twice_and_on_one_or_two_threads(tmp_path):
    sc = _shunning()
    whole = tables(Sim(sc).run())
    first = resumed(sc, 20, tmp_path / "a.bin")
    for day in range(20, 41):
        first.step(day)
    first.save_checkpoint(tmp_path / "b.bin")
    again = Sim.load_checkpoint(tmp_path / "b.bin")
    assert again.day == 41
    assert_same(whole, tables(again.run()))
    threads = numba.get_num_threads()
    for k in (1, 2):
        numba.set_num_threads(k)
        try:
            assert_same(whole, tables(Sim.load_checkpoint(tmp_path / "a.bin").run()))
        finally:
            numba.set_num_threads(threads)


# ---------------------------------------------------------------- the command line

KILL = ["sc-core", "--n", "20000", "--days", "200", "--checkpoint-every", "20"]


def test_kill_9_then_resume_writes_the_files_of_the_uninterrupted_run(tmp_path, run_cli):
    (tmp_path / "whole").mkdir()
    (tmp_path / "killed").mkdir()
    whole, killed = tmp_path / "whole" / "run", tmp_path / "killed" / "run"
    res = run_cli("run", *KILL, "--out", str(whole))
    assert res.returncode == 0, res.stderr
    assert not directory_of(whole).exists()  # deleted once the run is written
    command = [sys.executable, "-m", "scsim", "run", *KILL, "--out", str(killed)]
    proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for_checkpoint(proc, directory_of(killed) / META, 60)
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.kill()
        proc.wait()
    assert proc.returncode == -signal.SIGKILL
    assert not killed.exists()
    res = run_cli("resume", str(killed))
    assert res.returncode == 0, res.stderr
    assert "Traceback" not in res.stderr
    assert not directory_of(killed).exists()
    same_run_files(whole, killed)


def test_ctrl_c_waits_for_the_checkpoint_being_written_then_resume_completes(tmp_path, run_cli):
    # SIGINT lands while the run goes on and a write may be in flight: the run stops without a
    # traceback, its newest checkpoint is complete (no temporary file left), and resuming it
    # writes the uninterrupted run's files
    whole, stopped = tmp_path / "whole", tmp_path / "stopped"
    assert run_cli("run", *KILL, "--out", str(whole)).returncode == 0
    command = [sys.executable, "-m", "scsim", "run", *KILL, "--out", str(stopped)]
    proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        wait_for_checkpoint(proc, directory_of(stopped) / META, 60)
        proc.send_signal(signal.SIGINT)
        _, stderr = proc.communicate(timeout=120)
    finally:
        proc.kill()
        proc.wait()
    assert proc.returncode != 0 and "Traceback" not in stderr, stderr
    assert not stopped.exists()
    assert not list(directory_of(stopped).glob("*.tmp"))
    res = run_cli("resume", str(stopped))
    assert res.returncode == 0, res.stderr
    same_run_files(whole, stopped)


@pytest.fixture(scope="module")
def checkpointed(tmp_path_factory) -> Path:
    """A run directory's checkpoint after day 10 of 20 (sc-core, 2000 citizens), made as
    ``scsim run --checkpoint-every 10`` makes it; the run directory itself is not written."""
    from scsim.cli_resume import checkpoints

    out = tmp_path_factory.mktemp("ckpt") / "run"
    sim = Sim(load_scenario("sc-core", {"population.n": 2000, "days": 20})).build()
    meta = {"preset": "sc-core", "threads": 1, "png": False, "out": str(out)}
    saver = checkpoints(sim, out, 10, meta)
    saver.background = False
    for day in range(10):
        sim.step(day)
        saver(day)
    return out


def _copy(out: Path, tmp_path: Path) -> Path:
    import shutil

    copy = tmp_path / out.name
    shutil.copytree(directory_of(out), directory_of(copy))
    return copy


def _fails(args: list[str], *expected: str) -> None:
    res = runner.invoke(app, args)
    assert res.exit_code == 2, res.output
    text = " ".join(res.output.split())
    for part in expected:
        assert " ".join(part.split()) in text, (part, res.output)
    assert "Traceback" not in res.output


def test_resume_in_process_and_its_checkpoint_removed(checkpointed, tmp_path):
    out = _copy(checkpointed, tmp_path)
    res = runner.invoke(app, ["resume", str(directory_of(out)), "--threads", "1"])
    assert res.exit_code == 0, res.output
    assert (out / "people.parquet").exists() and not directory_of(out).exists()
    assert pq.read_table(out / "timeseries.parquet").num_rows == 20
    _fails(["resume", str(out)], f"RUN_DIR: '{out}' already exists")


def test_resume_without_a_checkpoint(tmp_path):
    where = tmp_path / "nothing"
    _fails(["resume", str(where)], str(directory_of(where)), "holds no checkpoint")


def test_resume_of_a_truncated_state_file(checkpointed, tmp_path):
    out = _copy(checkpointed, tmp_path)
    state = next(directory_of(out).glob("state-*.bin"))
    data = state.read_bytes()
    state.write_bytes(data[: len(data) // 2])
    _fails(["resume", str(out)], str(state), "is truncated")
    assert not out.exists()


def test_resume_of_a_corrupt_state_file(checkpointed, tmp_path):
    out = _copy(checkpointed, tmp_path)
    state = next(directory_of(out).glob("state-*.bin"))
    data = bytearray(state.read_bytes())
    data[len(data) // 2] ^= 0xFF
    state.write_bytes(bytes(data))
    _fails(["resume", str(out)], str(state), "is corrupt (a checksum does not match)")


def test_resume_of_another_version(checkpointed, tmp_path):
    out = _copy(checkpointed, tmp_path)
    path = directory_of(out) / META
    meta = json.loads(path.read_text())
    meta["code"] = "0123456789abcdef"
    path.write_text(json.dumps(meta))
    _fails(["resume", str(out)], str(path), "code 0123456789abcdef), but this is scsim")


def test_checkpoint_every_must_be_a_day_or_more(tmp_path):
    out = tmp_path / "run"
    _fails(["run", "sc-core", "--n", "500", "--days", "3", "--checkpoint-every", "0",
            "--out", str(out)], "--checkpoint-every: 0 is not allowed")  # fmt: skip
    assert not out.exists() and not directory_of(out).exists()


def test_run_refuses_an_out_with_a_checkpoint_left(checkpointed):
    _fails(["run", "sc-core", "--checkpoint-every", "5", "--out", str(checkpointed)],
           "holds the checkpoint of an interrupted run", "scsim resume")  # fmt: skip


def test_a_checkpoint_a_run_makes_is_complete_and_then_removed(tmp_path):
    """In process, with the forked writer: a run of 12 days saving every 5 days leaves no
    checkpoint behind; one saving state (not removed) names its newest file."""
    sc = load_scenario("sc-core", {"population.n": 1000, "days": 12})
    sim = Sim(sc).build()
    with Checkpoints(sim, tmp_path / "c", 5, {"threads": 1}) as saver:
        sim.run(on_day=saver)
    meta = json.loads((tmp_path / "c" / META).read_text())
    assert meta["day"] == 10 and meta["state"] == "state-000010.bin"
    assert sorted(p.name for p in (tmp_path / "c").iterdir()) == [META, "state-000010.bin"]
    assert Sim.load_checkpoint(tmp_path / "c" / meta["state"]).day == 10
    saver.remove()
    assert not (tmp_path / "c").exists()


def test_a_state_that_cannot_be_saved_stops_the_run_before_day_0(tmp_path):
    sim = Sim(load_scenario("sc-core", {"population.n": 500, "days": 3})).build()
    sim.module("scoring").note = lambda: None  # a module attribute pickle cannot hold
    with pytest.raises(CheckpointError, match="the run's state cannot be saved"):
        Checkpoints(sim, tmp_path / "c", 1, {})


def test_a_network_the_seed_makes_is_built_again_not_saved(tmp_path):
    """beijing-2020's regional network: the state file holds the network's checksums instead
    of its bytes, and the loaded run has the very network it was saved with."""
    path = tmp_path / "state.bin"
    sim = _saved(_scenario("beijing-2020"), path)
    seeded = read_trailer(path)["seeded"]
    assert {"graph.indptr", "graph.indices", "graph.far"} <= set(seeded["arrays"])
    left_out = sum(size for size, _ in seeded["arrays"].values())
    instead = len(json.dumps(seeded)) + 1024  # the scenario and checksums, in the trailer
    sim.graph_from_seed = False  # as if a module had replaced it: the network is written
    whole = sim.save_checkpoint(tmp_path / "whole.bin")
    assert "seeded" not in read_trailer(tmp_path / "whole.bin")
    assert left_out - instead <= whole - path.stat().st_size <= left_out
    loaded = Sim.load_checkpoint(path)
    for name in ("indptr", "indices", "far"):
        assert np.array_equal(getattr(loaded.graph, name), getattr(sim.graph, name)), name
    assert loaded.graph_from_seed


def test_an_edited_network_is_saved(tmp_path):
    path = tmp_path / "state.bin"
    _saved(_shunning(), path)
    assert "seeded" not in read_trailer(path)


def test_a_network_built_again_differently_is_refused(tmp_path, monkeypatch):
    import scsim.engine

    path = tmp_path / "state.bin"
    _saved(_scenario("beijing-2020"), path)
    build = scsim.engine.build_network
    monkeypatch.setattr(
        scsim.engine, "build_network", lambda spec, n, seed, *form: build(spec, n, seed + 1, *form)
    )
    with pytest.raises(CheckpointError, match="the network rebuilt from the run's seed"):
        Sim.load_checkpoint(path)
