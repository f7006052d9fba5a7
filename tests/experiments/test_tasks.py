"""A task run on a worker leaves nothing behind: workers run hundreds of tasks in a row."""

from __future__ import annotations

import gc

from scsim.engine import Sim
from scsim.experiments.spec import Outcome
from scsim.experiments.tasks import run_task
from scsim.scenario import load_scenario


def test_a_finished_task_frees_its_sim():
    # a Sim is a reference cycle (its modules hold it): only a full collection frees it, and
    # without one a worker kept every run's arrays until Python's own, rarer collection
    gc.collect()
    gc.disable()  # so that only run_task's own collection can free the Sim
    try:
        data = load_scenario("sc-core", {"population.n": 500, "days": 5}).model_dump(mode="json")
        sql = "SELECT banned FROM timeseries WHERE day = 4"
        result = run_task(data, {"banned": Outcome(sql=sql)})
        assert result["outcomes"]["banned"] >= 0
        assert not [o for o in gc.get_objects() if type(o) is Sim]  # type(): no dead proxy raises
    finally:
        gc.enable()
