"""The comparison's one-sentence verdict: what B changed, and how sure the paired replicates
make us."""

from __future__ import annotations

from scsim.report.comparison import verdict


def outcome(label: str, a: float, b: float, low: float, high: float) -> dict:
    return {"label": label, "region": None, "mean_a": a, "mean_b": b, "diff": b - a,
            "paired": {"low": low, "high": high}}  # fmt: skip


def summary(outcomes: list[dict], threshold_b: int = 560) -> dict:
    scenario = {"name": "x", "modules": {"lists": {"blacklist_below": 500}}}
    changed = {"name": "y", "modules": {"lists": {"blacklist_below": threshold_b}}}
    sides = {"a": {"name": "x", "scenario": scenario}, "b": {"name": "y", "scenario": changed}}
    return {"level": 0.95, "replicates": 8, "outcomes": outcomes, **sides}


def test_a_clear_change_is_said_with_its_interval_and_the_unclear_are_counted():
    said = verdict(summary([
        outcome("Final listed", 20.0, 80.0, 50.0, 70.0),  # clear, 6 half-widths from 0
        outcome("Final banned", 30.0, 31.0, -2.0, 4.0),  # includes 0: not clear
        outcome("Final mean score", 640.0, 630.0, -12.0, -8.0),  # clear, 5 half-widths
    ]))  # fmt: skip
    assert said.startswith(
        "Over 8 paired replicates, changing modules.lists.blacklist_below from 500 to 560 "
        "raised final listed from 20.00 to 80.00 (+60, 95% interval [50.00, 70.00]); "
        "lowered final mean score from 640.00 to 630.00"
    )
    assert "1 other outcomes changed less clearly or not at all" in said
    assert "final banned" not in said


def test_no_clear_change_says_so():
    said = verdict(summary([outcome("Final listed", 20.0, 21.0, -1.0, 3.0)]))
    assert said.endswith("changed no outcome clearly: every paired 95% interval includes 0.")


def test_several_settings_are_counted_not_listed():
    s = summary([outcome("Final listed", 20.0, 80.0, 50.0, 70.0)])
    s["b"]["scenario"]["days"] = 99
    assert "changing y (2 settings differ from x)" in verdict(s)
