"""``scsim sweep``: run a sweep file on Dask, resuming whatever is missing."""

from __future__ import annotations

import time
from contextlib import nullcontext
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from scsim.console import err, fail, out

Scheduler = Annotated[
    str | None,
    typer.Option(
        "--scheduler",
        help="a running Dask scheduler, tcp://HOST:8786 [a local cluster on this machine]",
    ),
]
Workers = Annotated[
    int | None,
    typer.Option("--workers", help="local cluster: worker processes [one per core]"),
]


def output_dir(requested: Path | None, default: Path, marker: str, what: str) -> Path:
    """``--out`` (or ``default``): a new or empty directory, or one holding ``marker`` (a
    sweep or calibration to resume); anything else exits 2."""
    target = requested or default
    if target.exists() and not target.is_dir():
        raise fail(f"--out: {str(target)!r} is a file; expected a directory")
    if target.is_dir() and any(target.iterdir()) and not (target / marker).exists():
        raise fail(
            f"--out: {str(target)!r} is not empty and is not a {what} directory; choose a new "
            f"directory (an existing {what} directory is resumed)"
        )
    return target


def sweep(
    spec: Annotated[Path, typer.Argument(metavar="SPEC.yaml", help="a sweep file")],
    out_dir: Annotated[
        Path | None, typer.Option("--out", help="sweep directory [sweeps/<file name>]")
    ] = None,
    n: Annotated[int | None, typer.Option("--n", help="citizens per run [the file's]")] = None,
    days: Annotated[int | None, typer.Option("--days", help="days per run [the file's]")] = None,
    replicates: Annotated[
        int | None, typer.Option("--replicates", help="runs per point [the file's]")
    ] = None,
    seed: Annotated[int | None, typer.Option("--seed", help="first seed [the file's]")] = None,
    scheduler: Scheduler = None,
    workers: Workers = None,
    png: Annotated[
        bool, typer.Option(help="also save the report's figures as PNG (starts Chromium)")
    ] = True,
) -> None:
    """Run a sweep file's design on Dask (the same command on its directory resumes it)."""
    from scsim.experiments import sweep as store
    from scsim.experiments.executor import ExecutorError, dask_client
    from scsim.experiments.spec import SweepError, load_sweep

    if workers is not None and not 1 <= workers <= 1024:
        raise fail(f"--workers: {workers} is not allowed; expected an integer from 1 to 1024")
    if workers is not None and scheduler:
        raise fail("--workers: sizes a local cluster; with --scheduler the cluster has its own")
    try:
        sw = load_sweep(spec, n=n, days=days, replicates=replicates, seed=seed)
        target = output_dir(out_dir, Path("sweeps") / sw.name, store.MANIFEST, "sweep")
        p = store.plan(sw, target)
        todo = p.missing()
        if todo:
            err.print(f"checking the outcomes on a pilot run of {sw.base.name} ...")
            store.check_outcomes(sw.base, sw.outcomes)
    except SweepError as e:
        raise fail(str(e)) from None
    total, keys = len(p.tasks), len({t.key for t in p.tasks})
    out.print(
        f"{len(p.points)} points x {sw.spec.replicates} replicates = {total} runs"
        f"{f' ({keys} distinct)' if keys < total else ''} of {sw.base.population.n:,} citizens "
        f"x {sw.base.days} days; {keys - len(todo)} stored, {len(todo)} to run"
    )
    t0 = time.perf_counter()
    columns = (
        TextColumn("runs"),
        MofNCompleteColumn(),
        BarColumn(),
        TextColumn("{task.fields[running]} running, {task.fields[failed]} failed"),
        TimeRemainingColumn(),
    )
    try:
        with dask_client(scheduler, workers) if todo else nullcontext() as client:
            if todo:
                out.print(f"Dask dashboard: {client.dashboard_link}")
            slots = len(client.scheduler_info().get("workers", {})) if todo else 0
            left = len(todo)
            with Progress(*columns, console=err, transient=False, disable=not todo) as bar:
                job = bar.add_task(
                    "runs", total=keys, completed=keys - left, failed=0, running=min(slots, left)
                )

                def on_done(task, result) -> None:
                    nonlocal left
                    left -= 1
                    failed = bar.tasks[0].fields["failed"] + (result is None)
                    bar.update(job, advance=1, failed=failed, running=min(slots, left))

                failures = store.execute(p, client, on_done)
    except ExecutorError as e:
        raise fail(str(e)) from None
    except KeyboardInterrupt:
        err.print("interrupted; the same command resumes the sweep where it stopped")
        raise typer.Exit(130) from None
    from scsim.experiments.report import render

    report, skipped = render(target, png=png)
    out.print(f"results:  {target / store.RESULTS} ({time.perf_counter() - t0:,.1f} s)")
    out.print(f"report:   {report}")
    if skipped:
        err.print(f"PNG figures skipped: {skipped}")
    stored = len(list((target / "tasks").glob("*.json")))
    out.print(f"runs:     {stored} stored, {len(failures)} failed, {keys - stored - len(failures)}"
              " not run")  # fmt: skip
    if failures:
        for f, path in list(zip(failures, store.write_failed(p, failures), strict=True))[:3]:
            err.print(f"run failed: point {f.task.point} ({store.shown(f.task.values)}), replicate "
                      f"{f.task.replicate}: {f.error}\n  alone: scsim run {path}")  # fmt: skip
        err.print(f"{len(failures)} run(s) failed; the same command retries them")
        raise typer.Exit(1)
