"""``scsim plan`` (a run's memory, by part, before it is built) and the check ``scsim run``
makes with it: a run that will not fit is refused before anything is built."""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer
from rich.table import Table

from scsim.console import Days, N, ScenarioArg, err, fail, load_or_fail, out

PLAN_FROM = 1_000_000
"""``scsim run`` plans in full (two probe builds and a pilot, ~2 s) from this many citizens;
below it only the instant lower bound is checked (every preset needs under 1.5 GB at 1 M
citizens, bench/README.md)."""
SMALL = 1e6
"""Parts under this many bytes are summed in one row of the table."""
MAX_N = 2**32
"""Citizen ids are 32-bit (population.n < 2^32)."""

Memory = Annotated[
    str | None,
    typer.Option("--memory", help="plan for a machine with this much memory (24GB, 512GiB)"),
]


def _available(memory: str | None = None) -> int:
    """The memory to plan for: ``--memory``, else ``SCSIM_MEMORY``, else what the machine has."""
    from scsim.plan import available_memory, parse_bytes

    if memory is None:
        try:
            return available_memory()
        except ValueError as e:  # a bad SCSIM_MEMORY
            raise fail(str(e)) from None
    try:
        return parse_bytes(memory)
    except ValueError:
        raise fail(
            f"--memory: {memory!r} is not a size; expected a number of bytes with a unit, "
            "such as 24GB, 512MiB or 1.5TB"
        ) from None


def too_many(spec: str, n: int, days: int | None) -> typer.Exit:
    """The refusal of ``--n`` beyond 32-bit ids, with what such a run would need at least."""
    from scsim.plan import gib, lower_bound

    scenario = load_or_fail(spec, None, days, None)
    bound = lower_bound(scenario, n, _available())
    return fail(
        f"--n: {n:,} is not allowed; expected fewer than {MAX_N:,} citizens (ids are 32-bit). "
        f"Such a run would need at least {gib(bound.peak)} of memory; this machine has "
        f"{gib(bound.available)} available. One agent can stand for many people: "
        "population.represents"
    )


def check_memory(scenario: Any, checkpoints: bool = False) -> None:
    """Refuse (exit 2) a run that will not fit in this machine's memory, before building it
    (with ``checkpoints``, the copy a checkpoint is written from included); print the estimate
    for a large one."""
    from scsim.plan import HEADROOM, estimate, gib, lower_bound

    n = scenario.population.n
    available = _available()
    bound = lower_bound(scenario, n, available)
    if not bound.fits:
        raise fail(bound.refusal())
    if n < PLAN_FROM:
        return
    err.print(f"planning the memory of {n:,} citizens ...")
    plan = estimate(scenario, available, checkpoints=checkpoints)
    if not plan.fits:
        raise fail(plan.refusal())
    err.print(
        f"memory: about {gib(plan.peak)} of the {gib(plan.usable)} a run may plan for "
        f"({HEADROOM * 100:.0f} % of {gib(plan.available)} available)"
    )


def plan(
    scenario: ScenarioArg,
    n: N = None,
    days: Days = None,
    memory: Memory = None,
    as_json: Annotated[bool, typer.Option("--json", help="print the plan as JSON")] = False,
    every: Annotated[
        int | None,
        typer.Option(
            "--checkpoint-every", metavar="DAYS", help="count the copy a checkpoint is written from"
        ),
    ] = None,
) -> None:
    """Estimate a run's peak memory by part, before building it, and say whether it fits."""
    from scsim.plan import HEADROOM, LABELS, PILOT_DAYS, estimate, gib

    if n is not None and n >= MAX_N:
        raise too_many(scenario, n, days)
    available = _available(memory)
    sc = load_or_fail(scenario, n, days, None)
    if not as_json:
        err.print(f"building two small probes of {sc.name} and a {PILOT_DAYS}-day pilot ...")
    p = estimate(sc, available, checkpoints=every is not None)
    if as_json:
        doc = {
            "scenario": p.scenario, "n": p.n, "days": p.days, "peak_bytes": p.peak,
            "available_bytes": p.available, "fits": p.fits, "ranks": p.ranks(),
            "largest_n": p.largest_n(), "parts": p.rows(),
        }  # fmt: skip
        out.print(json.dumps(doc, indent=2), highlight=False)
        return
    table = Table(title=f"memory of {p.n:,} citizens of {p.scenario} over {p.days} days")
    for column in ("part", "bytes per citizen", "total"):
        table.add_column(column, justify="left" if column == "part" else "right")
    rows = p.rows()
    small = [r for r in rows if r["bytes"] < SMALL and r["part"] != LABELS["write"]]
    for kind in ("process", "state", "transient"):
        for row in (r for r in rows if r["kind"] == kind and r not in small):
            end = row["part"] == LABELS["write"]
            name = f"at the end: {row['part']}, beyond the freed network" if end else row["part"]
            per = f"{row['bytes_per_citizen']:.1f}" if row["bytes_per_citizen"] and not end else ""
            table.add_row(name, per, gib(row["bytes"]))
        if kind == "state" and small:
            rest = gib(sum(r["bytes"] for r in small))
            table.add_row(f"{len(small)} more parts under 1 MB", "", rest)
    table.add_row("[bold]peak[/]", "", f"[bold]{gib(p.peak)}[/]")
    out.print(table)
    where = "this machine" if memory is None else "a machine of --memory"
    usable = f"{gib(p.usable)} a run may plan for ({HEADROOM * 100:.0f} % of {gib(p.available)})"
    if p.fits:
        out.print(f"fits: {gib(p.peak)} of the {usable} on {where}")
    else:
        ranks = p.ranks()
        out.print(
            f"does not fit: {gib(p.peak)} against the {usable} on {where}; "
            f"about {p.largest_n():,} citizens fit"
            + (f", or {ranks} processes of this size (MPI ranks)" if ranks != float("inf") else "")
        )
