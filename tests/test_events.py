"""Score components and the audit sample: every change of an audited score is explained."""

import numpy as np
import pyarrow.parquet as pq

from scsim.engine import Sim
from scsim.events import EventLog
from tests.conftest import small


def test_components_sum_to_the_score():
    """score = initial + sum of components (the clip is the ``bound`` component). Each agent-day
    adds at most 6 float32 roundings of values below 1000 to the parts (2**-24 relative), so
    the gap is at most days * 6 * 1000 * 2**-24 (0.021 over 60 days)."""
    days = 60
    sim = Sim(small(n=3000, days=days, **{"modules.scoring.range": [600, 700]})).run()
    assert sim.components == ["purchases", "infractions", "speech", "friends", "bound"]
    explained = 650.0 + sim.parts.astype(np.float64).sum(axis=0)
    assert np.abs(explained - sim.score).max() <= days * 6 * 1000 * 2.0**-24
    assert (sim.component("bound") != 0).any()  # some scores hit the floor or the ceiling


def test_each_behaviour_component_change_is_the_sum_of_its_events():
    """Everyone audited (n below the sample). Penalties and effects are integers, so component
    sums are exact in float32 and the day's change must equal its events' deltas exactly."""
    sim = Sim(small(n=2000, days=40, **{"output.audit_sample": 5000})).run()
    log = sim.events
    assert log.size == 2000 and log.stride == 1 and log.dropped == 0
    ev = log.columns()
    kinds = [f"{m}.{k}" for m, k in sim.event_kinds]
    for comp in ("purchases", "infractions", "speech"):
        c = sim.components.index(comp)
        change = np.diff(log.parts[:, :, c], axis=0, prepend=0.0)
        mine = np.isin(ev["kind"], [kinds.index(k) for k in kinds if k.startswith(comp + ".")])
        summed = np.zeros_like(change)
        np.add.at(summed, (ev["day"][mine], ev["citizen"][mine]), ev["delta"][mine])
        assert np.array_equal(change, summed), comp
        assert mine.sum() > 100


def test_audit_sample_is_a_stride_over_all_citizens():
    sim = Sim(small(n=10_000, days=3, **{"output.audit_sample": 300})).run()
    log = sim.events
    assert log.stride == 34 and np.array_equal(log.citizens, np.arange(0, 10_000, 34))
    ev = log.columns()
    assert np.all(ev["citizen"] % 34 == 0) and len(ev["day"]) > 0
    assert np.array_equal(log.score[-1], sim.score[::34])


def test_events_by_citizen_are_the_log_stably_sorted_by_citizen():
    sim = Sim(small(n=3000, days=8, **{"output.audit_sample": 1000})).run()
    log = sim.events.columns()
    order = np.argsort(log["citizen"], kind="stable")
    ordered = sim.events.by_citizen(kind=np.int32)
    assert len(order) > 1000 and not np.array_equal(order, np.arange(len(order)))
    for name, values in log.items():
        expected = values[order].astype(np.int32) if name == "kind" else values[order]
        assert ordered[name].dtype == expected.dtype and np.array_equal(ordered[name], expected)


def test_an_empty_log_by_citizen_still_has_the_types_asked_for():
    sim = Sim(small(n=3000, days=3, **{"output.audit_sample": 0})).run()
    columns = sim.events.by_citizen(kind=np.int32)
    assert columns["kind"].dtype == np.int32 and columns["day"].dtype == np.int32
    assert all(len(values) == 0 for values in columns.values())


def test_no_audit_sample_logs_nothing():
    sim = Sim(small(n=3000, days=3, **{"output.audit_sample": 0})).run()
    assert sim.events.size == 0 and len(sim.events.columns()["day"]) == 0


def test_run_directory_holds_people_events_and_audit(tmp_path, run_cli):
    out = tmp_path / "r"
    res = run_cli("run", "sc-core", "--n", "3000", "--days", "5", "--out", str(out))
    assert res.returncode == 0, res.stderr
    people = pq.read_table(out / "people.parquet")
    assert people.num_rows == 3000
    assert {"citizen", "score", "part_friends", "part_bound", "dissent"} <= set(people.column_names)
    events = pq.read_table(out / "events.parquet").to_pydict()
    assert set(events["kind"]) <= {
        "purchases.purchase", "infractions.unseen", "infractions.recorded",
        "speech.unseen", "speech.recorded", "speech.silenced", "lists.listed", "lists.delisted",
        "sanctions.banned", "scoring.friend",
    }  # fmt: skip
    assert "good_deed" in events["cause"]
    audit = pq.read_table(out / "audit.parquet")
    assert audit.num_rows == 5 * 3000


def test_a_large_day_major_buffer_is_mapped_zeroed_before_day_0():
    # the audit sample's daily rows: mapped with their pages written (MAP_POPULATE, small
    # pages), so the kernel never waits for the operating system mid-pass; a small one is
    # NumPy's own
    import mmap

    from scsim.events import MAPPED_FROM, mapped_zeros

    big = mapped_zeros((400, 10_000, 3), np.float32)
    assert big.nbytes >= MAPPED_FROM and isinstance(big.base, mmap.mmap)
    assert big.shape == (400, 10_000, 3) and big.flags.c_contiguous and big.flags.writeable
    assert not big.any()
    big[399, 9_999, 2] = 1.5
    assert big.sum() == 1.5
    small = mapped_zeros((10, 10), np.float32)
    assert small.base is None and not small.any()
    log = EventLog(100_000, 10_000, 49, 365)
    log.allocate(20, 6)
    assert isinstance(log.parts_by_day.base, mmap.mmap) and log.parts.base is log.parts_by_day
