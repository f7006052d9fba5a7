"""`make run` end to end, as a user runs it (small N so CI stays fast)."""

import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_make_run_writes_the_report_and_says_where(tmp_path):
    out = tmp_path / "run"
    res = subprocess.run(
        ["make", "--no-print-directory", "run", "N=3000", "DAYS=15", f"OUT={out}"],
        cwd=ROOT, capture_output=True, text=True, timeout=900,
    )  # fmt: skip
    assert res.returncode == 0, res.stdout + res.stderr
    report = out / "report.html"
    assert report.is_file() and report.stat().st_size > 100_000
    assert str(report) in res.stdout
    assert "Plotly.newPlot" in report.read_text()


def test_the_files_make_test_starts_with_exist():
    # tests/conftest.py's LONGEST_FIRST orders the workers' files by path: a renamed file
    # would silently lose its place
    from tests.conftest import LONGEST_FIRST

    assert [p for p in LONGEST_FIRST if not (ROOT / p).is_file()] == []
    assert len(set(LONGEST_FIRST)) == len(LONGEST_FIRST)
