"""A task run on a worker leaves nothing behind: workers run hundreds of tasks in a row."""

from __future__ import annotations

import gc

from scsim.engine import Sim
from scsim.experiments.spec import Outcome
from scsim.experiments.tasks import reads_audit, run_task
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


def _sample_size(sim: Sim) -> int:
    return sim.events.size


def test_a_task_runs_without_the_audit_sample_unless_an_outcome_reads_it(tmp_path):
    # the audit sample only fills the events and audit views; dropping it must leave every other
    # outcome as it was, and an outcome that reads those views must still see them
    data = load_scenario("china-2020", {"population.n": 2000, "days": 40}).model_dump(mode="json")
    plain = {
        "listed": Outcome(sql="SELECT listed FROM timeseries WHERE day = 39"),
        "mean": Outcome(sql="SELECT avg(score) FROM people"),
    }
    audited = {"events": Outcome(sql="SELECT count(*) FROM events e WHERE e.day < 40")}
    fast = run_task(data, plain, inspect=_sample_size)
    kept = run_task(data, plain, keep=str(tmp_path / "kept"), inspect=_sample_size)
    full = run_task(data, plain | audited, inspect=_sample_size)
    assert fast["inspected"] == 0
    assert kept["inspected"] == full["inspected"] == 2000  # audit_sample 10 000 > n: everyone
    assert fast["outcomes"] == kept["outcomes"] == {k: full["outcomes"][k] for k in plain}
    assert full["outcomes"]["events"] > 0


def test_reads_audit_sees_the_audited_views_however_they_are_named():
    assert not reads_audit({"a": Outcome(sql="SELECT max(day) FROM timeseries")})
    assert reads_audit({"a": Outcome(sql="SELECT 1 FROM people WHERE 1 IN (SELECT 1 FROM Audit)")})
    assert reads_audit({"a": Outcome(sql="SELEC nonsense")})  # measure() names that error
