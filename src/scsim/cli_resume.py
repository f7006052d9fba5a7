"""``scsim resume`` (an interrupted run continued from its newest checkpoint), and what it
shares with ``scsim run``: the day loop with its progress bar and checkpoints, and writing and
telling the run's results."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

from scsim.console import err, fail, out
from scsim.mpi import launched_rank

if TYPE_CHECKING:
    from scsim.checkpoint_writer import Checkpoints
    from scsim.engine import Sim

CheckpointEvery = Annotated[
    int | None,
    typer.Option(
        "--checkpoint-every",
        metavar="DAYS",
        help="save the run's complete state every DAYS days to <out>.checkpoint/, so that "
        "`scsim resume <out>` continues it after a crash or kill",
    ),
]


def check_every(every: int | None, out_dir: Path) -> None:
    """Exit 2 unless ``--checkpoint-every`` is absent or a number of days >= 1 and the run's
    checkpoint directory holds no checkpoint of an earlier run."""
    from scsim.checkpoint import META, directory_of

    if every is None:
        return
    if every < 1:
        raise fail(f"--checkpoint-every: {every} is not allowed; expected a number of days >= 1")
    if (directory_of(out_dir) / META).exists():
        raise fail(
            f"--out: {str(directory_of(out_dir))!r} holds the checkpoint of an interrupted run; "
            f"continue it with `scsim resume {out_dir}`, or remove it"
        )


def checkpoints(
    sim: Sim, out_dir: Path, every: int | None, meta: dict[str, Any]
) -> Checkpoints | None:
    """The run's checkpoints (``on_day`` and context manager), or None without ``every``."""
    from scsim.checkpoint import FORMAT, directory_of
    from scsim.checkpoint_writer import Checkpoints

    if every is None:
        return None
    scenario = sim.scenario.model_dump(mode="json")
    meta = {"format": FORMAT, "scenario": scenario, "n": sim.n, "days": sim.days, **meta}
    return Checkpoints(sim, directory_of(out_dir), every, meta)


def run_days(sim: Sim, on_day=None) -> Sim:
    """Run the Sim's remaining days under a progress bar (rank 0's, over MPI ranks);
    ``on_day(day)`` after each."""
    if sim.ranks.comm.rank > 0:
        return sim.run(on_day=on_day)
    columns = (
        TextColumn("day {task.completed:>5.0f}/{task.total:.0f}"),
        BarColumn(),
        TextColumn("{task.fields[rate]} agent-steps/s"),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=err, transient=False) as bar:
        task = bar.add_task("run", total=sim.days, completed=sim.day, rate="-")

        def each(day: int) -> None:
            if on_day is not None:
                on_day(day)
            speed = bar.tasks[0].speed
            rate = f"{speed * sim.n / 1e6:,.1f} M" if speed else "-"
            bar.update(task, completed=day + 1, rate=rate)

        return sim.run(on_day=each)


def finish(sim: Sim, out_dir: Path, preset: str | None, threads: int, png: bool) -> None:
    """Write the run directory and report, and say what happened (rank 0 alone, over MPI
    ranks)."""
    from scsim.results import write_run

    sim.release_network()  # the results do not read it: writing them reuses its memory
    write_run(sim, out_dir, preset, threads, png=png)  # every rank takes part
    if sim.ranks.comm.rank > 0:
        return
    t = sim.timings
    out.print(
        f"{sim.n:,} citizens x {sim.days} days in {t['step_s']:.2f} s "
        f"({sim.n * sim.days / t['step_s'] / 1e6:,.1f} M agent-steps/s; "
        f"build {t['build_s']:.2f} s, compile {t['jit_s']:.2f} s)"
    )
    represents = sim.scenario.population.represents
    if represents > 1:
        from scsim.scale import people, stands_for

        everyone = people(sim.n * represents)
        out.print(f"{stands_for(represents)} The run stands for {everyone} people.")
    _print_summary(out_dir, sim.n, represents)
    out.print(f"run directory: {out_dir}")
    out.print(f"report:        {out_dir / 'report.html'}")


def _print_summary(run_dir: Path, n: int, factor: float) -> None:
    """What happened, in the words of the report's opening paragraph."""
    import pyarrow.parquet as pq

    from scsim.report import numeric_columns
    from scsim.report.summary import sentences

    series = numeric_columns(pq.read_table(run_dir / "timeseries.parquet"))
    for sentence in sentences(series, n, factor):
        out.print(sentence, highlight=False)


def resume(
    run_dir: Annotated[
        Path,
        typer.Argument(
            metavar="RUN_DIR",
            help="the --out of a run started with --checkpoint-every (or its .checkpoint "
            "directory)",
        ),
    ],
    threads: Annotated[
        int | None, typer.Option("--threads", help="worker threads (default: the run's)")
    ] = None,
) -> None:
    """Continue an interrupted run from its newest checkpoint; write its run directory and
    report as `scsim run` would have."""
    import time

    import numba

    from scsim.checkpoint import CheckpointError
    from scsim.checkpoint_writer import Checkpoints, read_meta, restore
    from scsim.engine import Sim
    from scsim.console import threads_or_fail

    suffix = ".checkpoint"
    if run_dir.name.endswith(suffix):
        run_dir = run_dir.with_name(run_dir.name[: -len(suffix)])
    directory = run_dir.with_name(run_dir.name + suffix)
    if run_dir.exists():
        raise fail(
            f"RUN_DIR: {str(run_dir)!r} already exists (the run finished); remove it to "
            "resume the run from its checkpoint"
        )
    try:
        meta = read_meta(directory)
        most = numba.config.NUMBA_NUM_THREADS
        k = threads_or_fail(min(meta.get("threads") or most, most) if threads is None else threads)
        numba.set_num_threads(k)
        if launched_rank() == 0:
            err.print(f"resuming {str(run_dir)!r} after day {meta['day']} ...")
        t0 = time.perf_counter()
        sim, meta = restore(directory, Sim.load_checkpoint)
    except CheckpointError as e:
        raise fail(str(e)) from None
    sim.timings["resume_s"] = time.perf_counter() - t0
    try:
        saver = Checkpoints(sim, directory, meta["every"], {**meta, "threads": k})
        with saver:
            run_days(sim, saver)
    except CheckpointError as e:
        raise fail(str(e)) from None
    finish(sim, run_dir, meta.get("preset"), k, meta.get("png", False))
    saver.remove()
