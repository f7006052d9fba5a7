"""The explorer page in a real headless Chromium (Debian's /usr/bin/chromium, driven by
Playwright): look up an audited citizen and check what the page shows."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from scsim.explorer.app import create_app
from tests.browser import chromium_page
from tests.explorer.conftest import serve


@pytest.fixture
def served(core_run: Path) -> Iterator[str]:
    """The app over the CLI's sc-core run, served by uvicorn in a thread on a free port."""
    with serve(create_app([core_run])) as url:
        yield url


def busiest_audited_citizen(run: Path) -> tuple[int, int]:
    """The audited citizen with the most events (every citizen is audited at n=2000), and
    how many events it has."""
    counts = pq.read_table(run / "events.parquet", columns=["citizen"])["citizen"].value_counts()
    best = max(counts.to_pylist(), key=lambda c: (c["counts"], -c["values"]))
    return best["values"], best["counts"]


def test_page_looks_up_an_audited_citizen(served, core_run, tmp_path):
    citizen, n_events = busiest_audited_citizen(core_run)
    people = pq.read_table(core_run / "people.parquet", columns=["citizen", "score"])
    score = people.filter(pc.equal(people["citizen"], citizen))["score"][0].as_py()
    shot = tmp_path / "explorer.png"
    with chromium_page(1280, 1600) as (page, errors):
        page.goto(served + "/")
        page.wait_for_selector("#run-table tbody tr")
        assert page.locator("#run-table tbody tr td").nth(1).inner_text() == "core"
        page.wait_for_selector("#result-table tbody tr")
        page.fill("#citizen-id", str(citizen))
        page.click("#lookup-button")
        page.wait_for_selector("#score-chart .main-svg", timeout=20_000)
        assert page.locator("#citizen-number").inner_text() == str(citizen)
        assert page.locator("#citizen-score").inner_text() == f"{score:.2f}"
        rows = page.locator("#events-table tbody tr")
        assert rows.count() == n_events >= 1
        assert page.locator("#score-chart .main-svg").count() >= 1
        assert page.locator("#score-chart .scatterlayer .trace").count() == 6  # score + 5
        assert page.locator("#held-table").inner_text().count("sanction: travel") == 1
        page.screenshot(path=str(shot), full_page=True)
    print(f"screenshot: {shot}")
    assert shot.stat().st_size > 10_000
    assert errors == []
