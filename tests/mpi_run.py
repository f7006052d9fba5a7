"""Run under ``mpiexec -n R`` by tests/test_mpi_run.py (and in one process for its reference):
each named preset, split over the ranks, written by rank 0 as ``scsim run`` writes a run
(without the report) to OUT/<preset>. ``every-module`` is tests/test_engine.py's every_module()
(a layered network, look-ups of disclosed listings, peer rating, a policy timeline) without
shunning, which cannot split yet.

    python tests/mpi_run.py OUT N DAYS PRESET ...
"""

import sys
from pathlib import Path

import numba

from scsim.engine import Sim
from scsim.results import write_run
from scsim.scenario import load_scenario, validate
from tests.test_engine import every_module

out, n, days, *presets = sys.argv[1:]
numba.set_num_threads(1)
for preset in presets:
    if preset == "every-module":
        raw = every_module(int(n), int(days)).model_dump(mode="json", exclude_none=True)
        del raw["modules"]["shunning"]
        scenario = validate(raw)
    else:
        scenario = load_scenario(preset, {"population.n": int(n), "days": int(days)})
    sim = Sim(scenario).build().run()
    if sim.ranks.comm.rank == 0:
        write_run(sim, Path(out) / preset, preset, threads=1, report=False)
