"""The memory plan: parts extrapolated from two small builds equal a real build's, the audit is
sized without allocating it, and a run that will not fit is refused before it is built."""

from __future__ import annotations

import json
import math
import re

import numpy as np
import pytest
from typer.testing import CliRunner

from scsim.cli import app
from scsim.engine import Sim
from scsim.events import EventLog
from scsim.footprint import measure
from scsim.memory import parse_bytes
from scsim.plan import PROBE_N, estimate, lower_bound
from scsim.scenario import load_scenario

runner = CliRunner()

STATE = {"process", "events", "write", "audit"}
"""Parts not compared with a build's arrays: the process, the events a run keeps, the writing
(measured by bench/plan_accuracy.py) and the audit (sized by its shapes, tested below)."""


@pytest.mark.parametrize("name", ["sc-core", "all-modules", "beijing-2020"])
def test_parts_at_another_size_equal_that_builds_arrays(name):
    # every part is fixed + n x per citizen: from builds at 10 000 and 20 000 citizens, the
    # estimate at 60 000 is that build's bytes, to 1 % (the regional network's ties and the
    # households are random, so its bytes per citizen vary by a fraction of a percent)
    n = 60_000
    scenario = load_scenario(name, {"population.n": n, "days": 30})
    plan = estimate(scenario, available=10**12, pilot=False)
    built = measure(Sim(scenario).build(compile_kernel=False))
    planned = {p.name: p.at(n) for p in plan.parts if p.name not in STATE}
    assert set(planned) == set(built) - STATE
    for part, nbytes in built.items():
        if part not in STATE:
            assert planned[part] == pytest.approx(nbytes, rel=0.01), part


def test_a_view_is_counted_with_the_array_it_views():
    # sanctions' tiers are one (tiers, n) table whose rows are people fields: a view adds no
    # bytes, a copy adds its own
    sim = Sim(load_scenario("all-modules", {"population.n": 5000, "days": 10}))
    sim.build(compile_kernel=False)
    assert any(a.base is not None for a in sim.people.fields.values())  # the case exists
    before = sum(measure(sim).values())
    sim.people.add("a_view", sim.people.fields["age"][:])
    assert sum(measure(sim).values()) == before
    sim.people.add("a_copy", sim.people.fields["age"].copy())
    assert sum(measure(sim).values()) == before + sim.people.fields["age"].nbytes


@pytest.mark.parametrize("audit", [0, 7, 1000, 50_000])
def test_the_audit_is_sized_by_the_shapes_it_is_allocated_with(audit):
    log = EventLog(20_000, audit, 5, 40)
    shapes = log.shapes(12, 4)
    log.allocate(12, 4)
    for name, (shape, dtype) in shapes.items():
        array = getattr(log, name)
        assert array.shape == shape and array.dtype == dtype
    assert sum(math.prod(s) * np.dtype(d).itemsize for s, d in shapes.values()) == sum(
        getattr(log, name).nbytes for name in shapes
    )


def test_the_lower_bound_is_below_the_estimate():
    scenario = load_scenario("sc-core", {"population.n": 50_000, "days": 30})
    assert lower_bound(scenario, 50_000).peak < estimate(scenario).peak


@pytest.mark.parametrize(
    "text, value",
    [("24GB", 24 * 10**9), ("24 GiB", 24 * 2**30), ("512mb", 512 * 10**6), ("1.5TB", 1.5e12),
     ("1000", 1000)],
)  # fmt: skip
def test_sizes_read_as_people_write_them(text, value):
    assert parse_bytes(text) == value


@pytest.mark.parametrize("text", ["x", "-1GB", "0", "12 XB", ""])
def test_a_size_that_is_not_one_is_refused(text):
    with pytest.raises(ValueError):
        parse_bytes(text)


def test_plan_prints_parts_that_add_up_to_the_peak():
    res = runner.invoke(app, ["plan", "sc-core", "--n", "30000", "--days", "20", "--json"])
    assert res.exit_code == 0, res.output
    plan = json.loads(res.stdout)
    assert plan["peak_bytes"] == pytest.approx(sum(p["bytes"] for p in plan["parts"]))
    assert plan["fits"] and plan["ranks"] == plan["ranks_needed"] == 1
    assert plan["largest_n"] > 30_000


def test_plan_for_a_smaller_machine_says_how_many_ranks_would_hold_it():
    res = runner.invoke(
        app, ["plan", "sc-core", "--n", "200000000", "--days", "20"] + ["--memory", "8GB"]
    )
    assert res.exit_code == 0, res.output
    assert "does not fit" in res.stdout and "MPI ranks of this size" in res.stdout


def test_a_bad_memory_size_names_the_option():
    res = runner.invoke(app, ["plan", "sc-core", "--memory", "lots"])
    assert res.exit_code == 2 and "--memory: 'lots' is not a size" in res.stderr


def test_a_run_too_large_for_the_machine_is_refused_before_it_is_built(run_cli, tmp_path):
    out = tmp_path / "run"
    res = run_cli("run", "sc-core", "--n", "3000000000", "--days", "10", "--out", str(out))
    assert res.returncode == 2, res.stderr
    assert "need at least" in res.stderr and "available" in res.stderr
    assert "Traceback" not in res.stderr and not out.exists()
    assert not (tmp_path / "run.partial").exists()


def test_beyond_32_bit_ids_the_refusal_says_what_it_would_take(run_cli):
    res = run_cli("run", "china-2020", "--n", "10000000000")
    assert res.returncode == 2
    assert "fewer than 4,294,967,296" in res.stderr
    assert re.search(r"would need at least [0-9.]+ [GT]B of memory", res.stderr.replace("\n", " "))


def test_scsim_memory_sets_the_machine_to_plan_for(monkeypatch, tmp_path):
    monkeypatch.setenv("SCSIM_MEMORY", "200MB")
    out = tmp_path / "run"
    res = runner.invoke(app, ["run", "sc-core", "--n", f"{PROBE_N[1] * 60}", "--out", str(out)])
    assert res.exit_code == 2 and "200 MB available" in res.stderr and not out.exists()
    monkeypatch.setenv("SCSIM_MEMORY", "plenty")
    res = runner.invoke(app, ["run", "sc-core", "--n", "1000", "--days", "5", "--out", str(out)])
    assert res.exit_code == 2 and "SCSIM_MEMORY: 'plenty' is not a size" in res.stderr


@pytest.mark.parametrize("name", ["sc-core", "beijing-2020"])
def test_a_checkpointed_run_counts_the_copy_its_checkpoints_are_written_from(name):
    # the copy is every block of the state but the network's (a network the seed makes is not
    # written): planned from the state's parts, it is within 10 % of what a checkpoint after
    # the run's last day copies (the events kept are the pilot's extrapolation); it is freed
    # before the results are written, so the peak holds the larger of the two, not both; and the
    # writing adds only what the network, freed before it, does not give back
    from scsim.checkpoint import capture

    n, days = 60_000, 30
    scenario = load_scenario(name, {"population.n": n, "days": days})
    plan = estimate(scenario, available=10**12, checkpoints=True)
    sim = Sim(scenario).build()
    for day in range(days):
        sim.step(day)
    copies: list[np.ndarray] = []
    capture(sim, into=copies)
    planned = {p.name: p.at(n) for p in plan.parts}
    assert planned["checkpoint"] == pytest.approx(sum(c.nbytes for c in copies), rel=0.1)
    state = sum(p.at(n) for p in plan.parts if p.kind in ("state", "process"))
    write = next(p for p in plan.parts if p.name == "write")
    beyond = max(0.0, planned["write"] - planned["network"])
    assert plan.added(write) == beyond
    assert plan.peak == state + max(planned["checkpoint"], beyond)
    assert "checkpoint" not in {p.name for p in estimate(scenario, 10**12).parts}


def test_the_writing_adds_only_what_the_freed_network_does_not_give_back():
    # small runs: the writing's fixed cost is larger than the network, and adds the difference;
    # large runs: the network is larger and the writing adds nothing; largest_n is the most
    # citizens whose peak fits
    from scsim.plan import HEADROOM, Part, Plan

    parts = [
        Part("process", "process", 2e8, 0.0, "process"),
        Part("network", "network", 0.0, 100.0),
        Part("scores", "scores", 0.0, 50.0),
        Part("write", "write", 1.4e8, 12.0, "transient"),
    ]
    plan = Plan("x", 1_000_000, 365, parts, available=10**10)
    write = parts[-1]
    assert plan.added(write, 1000) == pytest.approx(1.4e8 + 12e3 - 1e5)
    assert plan.added(write, 10**7) == 0.0
    assert plan.peak_at(10**7) == pytest.approx(2e8 + 150e7)
    largest = plan.largest_n()  # within the share of the memory a run may plan for
    assert plan.usable == HEADROOM * plan.available
    assert plan.peak_at(largest) <= plan.usable < plan.peak_at(largest + 1)
    assert largest == (HEADROOM * 10**10 - 2e8) // 150
    assert Plan("x", largest, 365, parts, 10**10).fits
    assert not Plan("x", largest + 1, 365, parts, 10**10).fits


def test_the_people_file_adds_what_the_plan_counts_for_it(tmp_path, monkeypatch):
    # the people file is written a row group at a time: the citizen ids and the int32 copies of
    # the two-byte day fields (a dozen with every module on) are made for one group alone, so
    # writing it adds the score column and one group's columns (two while the next is made).
    # tracemalloc counts numpy's buffers (Arrow's pool is the plan's fixed part, not checked
    # here); 50 groups of 1 000 citizens
    import tracemalloc

    import scsim.results
    from scsim.days import DAY
    from scsim.plan import WRITE_PER_CITIZEN

    monkeypatch.setattr(scsim.results, "ROW_GROUP", 1000)
    n = 50_000
    sim = Sim(load_scenario("all-modules", {"population.n": n, "days": 2})).build(
        compile_kernel=False
    )
    days = sum(a.dtype == DAY for a in sim.people.fields.values())
    assert days >= 10
    columns = scsim.results._people_columns(sim)
    scsim.results._write_people(sim, columns, tmp_path / "first.parquet")  # imports (pandas)
    del columns
    tracemalloc.start()
    columns = scsim.results._people_columns(sim)
    scsim.results._write_people(sim, columns, tmp_path / "people.parquet")
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    group = 1000 * (8 + 5 * days)  # ids, int32 days and a day field's NEVER mask at a time
    assert WRITE_PER_CITIZEN * n <= peak <= WRITE_PER_CITIZEN * n + 2 * group


def test_over_ranks_a_rank_holds_its_own_citizens_and_what_it_keeps_for_everyone():
    # 10 M citizens over 4 ranks: the largest rank holds whole blocks (1 221 of the 4 883), so
    # 2 500 608 citizens' own bytes, every citizen's whole bytes, and every fixed part
    from scsim.fusion import BLOCK
    from scsim.plan import Part, Plan

    parts = [
        Part("process", "process", 2e8, 0.0, "process"),
        Part("network", "network", 0.0, 100.0, whole=0.0),
        Part("scores", "scores", 1e6, 28.0, whole=8.0),
    ]
    n = 10_000_000
    one = Plan("x", n, 365, parts, available=10**10)
    four = Plan("x", n, 365, parts, available=10**10, n_ranks=4, keeps_own=True)
    own = -(-(-(-n // BLOCK)) // 4) * BLOCK
    assert four.own_at(n) == own == 2_500_608
    assert one.peak == pytest.approx(2e8 + 1e6 + 128 * n)
    assert four.peak == pytest.approx(2e8 + 1e6 + 8 * n + 120 * own)
    # ranks that each hold every citizen hold what one process would
    assert Plan("x", n, 365, parts, 10**10, n_ranks=4, keeps_own=False).peak == one.peak


@pytest.mark.parametrize("available", [10**9, 2 * 10**9, 5 * 10**9])
def test_the_ranks_needed_are_the_fewest_whose_largest_fits(available):
    # the fewest ranks R whose largest rank fits, found by bisection: R fits, R - 1 does not;
    # what every rank holds for everyone (8 bytes a citizen) bounds what ranks can do
    from dataclasses import replace

    from scsim.plan import Part, Plan

    parts = [
        Part("process", "process", 2e8, 0.0, "process"),
        Part("scores", "scores", 0.0, 128.0, whole=8.0),
    ]
    plan = Plan("x", 50_000_000, 365, parts, available, keeps_own=True)
    needed = plan.ranks_needed()
    if replace(plan, n_ranks=10**6).peak > plan.usable:
        assert needed == math.inf
        assert "no number of MPI ranks" in plan.refusal()
        return
    assert replace(plan, n_ranks=needed).fits
    assert needed == 1 or not replace(plan, n_ranks=needed - 1).fits
    assert f"{needed} MPI ranks of this size would hold it" in plan.refusal()


def test_ranks_that_cannot_keep_only_their_own_citizens_are_no_help():
    from scsim.plan import Part, Plan

    parts = [Part("scores", "scores", 0.0, 128.0, whole=8.0)]
    plan = Plan("x", 50_000_000, 365, parts, 10**9, keeps_own=False)
    assert not plan.fits and plan.ranks_needed() == math.inf
    assert "each rank would hold every citizen" in plan.refusal()


def test_the_plan_of_a_rank_counts_published_and_shared_state_for_everyone():
    # sc-core over 2 ranks: of the scores, the published scores (2 x float32) are kept for
    # everyone and the components for the own citizens; lists' shared `listed` flag (1 byte)
    # for everyone; the network's ties only for the own rows; the halo is a part of its own
    scenario = load_scenario("sc-core", {"population.n": 4_000_000, "days": 30})
    plan = estimate(scenario, available=10**12, pilot=False, n_ranks=2)
    by_name = {p.name: p for p in plan.parts}
    assert plan.keeps_own and plan.own_at(plan.n) == 2_000_896
    assert by_name["scores"].whole == pytest.approx(8.0)
    assert by_name["lists"].whole == pytest.approx(1.0)
    assert by_name["network"].whole == 0.0
    assert {"halo", "rank"} <= set(by_name)
    one = estimate(scenario, available=10**12, pilot=False)
    assert plan.peak < one.peak
    # a regional network is built whole on every rank: splitting it saves nothing
    regional = load_scenario("beijing-2020", {"population.n": 100_000, "days": 30})
    split = estimate(regional, available=10**12, pilot=False, n_ranks=2)
    assert not split.keeps_own and split.own_at(split.n) is None


def test_scsim_plan_over_ranks_shows_the_largest_rank():
    res = runner.invoke(app, ["plan", "sc-core", "--n", "4000000", "--ranks", "4", "--json"])
    assert res.exit_code == 0, res.output
    doc = json.loads(res.output)
    assert doc["ranks"] == 4 and doc["own_citizens"] == 1_001_472
    res = runner.invoke(app, ["plan", "sc-core", "--n", "4000000", "--ranks", "4"])
    assert res.exit_code == 0 and "largest of 4 ranks" in res.output
    res = runner.invoke(app, ["plan", "sc-core", "--ranks", "0"])
    assert res.exit_code == 2 and "--ranks" in res.output


def test_a_rank_counts_a_huge_page_at_the_ends_of_its_share_of_each_array(monkeypatch):
    # numpy asks for transparent huge pages from 4 MiB an array, so a rank that writes its share
    # of a per-citizen array holds about one more 2 MiB page (bench/rank_pages.py). sc-core at 4 M
    # citizens: its float32 rows count, its one-byte rows (4.0 MB < 4 MiB) do not; at 8 M they do
    import scsim.plan as plan_module
    from scsim.memory import HUGE_PAGE

    def edges(n: int, n_ranks: int = 2) -> float | None:
        scenario = load_scenario("sc-core", {"population.n": n, "days": 30})
        parts = estimate(scenario, available=10**12, pilot=False, n_ranks=n_ranks).parts
        return next((p.fixed for p in parts if p.name == "edges"), None)

    monkeypatch.setattr(plan_module, "huge_pages", lambda: True)
    at_4m, at_8m = edges(4_000_000), edges(8_000_000)
    assert at_4m % HUGE_PAGE == 0 and at_8m % HUGE_PAGE == 0
    assert 0 < at_4m < at_8m
    assert edges(4_000_000, n_ranks=1) is None  # one process holds whole arrays
    monkeypatch.setattr(plan_module, "huge_pages", lambda: False)
    assert edges(4_000_000) is None
