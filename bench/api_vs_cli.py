"""The notebook API against the command line: ``scsim.run(PRESET, n=N)`` with its frames read,
in a fresh Python process, against ``scsim run PRESET --n N`` (which also writes the run
directory and its report), alternating, each timed from outside with its peak memory.

    .venv/bin/python bench/api_vs_cli.py sesame --n 100000 --rounds 5
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

API = (
    "import scsim; r = scsim.run({preset!r}, n={n}); "
    "frames = (r.timeseries, r.people, r.events); print(r)"
)


def timed(command: list[str]) -> tuple[float, float]:
    """Wall seconds and peak resident MB of one command (GNU time's %e and %M)."""
    out = subprocess.run(
        ["/usr/bin/time", "-f", "%e %M", *command], capture_output=True, text=True, check=True
    )
    wall, kb = out.stderr.strip().splitlines()[-1].split()
    return float(wall), int(kb) / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("preset")
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    python, scsim = sys.executable, str(Path(sys.executable).with_name("scsim"))
    api = [python, "-c", API.format(preset=args.preset, n=args.n)]
    results: dict[str, list[tuple[float, float]]] = {"api": [], "cli": []}
    timed(api)  # the kernel compiled and cached before the first timed round
    for _ in range(args.rounds):
        results["api"].append(timed(api))
        with tempfile.TemporaryDirectory() as tmp:
            out = str(Path(tmp) / "run")
            results["cli"].append(
                timed([scsim, "run", args.preset, "--n", str(args.n), "--out", out])
            )
    summary = {
        kind: {
            "wall_s": [round(w, 2) for w, _ in rows],
            "median_wall_s": statistics.median(w for w, _ in rows),
            "median_peak_mb": round(statistics.median(m for _, m in rows)),
        }
        for kind, rows in results.items()
    }
    ratio = summary["api"]["median_wall_s"] / summary["cli"]["median_wall_s"]
    print(
        json.dumps({"preset": args.preset, "n": args.n, **summary, "api_over_cli": round(ratio, 3)})
    )


if __name__ == "__main__":
    main()
