"""Expiry of records: penalties lapse after a clean spell of ``after_days``, or never."""

import numpy as np

from scsim.engine import Sim
from tests.conftest import small

RARE = {
    "modules.infractions.kinds": [
        {"name": "fare_evasion", "rate": 0.03, "detect_prob": 0.8, "penalty": -20}
    ],
    "modules.speech.enabled": False,
    "output.audit_sample": 10_000,
}


def _records(sim):
    ev = sim.events.columns()
    kinds = [f"{m}.{k}" for m, k in sim.event_kinds]
    recorded = ev["kind"] == kinds.index("infractions.recorded")
    expired = ev["kind"] == kinds.index("expiry.expired") if "expiry.expired" in kinds else None
    return ev, recorded, expired


def test_records_lapse_exactly_after_a_clean_spell():
    """Replay each citizen's records from the log: an expiry must fall exactly on the first
    day ``after_days`` after the last record, restoring exactly the points since the last
    expiry; and on no other day."""
    after = 7
    sim = Sim(small(n=1500, days=60, **RARE, **{"modules.expiry.after_days": after})).run()
    ev, recorded, expired = _records(sim)
    assert expired.sum() > 50
    for citizen in range(0, 1500, 7):
        mine = ev["citizen"] == citizen
        rec_days = ev["day"][mine & recorded]
        pts = ev["delta"][mine & recorded]
        expected, on_file, last = [], 0.0, -1
        for day in range(60):
            today = pts[rec_days == day].sum()
            if today < 0:
                on_file, last = on_file + today, day
            elif on_file < 0 and day - last >= after:
                expected.append((day, -on_file))
                on_file = 0.0
        days, deltas = ev["day"][mine & expired], ev["delta"][mine & expired]
        got = list(zip(days.tolist(), deltas.tolist(), strict=True))
        assert got == expected, citizen


def test_without_expiry_records_never_lapse():
    """Module off ("once untrustworthy, always restricted"): no component restores points, and
    every citizen's infractions component is exactly the sum of its recorded penalties."""
    sim = Sim(small(n=1500, days=60, **RARE)).run()
    assert "expiry" not in sim.components
    ev, recorded, _ = _records(sim)
    total = np.zeros(1500, dtype=np.float32)
    np.add.at(total, ev["citizen"][recorded], ev["delta"][recorded])
    assert np.array_equal(sim.component("infractions"), total)


def test_daily_records_never_expire():
    """An infraction every day keeps the clean spell at zero days: nothing ever lapses."""
    daily = {**RARE, "modules.infractions.kinds": [
        {"name": "fine", "rate": 1.0, "detect_prob": 1.0, "penalty": -1}
    ]}  # fmt: skip
    sim = Sim(small(n=500, days=30, **daily, **{"modules.expiry.after_days": 1})).run()
    assert sim.record("records_expired").sum() == 0
    assert np.all(sim.people.record_points == -30.0)
