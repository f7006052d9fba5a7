"""The report's "Who is hit" section: outcomes per 1 000 by income, age, occupation, region."""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from scsim.engine import Sim
from scsim.report.html import Embedder
from scsim.report.who import rates, who_is_hit
from scsim.results import write_run
from scsim.scenario import load_scenario

MANIFEST = {
    "region_names": ["north", "south"],
    "scenario": {"modules": {"population": {"occupations": [{"name": "farmer"}]}}},
}


def people(n: int = 1000) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(5)
    citizen = np.arange(n)
    return {
        "listed": citizen % 10 == 0,  # every tenth citizen
        "days_listed": np.where(citizen % 5 == 0, 30, 0),  # every fifth, ever
        "wrongful": citizen % 100 == 0,
        "sanctions_held": (citizen % 10 == 0).astype(np.uint8),
        "score": np.full(n, 600.0),
        "age": citizen % 90,
        "income": np.where(citizen % 90 >= 18, rng.uniform(1, 100, n), 0.0),
        "occupation": np.where(citizen % 2 == 0, 3, 0),  # farmer (3) or none (0)
        "region": citizen % 2,
    }


def test_rates_per_group_count_what_the_people_table_says():
    p = people()
    by = rates(p, MANIFEST)
    assert set(by) == {"income (of earners)", "age", "occupation", "region"}
    regions = {r["group"]: r for r in by["region"]}
    # region is citizen % 2, listed is citizen % 10 == 0: every listed citizen is even (north)
    assert regions["north"]["citizens"] == 500 and regions["north"]["listed at the end"] == "200.0"
    assert regions["south"]["listed at the end"] == "0.0"
    # ever listed is citizen % 5 == 0: 100 even and 100 odd citizens of 500 each
    assert regions["north"]["ever listed"] == regions["south"]["ever listed"] == "200.0"
    assert regions["north"]["wrongly listed"] == "20.0" and regions["north"]["mean score"] == "600"
    occupations = {r["group"]: r["citizens"] for r in by["occupation"]}
    assert occupations == {"none": 500, "farmer": 500}  # codes 1-2 (student, retired) absent
    # age = citizen % 90 over 1 000 citizens: ages 0-9 twelve times, 10-89 eleven times
    ages = {r["group"]: r["citizens"] for r in by["age"]}
    assert ages == {"under 18": 10 * 12 + 8 * 11, "18–29": 12 * 11, "30–44": 15 * 11,
                    "45–59": 15 * 11, "60 and over": 30 * 11}  # fmt: skip
    incomes = by["income (of earners)"]
    assert incomes[0] == {**incomes[0], "group": "no income of their own", "citizens": 208}
    fifths = [r["citizens"] for r in incomes[1:]]
    assert sum(fifths) == 792 and max(fifths) - min(fifths) <= 1  # 792 earners in fifths


def test_the_section_has_a_table_per_grouping_and_a_chart():
    table = pa.table(people())
    embed = Embedder()
    html = who_is_hit(table, MANIFEST, embed)
    assert "Who is hit" in html and html.count("<h3>By ") == 4
    assert [name for name, _ in embed.figures] == ["01_who_is_hit"]


def test_regions_alone_give_tables_and_no_chart():
    # a run with regions but no population module (no income, no age): no bars to draw
    table = pa.table({k: v for k, v in people().items() if k in ("listed", "region", "score")})
    embed = Embedder()
    html = who_is_hit(table, MANIFEST, embed)
    assert "By region" in html and "By age" not in html and embed.figures == []


def test_no_listing_no_section():
    table = pa.table({k: v for k, v in people().items() if k != "listed"})
    assert who_is_hit(table, MANIFEST, Embedder()) == ""
    assert who_is_hit(None, MANIFEST, Embedder()) == ""


def test_a_run_report_shows_who_is_hit(tmp_path):
    sim = Sim(load_scenario("beijing-2020", {"population.n": 2000, "days": 30})).run()
    run = write_run(sim, tmp_path / "run", "beijing-2020", threads=1)
    html = (run / "report.html").read_text()
    assert '<section id="who">' in html and "By age" in html and "By region" in html
    assert "dongcheng" in html  # Beijing's districts by name


def test_counting_in_chunks_changes_nothing(monkeypatch):
    """The section counts citizens a chunk at a time (its memory does not grow with the
    population): chunks of 7 citizens give the table of one chunk."""
    import scsim.report.who as who

    whole = rates(people(), MANIFEST)
    monkeypatch.setattr(who, "CHUNK", 7)
    assert rates(people(), MANIFEST) == whole
