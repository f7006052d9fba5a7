"""The command line's two consoles, its one way to fail on a user's mistake, and scenario
loading with flags."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape

ScenarioArg = Annotated[
    str, typer.Argument(help="a preset name (see `scsim presets`) or a YAML file")
]
"""A command's SCENARIO argument."""
N = Annotated[int | None, typer.Option("--n", help="population size (population.n)")]
Days = Annotated[int | None, typer.Option("--days", help="days to simulate")]
Seed = Annotated[int | None, typer.Option("--seed", help="random seed")]
Threads = Annotated[
    int | None,
    typer.Option("--threads", help="worker threads [all cores; shared by MPI ranks]"),
]

err = Console(stderr=True)
out = Console(soft_wrap=True)  # paths and figures are never wrapped mid-word


def fail(message: str) -> typer.Exit:
    """Print a one-line (or one-per-field) error and return the exit to raise (code 2)."""
    err.print(f"[bold red]error:[/] {escape(message)}", highlight=False, soft_wrap=True)
    return typer.Exit(code=2)


def load_or_fail(spec: str, n: int | None, days: int | None, seed: int | None) -> Any:
    """The scenario of a preset or YAML file with the --n, --days and --seed flags, or exit 2."""
    from scsim.scenario import ScenarioError, load_scenario

    overrides: dict[str, Any] = {}
    for key, value in (("population.n", n), ("days", days), ("seed", seed)):
        if value is not None:
            overrides[key] = value
    from scsim.timeline import beyond_run

    try:
        scenario = load_scenario(spec, overrides)
    except ScenarioError as e:
        raise fail(str(e)) from None
    for line in beyond_run(scenario):
        err.print(f"[yellow]warning:[/] {escape(line)}", highlight=False, soft_wrap=True)
    return scenario


def threads_or_fail(requested: int | None) -> int:
    """The worker threads of a ``--threads`` option (all cores without it), or exit 2."""
    import numba

    from scsim.mpi import ranks_here

    most = numba.config.NUMBA_NUM_THREADS
    if requested is None:  # MPI ranks on this machine share its cores
        return max(1, most // ranks_here())
    if not 1 <= requested <= most:
        raise fail(
            f"--threads: {requested} is not allowed; expected an integer from 1 to {most} "
            "(set NUMBA_NUM_THREADS to allow more)"
        )
    return requested
