"""Tests for the self-contained HTML run report."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from scsim import report
from scsim.report import score_histogram, write_report

PLOTLY_BUNDLE = "plotly.js v"  # banner comment at the top of the inlined library
FULL_RECORDS = ("banned", "newly_banned", "listed", "speech_attempted", "speech_detected")


MODULE_RECORDS = {
    "sanction_travel": {"label": "citizens banned from travel", "group": "sanction"},
    "sanction_travel_imposed": {"label": "travel bans imposed", "group": "sanction_imposed"},
    "sanction_schools_family": {"label": "children barred", "group": "sanction_family"},
    "perk_singapore": {"label": "citizens holding a Singapore permit", "section": "perks"},
    "wrongly_listed": {"label": "citizens wrongly listed", "false": True},
    "newly_wrongly_listed": {"label": "citizens newly wrongly listed", "false": True},
    "false_records": {"label": "false records", "unit": "records", "false": True},
}
"""The records' metadata a run of those modules writes in its manifest."""


def make_run(
    run_dir: Path,
    days: int = 30,
    n_bins: int = 10,
    records: tuple[str, ...] = FULL_RECORDS,
    extra: tuple[str, ...] = ("widgets_made",),
    preset: str | None = "<b>evil preset",
    n: int = 1000,
    step_s: float = 0.5,
    represents: float | None = None,
) -> Path:
    """Write a synthetic run directory and return it (``represents``: people per citizen)."""
    run_dir.mkdir(parents=True, exist_ok=True)
    manifest = {
        "scsim_version": "0.1.0",
        "preset": preset,
        "scenario": {
            "name": "synthetic & friends",
            "description": "A <script>alert(1)</script> scenario",
            "scoring": {"start": 1000, "floor": 0},
            "sources": {"smith2020": "Smith <i>et al.</i> (2020), Journal of Things"},
        },
        "scenario_hash": "abc123<hash>",
        "seed": 123456,
        "n": n,
        "days": days,
        "threads": 4,
        "timings": {"build_s": 0.1, "step_s": step_s, "write_s": 0.05},
        "machine": {
            "hostname": "box<1>",
            "cpu": "Test CPU",
            "cpus": 8,
            "python": "3.12.0",
            "numba": "0.68.1",
        },
        "created": "2025-01-01T00:00:00+00:00",
        "records": {k: v for k, v in MODULE_RECORDS.items() if k in (*records, *extra)},
    }
    if represents is not None:
        manifest["scenario"]["population"] = {"n": n, "represents": represents}
    (run_dir / "manifest.json").write_text(json.dumps(manifest))

    day = np.arange(days, dtype=np.int32)
    base = 1000.0 - day
    columns = {"day": day, "mean_score": base}
    for name, offset in (("p05", -50), ("p25", -20), ("p50", 0), ("p75", 20), ("p95", 50)):
        columns[f"score_{name}"] = base + offset
    # `banned` peaks at 40 on day 20 and then declines to 22 on the last day.
    banned = np.minimum(2 * day, 80 - 2 * day).clip(min=0) if days == 30 else day
    available = {
        "banned": banned.astype(np.int64),
        "newly_banned": np.ones(days, dtype=np.int64),
        "listed": (banned + 5).astype(np.int64),
        "speech_attempted": np.full(days, 10, dtype=np.int64),
        "speech_detected": np.full(days, 3, dtype=np.int64),
    }
    columns |= {name: available[name] for name in records}
    columns |= {name: np.linspace(0.0, 1.0, days) for name in extra}
    pq.write_table(pa.table(columns), run_dir / "timeseries.parquet")

    # Bins of width 10 from 900; bin index 3 is empty on every day to exercise gaps.
    rows_day, rows_bin = np.meshgrid(day, np.arange(n_bins), indexing="ij")
    rows_day, rows_bin = rows_day.ravel(), rows_bin.ravel()
    keep = rows_bin != 3
    rows_day, rows_bin = rows_day[keep], rows_bin[keep]
    lo = (900 + 10 * rows_bin).astype(np.float32)
    pq.write_table(
        pa.table(
            {
                "day": rows_day.astype(np.int32),
                "bin_lo": lo,
                "bin_hi": lo + np.float32(10),
                "count": (rows_bin + 1 + rows_day).astype(np.int64),
            }
        ),
        run_dir / "distribution.parquet",
    )
    return run_dir


def section(doc: str, section_id: str) -> str:
    """Return the HTML of the element with the given id, up to its closing tag."""
    match = re.search(rf'<(section|header) id="{section_id}">(.*?)</\1>', doc, re.S)
    assert match, f"no element with id={section_id!r}"
    return match.group(2)


@pytest.fixture
def full_doc(tmp_path: Path) -> str:
    return write_report(make_run(tmp_path / "run"), png=False).read_text(encoding="utf-8")


def test_report_written_with_all_sections(tmp_path: Path) -> None:
    run_dir = make_run(tmp_path / "run")
    path = write_report(run_dir, png=False)
    assert path == run_dir / "report.html"
    assert path.is_file()
    doc = path.read_text(encoding="utf-8")
    ids = [
        "run",
        "headline",
        "score-distribution",
        "banned",
        "sanctions-perks",
        "false-records",
        "speech",
        "silenced",
        "network",
        "regions",
        "other-records",
        "plots",
        "scenario",
    ]
    positions = [doc.index(f'id="{i}"') for i in ids]
    assert positions == sorted(positions), "sections out of order"


def test_plotly_embedded_once_and_offline(full_doc: str) -> None:
    assert full_doc.count(PLOTLY_BUNDLE) == 1
    # heatmap, percentile band, banned, speech, other records
    assert full_doc.count('class="plotly-graph-div"') == 5
    assert full_doc.count("Plotly.newPlot(") == 5
    assert not re.search(r"<script[^>]*\bsrc\s*=", full_doc, re.I)
    assert not re.search(r"<link[^>]*\bhref\s*=", full_doc, re.I)
    assert not re.search(r"@import|url\(\s*['\"]?https?:", full_doc.split("<body>")[0], re.I)
    assert "cdn.plot.ly/plotly" not in full_doc
    # the library must be loaded before the first figure is drawn
    assert full_doc.index(PLOTLY_BUNDLE) < full_doc.index("Plotly.newPlot(")


def test_unknown_record_column_is_plotted(full_doc: str) -> None:
    other = section(full_doc, "other-records")
    assert "widgets_made" in other
    assert "Plotly.newPlot(" in other
    for known in FULL_RECORDS:
        assert known not in other, f"{known} should be plotted in its own section"
    assert "speech_detected" in section(full_doc, "speech")
    assert "newly_banned" in section(full_doc, "banned")


def test_manifest_strings_are_escaped(full_doc: str) -> None:
    assert "&lt;b&gt;evil preset" in full_doc
    assert "<b>evil" not in full_doc
    assert "<script>alert(1)" not in full_doc
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in full_doc
    assert "box&lt;1&gt;" in full_doc and "box<1>" not in full_doc
    assert "abc123&lt;hash&gt;" in full_doc


def test_header_and_headline_numbers(full_doc: str) -> None:
    header = section(full_doc, "run")
    assert "60,000" in header  # 1000 agents * 30 days / 0.5 s
    assert "123456" in header and "0.1.0" in header and "2025-01-01T00:00:00+00:00" in header
    headline = section(full_doc, "headline")
    assert re.search(r"Final banned</th><td[^>]*>22<", headline)  # min(58, 80 - 58)
    assert re.search(r"Peak banned</th><td[^>]*>40 \(day 20\)<", headline)
    assert re.search(r"Total speech detected</th><td[^>]*>90<", headline)
    assert re.search(r"Final mean score</th><td[^>]*>971.00<", headline)


def test_headline_counts_in_people_when_a_citizen_stands_for_many(tmp_path: Path) -> None:
    doc = write_report(make_run(tmp_path / "run", represents=10_000_000), png=False).read_text()
    note = "Each synthetic citizen stands for 10,000,000 people (population.represents, 1 : "
    assert doc.count(note) == 1 and note in section(doc, "run")
    headline = section(doc, "headline")
    assert re.search(r"Final banned</th><td[^>]*>22 \(220 million people\)<", headline)
    assert re.search(r"Peak banned</th><td[^>]*>40 \(400 million people; day 20\)<", headline)
    assert re.search(r"Total speech detected</th><td[^>]*>90 \(900 million in the full "
                     r"population\)<", headline)  # fmt: skip
    assert re.search(r"Final mean score</th><td[^>]*>971.00<", headline)  # not a count


@pytest.mark.parametrize("represents", [None, 1])
def test_no_people_figures_when_a_citizen_is_one_person(tmp_path: Path, represents) -> None:
    doc = write_report(make_run(tmp_path / "run", represents=represents), png=False).read_text()
    assert "stands for" not in doc and "people" not in section(doc, "headline")
    assert re.search(r"Final banned</th><td[^>]*>22<", section(doc, "headline"))


def test_scenario_and_sources(full_doc: str) -> None:
    scenario = section(full_doc, "scenario")
    assert "<pre>" in scenario
    assert "synthetic &amp; friends" in scenario
    assert "floor: 0" in scenario
    assert re.search(r"<li><strong>smith2020</strong>: Smith &lt;i&gt;et al.", scenario)


def test_report_without_banned_or_speech(tmp_path: Path) -> None:
    run_dir = make_run(tmp_path / "run", records=(), extra=(), preset=None)
    doc = write_report(run_dir, png=False).read_text(encoding="utf-8")
    for section_id in (
        "banned",
        "sanctions-perks",
        "false-records",
        "speech",
        "silenced",
        "network",
        "other-records",
    ):
        body = section(doc, section_id)
        assert "not recorded" in body.lower()
        assert "Plotly.newPlot(" not in body
    assert "banned" not in section(doc, "headline")
    assert "Final mean score" in section(doc, "headline")
    assert doc.count(PLOTLY_BUNDLE) == 1
    assert doc.count("Plotly.newPlot(") == 2  # heatmap and percentile band only
    assert "synthetic &amp; friends" in section(doc, "run")  # title falls back to scenario name


def test_write_is_atomic(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    run_dir = make_run(tmp_path / "run")
    before = {p.name for p in run_dir.iterdir()}
    write_report(run_dir, png=False)
    assert {p.name for p in run_dir.iterdir()} == before | {"report.html"}

    # A failure at the final rename leaves the old report untouched and no temp file behind.
    (run_dir / "report.html").write_text("previous")

    def broken_replace(src: str, dst: str) -> None:
        raise OSError("disk on fire")

    monkeypatch.setattr(report.os, "replace", broken_replace)
    with pytest.raises(OSError, match="disk on fire"):
        write_report(run_dir, png=False)
    assert {p.name for p in run_dir.iterdir()} == before | {"report.html"}
    assert (run_dir / "report.html").read_text() == "previous"


def test_score_histogram_grid(tmp_path: Path) -> None:
    run_dir = make_run(tmp_path / "run", days=4, n_bins=5)
    days, edges, counts = score_histogram(pq.read_table(run_dir / "distribution.parquet"))
    assert days.tolist() == [0, 1, 2, 3]
    assert edges.tolist() == [900, 910, 920, 930, 940, 950]  # gap bin 930-940 kept
    assert counts.shape == (5, 4)
    assert counts[3].tolist() == [0, 0, 0, 0]
    assert counts[:, 2].tolist() == [3, 4, 5, 0, 7]  # bin index + 1 + day
    assert counts.sum() == sum(b + 1 + d for d in range(4) for b in (0, 1, 2, 4))


MODULE_COLUMNS = (
    "sanction_travel", "sanction_travel_imposed", "sanction_schools_family", "perk_singapore",
    "wrongly_listed", "newly_wrongly_listed", "false_records", "ties_cut", "largest_component",
)  # fmt: skip


def add_regions(run_dir: Path, days: int = 30, regions: int = 3) -> None:
    """Write timeseries_region.parquet: region k has mean score 600 + k and k banned a day."""
    day = np.repeat(np.arange(days, dtype=np.int32), regions)
    region = np.tile(np.arange(regions, dtype=np.int32), days)
    table = {
        "day": day,
        "region": region,
        "mean_score": 600.0 + region,
        "banned": region.astype(np.int64),
        "newly_banned": np.ones(day.size, np.int64),
    }
    pq.write_table(pa.table(table), run_dir / "timeseries_region.parquet")
    manifest = json.loads((run_dir / "manifest.json").read_text())
    manifest["region_names"] = ["North<1>", "Centre", "South"]
    (run_dir / "manifest.json").write_text(json.dumps(manifest))


def test_module_columns_find_their_sections(tmp_path: Path) -> None:
    run_dir = make_run(tmp_path / "run", extra=MODULE_COLUMNS)
    doc = write_report(run_dir, png=False).read_text(encoding="utf-8")
    sanctions = section(doc, "sanctions-perks")
    for column, meta in list(MODULE_RECORDS.items())[:4]:
        assert column in sanctions and meta["label"] in sanctions  # the legend is its label
    assert sanctions.count("Plotly.newPlot(") == 4  # held, imposed, on family, perks
    false = section(doc, "false-records")
    for column in ("wrongly_listed", "newly_wrongly_listed", "false_records"):
        assert column in false
    assert "ties_cut" in section(doc, "network") and "largest_component" in section(doc, "network")
    assert "not recorded in this run" in section(doc, "silenced")
    assert "Plotly.newPlot(" not in section(doc, "silenced")
    assert "Not recorded" in section(doc, "other-records")  # nothing left over
    assert "Final wrongly listed" in section(doc, "headline")


def test_silenced_speech_is_plotted_when_recorded(tmp_path: Path) -> None:
    run_dir = make_run(tmp_path / "run", extra=("speech_silenced",))
    doc = write_report(run_dir, png=False).read_text(encoding="utf-8")
    silenced = section(doc, "silenced")
    assert "speech_silenced" in silenced and "Plotly.newPlot(" in silenced
    assert "Total speech silenced" in section(doc, "headline")


def test_outcomes_by_region(tmp_path: Path) -> None:
    run_dir = make_run(tmp_path / "run")
    doc = write_report(run_dir, png=False).read_text(encoding="utf-8")
    assert "No regions" in section(doc, "regions")
    add_regions(run_dir)
    doc = write_report(run_dir, png=False).read_text(encoding="utf-8")
    regions = section(doc, "regions")
    assert "North&lt;1&gt;" in regions and "North<1>" not in regions
    assert regions.count("Plotly.newPlot(") == 2  # mean score and banned by region
    # South (region 2): final mean score 602, final banned 2, total newly banned 30 days x 1
    assert re.search(r"<th>South</th><td[^>]*>602.00</td><td[^>]*>2</td><td[^>]*>30</td>", regions)
