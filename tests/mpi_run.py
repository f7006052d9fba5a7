"""Run under ``mpiexec -n R`` by tests/test_mpi_run.py (and in one process for its reference):
each named preset, split over the ranks, written by rank 0 as ``scsim run`` writes a run
(without the report) to OUT/<preset>. ``every-module`` is tests/test_engine.py's every_module()
(a layered network, shunning, look-ups of disclosed listings, peer rating, a policy
timeline).

    python tests/mpi_run.py OUT N DAYS PRESET ...

With ``SAVE_AT=D`` each run also saves a checkpoint after day D to OUT/<preset>.bin (every rank
takes part; rank 0 writes) and runs on; with ``RESUME=LABEL`` each run is instead loaded from
OUT/<preset>.bin and finished, and written to OUT/<preset>-LABEL. ``NETWORK_FORM`` (default
"auto") is the ``Sim``'s ``network_form``; each rank keeps only its own citizens where it can
(``Sim.keep_own``) unless ``KEEP_OWN=0`` or a checkpoint is saved. Rank 0 also writes
OUT/<name>.exchange: the day's exchange (``Ranks.exchange``), the bytes it received in the days'
exchanges, how many citizens it receives each day and the type of their ids, of how many it does
not run, whether it kept only its own citizens, the bytes of its network's ties and of the whole
network, and whether, once the run is written, it holds the score components and the scores of
the citizens of the ranks after it.
"""

import json
import os
import sys
from pathlib import Path

import numba

from scsim.engine import Sim
from scsim.results import write_run
from scsim.scenario import load_scenario
from tests.test_engine import every_module


def scenario(preset: str, n: int, days: int):
    if preset == "every-module":
        return every_module(n, days)
    return load_scenario(preset, {"population.n": n, "days": days})


out, n, days, *presets = sys.argv[1:]
save_at, resume = int(os.environ.get("SAVE_AT", "-1")), os.environ.get("RESUME")
form = os.environ.get("NETWORK_FORM", "auto")
keep_own = os.environ.get("KEEP_OWN", "1") != "0" and save_at < 0
numba.set_num_threads(1)
for preset in presets:
    state, name = Path(out) / f"{preset}.bin", preset
    if resume:
        sim, name = Sim.load_checkpoint(state).run(), f"{preset}-{resume}"
    else:
        sim = Sim(scenario(preset, int(n), int(days)), network_form=form, keep_own=keep_own)
        sim.build()
        sim.run(on_day=lambda day: day == save_at and sim.save_checkpoint(state))
    tie_bytes, network_bytes = sim.graph.tie_bytes, sim.network_nbytes()
    write_run(sim, Path(out) / name, preset, threads=1, report=False)  # every rank takes part
    if sim.ranks.comm.rank == 0:
        r = sim.ranks
        exchange = {
            "exchange": r.exchange, "received_bytes": r.received_bytes,
            "takes": int(r.halo.takes.size) if r.halo is not None else sim.n - (r.hi - r.lo),
            "ids": str(r.halo.takes.dtype) if r.halo is not None else None,
            "others": sim.n - (r.hi - r.lo), "kept": sim.people.kept is not None,
            "tie_bytes": tie_bytes, "network_bytes": network_bytes,
            # after writing: does rank 0 hold other ranks' score components, and scores?
            "others_parts": bool(sim.parts[:, r.hi :].any()),
            "others_scores": bool(sim.packed[sim.current, r.hi :].all()),
        }  # fmt: skip
        (Path(out) / f"{name}.exchange").write_text(json.dumps(exchange))
