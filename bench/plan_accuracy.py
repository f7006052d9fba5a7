"""How close ``scsim plan``'s estimate is to the measured peak memory of the run it plans.

For each preset: ``scsim plan PRESET --n N --json`` once to warm the kernel cache (a first
compile holds LLVM's memory, which a cached kernel does not), then again for the estimate, then
``scsim run PRESET --n N`` in a fresh process whose peak resident memory (``wait4``'s rusage)
is the measured figure. Issue 15's bar: every estimate within 15 % of the measured peak.

With ``--ranks R ...``, also ``scsim plan --ranks R`` (the largest rank's estimate) against
``mpiexec -n R scsim run``, whose ranks each report their own peak (``getrusage``, read by this
file run as each rank's wrapper): the largest is the measured figure.

    .venv/bin/python bench/plan_accuracy.py --n 2000000 [PRESET ...] [--ranks 1 2 4] [--json FILE]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SCSIM = [sys.executable, "-m", "scsim"]


def estimate(preset: str, n: int, days: int | None, ranks: int = 1) -> dict:
    extra = ["--days", str(days)] if days else []
    cmd = [*SCSIM, "plan", preset, "--n", str(n), "--json", "--ranks", str(ranks), *extra]
    done = subprocess.run(cmd, capture_output=True, text=True, check=True, cwd=ROOT)
    return json.loads(done.stdout)


def measured_peak(preset: str, n: int, days: int | None) -> tuple[int, float]:
    """Peak resident bytes and wall seconds of ``scsim run`` in a fresh process."""
    extra = ["--days", str(days)] if days else []
    with tempfile.TemporaryDirectory() as tmp:
        cmd = [*SCSIM, "run", preset, "--n", str(n), "--out", f"{tmp}/run", *extra]
        t0 = datetime.now(UTC)
        child = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, cwd=ROOT)
        _, status, usage = os.wait4(child.pid, 0)
        wall = (datetime.now(UTC) - t0).total_seconds()
        if status != 0:
            raise RuntimeError(f"{preset}: scsim run failed: {child.stderr.read().decode()}")
    return usage.ru_maxrss * 1024, wall


def rank_worker(args: list[str]) -> None:
    """One rank of ``mpiexec -n R``: run ``scsim ARGS``, then print this rank's peak."""
    from scsim.cli import app
    from scsim.mpi import launched_rank

    try:
        app(args)
        code = 0
    except SystemExit as e:
        code = e.code
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    print(json.dumps({"rank": launched_rank(), "peak": peak, "code": code}), flush=True)


def measured_rank_peak(preset: str, n: int, days: int | None, ranks: int) -> tuple[int, float]:
    """The largest rank's peak resident bytes, and the wall seconds, of ``mpiexec -n ranks
    scsim run``."""
    extra = ["--days", str(days)] if days else []
    mpiexec = str(Path(sys.executable).parent / "mpiexec")
    with tempfile.TemporaryDirectory() as tmp:
        cmd = [mpiexec, "-n", str(ranks), sys.executable, __file__, "--rank-worker", "run",
               preset, "--n", str(n), "--out", f"{tmp}/run", *extra]  # fmt: skip
        t0 = datetime.now(UTC)
        done = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT)
        wall = (datetime.now(UTC) - t0).total_seconds()
    rows = [json.loads(line) for line in done.stdout.splitlines() if line.startswith('{"rank"')]
    if done.returncode != 0 or len(rows) != ranks or any(r["code"] for r in rows):
        raise RuntimeError(f"{preset}: mpiexec -n {ranks} scsim run failed: {done.stderr}")
    return max(r["peak"] for r in rows), wall


def main() -> None:
    if sys.argv[1:2] == ["--rank-worker"]:
        rank_worker(sys.argv[2:])
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("presets", nargs="*")
    parser.add_argument("--n", type=int, default=2_000_000)
    parser.add_argument("--days", type=int, default=None)
    parser.add_argument("--ranks", type=int, nargs="+", default=[1], help="MPI ranks")
    parser.add_argument("--json", type=Path, default=None, help="append one row per preset")
    args = parser.parse_args()
    if not args.presets:
        sys.path.insert(0, str(ROOT / "src"))
        from scsim.scenario import preset_names

        args.presets = preset_names()
    print(f"{'preset':16} {'n':>11} {'days':>5} {'ranks':>5} {'estimate':>9} {'measured':>9} "
          f"{'ratio':>6}")  # fmt: skip
    for preset, ranks in ((p, r) for p in args.presets for r in args.ranks):
        estimate(preset, args.n, args.days, ranks)  # warm the kernel cache
        plan = estimate(preset, args.n, args.days, ranks)
        if ranks == 1:
            peak, wall = measured_peak(preset, args.n, args.days)
        else:
            peak, wall = measured_rank_peak(preset, args.n, args.days, ranks)
        ratio = plan["peak_bytes"] / peak
        print(
            f"{preset:16} {args.n:>11,} {plan['days']:>5} {ranks:>5} "
            f"{plan['peak_bytes'] / 1e9:>7.2f}GB "
            f"{peak / 1e9:>7.2f}GB {ratio:>6.3f}" + ("" if abs(ratio - 1) <= 0.15 else "  > 15 %"),
            flush=True,
        )
        if args.json:
            row = {
                "preset": preset, "n": args.n, "days": plan["days"], "ranks": ranks,
                "estimate_bytes": plan["peak_bytes"], "measured_bytes": peak, "ratio": ratio,
                "parts": plan["parts"], "wall_s": wall,
                "date": datetime.now(UTC).date().isoformat(),
            }  # fmt: skip
            with args.json.open("a") as f:
                f.write(json.dumps(row) + "\n")


if __name__ == "__main__":
    main()
