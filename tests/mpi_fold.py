"""Run under ``mpiexec -n R`` by tests/test_mpi.py: every rank makes the same per-block records,
folds its own blocks over MPI, and checks the result against one process's ``sum_blocks``."""

import sys

import numpy as np

from scsim.kernels.blocks import sum_blocks
from scsim.mpi import partition, world
from tests.test_mpi import adversarial

comm = world()
blocks, cells = int(sys.argv[1]), int(sys.argv[2])
per_block = adversarial(blocks, cells)
cost = np.cumsum(np.concatenate([[0], np.arange(1, blocks + 1) % 7 + 3]))
cuts = partition(cost, comm.size)
out = np.full(cells, np.nan)
comm.fold_blocks(per_block[cuts[comm.rank] : cuts[comm.rank + 1]], out)
one = np.empty(cells)
sum_blocks(per_block, one)
same = out.tobytes() == one.tobytes()
line = (f"rank {comm.rank} of {comm.size}: blocks {cuts[comm.rank]}-{cuts[comm.rank + 1]}, "
        f"{'same' if same else 'DIFFERENT'}")  # fmt: skip
lines = comm.gather(line)  # printed by rank 0: the launcher may interleave ranks' output
if comm.rank == 0:
    print("\n".join(lines), flush=True)
total = comm.sum_ints(np.array([int(same)], dtype=np.int64))
sys.exit(0 if total[0] == comm.size else 1)
