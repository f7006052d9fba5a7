"""One population over MPI ranks, first slice: the block partition, the chained fold of the
blocks' records (bit for bit one process's sum), and the same fold over real ranks under the
project's own mpiexec (MPICH from PyPI, the ``mpi`` extra that ``make test`` installs)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from scsim.kernels.blocks import sum_blocks
from scsim.mpi import SerialComm, launched_ranks, partition, world
from scsim.params import ScenarioError

ROOT = Path(__file__).resolve().parents[1]


def adversarial(blocks: int, cells: int) -> np.ndarray:
    """Per-block records whose sum depends on the order of the additions: -0.0 first (0.0 +
    -0.0 is +0.0), 1e16 with ones after it (each lost alone, kept once summed), and values of
    every magnitude; the same array in every process."""
    rng = np.random.default_rng(7)
    a = rng.standard_normal((blocks, cells)) * 10.0 ** rng.integers(-8, 17, size=(blocks, cells))
    a[:, 0] = -0.0
    a[0, 1], a[1:, 1] = 1e16, 1.0
    return a


def one_process(per_block: np.ndarray) -> np.ndarray:
    out = np.empty(per_block.shape[1])
    sum_blocks(per_block, out)
    return out


@pytest.mark.parametrize("cuts", [[0, 13], [0, 1, 13], [0, 5, 5, 9, 13], [0, 12, 13, 13]])
def test_folding_each_ranks_blocks_in_turn_is_one_process_sum_bit_for_bit(cuts):
    per_block = adversarial(13, 40)
    acc = np.full(40, np.nan)
    for r in range(len(cuts) - 1):  # the chain, simulated: each rank adds its blocks, passes on
        sum_blocks(per_block[cuts[r] : cuts[r + 1]], acc, onto=r > 0)
    assert acc.tobytes() == one_process(per_block).tobytes()
    assert np.signbit(acc[0])  # -0.0 kept: copied, not added to 0.0
    # the order matters for these values, so the check above could fail
    assert acc.tobytes() != one_process(per_block[::-1].copy()).tobytes()


def test_one_rank_folds_as_one_process():
    per_block = adversarial(9, 6).reshape(9, 2, 3)
    out = np.empty((2, 3))
    SerialComm().fold_blocks(per_block, out)
    assert out.reshape(-1).tobytes() == one_process(per_block.reshape(9, 6)).tobytes()


@pytest.mark.parametrize(("blocks", "ranks"), [(1, 1), (10, 1), (10, 3), (100, 4), (3, 4)])
def test_partition_gives_whole_contiguous_blocks_of_even_work(blocks, ranks):
    work = np.random.default_rng(blocks).integers(1, 50, size=blocks)
    cost = np.concatenate([[0], np.cumsum(work)])
    cuts = partition(cost, ranks)
    assert cuts[0] == 0 and cuts[-1] == blocks and cuts.size == ranks + 1
    assert np.all(np.diff(cuts) >= 0) and cuts[1] >= 1  # in order; rank 0 owns a block
    if blocks >= ranks:  # each cut within one block of its share of the work
        share = cost[cuts[1:-1]] - cost[-1] * np.arange(1, ranks) / ranks
        assert np.all(np.abs(share) <= work.max())


def test_partition_refuses_what_it_cannot_split():
    with pytest.raises(ScenarioError, match="ranks: 0 is not allowed"):
        partition(np.arange(5), 0)
    with pytest.raises(ValueError, match="must increase"):
        partition(np.array([0, 3, 3]), 2)


def test_an_ordinary_run_has_one_rank_and_never_imports_mpi4py(monkeypatch):
    for name in ("PMI_SIZE", "OMPI_COMM_WORLD_SIZE"):
        monkeypatch.delenv(name, raising=False)
    assert launched_ranks() == 1 and type(world()) is SerialComm
    monkeypatch.setenv("PMI_SIZE", "3")
    assert launched_ranks() == 3
    monkeypatch.setitem(sys.modules, "mpi4py", None)  # as if the mpi extra were missing
    with pytest.raises(ScenarioError, match=r"started 3 ranks.*pip install -e '\.\[mpi\]'"):
        world()


def mpiexec() -> Path:
    path = Path(sys.executable).parent / "mpiexec"
    assert path.exists(), f"{path} is missing: make test installs it (pip install -e '.[mpi]')"
    return path


@pytest.mark.parametrize("ranks", [1, 2, 3, 4])
def test_ranks_fold_the_blocks_records_as_one_process(ranks):
    # more ranks than this machine's cores: the ranks sleep while they wait (scsim.mpi.POLL_S)
    env = {**os.environ, "PYTHONPATH": str(ROOT), "NUMBA_NUM_THREADS": "1"}
    res = subprocess.run(
        [str(mpiexec()), "-n", str(ranks), sys.executable, str(ROOT / "tests" / "mpi_fold.py"),
         "11", "37"],
        capture_output=True, text=True, env=env, timeout=120, cwd=ROOT,
    )  # fmt: skip
    assert res.returncode == 0, res.stdout + res.stderr
    lines = sorted(line for line in res.stdout.splitlines() if line.startswith("rank"))
    assert len(lines) == ranks and all(line.endswith("same") for line in lines), lines


class Split:
    """A fused kernel called once per rank's block range in turn, as ranks would run it."""

    def __init__(self, kernel, cuts):
        self.kernel, self.cuts = kernel, cuts

    def __call__(self, *args, blocks, rec_first):
        assert blocks == (0, self.cuts[-1]) == (rec_first, 7)  # one process: every block at once
        for first, end in zip(self.cuts[:-1], self.cuts[1:], strict=True):
            self.kernel(*args, blocks=(int(first), int(end)), rec_first=rec_first)


def test_the_fused_kernel_run_rank_by_rank_makes_the_day_one_call_makes():
    # every module of the engine test on, 7 blocks split 0-2, 2-3, 3-7: a citizen reads others
    # only through yesterday's buffers, so any split of the blocks gives the same day
    from scsim.engine import Sim
    from tests.test_engine import every_module

    scenario = every_module(n=7 * 2048 - 100, days=8)
    whole, split = Sim(scenario).build(), Sim(scenario).build()
    split.kernel = Split(split.kernel, [0, 2, 3, 7])
    whole.run()
    split.run()
    assert whole.records.tobytes() == split.records.tobytes()
    assert whole.histograms.tobytes() == split.histograms.tobytes()
    assert whole.score.tobytes() == split.score.tobytes()
    events = whole.events.columns(), split.events.columns()
    assert all(events[0][k].tobytes() == events[1][k].tobytes() for k in events[0])
