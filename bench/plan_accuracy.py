"""How close ``scsim plan``'s estimate is to the measured peak memory of the run it plans.

For each preset: ``scsim plan PRESET --n N --json`` once to warm the kernel cache (a first
compile holds LLVM's memory, which a cached kernel does not), then again for the estimate, then
``scsim run PRESET --n N`` in a fresh process whose peak resident memory (``wait4``'s rusage)
is the measured figure. Issue 15's bar: every estimate within 15 % of the measured peak.

    .venv/bin/python bench/plan_accuracy.py --n 2000000 [PRESET ...] [--json FILE]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SCSIM = [sys.executable, "-m", "scsim"]


def estimate(preset: str, n: int, days: int | None) -> dict:
    extra = ["--days", str(days)] if days else []
    cmd = [*SCSIM, "plan", preset, "--n", str(n), "--json", *extra]
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("presets", nargs="*")
    parser.add_argument("--n", type=int, default=2_000_000)
    parser.add_argument("--days", type=int, default=None)
    parser.add_argument("--json", type=Path, default=None, help="append one row per preset")
    args = parser.parse_args()
    if not args.presets:
        sys.path.insert(0, str(ROOT / "src"))
        from scsim.scenario import preset_names

        args.presets = preset_names()
    print(f"{'preset':16} {'n':>11} {'days':>5} {'estimate':>9} {'measured':>9} {'ratio':>6}")
    for preset in args.presets:
        estimate(preset, args.n, args.days)  # warm the kernel cache
        plan = estimate(preset, args.n, args.days)
        peak, wall = measured_peak(preset, args.n, args.days)
        ratio = plan["peak_bytes"] / peak
        print(
            f"{preset:16} {args.n:>11,} {plan['days']:>5} {plan['peak_bytes'] / 1e9:>7.2f}GB "
            f"{peak / 1e9:>7.2f}GB {ratio:>6.3f}" + ("" if abs(ratio - 1) <= 0.15 else "  > 15 %"),
            flush=True,
        )
        if args.json:
            row = {
                "preset": preset, "n": args.n, "days": plan["days"],
                "estimate_bytes": plan["peak_bytes"], "measured_bytes": peak, "ratio": ratio,
                "parts": plan["parts"], "wall_s": wall,
                "date": datetime.now(UTC).date().isoformat(),
            }  # fmt: skip
            with args.json.open("a") as f:
                f.write(json.dumps(row) + "\n")


if __name__ == "__main__":
    main()
