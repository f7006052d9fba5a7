"""One population over MPI ranks (``scsim.ranks``): every output file of a run split over R
ranks is byte for byte the file one process writes, for R = 1 to 4 on this 2-core machine (more
ranks than cores: the waiting ranks sleep, ``scsim.mpi.POLL_S``)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pyarrow.parquet as pq
import pytest
import yaml

from scsim.checkpoint import META, directory_of
from scsim.scenario import preset_names
from tests.run_files import same_run_files, wait_for_checkpoint
from tests.test_mpi import mpiexec
from tests.unsplit import unsplit_scenario

ROOT = Path(__file__).resolve().parents[1]
RUNS = ["every-module", *preset_names()]
"""Every preset (each has a network) and every module (tests/mpi_run.py)."""
N, DAYS = 20_000, 25
"""10 blocks of 2 048 citizens: 3 and 4 ranks get uneven shares."""


def _env(**extra: str) -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(ROOT), "NUMBA_NUM_THREADS": "1", **extra}


def _driver(out: Path, ranks: int | None, runs: list[str], n: int = N, **env: str) -> None:
    """tests/mpi_run.py over ``ranks`` (None: one process, not launched by mpiexec)."""
    launch = [] if ranks is None else [str(mpiexec()), "-n", str(ranks)]
    command = [*launch, sys.executable, str(ROOT / "tests" / "mpi_run.py"), str(out), str(n)]
    res = subprocess.run(
        [*command, str(DAYS), *runs],
        capture_output=True, text=True, env=_env(**env), timeout=600, cwd=ROOT,
    )  # fmt: skip
    assert res.returncode == 0, res.stdout + res.stderr


@pytest.fixture(scope="module")
def one_process(tmp_path_factory) -> Path:
    """Every run of ``RUNS`` in one process (and every kernel in the cache for the ranks)."""
    out = tmp_path_factory.mktemp("one")
    _driver(out, None, RUNS)
    return out


@pytest.mark.parametrize("ranks", [1, 2, 4])
def test_every_preset_split_over_ranks_writes_one_process_files(one_process, tmp_path, ranks):
    # 3 ranks: test_a_poisoned_halo_changes_nothing runs every one of RUNS over 3 ranks and
    # checks the same files, with what a rank does not receive filled with 0xFF
    _driver(tmp_path, ranks, RUNS)
    for run in RUNS:
        same_run_files(one_process / run, tmp_path / run)


def test_shunning_edits_ties_in_the_split_runs(one_process):
    # every rank cuts and forms the same ties over every citizen (its finish reads the whole
    # day's state: hurt is shared), so the files above only match if the edits do
    days = pq.read_table(one_process / "every-module" / "timeseries.parquet").to_pydict()
    assert sum(days["ties_cut"]) > 1000 and sum(days["ties_formed"]) > 1000


def test_copying_every_array_each_day_changes_nothing(one_process, tmp_path):
    # SCSIM_MPI_SYNC_ALL copies every per-agent array between ranks each day: were a module to
    # read another citizen's field without declaring it shared, only this run would match
    _driver(tmp_path, 3, ["every-module", "beijing-2020"], SCSIM_MPI_SYNC_ALL="1")
    for run in ("every-module", "beijing-2020"):
        same_run_files(one_process / run, tmp_path / run)


def test_a_poisoned_halo_changes_nothing(one_process, tmp_path):
    # SCSIM_MPI_POISON fills what a rank neither runs nor receives in the halo with 0xFF (NaN
    # scores, every flag set): were a module to read beyond its declared reach, this run would
    # not match. The runs whose modules all reach no further than ties exchange a halo.
    _driver(tmp_path, 3, RUNS, SCSIM_MPI_POISON="1")
    kinds = {}
    for run in RUNS:
        same_run_files(one_process / run, tmp_path / run)
        kinds[run] = json.loads((tmp_path / f"{run}.exchange").read_text())["exchange"]
    anyone = {"every-module", "beijing-2020"}  # look-ups of a disclosed blacklist; shunning
    assert {run for run, kind in kinds.items() if kind == "everyone"} == anyone
    assert {kind for run, kind in kinds.items() if run not in anyone} == {"halo"}
    # and each rank of those built and kept only its own citizens (zeros elsewhere)
    kept = {run: json.loads((tmp_path / f"{run}.exchange").read_text())["kept"] for run in RUNS}
    assert {run for run, k in kept.items() if not k} == anyone


def test_a_rank_that_keeps_its_own_citizens_builds_only_their_ties(one_process, tmp_path):
    # sc-core over 2 ranks of 10 240 and 9 760 citizens (5 and 5 blocks of 2 048, cut by
    # citizens): rank 0 holds the ties of its own rows, each citizen's ~20, so 10 240 / 20 000
    # = 0.512 of one process's tie slots give or take the few rewired ties (sd ~0.3 %); the
    # manifest still counts the whole network (rank 0 adds up every rank's ties)
    _driver(tmp_path / "own", 2, ["sc-core"])
    _driver(tmp_path / "whole", 2, ["sc-core"], KEEP_OWN="0")
    own, whole = (json.loads((tmp_path / d / "sc-core.exchange").read_text())
                  for d in ("own", "whole"))  # fmt: skip
    assert own["kept"] and not whole["kept"]
    assert 0.50 < own["tie_bytes"] / whole["tie_bytes"] < 0.525
    assert own["network_bytes"] == whole["network_bytes"]
    # rank 0 wrote the people file from rows the other rank sent a group at a time, keeping
    # whole only what the report reads (the score, not the score components)
    assert own["others_scores"] and whole["others_scores"]
    assert not own["others_parts"] and whole["others_parts"]
    same_run_files(tmp_path / "whole" / "sc-core", tmp_path / "own" / "sc-core")
    same_run_files(one_process / "sc-core", tmp_path / "own" / "sc-core")


def test_a_rank_that_keeps_its_own_citizens_writes_whole_only_the_arrays_the_plan_counts():
    # bench/rank_pages.py, china-2020 over 3 ranks of 200 000 citizens, small pages: rank 0
    # (33 of the 98 blocks) writes about 3 times its share of an array it writes for every
    # citizen, about 1 of one it writes for its own. The arrays written whole must be those
    # scsim.ranks.whole_arrays names (the published scores and flags and the shared fields;
    # docs/design/mpi.md), which the memory plan counts whole on every rank: another would be a
    # module filling every citizen's entries (courts' first disputes did, and the population
    # module did before it drew only a rank's own households), and the plan would count it short
    command = [sys.executable, str(ROOT / "bench" / "rank_pages.py"), "china-2020", "--n",
               "200000", "--days", "3", "--ranks", "3", "--small-pages", "--json"]  # fmt: skip
    res = subprocess.run(command, capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert res.returncode == 0, res.stderr
    rank0 = json.loads(res.stdout)[0]
    parts = rank0["parts"]
    whole = {(p, a) for p, f in parts.items() for a, ratio in f["beyond"].items() if ratio > 2.5}
    declared = {tuple(x) for x in rank0["declared_whole"]}
    assert ("scores", "packed") in declared and ("lists", "listed") in declared
    people = parts["population"]  # drawn for its own households: its share and a few more
    assert people["share"] > 1e6 and people["written"] < 1.1 * people["share"]
    assert whole == declared


def test_a_checkpoint_of_a_poisoned_halo_resumes_over_other_ranks(one_process, tmp_path):
    # saved over 2 ranks after day 12, resumed over 3: each rank's copies of citizens it
    # neither runs nor receives are poison (0xFF), so the state file must take every array a
    # finish computed over the halo (sanctions' family hits) from the rank that owns it
    runs = ["china-2020", "all-modules"]
    _driver(tmp_path, 2, runs, SAVE_AT="12", SCSIM_MPI_POISON="1")
    _driver(tmp_path, 3, runs, RESUME="three", SCSIM_MPI_POISON="1")
    for run in runs:
        for made in (run, f"{run}-three"):
            same_run_files(one_process / run, tmp_path / made)


def test_the_halo_receives_the_citizens_tied_to_a_rank(tmp_path):
    # sc-core on 20 000 citizens over 2 ranks: a citizen has ~2 ties off the ring (k p = 20 x
    # 0.1: one it rewired, one rewired to it), half of them to the other rank, so the other
    # rank's ~10 000 citizens get ~1 tie each from rank 0's and 1 - 1/e = 63 % of them are
    # tied to it (sd ~0.5 %; the ring adds 20): the halo carries those, not all 10 000
    _driver(tmp_path / "halo", 2, ["sc-core"])
    _driver(tmp_path / "all", 2, ["sc-core"], SCSIM_MPI_SYNC_ALL="1")
    halo = json.loads((tmp_path / "halo" / "sc-core.exchange").read_text())
    assert halo["exchange"] == "halo" and halo["ids"] == "uint32"  # half of int64's memory
    assert 0.60 < halo["takes"] / halo["others"] < 0.67
    per_citizen = halo["received_bytes"] / (halo["takes"] * DAYS)  # bytes a citizen a day
    assert per_citizen == int(per_citizen) >= 4  # its score (4 bytes), flags, shared fields
    same_run_files(tmp_path / "all" / "sc-core", tmp_path / "halo" / "sc-core")


def test_ranks_without_a_block_pass_the_sums_on(tmp_path):
    # 3 000 citizens are 2 blocks: of 4 ranks, 2 own nothing yet join every exchange
    _driver(tmp_path / "one", None, ["sc-core"], n=3000)
    _driver(tmp_path / "four", 4, ["sc-core"], n=3000)
    same_run_files(tmp_path / "one" / "sc-core", tmp_path / "four" / "sc-core")


def test_a_checkpoint_over_ranks_resumes_over_any_number_of_them(one_process, tmp_path):
    # saved over 2 ranks after day 12 (every rank gets every citizen's state and the audit log,
    # rank 0 writes one process's state, each rank takes its own log back): the run that saved
    # it, and runs resumed from it over 3 ranks and in one process, write one process's files
    runs = ["every-module", "beijing-2020"]
    _driver(tmp_path, 2, runs, SAVE_AT="12")
    _driver(tmp_path, 3, runs, RESUME="three")
    _driver(tmp_path, None, runs, RESUME="one")
    for run in runs:
        for made in (run, f"{run}-three", f"{run}-one"):
            same_run_files(one_process / run, tmp_path / made)


def test_a_ring_network_split_over_ranks_saves_and_resumes_to_one_process_files(
    one_process, tmp_path
):
    # the Watts-Strogatz network held by its ring (scsim.network.ring): split over 2 ranks with
    # a checkpoint after day 12 (the ring is built again on load), resumed over 3 ranks; both
    # write the files of one process holding the CSR form, but for the state's bytes a citizen
    # (the ring's are fewer). peer-rating picks its raters by ring_nth, china-2020 is the preset
    # run at 100 M on the ring.
    runs = ["china-2020", "peer-rating"]
    _driver(tmp_path, 2, runs, SAVE_AT="12", NETWORK_FORM="ring")
    _driver(tmp_path, 3, runs, RESUME="three")
    for run in runs:
        csr = json.loads((one_process / run / "manifest.json").read_text())
        for made in (run, f"{run}-three"):
            same_run_files(one_process / run, tmp_path / made, ("memory_bytes_per_agent",))
            ring = json.loads((tmp_path / made / "manifest.json").read_text())
            assert ring["memory_bytes_per_agent"] < csr["memory_bytes_per_agent"] - 60


def _cli(ranks: int, *args: str) -> subprocess.CompletedProcess:
    command = [str(mpiexec()), "-n", str(ranks), sys.executable, "-m", "scsim", *args]
    return subprocess.run(
        command, capture_output=True, text=True, env=_env(), timeout=300, cwd=ROOT
    )


def test_scsim_run_under_mpiexec_writes_the_run_of_one_process(tmp_path):
    # china-2020's report reads every column of its "who is hit" section (age, income,
    # occupation, region, lists and bans) from the whole of those columns on rank 0
    args = ["run", "china-2020", "--n", "20000", "--days", "20", "--threads", "1"]
    one = subprocess.run(
        [sys.executable, "-m", "scsim", *args, "--out", str(tmp_path / "one")],
        capture_output=True, text=True, env=_env(), timeout=300, cwd=ROOT,
    )  # fmt: skip
    assert one.returncode == 0, one.stderr
    two = _cli(2, *args, "--out", str(tmp_path / "two"))
    assert two.returncode == 0, two.stderr
    assert two.stdout.count("run directory:") == 1  # rank 0 alone speaks
    assert two.stderr.count("building 20,000 citizens") == 1
    same_run_files(tmp_path / "one", tmp_path / "two")


def test_a_run_whose_largest_rank_will_not_fit_is_refused_on_every_rank(tmp_path):
    # sc-core at 2 M citizens over 2 ranks on a machine of 800 MB (400 MB a rank): rank 0 plans
    # the largest rank (about 0.5 GB, tests/test_plan.py checks the parts) and every rank exits
    # 2 with its verdict before anything is built
    out = tmp_path / "run"
    command = [str(mpiexec()), "-n", "2", sys.executable, "-m", "scsim", "run", "sc-core",
               "--n", "2000000", "--days", "10", "--out", str(out)]  # fmt: skip
    env = {**_env(), "SCSIM_MEMORY": "800MB"}
    res = subprocess.run(command, capture_output=True, text=True, env=env, timeout=300, cwd=ROOT)
    assert res.returncode == 2, res.stderr
    assert res.stderr.count("planning the memory") == 1  # rank 0 alone plans
    assert res.stderr.count("on the largest of 2 ranks") == 2  # every rank says why it stops
    assert "each rank has 400 MB available" in res.stderr
    assert "Traceback" not in res.stderr and "building" not in res.stderr and not out.exists()


def test_scsim_bench_under_mpiexec_reports_every_ranks_peak_memory():
    # sc-core's ranks exchange a halo and keep their own citizens; rank 0 prints one row
    res = _cli(3, "bench", "sc-core", "--n", "20000", "--days", "5", "--threads", "1")
    assert res.returncode == 0, res.stderr
    (line,) = res.stdout.strip().splitlines()
    row = json.loads(line)
    assert row["ranks"] == 3 and row["exchange"] == "halo" and row["keeps_own"]
    peaks = row["peak_rss_mb_by_rank"]
    assert len(peaks) == 3 and row["peak_rss_mb"] == peaks[0]
    assert all(50 < mb < 4000 for mb in peaks)  # MiB: an interpreter with numba, 20 000 citizens


def test_kill_9_under_mpiexec_then_resume_writes_the_uninterrupted_run(tmp_path):
    args = ["beijing-2020", "--n", "20000", "--days", "300", "--threads", "1"]
    one = subprocess.run(
        [sys.executable, "-m", "scsim", "run", *args, "--out", str(tmp_path / "one")],
        capture_output=True, text=True, env=_env(), timeout=300, cwd=ROOT,
    )  # fmt: skip
    assert one.returncode == 0, one.stderr
    killed = tmp_path / "killed"
    command = [str(mpiexec()), "-n", "2", sys.executable, "-m", "scsim", "run", *args]
    proc = subprocess.Popen(
        [*command, "--checkpoint-every", "25", "--out", str(killed)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=_env(), cwd=ROOT,
        start_new_session=True,
    )  # fmt: skip
    try:
        wait_for_checkpoint(proc, directory_of(killed) / META, 99)
    finally:
        os.killpg(proc.pid, signal.SIGKILL)  # mpiexec and both ranks
        proc.wait()
    assert not killed.exists()
    res = _cli(3, "resume", str(killed))
    assert res.returncode == 0, res.stderr
    assert "Traceback" not in res.stderr and res.stderr.count("resuming") == 1
    assert not directory_of(killed).exists()
    same_run_files(tmp_path / "one", killed)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["sweep", "sc-core"], "scsim sweep: runs in one process, not over 2 MPI ranks"),
        (
            ["run", "UNSPLIT", "--n", "5000", "--days", "5"],
            "modules.loyalty_bonus: cannot run over 2 MPI ranks yet",
        ),
    ],
)
def test_what_cannot_split_is_refused_with_exit_2(tmp_path, args, message):
    unsplit = tmp_path / "unsplit.yaml"
    unsplit.write_text(yaml.safe_dump(unsplit_scenario()))
    args = [str(unsplit) if a == "UNSPLIT" else a for a in args]
    res = _cli(2, *args, "--out", str(tmp_path / "run"))
    assert res.returncode == 2, res.stdout + res.stderr
    assert message in " ".join(res.stderr.split())
    assert "Traceback" not in res.stderr and not (tmp_path / "run").exists()


def test_a_checkpoint_with_what_cannot_split_is_not_resumed_over_ranks(tmp_path):
    from scsim.cli_resume import checkpoints
    from scsim.engine import Sim
    from scsim.scenario import validate

    raw = unsplit_scenario() | {"days": 10}
    raw["population"]["n"] = 3000
    sim = Sim(validate(raw)).build()
    out = tmp_path / "run"
    saver = checkpoints(sim, out, 5, {"preset": None, "threads": 1, "png": False})
    saver.background = False
    for day in range(5):
        sim.step(day)
        saver(day)
    res = _cli(2, "resume", str(out))
    assert res.returncode == 2, res.stdout + res.stderr
    assert "modules.loyalty_bonus: cannot run over 2 MPI ranks yet" in " ".join(res.stderr.split())
    assert "Traceback" not in res.stderr and not out.exists()


def test_a_checkpoint_that_rank_0_cannot_write_stops_every_rank_with_exit_2(tmp_path):
    # only rank 0 writes; its forked writer fails (the checkpoint directory's name is taken by
    # a file), and the verdict must reach rank 1, which would otherwise wait for rank 0 in the
    # next day's exchange until the timeout
    out = tmp_path / "run"
    directory_of(out).write_text("not a directory")
    args = ["sc-core", "--n", "3000", "--days", "40", "--threads", "1"]
    proc = subprocess.Popen(
        [str(mpiexec()), "-n", "2", sys.executable, "-m", "scsim", "run", *args,
         "--checkpoint-every", "5", "--out", str(out)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=_env(), cwd=ROOT,
        start_new_session=True,
    )  # fmt: skip
    try:
        _, stderr = proc.communicate(timeout=120)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)  # mpiexec and both ranks
        proc.wait()
        pytest.fail("the ranks did not stop within 120 s after the checkpoint failed")
    assert proc.returncode == 2, stderr
    assert "writing a checkpoint failed" in stderr
    assert "Traceback" not in stderr and not out.exists()
