"""Shipped presets: each lists, cites its sources, holds what it claims, and runs end to end."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest
import yaml
from typer.testing import CliRunner

from scsim.cli import app
from scsim.modules.population_tables import region_shares
from scsim.scenario import Scenario, load_raw, load_scenario, preset_names

runner = CliRunner()

SEED_FILES = {
    "000_90235788c8c74145.txt",
    "001_6af9132431b79407.txt",
    "002_2a5058ca983a6e67.txt",
    "003_556624e647b0a110.txt",
    "004_531244cc72c235b0.txt",
}
SEED_NAME = re.compile(r"\d{3}_[0-9a-f]{16}\.txt")
PUBLISHED = re.compile(r"\b(19|20)\d\d-\d\d-\d\d\b|\b(19|20)\d\d census\b")
"""A published aggregate figure names its publication with its date, or a census."""
SYSTEMS = [
    "sesame", "tencent", "beijing-2020", "china-2020", "court-blacklist", "fico", "whitelist",
    "peer-rating",
]  # fmt: skip
RUN_FILES = [
    "audit.parquet", "distribution.parquet", "events.parquet", "manifest.json",
    "people.parquet", "report.html", "timeseries.parquet",
]  # fmt: skip
N, DAYS = 2500, 20
MANDATE_DAY = 10
"""china-2020's mandate (2020-01-01, day 184 of its year) moved into the short test run."""


def test_scsim_presets_lists_every_system_in_the_seeds():
    assert set(SYSTEMS) <= set(preset_names())
    res = runner.invoke(app, ["presets"])
    assert res.exit_code == 0
    listed = {line.split()[0] for line in res.stdout.splitlines() if line.strip()}
    assert set(preset_names()) <= listed


@pytest.mark.parametrize("name", preset_names())
def test_every_preset_states_the_memory_of_its_score(name):
    """A score is a lifetime sum or fades with a half-life: each preset says which, and why."""
    sc = load_scenario(name)
    assert "memory" in sc.sources, f"{name}: sources.memory is missing"
    scoring = sc.modules.scoring
    if scoring.half_life is None and not scoring.half_lives:
        assert re.search(r"\bno(ne)?\b", sc.sources["memory"]), sc.sources["memory"]


@pytest.mark.parametrize("name", preset_names())
def test_every_source_names_a_seed_file_or_a_publication_or_says_assumption(name):
    sources = load_scenario(name).sources
    assert sources, f"{name}: no sources block"
    for key, text in sources.items():
        cited = set(SEED_NAME.findall(text))
        assert cited <= SEED_FILES, f"{name}.sources.{key}: unknown seed file {cited - SEED_FILES}"
        published = PUBLISHED.search(text)
        assert cited or published or "assumption" in text.lower(), f"{name}.{key}: {text!r}"


# ---------------------------------------------------------------- what each preset claims


def _on(sc: Scenario) -> set[str]:
    return {name for name, p in sc.modules if p is not None and p.enabled}


def _sesame(sc: Scenario) -> None:
    assert sc.modules.scoring.range == (350, 950)
    w = sc.modules.scoring.weights
    # five factor groups as shares x 5: credit history 35 %, behaviour 25 % (purchases and
    # speech), ability to pay 20 %, personal characteristics 15 %, relationships 5 %
    groups = [w["finance"], w["purchases"], w["courts"], w["infractions"], w["friends"]]
    assert groups == [1.75, 1.25, 1.0, 0.75, 0.25] and w["speech"] == w["purchases"]
    assert {p.min_score for p in sc.modules.perks.perks} >= {700, 750}
    assert not {"lists", "sanctions"} & _on(sc)
    assert sc.modules.population.enrolled_share < 1 and not sc.modules.policy.enrolment.mandatory
    assert not sc.timeline


def _tencent(sc: Scenario) -> None:
    sesame = load_scenario("sesame")
    same = {"name", "description", "sources", "calibration"}  # sesame's fit, carried over

    def body(s: Scenario) -> dict:
        data = s.model_dump(mode="json", exclude=same)
        data["modules"]["scoring"].pop("weights")
        return data

    assert body(sc) == body(sesame)  # the same data: only the weights differ
    w = sc.modules.scoring.weights
    assert w["friends"] == max(w.values()) > sesame.modules.scoring.weights["friends"]


def _beijing(sc: Scenario) -> None:
    assert sc.population.n == 22_000_000
    assert sc.modules.population.regions == "beijing"
    assert np.allclose(sc.network.region_shares, region_shares("beijing"))
    sv = sc.modules.surveillance
    assert sv.pooling and sv.pool_from_day == 0 and sum(s.pooled for s in sv.sources) >= 2
    lists = sc.modules.lists
    # the published rules' two-year term (SPC 2017 provisions), not "never removed"
    assert lists.removal == "expiry" and lists.listing_days == 730 and lists.release_days == 3
    assert lists.court and not lists.appeals and lists.disclose
    assert "expiry" not in _on(sc)
    tiers = {t.name: t for t in sc.modules.sanctions.tiers}
    assert {"travel", "hotels", "internet", "schools"} <= set(tiers) and tiers["schools"].family
    assert sc.modules.sanctions.bar_jobs
    assert [p.name for p in sc.modules.perks.perks if p.redlist] == ["green_channel"]
    assert lists.redlist_above is not None


def _china(sc: Scenario) -> None:
    assert sc.modules.population.regions == "china" and sc.population.n <= 1_000_000
    assert sc.modules.population.enrolled_share < 1
    assert not sc.modules.policy.enrolment.mandatory
    [event] = sc.timeline
    assert event.day == 184 and event.set == {"modules.policy.enrolment.mandatory": True}
    assert sc.modules.surveillance.pooling


def _court(sc: Scenario) -> None:
    lists = sc.modules.lists
    assert lists.court and lists.blacklist_below == 0 and lists.act_days == 0
    assert lists.removal == "never" and not lists.appeals
    assert {"finance", "courts"} <= _on(sc) and "expiry" not in _on(sc)
    assert [(t.name, t.days) for t in sc.modules.sanctions.tiers] == [("travel", 365)]


def _fico(sc: Scenario) -> None:
    scoring = sc.modules.scoring
    assert scoring.range == (300, 850)
    assert _on(sc) == {"population", "finance", "scoring", "perks"}
    assert scoring.friend_pull == 0 and scoring.friend_sanction_penalty == 0
    assert scoring.friend_listed_penalty == 0 and scoring.friend_offence_penalty == 0
    assert [p.name for p in sc.modules.perks.perks] == ["easy_credit"]


def _whitelist(sc: Scenario) -> None:
    assert _on(sc) == {"population", "infractions", "scoring", "lists", "perks"}
    lists = sc.modules.lists
    assert lists.blacklist_below == 0 and not lists.court and lists.redlist_above is not None
    assert [(p.name, p.redlist) for p in sc.modules.perks.perks] == [("fast_lane", True)]


def _peer(sc: Scenario) -> None:
    assert _on(sc) == {"population", "peer_rating", "lookups", "scoring", "perks"}
    assert all(p.min_score is not None for p in sc.modules.perks.perks)
    assert sc.modules.scoring.friend_pull == 0


CLAIMS: dict[str, Callable[[Scenario], None]] = {
    "sesame": _sesame, "tencent": _tencent, "beijing-2020": _beijing, "china-2020": _china,
    "court-blacklist": _court, "fico": _fico, "whitelist": _whitelist, "peer-rating": _peer,
}  # fmt: skip


@pytest.mark.parametrize("name", SYSTEMS)
def test_preset_holds_what_it_claims(name):
    CLAIMS[name](load_scenario(name))


# ---------------------------------------------------------------- end to end


def _column(run: Path, table: str, name: str) -> np.ndarray:
    return pq.read_table(run / f"{table}.parquet", columns=[name]).column(0).to_numpy()


def _has(run: Path, table: str, name: str) -> bool:
    return name in pq.read_schema(run / f"{table}.parquet").names


def _china_run(run: Path) -> None:
    enrolled = _column(run, "timeseries", "enrolled")
    assert (enrolled[:MANDATE_DAY] < N).all() and (enrolled[MANDATE_DAY:] == N).all()


def _court_run(run: Path) -> None:
    listed = _column(run, "people", "listed")
    court = _column(run, "people", "court_listed")
    assert listed.sum() > 50  # many judgment defaulters at the test's court rates
    assert (listed & ~court).sum() > 0  # some performed late: the mark clears, the listing not
    assert _column(run, "timeseries", "delisted").sum() == 0  # removal: never
    assert _column(run, "timeseries", "appeals_filed").sum() == 0  # no recourse
    # sincere apologies judged insincere (~12 expected at the test's rates: 5e-6 to see none)
    assert _column(run, "timeseries", "wrongly_listed")[-1] > 0
    kinds = pq.read_table(run / "events.parquet", columns=["kind", "cause"]).to_pylist()
    causes = {e["cause"] for e in kinds if e["kind"] == "lists.listed"}
    assert causes == {"court"}  # only the court lists


def _fico_run(run: Path) -> None:
    score = _column(run, "people", "score")
    assert score.min() >= 300 and score.max() <= 850
    assert not _has(run, "timeseries", "listed") and not _has(run, "timeseries", "banned")
    assert _column(run, "timeseries", "perk_easy_credit").max() > 0


def _whitelist_run(run: Path) -> None:
    redlisted = _column(run, "timeseries", "redlisted")
    assert (redlisted == _column(run, "timeseries", "perk_fast_lane")).all()
    assert (np.diff(redlisted) <= 0).all() and redlisted[-1] < redlisted[0]  # a record is final
    assert not _has(run, "timeseries", "banned")


def _peer_run(run: Path) -> None:
    assert (_column(run, "timeseries", "peer_ratings") > 0).all()
    score = _column(run, "people", "score")
    rating = _column(run, "people", "peer_rating")
    # follow 1, no other component: the score is the rating mapped onto 350-950, up to float32
    # rounding of the kernel's update (a few ulp of ~950, 6e-5 each): 1e-3 points
    assert np.abs(score - (350 + (rating - 1) * 150)).max() < 1e-3


def _sesame_run(run: Path) -> None:
    enrolled = _column(run, "people", "enrolled")
    perks = _column(run, "people", "perks_held")
    assert 0 < enrolled.sum() < N and (perks[~enrolled] == 0).all() and perks.any()


def _beijing_run(run: Path) -> None:
    assert _column(run, "timeseries", "surveillance_pooled").sum() > 0
    assert _column(run, "timeseries", "surveillance_unpooled").sum() == 0
    for tier in ("travel", "hotels", "internet", "schools", "pets"):
        assert _has(run, "timeseries", f"sanction_{tier}")


RUN_CHECKS: dict[str, Callable[[Path], None]] = {
    "china-2020": _china_run, "court-blacklist": _court_run, "fico": _fico_run,
    "whitelist": _whitelist_run, "peer-rating": _peer_run, "sesame": _sesame_run,
    "tencent": _sesame_run, "beijing-2020": _beijing_run,
}  # fmt: skip

TEST_OVERRIDES: dict[str, Callable[[dict], None]] = {
    "china-2020": lambda raw: raw["timeline"][0].update(day=MANDATE_DAY),
    # court orders within 20 days: frequent disputes (half of them ordering an apology),
    # short deadlines, frequent late performance
    # sesame and tencent start at 616, below their first perk (650), which steady payers reach after
    # months; started at 650, some hold a perk within 20 days
    "tencent": lambda raw: raw["modules"]["scoring"].update(initial=650),
    "sesame": lambda raw: raw["modules"]["scoring"].update(initial=650),
    "court-blacklist": lambda raw: raw["modules"]["courts"].update(
        dispute_rate=0.01, apology_share=0.5, deadline_days=3, late_rate=0.05
    ),
}


@pytest.mark.parametrize("name", preset_names())
def test_preset_runs_end_to_end(name, tmp_path):
    """Every preset through ``scsim run`` at small N (presets with the same modules share a
    compiled kernel); a preset whose claim needs more than 20 days is run from a YAML copy
    with the change named in ``TEST_OVERRIDES``."""
    out = tmp_path / "run"
    if name in TEST_OVERRIDES:
        raw = load_raw(name)
        TEST_OVERRIDES[name](raw)
        spec = tmp_path / f"{name}.yaml"
        spec.write_text(yaml.safe_dump(raw))
    else:
        spec = name
    args = ["run", str(spec), "--n", str(N), "--days", str(DAYS), "--seed", "2"]
    res = runner.invoke(app, [*args, "--out", str(out)])
    assert res.exit_code == 0, res.output
    assert set(RUN_FILES) <= {p.name for p in out.iterdir()}
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["n"] == N and manifest["days"] == DAYS
    assert manifest["scenario"]["name"] == name
    assert manifest["preset"] == (None if name in TEST_OVERRIDES else name)
    assert len(_column(out, "timeseries", "day")) == DAYS
    if name in RUN_CHECKS:
        RUN_CHECKS[name](out)
