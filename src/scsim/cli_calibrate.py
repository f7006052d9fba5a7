"""``scsim calibrate``: fit a scenario's parameters to published figures (an Optuna study whose
trials run on Dask), resuming an interrupted calibration."""

from __future__ import annotations

import math
import re
import time
from pathlib import Path
from typing import Annotated, Literal

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from scsim.cli_sweep import Scheduler, Workers, output_dir
from scsim.console import err, fail, load_or_fail, out


def calibrate(
    scenario: Annotated[str, typer.Argument(help="a preset name or a scenario YAML file")],
    targets: Annotated[
        str,
        typer.Option(
            "--targets",
            help="a targets file (published figures, parameters to fit), or a shipped one by "
            "name (china-court-list)",
        ),
    ],
    trials: Annotated[int, typer.Option("--trials", help="trials to complete")] = 60,
    replicates: Annotated[
        int, typer.Option("--replicates", help="runs per trial, seeds shared by every trial")
    ] = 3,
    n: Annotated[int | None, typer.Option("--n", help="citizens [the scenario's]")] = None,
    days: Annotated[int | None, typer.Option("--days", help="days [the scenario's]")] = None,
    seed: Annotated[int | None, typer.Option("--seed", help="first replicate's seed")] = None,
    sampler: Annotated[
        str, typer.Option("--sampler", help="tpe (Bayesian, default) or cmaes")
    ] = "tpe",
    out_dir: Annotated[
        Path | None, typer.Option("--out", help="calibration directory [calibrations/<name>]")
    ] = None,
    scheduler: Scheduler = None,
    workers: Workers = None,
    png: Annotated[bool, typer.Option(help="also save the report's figures as PNG")] = True,
) -> None:
    """Fit a scenario's parameters to published figures (the same command resumes it)."""
    from scsim.experiments.executor import ExecutorError, dask_client
    from scsim.experiments.spec import SweepError
    from scsim.experiments.sweep import check_outcomes
    from scsim.experiments.targets import load_targets

    for flag, value, low in (("--trials", trials, 1), ("--replicates", replicates, 1)):
        if not low <= value <= 100_000:
            raise fail(f"{flag}: {value} is not allowed; expected an integer from 1 to 100000")
    if sampler not in ("tpe", "cmaes"):
        raise fail(f"--sampler: {sampler!r} is not allowed; expected tpe or cmaes")
    if workers is not None and (scheduler or not 1 <= workers <= 1024):
        raise fail("--workers: expected an integer from 1 to 1024, and no --scheduler")
    base = load_or_fail(scenario, n, days, seed)
    from scsim.experiments.calibrate import STUDY
    from scsim.experiments.targets import find_targets

    try:
        targets_path = find_targets(targets)
        problem = load_targets(targets_path, base, base.name)
        default = Path("calibrations") / re.sub(r"[^A-Za-z0-9_.-]+", "-", base.name)
        target = output_dir(out_dir, default, STUDY, "calibration")
        err.print(f"checking the targets' measures on a pilot run of {base.name} ...")
        check_outcomes(problem.base, problem.outcomes)
    except SweepError as e:
        raise fail(str(e)) from None
    out.print(
        f"{trials} trials x {replicates} replicates of {base.population.n:,} citizens x "
        f"{base.days} days, {len(problem.targets)} targets, {len(problem.varied)} parameters"
    )
    sampler_name: Literal["tpe", "cmaes"] = sampler  # type: ignore[assignment]
    t0 = time.perf_counter()
    columns = (
        TextColumn("trials"), MofNCompleteColumn(), BarColumn(),
        TextColumn("best loss {task.fields[best]}"), TimeElapsedColumn(),
    )  # fmt: skip
    try:
        with dask_client(scheduler, workers) as client:
            out.print(f"Dask dashboard: {client.dashboard_link}")
            with Progress(*columns, console=err) as bar:
                job = bar.add_task("trials", total=trials, best="-")

                def on_trial(study, loss: float) -> None:
                    best = min(bar.tasks[0].fields.get("low", math.inf), loss)
                    bar.update(job, completed=_done(study), best=f"{best:.3g}", low=best)

                from scsim.experiments.calibrate import run_study

                study, failures = run_study(
                    problem, target, client, trials, replicates, sampler_name, on_trial
                )
    except ExecutorError as e:
        raise fail(str(e)) from None
    except KeyboardInterrupt:
        err.print("interrupted; the same command resumes the calibration")
        raise typer.Exit(130) from None
    for f in failures[:3]:
        err.print(f"trial {f.task.point} failed: {f.error}")
    _finish(problem, study, scenario, targets_path, target, replicates, sampler_name, png, t0)
    if failures:
        raise typer.Exit(1)


def _done(study) -> int:
    from scsim.experiments.calibrate import completed

    return completed(study)


def _finish(problem, study, scenario, targets, target, replicates, sampler, png, t0) -> None:
    from scsim.experiments.calibrated import write_outputs
    from scsim.experiments.calibration_report import render

    if _done(study) == 0:
        err.print("no trial completed; nothing to write")
        raise typer.Exit(1)
    calibrated = write_outputs(problem, study, scenario, targets, target, replicates, sampler)
    report, skipped = render(problem, study, target, calibrated, png=png)
    best = study.best_trial
    within = sum(t.within(best.user_attrs["achieved"][k]) for k, t in problem.targets.items())
    out.print(
        f"best trial {best.number}: loss {best.value:.3g}, {within} of {len(problem.targets)} "
        f"targets within tolerance ({time.perf_counter() - t0:,.0f} s)"
    )
    out.print(f"calibrated: {calibrated}")
    out.print(f"report:     {report}")
    if skipped:
        err.print(f"PNG figures skipped: {skipped}")
