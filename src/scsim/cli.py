"""The ``scsim`` command line: run presets and scenario files, list presets, benchmark."""

from __future__ import annotations

import json
import resource
import sys
from contextlib import nullcontext
from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from scsim.cli_calibrate import calibrate
from scsim.cli_debug import debug, kernel, trace
from scsim.cli_plan import MAX_N, check_memory, plan, too_many
from scsim.cli_resume import CheckpointEvery, check_every, checkpoints, finish, resume, run_days
from scsim.cli_schema import new, schema
from scsim.cli_sweep import sweep
from scsim.console import Days, N, ScenarioArg, Seed, Threads, err, fail, load_or_fail, out
from scsim.console import threads_or_fail as _threads
from scsim.mpi import launched_rank, launched_ranks

app = typer.Typer(
    help="scsim: simulate social credit systems on synthetic populations.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

Scenario = ScenarioArg
SPLIT = ("run", "resume", "bench")
"""Commands that run one population over the ranks of ``mpiexec -n R``."""


@app.callback()
def _ranks(context: typer.Context) -> None:
    ranks = launched_ranks()
    if ranks > 1 and context.invoked_subcommand not in SPLIT:
        raise fail(
            f"scsim {context.invoked_subcommand}: runs in one process, not over {ranks} MPI "
            f"ranks; under mpiexec use {' or '.join(SPLIT)}"
        )


def _build(scenario, threads: int, progress: bool, keep_own: bool = True):
    import numba

    from scsim.engine import Sim
    from scsim.scenario import ScenarioError

    numba.set_num_threads(threads)
    sim = Sim(scenario, keep_own=keep_own)  # over MPI ranks, each keeps its own citizens
    if progress and launched_rank() == 0:
        err.print(f"building {scenario.population.n:,} citizens and their network ...")
    try:
        sim.build()
    except ScenarioError as e:  # a rule that only the built population can check
        raise fail(str(e)) from None
    return sim


@app.command()
def run(
    scenario: Scenario,
    n: N = None,
    days: Days = None,
    seed: Seed = None,
    out_dir: Annotated[
        Path | None, typer.Option("--out", help="run directory [runs/<name>-<time>]")
    ] = None,
    threads: Threads = None,
    png: Annotated[
        bool, typer.Option(help="also save the report's figures as PNG (starts Chromium, ~6 s)")
    ] = False,
    every: CheckpointEvery = None,
) -> None:
    """Run a scenario and write its run directory and HTML report."""
    from scsim.checkpoint import CheckpointError
    from scsim.scenario import preset_names

    if n is not None and n >= MAX_N:
        raise too_many(scenario, n, days)
    sc = load_or_fail(scenario, n, days, seed)
    k = _threads(threads)
    if out_dir is None:
        out_dir = Path("runs") / f"{sc.name}-{datetime.now():%Y%m%d-%H%M%S}"
    if out_dir.exists():
        raise fail(f"--out: {str(out_dir)!r} already exists; choose a new directory or remove it")
    check_every(every, out_dir)
    check_memory(sc, checkpoints=every is not None)
    sim = _build(sc, k, progress=True, keep_own=every is None)  # a checkpoint holds everyone
    preset = scenario if scenario in preset_names() else None
    meta = {"preset": preset, "threads": k, "png": png, "out": str(out_dir)}
    try:
        saver = checkpoints(sim, out_dir, every, meta)
        with saver or nullcontext():
            run_days(sim, saver)
    except CheckpointError as e:
        raise fail(str(e)) from None
    finish(sim, out_dir, preset, k, png)
    if saver is not None:
        saver.remove()


@app.command()
def presets() -> None:
    """List the shipped presets, one line each."""
    from scsim.scenario import presets as all_presets

    table = Table("preset", "description", box=None)
    for name, description in all_presets().items():
        table.add_row(name, description)
    out.print(table)


@app.command()
def bench(
    scenario: Scenario,
    n: N = None,
    days: Days = None,
    seed: Seed = None,
    threads: Threads = None,
) -> None:
    """Time a scenario; print one JSON line (build, step, agent-steps/s, peak RSS, outcomes)."""
    import scsim

    sc = load_or_fail(scenario, n, days, seed)
    k = _threads(threads)
    sim = _build(sc, k, progress=False).run()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # MiB
    peaks = sim.ranks.comm.gather(round(peak, 1))  # every rank's, in rank order
    if sim.ranks.comm.rank > 0:  # rank 0 prints
        return
    t = sim.timings

    def total(name: str) -> float:
        return float(sim.record(name).sum()) if name in sim.record_names else 0.0

    def last(name: str) -> float:
        return float(sim.record(name)[-1]) if name in sim.record_names else 0.0

    row = {
        "model": sc.name,
        "scsim_version": scsim.__version__,
        "n": sim.n,
        "days": sim.days,
        "seed": sim.seed,
        "threads": k,
        "ranks": sim.ranks.comm.size,
        "exchange": sim.ranks.exchange,
        "received_mb_per_day": round(sim.ranks.received_bytes / 1e6 / max(sim.days, 1), 3),
        "build_s": round(t["build_s"], 3),
        "jit_s": round(t["jit_s"], 3),
        "step_s": round(t["step_s"], 3),
        "agent_steps_per_s": round(sim.n * sim.days / t["step_s"]),
        "peak_rss_mb": peaks[0],
        "peak_rss_mb_by_rank": peaks,
        "keeps_own": sim.people.kept is not None,
        "state_bytes_per_agent": round(sim.state_bytes / sim.n, 1),
        "modules": [m.name for m in sim.modules],
        "final_mean_score": float(sim.record("score_sum")[-1] / sim.n),
        "final_banned": int(last("banned")),
        "total_speech_detected": int(total("speech_detected")),
    }
    sys.stdout.write(json.dumps(row) + "\n")


# --- looking at results: query and lookup (issue 6) -------------------------------------------

QUERY_LIMIT = 50
"""Rows ``scsim query`` prints as a table unless ``--limit`` says otherwise."""


@app.command()
def query(
    args: Annotated[
        list[str],
        typer.Argument(
            metavar="RUN_DIR... SQL",
            help="one or more run directories, then one SQL query over the views timeseries, "
            "timeseries_people (counts times population.represents), distribution, people, "
            "events, audit, manifest (each with a 'run' column)",
        ),
    ],
    as_csv: Annotated[bool, typer.Option("--csv", help="print CSV")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="print one JSON array")] = False,
    limit: Annotated[
        int | None,
        typer.Option(
            "--limit",
            help=f"rows to print, 0 for all (default: {QUERY_LIMIT} in a table, all in CSV/JSON)",
        ),
    ] = None,
) -> None:
    """Run SQL (DuckDB) over one or many run directories; print a table, CSV or JSON."""
    from scsim.query import QueryError, run_query, to_json, to_table, write_csv
    from scsim.runs import RunError

    if len(args) < 2:
        raise fail("expected one or more RUN_DIR arguments, then the SQL query")
    if as_csv and as_json:
        raise fail("--csv and --json: choose one")
    if limit is not None and limit < 0:
        raise fail(f"--limit: {limit} is not allowed; expected an integer >= 0 (0: all rows)")
    if limit is None:
        limit = 0 if as_csv or as_json else QUERY_LIMIT
    try:
        result = run_query(args[:-1], args[-1], limit or None)
    except (RunError, QueryError) as e:
        raise fail(str(e)) from None
    if as_json:
        sys.stdout.write(to_json(result) + "\n")
    elif as_csv:
        write_csv(result, sys.stdout)
    else:
        out.print(to_table(result))
    if result.omitted:
        err.print(f"{result.omitted:,} more rows not shown (--limit 0 shows all)", highlight=False)


@app.command(context_settings={"ignore_unknown_options": True})
def lookup(
    run_dir: Annotated[Path, typer.Argument(metavar="RUN_DIR", help="a run directory")],
    citizen: Annotated[str, typer.Argument(metavar="CITIZEN_ID", help="a citizen id, 0 to n - 1")],
    as_json: Annotated[bool, typer.Option("--json", help="print one JSON document")] = False,
) -> None:
    """One synthetic citizen: profile, score components, history, events, lists, sanctions."""
    from scsim.lookup import lookup as look_up
    from scsim.lookup import parse_citizen
    from scsim.lookup_view import render
    from scsim.query import plain_json
    from scsim.runs import RunError, open_run

    try:
        run = open_run(run_dir)
        result = look_up(run, parse_citizen(citizen, run))
    except RunError as e:
        raise fail(str(e)) from None
    if as_json:
        sys.stdout.write(plain_json(result) + "\n")
    else:
        render(result, out)


# ---------------------------------------------------------------- compare and report


@app.command()
def compare(
    a: Annotated[str, typer.Argument(help="scenario A: a preset name or a YAML file")],
    b: Annotated[str, typer.Argument(help="scenario B: a preset name or a YAML file")],
    replicates: Annotated[
        int, typer.Option("--replicates", help="paired replicates (seeds S, S+1, ...; >= 2)")
    ],
    n: N = None,
    days: Days = None,
    seed: Annotated[int | None, typer.Option("--seed", help="first seed S [A's seed]")] = None,
    out_dir: Annotated[
        Path | None, typer.Option("--out", help="output directory [runs/compare-<A>-<B>-<time>]")
    ] = None,
    threads: Threads = None,
) -> None:
    """Compare two policies on the same population with common random numbers."""
    import numba

    from scsim.paired import CompareError, check_same_population, write_comparison
    from scsim.paired import compare as run_comparison
    from scsim.report.comparison import terminal_table, verdict
    from scsim.scale import stands_for

    sa, sb = load_or_fail(a, n, days, None), load_or_fail(b, n, days, None)
    if replicates < 2:
        raise fail(
            f"--replicates: {replicates} is not allowed; expected an integer >= 2 "
            "(a confidence interval needs at least two paired differences)"
        )
    try:
        check_same_population(sa, sb)
    except CompareError as e:
        raise fail(str(e)) from None
    first = sa.seed if seed is None else seed
    if first < 0 or first + replicates > 2**63:
        raise fail(f"--seed: {first} is not allowed; expected 0 <= seed < 2**63 - replicates")
    k = _threads(threads)
    if out_dir is None:
        out_dir = Path("runs") / f"compare-{sa.name}-{sb.name}-{datetime.now():%Y%m%d-%H%M%S}"
    if out_dir.exists():
        raise fail(f"--out: {str(out_dir)!r} already exists; choose a new directory or remove it")
    numba.set_num_threads(k)
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("run {task.completed:.0f}/{task.total:.0f}"),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=err) as bar:
        task = bar.add_task(f"{sa.name} vs {sb.name}", total=2 * replicates)

        def on_run(name: str, r: int) -> None:
            bar.update(task, advance=1, description=f"replicate {r + 1}/{replicates}: {name}")

        result = run_comparison(sa, sb, replicates, first, (a, b), on_run)
    summary = write_comparison(result, out_dir)
    if summary["represents"] > 1:
        out.print(stands_for(summary["represents"]))
    out.print(terminal_table(summary))
    out.print(verdict(summary), highlight=False)
    if summary["regions"]:
        out.print(f"by region ({len(summary['regions'])} regions): see comparison.json/.html")
    out.print(f"comparison: {out_dir / 'comparison.html'}")


@app.command()
def report(
    run_dir: Annotated[Path, typer.Argument(help="a run directory written by `scsim run`")],
    png: Annotated[bool, typer.Option(help="also save every figure as plots/<name>.png")] = True,
) -> None:
    """Re-render report.html (and plots/*.png) for an existing run directory."""
    from scsim.report import write_report
    from scsim.runs import RunError, open_run

    try:
        open_run(run_dir)
    except RunError as e:
        raise fail(str(e)) from None
    path = write_report(run_dir, png=png)
    out.print(f"report: {path}")


# --- scsim explore (issue 6) -------------------------------------------------------------


def _port_free(port: int) -> bool:
    import socket

    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


@app.command()
def explore(
    run_dirs: Annotated[list[Path], typer.Argument(help="run directories to serve")],
    port: Annotated[int, typer.Option("--port", help="port on 127.0.0.1")] = 8000,
) -> None:
    """Serve a local, read-only web page over run directories (citizen look-up, run browser)."""
    from scsim.runs import RunError, open_run

    try:
        runs = [open_run(path) for path in run_dirs]
    except RunError as e:
        raise fail(f"RUN_DIR: {e}") from None
    if not 1 <= port <= 65535:
        raise fail(f"--port: {port} is not allowed; expected an integer from 1 to 65535")
    if not _port_free(port):
        raise fail(f"--port: {port} is in use on 127.0.0.1; choose another port")
    import uvicorn

    from scsim.explorer.app import create_app

    out.print(f"serving {len(runs)} run(s) at http://127.0.0.1:{port}/  (Ctrl-C to stop)")
    uvicorn.run(create_app(runs), host="127.0.0.1", port=port, log_level="warning")


app.command()(sweep)
app.command()(calibrate)
app.command()(schema)
app.command()(new)
app.command()(kernel)
app.command()(trace)
app.command()(debug)
app.command()(plan)
app.command()(resume)


def main() -> None:  # pragma: no cover
    app()
