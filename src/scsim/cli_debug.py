"""``scsim kernel`` (the generated day kernel, readable), ``scsim trace`` (one citizen's day,
module by module) and ``scsim debug`` (the day in plain Python, for a debugger)."""

from __future__ import annotations

import sys
import time
from typing import Annotated

import typer
from rich.table import Table

from scsim.console import ScenarioArg, fail, load_or_fail, out

Scenario = ScenarioArg
SmallN = Annotated[int, typer.Option("--n", help="population size (population.n)")]
DEBUG_MAX_N = 20_000
"""The plain-Python day is ~10^4 times slower than the compiled one."""


def kernel(
    scenario: Scenario,
    n: SmallN = 1000,
    python: Annotated[
        bool, typer.Option("--python", help="print the plain-Python twin (scsim debug)")
    ] = False,
) -> None:
    """Print the fused day kernel generated for a scenario: one named argument per line, a
    banner per module."""
    from scsim.engine import Sim

    sim = _built(Sim(load_or_fail(scenario, n, None, None)), compile_kernel=False)
    sys.stdout.write(sim.kernel_source(python=python))


def trace(
    scenario: Scenario,
    citizen: Annotated[int, typer.Argument(help="the citizen's id (0 to n - 1)")],
    day: Annotated[int, typer.Argument(help="the day (0 to days - 1)")],
    n: SmallN = 2000,
    seed: Annotated[int | None, typer.Option("--seed", help="random seed")] = None,
) -> None:
    """What each module did to one citizen on one day: its score change, public flags and
    the records it added."""
    from scsim.engine import Sim

    sc = load_or_fail(scenario, n, None, seed)
    for name, value, top in (("CITIZEN", citizen, sc.population.n), ("DAY", day, sc.days)):
        if not 0 <= value < top:
            raise fail(f"{name}: {value} is not allowed; expected an integer from 0 to {top - 1}")
    t = Sim(sc).trace(citizen, day)
    v = t["view"]
    out.print(
        f"citizen {citizen}, day {day}: score {t['score_before']:.2f} -> {t['score']:.2f}; "
        f"{v.get('degree', 0)} friends (mean score {v.get('nb_mean', 0):.2f}, "
        f"{v.get('nb_sanctioned', 0)} sanctioned)"
    )
    table = Table("module", "hook", "returned", "records added")
    for step in t["steps"]:
        value = step["value"]
        shown = f"{value:+.4f}" if isinstance(value, float) else str(value)
        added = ", ".join(f"{k} {v:+g}" for k, v in step["records"].items())
        table.add_row(step["module"], step["hook"], shown, added)
    out.print(table)


def debug(
    scenario: Scenario,
    n: SmallN = 500,
    days: Annotated[int, typer.Option("--days", help="days to simulate")] = 3,
) -> None:
    """Run a small population with the day in plain Python, so a debugger (pdb, or a
    breakpoint() in a hook) stops inside a module; then check it against the compiled run."""
    import numpy as np

    from scsim.engine import Sim

    if n > DEBUG_MAX_N:
        raise fail(f"--n: {n} is not allowed; expected at most {DEBUG_MAX_N} (plain Python)")
    sc = load_or_fail(scenario, n, days, None)
    t0 = time.perf_counter()
    slow = _built(Sim(sc, python=True)).run()
    spent = time.perf_counter() - t0
    fast = _built(Sim(sc)).run()
    same = np.array_equal(slow.records, fast.records) and np.array_equal(slow.score, fast.score)
    out.print(
        f"{n:,} citizens x {days} days in plain Python in {spent:.1f} s; the compiled kernel "
        + ("gives the same records and scores." if same else "gives DIFFERENT results.")
    )
    if not same:
        raise typer.Exit(1)


def _built(sim, compile_kernel: bool = True):
    """``sim`` built, or exit 2 on a rule only the built population can check."""
    from scsim.scenario import ScenarioError

    try:
        return sim.build(compile_kernel=compile_kernel)
    except ScenarioError as e:
        raise fail(str(e)) from None
