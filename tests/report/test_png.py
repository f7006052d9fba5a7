"""PNG copies of the report's figures (kaleido with the machine's Chromium) and `scsim report`."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from scsim.cli import app
from scsim.report import write_report
from scsim.report.png import browser_path
from tests.conftest import make_run as real_run
from tests.test_report import MODULE_COLUMNS, add_regions, make_run, section

runner = CliRunner()
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def test_this_machine_has_a_browser_for_kaleido():
    assert browser_path() is not None, "expected Chromium (Debian: /usr/bin/chromium)"


def test_every_figure_is_saved_as_a_png(tmp_path: Path) -> None:
    run_dir = make_run(tmp_path / "run", extra=MODULE_COLUMNS)
    add_regions(run_dir)
    doc = write_report(run_dir).read_text(encoding="utf-8")
    pngs = sorted((run_dir / "plots").glob("*.png"))
    assert len(pngs) == doc.count("Plotly.newPlot(") >= 8
    for png in pngs:
        data = png.read_bytes()
        assert data.startswith(PNG_MAGIC) and len(data) > 5_000, png.name
        assert f"plots/{png.name}" in section(doc, "plots")
    assert "skipped" not in section(doc, "plots")
    assert not [p for p in run_dir.iterdir() if p.name.startswith(".")]  # no temp dirs left


def test_without_a_browser_the_report_still_renders(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("BROWSER_PATH", str(tmp_path / "no-such-browser"))
    run_dir = make_run(tmp_path / "run")
    doc = write_report(run_dir).read_text(encoding="utf-8")
    assert "PNGs were skipped" in section(doc, "plots")
    assert "Plotly.newPlot(" in doc
    assert not (run_dir / "plots").exists()


def test_cli_report_rerenders_a_run(tmp_path: Path) -> None:
    run_dir = real_run(tmp_path / "run")
    (run_dir / "report.html").write_text("stale")
    res = runner.invoke(app, ["report", str(run_dir)])
    assert res.exit_code == 0, res.output
    doc = (run_dir / "report.html").read_text(encoding="utf-8")
    assert doc != "stale" and "Plotly.newPlot(" in doc
    assert not re.search(r"<script[^>]*\bsrc\s*=\s*['\"]?http", doc, re.I)
    assert len(list((run_dir / "plots").glob("*.png"))) == doc.count("Plotly.newPlot(")


@pytest.mark.parametrize(
    "setup,message",
    [
        (lambda d: None, "does not exist"),
        (lambda d: real_run(d).joinpath("timeseries.parquet").unlink(),
         "missing timeseries.parquet"),
        (lambda d: real_run(d).joinpath("manifest.json").write_text("{"),
         "manifest.json cannot be read"),
    ],
    ids=["missing", "incomplete", "bad-manifest"],
)  # fmt: skip
def test_cli_report_refuses_a_missing_or_incomplete_dir(tmp_path, setup, message):
    run_dir = tmp_path / "run"
    setup(run_dir)
    report = run_dir / "report.html"
    before = report.read_bytes() if report.exists() else None
    res = runner.invoke(app, ["report", str(run_dir)])
    assert res.exit_code == 2
    assert message in " ".join(res.stderr.split())
    assert (report.read_bytes() if report.exists() else None) == before  # nothing rewritten


def test_cli_report_refuses_a_partial_run(tmp_path):
    run_dir = real_run(tmp_path / "run").rename(tmp_path / "run.partial")
    res = runner.invoke(app, ["report", str(run_dir)])
    assert res.exit_code == 2 and "partial" in res.stderr
