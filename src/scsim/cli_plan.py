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
    from scsim.memory import available_memory, parse_bytes

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
    from scsim.memory import gib
    from scsim.plan import lower_bound

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
    for a large one. Under ``mpiexec`` the plan is the largest rank's, each rank has its share
    of the machine, and rank 0's verdict is every rank's."""
    from scsim.mpi import launched_rank, launched_ranks, ranks_here

    n_ranks = launched_ranks()
    if n_ranks == 1:
        verdict = _verdict(scenario, checkpoints, _available(), 1)
    else:
        from scsim.mpi import world

        comm = world()
        if comm.rank == 0:  # the machine's memory is shared by the ranks it runs
            verdict = _verdict(scenario, checkpoints, _available() // ranks_here(), n_ranks)
        verdict = comm.bcast(verdict if comm.rank == 0 else None)
    refusal, note = verdict
    if refusal is not None:
        raise fail(refusal)
    if note is not None and launched_rank() == 0:
        err.print(note)


def _verdict(
    scenario: Any, checkpoints: bool, available: int, n_ranks: int
) -> tuple[str | None, str | None]:
    """(why the run is refused, or None; the estimate to print, or None)."""
    from scsim.memory import gib
    from scsim.plan import HEADROOM, estimate, lower_bound

    n = scenario.population.n
    bound = lower_bound(scenario, n, available, n_ranks)
    if not bound.fits:
        return bound.refusal(), None
    if n < PLAN_FROM:
        return None, None
    err.print(f"planning the memory of {n:,} citizens ...")
    plan = estimate(scenario, available, checkpoints=checkpoints, n_ranks=n_ranks)
    if not plan.fits:
        return plan.refusal(), None
    where = "" if n_ranks == 1 else f" on the largest of {n_ranks} ranks"
    return None, (
        f"memory: about {gib(plan.peak)}{where} of the {gib(plan.usable)} a run may plan for "
        f"({HEADROOM * 100:.0f} % of {gib(plan.available)} available)"
    )


Ranks = Annotated[
    int,
    typer.Option(
        "--ranks",
        min=1,
        help="plan the largest of this many MPI ranks (mpiexec -n), each with --memory "
        "(default: this machine's, shared by the ranks)",
    ),
]


def plan(
    scenario: ScenarioArg,
    n: N = None,
    days: Days = None,
    memory: Memory = None,
    ranks: Ranks = 1,
    as_json: Annotated[bool, typer.Option("--json", help="print the plan as JSON")] = False,
    every: Annotated[
        int | None,
        typer.Option(
            "--checkpoint-every", metavar="DAYS", help="count the copy a checkpoint is written from"
        ),
    ] = None,
) -> None:
    """Estimate a run's peak memory by part, before building it, and say whether it fits."""
    from scsim.memory import gib
    from scsim.plan import HEADROOM, PILOT_DAYS, estimate

    if n is not None and n >= MAX_N:
        raise too_many(scenario, n, days)
    available = _available(memory) // (ranks if memory is None else 1)
    sc = load_or_fail(scenario, n, days, None)
    if not as_json:
        err.print(f"building two small probes of {sc.name} and a {PILOT_DAYS}-day pilot ...")
    p = estimate(sc, available, checkpoints=every is not None, n_ranks=ranks)
    needed = p.ranks_needed()
    if as_json:
        doc = {
            "scenario": p.scenario, "n": p.n, "days": p.days, "ranks": p.n_ranks,
            "own_citizens": p.own_at(p.n) or p.n, "peak_bytes": p.peak,
            "available_bytes": p.available, "fits": p.fits,
            "ranks_needed": needed if needed != float("inf") else None,
            "largest_n": p.largest_n(), "parts": p.rows(),
        }  # fmt: skip
        out.print(json.dumps(doc, indent=2), highlight=False)
        return
    out.print(_table(p))
    if ranks == 1:
        where = "this machine" if memory is None else "a machine of --memory"
    else:
        share = "sharing this machine" if memory is None else "each of --memory"
        where = f"each of {ranks} ranks ({share})"
    usable = f"{gib(p.usable)} a run may plan for ({HEADROOM * 100:.0f} % of {gib(p.available)})"
    if p.fits:
        out.print(f"fits: {gib(p.peak)} of the {usable} on {where}")
        return
    split = (
        f", or {needed} MPI ranks of this size"
        if needed != float("inf")
        else "; no number of MPI ranks of this size would hold it"
        + ("" if p.keeps_own else " (each rank would hold every citizen)")
    )
    out.print(
        f"does not fit: {gib(p.peak)} against the {usable} on {where}; "
        f"about {p.largest_n():,} citizens fit{split}"
    )


def _table(p: Any) -> Table:
    """The plan by part: bytes per citizen (over ranks, per own citizen and per citizen held
    for everyone) and the total."""
    from scsim.memory import gib
    from scsim.plan import LABELS

    own = p.own_at(p.n)
    if own is None:
        title = f"memory of {p.n:,} citizens of {p.scenario} over {p.days} days"
        columns = ("part", "bytes per citizen", "total")
    else:
        title = (
            f"memory of the largest of {p.n_ranks} ranks ({own:,} of the {p.n:,} citizens of "
            f"{p.scenario}) over {p.days} days"
        )
        columns = ("part", "bytes per own citizen", "bytes per citizen, for everyone", "total")
    table = Table(title=title)
    for column in columns:
        table.add_column(column, justify="left" if column == "part" else "right")
    rows = p.rows()
    small = [r for r in rows if r["bytes"] < SMALL and r["part"] != LABELS["write"]]
    for kind in ("process", "state", "transient"):
        for row in (r for r in rows if r["kind"] == kind and r not in small):
            end = row["part"] == LABELS["write"]
            name = f"at the end: {row['part']}, beyond the freed network" if end else row["part"]
            per = row["bytes_per_citizen"]
            if own is None or end or row["bytes_per_own_citizen"] is None:
                cells = [f"{per:.1f}" if per and not end else ""] + [""] * (len(columns) - 3)
            else:
                mine = row["bytes_per_own_citizen"]
                cells = [f"{mine:.1f}" if mine else "", f"{per - mine:.1f}" if per - mine else ""]
            table.add_row(name, *cells, gib(row["bytes"]))
        if kind == "state" and small:
            rest = gib(sum(r["bytes"] for r in small))
            table.add_row(f"{len(small)} more parts under 1 MB", *[""] * (len(columns) - 2), rest)
    table.add_row("[bold]peak[/]", *[""] * (len(columns) - 2), f"[bold]{gib(p.peak)}[/]")
    return table
