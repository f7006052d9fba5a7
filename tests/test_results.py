"""Run directories as written: per-citizen files ordered by citizen in row groups."""

import numpy as np
import pyarrow.parquet as pq

import scsim.results
from scsim.days import DAY, FILE_NEVER, NEVER
from scsim.engine import Sim
from scsim.results import write_run
from scsim.runs import citizen_row_groups
from tests.conftest import small


def test_per_citizen_files_are_ordered_by_citizen_in_row_groups(tmp_path, monkeypatch):
    monkeypatch.setattr(scsim.results, "ROW_GROUP", 256)  # 18 000 audit rows: a partial last group
    sim = Sim(small(n=3000, days=12, **{"output.audit_sample": 1500})).run()
    out = write_run(sim, tmp_path / "r", None, 1)
    events = pq.read_table(out / "events.parquet").to_pydict()
    order = np.lexsort((events["day"], events["citizen"]))
    assert np.array_equal(order, np.arange(len(order))) and len(order) > 100
    # within a citizen and day, the engine's emission order is kept (a stable sort)
    log = sim.events.columns()
    stable = np.argsort(log["citizen"], kind="stable")
    assert np.array_equal(events["delta"], log["delta"][stable])
    audit = pq.read_table(out / "audit.parquet").to_pydict()
    assert audit["citizen"] == np.repeat(np.arange(0, 3000, 2), 12).tolist()
    assert audit["day"] == np.tile(np.arange(12), 1500).tolist()
    assert np.array_equal(audit["score"], sim.events.score.T.ravel())
    for name in ("people", "events", "audit"):
        f = pq.ParquetFile(out / f"{name}.parquet")
        rows = f.metadata.num_rows
        assert f.metadata.num_row_groups == -(-rows // 256) > 1, name
        # a citizen's rows span at most two row groups (twelve audit rows can straddle one)
        assert all(len(citizen_row_groups(f, c)) <= 2 for c in (0, 998, 1500, 2998)), name


def test_event_kinds_and_causes_are_named_by_their_module(tmp_path):
    """Each event's kind is ``module.kind`` and its cause the module's cause of that index
    (catalogue entries share no codes across modules unless their names are equal)."""
    over = {"modules.lists.appeals": True, "output.audit_sample": 2000}
    sim = Sim(small(n=2000, days=15, **over)).run()
    events = pq.read_table(write_run(sim, tmp_path / "r", None, 1) / "events.parquet")
    log = sim.events.columns()
    order = np.argsort(log["citizen"], kind="stable")
    module = [sim.event_kinds[k][0] for k in log["kind"][order]]
    causes = {m.name: m.causes for m in sim.modules}
    expected = [
        causes[m][c] if c >= 0 else None for m, c in zip(module, log["cause"][order], strict=True)
    ]
    assert events.column("cause").to_pylist() == expected and len(expected) > 500
    assert any(c is None for c in expected) and any(c is not None for c in expected)
    kinds = events.column("kind").to_pylist()
    assert kinds == [".".join(sim.event_kinds[k]) for k in log["kind"][order]]


def test_day_fields_are_written_as_int32_with_never_as_its_largest_value(tmp_path):
    """In memory a day field is int16 (``scsim.days``); the people file keeps int32, as before
    the change, with "never" as 2**31 - 1, and every other day as it is."""
    over = {"modules.finance.enabled": True, "modules.courts.enabled": True}
    sim = Sim(small(n=3000, days=30, **over)).run()
    days = {k: a for k, a in sim.people.fields.items() if a.dtype == DAY}
    assert {"court_day", "shock_flip_day", "default_day", "listed_since"} <= days.keys()
    people = pq.read_table(write_run(sim, tmp_path / "r", None, 1, report=False) / "people.parquet")
    for name, held in days.items():
        written = people[name].to_numpy()
        assert written.dtype == np.int32, name
        never = held == NEVER
        assert np.array_equal(written[never], np.full(never.sum(), FILE_NEVER)), name
        assert np.array_equal(written[~never], held[~never]), name
    assert (sim.people.court_day == NEVER).any() and (sim.people.court_day < NEVER).any()
