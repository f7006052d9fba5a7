"""A module's record metadata reaches every reader without editing them: a new record shows in
the report under its label and unit, and a headline record becomes an outcome of ``compare``
with its label."""

from __future__ import annotations

from scsim import api
from scsim.modules import REGISTRY
from scsim.modules.expiry import Expiry
from scsim.paired import compare, summarise
from scsim.protocol import Record
from scsim.report import render_report
from tests.conftest import small

LABEL = "citizens given a clean slate"


class CleanSlate(Expiry):
    """Expiry whose record is a headline outcome under a label no reader knows."""

    records = (Record("records_expired", LABEL, unit="citizens", kind="flow", headline=True),)


def _scenario():
    return small(n=1500, days=60, **{"modules.expiry.after_days": 10})


def test_a_new_records_label_and_unit_reach_the_report(monkeypatch, tmp_path):
    monkeypatch.setitem(REGISTRY, "expiry", CleanSlate)
    result = api.run(_scenario())
    assert result.timeseries["records_expired"].sum() > 0
    run = result.save(tmp_path / "run", report=False)
    html = render_report(run)
    assert f"{LABEL} (citizens)" in html  # its panel's title in "Other records"


def test_a_headline_record_is_compared_under_its_label(monkeypatch):
    monkeypatch.setitem(REGISTRY, "expiry", CleanSlate)
    a = _scenario()
    b = small(n=1500, days=60, **{"modules.expiry.after_days": 30})
    entries = {e["outcome"]: e for e in summarise(compare(a, b, replicates=2, seed=3))["outcomes"]}
    found = entries["total_records_expired"]
    assert found["label"] == f"Total {LABEL}"
    assert found["mean_a"] > found["mean_b"]  # a shorter clean spell lapses more records
